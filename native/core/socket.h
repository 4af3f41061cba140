#pragma once
// Socket setup for the sender and the receiver: RAII descriptor, interface resolution,
// multicast options. Everything here runs on the caller's thread and throws SystemError.
#include <netinet/in.h>
#include <unistd.h>

#include <cstdint>
#include <string>

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

// An interface given by name ("eth1") or by one of its IPv4 addresses ("10.0.0.2");
// empty means "let the kernel choose" (the routing table).
struct Interface {
  unsigned index = 0;
  in_addr address{};  // INADDR_ANY unless given by address
};
Interface resolveInterface(const std::string& nameOrAddress);

struct SenderSocketOptions {
  in_addr group{};
  uint16_t port = 0;
  Interface iface;
  int ttl = 1;
  bool loop = true;
  int sndbuf = 0;  // 0: kernel default
};
UniqueFd openSenderSocket(const SenderSocketOptions& o, sockaddr_in& dest);

struct ReceiverSocketOptions {
  in_addr group{};
  uint16_t port = 0;
  Interface iface;
  int rcvbuf = 0;  // bytes asked for; 0: kernel default (net.core.rmem_default)
  bool rcvbufForce = false;
  bool timestamps = true;
};
struct ReceiverSocketInfo {
  int rcvbufActual = 0;  // what getsockopt(SO_RCVBUF) reports (the kernel doubles the request)
};
UniqueFd openReceiverSocket(const ReceiverSocketOptions& o, ReceiverSocketInfo& info);

}  // namespace mcbench
