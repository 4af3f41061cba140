#pragma once
// Socket setup for the sender and the receiver: RAII descriptor, interface resolution,
// multicast options. Everything here runs on the caller's thread and throws SystemError.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mcbench {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// An IPv4 or IPv6 address (a group or a source); the port is set where it is used.
struct IpAddress {
  sockaddr_storage storage{};
  int family() const { return storage.ss_family; }
  socklen_t length() const { return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in); }
  // the address with a port (and, for IPv6, a scope id) filled in, ready for bind/sendto
  sockaddr_storage withPort(uint16_t port, unsigned scopeId = 0) const;
};
// "239.1.1.1" or "ff3e::1"; anything else throws SystemError(EINVAL).
IpAddress parseIpAddress(const std::string& text);
// An IPv6 multicast group of link-local (or interface-local) scope names an interface: bind and
// sendto need its index as the scope id (RFC 4007).
bool needsScopeId(const IpAddress& group);

// An interface given by name ("eth1"), by one of its IPv4 addresses ("10.0.0.2") or by one of its
// IPv6 addresses ("fd00::2", "fe80::1%eth1"); empty means "let the kernel choose" (the routing
// table). An address is resolved to its interface's index (getifaddrs): MCAST_JOIN_GROUP and the
// IPv6 options take an index only.
struct Interface {
  unsigned index = 0;
  in_addr address{};  // INADDR_ANY unless given by an IPv4 address
};
Interface resolveInterface(const std::string& nameOrAddress);

// The session table's 64-bit key of a datagram's source: (IPv4 address << 16) | port, or for IPv6
// a 48-bit FNV-1a hash of the address << 16 | port; 0 = unknown (no or a short address). The hash
// is unkeyed and collides on purpose in seconds: the session table also compares the whole IPv6
// address (SessionTable::record's sourceIPv6).
uint64_t sourceKey(const sockaddr_storage& from, socklen_t len);

struct SenderSocketOptions {
  IpAddress group;
  uint16_t port = 0;
  Interface iface;
  int ttl = 1;
  bool loop = true;
  int sndbuf = 0;  // 0: kernel default
};
// dest: the group and port to send to (with the scope id a link-local group needs); destLen its length.
UniqueFd openSenderSocket(const SenderSocketOptions& o, sockaddr_storage& dest, socklen_t& destLen);

struct ReceiverSocketOptions {
  IpAddress group;
  uint16_t port = 0;
  Interface iface;
  // SSM: join (S,G) for each (MCAST_JOIN_SOURCE_GROUP, IGMPv3/MLDv2); empty: any source (MCAST_JOIN_GROUP)
  std::vector<IpAddress> sources;
  // Several -g: the other groups, joined on the same socket, which is then bound to the wildcard
  // address (IP_MULTICAST_ALL off keeps other sockets' groups out) and reports each datagram's
  // destination (IP_PKTINFO). net.ipv4.igmp_max_memberships (20) limits joins per socket.
  std::vector<IpAddress> moreGroups;
  int rcvbuf = 0;  // bytes asked for; 0: kernel default (net.core.rmem_default)
  bool rcvbufForce = false;
  bool timestamps = true;
};
struct ReceiverSocketInfo {
  int rcvbufActual = 0;  // what getsockopt(SO_RCVBUF) reports (the kernel doubles the request)
};
UniqueFd openReceiverSocket(const ReceiverSocketOptions& o, ReceiverSocketInfo& info);

}  // namespace mcbench
