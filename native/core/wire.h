// Wire format v1 (DESIGN.md section 3). Network byte order, fixed 32-byte header.
// Encode/decode are header-only so the hot loops inline them.
#pragma once

#include <endian.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mcbench::wire {

constexpr uint8_t kMagic[4] = {'M', 'C', 'B', '1'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderLen = 32;
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

// Writes the whole header; the payload padding after it is left as it is.
inline void encode(uint8_t* buf, const Header& h) {
  std::memcpy(buf, kMagic, 4);
  buf[4] = kVersion;
  buf[5] = static_cast<uint8_t>(h.kind);
  uint16_t len = htobe16(static_cast<uint16_t>(kHeaderLen));
  std::memcpy(buf + 6, &len, 2);
  put64(buf + 8, h.session);
  put64(buf + 16, h.seq);
  put64(buf + 24, h.sendNs);
}

// Rewrites only the per-packet fields of an already encoded header (sender hot path).
inline void patchSeqAndTime(uint8_t* buf, uint64_t seq, uint64_t sendNs) {
  put64(buf + 16, seq);
  put64(buf + 24, sendNs);
}

inline DecodeResult decode(const uint8_t* buf, size_t len, Header& out) {
  if (len < kHeaderLen) return DecodeResult::Short;
  if (std::memcmp(buf, kMagic, 4) != 0) return DecodeResult::BadMagic;
  if (buf[4] != kVersion) return DecodeResult::BadVersion;
  uint8_t kind = buf[5];
  if (kind != static_cast<uint8_t>(Kind::Data) && kind != static_cast<uint8_t>(Kind::Fin)) return DecodeResult::BadKind;
  uint16_t hlen;
  std::memcpy(&hlen, buf + 6, 2);
  hlen = be16toh(hlen);
  // A later version may grow the header; it may never shrink below v1's fields.
  if (hlen < kHeaderLen || hlen > len) return DecodeResult::BadHeaderLen;
  out.kind = static_cast<Kind>(kind);
  out.session = get64(buf + 8);
  out.seq = get64(buf + 16);
  out.sendNs = get64(buf + 24);
  return DecodeResult::Ok;
}

}  // namespace mcbench::wire
