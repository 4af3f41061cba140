// libFuzzer harness of the receiver's batch processing: Receiver::processBatch() (cmsg parsing,
// header decoding, session accounting, stamps, latency histograms) fed with fuzzed batches of
// datagrams exactly as recvmmsg() would leave them (msg_len, msg_flags, control messages, source
// address), plus a small SessionTable (tiny window and jump limit) fed the same packets, so the
// edge cases of the bitmap and the jump logic are reached quickly. Built with
// -fsanitize=fuzzer,address,undefined (CMake: -DMCBENCH_FUZZ=ON with clang); test/native.sh runs
// it for a bounded time on native/fuzz/corpus.
//
// Input: a sequence of records, one datagram each, read with FuzzedDataProvider. Bits of a
// control byte choose whether the harness writes a valid magic and version (so that most inputs
// get past decode()), which of a few session ids is used, and which control messages are present.
#include <fuzzer/FuzzedDataProvider.h>

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/receiver.h"
#include "core/session_table.h"
#include "core/wire.h"

namespace mcbench {

volatile uint64_t g_sink;

struct ReceiverFuzzAccess {
  // Two receivers for the whole run (building one allocates megabytes, which would make every
  // execution slow; their state carries over between inputs, like a long-running receiver's):
  // the default one, and one that copies whole datagrams and checks their payload pattern. Both
  // take datagrams of at most a few KiB, so longer ones (msg_len is the real length) are truncated.
  // A third one reads --gro buffers: several datagrams back to back with a UDP_GRO cmsg.
  static Receiver& receiver(unsigned kind) {
    static Receiver* plain = make(false, false);
    static Receiver* verifying = make(true, false);
    static Receiver* gro = make(false, true);
    return kind == 1 ? *verifying : kind == 2 ? *gro : *plain;
  }
  static Receiver* make(bool verify, bool gro) {
    ReceiverConfig c;
    c.noSocket = true;
    c.batch = 8;
    c.maxSessions = 4;
    c.maxDatagram = verify || gro ? 2048 : 40000;
    c.verifyPayload = verify;
    c.gro = gro;
    return new Receiver(c);
  }

