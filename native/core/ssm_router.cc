#include "ssm_router.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
// after netinet/in.h: the glibc and kernel definitions of in_addr agree then
#include <linux/mroute.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "igmp.h"

namespace mcbench {

namespace {

constexpr uint8_t kQuery = 0x11;
constexpr uint8_t kV1Report = 0x12;
constexpr uint8_t kV2Report = 0x16;
constexpr uint8_t kV2Leave = 0x17;
constexpr uint8_t kV3Report = 0x22;
constexpr unsigned kUpVif = 0;
constexpr unsigned kDownVif = 1;

bool isSsm(uint32_t groupHostOrder) { return (groupHostOrder >> 24) == 232; }

uint32_t read32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

unsigned indexOf(const std::string& name) {
  unsigned i = if_nametoindex(name.c_str());
  if (i == 0) throw SystemError(ENODEV, "if_nametoindex", "unknown interface '" + name + "'");
  return i;
}

void addVif(int fd, unsigned vif, unsigned ifindex) {
  vifctl v{};
  v.vifc_vifi = static_cast<vifi_t>(vif);
  v.vifc_flags = VIFF_USE_IFINDEX;
  v.vifc_threshold = 1;  // forward datagrams with TTL >= 2 (the forward takes one)
  v.vifc_lcl_ifindex = static_cast<int>(ifindex);
  if (setsockopt(fd, IPPROTO_IP, MRT_ADD_VIF, &v, sizeof v) != 0) throw SystemError(errno, "setsockopt", "MRT_ADD_VIF");
}

}  // namespace

void buildIgmpV3GeneralQuery(uint8_t out[12], uint8_t maxRespCode, uint8_t qqic) {
  std::memset(out, 0, 12);
  out[0] = kQuery;
  out[1] = maxRespCode;
  out[8] = 2;  // S 0, QRV 2 (the default Robustness Variable); group 0.0.0.0: general
  out[9] = qqic;
  const uint16_t ck = internetChecksum(out, 12);
  out[2] = static_cast<uint8_t>(ck >> 8);
  out[3] = static_cast<uint8_t>(ck & 0xff);
}

IgmpKind classifyIgmp(const uint8_t* msg, size_t len) {
  if (len < 8 || internetChecksum(msg, len) != 0) return IgmpKind::Malformed;
  switch (msg[0]) {
    case kQuery: return IgmpKind::Query;
    case kV3Report: return IgmpKind::V3Report;
    case kV1Report:
    case kV2Report:
    case kV2Leave: return isSsm(read32(msg + 4)) ? IgmpKind::V1V2Ssm : IgmpKind::V1V2Other;
    default: return IgmpKind::Other;
  }
}

SsmRouter::SsmRouter(const std::string& upstream, const std::string& downstream, double queryIntervalSeconds)
    : queryInterval_(queryIntervalSeconds), buf_(65536) {
  upIndex_ = indexOf(upstream);
  downIndex_ = indexOf(downstream);
  if (upIndex_ == downIndex_)
    throw SystemError(EINVAL, "ssm-router", "the upstream and downstream interfaces are the same");
  routes_.reserve(kMaxRoutes);
  fd_ = UniqueFd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP));
  if (fd_.get() < 0) throw SystemError(errno, "socket", "cannot open a raw IGMP socket (needs root)");
  int one = 1;
  // EADDRINUSE: another multicast router already runs in this namespace
  if (setsockopt(fd_.get(), IPPROTO_IP, MRT_INIT, &one, sizeof one) != 0)
    throw SystemError(errno, "setsockopt", "MRT_INIT");
  addVif(fd_.get(), kUpVif, upIndex_);
  addVif(fd_.get(), kDownVif, downIndex_);
  if (setsockopt(fd_.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0)
    throw SystemError(errno, "setsockopt", "IP_PKTINFO");
  ip_mreqn m{};
  m.imr_multiaddr.s_addr = htonl(0xe0000016);  // 224.0.0.22: IGMPv3 reports go there
  m.imr_ifindex = static_cast<int>(downIndex_);
  if (setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0)
    throw SystemError(errno, "setsockopt", "IP_ADD_MEMBERSHIP 224.0.0.22");
  // the queries: TTL 1, Router Alert (RFC 3376 4), out of the downstream, not looped back
  const uint8_t routerAlert[4] = {0x94, 0x04, 0x00, 0x00};
  if (setsockopt(fd_.get(), IPPROTO_IP, IP_OPTIONS, routerAlert, sizeof routerAlert) != 0)
    throw SystemError(errno, "setsockopt", "IP_OPTIONS (router alert)");
  int ttl = 1, loop = 0;
  if (setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
      setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
    throw SystemError(errno, "setsockopt", "IP_MULTICAST_TTL/LOOP");
  ip_mreqn out{};
  out.imr_ifindex = static_cast<int>(downIndex_);
  if (setsockopt(fd_.get(), IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out) != 0)
    throw SystemError(errno, "setsockopt", "IP_MULTICAST_IF");
  stopFd_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (stopFd_.get() < 0) throw SystemError(errno, "eventfd", "cannot make the stop event");
}

SsmRouter::~SsmRouter() { stop(); }  // closing fd_ then drops the VIFs and MFC entries (MRT_DONE)

void SsmRouter::start() {
  if (thread_.joinable()) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void SsmRouter::stop() {
  if (!thread_.joinable()) return;
  const uint64_t v = 1;
  if (write(stopFd_.get(), &v, sizeof v) < 0) {
    // an eventfd write fails only on overflow; the loop also ends on running_
  }
  running_ = false;
  thread_.join();
}

void SsmRouter::snapshot(SsmRouterSnapshot& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.counters = counters_;
  out.routes = routes_;
  out.error = error_;
  out.running = running_;
}

void SsmRouter::sendQuery() {
  uint8_t msg[12];
  // Max Resp Code 10 (1 s) so hosts answer soon; QQIC the interval (below 128 s: as is)
  buildIgmpV3GeneralQuery(msg, 10, static_cast<uint8_t>(std::min(queryInterval_, 127.0)));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(0xe0000001);  // 224.0.0.1, all systems
  if (sendto(fd_.get(), msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
      static_cast<ssize_t>(sizeof msg)) {
    std::lock_guard<std::mutex> lock(mu_);
    counters_.queriesSent++;
  }
}

void SsmRouter::run() {
  using Clock = std::chrono::steady_clock;
  auto nextQuery = Clock::now();
  while (running_) {
    if (Clock::now() >= nextQuery) {
      sendQuery();
      nextQuery = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(queryInterval_ * 1000));
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(nextQuery - Clock::now()).count();
    pollfd p[2] = {{fd_.get(), POLLIN, 0}, {stopFd_.get(), POLLIN, 0}};
    const int n = poll(p, 2, static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(wait, 1000))));
    if (n < 0) {
      if (errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu_);
      error_ = {errno, "poll"};
      break;
    }
    if (p[1].revents) break;
    if (!(p[0].revents & POLLIN)) continue;
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in_pktinfo))];
    iovec iov{buf_.data(), buf_.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    const ssize_t got = recvmsg(fd_.get(), &mh, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mu_);
      error_ = {errno, "recvmsg"};
      break;
    }
    unsigned ifindex = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi{};
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        ifindex = static_cast<unsigned>(pi.ipi_ifindex);
      }
    }
    handle(buf_.data(), static_cast<size_t>(got), ifindex);
  }
  running_ = false;
}

