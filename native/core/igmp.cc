#include "igmp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

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

}  // namespace mcbench
