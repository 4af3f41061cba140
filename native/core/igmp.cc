#include "igmp.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "error.h"

namespace mcbench {

uint16_t internetChecksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

void sendIgmpGeneralQuery(const Interface& iface, uint8_t maxResp) {
  UniqueFd fd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open a raw IGMP socket (needs root)");
  // Router Alert (RFC 2113): routers and snooping bridges look at packets carrying it.
  const uint8_t routerAlert[4] = {0x94, 0x04, 0x00, 0x00};
  if (setsockopt(fd.get(), IPPROTO_IP, IP_OPTIONS, routerAlert, sizeof routerAlert) != 0)
    throw SystemError(errno, "setsockopt", "IP_OPTIONS (router alert)");
  int ttl = 1;
  if (setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0)
    throw SystemError(errno, "setsockopt", "IP_MULTICAST_TTL");
  ip_mreqn r{};
  r.imr_ifindex = static_cast<int>(iface.index);
  r.imr_address = iface.address;
  if (setsockopt(fd.get(), IPPROTO_IP, IP_MULTICAST_IF, &r, sizeof r) != 0)
    throw SystemError(errno, "setsockopt", "IP_MULTICAST_IF");

  uint8_t msg[8] = {0x11, maxResp, 0, 0, 0, 0, 0, 0};  // group 0.0.0.0: a general query
  uint16_t ck = htons(internetChecksum(msg, sizeof msg));
  msg[2] = static_cast<uint8_t>(ck & 0xff);
  msg[3] = static_cast<uint8_t>(ck >> 8);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(0xe0000001);  // 224.0.0.1, all systems
  if (sendto(fd.get(), msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
      static_cast<ssize_t>(sizeof msg))
    throw SystemError(errno, "sendto", "cannot send the IGMP query");
}

size_t buildMldGeneralQuery(uint8_t* out, int version, uint16_t maxResponseMs) {
  const size_t len = version == 1 ? 24 : 28;
  std::memset(out, 0, len);
  out[0] = 130;                                         // Multicast Listener Query; code 0; checksum left to the kernel
  out[4] = static_cast<uint8_t>(maxResponseMs >> 8);    // v1: Maximum Response Delay, ms;
  out[5] = static_cast<uint8_t>(maxResponseMs & 0xff);  // v2: Maximum Response Code (< 32768: ms)
  // bytes 8..23: the multicast address, :: for a general query
  if (version != 1) {
    out[24] = 2;    // Resv 0, S 0, QRV 2 (the default Robustness Variable)
    out[25] = 125;  // QQIC: the default Query Interval, 125 s (< 128: said as is)
    // bytes 26..27: Number of Sources 0
  }
  return len;
}

namespace {

// An interface index from a name or one of its addresses (IPv4 or IPv6).
unsigned interfaceIndexOf(const std::string& s) {
  if (unsigned index = if_nametoindex(s.c_str()); index != 0) return index;
  in_addr a4{};
  in6_addr a6{};
  const bool is4 = inet_pton(AF_INET, s.c_str(), &a4) == 1;
  const bool is6 = !is4 && inet_pton(AF_INET6, s.c_str(), &a6) == 1;
  if (!is4 && !is6) throw SystemError(ENODEV, "if_nametoindex", "unknown interface '" + s + "'");
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw SystemError(errno, "getifaddrs", "cannot list the interfaces");
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    bool match = false;
    if (is4 && i->ifa_addr->sa_family == AF_INET) {
      match = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr == a4.s_addr;
    } else if (is6 && i->ifa_addr->sa_family == AF_INET6) {
      const in6_addr& x = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr;
      match = std::memcmp(&x, &a6, sizeof x) == 0;
    }
    if (match) return if_nametoindex(i->ifa_name);
  }
  throw SystemError(EADDRNOTAVAIL, "getifaddrs", "no interface has the address " + s);
}

bool hasLinkLocalAddress(unsigned index) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return true;  // cannot tell: let the send say what is wrong
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, freeifaddrs);
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6) continue;
    if (if_nametoindex(i->ifa_name) != index) continue;
    if (IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)) return true;
  }
  return false;
}

}  // namespace

void sendMldGeneralQuery(const std::string& ifaceName, int version, uint16_t maxResponseMs) {
  if (version != 1 && version != 2) throw SystemError(EINVAL, "mld", "MLD version must be 1 or 2");
  const unsigned index = interfaceIndexOf(ifaceName);
  if (!hasLinkLocalAddress(index))
    throw SystemError(EADDRNOTAVAIL, "mld",
                      "interface '" + ifaceName +
                          "' has no IPv6 link-local address (MLD queries must come from one, RFC "
                          "3810 5.1.14; is IPv6 disabled on it?)");
  UniqueFd fd(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open a raw ICMPv6 socket (needs root)");
  // Hop-by-hop options header: next header (the kernel fills it in), length 0 (8 bytes), Router
  // Alert (RFC 2711: type 5, length 2, value 0 = MLD), PadN of 0 bytes to the 8-byte boundary.
  const uint8_t hopByHop[8] = {0, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00};
  if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_HOPOPTS, hopByHop, sizeof hopByHop) != 0)
    throw SystemError(errno, "setsockopt", "IPV6_HOPOPTS (router alert)");
  int hops = 1;
  if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) != 0)
    throw SystemError(errno, "setsockopt", "IPV6_MULTICAST_HOPS");
  int ifindex = static_cast<int>(index);
  if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex) != 0)
    throw SystemError(errno, "setsockopt", "IPV6_MULTICAST_IF");

  uint8_t msg[28];
  const size_t len = buildMldGeneralQuery(msg, version, maxResponseMs);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_scope_id = index;
  inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);  // all nodes
  if (sendto(fd.get(), msg, len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) != static_cast<ssize_t>(len))
    throw SystemError(errno, "sendto", "cannot send the MLD query");
}

