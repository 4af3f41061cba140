#pragma once
// Per-sender-session receive accounting: unique, duplicates, gaps, RFC 4737 reordering,
// RFC 3550 jitter, FIN. Pure logic (no sockets), fed by the receiver loop, unit-tested alone.
// All memory is allocated up front: record() never allocates, and costs O(1) per packet whatever
// the sequence numbers (no clearing proportional to a jump).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "wire.h"

namespace mcbench {

// A sender could not have sent faster than this: bounds what a FIN or a session's head may claim.
constexpr uint64_t kMaxPlausiblePps = 100000000;  // 100 Mpps, ~10x a host's send limit
// Packets a sender could have sent in elapsedNs, plus one second of slack for clock differences.
inline uint64_t couldHaveSent(uint64_t elapsedNs) {
  constexpr uint64_t kNsPerPacket = 1000000000 / kMaxPlausiblePps;
  constexpr uint64_t kSlackNs = 1000000000;
  return elapsedNs > UINT64_MAX - kSlackNs ? UINT64_MAX / kNsPerPacket : (elapsedNs + kSlackNs) / kNsPerPacket;
}

struct SessionStats {
  uint64_t session = 0;
  bool started = false;
  uint64_t source = 0;            // (IPv4 address << 16) | UDP port of the first DATA; 0 = unknown
  uint8_t sourceIPv6[16] = {};    // an IPv6 source's address (source is then a hash of it | port)
  bool sourceIsIPv6 = false;      // sourceIPv6 holds the source: compared in full, the hash can collide
  uint64_t firstSeq = 0;          // lowest sequence seen
  uint64_t maxSeq = 0;            // highest sequence seen; RFC 4737 NextExp is maxSeq + 1
  uint64_t unique = 0;            // distinct DATA sequences received
  uint64_t duplicates = 0;        // DATA sequences received again
  uint64_t reordered = 0;         // RFC 4737: arrived with seq < NextExp (and not a duplicate)
  uint64_t reorderMaxExtent = 0;  // largest NextExp - seq among reordered arrivals
  uint64_t gaps = 0;              // times the sequence jumped forward by more than one
  uint64_t beyondWindow = 0;      // late arrivals too old for the duplicate window (counted unique)
  uint64_t seqJumps = 0;          // DATA whose sequence jumped implausibly far (>= jump limit): ignored
  uint64_t bytes = 0;             // UDP payload bytes of unique DATA
  // v2: the session's start (the sender's first send, its CLOCK_REALTIME ns); 0 = unknown (v1).
  uint64_t startNs = 0;
  // The receiver listened before the session started: the sequences below the first seen were
  // sent to it and lost (counted). False when it joined after (they were never expected) or when
  // the start is unknown (v1).
  bool headCounted = false;
  bool joinedAfterStart = false;  // the session had started when this receiver began listening (v2)
  bool finSeen = false;
  uint64_t finTotal = 0;  // the sender's own DATA count, from FIN
  uint64_t finsReceived = 0;
  uint64_t firstRecvNs = 0;  // receive stamps (CLOCK_REALTIME ns) of the first/last DATA
  uint64_t lastRecvNs = 0;
  uint64_t lastRecvMonoNs = 0;    // CLOCK_MONOTONIC of the last unique DATA packet (where the run's tail ends)
  uint64_t lastActiveMonoNs = 0;  // CLOCK_MONOTONIC of the last DATA of any kind (eviction order)
  double jitterNs = 0;            // RFC 3550 interarrival jitter estimate
  uint64_t prevRecvNs = 0;
  uint64_t prevSendNs = 0;
  // A far jump waits here until the next packet confirms it (continues from it) or replaces it.
  bool jumpPending = false;
  uint64_t jumpSeq = 0;
  uint64_t jumpLen = 0;

