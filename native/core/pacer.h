#pragma once
// Schedule of a paced sender: packet i is due at start + i / pps on CLOCK_MONOTONIC.
// Pure arithmetic so it is unit-tested without a clock. A sender that falls behind keeps the
// schedule (it catches up in batches no larger than the batch size) so the average rate holds
// and the lateness is visible, instead of silently resetting the schedule.
#include <cstdint>

namespace mcbench {

class Pacer {
 public:
  Pacer(double pps, uint64_t startNs) : pps_(pps), startNs_(startNs) {}
  bool unlimited() const { return pps_ <= 0; }
  // Intended send time of packet `seq`.
  uint64_t dueNs(uint64_t seq) const {
    return startNs_ + static_cast<uint64_t>(static_cast<long double>(seq) * 1e9L / pps_);
  }
  // How many packets are due at time `nowNs` when `sent` have gone already.
  uint64_t dueCount(uint64_t nowNs, uint64_t sent) const {
    if (nowNs < startNs_) return 0;
    long double elapsed = static_cast<long double>(nowNs - startNs_);
    uint64_t dueTotal = static_cast<uint64_t>(elapsed * pps_ / 1e9L) + 1;
    return dueTotal > sent ? dueTotal - sent : 0;
  }

 private:
  double pps_;
  uint64_t startNs_;
};

}  // namespace mcbench
