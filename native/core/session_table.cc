#include "session_table.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace mcbench {

namespace {
unsigned checkedWindowBits(unsigned bits) {
  // Below 6 the window is less than one bitmap word; above 32 it would not fit in memory.
  if (bits < 6 || bits > 32) throw std::invalid_argument("SessionTable: windowBits must be 6..32");
  return bits;
}
uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

// Whether a packet from (source, sourceIPv6) may belong to session s: the same address and port,
// or either unknown (0). An IPv6 address is compared in all 128 bits, not by its hash.
bool sameSource(const SessionStats& s, uint64_t source, const uint8_t* sourceIPv6) {
  if (source == 0 || s.source == 0) return true;
  if (source != s.source || s.sourceIsIPv6 != (sourceIPv6 != nullptr)) return false;
  return !s.sourceIsIPv6 || std::memcmp(s.sourceIPv6, sourceIPv6, sizeof s.sourceIPv6) == 0;
}
}  // namespace

SessionTable::SessionTable(size_t capacity, unsigned windowBits, uint64_t jumpLimit)
    : capacity_(capacity),
      windowMask_((uint64_t{1} << checkedWindowBits(windowBits)) - 1),
      jumpLimit_(jumpLimit < 2 ? 2 : jumpLimit),
      wordsPerSession_((size_t{1} << windowBits) / 64 * 2),
      stats_(new SessionStats[capacity]),
      words_(new Word[capacity * wordsPerSession_]()),
      wordGen_(new uint32_t[capacity * wordsPerSession_]()),
      slotGen_(new uint32_t[capacity == 0 ? 1 : capacity]()) {}

SessionStats* SessionTable::find(uint64_t session, uint64_t monoNs, bool create) {
  // Almost every packet belongs to the same session as the previous one.
  if (used_ > 0 && stats_[lastHit_].session == session) return &stats_[lastHit_];
  for (size_t i = 0; i < used_; ++i) {
    if (stats_[i].session == session) {
      lastHit_ = i;
      return &stats_[i];
    }
  }
  if (!create) return nullptr;
  size_t slot = used_;
  if (used_ == capacity_) {
    // Full: junk (a flood of made-up session ids) must not lock real senders out. Evict the least
    // recently heard session among those with few packets or none lately; a sender that is
    // sending is never evicted.
    // This scan runs only for packets of new sessions when the table is full.
    size_t victim = capacity_;
    for (size_t i = 0; i < used_; ++i) {
      const SessionStats& s = stats_[i];
      // Few packets, or silent for a while whatever its count (32 made-up ids of 16 packets each
      // would otherwise hold the table for the rest of the run).
      bool idle = monoNs > s.lastActiveMonoNs && monoNs - s.lastActiveMonoNs >= kEvictableIdleNs;
      if (s.unique + s.duplicates >= kEvictableBelow && !idle) continue;
      if (victim == capacity_ || s.lastActiveMonoNs < stats_[victim].lastActiveMonoNs) victim = i;
    }
    if (victim == capacity_) return nullptr;
    ++evicted_;
    slot = victim;
  } else {
    ++used_;
  }
  lastHit_ = slot;
  ++slotGen_[slot];  // the bitmap words of the previous owner are stale from now on
  SessionStats& s = stats_[slot];
  s = SessionStats{};
  s.session = session;
  s.lastActiveMonoNs = monoNs;
  return &s;
}

bool SessionTable::testAndSet(size_t slot, uint64_t seq) {
  uint64_t block = seq / 64;
  size_t i = slot * wordsPerSession_ + static_cast<size_t>(block & (wordsPerSession_ - 1));
  Word& w = words_[i];
  if (w.block != block || wordGen_[i] != slotGen_[slot]) {
    // The word last held another block (a window or more ago) or another session: start afresh.
    w.bits = 0;
    w.block = block;
    wordGen_[i] = slotGen_[slot];
  }
  uint64_t m = uint64_t{1} << (seq % 64);
  bool was = (w.bits & m) != 0;
  w.bits |= m;
  return was;
}

void SessionTable::accept(SessionStats& s, size_t slot, uint64_t seq, uint64_t len) {
  if (!s.started) {
    s.started = true;
    s.firstSeq = s.maxSeq = seq;
  } else {
    if (seq - s.maxSeq > 1) ++s.gaps;
    s.maxSeq = seq;
  }
  testAndSet(slot, seq);
  ++s.unique;
  s.bytes += len;
}

bool SessionTable::finPlausible(const SessionStats& s, const wire::Header& h, uint64_t recvNs, uint64_t source,
                                const uint8_t* sourceIPv6) const {
  // Only a session that sent data, from the same address and port, may end it.
  if (!s.started) return false;
  if (!sameSource(s, source, sourceIPv6)) return false;
  // The total can be no less than what arrived (highest seq + 1) ...
  if (s.maxSeq == UINT64_MAX || h.seq < s.maxSeq + 1) return false;
  // ... and no more than the sender could have sent since its last packet arrived here.
  uint64_t since = recvNs > s.lastRecvNs ? recvNs - s.lastRecvNs : 0;
  if (h.seq - (s.maxSeq + 1) > couldHaveSent(since)) return false;
  // A session's span stays below 2^53 (exact JSON numbers).
  return h.seq - s.expectedFrom() <= kMaxSpan;
}

