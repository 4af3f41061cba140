#include "socket.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "error.h"

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

UniqueFd udpSocket() {
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open a UDP socket");
  return fd;
}

}  // namespace

Interface resolveInterface(const std::string& s) {
  Interface iface;
  if (s.empty()) return iface;
  if (inet_pton(AF_INET, s.c_str(), &iface.address) == 1) return iface;
  iface.index = if_nametoindex(s.c_str());
  if (iface.index == 0) throw SystemError(ENODEV, "if_nametoindex", "unknown interface '" + s + "'");
  return iface;
}

UniqueFd openSenderSocket(const SenderSocketOptions& o, sockaddr_in& dest) {
  UniqueFd fd = udpSocket();
  int s = fd.get();
  if (o.iface.index != 0 || o.iface.address.s_addr != INADDR_ANY) {
    ip_mreqn r = interfaceRequest(o.iface);
    setOpt(s, IPPROTO_IP, IP_MULTICAST_IF, &r, sizeof r, "IP_MULTICAST_IF");
  }
  setInt(s, IPPROTO_IP, IP_MULTICAST_TTL, o.ttl, "IP_MULTICAST_TTL");
  setInt(s, IPPROTO_IP, IP_MULTICAST_LOOP, o.loop ? 1 : 0, "IP_MULTICAST_LOOP");
  if (o.sndbuf > 0) setInt(s, SOL_SOCKET, SO_SNDBUF, o.sndbuf, "SO_SNDBUF");
  setTimeout(s, SO_SNDTIMEO, 100000);
  dest = sockaddr_in{};
  dest.sin_family = AF_INET;
  dest.sin_port = htons(o.port);
  dest.sin_addr = o.group;
  return fd;
}

UniqueFd openReceiverSocket(const ReceiverSocketOptions& o, ReceiverSocketInfo& info) {
  UniqueFd fd = udpSocket();
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
  // Per-socket drop counter and kernel receive stamps arrive as cmsgs with every datagram.
  setInt(s, SOL_SOCKET, SO_RXQ_OVFL, 1, "SO_RXQ_OVFL");
  if (o.timestamps) setInt(s, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  // Linux delivers every group any socket on the host joined to a socket bound to the port,
  // unless this is off.
  setInt(s, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  setTimeout(s, SO_RCVTIMEO, 100000);

  sockaddr_in bindAddr{};
  bindAddr.sin_family = AF_INET;
  bindAddr.sin_port = htons(o.port);
  // Bound to the group itself, the socket sees only this group's datagrams on the port.
  bindAddr.sin_addr = o.group;
  if (bind(s, reinterpret_cast<sockaddr*>(&bindAddr), sizeof bindAddr) != 0)
    throw SystemError(errno, "bind", "cannot bind to the group's port");

  ip_mreqn join = interfaceRequest(o.iface);
  join.imr_multiaddr = o.group;
  setOpt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join, "cannot join the group (IP_ADD_MEMBERSHIP)");

  socklen_t len = sizeof info.rcvbufActual;
  if (getsockopt(s, SOL_SOCKET, SO_RCVBUF, &info.rcvbufActual, &len) != 0)
    throw SystemError(errno, "getsockopt", "SO_RCVBUF");
  return fd;
}

}  // namespace mcbench
