// libFuzzer harness of the RTT mode's reply handling: Ping::processReply() (decodeReply, session
// and probe matching, stamp checks, reflector table, per-reflector answered bitmap, histograms,
// offsets) and decodeProbe(), fed fuzzed datagrams from a few source addresses; the probes among
// them also go to Pong::countProbe() (session table, first-source and ascending-sequence rules). Built with
// -fsanitize=fuzzer,address,undefined (CMake: -DMCBENCH_FUZZ=ON with clang); test/native.sh runs
// it for a bounded time.
//
// Input: the number of probes "sent" (their t1 known to the harness), then records of one datagram
// each. Bits of a control byte make the harness write a valid reply header, this ping's session,
// and the t1 of the probe the datagram names, so that most inputs reach the deeper checks. After
// the input, the counters must add up: every datagram has exactly one outcome, and the snapshot's
// counters and each reflector's histograms agree with the outcomes the harness saw.
#include <fuzzer/FuzzedDataProvider.h>

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/rtt.h"
#include "core/wire.h"

namespace {

using mcbench::Ping;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Ping& ping() {
  // One ping for the whole run (it opens a socket and allocates its probe window): its reply state
  // carries over between inputs; the checks below compare deltas.
  static Ping* p = [] {
    mcbench::PingConfig c;
    c.socket.group = "239.255.77.2";
    c.socket.port = 47002;
    c.maxReflectors = 4;
    return new Ping(c);
  }();
  return *p;
}

mcbench::Pong& pong() {
  static mcbench::Pong* p = [] {
    mcbench::PongConfig c;
    c.socket.group = "239.255.77.3";
    c.socket.port = 47003;
    c.socket.iface = "lo";
    c.maxSessions = 4;  // few slots: inputs reach eviction
    return new mcbench::Pong(c);
  }();
  return *p;
}
uint64_t g_pongMono = 0;

constexpr uint64_t kT0 = 1700000000000000000ull;
uint64_t g_sentTotal = 0;  // probes noted as sent so far (the t1 of probe i is kT0 + i * 1000)
uint64_t g_inputs = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ++g_inputs;
  Ping& p = ping();
  mcbench::PingSnapshot before;
  p.snapshot(before);
  unsigned newProbes = in.ConsumeIntegral<uint8_t>();
  for (unsigned i = 0; i < newProbes; ++i) p.noteSent(kT0 + (g_sentTotal++) * 1000);
  unsigned outcomes[9] = {};
  unsigned fed = 0;
  mcbench::PongSnapshot pongBefore;
  pong().snapshot(pongBefore);
  uint64_t probesIgnored = 0, probesRepeated = 0;
  while (in.remaining_bytes() > 0 && fed < 64) {
    uint8_t ctl = in.ConsumeIntegral<uint8_t>();
    uint8_t from = in.ConsumeIntegral<uint8_t>();
    uint64_t t4Delta = in.ConsumeIntegral<uint32_t>();
    std::vector<uint8_t> d = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 96));
    mcbench::wire::Probe probe;
    bool isProbe = mcbench::wire::decodeProbe(d.data(), d.size(), probe) == mcbench::wire::DecodeResult::Ok;
    if ((ctl & 1) && d.size() >= 8) {
      const uint8_t head[8] = {'M', 'C', 'B', '1', 1, 4, 0, 72};
      std::memcpy(d.data(), head, 8);
    }
    if ((ctl & 2) && d.size() >= 16) mcbench::wire::put64(d.data() + 8, p.session());
    uint64_t seq = d.size() >= 24 ? mcbench::wire::get64(d.data() + 16) : 0;
    if ((ctl & 4) && d.size() >= 24 && g_sentTotal > 0) {
      seq %= g_sentTotal;  // a probe that was sent
      mcbench::wire::put64(d.data() + 16, seq);
    }
    if ((ctl & 8) && d.size() >= 32) mcbench::wire::put64(d.data() + 24, kT0 + seq * 1000);
    sockaddr_storage src{};
    auto* a = reinterpret_cast<sockaddr_in*>(&src);
    a->sin_family = AF_INET;
    a->sin_port = htons(5001);
    a->sin_addr.s_addr = htonl(0x0A000001u + (from & 3));
    uint64_t t4 = kT0 + seq * 1000 + t4Delta;
    if (isProbe) {
      // the clock jumps by up to ~16 s (the control byte's top bits): stale sessions happen too
      g_pongMono += static_cast<uint64_t>(ctl >> 4) * 1000000000ull + 1;
      mcbench::PongSnapshot was;
      pong().snapshot(was);
      mcbench::Pong::ProbeCount n = pong().countProbe(probe.session, probe.seq, src, sizeof(sockaddr_in), g_pongMono);
      mcbench::PongSnapshot now;
      pong().snapshot(now);
      const auto& w = was.counters;
      const auto& x = now.counters;
      if (!n.answer) {
        ++probesIgnored;
        check(x.foreignSource == w.foreignSource + 1);
      } else {
        check(n.probesSeen >= 1);
        if (x.notAscending == w.notAscending + 1) {
          ++probesRepeated;
        } else {
          // counted: its sequence is at least the session's first
          check(x.notAscending == w.notAscending);
          check(n.firstSeq <= probe.seq);
        }
      }
      check(x.sessions - x.evictedSessions <= 4);
    }
    Ping::Outcome o = p.processReply(d.data(), d.size(), src, sizeof(sockaddr_in), t4, 1 + fed);
    unsigned idx = static_cast<unsigned>(o);
    check(idx < 9);
    ++outcomes[idx];
    ++fed;
  }
  mcbench::PingSnapshot after;
  p.snapshot(after);
  const auto& b = before.counters;
  const auto& c = after.counters;
  check(c.sent == g_sentTotal);
  check(c.malformed - b.malformed == outcomes[static_cast<int>(Ping::Outcome::Malformed)]);
  check(c.otherSession - b.otherSession == outcomes[static_cast<int>(Ping::Outcome::OtherSession)]);
  check(c.unknownProbe - b.unknownProbe == outcomes[static_cast<int>(Ping::Outcome::UnknownProbe)]);
  check(c.late - b.late == outcomes[static_cast<int>(Ping::Outcome::Late)]);
  check(c.implausible - b.implausible == outcomes[static_cast<int>(Ping::Outcome::Implausible)]);
  check(c.sourceMismatch - b.sourceMismatch == outcomes[static_cast<int>(Ping::Outcome::SourceMismatch)]);
  check(c.rejectedReflectors - b.rejectedReflectors == outcomes[static_cast<int>(Ping::Outcome::Rejected)]);
  check(after.reflectors.size() <= 4);
  uint64_t recordedBefore = 0, recordedAfter = 0, dupBefore = 0, dupAfter = 0;
  for (const auto& r : before.reflectors) recordedBefore += r.replies, dupBefore += r.duplicates;
  mcbench::LatencyHistogram rtt, round, proc;
  for (size_t i = 0; i < after.reflectors.size(); ++i) {
    const auto& r = after.reflectors[i];
    recordedAfter += r.replies;
    dupAfter += r.duplicates;
    // copying three histograms costs more than the rest of an input: every 64th input only
    if (g_inputs % 64 == 0) {
      check(p.histograms(i, rtt, round, proc));
      check(rtt.total() == r.replies && round.total() == r.replies && proc.total() == r.replies);
      if (r.replies > 0) check(rtt.min() <= round.min() && rtt.max() <= round.max());
    }
    if (r.replies > 0) {
      check(r.maxSeq < c.sent);
      check(r.offsetMinNs <= r.bestOffsetNs && r.bestOffsetNs <= r.offsetMaxNs);
    }
  }
  check(recordedAfter - recordedBefore == outcomes[static_cast<int>(Ping::Outcome::Recorded)]);
  check(dupAfter - dupBefore == outcomes[static_cast<int>(Ping::Outcome::Duplicate)]);
  mcbench::PongSnapshot pongAfter;
  pong().snapshot(pongAfter);
  check(pongAfter.counters.foreignSource - pongBefore.counters.foreignSource == probesIgnored);
  check(pongAfter.counters.notAscending - pongBefore.counters.notAscending == probesRepeated);
  return 0;
}
