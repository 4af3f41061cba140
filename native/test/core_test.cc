// Unit tests of the pure core pieces: wire format, SessionTable accounting, Pacer schedule.
// No framework: TEST() registers a case, CHECK/CHECK_EQ record failures. Every expected value is
// worked out by hand here (or by a small independent model), never by the code under test.
// The last line printed is "N passed, M failed" (N, M: test cases); the exit status is non-zero
// when any case failed. An optional argument runs only the cases whose name contains it.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "core/histogram.h"
#include "core/igmp.h"
#include "core/pacer.h"
#include "core/receiver.h"
#include "core/rtt.h"
#include "core/sender.h"
#include "core/session_table.h"
#include "core/socket.h"
#include "core/ssm_router.h"
#include "core/stall_detector.h"
#include "core/wire.h"

namespace {

// ---- Minimal test harness ------------------------------------------------------------------------
struct TestCase {
  const char* name;
  void (*fn)();
};
std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};
int g_checkFailures = 0;  // failures in the running case
long g_checks = 0;
const char* g_current = "";

#define TEST(name)                                \
  void name();                                    \
  const Registrar registrar_##name(#name, &name); \
  void name()

void fail(const char* file, int line, const std::string& what) {
  ++g_checkFailures;
  std::fprintf(stderr, "FAIL %s (%s:%d): %s\n", g_current, file, line, what.c_str());
}

template <typename T>
std::string show(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return "enum " + std::to_string(static_cast<long long>(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_floating_point_v<T>) {
    char b[64];
    std::snprintf(b, sizeof b, "%.17g", static_cast<double>(v));
    return b;
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return std::to_string(static_cast<long long>(v));
  } else {
    return std::to_string(static_cast<unsigned long long>(v));
  }
}

template <typename A, typename B>
void checkEq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  ++g_checks;
  static_assert(!(std::is_integral_v<A> && std::is_integral_v<B> && std::is_signed_v<A> != std::is_signed_v<B>),
                "CHECK_EQ: compare integers of the same signedness (write 100u)");
  if (!(a == b)) fail(file, line, std::string(ea) + " == " + eb + "  (" + show(a) + " vs " + show(b) + ")");
}

#define CHECK(cond)                               \
  do {                                            \
    ++g_checks;                                   \
    if (!(cond)) fail(__FILE__, __LINE__, #cond); \
  } while (0)
#define CHECK_EQ(a, b) checkEq((a), (b), #a, #b, __FILE__, __LINE__)

using namespace mcbench;
using wire::DecodeResult;
using wire::Header;
using wire::Kind;

// =================================================================================================
// wire
// =================================================================================================

// A v1 header written byte by byte from the format description (not by encode()).
std::vector<uint8_t> handMadeHeader(uint8_t kind, uint16_t hlen, size_t total) {
  std::vector<uint8_t> b(total, 0xAB);
  const uint8_t head[32] = {'M', 'C', 'B', '1', 1, kind, static_cast<uint8_t>(hlen >> 8), static_cast<uint8_t>(hlen),
                            // session 0x0102030405060708
                            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                            // seq 0x00000000000003E8 = 1000
                            0, 0, 0, 0, 0, 0, 0x03, 0xE8,
                            // sendNs 0x17979CFE362A0000 = 1700000000000000000
                            0x17, 0x97, 0x9C, 0xFE, 0x36, 0x2A, 0x00, 0x00};
  std::memcpy(b.data(), head, sizeof head);
  return b;
}

TEST(wire_encode_layout_is_big_endian_v1) {
  uint8_t buf[64];
  std::memset(buf, 0xEE, sizeof buf);
  Header h;
  h.kind = Kind::Data;
  h.session = 0x0123456789ABCDEFull;
  h.seq = 0x1122334455667788ull;
  h.sendNs = 1700000000000000000ull;  // 0x17979CFE362A0000
  wire::encode(buf, h);
  const uint8_t want[32] = {'M',  'C',  'B',  '1',  1,    1,    0,    32,   0x01, 0x23, 0x45,
                            0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                            0x77, 0x88, 0x17, 0x97, 0x9C, 0xFE, 0x36, 0x2A, 0x00, 0x00};
  for (size_t i = 0; i < 32; ++i) CHECK_EQ(unsigned{buf[i]}, unsigned{want[i]});
  // The payload after the header is left as it was.
  for (size_t i = 32; i < sizeof buf; ++i) CHECK_EQ(unsigned{buf[i]}, 0xEEu);
  CHECK_EQ(wire::kHeaderLen, size_t{32});
}

TEST(wire_round_trip) {
  const Header cases[] = {
      {Kind::Data, 0x0123456789ABCDEFull, 0, 1},
      {Kind::Data, 1, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull},
      {Kind::Fin, 0xFEDCBA9876543210ull, 120, 1700000000123456789ull},
  };
  for (const Header& h : cases) {
    uint8_t buf[1400] = {};
    wire::encode(buf, h);
    for (size_t len : {size_t{32}, size_t{33}, size_t{1400}}) {
      Header out;
      CHECK_EQ(wire::decode(buf, len, out), DecodeResult::Ok);
      CHECK_EQ(out.kind, h.kind);
      CHECK_EQ(out.session, h.session);
      CHECK_EQ(out.seq, h.seq);
      CHECK_EQ(out.sendNs, h.sendNs);
    }
  }
  CHECK_EQ(unsigned{[] {
             uint8_t b[32];
             wire::encode(b, Header{Kind::Fin, 1, 2, 3});
             return b[5];
           }()},
           2u);
}

TEST(wire_decode_hand_made_and_unaligned) {
  std::vector<uint8_t> b = handMadeHeader(1, 32, 33);
  // At an odd address: decode must not rely on alignment (UBSan would flag it).
  uint8_t shifted[34] = {};
  std::copy(b.begin(), b.end(), shifted + 1);
  Header out;
  CHECK_EQ(wire::decode(shifted + 1, 33, out), DecodeResult::Ok);
  CHECK_EQ(out.kind, Kind::Data);
  CHECK_EQ(out.session, 0x0102030405060708ull);
  CHECK_EQ(out.seq, 1000u);
  CHECK_EQ(out.sendNs, 1700000000000000000ull);
}

TEST(wire_patch_seq_and_time) {
  uint8_t buf[48];
  std::memset(buf, 0x5A, sizeof buf);
  wire::encode(buf, Header{Kind::Data, 7, 1, 2});
  wire::patchSeqAndTime(buf, 0x0A0B0C0D0E0F1011ull, 99);
  const uint8_t seqBytes[8] = {0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11};
  const uint8_t timeBytes[8] = {0, 0, 0, 0, 0, 0, 0, 99};
  CHECK(std::memcmp(buf + 16, seqBytes, 8) == 0);
  CHECK(std::memcmp(buf + 24, timeBytes, 8) == 0);
  CHECK_EQ(unsigned{buf[15]}, 7u);     // session untouched
  CHECK_EQ(unsigned{buf[32]}, 0x5Au);  // payload untouched
  Header out;
  CHECK_EQ(wire::decode(buf, sizeof buf, out), DecodeResult::Ok);
  CHECK_EQ(out.session, 7u);
  CHECK_EQ(out.seq, 0x0A0B0C0D0E0F1011ull);
  CHECK_EQ(out.sendNs, 99u);
}

TEST(wire_rejects_short) {
  std::vector<uint8_t> b = handMadeHeader(1, 32, 64);
  Header out;
  for (size_t len : {size_t{0}, size_t{1}, size_t{8}, size_t{31}})
    CHECK_EQ(wire::decode(b.data(), len, out), DecodeResult::Short);
  CHECK_EQ(wire::decode(b.data(), 32, out), DecodeResult::Ok);
  // Short wins over everything else: a 31-byte garbage datagram is Short, not BadMagic.
  b[0] = 'X';
  CHECK_EQ(wire::decode(b.data(), 31, out), DecodeResult::Short);
}

TEST(wire_rejects_bad_magic) {
  Header out;
  for (size_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> b = handMadeHeader(1, 32, 32);
    b[i] ^= 0x20;  // 'M' -> 'm', ..., '1' -> 0x11
    CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadMagic);
  }
  std::vector<uint8_t> b = handMadeHeader(1, 32, 32);
  b[3] = '2';  // "MCB2"
  b[4] = 9;    // and a bad version: magic is checked first
  CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadMagic);
}

TEST(wire_rejects_bad_version) {
  Header out;
  for (uint8_t v : {uint8_t{0}, uint8_t{3}, uint8_t{255}}) {
    std::vector<uint8_t> b = handMadeHeader(1, 32, 32);
    b[4] = v;
    CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadVersion);
  }
  std::vector<uint8_t> b = handMadeHeader(0, 32, 32);
  b[4] = 3;  // bad version and bad kind: version is checked first
  CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadVersion);
}

TEST(wire_rejects_bad_kind) {
  Header out;
  for (uint8_t k : {uint8_t{0}, uint8_t{3}, uint8_t{0x81}, uint8_t{255}}) {
    std::vector<uint8_t> b = handMadeHeader(k, 32, 32);
    CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadKind);
  }
  std::vector<uint8_t> fin = handMadeHeader(2, 32, 32);
  CHECK_EQ(wire::decode(fin.data(), fin.size(), out), DecodeResult::Ok);
  CHECK_EQ(out.kind, Kind::Fin);
}

TEST(wire_rejects_bad_header_len) {
  Header out;
  struct Case {
    uint16_t hlen;
    size_t len;
  };
  // hlen < 32: shorter than v1's fields.
  for (Case c : {Case{0, 32}, Case{1, 32}, Case{31, 32}, Case{16, 100}}) {
    std::vector<uint8_t> b = handMadeHeader(1, c.hlen, c.len);
    CHECK_EQ(wire::decode(b.data(), c.len, out), DecodeResult::BadHeaderLen);
  }
  // hlen > len: the header claims more bytes than the datagram has.
  for (Case c : {Case{33, 32}, Case{40, 39}, Case{0x0100, 255}, Case{0xFFFF, 1400}}) {
    std::vector<uint8_t> b = handMadeHeader(1, c.hlen, c.len);
    CHECK_EQ(wire::decode(b.data(), c.len, out), DecodeResult::BadHeaderLen);
  }
}

TEST(wire_accepts_longer_header) {
  // A later version's 40-byte header: v1 fields, then an 8-byte extension v1 ignores.
  for (size_t len : {size_t{40}, size_t{41}, size_t{1400}}) {
    std::vector<uint8_t> b = handMadeHeader(1, 40, len);
    for (size_t i = 32; i < 40; ++i) b[i] = static_cast<uint8_t>(0xC0 + i);
    Header out;
    CHECK_EQ(wire::decode(b.data(), len, out), DecodeResult::Ok);
    CHECK_EQ(out.session, 0x0102030405060708ull);
    CHECK_EQ(out.seq, 1000u);
    CHECK_EQ(out.sendNs, 1700000000000000000ull);
  }
  std::vector<uint8_t> b = handMadeHeader(1, 32, 40);
  Header out;
  CHECK_EQ(wire::decode(b.data(), 40, out), DecodeResult::Ok);  // hlen == 32 < len is fine too
  b = handMadeHeader(1, 1400, 1400);
  CHECK_EQ(wire::decode(b.data(), 1400, out), DecodeResult::Ok);  // hlen == len
}

// =================================================================================================
// SessionTable
// =================================================================================================

constexpr size_t kLen = 1400;
constexpr uint64_t kMs = 1000000;
constexpr uint64_t kSecs = 1000000000;

Header data(uint64_t session, uint64_t seq, uint64_t sendNs = 0) { return Header{Kind::Data, session, seq, sendNs}; }
Header fin(uint64_t session, uint64_t total) { return Header{Kind::Fin, session, total, 0}; }

// Feeds DATA packets; receive stamps 1 ms apart (never 0: 0 means "no previous packet").
struct Feeder {
  SessionTable& t;
  uint64_t clock = 1 * kSecs;
  bool data(uint64_t session, uint64_t seq, size_t len = kLen) {
    clock += kMs;
    return t.record(::data(session, seq, clock), len, clock, clock) != SessionTable::Outcome::Rejected;
  }
  void range(uint64_t session, uint64_t from, uint64_t to) {  // [from, to)
    for (uint64_t s = from; s < to; ++s) data(session, s);
  }
  bool fin(uint64_t session, uint64_t total) {
    clock += kMs;
    return t.record(::fin(session, total), 32, clock, clock) != SessionTable::Outcome::Rejected;
  }
};