void SsmRouter::handle(const uint8_t* packet, size_t len, unsigned ifindex) {
  std::lock_guard<std::mutex> lock(mu_);
  if (len < 20) {
    counters_.malformed++;
    return;
  }
  // The kernel's upcalls (struct igmpmsg) come with 0 where an IP header has its protocol.
  if (packet[9] == 0) {
    counters_.kernelUpcalls++;
    return;
  }
  const size_t ihl = static_cast<size_t>(packet[0] & 0x0f) * 4;
  const size_t total = static_cast<size_t>(packet[2]) << 8 | packet[3];
  if (packet[9] != IPPROTO_IGMP || ihl < 20 || total > len || total < ihl) {
    counters_.malformed++;
    return;
  }
  if (ifindex != downIndex_) {
    counters_.upstreamIgmp++;
    return;
  }
  counters_.igmpPackets++;
  const uint8_t* msg = packet + ihl;
  const size_t msgLen = total - ihl;
  switch (classifyIgmp(msg, msgLen)) {
    case IgmpKind::Malformed: counters_.malformed++; break;
    case IgmpKind::V3Report: applyV3Report(msg, msgLen); break;
    case IgmpKind::V1V2Ssm: counters_.ignoredV1V2Ssm++; break;
    case IgmpKind::V1V2Other: counters_.ignoredV1V2Other++; break;
    case IgmpKind::Query:
    case IgmpKind::Other: break;
  }
}

