#include "socket.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <memory>

#include "error.h"

// Since Linux 4.20; older headers lack it (the kernel then refuses the option: an error, not a guess).
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

namespace mcbench {
namespace {

void setOpt(int fd, int level, int name, const void* val, socklen_t len, const char* what) {
  if (setsockopt(fd, level, name, val, len) != 0) throw SystemError(errno, "setsockopt", what);
}
void setInt(int fd, int level, int name, int v, const char* what) { setOpt(fd, level, name, &v, sizeof v, what); }

ip_mreqn interfaceRequest(const Interface& iface) {
  ip_mreqn r{};
  r.imr_ifindex = static_cast<int>(iface.index);
  r.imr_address = iface.address;
  return r;
}

// A receive timeout lets the worker thread notice its stop flag without an extra wake-up fd.
void setTimeout(int fd, int opt, long usec) {
  timeval tv{};
  tv.tv_sec = usec / 1000000;
  tv.tv_usec = usec % 1000000;
  setOpt(fd, SOL_SOCKET, opt, &tv, sizeof tv, opt == SO_RCVTIMEO ? "SO_RCVTIMEO" : "SO_SNDTIMEO");
}

UniqueFd udpSocket(int family) {
  UniqueFd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open a UDP socket");
  return fd;
}

struct IfaddrsDeleter {
  void operator()(ifaddrs* p) const { freeifaddrs(p); }
};

// The index of the interface that has this address (IPv4 in4 or IPv6 in6); 0 when none has it.
// onlyName: look on that interface only (an IPv6 zone).
unsigned indexOfAddress(int family, const void* addr, const char* onlyName = nullptr) {
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) throw SystemError(errno, "getifaddrs", "cannot list the interfaces' addresses");
  std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
  for (const ifaddrs* a = raw; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != family) continue;
    if (onlyName != nullptr && std::strcmp(a->ifa_name, onlyName) != 0) continue;
    bool same =
        family == AF_INET
            ? std::memcmp(&reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, addr, sizeof(in_addr)) == 0
            : std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr, addr, sizeof(in6_addr)) == 0;
    if (same) return if_nametoindex(a->ifa_name);
  }
  return 0;
}

int level(const IpAddress& a) { return a.family() == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP; }

}  // namespace

sockaddr_storage IpAddress::withPort(uint16_t port, unsigned scopeId) const {
  sockaddr_storage s = storage;
  if (family() == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    in6->sin6_port = htons(port);
    in6->sin6_scope_id = scopeId;
  } else {
    reinterpret_cast<sockaddr_in*>(&s)->sin_port = htons(port);
  }
  return s;
}

IpAddress parseIpAddress(const std::string& text) {
  IpAddress a;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, text.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
  } else {
    throw SystemError(EINVAL, "inet_pton", "'" + text + "' is not an IPv4 or IPv6 address");
  }
  return a;
}

bool needsScopeId(const IpAddress& group) {
  if (group.family() != AF_INET6) return false;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&group.storage)->sin6_addr;
  return IN6_IS_ADDR_MC_LINKLOCAL(&a) || IN6_IS_ADDR_MC_NODELOCAL(&a);
}

Interface resolveInterface(const std::string& s) {
  Interface iface;
  if (s.empty()) return iface;
  if (inet_pton(AF_INET, s.c_str(), &iface.address) == 1) {
    iface.index = indexOfAddress(AF_INET, &iface.address);
    if (iface.index == 0) throw SystemError(EADDRNOTAVAIL, "getifaddrs", "no interface has the address " + s);
    return iface;
  }
  // An IPv6 address, maybe with its zone ("fe80::1%eth1"): the zone names the interface.
  std::string addr = s;
  std::string zone;
  if (size_t pct = s.find('%'); pct != std::string::npos) {
    addr = s.substr(0, pct);
    zone = s.substr(pct + 1);
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, addr.c_str(), &a6) == 1) {
    if (!zone.empty()) {
      iface.index = if_nametoindex(zone.c_str());
      if (iface.index == 0) throw SystemError(ENODEV, "if_nametoindex", "unknown interface '" + zone + "' in " + s);
      // The address must be the zone's own: a made-up one would name an interface it is not on.
      if (indexOfAddress(AF_INET6, &a6, zone.c_str()) == 0)
        throw SystemError(EADDRNOTAVAIL, "getifaddrs", "interface " + zone + " has no address " + addr);
      return iface;
    }
    iface.index = indexOfAddress(AF_INET6, &a6);
    if (iface.index == 0) throw SystemError(EADDRNOTAVAIL, "getifaddrs", "no interface has the address " + s);
    return iface;
  }
  iface.index = if_nametoindex(s.c_str());
  if (iface.index == 0) throw SystemError(ENODEV, "if_nametoindex", "unknown interface '" + s + "'");
  return iface;
}

uint64_t sourceKey(const sockaddr_storage& from, socklen_t len) {
  if (from.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto& in4 = reinterpret_cast<const sockaddr_in&>(from);
    return (uint64_t{ntohl(in4.sin_addr.s_addr)} << 16) | ntohs(in4.sin_port);
  }
  if (from.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(from);
    uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
    for (uint8_t b : in6.sin6_addr.s6_addr) h = (h ^ b) * 1099511628211ULL;
    uint64_t key = ((h & 0xFFFFFFFFFFFFULL) << 16) | ntohs(in6.sin6_port);
    return key != 0 ? key : 1;  // 0 means unknown
  }
  return 0;
}

