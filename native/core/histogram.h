#pragma once
// A fixed-size latency histogram with HdrHistogram's bucket layout (lowest value 1 ns,
// 3 significant digits, highest 60 s). The layout is the same as hdr-histogram-js's with those
// parameters, so every bucket's lowest value recorded there lands in the very same bucket: the
// JS side rebuilds an exact HdrHistogram from the non-zero buckets. Recording is a few bit
// operations and one increment: no allocation, no locks (the owner serialises access).
#include <cstddef>
#include <cstdint>
#include <memory>

namespace mcbench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketHalfCountMagnitude = 10;  // 3 significant digits: 2048 sub-buckets
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << (kSubBucketHalfCountMagnitude + 1);
  static constexpr uint64_t kSubBucketHalfCount = kSubBucketCount / 2;
  static constexpr uint64_t kSubBucketMask = kSubBucketCount - 1;
  static constexpr uint64_t kHighestTrackable = 60ull * 1000 * 1000 * 1000;  // 60 s in ns
  static constexpr int kBucketCount = 26;                                    // smallest n with 2048 << (n - 1) > 60 s
  static constexpr size_t kCountsLength = (kBucketCount + 1) * kSubBucketHalfCount;

  LatencyHistogram() : counts_(new uint64_t[kCountsLength]()) {}

  void record(uint64_t valueNs) {
    if (valueNs > kHighestTrackable) {
      ++aboveRange_;
      valueNs = kHighestTrackable;
    }
    ++counts_[indexOf(valueNs)];
    ++total_;
    sum_ += valueNs;
    if (valueNs < min_) min_ = valueNs;
    if (valueNs > max_) max_ = valueNs;
  }

  static size_t indexOf(uint64_t v) {
    int bucket = 64 - kSubBucketHalfCountMagnitude - 1 - __builtin_clzll(v | kSubBucketMask);
    uint64_t sub = v >> bucket;
    return (static_cast<size_t>(bucket + 1) << kSubBucketHalfCountMagnitude) +
           static_cast<size_t>(sub - kSubBucketHalfCount);
  }
  // The lowest value that maps to counts index i.
  static uint64_t valueAt(size_t i) {
    int bucket = static_cast<int>(i >> kSubBucketHalfCountMagnitude) - 1;
    uint64_t sub = (i & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
    if (bucket < 0) {
      sub -= kSubBucketHalfCount;
      bucket = 0;
    }
    return sub << bucket;
  }

  uint64_t count(size_t i) const { return counts_[i]; }
  uint64_t total() const { return total_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return total_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  uint64_t aboveRange() const { return aboveRange_; }
  void copyFrom(const LatencyHistogram& o) {
    for (size_t i = 0; i < kCountsLength; ++i) counts_[i] = o.counts_[i];
    total_ = o.total_;
    sum_ = o.sum_;
    min_ = o.min_;
    max_ = o.max_;
    aboveRange_ = o.aboveRange_;
  }

 private:
  std::unique_ptr<uint64_t[]> counts_;
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t aboveRange_ = 0;
};

}  // namespace mcbench
