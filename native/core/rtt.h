#pragma once
// RTT mode (issue 11 item 3): a ping that sends probes to a multicast group at a rate and collects
// the unicast replies of every reflector, and a pong (the reflector) that joins the group and
// answers each probe with its own receive and send stamps. Four timestamps per exchange (t1 ping
// send, t2 pong kernel receive, t3 pong send, t4 ping kernel receive) give the round trip without
// the reflector's processing time, (t4 - t1) - (t3 - t2), and the NTP clock offset estimate
// ((t2 - t1) + (t3 - t4)) / 2, with no clock sync between the hosts.
// Each side owns one thread (poll + recvmmsg/sendto); the state is guarded by a mutex the thread
// takes once per batch; nothing is allocated per packet (a reflector's histograms once, when its
// first valid reply arrives).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "error.h"
#include "histogram.h"
#include "socket.h"
#include "wire.h"

namespace mcbench {

// The RTT sockets are set up here (IPv4 and IPv6 alike, MCAST_JOIN_GROUP by interface index) so
// the mode does not depend on the DATA path's socket options.
struct RttSocketOptions {
  std::string group;  // "239.1.1.1" or "ff15::1"
  uint16_t port = 0;  // the group's port (the pong binds it; the ping sends to it)
  std::string iface;  // name or address; empty: the routing table
  int ttl = 1;        // ping: multicast TTL / hop limit
  bool loop = true;   // ping: IP_MULTICAST_LOOP (a pong on the same host answers)
};

struct PingConfig {
  RttSocketOptions socket;
  double rate = 10;                   // probes per second
  uint64_t count = 0;                 // probes to send; 0: until durationNs
  uint64_t durationNs = 0;            // send for this long; 0 with count 0: until stop()
  uint64_t waitNs = 1000000000;       // after the last probe, wait this long for late replies
  uint32_t length = wire::kProbeLen;  // probe datagram bytes (padded)
  size_t maxReflectors = 64;
};

// One reflector as the ping saw it, keyed by the reflector id its replies carry (and the address
// of its first valid reply: a reply with its id from elsewhere is ignored).
struct ReflectorStats {
  uint64_t reflector = 0;
  sockaddr_storage address{};
  socklen_t addressLen = 0;
  uint64_t replies = 0;          // unique valid replies (one per probe)
  uint64_t duplicates = 0;       // a second valid reply to the same probe (not recorded again)
  uint64_t firstSeen = 0;        // the first sequence the pong says it saw of this session
  uint64_t maxSeq = 0;           // the highest sequence answered
  uint64_t probesSeenAtMax = 0;  // the pong's count of probes seen, in the reply to maxSeq
  uint64_t firstReplyMonoNs = 0;
  uint64_t lastReplyMonoNs = 0;
  // Offset estimate of the exchange with the smallest RTT (its error is at most that RTT / 2).
  uint64_t bestRttNs = UINT64_MAX;
  int64_t bestOffsetNs = 0;
  int64_t offsetSumNs = 0;  // of every recorded exchange (mean = sum / replies)
  int64_t offsetMinNs = INT64_MAX;
  int64_t offsetMaxNs = INT64_MIN;
};

struct ReflectorRecord {
  ReflectorStats stats;
  LatencyHistogram rtt;            // (t4 - t1) - (t3 - t2), ns
  LatencyHistogram roundTrip;      // t4 - t1, ns (with the reflector's processing time)
  LatencyHistogram processing;     // t3 - t2, ns (the reflector's time between receive and reply)
  std::vector<uint64_t> answered;  // bitmap over the probe window: this probe already answered
};

struct PingCounters {
  uint64_t sent = 0;
  uint64_t sendErrors = 0;
  int lastSendErrno = 0;
  uint64_t datagrams = 0;           // every datagram read
  uint64_t truncated = 0;           // longer than a reply buffer
  uint64_t malformed = 0;           // not a reply: short, wrong magic, version, kind or header length
  uint64_t otherSession = 0;        // a reply to another ping's probe
  uint64_t unknownProbe = 0;        // a sequence this ping never sent, or its t1 is not what was sent
  uint64_t late = 0;                // a reply to a probe older than the window (kProbeWindow probes)
  uint64_t implausible = 0;         // stamps that cannot be: t3 < t2, t4 < t1, or t3 - t2 > t4 - t1
  uint64_t sourceMismatch = 0;      // a known reflector's id from another address
  uint64_t rejectedReflectors = 0;  // valid replies from reflectors beyond maxReflectors
  uint64_t noKernelStamp = 0;       // replies without SO_TIMESTAMPNS (t4 from the app instead)
  uint64_t firstSendRealNs = 0;
  uint64_t lastSendRealNs = 0;
};

struct PingSnapshot {
  uint64_t session = 0;
  PingCounters counters;
  std::vector<ReflectorStats> reflectors;
  bool running = false;
  bool sendingDone = false;
  ThreadError error;
};

class Ping {
 public:
  // Replies are matched against the last kProbeWindow probes sent (their t1 kept in a ring).
  static constexpr uint64_t kProbeWindow = 65536;
  static constexpr unsigned kBatch = 32;
  explicit Ping(const PingConfig& cfg);
  ~Ping();
  Ping(const Ping&) = delete;
  Ping& operator=(const Ping&) = delete;