UniqueFd openSenderSocket(const SenderSocketOptions& o, sockaddr_storage& dest, socklen_t& destLen) {
  UniqueFd fd = udpSocket(o.group.family());
  int s = fd.get();
  if (o.group.family() == AF_INET6) {
    if (o.iface.index != 0)
      setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(o.iface.index), "IPV6_MULTICAST_IF");
    setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, o.ttl, "IPV6_MULTICAST_HOPS");
    setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, o.loop ? 1 : 0, "IPV6_MULTICAST_LOOP");
  } else {
    if (o.iface.index != 0 || o.iface.address.s_addr != INADDR_ANY) {
      ip_mreqn r = interfaceRequest(o.iface);
      setOpt(s, IPPROTO_IP, IP_MULTICAST_IF, &r, sizeof r, "IP_MULTICAST_IF");
    }
    setInt(s, IPPROTO_IP, IP_MULTICAST_TTL, o.ttl, "IP_MULTICAST_TTL");
    setInt(s, IPPROTO_IP, IP_MULTICAST_LOOP, o.loop ? 1 : 0, "IP_MULTICAST_LOOP");
  }
  if (o.sndbuf > 0) setInt(s, SOL_SOCKET, SO_SNDBUF, o.sndbuf, "SO_SNDBUF");
  setTimeout(s, SO_SNDTIMEO, 100000);
  dest = o.group.withPort(o.port, needsScopeId(o.group) ? o.iface.index : 0);
  destLen = o.group.length();
  return fd;
}

UniqueFd openReceiverSocket(const ReceiverSocketOptions& o, ReceiverSocketInfo& info) {
  const bool v6 = o.group.family() == AF_INET6;
  UniqueFd fd = udpSocket(o.group.family());
  int s = fd.get();
  // Several receivers on one host (and a restarted one) may share the group and port.
  setInt(s, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (o.rcvbuf > 0) {
    if (o.rcvbufForce) {
      if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &o.rcvbuf, sizeof o.rcvbuf) != 0)
        throw SystemError(errno, "setsockopt", "SO_RCVBUFFORCE");
    } else {
      setInt(s, SOL_SOCKET, SO_RCVBUF, o.rcvbuf, "SO_RCVBUF");
    }
  }
  // Kernel receive stamps arrive as a cmsg with every datagram. The drop counter is read with
  // SO_MEMINFO per snapshot instead (Receiver: SO_RXQ_OVFL's cmsg only when that is unreadable).
  if (o.timestamps) setInt(s, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  // Linux delivers every group any socket on the host joined to a socket bound to the port,
  // unless this is off.
  if (v6) {
    setInt(s, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
  } else {
    setInt(s, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  }
  setTimeout(s, SO_RCVTIMEO, 100000);

  // Bound to the group itself, the socket sees only this group's datagrams on the port (a
  // link-local IPv6 group is bound on its interface: the scope id). Several groups: the wildcard
  // address, and only the joined groups arrive (IP_MULTICAST_ALL is off).
  const bool scoped = needsScopeId(o.group);
  if (scoped && o.iface.index == 0)
    throw SystemError(EINVAL, "bind", "a link-local IPv6 group needs an interface (-I)");
  IpAddress wildcard;
  wildcard.storage.ss_family = static_cast<sa_family_t>(o.group.family());
  const IpAddress& bound = o.moreGroups.empty() ? o.group : wildcard;
  sockaddr_storage bindAddr = bound.withPort(o.port, scoped ? o.iface.index : 0);
  if (bind(s, reinterpret_cast<sockaddr*>(&bindAddr), o.group.length()) != 0)
    throw SystemError(errno, "bind", "cannot bind to the group's port");

  // The protocol-independent joins (RFC 3678): one call for both families, any source or (S,G).
  if (!o.moreGroups.empty()) {
    if (!v6) setInt(s, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    const size_t total = o.moreGroups.size() + 1;
    for (size_t k = 0; k < total; ++k) {
      const IpAddress& g = k == 0 ? o.group : o.moreGroups[k - 1];
      if (g.family() != o.group.family()) throw SystemError(EINVAL, "setsockopt", "groups of two address families");
      group_req join{};
      join.gr_interface = o.iface.index;
      join.gr_group = g.storage;
      if (setsockopt(s, level(g), MCAST_JOIN_GROUP, &join, sizeof join) != 0) {
        // The message names the join that failed: the ENOBUFS of igmp_max_memberships is the K+1st.
        const int e = errno;
        throw SystemError(e, "setsockopt",
                          "cannot join group " + std::to_string(k + 1) + " of " + std::to_string(total) +
                              " (MCAST_JOIN_GROUP); " + std::to_string(k) + " joined");
      }
    }
  } else if (o.sources.empty()) {
    group_req join{};
    join.gr_interface = o.iface.index;
    join.gr_group = o.group.storage;
    setOpt(s, level(o.group), MCAST_JOIN_GROUP, &join, sizeof join, "cannot join the group (MCAST_JOIN_GROUP)");
  } else {
    for (const IpAddress& src : o.sources) {
      if (src.family() != o.group.family())
        throw SystemError(EINVAL, "setsockopt", "a source of the other address family than the group");
      group_source_req join{};
      join.gsr_interface = o.iface.index;
      join.gsr_group = o.group.storage;
      join.gsr_source = src.storage;
      setOpt(s, level(o.group), MCAST_JOIN_SOURCE_GROUP, &join, sizeof join,
             "cannot join the source and group (MCAST_JOIN_SOURCE_GROUP)");
    }
  }

  socklen_t len = sizeof info.rcvbufActual;
  if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, &info.rcvbufActual, &len) != 0)
    throw SystemError(errno, "getsockopt", "SO_RCVBUF");
  return fd;
}

}  // namespace mcbench
