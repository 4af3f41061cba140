// Per-packet cost of SessionTable::record() when crafted packets jump the sequence (issue 9: a
// jump of 2^20 or 2^63 must cost no more than 2x an in-order packet). Not a unit test (timing):
// run by hand, optimised build:
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMCBENCH_BUILD_ADDON=OFF
//   cmake --build build-rel -t mcbench_seq_jump_bench && build-rel/mcbench_seq_jump_bench
// Prints ns per packet for each pattern and its ratio to the in-order stream; exits 1 when a
// ratio is above 2.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "core/session_table.h"

namespace {

using mcbench::SessionTable;
using mcbench::wire::Header;
using mcbench::wire::Kind;

// Feeds n packets; every `every`-th one (0: none) is a crafted packet seq = real + jump.
// Returns ns per packet (real and crafted alike).
double nsPerPacket(uint64_t jump, unsigned every, uint64_t n) {
  SessionTable t;  // the receiver's defaults: 32 sessions, 2^20-sequence window
  uint64_t clock = 1700000000000000000ull, real = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    clock += 1000;
    bool crafted = every != 0 && i % every == every - 1;
    uint64_t seq = crafted ? (jump == UINT64_MAX ? UINT64_MAX : real + jump) : real++;
    if (every == 1) seq = i * jump;  // a session whose every packet jumps (real = 0)
    Header h{Kind::Data, 42, seq, clock - 50000, 0, 0, 1};
    t.record(h, 1400, clock, clock);
  }
  auto t1 = std::chrono::steady_clock::now();
  if (every != 1 && t.at(0).unique != real)
    std::printf("accounting wrong: unique %llu, real %llu\n", static_cast<unsigned long long>(t.at(0).unique),
                static_cast<unsigned long long>(real));
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
}

}  // namespace

int main() {
  const uint64_t n = 20000000;
  double base = 1e300;
  for (int r = 0; r < 3; ++r) base = std::min(base, nsPerPacket(0, 0, n));  // best of 3
  std::printf("in order                      %6.2f ns/packet\n", base);
  struct Case {
    const char* name;
    uint64_t jump;
    unsigned every;
  };
  const Case cases[] = {
      {"every 2nd jumps +2^20", uint64_t{1} << 20, 2},
      {"every 2nd jumps +2^63", uint64_t{1} << 63, 2},
      {"every 2nd is seq 2^64-1", UINT64_MAX, 2},
      {"every 10th jumps +2^20", uint64_t{1} << 20, 10},
      {"every 10th jumps +2^63", uint64_t{1} << 63, 10},
      // Every packet of a session jumps: just under the limit (each one a gap, accepted), at it.
      {"every packet jumps +2^20-1", (uint64_t{1} << 20) - 1, 1},
      {"every packet jumps +2^20", uint64_t{1} << 20, 1},
  };
  int bad = 0;
  for (const Case& c : cases) {
    double v = 1e300;
    for (int r = 0; r < 3; ++r) v = std::min(v, nsPerPacket(c.jump, c.every, n));
    // Also per real packet (the crafted ones' cost charged to them): n packets carry
    // n - n / every real ones.
    double perReal = c.every == 1 ? v : v * static_cast<double>(n) / static_cast<double>(n - n / c.every);
    std::printf("%-29s %6.2f ns/packet  %.2fx   per real packet %6.2f ns  %.2fx\n", c.name, v, v / base, perReal,
                perReal / base);
    bad += v / base > 2.0;
  }
  return bad ? 1 : 0;
}
