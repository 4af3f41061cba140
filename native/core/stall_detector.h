#pragma once
// Stalls located per packet from receive stamps: every silence between two DATA arrivals longer
// than a threshold is recorded with its start, its length and the sequences on either side.
// O(1) per packet (amortized: the median is re-read every kRecomputeEvery arrivals from a fixed
// 512-bucket histogram) and allocation-free: the stall list has a fixed capacity, the ones past
// it are counted (overflow()).
#include <array>
#include <cstddef>
#include <cstdint>

namespace mcbench {

struct StallRecord {
  uint64_t startNs = 0;  // receive stamp of the last DATA packet before the silence
  uint64_t endNs = 0;    // receive stamp of the first DATA packet after it
  uint64_t sessionBefore = 0;
  uint64_t seqBefore = 0;
  uint64_t sessionAfter = 0;
  uint64_t seqAfter = 0;
};

class StallDetector {
 public:
  static constexpr size_t kCapacity = 64;
  static constexpr uint64_t kMinThresholdNs = 50000000;  // 50 ms: the default's floor
  static constexpr uint64_t kMedianFactor = 20;          // default: 20x the median inter-arrival
  // With no baseline yet (fewer than kMinBaseline gaps), only a silence this long is a stall:
  // the first gaps of a slow stream (10 pps: 100 ms) must not read as stalls.
  static constexpr uint64_t kNoBaselineThresholdNs = 1000000000;
  static constexpr uint64_t kMinBaseline = 8;
  static constexpr uint64_t kRecomputeEvery = 256;

  // fixedThresholdNs: --stall; 0 = max(50 ms, 20 x the median inter-arrival).
  explicit StallDetector(uint64_t fixedThresholdNs = 0) : fixedNs_(fixedThresholdNs) {}

  // One DATA arrival (stamps need not be strictly increasing: an earlier one is no gap).
  void arrival(uint64_t recvNs, uint64_t session, uint64_t seq) {
    if (arrivals_++ == 0) {
      firstNs_ = recvNs;
    } else if (recvNs > lastNs_) {
      uint64_t gap = recvNs - lastNs_;
      if (gap > thresholdNs_) {
        if (used_ < kCapacity) {
          stalls_[used_++] = StallRecord{lastNs_, recvNs, lastSession_, lastSeq_, session, seq};
        } else {
          ++overflow_;
        }
      }
      ++buckets_[bucketOf(gap)];
      ++gaps_;
      // Re-read the median at 1, 2, 4 ... gaps, then every kRecomputeEvery.
      if (gaps_ >= kRecomputeEvery ? gaps_ % kRecomputeEvery == 0 : (gaps_ & (gaps_ - 1)) == 0) recompute();
    }
    if (recvNs >= lastNs_) {
      lastNs_ = recvNs;
      lastSession_ = session;
      lastSeq_ = seq;
    }
  }

  uint64_t thresholdNs() const { return thresholdNs_; }
  uint64_t medianGapNs() const { return medianNs_; }  // 0 until a gap was seen
  size_t size() const { return used_; }
  const StallRecord& at(size_t i) const { return stalls_[i]; }
  uint64_t overflow() const { return overflow_; }
  uint64_t arrivals() const { return arrivals_; }
  uint64_t firstNs() const { return firstNs_; }
  uint64_t lastNs() const { return lastNs_; }
  uint64_t lastSession() const { return lastSession_; }
  uint64_t lastSeq() const { return lastSeq_; }

  // Buckets: 8 per power of two (a value's bucket bounds it within 1/8 = 12.5%).
  static constexpr unsigned kSubBits = 3;
  static constexpr size_t kBuckets = 64 << kSubBits;
  static size_t bucketOf(uint64_t v) {
    if (v < (1u << kSubBits)) return static_cast<size_t>(v);
    unsigned msb = 63u - static_cast<unsigned>(__builtin_clzll(v));
    uint64_t sub = (v >> (msb - kSubBits)) & ((1u << kSubBits) - 1);
    return (static_cast<size_t>(msb - kSubBits + 1) << kSubBits) + static_cast<size_t>(sub);
  }
  // The middle of a bucket's value range.
  static uint64_t bucketMid(size_t b) {
    if (b < (1u << kSubBits)) return b;
    unsigned msb = static_cast<unsigned>(b >> kSubBits) + kSubBits - 1;
    uint64_t sub = b & ((1u << kSubBits) - 1);
    uint64_t low = (uint64_t{1} << msb) | (sub << (msb - kSubBits));
    uint64_t width = uint64_t{1} << (msb - kSubBits);
    return low + width / 2;
  }

 private:
  void recompute() {
    uint64_t half = (gaps_ + 1) / 2, seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += buckets_[b];
      if (seen >= half) {
        medianNs_ = bucketMid(b);
        break;
      }
    }
    if (fixedNs_ != 0) {
      thresholdNs_ = fixedNs_;
    } else if (gaps_ < kMinBaseline) {
      thresholdNs_ = kNoBaselineThresholdNs;
    } else {
      uint64_t scaled = medianNs_ > UINT64_MAX / kMedianFactor ? UINT64_MAX : medianNs_ * kMedianFactor;
      thresholdNs_ = scaled > kMinThresholdNs ? scaled : kMinThresholdNs;
    }
  }

  uint64_t fixedNs_;
  uint64_t thresholdNs_ = fixedNs_ != 0 ? fixedNs_ : kNoBaselineThresholdNs;
  uint64_t medianNs_ = 0;
  uint64_t arrivals_ = 0, gaps_ = 0, overflow_ = 0;
  uint64_t firstNs_ = 0, lastNs_ = 0, lastSession_ = 0, lastSeq_ = 0;
  std::array<uint64_t, kBuckets> buckets_{};
  std::array<StallRecord, kCapacity> stalls_{};
  size_t used_ = 0;
};

}  // namespace mcbench
