#pragma once
// Per-sender-session receive accounting: unique, duplicates, gaps, RFC 4737 reordering,
// RFC 3550 jitter, FIN. Pure logic (no sockets), fed by the receiver loop, unit-tested alone.
// All memory is allocated up front: record() never allocates.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "wire.h"

namespace mcbench {

struct SessionStats {
  uint64_t session = 0;
  bool started = false;
  uint64_t firstSeq = 0;          // lowest sequence seen
  uint64_t maxSeq = 0;            // highest sequence seen; RFC 4737 NextExp is maxSeq + 1
  uint64_t unique = 0;            // distinct DATA sequences received
  uint64_t duplicates = 0;        // DATA sequences received again
  uint64_t reordered = 0;         // RFC 4737: arrived with seq < NextExp (and not a duplicate)
  uint64_t reorderMaxExtent = 0;  // largest NextExp - seq among reordered arrivals
  uint64_t gaps = 0;              // times the sequence jumped forward by more than one
  uint64_t beyondWindow = 0;      // late arrivals too old for the duplicate window (counted unique)
  uint64_t bytes = 0;             // UDP payload bytes of unique DATA
  bool finSeen = false;
  uint64_t finTotal = 0;  // the sender's own DATA count, from FIN
  uint64_t finsReceived = 0;
  uint64_t firstRecvNs = 0;  // receive stamps (CLOCK_REALTIME ns) of the first/last DATA
  uint64_t lastRecvNs = 0;
  uint64_t lastRecvMonoNs = 0;  // CLOCK_MONOTONIC of the last unique DATA packet (where the run's tail ends)
  double jitterNs = 0;          // RFC 3550 interarrival jitter estimate
  uint64_t prevRecvNs = 0;
  uint64_t prevSendNs = 0;

  // Packets the sender sent that this receiver should have seen: from the first sequence seen
  // to the FIN's total (tail known) or to the highest sequence seen (tail unknown).
  uint64_t expected() const {
    if (!started && !finSeen) return 0;
    uint64_t end = finSeen ? finTotal : maxSeq + 1;
    uint64_t begin = started ? firstSeq : 0;
    return end > begin ? end - begin : 0;
  }
  uint64_t lost() const {
    uint64_t e = expected();
    return e > unique ? e - unique : 0;
  }
};

class SessionTable {
 public:
  // windowBits: log2 of how many recent sequences are remembered for duplicate detection.
  explicit SessionTable(size_t capacity = 32, unsigned windowBits = 20);

  enum class Outcome { Unique, Duplicate, Fin, Rejected };
  // Records one packet of a known-good header. recvNs: CLOCK_REALTIME receive stamp.
  // Rejected: the table is full and the packet's session is new (it is ignored).
  Outcome record(const wire::Header& h, size_t datagramLen, uint64_t recvNs, uint64_t monoNs);

  size_t size() const { return used_; }
  size_t capacity() const { return capacity_; }
  const SessionStats& at(size_t i) const { return stats_[i]; }
  uint64_t rejectedNewSessions() const { return rejected_; }

 private:
  SessionStats* find(uint64_t session);
  bool testAndSet(size_t slot, uint64_t seq);
  void clearRange(size_t slot, uint64_t from, uint64_t to);  // [from, to)

  size_t capacity_;
  uint64_t windowMask_;
  size_t wordsPerSession_;
  std::unique_ptr<SessionStats[]> stats_;
  std::unique_ptr<uint64_t[]> bits_;
  size_t used_ = 0;
  size_t lastHit_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace mcbench
