#pragma once
// An IGMPv2 general query (RFC 2236), as the upstream switch's querier sends it: type 0x11 to
// 224.0.0.1, TTL 1, IP Router Alert. The lab uses it to play the querier that a snooping bridge
// learns of and then loses (seed 002). Needs a raw socket: root (CAP_NET_RAW). The MLD query
// and the bridge's querier state (what doctor reads) live here too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "socket.h"

namespace mcbench {

// maxResponseDeciseconds: the query's Max Resp Time (1/10 s units, 1..255).
void sendIgmpGeneralQuery(const Interface& iface, uint8_t maxResponseDeciseconds);

// An MLD general query, the IPv6 counterpart: ICMPv6 type 130 to ff02::1 on the interface, hop
// limit 1, a hop-by-hop Router Alert (value 0: MLD), from the interface's link-local address
// (the kernel picks it; receivers ignore queries from any other, RFC 3810 5.1.14). version 1:
// RFC 2710 (24 bytes), 2: RFC 3810 (28 bytes, QRV 2, QQIC 125 s, no sources). ifaceName: a name
// or one of its addresses (IPv4 or IPv6). maxResponseMs: 1..32767 (both versions say it as is).
void sendMldGeneralQuery(const std::string& ifaceName, int version, uint16_t maxResponseMs);

// The MLD general query's ICMPv6 message, checksum 0 (the kernel fills it in on a raw ICMPv6
// socket); returns its length (24 or 28).
size_t buildMldGeneralQuery(uint8_t* out, int version, uint16_t maxResponseMs);

// What the bridge knows of the IGMP and MLD queriers (IFLA_BR_MCAST_QUERIER_STATE, kernel 5.16+,
// read over rtnetlink in the caller's network namespace). Per family: present when the bridge
// is the querier itself or heard another one within multicast_querier_interval.
struct QuerierFamilyState {
  bool present = false;
  std::string address;                  // the querier's address ("" when the kernel gave none)
  unsigned port = 0;                    // ifindex of the port it was heard on (0: the bridge itself)
  int64_t otherTimerCentiseconds = -1;  // time left on the other-querier-present timer (-1: none)
};
struct BridgeQuerierState {
  bool reported = false;  // the kernel sent the attribute: it leaves it out when empty, and before 5.16
  QuerierFamilyState ipv4;
  QuerierFamilyState ipv6;
};
BridgeQuerierState readBridgeQuerierState(const std::string& bridgeName);

// The Internet checksum (RFC 1071) of len bytes.
uint16_t internetChecksum(const uint8_t* data, size_t len);

}  // namespace mcbench