TEST(session_in_order) {
  SessionTable t;
  Feeder f{t};
  f.range(42, 0, 100);
  CHECK_EQ(t.size(), size_t{1});
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.session, 42u);
  CHECK(s.started);
  CHECK_EQ(s.firstSeq, 0u);
  CHECK_EQ(s.maxSeq, 99u);
  CHECK_EQ(s.unique, 100u);
  CHECK_EQ(s.expected(), 100u);
  CHECK_EQ(s.lost(), 0u);
  CHECK_EQ(s.duplicates, 0u);
  CHECK_EQ(s.reordered, 0u);
  CHECK_EQ(s.reorderMaxExtent, 0u);
  CHECK_EQ(s.gaps, 0u);
  CHECK_EQ(s.beyondWindow, 0u);
  CHECK_EQ(s.bytes, 140000u);
  CHECK(!s.finSeen);
  CHECK_EQ(s.firstRecvNs, 1 * kSecs + 1 * kMs);
  CHECK_EQ(s.lastRecvNs, 1 * kSecs + 100 * kMs);
  CHECK_EQ(s.lastRecvMonoNs, 1 * kSecs + 100 * kMs);
}

TEST(session_empty_table) {
  SessionTable t;
  CHECK_EQ(t.size(), size_t{0});
  CHECK_EQ(t.capacity(), size_t{32});
  CHECK_EQ(t.rejectedNewSessions(), 0u);
  SessionStats none;
  CHECK_EQ(none.expected(), 0u);
  CHECK_EQ(none.lost(), 0u);
}

TEST(session_gap) {
  SessionTable t;
  Feeder f{t};
  f.range(1, 0, 10);
  f.range(1, 15, 20);  // 10..14 never arrive: 5 lost, one gap
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.unique, 15u);
  CHECK_EQ(s.expected(), 20u);
  CHECK_EQ(s.lost(), 5u);
  CHECK_EQ(s.gaps, 1u);
  CHECK_EQ(s.reordered, 0u);
  CHECK_EQ(s.maxSeq, 19u);

  SessionTable t2;
  Feeder f2{t2};
  f2.data(1, 0);
  f2.data(1, 2);  // skips 1
  f2.data(1, 6);  // skips 3, 4, 5
  f2.data(1, 7);
  CHECK_EQ(t2.at(0).gaps, 2u);
  CHECK_EQ(t2.at(0).lost(), 4u);
  CHECK_EQ(t2.at(0).expected(), 8u);
}

TEST(session_reorder) {
  SessionTable t;
  Feeder f{t};
  for (uint64_t seq : {0u, 1u, 3u, 2u, 4u}) f.data(1, seq);
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.unique, 5u);
  CHECK_EQ(s.reordered, 1u);
  CHECK_EQ(s.reorderMaxExtent, 2u);  // NextExp 4 - seq 2
  CHECK_EQ(s.duplicates, 0u);
  CHECK_EQ(s.gaps, 1u);  // 1 -> 3 jumped, even though 2 came later
  CHECK_EQ(s.expected(), 5u);
  CHECK_EQ(s.lost(), 0u);
  CHECK_EQ(s.maxSeq, 4u);

  // 0,5,1,2,3,4: four late packets; the worst is seq 1 with NextExp 6 -> extent 5.
  SessionTable t2;
  Feeder f2{t2};
  for (uint64_t seq : {0u, 5u, 1u, 2u, 3u, 4u}) f2.data(1, seq);
  CHECK_EQ(t2.at(0).reordered, 4u);
  CHECK_EQ(t2.at(0).reorderMaxExtent, 5u);
  CHECK_EQ(t2.at(0).unique, 6u);
  CHECK_EQ(t2.at(0).lost(), 0u);
}

TEST(session_starts_mid_stream_and_late_below_first) {
  SessionTable t;
  Feeder f{t};
  f.range(9, 1000, 1010);
  CHECK_EQ(t.at(0).firstSeq, 1000u);
  CHECK_EQ(t.at(0).expected(), 10u);  // from the first sequence seen, not from 0
  CHECK_EQ(t.at(0).lost(), 0u);
  f.data(9, 998);  // older than the first one seen: reordered, lowers firstSeq
  CHECK_EQ(t.at(0).firstSeq, 998u);
  CHECK_EQ(t.at(0).reordered, 1u);
  CHECK_EQ(t.at(0).reorderMaxExtent, 12u);  // NextExp 1010 - 998
  CHECK_EQ(t.at(0).expected(), 12u);        // 998..1009
  CHECK_EQ(t.at(0).lost(), 1u);             // 999
  f.fin(9, 1020);
  CHECK_EQ(t.at(0).expected(), 22u);  // 998..1019
  CHECK_EQ(t.at(0).lost(), 11u);
}

TEST(session_duplicates) {
  SessionTable t;
  Feeder f{t};
  for (uint64_t seq : {0u, 1u, 1u, 2u}) f.data(1, seq);
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.duplicates, 1u);
  CHECK_EQ(s.unique, 3u);
  CHECK_EQ(s.bytes, 3 * kLen);
  CHECK_EQ(s.reordered, 0u);
  CHECK_EQ(s.lost(), 0u);
  // Again the newest, then an older one, then the very first.
  f.data(1, 2);
  f.data(1, 0);
  f.data(1, 0);
  CHECK_EQ(s.duplicates, 4u);
  CHECK_EQ(s.unique, 3u);
  CHECK_EQ(s.reordered, 0u);  // a duplicate is not a reordered packet
  CHECK_EQ(s.bytes, 3 * kLen);
  // A duplicate updates neither the receive stamps nor the jitter: the last unique DATA (seq 2
  // at 4 ms) is where the session's traffic ends.
  CHECK_EQ(s.lastRecvNs, 1 * kSecs + 4 * kMs);
  CHECK_EQ(s.lastRecvMonoNs, 1 * kSecs + 4 * kMs);
}

TEST(session_fin) {
  SessionTable t;
  Feeder f{t};
  f.range(1, 0, 100);
  CHECK(f.fin(1, 120));
  const SessionStats& s = t.at(0);
  CHECK(s.finSeen);
  CHECK_EQ(s.finTotal, 120u);
  CHECK_EQ(s.finsReceived, 1u);
  CHECK_EQ(s.expected(), 120u);
  CHECK_EQ(s.lost(), 20u);
  CHECK_EQ(s.unique, 100u);
  f.fin(1, 120);  // the sender repeats its FIN
  CHECK_EQ(s.finsReceived, 2u);
  CHECK_EQ(s.unique, 100u);
  CHECK_EQ(s.expected(), 120u);
  CHECK_EQ(s.bytes, 100 * kLen);  // FINs are not data

  // Only a FIN arrived: a FIN counts only for a session that sent data, so it is bogus (issue 9).
  SessionTable t2;
  Feeder f2{t2};
  CHECK(f2.fin(5, 50));            // not Rejected (the table has room) ...
  CHECK_EQ(t2.size(), size_t{0});  // ... but it made no session
  CHECK_EQ(t2.bogusFins(), 1u);
}

TEST(session_two_sessions_interleaved) {
  SessionTable t;
  Feeder f{t};
  // A: 0..49 complete; B: 0..29 without 10; alternating packet by packet.
  for (uint64_t i = 0; i < 50; ++i) {
    f.data(0xA, i);
    if (i < 30 && i != 10) f.data(0xB, i, 500);
  }
  f.data(0xB, 5, 500);  // a duplicate in B only: A's seq 5 must not make it look new or vice versa
  CHECK_EQ(t.size(), size_t{2});
  const SessionStats& a = t.at(0).session == 0xA ? t.at(0) : t.at(1);
  const SessionStats& b = t.at(0).session == 0xB ? t.at(0) : t.at(1);
  CHECK_EQ(a.session, 0xAu);
  CHECK_EQ(b.session, 0xBu);
  CHECK_EQ(a.unique, 50u);
  CHECK_EQ(a.lost(), 0u);
  CHECK_EQ(a.gaps, 0u);
  CHECK_EQ(a.duplicates, 0u);
  CHECK_EQ(a.bytes, 50 * kLen);
  CHECK_EQ(b.unique, 29u);
  CHECK_EQ(b.expected(), 30u);
  CHECK_EQ(b.lost(), 1u);
  CHECK_EQ(b.gaps, 1u);
  CHECK_EQ(b.duplicates, 1u);
  CHECK_EQ(b.reordered, 0u);
  CHECK_EQ(b.bytes, 29u * 500u);
  f.fin(0xB, 40);
  CHECK(!a.finSeen);
  CHECK_EQ(b.lost(), 11u);
}

TEST(session_capacity) {
  SessionTable t(2);
  Feeder f{t};
  CHECK_EQ(t.capacity(), size_t{2});
  // Two established senders (16 packets each: not evictable).
  f.range(1, 0, SessionTable::kEvictableBelow);
  f.range(2, 0, SessionTable::kEvictableBelow);
  CHECK(!f.data(3, 0));  // a third session does not fit
  CHECK_EQ(t.rejectedNewSessions(), 1u);
  CHECK(!f.data(3, 1));
  f.fin(4, 10);  // a FIN of an unknown session is bogus: it takes no place
  CHECK_EQ(t.bogusFins(), 1u);
  CHECK_EQ(t.rejectedNewSessions(), 2u);
  CHECK_EQ(t.size(), size_t{2});
  CHECK(f.data(1, 16));  // known sessions still count
  CHECK(f.data(2, 16));
  CHECK_EQ(t.at(0).unique + t.at(1).unique, 34u);
  CHECK_EQ(t.rejectedNewSessions(), 2u);
  CHECK_EQ(t.evictedSessions(), 0u);

  SessionTable none(0);
  Feeder f0{none};
  CHECK(!f0.data(1, 0));
  CHECK_EQ(none.rejectedNewSessions(), 1u);
  CHECK_EQ(none.size(), size_t{0});
}

// windowBits 6: the table remembers the 64 sequences maxSeq-63 .. maxSeq.
TEST(session_window_boundary) {
  SessionTable t(4, 6);
  Feeder f{t};
  f.range(1, 0, 200);  // maxSeq 199
  const SessionStats& s = t.at(0);
  f.data(1, 136);  // 199 - 136 = 63: still remembered, a duplicate
  CHECK_EQ(s.duplicates, 1u);
  CHECK_EQ(s.beyondWindow, 0u);
  CHECK_EQ(s.unique, 200u);
  f.data(1, 135);  // 64 behind: too old to tell; counted as a late unique packet
  CHECK_EQ(s.duplicates, 1u);
  CHECK_EQ(s.beyondWindow, 1u);
  CHECK_EQ(s.reordered, 1u);
  CHECK_EQ(s.reorderMaxExtent, 65u);  // NextExp 200 - 135
  CHECK_EQ(s.unique, 201u);
}

TEST(session_window_late_packets) {
  // 0..199 without 100 and 150; then 150 (49 behind: inside the window) and 100 (99 behind: beyond).
  SessionTable t(4, 6);
  Feeder f{t};
  for (uint64_t i = 0; i < 200; ++i)
    if (i != 100 && i != 150) f.data(1, i);
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.lost(), 2u);
  CHECK_EQ(s.gaps, 2u);
  f.data(1, 150);
  CHECK_EQ(s.reordered, 1u);
  CHECK_EQ(s.beyondWindow, 0u);
  CHECK_EQ(s.reorderMaxExtent, 50u);
  f.data(1, 150);  // the late one again: inside the window, so a duplicate
  CHECK_EQ(s.duplicates, 1u);
  f.data(1, 100);
  CHECK_EQ(s.beyondWindow, 1u);
  CHECK_EQ(s.reordered, 2u);
  CHECK_EQ(s.reorderMaxExtent, 100u);
  CHECK_EQ(s.unique, 200u);
  CHECK_EQ(s.lost(), 0u);
  CHECK_EQ(s.duplicates, 1u);
}

