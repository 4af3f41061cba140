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
}  // namespace

SessionTable::SessionTable(size_t capacity, unsigned windowBits)
    : capacity_(capacity),
      windowMask_((uint64_t{1} << checkedWindowBits(windowBits)) - 1),
      wordsPerSession_((size_t{1} << windowBits) / 64),
      stats_(new SessionStats[capacity]),
      bits_(new uint64_t[capacity * ((size_t{1} << windowBits) / 64)]()) {}

SessionStats* SessionTable::find(uint64_t session) {
  // Almost every packet belongs to the same session as the previous one.
  if (used_ > 0 && stats_[lastHit_].session == session) return &stats_[lastHit_];
  for (size_t i = 0; i < used_; ++i) {
    if (stats_[i].session == session) {
      lastHit_ = i;
      return &stats_[i];
    }
  }
  if (used_ == capacity_) return nullptr;
  lastHit_ = used_++;
  SessionStats& s = stats_[lastHit_];
  s = SessionStats{};
  s.session = session;
  return &s;
}

bool SessionTable::testAndSet(size_t slot, uint64_t seq) {
  uint64_t bit = seq & windowMask_;
  uint64_t& word = bits_[slot * wordsPerSession_ + bit / 64];
  uint64_t m = uint64_t{1} << (bit % 64);
  bool was = (word & m) != 0;
  word |= m;
  return was;
}

void SessionTable::clearRange(size_t slot, uint64_t from, uint64_t to) {
  uint64_t* w = &bits_[slot * wordsPerSession_];
  if (to - from > windowMask_) {
    std::memset(w, 0, wordsPerSession_ * sizeof(uint64_t));
    return;
  }
  for (uint64_t s = from; s < to; ++s) {
    uint64_t bit = s & windowMask_;
    if (bit % 64 == 0 && to - s >= 64) {  // whole words at a time on long gaps
      w[bit / 64] = 0;
      s += 63;
      continue;
    }
    w[bit / 64] &= ~(uint64_t{1} << (bit % 64));
  }
}

SessionTable::Outcome SessionTable::record(const wire::Header& h, size_t len, uint64_t recvNs, uint64_t monoNs) {
  SessionStats* s = find(h.session);
  if (s == nullptr) {
    ++rejected_;
    return Outcome::Rejected;
  }
  size_t slot = static_cast<size_t>(s - stats_.get());
  if (h.kind == wire::Kind::Fin) {
    s->finSeen = true;
    s->finTotal = h.seq;
    ++s->finsReceived;
    return Outcome::Fin;
  }

  uint64_t seq = h.seq;
  if (!s->started) {
    s->started = true;
    s->firstSeq = s->maxSeq = seq;
    s->firstRecvNs = recvNs;
    testAndSet(slot, seq);
  } else if (seq > s->maxSeq) {
    if (seq > s->maxSeq + 1) ++s->gaps;
    // The ring's slots between the old and the new maximum hold sequences a window ago.
    clearRange(slot, s->maxSeq + 1, seq);
    testAndSet(slot, seq);
    s->maxSeq = seq;
  } else if (s->maxSeq - seq > windowMask_) {
    // Too old to tell a duplicate from a late packet: count it as a late unique one.
    ++s->beyondWindow;
    ++s->reordered;
    if (s->maxSeq + 1 - seq > s->reorderMaxExtent) s->reorderMaxExtent = s->maxSeq + 1 - seq;
    if (seq < s->firstSeq) s->firstSeq = seq;
  } else if (testAndSet(slot, seq)) {
    ++s->duplicates;
    return Outcome::Duplicate;
  } else {
    ++s->reordered;
    if (s->maxSeq + 1 - seq > s->reorderMaxExtent) s->reorderMaxExtent = s->maxSeq + 1 - seq;
    if (seq < s->firstSeq) s->firstSeq = seq;
  }
  ++s->unique;
  s->bytes += len;
  s->lastRecvNs = recvNs;
  s->lastRecvMonoNs = monoNs;

  // RFC 3550 6.4.1: D = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16, in arrival order.
  if (s->prevRecvNs != 0) {
    // Differences first, in integers: epoch stamps (~1.7e18 ns) exceed a double's 2^53.
    int64_t d = static_cast<int64_t>(recvNs - s->prevRecvNs) - static_cast<int64_t>(h.sendNs - s->prevSendNs);
    s->jitterNs += (std::fabs(static_cast<double>(d)) - s->jitterNs) / 16.0;
  }
  s->prevRecvNs = recvNs;
  s->prevSendNs = h.sendNs;
  return Outcome::Unique;
}

}  // namespace mcbench