// RFC 3376 4.2: records of type(1) auxlen(1) nsrc(2) group(4) sources(4 n) aux(4 auxlen).
void SsmRouter::applyV3Report(const uint8_t* msg, size_t len) {
  counters_.v3Reports++;
  const size_t records = static_cast<size_t>(msg[6]) << 8 | msg[7];
  size_t at = 8;
  for (size_t r = 0; r < records; r++) {
    if (at + 8 > len) {
      counters_.malformed++;
      return;
    }
    const uint8_t type = msg[at];
    const size_t aux = static_cast<size_t>(msg[at + 1]) * 4;
    const size_t nsrc = static_cast<size_t>(msg[at + 2]) << 8 | msg[at + 3];
    const uint32_t group = read32(msg + at + 4);
    const size_t end = at + 8 + nsrc * 4 + aux;
    if (end > len) {
      counters_.malformed++;
      return;
    }
    if (!isSsm(group)) {
      counters_.nonSsmRecords++;
    } else {
      in_addr g{htonl(group)};
      switch (type) {
        case 2:  // MODE_IS_EXCLUDE, CHANGE_TO_EXCLUDE: RFC 4604 2.2.1 says ignore for SSM
        case 4: counters_.excludeRecords++; break;
        case 1:  // MODE_IS_INCLUDE, CHANGE_TO_INCLUDE: the set is exactly these sources
        case 3: removeGroup(g); [[fallthrough]];
        case 5:  // ALLOW_NEW_SOURCES
          counters_.ssmRecords++;
          for (size_t i = 0; i < nsrc; i++) addRoute(in_addr{htonl(read32(msg + at + 8 + i * 4))}, g);
          break;
        case 6:  // BLOCK_OLD_SOURCES
          counters_.ssmRecords++;
          for (size_t i = 0; i < nsrc; i++) removeRoute(in_addr{htonl(read32(msg + at + 8 + i * 4))}, g);
          break;
        default: counters_.malformed++; break;
      }
    }
    at = end;
  }
}

void SsmRouter::addRoute(in_addr s, in_addr g) {
  for (const SsmRoute& r : routes_)
    if (r.source.s_addr == s.s_addr && r.group.s_addr == g.s_addr) return;
  if (routes_.size() >= kMaxRoutes) {
    counters_.routesRefused++;
    return;
  }
  mfcctl m{};
  m.mfcc_origin = s;
  m.mfcc_mcastgrp = g;
  m.mfcc_parent = kUpVif;
  m.mfcc_ttls[kDownVif] = 1;
  if (setsockopt(fd_.get(), IPPROTO_IP, MRT_ADD_MFC, &m, sizeof m) != 0) {
    counters_.routesRefused++;
    return;
  }
  routes_.push_back({s, g});
  counters_.routesAdded++;
}

void SsmRouter::removeRoute(in_addr s, in_addr g) {
  auto it = std::find_if(routes_.begin(), routes_.end(),
                         [&](const SsmRoute& r) { return r.source.s_addr == s.s_addr && r.group.s_addr == g.s_addr; });
  if (it == routes_.end()) return;
  mfcctl m{};
  m.mfcc_origin = s;
  m.mfcc_mcastgrp = g;
  m.mfcc_parent = kUpVif;
  (void)setsockopt(fd_.get(), IPPROTO_IP, MRT_DEL_MFC, &m, sizeof m);  // ENOENT: gone already
  routes_.erase(it);
  counters_.routesRemoved++;
}

void SsmRouter::removeGroup(in_addr g) {
  for (size_t i = routes_.size(); i-- > 0;)
    if (routes_[i].group.s_addr == g.s_addr) removeRoute(routes_[i].source, g);
}

}  // namespace mcbench