TEST(session_window_wraps_after_forward_jump) {
  // Jump smaller than the window: 0..63 fill the ring, then 100 arrives. The slots of 64..99 still
  // hold 0..35 and must be cleared, or the late 64..99 would look like duplicates.
  {
    SessionTable t(4, 6);
    Feeder f{t};
    f.range(1, 0, 64);
    f.data(1, 100);
    f.range(1, 64, 100);
    const SessionStats& s = t.at(0);
    CHECK_EQ(s.duplicates, 0u);
    CHECK_EQ(s.reordered, 36u);
    CHECK_EQ(s.beyondWindow, 0u);
    CHECK_EQ(s.unique, 101u);
    CHECK_EQ(s.lost(), 0u);
    f.range(1, 101, 300);  // wrapping the ring again and again in order
    CHECK_EQ(s.duplicates, 0u);
    CHECK_EQ(s.unique, 300u);
    f.data(1, 299);
    f.data(1, 236);  // 63 behind
    CHECK_EQ(s.duplicates, 2u);
  }
  // Jump of exactly 63 and exactly 64 (the two sides of the "clear everything" shortcut).
  for (uint64_t jump : {63u, 64u, 65u}) {
    SessionTable t(4, 6);
    Feeder f{t};
    f.range(1, 0, 64);               // maxSeq 63
    const uint64_t top = 63 + jump;  // gap of jump - 1 sequences
    f.data(1, top);
    f.range(1, 64, top);  // every one of them late
    const SessionStats& s = t.at(0);
    CHECK_EQ(s.duplicates, 0u);
    CHECK_EQ(s.unique, top + 1);
    CHECK_EQ(s.reordered, jump - 1);
    f.data(1, top - 63);  // oldest remembered: a duplicate
    CHECK_EQ(s.duplicates, 1u);
  }
  // Jump far beyond the window, then late packets inside the new window and more in order.
  {
    SessionTable t(4, 6);
    Feeder f{t};
    f.range(1, 0, 64);
    f.data(1, 1000);
    f.range(1, 950, 1000);  // 50..1 behind 1000
    f.range(1, 1001, 1101);
    const SessionStats& s = t.at(0);
    CHECK_EQ(s.duplicates, 0u);
    CHECK_EQ(s.reordered, 50u);
    CHECK_EQ(s.beyondWindow, 0u);
    CHECK_EQ(s.unique, 64u + 1u + 50u + 100u);
    CHECK_EQ(s.lost(), 1101u - s.unique);
    CHECK_EQ(s.gaps, 1u);
    f.data(1, 1100);
    f.data(1, 1037);  // 63 behind
    CHECK_EQ(s.duplicates, 2u);
    f.data(1, 1036);  // 64 behind
    CHECK_EQ(s.beyondWindow, 1u);
  }
  // windowBits 8 (four 64-bit words): a jump of 200 clears whole words at a time.
  {
    SessionTable t(4, 8);
    Feeder f{t};
    f.range(1, 0, 256);
    f.data(1, 455);
    f.range(1, 256, 455);
    const SessionStats& s = t.at(0);
    CHECK_EQ(s.duplicates, 0u);
    CHECK_EQ(s.reordered, 199u);
    CHECK_EQ(s.unique, 456u);
    f.data(1, 200);  // 255 behind 455: remembered
    CHECK_EQ(s.duplicates, 1u);
    f.data(1, 199);  // 256 behind: beyond
    CHECK_EQ(s.beyondWindow, 1u);
  }
}

// A straightforward model of the accounting (a std::set of every sequence ever received), used to
// check the ring-based table on long pseudo-random streams with jumps, late packets and duplicates.
struct Model {
  uint64_t window;
  bool started = false;
  uint64_t maxSeq = 0, firstSeq = 0;
  uint64_t unique = 0, duplicates = 0, reordered = 0, extent = 0, gaps = 0, beyond = 0;
  std::set<uint64_t> seen;
  void add(uint64_t seq) {
    if (!started) {
      started = true;
      maxSeq = firstSeq = seq;
    } else if (seq > maxSeq) {
      if (seq > maxSeq + 1) ++gaps;
      maxSeq = seq;
    } else if (maxSeq - seq >= window) {
      ++beyond;
      ++reordered;
      extent = std::max(extent, maxSeq + 1 - seq);
      firstSeq = std::min(firstSeq, seq);
      ++unique;
      seen.insert(seq);
      return;
    } else if (seen.count(seq)) {
      ++duplicates;
      return;
    } else {
      ++reordered;
      extent = std::max(extent, maxSeq + 1 - seq);
      firstSeq = std::min(firstSeq, seq);
    }
    ++unique;
    seen.insert(seq);
  }
};

TEST(session_window_matches_model_on_random_streams) {
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  auto next = [&rng] {  // xorshift64*
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
  };
  for (unsigned bits : {6u, 7u, 8u, 10u}) {
    const uint64_t window = uint64_t{1} << bits;
    SessionTable t(1, bits);
    Model m;
    m.window = window;
    uint64_t clock = kSecs, top = 0;
    int mismatches = 0;
    for (int i = 0; i < 20000 && mismatches < 5; ++i) {
      uint64_t r = next() % 100, seq;
      if (r < 60) seq = top + 1;                                                    // in order
      else if (r < 70) seq = top + 2 + next() % 8;                                  // small gap
      else if (r < 73) seq = top + 1 + next() % (3 * window);                       // jump around the window size
      else if (r < 88) seq = top - std::min<uint64_t>(top, next() % window);        // late or duplicate, inside
      else if (r < 93) seq = top - std::min<uint64_t>(top, next() % (2 * window));  // maybe beyond
      else seq = top;                                                               // duplicate of the newest
      top = std::max(top, seq);
      clock += kMs;
      t.record(data(1, seq, clock), kLen, clock, clock);
      m.add(seq);
      const SessionStats& s = t.at(0);
      if (s.unique != m.unique || s.duplicates != m.duplicates || s.reordered != m.reordered ||
          s.beyondWindow != m.beyond || s.gaps != m.gaps || s.maxSeq != m.maxSeq || s.firstSeq != m.firstSeq ||
          s.reorderMaxExtent != m.extent) {
        ++mismatches;
        fail(__FILE__, __LINE__,
             "windowBits " + std::to_string(bits) + " packet " + std::to_string(i) + " seq " + std::to_string(seq) +
                 ": table unique/dup/reord/beyond " + show(s.unique) + "/" + show(s.duplicates) + "/" +
                 show(s.reordered) + "/" + show(s.beyondWindow) + ", model " + show(m.unique) + "/" +
                 show(m.duplicates) + "/" + show(m.reordered) + "/" + show(m.beyond));
      }
    }
    CHECK(m.duplicates > 100 && m.reordered > 100 && m.beyond > 10 && m.gaps > 100);  // the stream did exercise them
  }
}

// RFC 3550 6.4.1 with packets sent every 1 ms. Transit delays (ns) 0, 1600, 0, 0, 3200 give
// D = 1600, -1600, 0, 3200 and J = J + (|D| - J) / 16:
//   J1 = 0 + 1600/16                          = 100
//   J2 = 100 + (1600 - 100)/16 = 100 + 93.75  = 193.75
//   J3 = 193.75 + (0 - 193.75)/16             = 181.640625
//   J4 = 181.640625 + (3200 - 181.640625)/16  = 370.2880859375
// (all exact in binary floating point).
void feedJitterPattern(SessionTable& t, uint64_t send0, uint64_t recv0) {
  const uint64_t delays[] = {0, 1600, 0, 0, 3200};
  for (uint64_t i = 0; i < 5; ++i) {
    uint64_t send = send0 + i * kMs;
    uint64_t recv = recv0 + i * kMs + delays[i];
    t.record(data(1, i, send), kLen, recv, recv);
  }
}

TEST(session_jitter_rfc3550) {
  SessionTable t;
  // Small stamps (a clock that started at 1 s), with a constant offset between sender and receiver
  // clocks of 250 us, which jitter must not see.
  feedJitterPattern(t, 1 * kSecs, 1 * kSecs + 250000);
  CHECK_EQ(t.at(0).jitterNs, 370.2880859375);

  // Constant transit: no jitter at all.
  SessionTable t2;
  for (uint64_t i = 0; i < 50; ++i) t2.record(data(1, i, kSecs + i * kMs), kLen, 2 * kSecs + i * kMs, 1);
  CHECK_EQ(t2.at(0).jitterNs, 0.0);

  // A duplicate does not move the estimate; a reordered packet does, in arrival order.
  SessionTable t3;
  t3.record(data(1, 0, kSecs), kLen, kSecs + 1000, 1);
  t3.record(data(1, 2, kSecs + 2 * kMs), kLen, kSecs + 1 * kMs + 1000, 1);  // D = 1ms - 2ms = -1 ms
  t3.record(data(1, 2, kSecs + 2 * kMs), kLen, kSecs + 9 * kMs, 1);         // duplicate: ignored
  CHECK_EQ(t3.at(0).jitterNs, 62500.0);                                     // 1e6 / 16
  t3.record(data(1, 1, kSecs + 1 * kMs), kLen, kSecs + 2 * kMs + 1000, 1);  // D = 1 ms - (-1 ms) = 2 ms
  CHECK_EQ(t3.at(0).jitterNs, 62500.0 + (2e6 - 62500.0) / 16);              // 183593.75
}

// The same pattern with CLOCK_REALTIME-sized stamps (what the receiver really records: ns since the
// epoch, ~1.7e18, above 2^53 where a double no longer holds every integer). record() must take the
// differences in integers first; converting the raw stamps to double rounded D to 256 ns steps.
TEST(session_jitter_epoch_scale) {
  SessionTable t;
  const uint64_t send0 = 1700000000000000123ull;  // 2023-11-14, not a multiple of 256
  feedJitterPattern(t, send0, send0 + 250077);
  CHECK_EQ(t.at(0).jitterNs, 370.2880859375);
}

// =================================================================================================
// LatencyHistogram: HdrHistogram's layout (1 ns, 3 digits, 60 s)
// =================================================================================================

TEST(histogram_layout_matches_hdr) {
  using H = mcbench::LatencyHistogram;
  CHECK_EQ(H::kCountsLength, size_t{27648});  // (26 + 1) * 1024, as HdrHistogram computes it
  // Values below 2048 have unit resolution: each its own bucket.
  for (uint64_t v = 0; v < 2048; ++v) CHECK_EQ(H::valueAt(H::indexOf(v)), v);
  // Hand-checked points: 2048 starts bucket 1 (resolution 2), 4096 bucket 2 (resolution 4).
  CHECK_EQ(H::indexOf(2048), size_t{2048});
  CHECK_EQ(H::indexOf(2049), size_t{2048});
  CHECK_EQ(H::indexOf(2050), size_t{2049});
  CHECK_EQ(H::indexOf(4096), size_t{3072});
  CHECK_EQ(H::valueAt(3072), 4096u);
  // Everywhere up to 60 s: the bucket's lowest value is <= v, the next bucket's is > v, and the
  // bucket is narrower than 1/1024 of its value (3 significant digits).
  for (uint64_t v = 1; v <= H::kHighestTrackable; v = v * 1.013 + 1) {
    size_t i = H::indexOf(v);
    CHECK(i < H::kCountsLength);
    CHECK(H::valueAt(i) <= v);
    CHECK(H::valueAt(i + 1) > v);
    CHECK((H::valueAt(i + 1) - H::valueAt(i)) * 1024 <= std::max<uint64_t>(v, 2048));
  }
  CHECK(H::indexOf(H::kHighestTrackable) < H::kCountsLength);
}

TEST(histogram_record_stats_and_clamp) {
  mcbench::LatencyHistogram h;
  h.record(5000000);         // 5 ms
  h.record(50000000);        // 50 ms
  h.record(61000000000ull);  // above 60 s: clamped, counted
  CHECK_EQ(h.total(), 3u);
  CHECK_EQ(h.min(), 5000000u);
  CHECK_EQ(h.max(), 60000000000u);
  CHECK_EQ(h.aboveRange(), 1u);
  CHECK_EQ(h.count(mcbench::LatencyHistogram::indexOf(5000000)), 1u);
  CHECK_EQ(h.sum(), 5000000u + 50000000u + 60000000000u);
}

