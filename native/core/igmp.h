#pragma once
// An IGMPv2 general query (RFC 2236), as the upstream switch's querier sends it: type 0x11 to
// 224.0.0.1, TTL 1, IP Router Alert. The lab uses it to play the querier that a snooping bridge
// learns of and then loses (seed 002). Needs a raw socket: root (CAP_NET_RAW).
#include <cstdint>

#include "socket.h"

namespace mcbench {

// maxResponseDeciseconds: the query's Max Resp Time (1/10 s units, 1..255).
void sendIgmpGeneralQuery(const Interface& iface, uint8_t maxResponseDeciseconds);

// The Internet checksum (RFC 1071) of len bytes.
uint16_t internetChecksum(const uint8_t* data, size_t len);

}  // namespace mcbench
