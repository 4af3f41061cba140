#pragma once
// The smallest honest SSM router (RFC 4607 / RFC 4604) for the lab: it forwards a source-specific
// channel (S,G), G in 232.0.0.0/8, from an upstream to a downstream interface only when a
// downstream host asked for it in an IGMPv3 report (INCLUDE/ALLOW records naming S). IGMPv1/v2
// reports for 232/8 carry no source, so, as RFC 4604 section 2.2.1 says, it ignores them (and
// counts them): a receiver pinned to force_igmp_version=2 joins without an error and gets
// nothing. Uses the kernel's IPv4 multicast routing (MRT_INIT: one mroute socket per network
// namespace; closing it removes its VIFs and MFC entries), needs root. No membership timers:
// state goes with a BLOCK or TO_IN{} record or when the router stops.
#include <netinet/in.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "error.h"
#include "socket.h"

namespace mcbench {

struct SsmRouterCounters {
  uint64_t igmpPackets = 0;       // IGMP messages read on the downstream interface
  uint64_t v3Reports = 0;         // IGMPv3 membership reports
  uint64_t ssmRecords = 0;        // their group records for 232/8 that were applied
  uint64_t excludeRecords = 0;    // EXCLUDE-mode records for 232/8: no (S,G) in them, ignored
  uint64_t nonSsmRecords = 0;     // records for groups outside 232/8: not routed here, ignored
  uint64_t ignoredV1V2Ssm = 0;    // IGMPv1/v2 reports (and v2 leaves) for 232/8: no source, ignored
  uint64_t ignoredV1V2Other = 0;  // IGMPv1/v2 reports for other groups: not routed here, ignored
  uint64_t malformed = 0;         // short, bad checksum or bad lengths: counted and ignored
  uint64_t upstreamIgmp = 0;      // IGMP heard on the upstream interface (not ours to answer)
  uint64_t kernelUpcalls = 0;     // the kernel's messages (no MFC entry yet, wrong interface)
  uint64_t queriesSent = 0;       // IGMPv3 general queries sent downstream
  uint64_t routesAdded = 0;
  uint64_t routesRemoved = 0;
  uint64_t routesRefused = 0;  // the table was full (kMaxRoutes)
};

struct SsmRoute {
  in_addr source{};
  in_addr group{};
};

struct SsmRouterSnapshot {
  SsmRouterCounters counters;
  std::vector<SsmRoute> routes;
  bool running = false;
  ThreadError error;
};

// The outcome of one IGMP message read on the downstream side, for the table. Pure, so it can be
// tested without a socket: the message (IGMP header on, no IP header) and what to do.
enum class IgmpKind { Malformed, Query, V3Report, V1V2Ssm, V1V2Other, Other };
IgmpKind classifyIgmp(const uint8_t* msg, size_t len);

// The IGMPv3 general query (RFC 3376 4.1, 12 bytes, no sources) with its checksum.
void buildIgmpV3GeneralQuery(uint8_t out[12], uint8_t maxRespCode, uint8_t qqic);

class SsmRouter {
 public:
  static constexpr size_t kMaxRoutes = 256;
  // Opens the mroute socket (MRT_INIT), adds VIF 0 = upstream, VIF 1 = downstream, joins
  // 224.0.0.22 (IGMPv3 reports) on the downstream. Throws SystemError.
  SsmRouter(const std::string& upstream, const std::string& downstream, double queryIntervalSeconds);
  ~SsmRouter();
  SsmRouter(const SsmRouter&) = delete;
  SsmRouter& operator=(const SsmRouter&) = delete;

  void start();
  void stop();
  void snapshot(SsmRouterSnapshot& out) const;

 private:
  void run();
  void handle(const uint8_t* packet, size_t len, unsigned ifindex);
  void applyV3Report(const uint8_t* msg, size_t len);
  void addRoute(in_addr s, in_addr g);
  void removeRoute(in_addr s, in_addr g);
  void removeGroup(in_addr g);
  void sendQuery();

  UniqueFd fd_;
  UniqueFd stopFd_;  // eventfd: wakes the poll loop
  unsigned upIndex_ = 0;
  unsigned downIndex_ = 0;
  double queryInterval_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  mutable std::mutex mu_;  // guards counters_, routes_, error_
  SsmRouterCounters counters_;
  std::vector<SsmRoute> routes_;
  ThreadError error_;
  std::vector<uint8_t> buf_;
};

}  // namespace mcbench