TEST(igmp_checksum_known_answers) {
  // IGMPv2 general query, Max Resp 10 (1 s): 11 0a 00 00 00 00 00 00 -> ~0x110a = 0xeef5
  const uint8_t q[8] = {0x11, 0x0a, 0, 0, 0, 0, 0, 0};
  CHECK_EQ(mcbench::internetChecksum(q, 8), uint16_t{0xeef5});
  // RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d
  const uint8_t rfc[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK_EQ(mcbench::internetChecksum(rfc, 8), uint16_t{0x220d});
  // A message with its checksum filled in sums to zero
  uint8_t filled[8] = {0x11, 0x0a, 0xee, 0xf5, 0, 0, 0, 0};
  CHECK_EQ(mcbench::internetChecksum(filled, 8), uint16_t{0});
}

TEST(mld_general_query_bytes) {
  // RFC 3810 5.1: type 130, code 0, checksum (the kernel's), Maximum Response Code 1500 ms,
  // reserved, :: (general), Resv/S/QRV = 2, QQIC 125, 0 sources: 28 bytes.
  uint8_t q[28];
  std::memset(q, 0xee, sizeof q);
  CHECK_EQ(mcbench::buildMldGeneralQuery(q, 2, 1500), size_t{28});
  const uint8_t v2[28] = {130, 0, 0, 0, 0x05, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0};
  CHECK(std::memcmp(q, v2, sizeof v2) == 0);
  // RFC 2710 3: the same first 24 bytes with the Maximum Response Delay in ms, nothing after.
  uint8_t q1[28];
  std::memset(q1, 0xee, sizeof q1);
  CHECK_EQ(mcbench::buildMldGeneralQuery(q1, 1, 500), size_t{24});
  const uint8_t v1[24] = {130, 0, 0, 0, 0x01, 0xf4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(std::memcmp(q1, v1, sizeof v1) == 0);
  CHECK_EQ(q1[24], uint8_t{0xee});  // untouched past the message
}

TEST(ssm_router_igmpv3_query_and_classify) {
  // RFC 3376 4.1: 11, Max Resp Code 10, checksum, group 0, Resv/S/QRV = 2, QQIC 5, 0 sources;
  // by hand: 0x110a + 0x0205 = 0x130f, checksum ~0x130f = 0xecf0.
  uint8_t q[12];
  mcbench::buildIgmpV3GeneralQuery(q, 10, 5);
  const uint8_t want[12] = {0x11, 0x0a, 0xec, 0xf0, 0, 0, 0, 0, 0x02, 0x05, 0, 0};
  CHECK(std::memcmp(q, want, sizeof want) == 0);
  CHECK(mcbench::classifyIgmp(q, sizeof q) == mcbench::IgmpKind::Query);
  // IGMPv2 report for 232.1.1.1: 0x1600 + 0xe801 + 0x0101 = 0xff02, checksum 0x00fd: SSM, no source
  const uint8_t v2ssm[8] = {0x16, 0, 0x00, 0xfd, 232, 1, 1, 1};
  CHECK(mcbench::classifyIgmp(v2ssm, 8) == mcbench::IgmpKind::V1V2Ssm);
  // IGMPv2 report for 239.1.1.1: 0x1600 + 0xef01 + 0x0101 = 0x10602 -> 0x0603, checksum 0xf9fc
  const uint8_t v2asm[8] = {0x16, 0, 0xf9, 0xfc, 239, 1, 1, 1};
  CHECK(mcbench::classifyIgmp(v2asm, 8) == mcbench::IgmpKind::V1V2Other);
  // a wrong checksum or a short message is malformed, never a report
  const uint8_t forged[8] = {0x16, 0, 0x00, 0xfe, 232, 1, 1, 1};
  CHECK(mcbench::classifyIgmp(forged, 8) == mcbench::IgmpKind::Malformed);
  CHECK(mcbench::classifyIgmp(v2ssm, 7) == mcbench::IgmpKind::Malformed);
  // IGMPv3 report, no records: 0x2200, checksum 0xddff
  const uint8_t v3[8] = {0x22, 0, 0xdd, 0xff, 0, 0, 0, 0};
  CHECK(mcbench::classifyIgmp(v3, 8) == mcbench::IgmpKind::V3Report);
}

// =================================================================================================
// Pacer
// =================================================================================================

TEST(pacer_1000pps) {
  const uint64_t start = 5 * kSecs;
  Pacer p(1000, start);
  CHECK(!p.unlimited());
  CHECK_EQ(p.dueCount(start, 0), 1u);  // packet 0 is due at once
  CHECK_EQ(p.dueCount(start + kMs - 1, 0), 1u);
  CHECK_EQ(p.dueCount(start + kMs, 0), 2u);
  CHECK_EQ(p.dueCount(start + kMs, 1), 1u);
  CHECK_EQ(p.dueCount(start + kMs, 2), 0u);
  CHECK_EQ(p.dueCount(start + kMs, 5), 0u);  // sent more than due: nothing, no wrap-around
  CHECK_EQ(p.dueCount(start - 1, 0), 0u);    // before the start
  CHECK_EQ(p.dueCount(start + kSecs, 0), 1001u);
  CHECK_EQ(p.dueCount(start + kSecs, 990), 11u);  // behind schedule: the backlog is due
  CHECK_EQ(p.dueNs(0), start);
  CHECK_EQ(p.dueNs(1), start + kMs);
  CHECK_EQ(p.dueNs(1000), start + kSecs);
  CHECK_EQ(p.dueNs(3600000), start + 3600 * kSecs);
}

TEST(pacer_unlimited_and_fractional_rates) {
  CHECK(Pacer(0, 0).unlimited());
  CHECK(Pacer(-1, 0).unlimited());
  // 3 pps: packet 1 is due at 333333333.33 ns -> 333333333 (truncated); packet 3 at exactly 1 s.
  Pacer p(3, 0);
  CHECK_EQ(p.dueNs(1), 333333333u);
  CHECK_EQ(p.dueNs(3), kSecs);
  CHECK_EQ(p.dueCount(333333333, 1), 0u);  // 0.999999999 packets elapsed: not yet
  CHECK_EQ(p.dueCount(333333334, 1), 1u);
  CHECK_EQ(p.dueCount(kSecs, 0), 4u);
  // 2.5 pps: 400 ms apart.
  Pacer q(2.5, 100);
  CHECK_EQ(q.dueNs(5), 100 + 2 * kSecs);
  CHECK_EQ(q.dueCount(100 + 2 * kSecs, 0), 6u);
}

// The sender computes its lateness as now - dueNs(seq) whenever dueCount(now, seq) > 0, in unsigned
// arithmetic: a packet must never be due before its dueNs(), and must be due right after it.
TEST(pacer_schedule_is_consistent) {
  const double rates[] = {1, 3, 7, 1000, 12345.678, 333333.3, 1e6, 2.5e6, 14880952.38};
  const uint64_t start = 123456789;
  int reported = 0;
  for (double pps : rates) {
    Pacer p(pps, start);
    for (uint64_t seq = 0; seq < 20000; ++seq) {
      uint64_t due = p.dueNs(seq);
      bool ok = (seq == 0 || p.dueCount(due - 1, seq) == 0) && p.dueCount(due + 1, seq) >= 1 &&
                (seq == 0 || p.dueNs(seq - 1) <= due);
      ++g_checks;
      if (!ok && reported++ < 5)
        fail(__FILE__, __LINE__, "pps " + show(pps) + " seq " + show(seq) + " due " + show(due));
    }
  }
}

// --burst / --isochronous: unit k is due at start + k / rate, exactly the Pacer's arithmetic.
TEST(pattern_unit_schedule) {
  using mcbench::unitDueNs;
  CHECK_EQ(unitDueNs(100, 10, 0), 100u);
  CHECK_EQ(unitDueNs(100, 10, 1), 100 + 100 * kMs);
  CHECK_EQ(unitDueNs(0, 60, 60), kSecs);
  CHECK_EQ(unitDueNs(0, 60, 1), 16666666u);  // 16.67 ms truncated
  CHECK_EQ(unitDueNs(0, 0.5, 3), 6 * kSecs);
}

// Frame sizes: the log-normal's own mean and standard deviation are the ones asked for (checked
// over 200,000 draws), the same seed gives the same sizes, another seed others, 0 stddev the mean.
TEST(frame_sizer_lognormal_moments_and_seed) {
  using mcbench::FrameSizer;
  const double mean = 4166.67, sd = 1041.67;  // 60:2M,0.5M
  FrameSizer a(mean, sd, 7), b(mean, sd, 7), c(mean, sd, 8);
  double sum = 0, sum2 = 0;
  bool same = true, differs = false;
  uint64_t lo = UINT64_MAX;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const uint64_t x = a.next();
    same = same && x == b.next();
    differs = differs || x != c.next();
    lo = std::min(lo, x);
    sum += static_cast<double>(x);
    sum2 += static_cast<double>(x) * static_cast<double>(x);
  }
  const double m = sum / n, v = sum2 / n - m * m;
  CHECK(same);
  CHECK(differs);
  CHECK(lo >= 1);
  CHECK(std::fabs(m - mean) / mean < 0.01);
  CHECK(std::fabs(std::sqrt(v) - sd) / sd < 0.03);
  FrameSizer flat(1500.4, 0, 3);
  CHECK_EQ(flat.next(), 1500u);
  CHECK_EQ(flat.next(), 1500u);
  FrameSizer huge(1e12, 0, 3);  // capped
  CHECK_EQ(huge.next(), FrameSizer::kMaxFrameBytes);
}

// ---- StallDetector (issue 9 item 3) -----------------------------------------------------------
// Arrivals are fed with hand-chosen stamps; every expected stall is read off the schedule.
TEST(stall_detector_locates_silences) {
  using mcbench::StallDetector;
  const uint64_t ms = 1000000;
  StallDetector d;  // automatic: max(50 ms, 20 x median)
  uint64_t t = 1000 * ms, seq = 0;
  for (int i = 0; i < 300; ++i) d.arrival(t += 2 * ms, 7, seq++);  // 500 pps: median 2 ms
  CHECK_EQ(d.size(), size_t{0});
  CHECK(d.thresholdNs() == 50 * ms);  // 20 x 2 ms = 40 ms < the 50 ms floor
  CHECK(d.medianGapNs() >= 2 * ms * 15 / 16 && d.medianGapNs() <= 2 * ms * 17 / 16);
  const uint64_t before = t;
  d.arrival(t += 1000 * ms, 7, seq += 40);  // a 1 s silence across which 40 sequences went missing
  for (int i = 0; i < 100; ++i) d.arrival(t += 2 * ms, 7, ++seq);
  d.arrival(t += 6150 * ms, 7, ++seq);  // 6.15 s must read 6.15 s, not a rounded 5
  d.arrival(t += 49 * ms, 7, ++seq);    // just below the threshold: no stall
  CHECK_EQ(d.size(), size_t{2});
  CHECK(d.at(0).startNs == before);
  CHECK(d.at(0).endNs - d.at(0).startNs == 1000 * ms);
  CHECK(d.at(0).seqBefore == 299 && d.at(0).seqAfter == 340);
  CHECK(d.at(1).endNs - d.at(1).startNs == 6150 * ms);
  CHECK(d.lastNs() == t && d.lastSeq() == seq);
  CHECK(d.firstNs() == 1002 * ms);
}

TEST(stall_detector_baseline_fixed_threshold_and_overflow) {
  using mcbench::StallDetector;
  const uint64_t ms = 1000000;
  // A 10 pps stream's first gaps (100 ms) are no stalls while there is no baseline yet, nor after
  // (20 x 100 ms = 2 s is the threshold then).
  StallDetector slow;
  uint64_t t = 5 * ms;
  for (uint64_t s = 0; s < 50; ++s) slow.arrival(t += 100 * ms, 1, s);
  CHECK_EQ(slow.size(), size_t{0});
  CHECK(slow.thresholdNs() >= 2000 * ms * 15 / 16 && slow.thresholdNs() <= 2000 * ms * 17 / 16);
  // --stall 0.1: fixed; 70 stalls fill the 64-entry list, 6 are counted past it.
  StallDetector fixed(100 * ms);
  t = 0;
  uint64_t s = 0;
  fixed.arrival(t, 1, s++);
  for (int i = 0; i < 70; ++i) {
    fixed.arrival(t += 150 * ms, 1, s++);
    fixed.arrival(t += 1 * ms, 1, s++);
  }
  CHECK_EQ(fixed.size(), StallDetector::kCapacity);
  CHECK(fixed.overflow() == 6);
  CHECK(fixed.thresholdNs() == 100 * ms);
  // A stamp earlier than the last is no gap and does not move the last arrival back.
  StallDetector back(100 * ms);
  back.arrival(1000 * ms, 1, 0);
  back.arrival(900 * ms, 1, 1);
  back.arrival(1050 * ms, 1, 2);
  CHECK_EQ(back.size(), size_t{0});
  CHECK(back.lastNs() == 1050 * ms);
}

TEST(stall_detector_buckets_bound_values) {
  using mcbench::StallDetector;
  // Every value falls in a bucket whose middle is within 1/16 of it (8 buckets per octave).
  for (uint64_t v : {uint64_t{9}, uint64_t{1000}, uint64_t{123456789}, uint64_t{1} << 40, UINT64_MAX}) {
    size_t b = StallDetector::bucketOf(v);
    CHECK(b < StallDetector::kBuckets);
    uint64_t mid = StallDetector::bucketMid(b);
    uint64_t diff = mid > v ? mid - v : v - mid;
    CHECK(diff <= v / 16 + 1);
  }
  for (uint64_t v = 0; v < 8; ++v) CHECK(StallDetector::bucketMid(StallDetector::bucketOf(v)) == v);
}

// ---- issue 9 (sessions, wire v2, stamps) ---------------------------------------------------------

TEST(wire_v2_layout_and_round_trip) {
  // A v2 header written byte by byte: v1's 32 bytes with version 2 and header length 48, then the
  // session start and the actual send time.
  std::vector<uint8_t> b = handMadeHeader(1, 48, 100);
  b[4] = 2;
  const uint8_t ext[16] = {0x17, 0x97, 0x9C, 0xFE, 0x36, 0x2A, 0x00, 0x01,   // start 1700000000000000001
                           0x17, 0x97, 0x9C, 0xFE, 0x36, 0x2A, 0x00, 0x02};  // actual ...002
  std::memcpy(b.data() + 32, ext, 16);
  Header out;
  CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::Ok);
  CHECK_EQ(unsigned{out.version}, 2u);
  CHECK_EQ(out.startNs, 1700000000000000001ull);
  CHECK_EQ(out.actualNs, 1700000000000000002ull);
  CHECK_EQ(out.sendNs, 1700000000000000000ull);
  // encode() writes the same bytes.
  Header h{
      Kind::Data, 0x0102030405060708ull, 1000, 1700000000000000000ull, 1700000000000000001ull, 1700000000000000002ull,
      2};
  uint8_t enc[48];
  wire::encode(enc, h);
  CHECK(std::memcmp(enc, b.data(), 48) == 0);
  // v2 may not be shorter than its 48 bytes; v1 leaves the v2 fields unknown (0).
  b[7] = 32;
  CHECK_EQ(wire::decode(b.data(), b.size(), out), DecodeResult::BadHeaderLen);
  std::vector<uint8_t> v1 = handMadeHeader(1, 32, 32);
  CHECK_EQ(wire::decode(v1.data(), v1.size(), out), DecodeResult::Ok);
  CHECK_EQ(unsigned{out.version}, 1u);
  CHECK_EQ(out.startNs, 0u);
  CHECK_EQ(out.actualNs, 0u);
}

