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

// Probe and Reply are the RTT mode's (ping/pong, below); decode() refuses them as a DATA stream's.
enum class Kind : uint8_t { Data = 1, Fin = 2, Probe = 3, Reply = 4 };

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

// The payload after the header (--verify-payload): a pattern of the session and the byte's offset
// in the datagram, so a receiver can check every byte without state. Word k (bytes 8k..8k+7,
// big-endian; a short last word keeps its leading bytes) is splitmix64(session + k). It does not
// depend on the sequence: the sender writes it once into buffers it reuses for every send
// (nothing per packet); a datagram cut short, or with bytes from another session or none, differs.
inline uint64_t payloadWord(uint64_t session, uint64_t k) {
  uint64_t z = session + k * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
// Writes the pattern into buf[from, len) (from: the header's length, a multiple of 8).
inline void fillPayload(uint8_t* buf, size_t from, size_t len, uint64_t session) {
  for (size_t off = from; off < len; off += 8) {
    uint8_t w[8];
    put64(w, payloadWord(session, off / 8));
    std::memcpy(buf + off, w, len - off < 8 ? len - off : 8);
  }
}
// True when buf[from, len) holds the pattern.
inline bool payloadOk(const uint8_t* buf, size_t from, size_t len, uint64_t session) {
  for (size_t off = from; off < len; off += 8) {
    uint8_t w[8];
    put64(w, payloadWord(session, off / 8));
    if (std::memcmp(buf + off, w, len - off < 8 ? len - off : 8) != 0) return false;
  }
  return true;
}

// ---- RTT mode (mcbench ping / pong): probe and reply, their own version 1 ----------------------
// Probe (ping -> group), 32 bytes + padding: magic, version 1, kind Probe, header length, the
// ping's session id, sequence, t1 (the ping's CLOCK_REALTIME just before the send).
// Reply (pong -> the probe's source, unicast), 72 bytes: magic, version 1, kind Reply, header
// length, the probe's session, sequence and t1 echoed, the reflector's id (random per pong run:
// reflectors on one address are told apart), t2 (the pong's kernel receive stamp of the probe),
// t3 (the pong's clock just before the reply's send), the probes of this session the pong has
// seen so far and the first sequence it saw (they split the loss by direction).
// A later version may grow either header (the length field says how much); never shrink it.
constexpr uint8_t kRttVersion = 1;
constexpr size_t kProbeLen = 32;
constexpr size_t kReplyLen = 72;

struct Probe {
  uint64_t session = 0;
  uint64_t seq = 0;
  uint64_t t1Ns = 0;
};
struct Reply {
  uint64_t session = 0;
  uint64_t seq = 0;
  uint64_t t1Ns = 0;
  uint64_t reflector = 0;
  uint64_t t2Ns = 0;
  uint64_t t3Ns = 0;
  uint64_t probesSeen = 0;
  uint64_t firstSeq = 0;
};

inline void encodeRttHeader(uint8_t* buf, Kind kind, size_t len) {
  std::memcpy(buf, kMagic, 4);
  buf[4] = kRttVersion;
  buf[5] = static_cast<uint8_t>(kind);
  uint16_t l = htobe16(static_cast<uint16_t>(len));
  std::memcpy(buf + 6, &l, 2);
}
// The buffer holds kProbeLen bytes.
inline void encodeProbe(uint8_t* buf, const Probe& p) {
  encodeRttHeader(buf, Kind::Probe, kProbeLen);
  put64(buf + 8, p.session);
  put64(buf + 16, p.seq);
  put64(buf + 24, p.t1Ns);
}
// The buffer holds kReplyLen bytes.
inline void encodeReply(uint8_t* buf, const Reply& r) {
  encodeRttHeader(buf, Kind::Reply, kReplyLen);
  put64(buf + 8, r.session);
  put64(buf + 16, r.seq);
  put64(buf + 24, r.t1Ns);
  put64(buf + 32, r.reflector);
  put64(buf + 40, r.t2Ns);
  put64(buf + 48, r.t3Ns);
  put64(buf + 56, r.probesSeen);
  put64(buf + 64, r.firstSeq);
}
// Checks the common header of an RTT datagram of `kind` whose version-1 fields take `minLen` bytes.
inline DecodeResult checkRttHeader(const uint8_t* buf, size_t len, Kind kind, size_t minLen) {
  if (len < minLen) return DecodeResult::Short;
  if (std::memcmp(buf, kMagic, 4) != 0) return DecodeResult::BadMagic;
  if (buf[4] != kRttVersion) return DecodeResult::BadVersion;
  if (buf[5] != static_cast<uint8_t>(kind)) return DecodeResult::BadKind;
  uint16_t hlen;
  std::memcpy(&hlen, buf + 6, 2);
  hlen = be16toh(hlen);
  if (hlen < minLen || hlen > len) return DecodeResult::BadHeaderLen;
  return DecodeResult::Ok;
}
inline DecodeResult decodeProbe(const uint8_t* buf, size_t len, Probe& out) {
  DecodeResult r = checkRttHeader(buf, len, Kind::Probe, kProbeLen);
  if (r != DecodeResult::Ok) return r;
  out.session = get64(buf + 8);
  out.seq = get64(buf + 16);
  out.t1Ns = get64(buf + 24);
  return r;
}
inline DecodeResult decodeReply(const uint8_t* buf, size_t len, Reply& out) {
  DecodeResult r = checkRttHeader(buf, len, Kind::Reply, kReplyLen);
  if (r != DecodeResult::Ok) return r;
  out.session = get64(buf + 8);
  out.seq = get64(buf + 16);
  out.t1Ns = get64(buf + 24);
  out.reflector = get64(buf + 32);
  out.t2Ns = get64(buf + 40);
  out.t3Ns = get64(buf + 48);
  out.probesSeen = get64(buf + 56);
  out.firstSeq = get64(buf + 64);
  return r;
}

}  // namespace mcbench::wire