namespace {

// Walks the rtnetlink attributes in [data, data + len).
template <typename F>
void forEachAttr(const uint8_t* data, size_t len, F&& f) {
  while (len >= sizeof(rtattr)) {
    const auto* a = reinterpret_cast<const rtattr*>(data);
    if (a->rta_len < sizeof(rtattr) || a->rta_len > len) return;
    f(a->rta_type & NLA_TYPE_MASK, data + RTA_LENGTH(0), a->rta_len - RTA_LENGTH(0));
    const size_t step = RTA_ALIGN(a->rta_len);
    if (step >= len) return;
    data += step;
    len -= step;
  }
}

uint64_t readU64(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  if (n >= sizeof v) std::memcpy(&v, p, sizeof v);
  return v;
}
uint32_t readU32(const uint8_t* p, size_t n) {
  uint32_t v = 0;
  if (n >= sizeof v) std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

BridgeQuerierState readBridgeQuerierState(const std::string& bridgeName) {
  const unsigned index = if_nametoindex(bridgeName.c_str());
  if (index == 0) throw SystemError(ENODEV, "if_nametoindex", "unknown bridge '" + bridgeName + "'");
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open an rtnetlink socket");
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = static_cast<int>(index);
  if (send(fd.get(), &req, sizeof req, 0) != static_cast<ssize_t>(sizeof req))
    throw SystemError(errno, "send", "rtnetlink RTM_GETLINK");
  std::vector<uint8_t> reply(65536);  // one link's attributes: a few KiB
  uint8_t* buf = reply.data();
  const ssize_t n = recv(fd.get(), buf, reply.size(), 0);
  if (n < 0) throw SystemError(errno, "recv", "rtnetlink RTM_GETLINK");
  BridgeQuerierState state;
  const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
  if (!NLMSG_OK(h, static_cast<unsigned>(n))) throw SystemError(EPROTO, "recv", "short rtnetlink reply");
  if (h->nlmsg_type == NLMSG_ERROR) {
    const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
    throw SystemError(-e->error, "rtnetlink", "RTM_GETLINK " + bridgeName);
  }
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) return state;
  const uint8_t* attrs = static_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(ifinfomsg));
  const size_t attrsLen = h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg));
  auto family = [&](QuerierFamilyState& f, int af, const uint8_t* p, size_t len) {
    char text[INET6_ADDRSTRLEN] = "";
    if ((af == AF_INET && len >= 4) || (af == AF_INET6 && len >= 16)) inet_ntop(af, p, text, sizeof text);
    f.present = true;
    f.address = text;
  };
  forEachAttr(attrs, attrsLen, [&](unsigned type, const uint8_t* p, size_t len) {
    if (type != IFLA_LINKINFO) return;
    forEachAttr(p, len, [&](unsigned t2, const uint8_t* p2, size_t len2) {
      if (t2 != IFLA_INFO_DATA) return;
      forEachAttr(p2, len2, [&](unsigned t3, const uint8_t* p3, size_t len3) {
        if (t3 != IFLA_BR_MCAST_QUERIER_STATE) return;
        state.reported = true;
        forEachAttr(p3, len3, [&](unsigned q, const uint8_t* v, size_t vl) {
          switch (q) {
            case BRIDGE_QUERIER_IP_ADDRESS: family(state.ipv4, AF_INET, v, vl); break;
            case BRIDGE_QUERIER_IP_PORT: state.ipv4.port = readU32(v, vl); break;
            case BRIDGE_QUERIER_IP_OTHER_TIMER:
              state.ipv4.otherTimerCentiseconds = static_cast<int64_t>(readU64(v, vl));
              break;
            case BRIDGE_QUERIER_IPV6_ADDRESS: family(state.ipv6, AF_INET6, v, vl); break;
            case BRIDGE_QUERIER_IPV6_PORT: state.ipv6.port = readU32(v, vl); break;
            case BRIDGE_QUERIER_IPV6_OTHER_TIMER:
              state.ipv6.otherTimerCentiseconds = static_cast<int64_t>(readU64(v, vl));
              break;
            default: break;
          }
        });
      });
    });
  });
  return state;
}

}  // namespace mcbench
