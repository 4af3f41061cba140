// Wire format (DESIGN.md sections 3 and 12). Network byte order.
// v1: a fixed 32-byte header. v2 (additive, 48 bytes): v1's fields, then the session's start time
// (the sender's first send, ns) and the packet's actual send time (ns, just before the send call;
// v1's send-time field stays the intended, scheduled time). Receivers read both versions.
// Encode/decode are header-only so the hot loops inline them.
#pragma once

#include <endian.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mcbench::wire {

constexpr uint8_t kMagic[4] = {'M', 'C', 'B', '1'};
constexpr uint8_t kVersion1 = 1;
constexpr uint8_t kVersion = 2;    // what encode() writes when the datagram has room for it
constexpr size_t kHeaderLen = 32;  // v1: the smallest datagram a sender may ask for
constexpr size_t kHeaderLenV2 = 48;
// Largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP).
constexpr size_t kMaxPayload = 65507;

enum class Kind : uint8_t { Data = 1, Fin = 2 };

struct Header {
  Kind kind = Kind::Data;
  uint64_t session = 0;
  // DATA: the packet's sequence number (from 0). FIN: the sender's total DATA count.
  uint64_t seq = 0;
  // Nanoseconds since the epoch (CLOCK_REALTIME): intended send time when paced.
  uint64_t sendNs = 0;
  // v2 only (0 when the packet is v1: unknown). The session's first send time, and this
  // packet's actual send time (CLOCK_REALTIME ns).
  uint64_t startNs = 0;
  uint64_t actualNs = 0;
  uint8_t version = kVersion1;  // encode() writes v2 only when asked (the sender does, given room)
};

enum class DecodeResult { Ok, Short, BadMagic, BadVersion, BadKind, BadHeaderLen };

inline void put64(uint8_t* p, uint64_t v) {
  v = htobe64(v);
  std::memcpy(p, &v, 8);
}
inline uint64_t get64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return be64toh(v);
}

// Writes the whole header, v2 when h.version is 2 (the buffer must hold kHeaderLenV2 bytes), else
// v1; the payload padding after it is left as it is.
inline void encode(uint8_t* buf, const Header& h) {
  bool v2 = h.version >= 2;
  std::memcpy(buf, kMagic, 4);
  buf[4] = v2 ? kVersion : kVersion1;
  buf[5] = static_cast<uint8_t>(h.kind);
  uint16_t len = htobe16(static_cast<uint16_t>(v2 ? kHeaderLenV2 : kHeaderLen));
  std::memcpy(buf + 6, &len, 2);
  put64(buf + 8, h.session);
  put64(buf + 16, h.seq);
  put64(buf + 24, h.sendNs);
  if (v2) {
    put64(buf + 32, h.startNs);
    put64(buf + 40, h.actualNs);
  }
}

// Rewrites only the per-packet fields of an already encoded header (sender hot path).
inline void patchSeqAndTime(uint8_t* buf, uint64_t seq, uint64_t sendNs) {
  put64(buf + 16, seq);
  put64(buf + 24, sendNs);
}
// v2: the session start (written once) and the actual send time (per batch).
inline void patchStart(uint8_t* buf, uint64_t startNs) { put64(buf + 32, startNs); }
inline void patchActual(uint8_t* buf, uint64_t actualNs) { put64(buf + 40, actualNs); }

inline DecodeResult decode(const uint8_t* buf, size_t len, Header& out) {
  if (len < kHeaderLen) return DecodeResult::Short;
  if (std::memcmp(buf, kMagic, 4) != 0) return DecodeResult::BadMagic;
  uint8_t version = buf[4];
  if (version != kVersion1 && version != kVersion) return DecodeResult::BadVersion;
  uint8_t kind = buf[5];
  if (kind != static_cast<uint8_t>(Kind::Data) && kind != static_cast<uint8_t>(Kind::Fin)) return DecodeResult::BadKind;
  uint16_t hlen;
  std::memcpy(&hlen, buf + 6, 2);
  hlen = be16toh(hlen);
  // A later version may grow the header; it may never shrink below its version's fields.
  if (hlen < (version == kVersion1 ? kHeaderLen : kHeaderLenV2) || hlen > len) return DecodeResult::BadHeaderLen;
  out.kind = static_cast<Kind>(kind);
  out.version = version;
  out.session = get64(buf + 8);
  out.seq = get64(buf + 16);
  out.sendNs = get64(buf + 24);
  out.startNs = version == kVersion1 ? 0 : get64(buf + 32);
  out.actualNs = version == kVersion1 ? 0 : get64(buf + 40);
  return DecodeResult::Ok;
}

// Send stamps further than this from the receive time are implausible (a forged or garbage stamp,
// or clocks hours apart): counted, kept out of delay, jitter and the histograms.
constexpr uint64_t kPlausibleStampNs = 3600ull * 1000000000ull;  // 1 hour
inline bool plausibleStamp(uint64_t stampNs, uint64_t recvNs) {
  return stampNs != 0 && (stampNs > recvNs ? stampNs - recvNs : recvNs - stampNs) <= kPlausibleStampNs;
}

}  // namespace mcbench::wire