SessionTable::Outcome SessionTable::record(const wire::Header& h, size_t len, uint64_t recvNs, uint64_t monoNs,
                                           uint64_t source, const uint8_t* sourceIPv6) {
  if (h.kind == wire::Kind::Fin) {
    // A FIN never creates a session: a FIN of an unknown session is bogus and ends nothing.
    SessionStats* s = find(h.session, monoNs, false);
    if (s == nullptr || !finPlausible(*s, h, recvNs, source, sourceIPv6)) {
      ++bogusFins_;
      return Outcome::Ignored;
    }
    // Repeats carry the same total; a later, different one is as good (same source, in range).
    s->finSeen = true;
    s->finTotal = h.seq;
    ++s->finsReceived;
    return Outcome::Fin;
  }

  SessionStats* s = find(h.session, monoNs, true);
  if (s == nullptr) {
    ++rejected_;
    return Outcome::Rejected;
  }
  // DATA of a known session from another address or port is not its own (a forged packet could
  // otherwise fake loss, void the real FIN or make every later packet look reordered).
  if (s->started && !sameSource(*s, source, sourceIPv6)) {
    ++foreignSourceData_;
    return Outcome::Ignored;
  }
  size_t slot = static_cast<size_t>(s - stats_.get());
  s->lastActiveMonoNs = monoNs;
  uint64_t seq = h.seq;
  if (!s->started) {
    s->source = source;
    s->sourceIsIPv6 = source != 0 && sourceIPv6 != nullptr;
    if (s->sourceIsIPv6) std::memcpy(s->sourceIPv6, sourceIPv6, sizeof s->sourceIPv6);
    s->firstRecvNs = recvNs;
    // v2: the session's start decides whether its head was expected here. A start in the
    // receiver's future (beyond the stamp bound) is not believed; nor is a head longer than the
    // sender could have sent since its start.
    if (h.startNs != 0 && h.startNs <= recvNs + wire::kPlausibleStampNs) {
      s->startNs = h.startNs;
      if (listeningSinceNs_ != 0) {
        s->joinedAfterStart = listeningSinceNs_ > h.startNs;
        uint64_t elapsed = recvNs > h.startNs ? recvNs - h.startNs : 0;
        s->headCounted = !s->joinedAfterStart && seq <= couldHaveSent(elapsed) && seq <= kMaxSpan;
      }
    }
    accept(*s, slot, seq, len);
  } else if (seq > s->maxSeq && seq - s->maxSeq >= jumpLimit_) {
    // An implausible jump ahead: one crafted packet must not make a real session look as if it
    // lost 2^63 packets. It is held; the very next packet of the session confirms it when it
    // continues from there (a real outage longer than the limit: the old range went silent). A
    // packet in the old range in between cancels it, so crafted packets interleaved with a live
    // stream never confirm each other; they stay ignored (counted in seqJumps).
    bool confirms = s->jumpPending && distance(seq, s->jumpSeq) < jumpLimit_ && seq - s->expectedFrom() < kMaxSpan &&
                    s->jumpSeq - s->expectedFrom() < kMaxSpan;
    if (!confirms) {
      s->jumpPending = true;
      s->jumpSeq = seq;
      s->jumpLen = len;
      ++s->seqJumps;
      return Outcome::Ignored;
    }
    --s->seqJumps;
    s->jumpPending = false;
    uint64_t first = seq < s->jumpSeq ? seq : s->jumpSeq, second = seq < s->jumpSeq ? s->jumpSeq : seq;
    uint64_t firstLen = seq < s->jumpSeq ? len : s->jumpLen, secondLen = seq < s->jumpSeq ? s->jumpLen : len;
    accept(*s, slot, first, firstLen);
    if (second != first) accept(*s, slot, second, secondLen);
    else ++s->duplicates;
  } else if (seq > s->maxSeq) {
    s->jumpPending = false;  // the old range is alive
    accept(*s, slot, seq, len);
  } else if (seq < s->firstSeq && s->firstSeq - seq >= jumpLimit_) {
    // Far below anything seen: as implausible as a far jump ahead, and never confirmed.
    ++s->seqJumps;
    return Outcome::Ignored;
  } else {
    s->jumpPending = false;
    uint64_t extent = s->maxSeq - seq + 1;  // NextExp - seq; maxSeq - seq < jumpLimit here, no overflow
    if (s->maxSeq - seq > windowMask_) {
      // Too old to tell a duplicate from a late packet: count it as a late unique one.
      ++s->beyondWindow;
    } else if (testAndSet(slot, seq)) {
      ++s->duplicates;
      return Outcome::Duplicate;
    }
    ++s->reordered;
    if (extent > s->reorderMaxExtent) s->reorderMaxExtent = extent;
    if (seq < s->firstSeq) s->firstSeq = seq;
    ++s->unique;
    s->bytes += len;
  }
  s->lastRecvNs = recvNs;
  s->lastRecvMonoNs = monoNs;

  // RFC 3550 6.4.1: D = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16, in arrival order. Stamps
  // implausibly far from the receive time are counted and kept out (and do not become the base).
  if (!wire::plausibleStamp(h.sendNs, recvNs)) {
    ++implausibleStamps_;
    return Outcome::Unique;
  }
  if (s->prevRecvNs != 0) {
    // Differences in 128-bit integers: no overflow whatever the stamps, and exact (epoch stamps,
    // ~1.7e18 ns, exceed a double's 2^53).
    __int128 d = (static_cast<__int128>(recvNs) - s->prevRecvNs) - (static_cast<__int128>(h.sendNs) - s->prevSendNs);
    s->jitterNs += (std::fabs(static_cast<double>(d)) - s->jitterNs) / 16.0;
  }
  s->prevRecvNs = recvNs;
  s->prevSendNs = h.sendNs;
  return Outcome::Unique;
}

}  // namespace mcbench
