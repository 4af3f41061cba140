#pragma once
// Sender: one thread sending mcbench DATA with sendmmsg, paced by a Pacer or unlimited, then
// FIN packets that carry the total. Construction opens the socket (throws SystemError);
// the thread never throws.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "error.h"
#include "pacer.h"
#include "socket.h"

namespace mcbench {

// The kernel's UDP_MAX_SEGMENTS on the oldest kernels with UDP_SEGMENT (4.18: 64).
constexpr uint32_t kMaxGsoSegments = 64;

struct SenderConfig {
  SenderSocketOptions socket;
  uint32_t payloadLen = 1400;  // UDP payload bytes, header included
  uint32_t batch = 32;         // most datagrams per sendmmsg
  double pps = 0;              // 0: as fast as possible
  uint64_t count = 0;          // 0: no limit
  uint64_t durationNs = 0;     // 0: no limit
  uint32_t finCount = 5;       // FIN copies, spaced finSpacingNs apart
  uint64_t finSpacingNs = 20000000;
  uint64_t sessionId = 0;  // 0: random
  // UDP GSO (UDP_SEGMENT): 0 sends one datagram per message; N >= 1 sends up to N datagrams,
  // each a whole mcbench datagram with its own header, as one message the kernel segments.
  uint32_t gsoSegments = 0;
  bool gsoFallback = false;  // on EIO/EINVAL/EMSGSIZE from the first GSO send: go on one datagram per message
  // --burst / --isochronous: units of datagrams back to back on a schedule (pps is then unused;
  // a burst of up to 1024 datagrams is one sendmmsg call whatever batch says). Not with GSO.
  PatternConfig pattern;
  // Several -g: the groups after socket.group; datagram seq goes to group seq % (1 + size), so a
  // receiver of all of them tells each group's share (and loss) from the sequence. Not with GSO.
  std::vector<IpAddress> moreGroups;
};

struct SenderSnapshot {
  uint64_t sessionId = 0;
  uint64_t sent = 0;     // DATA datagrams the kernel accepted
  uint64_t bytes = 0;    // their UDP payload bytes
  uint64_t calls = 0;    // sendmmsg calls that sent something
  uint64_t enobufs = 0;  // sendmmsg calls refused with ENOBUFS
  uint64_t eagain = 0;   // ... with EAGAIN (send timeout: socket buffer full)
  uint64_t finsSent = 0;
  uint64_t startMonoNs = 0;
  uint64_t endMonoNs = 0;        // 0 while running
  uint64_t maxLateNs = 0;        // paced: worst lateness of a batch behind its schedule
  uint64_t lateSumNs = 0;        // paced: summed lateness of batches (mean = lateSum / calls)
  uint64_t threadCpuNs = 0;      // CPU time of the sending thread, known once it is done
  uint64_t firstSendMonoNs = 0;  // when the first and the last sendmmsg call were made: the
  uint64_t lastSendMonoNs = 0;   // achieved rate is (sent - 1) over that span
  uint32_t gsoSegments = 0;      // segments per GSO send in use (0: none, also after a fallback)
  int gsoRefusedErrno = 0;       // the errno with which the kernel refused GSO (fallback taken)
  // With a pattern: units (bursts, frames) begun; the gaps between consecutive units' first
  // sendmmsg calls (sum, max: mean = sum / (units - 1)); the span from a unit's first call to the
  // return of its last (sum, max); the largest unit in datagrams and bytes; the first and the last
  // unit's first call (the achieved unit rate is (units - 1) over that span).
  uint64_t patternUnits = 0, unitsFinished = 0;  // begun; all their datagrams sent
  uint64_t gapSumNs = 0, gapMaxNs = 0;
  uint64_t spanSumNs = 0, spanMaxNs = 0;
  uint64_t unitDatagramsMax = 0, unitBytesMax = 0;
  uint64_t firstUnitMonoNs = 0, lastUnitMonoNs = 0;
  bool done = false;
  ThreadError error;
};

class Sender {
 public:
  explicit Sender(const SenderConfig& cfg);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // onDone runs on the sender thread once it has finished (after the FINs).
  void start(std::function<void()> onDone);
  void stop();  // asks the thread to stop early (FINs are still sent) and joins it
  SenderSnapshot snapshot() const;
  uint64_t sessionId() const { return cfg_.sessionId; }

 private:
  void run();
  void sendFins(uint64_t total);
  // Sends datagrams [0, n) of the buffers: one GSO message per gsoSegments, or one message each.
  int sendBurst(uint64_t n, uint64_t& sent);
  // The --burst / --isochronous loop; returns the DATA datagrams sent.
  uint64_t runPattern(uint64_t start, uint64_t realAtStart, uint64_t end);
  // Several groups: points datagrams [0, n) of the next call at the groups of seq .. seq + n - 1.
  void aim(uint64_t seq, uint64_t n);

  SenderConfig cfg_;
  bool v2_ = false;           // the datagrams carry the v2 header (payload >= 48 bytes)
  uint64_t startRealNs_ = 0;  // CLOCK_REALTIME of the session's start (the thread's only)
  UniqueFd fd_;
  sockaddr_storage dest_{};  // the group and port, IPv4 or IPv6
  socklen_t destLen_ = 0;
  std::vector<sockaddr_storage> dests_;  // several groups: every group with the port, in -g order
  std::vector<uint8_t> buffers_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  // GSO: one message per group of gsoSegments datagrams, each with its UDP_SEGMENT cmsg.
  struct alignas(cmsghdr) SegmentControl {
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  };
  uint32_t messages_ = 0;  // messages per sendmmsg call
  std::vector<iovec> gsoIov_;
  std::vector<mmsghdr> gsoMsgs_;
  std::vector<SegmentControl> gsoControl_;
  std::atomic<uint32_t> gsoInUse_{0};
  std::atomic<int> gsoRefused_{0};
  std::thread thread_;
  std::function<void()> onDone_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> cpuNs_{0}, firstSend_{0}, lastSend_{0};

  std::atomic<uint64_t> sent_{0}, bytes_{0}, calls_{0}, enobufs_{0}, eagain_{0}, fins_{0};
  std::atomic<uint64_t> startMono_{0}, endMono_{0}, maxLate_{0}, lateSum_{0};
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> units_{0}, unitsDone_{0}, gapSum_{0}, gapMax_{0}, spanSum_{0}, spanMax_{0}, unitDgMax_{0},
      unitBytesMax_{0};
  std::atomic<uint64_t> firstUnit_{0}, lastUnit_{0};
  std::atomic<int> errno_{0};
  std::atomic<const char*> errSyscall_{""};
};

uint64_t randomSessionId();

}  // namespace mcbench