TEST(session_crafted_jumps_are_ignored_and_counted) {
  SessionTable t;
  Feeder f{t};
  // A real stream 0..99 with crafted packets of the same session in between: jumps of exactly
  // 2^20, of 2^63 and to the largest sequence. None may move the accounting.
  for (uint64_t i = 0; i < 100; ++i) {
    f.data(1, i);
    const uint64_t crafted[] = {i + (uint64_t{1} << 20), i + (uint64_t{1} << 63), UINT64_MAX};
    if (i % 10 == 5) f.data(1, crafted[(i / 10) % 3]);
  }
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.unique, 100u);
  CHECK_EQ(s.maxSeq, 99u);
  CHECK_EQ(s.expected(), 100u);
  CHECK_EQ(s.lost(), 0u);
  CHECK_EQ(s.seqJumps, 10u);
  CHECK_EQ(s.gaps, 0u);
  CHECK(f.fin(1, 100));
  CHECK(s.finSeen);
  CHECK_EQ(s.lost(), 0u);
}

TEST(session_real_long_outage_is_confirmed_by_the_next_packet) {
  SessionTable t;
  Feeder f{t};
  f.range(1, 0, 10);
  const uint64_t back = uint64_t{1} << 21;  // 2M packets lost (a 2 s outage at 1 Mpps)
  f.range(1, back, back + 10);
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.seqJumps, 0u);
  CHECK_EQ(s.unique, 20u);
  CHECK_EQ(s.maxSeq, back + 9);
  CHECK_EQ(s.gaps, 1u);
  CHECK_EQ(s.expected(), back + 10);
  CHECK_EQ(s.lost(), back - 10);
}

TEST(session_sequences_near_2_64) {
  SessionTable t;
  Feeder f{t};
  f.range(1, UINT64_MAX - 4, UINT64_MAX);
  f.data(1, UINT64_MAX);
  const SessionStats& s = t.at(0);
  CHECK_EQ(s.unique, 5u);
  CHECK_EQ(s.maxSeq, UINT64_MAX);
  CHECK_EQ(s.expected(), 5u);  // not 0 (maxSeq + 1 wraps)
  CHECK_EQ(s.lost(), 0u);
  f.data(1, UINT64_MAX);  // a duplicate of the top one
  CHECK_EQ(s.duplicates, 1u);
  f.fin(1, 0);  // no total can cover 2^64 - 1: bogus
  CHECK(!s.finSeen);
  CHECK_EQ(t.bogusFins(), 1u);
  // The saturating count: a span of the whole 64-bit range.
  SessionStats w;
  w.started = true;
  w.headCounted = true;
  w.maxSeq = UINT64_MAX;
  CHECK_EQ(w.expected(), UINT64_MAX);
}

TEST(session_fin_rules) {
  SessionTable t;
  Feeder f{t};
  const uint64_t srcA = (uint64_t{0x0A000001} << 16) | 5001, srcB = (uint64_t{0x0A000001} << 16) | 5002;
  for (uint64_t i = 0; i < 100; ++i) {
    f.clock += kMs;
    t.record(data(1, i, f.clock), kLen, f.clock, f.clock, srcA);
  }
  const SessionStats& s = t.at(0);
  auto finFrom = [&](uint64_t total, uint64_t src, uint64_t after = kMs) {
    f.clock += after;
    return t.record(fin(1, total), 48, f.clock, f.clock, src);
  };
  CHECK_EQ(finFrom(120, srcB), SessionTable::Outcome::Ignored);  // another port
  CHECK_EQ(finFrom(99, srcA), SessionTable::Outcome::Ignored);   // below highest seq + 1
  // 1 ms after the last packet a sender can have sent at most (1 ms + 1 s slack) x 100 Mpps.
  CHECK_EQ(couldHaveSent(kMs), 100100000u);
  const uint64_t allowed = couldHaveSent(f.clock - s.lastRecvNs);  // 2 ms after: 100,200,000
  CHECK_EQ(allowed, 100200000u);
  CHECK_EQ(finFrom(100 + allowed + 1, srcA, 0), SessionTable::Outcome::Ignored);
  CHECK_EQ(finFrom(uint64_t{1} << 63, srcA), SessionTable::Outcome::Ignored);
  CHECK(!s.finSeen);
  CHECK_EQ(t.bogusFins(), 4u);
  CHECK_EQ(finFrom(100, srcA), SessionTable::Outcome::Fin);  // the real one: nothing lost
  CHECK(s.finSeen);
  CHECK_EQ(s.lost(), 0u);
  CHECK_EQ(finFrom(100, 0), SessionTable::Outcome::Fin);  // unknown source: not checked
  CHECK_EQ(s.finsReceived, 2u);
}

TEST(session_head_counted_or_not_expected) {
  const uint64_t listen = 1700000000 * kSecs;
  // The receiver listened before the session started: seq 0..436 were sent to it and lost (the
  // field case of seed 002: "0/563 lost" next to "sender sent 1,000").
  {
    SessionTable t;
    t.setListeningSince(listen);
    const uint64_t start = listen + kSecs;
    for (uint64_t i = 437; i < 1000; ++i) {
      Header h{Kind::Data, 1, i, start + i * kMs, start, start + i * kMs, 2};
      t.record(h, kLen, start + i * kMs + 100000, 1);
    }
    const SessionStats& s = t.at(0);
    CHECK(s.headCounted);
    CHECK(!s.joinedAfterStart);
    CHECK_EQ(s.notExpected(), 0u);
    CHECK_EQ(s.unique, 563u);
    CHECK_EQ(s.expected(), 1000u);
    CHECK_EQ(s.lost(), 437u);
  }
  // It joined after the stream began: the head was never expected, and is reported apart.
  {
    SessionTable t;
    t.setListeningSince(listen);
    const uint64_t start = listen - 10 * kSecs;
    for (uint64_t i = 437; i < 1000; ++i) {
      Header h{Kind::Data, 1, i, start + i * kMs, start, start + i * kMs, 2};
      t.record(h, kLen, start + i * kMs + 100000, 1);
    }
    const SessionStats& s = t.at(0);
    CHECK(!s.headCounted);
    CHECK(s.joinedAfterStart);
    CHECK_EQ(s.notExpected(), 437u);
    CHECK_EQ(s.expected(), 563u);
    CHECK_EQ(s.lost(), 0u);
  }
  // A v1 sender (no start time): loss counts from the first sequence seen, as before.
  {
    SessionTable t;
    t.setListeningSince(listen);
    Feeder f{t, listen + kSecs};
    f.range(1, 437, 1000);
    CHECK(!t.at(0).headCounted);
    CHECK_EQ(t.at(0).expected(), 563u);
  }
  // A head longer than the sender could have sent since its start is not believed.
  {
    SessionTable t;
    t.setListeningSince(listen);
    Header h{Kind::Data, 1, uint64_t{1} << 40, listen + kSecs, listen + kSecs, listen + kSecs, 2};
    t.record(h, kLen, listen + kSecs + kMs, 1);
    CHECK(!t.at(0).headCounted);
    CHECK_EQ(t.at(0).expected(), 1u);
  }
}

TEST(session_junk_flood_does_not_lock_out_a_real_sender) {
  SessionTable t(32);
  Feeder f{t};
  for (uint64_t id = 1000; id < 1040; ++id) f.data(id, 0);  // 40 made-up session ids, 1 packet each
  CHECK_EQ(t.size(), size_t{32});
  CHECK_EQ(t.evictedSessions(), 8u);
  for (uint64_t i = 0; i < 1000; ++i) CHECK(f.data(7, i));  // a real sender after the flood
  CHECK(f.fin(7, 1000));
  const SessionStats* real = nullptr;
  for (size_t i = 0; i < t.size(); ++i)
    if (t.at(i).session == 7) real = &t.at(i);
  CHECK(real != nullptr);
  if (real) {
    CHECK_EQ(real->unique, 1000u);
    CHECK_EQ(real->lost(), 0u);
    CHECK(real->finSeen);
  }
  CHECK_EQ(t.evictedSessions(), 9u);
  CHECK_EQ(t.rejectedNewSessions(), 0u);
  // More junk now evicts junk only: the established sender stays.
  for (uint64_t id = 2000; id < 2100; ++id) f.data(id, 0);
  bool stillThere = false;
  for (size_t i = 0; i < t.size(); ++i) stillThere |= t.at(i).session == 7 && t.at(i).unique == 1000;
  CHECK(stillThere);
}

TEST(session_implausible_stamps_are_counted_and_kept_out_of_jitter) {
  SessionTable t;
  const uint64_t recv0 = 1700000000 * kSecs;
  // Constant transit (no jitter) with garbage stamps in between: 0, INT64_MIN, 2^64 - 1, +-2 h.
  const uint64_t junk[] = {0, uint64_t{1} << 63, UINT64_MAX, recv0 - 7200 * kSecs, recv0 + 7200 * kSecs};
  uint64_t seq = 0;
  for (uint64_t i = 0; i < 50; ++i) {
    uint64_t recv = recv0 + i * kMs;
    t.record(data(1, seq++, recv - 250000), kLen, recv, 1);
    if (i % 10 == 3) t.record(data(1, seq++, junk[i / 10]), kLen, recv + 1000, 1);
  }
  CHECK_EQ(t.implausibleStamps(), 5u);
  CHECK_EQ(t.at(0).jitterNs, 0.0);
  CHECK_EQ(t.at(0).unique, 55u);  // the packets still count
  CHECK(wire::plausibleStamp(recv0 + 3600 * kSecs, recv0));
  CHECK(!wire::plausibleStamp(recv0 + 3600 * kSecs + 1, recv0));
  CHECK(!wire::plausibleStamp(recv0 - 3600 * kSecs - 1, recv0));
}