  void start(std::function<void()> onDone);  // onDone runs on the thread when it ends
  void stop();
  void snapshot(PingSnapshot& out) const;
  // Copies reflector i's histograms (index as in the snapshot); false when there is no such one.
  bool histograms(size_t i, LatencyHistogram& rtt, LatencyHistogram& roundTrip, LatencyHistogram& processing) const;
  uint64_t session() const { return session_; }

  // The reply's fate, applied under the lock (the fuzzer and the unit tests call it directly).
  enum class Outcome {
    Recorded,
    Duplicate,
    Malformed,
    OtherSession,
    UnknownProbe,
    Late,
    Implausible,
    SourceMismatch,
    Rejected
  };
  Outcome processReply(const uint8_t* buf, size_t len, const sockaddr_storage& from, socklen_t fromLen, uint64_t t4Ns,
                       uint64_t monoNs);
  // Test aid: records a probe as sent with this t1, as run() does just before the send.
  void noteSent(uint64_t t1Ns);

 private:
  void run();
  void sendProbe();
  void drain();

  PingConfig cfg_;
  uint64_t session_ = 0;
  UniqueFd fd_;
  sockaddr_storage dest_{};
  socklen_t destLen_ = 0;
  std::vector<uint8_t> probe_;
  std::vector<uint64_t> sentT1_;  // t1 of probe seq at seq % kProbeWindow
  // receive buffers
  std::vector<uint8_t> bufs_;
  std::vector<uint8_t> control_;
  std::vector<sockaddr_storage> from_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  static constexpr size_t kReplyBuf = 256;
  static constexpr size_t kControlLen = 64;

  mutable std::mutex mu_;
  PingCounters counters_;
  std::vector<std::unique_ptr<ReflectorRecord>> reflectors_;
  std::atomic<bool> sendingDone_{false};

  std::thread thread_;
  std::function<void()> onDone_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<int> errno_{0};
  std::atomic<const char*> errSyscall_{""};
};

struct PongConfig {
  RttSocketOptions socket;
  size_t maxSessions = 16;
};

struct PongCounters {
  uint64_t datagrams = 0;
  uint64_t truncated = 0;
  uint64_t malformed = 0;  // not a probe
  uint64_t probes = 0;
  uint64_t replies = 0;
  uint64_t replyErrors = 0;
  int lastReplyErrno = 0;
  uint64_t noKernelStamp = 0;  // probes without SO_TIMESTAMPNS (t2 from the app instead)
  uint64_t evictedSessions = 0;
  uint64_t sessions = 0;  // ping sessions seen (distinct ids)
  // Probes of a known session not counted in its probesSeen (so they cannot move loss between
  // the directions): from another address than the session's first probe (forged; not answered),
  // or a sequence not above the last counted one (a duplicate or reordered probe; answered).
  uint64_t foreignSource = 0;
  uint64_t notAscending = 0;
};

struct PongSnapshot {
  uint64_t reflector = 0;
  PongCounters counters;
  bool running = false;
  ThreadError error;
};

class Pong {
 public:
  static constexpr unsigned kBatch = 32;
  explicit Pong(const PongConfig& cfg);
  ~Pong();
  Pong(const Pong&) = delete;
  Pong& operator=(const Pong&) = delete;

  void start(std::function<void()> onEnd);  // onEnd runs on the thread if it stops by an error
  void stop();
  void snapshot(PongSnapshot& out) const;
  uint64_t reflector() const { return reflector_; }

  // What a reply to a probe carries of its session, or answer = false (a forged probe: ignored).
  struct ProbeCount {
    bool answer = false;
    uint64_t probesSeen = 0;
    uint64_t firstSeq = 0;
  };
  // Counts a probe in its session (under the lock; run() and the unit tests call it).
  ProbeCount countProbe(uint64_t session, uint64_t seq, const sockaddr_storage& from, socklen_t fromLen,
                        uint64_t monoNs);
  // A session not heard for this long gives its slot up before any active one.
  static constexpr uint64_t kStaleSessionNs = 10000000000ull;

 private:
  struct SessionSlot {
    uint64_t session = 0;
    uint64_t probes = 0;    // counted: from `source`, each sequence above the last
    uint64_t firstSeq = 0;  // the first counted probe's sequence
    uint64_t lastSeq = 0;   // the last counted probe's sequence
    uint64_t lastMonoNs = 0;
    sockaddr_storage source{};  // the session's first probe came from here
    socklen_t sourceLen = 0;
  };
  void run();
  SessionSlot& slotFor(uint64_t session, uint64_t monoNs, bool& fresh);

  PongConfig cfg_;
  uint64_t reflector_ = 0;
  UniqueFd fd_;
  std::vector<uint8_t> bufs_;
  std::vector<uint8_t> control_;
  std::vector<sockaddr_storage> from_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::vector<SessionSlot> sessions_;
  uint8_t reply_[wire::kReplyLen] = {};
  static constexpr size_t kProbeBuf = 128;  // only the header is read (longer probes: MSG_TRUNC, fine)
  static constexpr size_t kControlLen = 64;

  mutable std::mutex mu_;
  PongCounters counters_;

  std::thread thread_;
  std::function<void()> onEnd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<int> errno_{0};
  std::atomic<const char*> errSyscall_{""};
};

}  // namespace mcbench
