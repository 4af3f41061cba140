#pragma once
// Schedule of a paced sender: packet i is due at start + i / pps on CLOCK_MONOTONIC.
// Pure arithmetic so it is unit-tested without a clock. A sender that falls behind keeps the
// schedule (it catches up in batches no larger than the batch size) so the average rate holds
// and the lateness is visible, instead of silently resetting the schedule.
#include <cmath>
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

// A traffic pattern (--burst, --isochronous): units of several datagrams sent back to back, unit k
// due at start + k * period on CLOCK_MONOTONIC. A burst is a fixed number of datagrams; a frame is
// a number of bytes drawn per frame, cut into datagrams of the payload length (the last one
// shorter, but never shorter than the header).
enum class PatternKind : uint8_t { None, Burst, Isochronous };

struct PatternConfig {
  PatternKind kind = PatternKind::None;
  double unitsPerSecond = 0;    // bursts or frames per second
  uint32_t burstDatagrams = 0;  // --burst N
  double frameMeanBytes = 0;    // --isochronous: log-normal frame size, mean and standard
  double frameStddevBytes = 0;  // deviation in bytes (0: every frame the mean)
  uint64_t seed = 1;            // the frame size draws' seed: the same seed, the same sizes
};

// Due time of unit k: the same arithmetic as Pacer, per unit instead of per datagram.
inline uint64_t unitDueNs(uint64_t startNs, double unitsPerSecond, uint64_t k) {
  return startNs + static_cast<uint64_t>(static_cast<long double>(k) * 1e9L / unitsPerSecond);
}

// Frame sizes of --isochronous, log-normal like iperf2's, from splitmix64 and Box-Muller: pure
// and seeded, so a run's sizes are reproducible and unit-tested. The log-normal's own mean and
// standard deviation are the ones asked for (mu and sigma derived from them).
class FrameSizer {
 public:
  FrameSizer(double meanBytes, double stddevBytes, uint64_t seed) : mean_(meanBytes), state_(seed) {
    if (stddevBytes > 0 && meanBytes > 0) {
      const double v = std::log1p((stddevBytes * stddevBytes) / (meanBytes * meanBytes));
      sigma_ = std::sqrt(v);
      mu_ = std::log(meanBytes) - v / 2;
    }
  }
  // The next frame's size in bytes, at least 1 and at most kMaxFrameBytes.
  uint64_t next() {
    double bytes = mean_;
    if (sigma_ > 0) {
      // Box-Muller: u1 in (0, 1] so the log is finite.
      const double u1 = (static_cast<double>(nextU64() >> 11) + 1.0) * 0x1.0p-53;
      const double u2 = static_cast<double>(nextU64() >> 11) * 0x1.0p-53;
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      bytes = std::exp(mu_ + sigma_ * z);
    }
    if (!(bytes >= 1)) return 1;
    if (bytes >= static_cast<double>(kMaxFrameBytes)) return kMaxFrameBytes;
    return static_cast<uint64_t>(std::llround(bytes));
  }
  // A frame's size is capped here (a log-normal tail: 64 MiB, a thousand times a 4K frame).
  static constexpr uint64_t kMaxFrameBytes = uint64_t{64} << 20;

 private:
  uint64_t nextU64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double mean_;
  double mu_ = 0, sigma_ = 0;
  uint64_t state_;
};

}  // namespace mcbench