TEST(session_data_from_another_source_is_ignored_and_counted) {
  SessionTable t;
  const uint64_t real = (uint64_t{0x0a000002} << 16) | 5001, forger = (uint64_t{0x0a000009} << 16) | 5001;
  uint64_t clock = 1 * kSecs;
  auto rec = [&](uint64_t seq, uint64_t src) {
    clock += kMs;
    return t.record(data(7, seq, clock), kLen, clock, clock, src);
  };
  for (uint64_t i = 0; i < 100; ++i) rec(i, real);
  // A forged packet just below the jump limit (would fake ~1M lost) and one far below.
  CHECK(rec(99 + (uint64_t{1} << 20) - 1, forger) == SessionTable::Outcome::Ignored);
  CHECK(rec(3, forger) == SessionTable::Outcome::Ignored);
  for (uint64_t i = 100; i < 200; ++i) CHECK(rec(i, real) == SessionTable::Outcome::Unique);
  CHECK_EQ(t.foreignSourceData(), 2u);
  CHECK_EQ(t.at(0).maxSeq, 199u);
  CHECK_EQ(t.at(0).lost(), 0u);
  CHECK_EQ(t.at(0).reordered, 0u);
  CHECK_EQ(t.at(0).duplicates, 0u);
  // The real FIN still counts (the forged packet did not raise the highest sequence).
  clock += kMs;
  CHECK(t.record(fin(7, 200), 32, clock, clock, real) == SessionTable::Outcome::Fin);
}

TEST(session_flood_of_established_junk_goes_once_silent) {
  // 32 made-up ids of 16 packets each fill the table with sessions too big to evict by count;
  // once they have been silent for kEvictableIdleNs, a real sender gets in and is counted in full.
  SessionTable t(32);
  Feeder f{t};
  for (uint64_t id = 1000; id < 1032; ++id) f.range(id, 0, SessionTable::kEvictableBelow);
  CHECK_EQ(t.size(), size_t{32});
  CHECK(!f.data(7, 0));  // rejected while the junk is fresh
  f.clock += SessionTable::kEvictableIdleNs;
  for (uint64_t i = 0; i < 1000; ++i) CHECK(f.data(7, i));
  bool counted = false;
  for (size_t i = 0; i < t.size(); ++i)
    counted |= t.at(i).session == 7 && t.at(i).unique == 1000 && t.at(i).firstSeq == 0;
  CHECK(counted);
  CHECK_EQ(t.evictedSessions(), 1u);
}

// ---- end issue 9 (sessions)

// ---- issue 13 (lighter receiver: the --verify-payload pattern)

TEST(wire_payload_pattern_is_splitmix64_of_session_and_word_offset) {
  // Word k is splitmix64(session + k * golden): session 0 gives the published splitmix64 stream
  // of seed 0 (k = 1, 2: its first two outputs), written big-endian.
  CHECK_EQ(wire::payloadWord(0, 1), 0xE220A8397B1DCDAFull);
  CHECK_EQ(wire::payloadWord(0, 2), 0x6E789E6AA1B965F4ull);
  std::vector<uint8_t> b = handMadeHeader(1, 32, 61);  // v1 header, 29 payload bytes (a short last word)
  const std::vector<uint8_t> header(b.begin(), b.begin() + 32);
  const uint64_t session = 0x0102030405060708ull;
  wire::fillPayload(b.data(), 32, b.size(), session);
  CHECK(std::equal(header.begin(), header.end(), b.begin()));  // the header is left as it is
  for (size_t off = 32; off < b.size(); ++off) {
    const uint64_t w = wire::payloadWord(session, off / 8);
    CHECK_EQ(b[off], static_cast<uint8_t>(w >> (8 * (7 - off % 8))));
  }
  CHECK(wire::payloadOk(b.data(), 32, b.size(), session));
  CHECK(!wire::payloadOk(b.data(), 32, b.size(), session + 1));  // another session's pattern
  // the short last word
  b[60] ^= 1;
  CHECK(!wire::payloadOk(b.data(), 32, b.size(), session));
  b[60] ^= 1;
  b[40] = 0;
  CHECK(!wire::payloadOk(b.data(), 32, b.size(), session));
  CHECK(wire::payloadOk(b.data(), 32, 32, session));  // no payload: nothing to differ
}

// ---- issue 13 (UDP GSO sender)

mcbench::SenderConfig gsoConfig(uint16_t port, uint32_t len, uint32_t segs) {
  mcbench::SenderConfig c;
  c.socket.group = parseIpAddress("127.0.0.1");  // unicast on loopback: nothing leaves the host
  c.socket.port = port;
  c.payloadLen = len;
  c.gsoSegments = segs;
  c.count = 1001;  // not a multiple of segs x batch: the last message of the last call is short
  c.finCount = 1;
  c.finSpacingNs = 0;
  return c;
}

bool constructionFails(const mcbench::SenderConfig& c) {
  try {
    mcbench::Sender s(c);
  } catch (const mcbench::SystemError&) { return true; }
  return false;
}

TEST(sender_gso_rejects_sends_larger_than_one_udp_datagram) {
  CHECK(constructionFails(gsoConfig(9, 1400, 65)));  // more than UDP_MAX_SEGMENTS (64)
  CHECK(constructionFails(gsoConfig(9, 1400, 47)));  // 65,800 bytes > 65,507
  CHECK(!constructionFails(gsoConfig(9, 1400, 46)));
  CHECK(!constructionFails(gsoConfig(9, 1023, 64)));  // 65,472 bytes
  CHECK(constructionFails(gsoConfig(9, 1024, 64)));   // 65,536 bytes
}

TEST(sender_gso_each_segment_is_a_whole_datagram_with_its_own_sequence) {
  // A receiving socket on 127.0.0.1 (an ephemeral port): what the kernel cut from the GSO sends.
  int rx = socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(rx >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t alen = sizeof a;
  CHECK_EQ(getsockname(rx, reinterpret_cast<sockaddr*>(&a), &alen), 0);
  int big = 4 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  timeval tv{0, 500000};
  setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  mcbench::SenderConfig c = gsoConfig(ntohs(a.sin_port), 200, 8);
  c.batch = 4;    // 32 datagrams per call
  c.pps = 20000;  // paced: a burst is at most one GSO send
  {
    mcbench::Sender s(c);
    s.start(nullptr);
    for (int i = 0; i < 5000 && !s.snapshot().done; ++i) usleep(1000);  // count reached, FIN sent
    CHECK(s.snapshot().done);
    mcbench::SenderSnapshot snap = s.snapshot();
    CHECK_EQ(snap.sent, 1001u);
    CHECK_EQ(snap.gsoSegments, 8u);
    CHECK_EQ(snap.error.err, 0);
  }
  std::set<uint64_t> seqs;
  size_t data = 0, fins = 0, wrongLength = 0, badPayload = 0;
  uint8_t buf[2048];
  for (;;) {
    ssize_t n = recv(rx, buf, sizeof buf, 0);
    if (n < 0) break;
    wire::Header h;
    if (wire::decode(buf, static_cast<size_t>(n), h) != wire::DecodeResult::Ok) continue;
    if (h.kind == wire::Kind::Fin) {
      ++fins;
      CHECK_EQ(h.seq, 1001u);
      continue;
    }
    ++data;
    if (n != 200) ++wrongLength;
    if (!wire::payloadOk(buf, wire::kHeaderLenV2, static_cast<size_t>(n), h.session)) ++badPayload;
    seqs.insert(h.seq);
  }
  close(rx);
  CHECK_EQ(badPayload, 0u);  // every segment carries the --verify-payload pattern after its header
  CHECK_EQ(data, 1001u);
  CHECK_EQ(seqs.size(), 1001u);
  CHECK_EQ(*seqs.begin(), 0u);
  CHECK_EQ(*seqs.rbegin(), 1000u);
  CHECK_EQ(wrongLength, 0u);
  CHECK_EQ(fins, 1u);
}

// ---- end issue 13

// ---- issue 11: RTT mode (ping/pong wire, reply matching, the four-timestamp arithmetic)

// A reply written byte by byte from the format description in wire.h (not by encodeReply()).
std::vector<uint8_t> handMadeReply(uint64_t session, uint64_t seq, uint64_t t1, uint64_t reflector, uint64_t t2,
                                   uint64_t t3, uint64_t seen, uint64_t first) {
  std::vector<uint8_t> b = {'M', 'C', 'B', '1', 1, 4, 0, 72};
  for (uint64_t v : {session, seq, t1, reflector, t2, t3, seen, first})
    for (int i = 7; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (i * 8)));
  return b;
}

TEST(wire_rtt_probe_and_reply_layout) {
  uint8_t probe[32];
  wire::encodeProbe(probe, wire::Probe{0x0102030405060708ull, 1000, 1700000000000000000ull});
  const uint8_t want[32] = {'M', 'C', 'B', '1', 1, 3, 0,    32,   0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                            0,   0,   0,   0,   0, 0, 0x03, 0xE8, 0x17, 0x97, 0x9C, 0xFE, 0x36, 0x2A, 0x00, 0x00};
  for (size_t i = 0; i < 32; ++i) CHECK_EQ(unsigned{probe[i]}, unsigned{want[i]});
  wire::Probe p;
  CHECK_EQ(wire::decodeProbe(probe, sizeof probe, p), DecodeResult::Ok);
  CHECK_EQ(p.seq, 1000u);
  CHECK_EQ(p.t1Ns, 1700000000000000000ull);
  // A probe is not a DATA packet (a recv on the group counts it as foreign) nor a reply.
  Header h;
  CHECK_EQ(wire::decode(probe, sizeof probe, h), DecodeResult::BadKind);
  wire::Reply r;
  CHECK_EQ(wire::decodeReply(probe, sizeof probe, r), DecodeResult::Short);

  std::vector<uint8_t> hand = handMadeReply(7, 9, 11, 13, 15, 17, 19, 21);
  uint8_t enc[72];
  wire::encodeReply(enc, wire::Reply{7, 9, 11, 13, 15, 17, 19, 21});
  CHECK_EQ(hand.size(), size_t{72});
  CHECK(std::memcmp(enc, hand.data(), 72) == 0);
  CHECK_EQ(wire::decodeReply(hand.data(), hand.size(), r), DecodeResult::Ok);
  CHECK_EQ(r.session, 7u);
  CHECK_EQ(r.reflector, 13u);
  CHECK_EQ(r.t3Ns, 17u);
  CHECK_EQ(r.firstSeq, 21u);
}

TEST(wire_rtt_rejects_short_foreign_and_bad_headers) {
  std::vector<uint8_t> good = handMadeReply(1, 2, 3, 4, 5, 6, 7, 8);
  wire::Reply r;
  CHECK_EQ(wire::decodeReply(good.data(), 71, r), DecodeResult::Short);
  std::vector<uint8_t> b = good;
  b[0] = 'X';
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::BadMagic);
  b = good;
  b[4] = 2;
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::BadVersion);
  b = good;
  b[5] = 3;  // a probe's kind with a reply's length
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::BadKind);
  b = good;
  b[7] = 71;  // a header shorter than version 1's fields
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::BadHeaderLen);
  b = good;
  b[7] = 80;  // longer than the datagram
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::BadHeaderLen);
  b = good;
  b[7] = 80;  // a later version's longer header, with the bytes there: accepted
  b.resize(80, 0);
  CHECK_EQ(wire::decodeReply(b.data(), b.size(), r), DecodeResult::Ok);
  CHECK_EQ(r.firstSeq, 8u);
}

sockaddr_storage v4From(const char* ip, uint16_t port) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  inet_pton(AF_INET, ip, &a->sin_addr);
  return s;
}