  // Where expected counting begins: 0 when the head is counted, else the first sequence seen.
  uint64_t expectedFrom() const { return headCounted ? 0 : firstSeq; }
  // Sequences before the first seen that were sent before this receiver listened (v2): not expected.
  uint64_t notExpected() const { return started && joinedAfterStart ? firstSeq : 0; }
  // Packets the sender sent that this receiver should have seen: from expectedFrom() to the FIN's
  // total (tail known) or to the highest sequence seen (tail unknown). Saturates at 2^64 - 1.
  uint64_t expected() const {
    if (!started) return 0;
    uint64_t from = expectedFrom();
    uint64_t span = maxSeq - from;  // maxSeq >= firstSeq >= from
    uint64_t n = span == UINT64_MAX ? UINT64_MAX : span + 1;
    if (finSeen && finTotal > from && finTotal - from > n) n = finTotal - from;
    return n;
  }
  uint64_t lost() const {
    uint64_t e = expected();
    return e > unique ? e - unique : 0;
  }
};

class SessionTable {
 public:
  // windowBits: log2 of how many recent sequences are remembered for duplicate detection.
  // jumpLimit: a sequence this far or further from the session's range is a suspect jump.
  explicit SessionTable(size_t capacity = 32, unsigned windowBits = 20, uint64_t jumpLimit = kDefaultJumpLimit);
  static constexpr uint64_t kDefaultJumpLimit = uint64_t{1} << 20;
  // Sessions with fewer packets than this may be evicted when the table is full.
  static constexpr uint64_t kEvictableBelow = 16;
  // ... and so may sessions silent this long, whatever their count.
  static constexpr uint64_t kEvictableIdleNs = 2000000000;
  // The widest span a session may reach: counts stay below 2^53, exact in JSON numbers.
  static constexpr uint64_t kMaxSpan = uint64_t{1} << 53;

  enum class Outcome { Unique, Duplicate, Fin, Rejected, Ignored };
  // Records one packet of a known-good header. recvNs: CLOCK_REALTIME receive stamp; source:
  // (IPv4 address << 16) | port of the datagram, 0 = unknown (not checked).
  // Rejected: the table is full of established sessions and the packet's session is new.
  // Ignored: a bogus FIN, DATA with an implausible sequence jump, or DATA of a session from
  // another source than its first packet's (all counted).
  // sourceIPv6: the IPv6 address behind source (nullptr for IPv4), kept with a new session for
  // the report and compared in full with every later packet's: the 48-bit hash in source is
  // unkeyed, and a collision is found in seconds.
  Outcome record(const wire::Header& h, size_t datagramLen, uint64_t recvNs, uint64_t monoNs, uint64_t source = 0,
                 const uint8_t* sourceIPv6 = nullptr);
  // When this receiver began listening (CLOCK_REALTIME ns): decides whether a v2 session's head
  // was expected. 0 = unknown (the head is never counted).
  void setListeningSince(uint64_t realNs) { listeningSinceNs_ = realNs; }

  size_t size() const { return used_; }
  size_t capacity() const { return capacity_; }
  const SessionStats& at(size_t i) const { return stats_[i]; }
  uint64_t rejectedNewSessions() const { return rejected_; }
  uint64_t evictedSessions() const { return evicted_; }
  uint64_t bogusFins() const { return bogusFins_; }
  uint64_t implausibleStamps() const { return implausibleStamps_; }
  uint64_t foreignSourceData() const { return foreignSourceData_; }

 private:
  struct Word {  // 64 sequences: bit i is block * 64 + i; stale when block or generation differ
    uint64_t bits;
    uint64_t block;
  };
  SessionStats* find(uint64_t session, uint64_t monoNs, bool create);
  bool testAndSet(size_t slot, uint64_t seq);
  void accept(SessionStats& s, size_t slot, uint64_t seq, uint64_t len);
  bool finPlausible(const SessionStats& s, const wire::Header& h, uint64_t recvNs, uint64_t source,
                    const uint8_t* sourceIPv6) const;

  size_t capacity_;
  uint64_t windowMask_;
  uint64_t jumpLimit_;
  size_t wordsPerSession_;  // twice the window: any window-long run of sequences fits unaliased
  std::unique_ptr<SessionStats[]> stats_;
  std::unique_ptr<Word[]> words_;
  std::unique_ptr<uint32_t[]> wordGen_;  // per word: the slot generation that wrote it
  std::unique_ptr<uint32_t[]> slotGen_;  // per slot: bumped on reuse, so no clearing is needed
  size_t used_ = 0;
  size_t lastHit_ = 0;
  uint64_t rejected_ = 0;
  uint64_t evicted_ = 0;
  uint64_t bogusFins_ = 0;
  uint64_t implausibleStamps_ = 0;
  uint64_t foreignSourceData_ = 0;
  uint64_t listeningSinceNs_ = 0;
};

}  // namespace mcbench