  // Fills datagram i of the receiver's batch from the input; returns false when the input ran out.
  static bool fill(Receiver& r, unsigned i, FuzzedDataProvider& in, SessionTable& small, uint64_t& clock) {
    if (in.remaining_bytes() == 0) return false;
    const uint8_t ctl = in.ConsumeIntegral<uint8_t>();
    uint8_t* hdr = r.slot(i);
    std::memset(hdr, 0, Receiver::kHeaderSlot);
    std::vector<uint8_t> bytes = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, Receiver::kHeaderSlot));
    if (!bytes.empty()) std::memcpy(hdr, bytes.data(), bytes.size());
    if (ctl & 1) {  // a plausible header: magic, version, kind, header length, small session id
      const bool v2 = ctl & 2;
      std::memcpy(hdr, wire::kMagic, 4);
      hdr[4] = v2 ? wire::kVersion : wire::kVersion1;
      hdr[5] = (ctl & 4) ? 2 : 1;
      uint16_t len = htons(static_cast<uint16_t>(v2 ? wire::kHeaderLenV2 : wire::kHeaderLen));
      std::memcpy(hdr + 6, &len, 2);
      std::memset(hdr + 8, 0, 7);
      hdr[15] = static_cast<uint8_t>((ctl >> 3) & 7);
    }
    // The datagram's real length, as recvmmsg with MSG_TRUNC reports it (the slot holds less).
    uint32_t msgLen = in.ConsumeIntegralInRange<uint32_t>(0, 65507);
    mmsghdr& m = r.msgs_[i];
    m.msg_len = msgLen;
    m.msg_hdr.msg_flags = msgLen > r.slotLen_ ? MSG_TRUNC : 0;
    if (r.cfg_.verifyPayload && msgLen <= r.slotLen_) {
      // The sender's pattern after the header, or not quite (one byte changed).
      const uint64_t session = wire::get64(hdr + 8);
      const size_t from = hdr[4] == wire::kVersion1 ? wire::kHeaderLen : wire::kHeaderLenV2;
      wire::fillPayload(hdr, std::max(from, bytes.size() & ~size_t{7}), msgLen, session);
      if (in.ConsumeBool() && msgLen > from) hdr[in.ConsumeIntegralInRange<size_t>(from, msgLen - 1)] ^= 0x5a;
    }
    // Control messages: SCM_TIMESTAMPNS near the clock (or anything), SO_RXQ_OVFL.
    uint8_t* control = &r.control_[static_cast<size_t>(i) * r.controlLen_];
    std::memset(control, 0, r.controlLen_);
    m.msg_hdr.msg_control = control;
    m.msg_hdr.msg_controllen = r.controlLen_;
    size_t used = 0;
    clock += in.ConsumeIntegralInRange<uint64_t>(0, 2000000000);
    if (ctl & 0x40) {
      cmsghdr* cm = reinterpret_cast<cmsghdr*>(control);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_TIMESTAMPNS;
      cm->cmsg_len = CMSG_LEN(sizeof(timespec));
      timespec ts;
      uint64_t stamp = (ctl & 0x80) ? in.ConsumeIntegral<uint64_t>() : clock;
      ts.tv_sec = static_cast<time_t>(stamp / 1000000000ull);
      ts.tv_nsec = static_cast<long>(stamp % 1000000000ull);
      std::memcpy(CMSG_DATA(cm), &ts, sizeof ts);
      used += CMSG_SPACE(sizeof(timespec));
    }
    if (ctl & 0x20) {
      cmsghdr* cm = reinterpret_cast<cmsghdr*>(control + used);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SO_RXQ_OVFL;
      cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
      uint32_t drops = in.ConsumeIntegral<uint32_t>();
      std::memcpy(CMSG_DATA(cm), &drops, sizeof drops);
      used += CMSG_SPACE(sizeof(uint32_t));
    }
    if (r.cfg_.gro && in.ConsumeBool()) {
      // A coalesced buffer: its first datagram's header repeated at every segment (sequences
      // moved on, sometimes not), the segment length any int (0, negative, past the buffer too).
      const int segment = in.ConsumeIntegralInRange<int>(-4, 2100);
      cmsghdr* cm = reinterpret_cast<cmsghdr*>(control + used);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_GRO;
      cm->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cm), &segment, sizeof segment);
      used += CMSG_SPACE(sizeof(int));
      const size_t whole = std::min<size_t>(msgLen, r.slotLen_);
      for (size_t off = static_cast<size_t>(std::max(segment, 1)); segment > 0 && off + Receiver::kHeaderSlot <= whole;
           off += static_cast<size_t>(segment)) {
        std::memmove(hdr + off, hdr, Receiver::kHeaderSlot);
        if (in.ConsumeBool()) wire::patchSeqAndTime(hdr + off, wire::get64(hdr + 16) + off, clock);
      }
    }
    m.msg_hdr.msg_controllen = used;
    if (used == 0) m.msg_hdr.msg_control = nullptr;
    // Source address: one of two ports (FINs from the other one are bogus), or none.
    // (sources_ holds sockaddr_in or, with IPv6, sockaddr_storage: an IPv4 source either way)
    auto& src = reinterpret_cast<sockaddr_in&>(r.sources_[i]);
    src = sockaddr_in{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x0A000001);
    src.sin_port = htons((ctl & 0x10) ? 5001 : 5002);
    m.msg_hdr.msg_namelen = (ctl & 0x08) && (ctl & 0x10) ? 0 : sizeof(sockaddr_in);

    // The same packet through a small table: window 64, jump limit 256.
    wire::Header h;
    if (msgLen <= r.cfg_.maxDatagram && wire::decode(hdr, msgLen, h) == wire::DecodeResult::Ok)
      small.record(h, msgLen, clock, clock, (uint64_t{0x0A000001} << 16) | ((ctl & 0x10) ? 5001 : 5002));
    return true;
  }

  static void run(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    Receiver& r = receiver(in.ConsumeIntegralInRange<unsigned>(0, 2));
    SessionTable small(3, 6, 256);
    small.setListeningSince(in.ConsumeIntegral<uint64_t>());
    uint64_t clock = in.ConsumeIntegral<uint64_t>() >> in.ConsumeIntegralInRange<unsigned>(0, 63);
    for (;;) {
      unsigned n = 0;
      while (n < r.cfg_.batch && fill(r, n, in, small, clock)) ++n;
      if (n == 0) break;
      // The app's read time: near the stamps, or anything.
      uint64_t app =
          in.ConsumeBool() ? clock + in.ConsumeIntegralInRange<uint64_t>(0, 1000000) : in.ConsumeIntegral<uint64_t>();
      r.processBatch(n, app, clock);
    }
    // Every derived figure, as the addon reads them (the histograms are recorded into on every
    // packet but not copied out here: a megabyte per execution would dominate the run time).
    static ReceiverSnapshot snap;
    r.snapshot(snap);
    uint64_t sink = 0;
    for (const SessionStats& s : snap.sessions) sink += s.expected() + s.lost() + s.notExpected();
    for (size_t i = 0; i < small.size(); ++i) {
      const SessionStats& s = small.at(i);
      sink += s.expected() + s.lost() + s.notExpected();
      if (s.lost() > s.expected()) __builtin_trap();
    }
    g_sink = sink;  // the reads must happen
  }
};

}  // namespace mcbench

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mcbench::ReceiverFuzzAccess::run(data, size);
  return 0;
}