// The ping opens its socket (no probe is sent: run() never starts); replies are fed directly.
PingConfig unitPingConfig() {
  PingConfig c;
  c.socket.group = "239.255.77.1";
  c.socket.port = 47001;
  c.socket.iface = "lo";
  c.maxReflectors = 2;
  return c;
}

TEST(ping_four_timestamps_rtt_and_offset) {
  Ping ping(unitPingConfig());
  const uint64_t T = 1700000000000000000ull;
  ping.noteSent(T);  // seq 0
  // True offset of the reflector's clock +3 ms, 10 us each way, 2 us of processing:
  // t2 = T + 10 us + 3 ms, t3 = t2 + 2 us, t4 = T + 22 us -> RTT 20 us, offset 3 ms.
  uint64_t t2 = T + 10000 + 3000000, t3 = t2 + 2000, t4 = T + 22000;
  sockaddr_storage from = v4From("10.0.0.2", 5001);
  std::vector<uint8_t> rep = handMadeReply(ping.session(), 0, T, 0xAA, t2, t3, 1, 0);
  CHECK_EQ(ping.processReply(rep.data(), rep.size(), from, sizeof(sockaddr_in), t4, 1), Ping::Outcome::Recorded);
  PingSnapshot s;
  ping.snapshot(s);
  CHECK_EQ(s.reflectors.size(), size_t{1});
  CHECK_EQ(s.reflectors[0].replies, 1u);
  CHECK_EQ(s.reflectors[0].bestRttNs, 20000u);
  CHECK_EQ(s.reflectors[0].bestOffsetNs, int64_t{3000000});
  LatencyHistogram rtt, round, proc;
  CHECK(ping.histograms(0, rtt, round, proc));
  CHECK_EQ(rtt.min(), 20000u);
  CHECK_EQ(round.min(), 22000u);
  CHECK_EQ(proc.min(), 2000u);
  CHECK(!ping.histograms(1, rtt, round, proc));
  // Negative offset: the reflector 1 ms behind. t2 = T1 + 10 us - 1 ms, t3 = t2 + 4 us, t4 = T1 + 24 us.
  const uint64_t T1 = T + 100000000;
  ping.noteSent(T1);  // seq 1
  rep = handMadeReply(ping.session(), 1, T1, 0xAA, T1 + 10000 - 1000000, T1 + 14000 - 1000000, 2, 0);
  CHECK_EQ(ping.processReply(rep.data(), rep.size(), from, sizeof(sockaddr_in), T1 + 24000, 2),
           Ping::Outcome::Recorded);
  ping.snapshot(s);
  CHECK_EQ(s.reflectors[0].offsetMinNs, int64_t{-1000000});
  CHECK_EQ(s.reflectors[0].offsetMaxNs, int64_t{3000000});
  CHECK_EQ(s.reflectors[0].bestRttNs, 20000u);  // both 20 us: the first stays
  CHECK_EQ(s.reflectors[0].maxSeq, 1u);
  CHECK_EQ(s.reflectors[0].probesSeenAtMax, 2u);
}

TEST(ping_forged_and_foreign_replies_are_counted_and_ignored) {
  Ping ping(unitPingConfig());
  const uint64_t T = 1700000000000000000ull;
  for (uint64_t i = 0; i < 3; ++i) ping.noteSent(T + i * 1000000);
  sockaddr_storage a = v4From("10.0.0.2", 5001), b = v4From("10.0.0.3", 5001);
  const socklen_t L = sizeof(sockaddr_in);
  const uint64_t S = ping.session();
  auto feed = [&](const std::vector<uint8_t>& r, const sockaddr_storage& from, uint64_t t4) {
    return ping.processReply(r.data(), r.size(), from, L, t4, 1);
  };
  std::vector<uint8_t> ok = handMadeReply(S, 1, T + 1000000, 0xAA, 50, 60, 2, 0);
  std::vector<uint8_t> shortOne(ok.begin(), ok.begin() + 40);
  CHECK_EQ(feed(shortOne, a, T + 1100000), Ping::Outcome::Malformed);
  CHECK_EQ(feed(handMadeReply(S ^ 1, 1, T + 1000000, 0xAA, 50, 60, 2, 0), a, T + 1100000), Ping::Outcome::OtherSession);
  CHECK_EQ(feed(handMadeReply(S, 3, T + 3000000, 0xAA, 50, 60, 2, 0), a, T + 3100000),
           Ping::Outcome::UnknownProbe);  // never sent
  CHECK_EQ(feed(handMadeReply(S, 1, T + 1000001, 0xAA, 50, 60, 2, 0), a, T + 1100000),
           Ping::Outcome::UnknownProbe);  // t1 not ours
  CHECK_EQ(feed(handMadeReply(S, 1, T + 1000000, 0xAA, 60, 50, 2, 0), a, T + 1100000),
           Ping::Outcome::Implausible);  // t3 < t2
  // processing 200 us inside a 100 us round trip
  CHECK_EQ(feed(handMadeReply(S, 1, T + 1000000, 0xAA, 0, 200000, 2, 0), a, T + 1100000), Ping::Outcome::Implausible);
  CHECK_EQ(feed(ok, a, T + 900000), Ping::Outcome::Implausible);  // t4 before t1
  PingSnapshot s;
  ping.snapshot(s);
  CHECK_EQ(s.reflectors.size(), size_t{0});  // nothing invalid made a reflector
  CHECK_EQ(feed(ok, a, T + 1100000), Ping::Outcome::Recorded);
  CHECK_EQ(feed(ok, a, T + 1200000), Ping::Outcome::Duplicate);
  // the reflector's id from another address: ignored
  CHECK_EQ(feed(handMadeReply(S, 2, T + 2000000, 0xAA, 50, 60, 3, 0), b, T + 2100000), Ping::Outcome::SourceMismatch);
  // a second reflector at b, then a third beyond maxReflectors (2)
  CHECK_EQ(feed(handMadeReply(S, 2, T + 2000000, 0xBB, 50, 60, 1, 2), b, T + 2100000), Ping::Outcome::Recorded);
  CHECK_EQ(feed(handMadeReply(S, 2, T + 2000000, 0xCC, 50, 60, 1, 2), b, T + 2100000), Ping::Outcome::Rejected);
  ping.snapshot(s);
  CHECK_EQ(s.counters.sent, 3u);
  CHECK_EQ(s.counters.malformed, 1u);
  CHECK_EQ(s.counters.otherSession, 1u);
  CHECK_EQ(s.counters.unknownProbe, 2u);
  CHECK_EQ(s.counters.implausible, 3u);
  CHECK_EQ(s.counters.sourceMismatch, 1u);
  CHECK_EQ(s.counters.rejectedReflectors, 1u);
  CHECK_EQ(s.reflectors.size(), size_t{2});
  CHECK_EQ(s.reflectors[0].replies, 1u);
  CHECK_EQ(s.reflectors[0].duplicates, 1u);
  CHECK_EQ(s.reflectors[1].firstSeen, 2u);
  LatencyHistogram rtt, round, proc;
  CHECK(ping.histograms(0, rtt, round, proc));
  CHECK_EQ(rtt.total(), 1u);  // the duplicate was not recorded again
  CHECK_EQ(rtt.min(), 100000u - 10u);
}

TEST(ping_window_reuses_slots_and_refuses_late_replies) {
  Ping ping(unitPingConfig());
  const uint64_t T = 1700000000000000000ull;
  sockaddr_storage a = v4From("10.0.0.2", 5001);
  ping.noteSent(T);  // seq 0
  std::vector<uint8_t> r0 = handMadeReply(ping.session(), 0, T, 0xAA, 10, 20, 1, 0);
  CHECK_EQ(ping.processReply(r0.data(), r0.size(), a, sizeof(sockaddr_in), T + 1000, 1), Ping::Outcome::Recorded);
  for (uint64_t i = 1; i <= Ping::kProbeWindow; ++i) ping.noteSent(T + i * 10);  // seq kProbeWindow reuses slot 0
  CHECK_EQ(ping.processReply(r0.data(), r0.size(), a, sizeof(sockaddr_in), T + 1000, 1), Ping::Outcome::Late);
  const uint64_t seqW = Ping::kProbeWindow, t1W = T + Ping::kProbeWindow * 10;
  std::vector<uint8_t> rW = handMadeReply(ping.session(), seqW, t1W, 0xAA, 10, 20, 2, 0);
  // slot 0's answered bit was cleared when seq kProbeWindow took it: a new answer, not a duplicate
  CHECK_EQ(ping.processReply(rW.data(), rW.size(), a, sizeof(sockaddr_in), t1W + 1000, 2), Ping::Outcome::Recorded);
}

// The pong counts a session's probes from its first source only, each sequence above the last:
// forged probes carrying the (group-visible) session id cannot move loss between the directions.
PongConfig unitPongConfig() {
  PongConfig c;
  c.socket.group = "239.255.77.2";
  c.socket.port = 47002;
  c.socket.iface = "lo";
  return c;
}

TEST(pong_counts_only_the_sessions_first_source_in_ascending_order) {
  Pong pong(unitPongConfig());
  sockaddr_storage ping = v4From("10.0.0.1", 40000), forger = v4From("10.0.0.9", 40000);
  const socklen_t len = sizeof(sockaddr_in);
  Pong::ProbeCount c = pong.countProbe(0x51, 5, ping, len, 1);
  CHECK(c.answer);
  CHECK_EQ(c.probesSeen, 1u);
  CHECK_EQ(c.firstSeq, 5u);
  CHECK_EQ(pong.countProbe(0x51, 6, ping, len, 2).probesSeen, 2u);
  c = pong.countProbe(0x51, 6, ping, len, 3);  // a duplicate: answered, not counted again
  CHECK(c.answer);
  CHECK_EQ(c.probesSeen, 2u);
  c = pong.countProbe(0x51, 2, forger, len, 4);  // the session's id from elsewhere: ignored
  CHECK(!c.answer);
  c = pong.countProbe(0x51, 1, ping, len, 5);  // below the first: the first stays
  CHECK_EQ(c.firstSeq, 5u);
  CHECK_EQ(c.probesSeen, 2u);
  c = pong.countProbe(0x51, 9, ping, len, 6);
  CHECK_EQ(c.probesSeen, 3u);
  CHECK_EQ(c.firstSeq, 5u);
  PongSnapshot s;
  pong.snapshot(s);
  CHECK_EQ(s.counters.foreignSource, 1u);
  CHECK_EQ(s.counters.notAscending, 2u);
  CHECK_EQ(s.counters.sessions, 1u);
}

TEST(pong_sixteen_fake_sessions_do_not_evict_a_running_one) {
  Pong pong(unitPongConfig());
  sockaddr_storage ping = v4From("10.0.0.1", 40000), forger = v4From("10.0.0.9", 40000);
  const socklen_t len = sizeof(sockaddr_in);
  for (uint64_t seq = 0; seq < 100; ++seq) pong.countProbe(0x51, seq, ping, len, 1000 + seq);
  // 16 new ids, each heard more recently than the real session, a few probes each
  for (uint64_t id = 1; id <= 16; ++id)
    for (uint64_t seq = 0; seq < 3; ++seq) pong.countProbe(0xF000 + id, seq, forger, len, 5000 + id * 10 + seq);
  Pong::ProbeCount c = pong.countProbe(0x51, 100, ping, len, 6000);
  CHECK_EQ(c.probesSeen, 101u);
  CHECK_EQ(c.firstSeq, 0u);
  PongSnapshot s;
  pong.snapshot(s);
  CHECK_EQ(s.counters.evictedSessions, 1u);  // the 16th fake took a fake's slot
  CHECK_EQ(s.counters.sessions, 17u);
  // a session silent for longer than kStaleSessionNs gives its slot up first
  pong.countProbe(0x77, 0, ping, len, 6000 + Pong::kStaleSessionNs);
  CHECK_EQ(pong.countProbe(0x51, 101, ping, len, 6001 + Pong::kStaleSessionNs).probesSeen, 102u);
}

// ---- end issue 11 RTT

// ---- issue 11 IPv6 + SSM: addresses of both families, source keys, -I by address

