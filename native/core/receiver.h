#pragma once
// Receiver: one thread draining a multicast socket with recvmmsg, parsing headers and cmsgs,
// and accounting per sender session. Snapshots are copied out under a mutex taken once per
// batch by the thread, so the JS side never slows the drain loop down.
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "error.h"
#include "session_table.h"
#include "socket.h"

namespace mcbench {

struct ReceiverConfig {
  ReceiverSocketOptions socket;
  uint32_t batch = 64;          // most datagrams per recvmmsg
  uint32_t maxDatagram = 65536; // receive buffer per datagram
  size_t maxSessions = 32;
  uint64_t readPauseNs = 0;     // test aid: do not read for this long after start (slow reader)
};

struct ReceiverCounters {
  uint64_t datagrams = 0;       // every datagram read, of any kind
  uint64_t foreign = 0;         // not mcbench's: short, wrong magic/version/kind
  uint64_t truncated = 0;       // longer than the receive buffer (MSG_TRUNC)
  uint64_t rejectedSessions = 0;// packets of sessions beyond maxSessions
  uint64_t batches = 0;         // recvmmsg calls that returned data
  uint64_t fullBatches = 0;     // ... that filled the whole batch (the socket had a backlog)
  uint32_t rxqOvfl = 0;         // SO_RXQ_OVFL: the socket's drop counter, last value seen
  bool rxqOvflSeen = false;
  uint64_t kernelStamps = 0;    // datagrams that carried SO_TIMESTAMPNS
  uint64_t firstPacketMonoNs = 0; // CLOCK_MONOTONIC when the first datagram was read
  uint64_t lastPacketMonoNs = 0;
};

struct ReceiverSnapshot {
  ReceiverCounters counters;
  std::vector<SessionStats> sessions;
  bool running = false;
  ThreadError error;
};

class Receiver {
 public:
  explicit Receiver(const ReceiverConfig& cfg);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void start(std::function<void()> onEnd);  // onEnd runs on the thread if it stops by an error
  void stop();
  void snapshot(ReceiverSnapshot& out) const;
  const ReceiverSocketInfo& socketInfo() const { return info_; }

 private:
  void run();
  void processBatch(unsigned n, uint64_t appRealNs, uint64_t appMonoNs);

  ReceiverConfig cfg_;
  ReceiverSocketInfo info_;
  UniqueFd fd_;
  std::vector<uint8_t> buffers_;
  std::vector<uint8_t> control_;
  size_t controlLen_ = 0;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;

  mutable std::mutex mu_;  // guards table_ and counters_
  SessionTable table_;
  ReceiverCounters counters_;

  std::thread thread_;
  std::function<void()> onEnd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<int> errno_{0};
  std::atomic<const char*> errSyscall_{""};
};

}  // namespace mcbench
