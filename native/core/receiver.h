#pragma once
// Receiver: one thread draining a multicast socket with recvmmsg, parsing headers and cmsgs,
// and accounting per sender session. Snapshots are copied out under a mutex taken once per
// batch by the thread, so the JS side never slows the drain loop down.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <sys/socket.h>

#include "error.h"
#include "histogram.h"
#include "session_table.h"
#include "socket.h"
#include "stall_detector.h"

namespace mcbench {

struct ReceiverConfig {
  ReceiverSocketOptions socket;
  uint32_t batch = 64;  // most datagrams per recvmmsg
  // Longest datagram accepted: a longer one is counted truncated and foreign. Only the header is
  // copied out of the kernel unless verifyPayload; byte counts use the datagram's real length.
  uint32_t maxDatagram = 65536;
  // --verify-payload: copy each datagram whole and check the sender's pattern (wire::payloadOk).
  bool verifyPayload = false;
  size_t maxSessions = 32;
  uint64_t readPauseNs = 0;  // test aid: do not read for this long after start (slow reader)
  // --coalesce: after a batch that shows dense traffic, wait up to this long before the next read,
  // so that one wakeup takes a fuller batch (a blocking read wakes for every first datagram, and
  // the wakeups are a third of the receive path's CPU at high rates). The wait is bounded by what
  // the socket buffer can hold with a wide margin; 0 = read again at once.
  uint64_t coalesceNs = 0;
  // --gro: UDP_GRO on the socket. A GSO send then arrives as one buffer (one skb: one wakeup, one
  // copy, one timestamp for all its datagrams) instead of being cut at the socket; every datagram
  // is copied whole to find the headers. The socket's drop count then counts buffers.
  bool gro = false;
  bool latency = true;  // record one-way delay histograms (--no-latency turns it off)
  // Fuzzing only (native/fuzz): no socket is opened; the harness feeds the batches.
  bool noSocket = false;
  uint64_t stallThresholdNs = 0;  // --stall: a silence longer than this is a stall; 0 = automatic
  // --expect-session: only this session's DATA and FIN reach the session table, the delay
  // histograms and the stall detector (a crafted session can set no figure); 0 = every session.
  uint64_t expectSession = 0;
};

// One-way delay (RFC 7679) of unique DATA packets: receive time minus the sender's stamp, with
// the receive time from the kernel (SO_TIMESTAMPNS) and from the app after recvmmsg; their
// difference is the time the datagram waited in the socket buffer. v2 packets also carry the
// actual send time, which splits the delay from the intended send time into its parts.
struct LatencyRecorder {
  LatencyHistogram kernel;    // kernel receive stamp - intended send time
  LatencyHistogram app;       // app receive time - intended send time (the total, no coordinated omission)
  LatencyHistogram queue;     // app receive time - kernel receive stamp
  LatencyHistogram lateness;  // v2: actual - intended send time (the sender running behind)
  LatencyHistogram path;      // v2: kernel receive stamp - actual send time (network and stack)
  uint64_t clockSkew = 0;     // packets stamped in our future: clocks out of sync (not recorded)
  uint64_t noKernelStamp = 0;
  void copyFrom(const LatencyRecorder& o) {
    kernel.copyFrom(o.kernel);
    app.copyFrom(o.app);
    queue.copyFrom(o.queue);
    lateness.copyFrom(o.lateness);
    path.copyFrom(o.path);
    clockSkew = o.clockSkew;
    noKernelStamp = o.noKernelStamp;
  }
};

struct ReceiverCounters {
  uint64_t datagrams = 0;         // every datagram read, of any kind
  uint64_t messages = 0;          // what recvmmsg returned: datagrams, or with --gro buffers of them
  uint64_t groBuffers = 0;        // --gro: buffers of several datagrams (one GSO send kept whole)
  uint64_t groDatagrams = 0;      // ... and the datagrams in them
  uint64_t foreign = 0;           // not mcbench's: short, wrong magic/version/kind
  uint64_t truncated = 0;         // longer than maxDatagram (its real length, MSG_TRUNC)
  uint64_t payloadChecked = 0;    // verifyPayload: DATA whose payload was compared with the pattern
  uint64_t payloadErrors = 0;     // ... and differed from it (still counted as received)
  uint64_t rejectedSessions = 0;  // packets of sessions beyond maxSessions
  uint64_t batches = 0;           // recvmmsg calls that returned data
  uint64_t fullBatches = 0;       // ... that filled the whole batch (the socket had a backlog)
  uint64_t coalescedWaits = 0;    // --coalesce: waits taken before a read
  uint64_t coalescedNs = 0;       // ... their total length asked for
  // SO_RXQ_OVFL: the socket's drop counter, last value seen. Only enabled when SO_MEMINFO cannot
  // be read (the per-datagram control message costs the kernel a put_cmsg on every datagram).
  uint32_t rxqOvfl = 0;
  bool rxqOvflSeen = false;
  uint64_t kernelStamps = 0;       // datagrams that carried SO_TIMESTAMPNS
  uint64_t firstPacketMonoNs = 0;  // CLOCK_MONOTONIC when the first datagram was read
  uint64_t lastPacketMonoNs = 0;
  // SO_MEMINFO's SK_MEMINFO_DROPS, read at each snapshot: the socket's drop count now, including
  // drops after the last datagram queued (which no SO_RXQ_OVFL cmsg can carry). -1: unreadable.
  int64_t socketDrops = -1;
  uint64_t firstMcbenchRealNs = 0;  // receive stamp (kernel when it had one) of the first mcbench packet
  uint64_t firstMcbenchMonoNs = 0;  // the same instant on CLOCK_MONOTONIC (the runs' time axis)
  // From the session table: few-packet sessions evicted to make room for new ones; FINs ignored
  // (unknown session, other source, impossible total); unique DATA whose send stamp was beyond
  // +-1 h of its arrival (kept out of delay and jitter).
  uint64_t evictedSessions = 0;
  uint64_t bogusFins = 0;
  uint64_t foreignSourceData = 0;  // DATA of a known session from another source (ignored)
  uint64_t implausibleStamps = 0;
  uint64_t otherSessionPackets = 0;  // expectSession: DATA and FIN of any other session (dropped)
};

// Stalls located by the receive thread (StallDetector) as of the snapshot.
struct StallSnapshot {
  std::vector<StallRecord> stalls;
  uint64_t overflow = 0;
  uint64_t thresholdNs = 0;
  uint64_t medianGapNs = 0;
  uint64_t firstDataNs = 0;  // receive stamps (CLOCK_REALTIME ns) of the first / last DATA packet
  uint64_t lastDataNs = 0;
  uint64_t lastSession = 0;
  uint64_t lastSeq = 0;
};

struct ReceiverSnapshot {
  ReceiverCounters counters;
  // Several -g: unique DATA per group, the group told by the datagram's destination (IP_PKTINFO),
  // in -g order; unique DATA whose destination is not the group its sequence names in the sender's
  // round robin (seq % groups, in -g order: the sender's list is not this one); and datagrams to
  // the port whose destination is none of the joined groups (unicast, broadcast: the socket is
  // bound to the wildcard address), dropped before the session table, latency and stalls.
  std::vector<uint64_t> groupReceived;
  uint64_t groupMismatch = 0;
  uint64_t otherDestination = 0;
  std::vector<SessionStats> sessions;
  StallSnapshot stalls;
  bool running = false;
  ThreadError error;
};

// The batch a --coalesce wait is decided on: how many messages it held (datagrams, or with --gro
// buffers of them), the kernel receive stamps of its first and last stamped one (and how many were
// stamped), its last message's length (a whole buffer's with --gro: what the socket holds of it).
struct BatchArrivals {
  unsigned messages = 0;
  unsigned stamped = 0;
  uint64_t firstStampNs = 0;
  uint64_t lastStampNs = 0;
  uint32_t lastLen = 0;
};

// The fewest messages a --coalesce wait must be able to gather into the next read (BENCHMARKS.md,
// "Issue #13, second round": at 500 kpps a 50 us wait, 25 datagrams, cost 5% more CPU per packet
// than none, a 100 us one, 50 datagrams, 6% less; 6-datagram waits doubled it).
constexpr uint64_t kCoalesceMinGather = 32;

// How long to wait before the next read (ns, 0 = read at once): only after a batch that shows
// dense traffic (4 or more messages, not a full batch: a backlog is read on at once), for as long
// as the batch's arrival rate takes to fill the next batch, at most maxWaitNs, and never longer
// than an eighth of the socket buffer takes to fill (each message counted at its length plus
// 4 KiB, about what the kernel charges for its skb, often more): at the rate just seen, what a
// wait lets queue up is a small share of the buffer (a rate that jumps during the wait can queue
// more: the result warns when the socket dropped in a run that waited). No wait when the batch or
// that share holds fewer than kCoalesceMinGather messages.
uint64_t coalesceWaitNs(const BatchArrivals& b, uint32_t batch, uint64_t maxWaitNs, int rcvbufBytes);

class Receiver {
 public:
  // Bytes of each datagram copied out where the header is parsed (v1's header is 32, v2's 48;
  // room to grow). The rest stays in the kernel: recvmmsg with MSG_TRUNC reports the real length.
  static constexpr size_t kHeaderSlot = 64;
  explicit Receiver(const ReceiverConfig& cfg);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void start(std::function<void()> onEnd);  // onEnd runs on the thread if it stops by an error
  void stop();
  // With `lat`, the latency histograms are copied under the same lock: an interval's packet
  // counts and its latency counts are cut at the same packet.
  void snapshot(ReceiverSnapshot& out, LatencyRecorder* lat = nullptr) const;
  // Copies the histograms (a few hundred KiB): call once per interval, not per tick.
  void latency(LatencyRecorder& out) const;
  uint64_t joinMonoNs() const { return joinMonoNs_; }
  uint64_t joinRealNs() const { return joinRealNs_; }  // CLOCK_REALTIME of the join (kernel stamps' clock)
  // CPU time the worker thread used, ns: known once it has stopped (0 before).
  uint64_t threadCpuNs() const { return cpuNs_.load(); }
  const ReceiverSocketInfo& socketInfo() const { return info_; }