TEST(ip_address_parses_both_families_and_refuses_the_rest) {
  IpAddress v4 = parseIpAddress("232.1.2.3");
  CHECK_EQ(v4.family(), AF_INET);
  CHECK_EQ(v4.length(), static_cast<socklen_t>(sizeof(sockaddr_in)));
  IpAddress v6 = parseIpAddress("ff3e::1:2");
  CHECK_EQ(v6.family(), AF_INET6);
  CHECK_EQ(v6.length(), static_cast<socklen_t>(sizeof(sockaddr_in6)));
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&v6.storage);
  CHECK_EQ(in6->sin6_addr.s6_addr[0], 0xffu);
  CHECK_EQ(in6->sin6_addr.s6_addr[1], 0x3eu);
  CHECK_EQ(in6->sin6_addr.s6_addr[13], 1u);
  CHECK_EQ(in6->sin6_addr.s6_addr[15], 2u);
  sockaddr_storage dest = v6.withPort(5001, 7);
  CHECK_EQ(ntohs(reinterpret_cast<sockaddr_in6*>(&dest)->sin6_port), 5001u);
  CHECK_EQ(reinterpret_cast<sockaddr_in6*>(&dest)->sin6_scope_id, 7u);
  for (const char* bad : {"", "239.1.1", "ff15::1%lo", "eth0", "::ffff:1.2.3.4.5"}) {
    int code = 0;
    try {
      parseIpAddress(bad);
    } catch (const SystemError& e) { code = e.code(); }
    CHECK_EQ(code, EINVAL);
  }
}

TEST(link_local_and_interface_local_ipv6_groups_need_a_scope_id) {
  CHECK(needsScopeId(parseIpAddress("ff02::1:3")));
  CHECK(needsScopeId(parseIpAddress("ff12::1")));  // transient, still link-local scope
  CHECK(needsScopeId(parseIpAddress("ff01::1")));
  CHECK(!needsScopeId(parseIpAddress("ff15::1")));
  CHECK(!needsScopeId(parseIpAddress("ff3e::1")));
  CHECK(!needsScopeId(parseIpAddress("224.0.0.1")));
}

TEST(source_key_ipv4_exact_ipv6_hashed_port_kept) {
  sockaddr_storage a{};
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a);
  in4->sin_family = AF_INET;
  inet_pton(AF_INET, "10.0.0.2", &in4->sin_addr);
  in4->sin_port = htons(5001);
  CHECK_EQ(sourceKey(a, sizeof(sockaddr_in)), (uint64_t{0x0a000002} << 16) | 5001u);
  CHECK_EQ(sourceKey(a, sizeof(sockaddr_in) - 1), 0u);  // a short address is unknown
  auto v6 = [](const char* text, uint16_t port) {
    sockaddr_storage s = parseIpAddress(text).withPort(port);
    return sourceKey(s, sizeof(sockaddr_in6));
  };
  CHECK_EQ(v6("fd00::2", 5001), v6("fd00::2", 5001));
  CHECK(v6("fd00::2", 5001) != v6("fd00::3", 5001));
  CHECK(v6("fd00::2", 5001) != v6("fd00::2", 5002));
  CHECK_EQ(v6("fd00::2", 5001) & 0xFFFFu, 5001u);
  CHECK(v6("fd00::2", 5001) != 0u);
  sockaddr_storage none{};
  CHECK_EQ(sourceKey(none, sizeof none), 0u);
}

TEST(session_ipv6_source_compared_in_full_not_by_its_colliding_hash) {
  // Two hosts of one /64 whose 48-bit FNV-1a hashes collide (found by a meet-in-the-middle
  // search): with the same port their source keys are equal, so only the full address tells them apart.
  const sockaddr_storage real = parseIpAddress("fd00:0:0:1::2").withPort(5001);
  const sockaddr_storage forger = parseIpAddress("fd00::1:1210:530f:b0:8727").withPort(5001);
  const uint64_t key = sourceKey(real, sizeof(sockaddr_in6));
  CHECK_EQ(sourceKey(forger, sizeof(sockaddr_in6)), key);  // the collision is real
  const uint8_t* realAddr = reinterpret_cast<const sockaddr_in6&>(real).sin6_addr.s6_addr;
  const uint8_t* forgerAddr = reinterpret_cast<const sockaddr_in6&>(forger).sin6_addr.s6_addr;
  CHECK(std::memcmp(realAddr, forgerAddr, 16) != 0);

  SessionTable t;
  uint64_t clock = 1 * kSecs;
  auto rec = [&](const Header& h, const uint8_t* from) {
    clock += kMs;
    return t.record(h, kLen, clock, clock, key, from);
  };
  for (uint64_t i = 0; i < 100; ++i) CHECK(rec(data(7, i), realAddr) == SessionTable::Outcome::Unique);
  // The forger's DATA (a huge fake gap, an old sequence) and its early FIN are not the session's.
  CHECK(rec(data(7, 100 + 1000), forgerAddr) == SessionTable::Outcome::Ignored);
  CHECK(rec(data(7, 3), forgerAddr) == SessionTable::Outcome::Ignored);
  CHECK(rec(data(7, 100), forgerAddr) == SessionTable::Outcome::Ignored);
  CHECK(rec(fin(7, 100), forgerAddr) == SessionTable::Outcome::Ignored);
  CHECK(rec(data(7, 100), nullptr) == SessionTable::Outcome::Ignored);  // an IPv4 key equal by chance
  CHECK_EQ(t.foreignSourceData(), 4u);
  CHECK_EQ(t.bogusFins(), 1u);
  CHECK(!t.at(0).finSeen);
  CHECK_EQ(t.at(0).maxSeq, 99u);
  CHECK_EQ(t.at(0).duplicates, 0u);
  CHECK_EQ(t.at(0).reordered, 0u);
  CHECK(std::memcmp(t.at(0).sourceIPv6, realAddr, 16) == 0);
  // The real sender goes on and ends its session.
  for (uint64_t i = 100; i < 200; ++i) CHECK(rec(data(7, i), realAddr) == SessionTable::Outcome::Unique);
  CHECK(rec(fin(7, 200), realAddr) == SessionTable::Outcome::Fin);
  CHECK_EQ(t.at(0).lost(), 0u);
  CHECK_EQ(t.at(0).unique, 200u);
}

bool hostHasAddress(int family, const char* text) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  IpAddress want = parseIpAddress(text);
  bool found = false;
  for (const ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != family) continue;
    found = family == AF_INET6 ? std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr,
                                             &reinterpret_cast<const sockaddr_in6*>(&want.storage)->sin6_addr, 16) == 0
                               : std::memcmp(&reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr,
                                             &reinterpret_cast<const sockaddr_in*>(&want.storage)->sin_addr, 4) == 0;
  }
  freeifaddrs(list);
  return found;
}

int resolveErrno(const char* text) {
  try {
    resolveInterface(text);
  } catch (const SystemError& e) { return e.code(); }
  return 0;
}

TEST(interface_by_name_by_address_and_by_zone) {
  const unsigned lo = if_nametoindex("lo");
  CHECK(lo != 0u);
  CHECK_EQ(resolveInterface("").index, 0u);
  CHECK_EQ(resolveInterface("lo").index, lo);
  Interface byV4 = resolveInterface("127.0.0.1");
  CHECK_EQ(byV4.index, lo);
  CHECK_EQ(ntohl(byV4.address.s_addr), 0x7f000001u);
  if (hostHasAddress(AF_INET6, "::1")) CHECK_EQ(resolveInterface("::1").index, lo);
  if (hostHasAddress(AF_INET6, "::1")) CHECK_EQ(resolveInterface("::1%lo").index, lo);  // the zone names the interface
  CHECK_EQ(resolveErrno("fe80::dead%lo"), EADDRNOTAVAIL);  // ... which must have the address
  CHECK_EQ(resolveErrno("192.0.2.77"), EADDRNOTAVAIL);     // TEST-NET-1: on no interface
  CHECK_EQ(resolveErrno("2001:db8::77"), EADDRNOTAVAIL);
  CHECK_EQ(resolveErrno("fe80::1%nosuch0"), ENODEV);
  CHECK_EQ(resolveErrno("nosuch0"), ENODEV);
}

TEST(receiver_refuses_several_groups_unless_all_ipv4) {
  // Several groups are counted by their IPv4 destination: an IPv6 one would be read as IPv4.
  // noSocket: the refusal comes before any socket (none is opened here either way).
  auto refusal = [](const char* group, const char* more) {
    ReceiverConfig c;
    c.noSocket = true;
    c.socket.group = parseIpAddress(group);
    c.socket.moreGroups.push_back(parseIpAddress(more));
    try {
      Receiver r(c);
    } catch (const SystemError& e) { return e.code(); }
    return 0;
  };
  CHECK_EQ(refusal("ff15::1", "ff15::2"), EINVAL);
  CHECK_EQ(refusal("239.1.1.1", "ff15::2"), EINVAL);
  CHECK_EQ(refusal("ff15::1", "239.1.1.2"), EINVAL);
  CHECK_EQ(refusal("239.1.1.1", "239.1.1.2"), 0);
}

// ---- end issue 11 IPv6 + SSM

TEST(coalesce_wait_takes_the_next_batch_at_the_batchs_rate) {
  // 10 datagrams stamped 2 us apart (500 kpps), 64 B, batch 64, a 50 MB buffer: waiting 64 gaps
  // (128 us) takes the next batch whole; the limit cuts it.
  BatchArrivals b{10, 10, 1000000, 1000000 + 9 * 2000, 64};
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{128000});
  CHECK_EQ(coalesceWaitNs(b, 64, 100000, 52428800), uint64_t{100000});
  CHECK_EQ(coalesceWaitNs(b, 64, 0, 52428800), uint64_t{0});  // --coalesce 0: never
}

TEST(coalesce_wait_never_outgrows_an_eighth_of_the_buffer) {
  // 2 MiB: an eighth holds 63 datagrams at 64 + 4096 bytes each, so at 2 us apart a batch of 256
  // waits 126 us, whatever the limit; 1400 B: 47 datagrams, 94 us.
  BatchArrivals b{10, 10, 0, 9 * 2000, 64};
  CHECK_EQ(coalesceWaitNs(b, 256, 1000000, 2097152), uint64_t{126000});
  b.lastLen = 1400;
  CHECK_EQ(coalesceWaitNs(b, 256, 1000000, 2097152), uint64_t{94000});
  // The kernel default buffer (212992) holds 6 such datagrams in an eighth: too few to be worth a
  // wait (kCoalesceMinGather), as is a batch of 16 however large the buffer.
  CHECK_EQ(coalesceWaitNs(b, 256, 1000000, 212992), uint64_t{0});
  CHECK_EQ(coalesceWaitNs(b, 16, 1000000, 52428800), uint64_t{0});
  CHECK_EQ(coalesceWaitNs(b, 32, 1000000, 52428800), uint64_t{64000});
  CHECK_EQ(coalesceWaitNs(b, 64, 1000000, 0), uint64_t{0});
  // --gro: a message is a whole buffer (64 datagrams of 1000 B, 64000 bytes): a 2 MiB buffer's
  // eighth holds 3 of them, too few for a wait; 64 MiB's holds 123, so a batch of 64 waits 64 gaps.
  b.lastLen = 64000;
  CHECK_EQ(coalesceWaitNs(b, 64, 1000000, 2097152), uint64_t{0});
  CHECK_EQ(coalesceWaitNs(b, 64, 1000000, 67108864), uint64_t{128000});
}

TEST(coalesce_wait_only_after_dense_unsaturated_stamped_batches) {
  BatchArrivals b{3, 3, 0, 4000, 64};  // sparse: three datagrams
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{0});
  b = BatchArrivals{64, 64, 0, 63 * 2000, 64};  // a full batch: a backlog, read on at once
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{0});
  b = BatchArrivals{10, 1, 0, 0, 64};  // stamps missing: no rate to go by
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{0});
  b = BatchArrivals{10, 10, 5000, 5000, 64};  // one GSO send: the same stamp on every segment
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{0});
  b = BatchArrivals{10, 10, 9000, 0, 64};  // stamps out of order
  CHECK_EQ(coalesceWaitNs(b, 64, 500000, 52428800), uint64_t{0});
}

}  // namespace

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const TestCase& tc : registry()) {
    if (filter && std::strstr(tc.name, filter) == nullptr) continue;
    g_current = tc.name;
    g_checkFailures = 0;
    tc.fn();
    if (g_checkFailures == 0) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "FAILED %s (%d checks)\n", tc.name, g_checkFailures);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
