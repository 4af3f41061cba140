#pragma once
#include <cstdint>
#include <ctime>

namespace mcbench {

inline uint64_t nowNs(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
inline uint64_t monoNs() { return nowNs(CLOCK_MONOTONIC); }
inline uint64_t realNs() { return nowNs(CLOCK_REALTIME); }

// Sleeps until an absolute CLOCK_MONOTONIC time (ns); returns early on signals, which is fine
// because every caller re-checks its clock and its stop flag.
inline void sleepUntilMono(uint64_t deadlineNs) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(deadlineNs / 1000000000ull);
  ts.tv_nsec = static_cast<long>(deadlineNs % 1000000000ull);
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

}  // namespace mcbench