 private:
  friend struct ReceiverFuzzAccess;  // native/fuzz/receiver_fuzz.cc feeds processBatch() directly
  void run();
  void processBatch(unsigned n, uint64_t appRealNs, uint64_t appMonoNs);
  // How one message of the batch arrived: the read's clocks, its receive stamp (the kernel's when
  // it had one), its destination (IP_PKTINFO, several groups) and its index (source address).
  struct Arrival {
    uint64_t appRealNs;
    uint64_t appMonoNs;
    uint64_t recvNs;
    bool kernelStamp;
    uint32_t destination;
    unsigned message;
  };
  // One datagram: a message, or with --gro one of the datagrams of a coalesced buffer.
  void processDatagram(const uint8_t* data, uint32_t len, const Arrival& at);
  // A datagram longer than maxDatagram (or, with --gro, lying past the slot): counted, not read.
  void countUnreadable(const Arrival& at);
  void recordLatency(const wire::Header& h, uint64_t kernelNs, uint64_t appNs);
  bool payloadMatches(const wire::Header& h, const uint8_t* datagram, size_t len);
  // Several groups: the -g index of a destination address (network order), -1 if none of them.
  int joinedGroup(uint32_t destination) const;

  ReceiverConfig cfg_;
  ReceiverSocketInfo info_;
  UniqueFd fd_;
  // One slot per datagram of the batch: kHeaderSlot bytes (the header only: the kernel copies no
  // payload), or maxDatagram with verifyPayload (the whole datagram, to be checked).
  uint8_t* slot(unsigned i) { return &slots_[static_cast<size_t>(i) * slotLen_]; }
  size_t slotLen_ = kHeaderSlot;
  std::vector<uint8_t> slots_;
  std::vector<uint8_t> control_;
  size_t controlLen_ = 0;
  std::vector<iovec> iov_;  // one per datagram: its slot
  // verifyPayload: the pattern of expectedSession_, valid in [kHeaderLen, expectedLen_)
  std::vector<uint8_t> expected_;
  uint64_t expectedSession_ = 0;
  size_t expectedLen_ = 0;
  // each datagram's source address: a FIN must come from where its session's data came from
  std::vector<sockaddr_storage> sources_;
  std::vector<mmsghdr> msgs_;

  mutable std::mutex mu_;  // guards table_ and counters_
  SessionTable table_;
  ReceiverCounters counters_;
  LatencyRecorder latency_;
  std::vector<uint64_t> groupReceived_;  // several groups: see ReceiverSnapshot
  std::vector<uint32_t> groupAddrs_;     // their IPv4 addresses (network order), in -g order
  // (address, -g index) sorted by address: a destination's group by binary search, up to 1024 groups
  std::vector<std::pair<uint32_t, uint32_t>> groupIndex_;
  uint64_t groupMismatch_ = 0;
  BatchArrivals arrivals_;   // the last batch's: the arrival rate --coalesce paces its waits by
  uint64_t nextWaitNs_ = 0;  // set by processBatch: the wait before the thread's next read
  uint64_t otherDestination_ = 0;
  StallDetector stalls_;
  uint64_t joinMonoNs_ = 0;
  uint64_t joinRealNs_ = 0;

  std::thread thread_;
  std::function<void()> onEnd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> cpuNs_{0};
  std::atomic<int> errno_{0};
  std::atomic<const char*> errSyscall_{""};
};

}  // namespace mcbench
