#include "rtt.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "clock.h"

namespace mcbench {

namespace {

uint64_t randomId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = (uint64_t{std::random_device{}()} << 32) ^ monoNs();
  }
  return id;
}

void setOpt(int fd, int level, int name, const void* v, socklen_t len, const char* what) {
  if (setsockopt(fd, level, name, v, len) != 0) throw SystemError(errno, "setsockopt", what);
}
void setInt(int fd, int level, int name, int v, const char* what) { setOpt(fd, level, name, &v, sizeof v, what); }

// The group with its port (and, for an IPv6 group of interface- or link-local scope, the
// interface's index as its scope id: RFC 4007), and the interface to use.
struct RttEndpoint {
  sockaddr_storage group{};
  socklen_t groupLen = 0;
  int family = AF_INET;
  Interface iface;
};

RttEndpoint resolveEndpoint(const RttSocketOptions& o) {
  RttEndpoint e;
  e.iface = resolveInterface(o.iface);
  in_addr a4{};
  in6_addr a6{};
  if (inet_pton(AF_INET, o.group.c_str(), &a4) == 1) {
    auto* s = reinterpret_cast<sockaddr_in*>(&e.group);
    s->sin_family = AF_INET;
    s->sin_port = htons(o.port);
    s->sin_addr = a4;
    e.groupLen = sizeof(sockaddr_in);
    e.family = AF_INET;
    if (!IN_MULTICAST(ntohl(a4.s_addr))) throw SystemError(EINVAL, "inet_pton", "the group is not a multicast address");
  } else if (inet_pton(AF_INET6, o.group.c_str(), &a6) == 1) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&e.group);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(o.port);
    s->sin6_addr = a6;
    e.groupLen = sizeof(sockaddr_in6);
    e.family = AF_INET6;
    if (!IN6_IS_ADDR_MULTICAST(&a6)) throw SystemError(EINVAL, "inet_pton", "the group is not a multicast address");
    unsigned scope = a6.s6_addr[1] & 0x0F;
    if (scope == 1 || scope == 2) {
      if (e.iface.index == 0) throw SystemError(EINVAL, "inet_pton", "a link-local IPv6 group needs an interface (-I)");
      s->sin6_scope_id = e.iface.index;
    }
  } else {
    throw SystemError(EINVAL, "inet_pton", "the group is neither an IPv4 nor an IPv6 address");
  }
  return e;
}

UniqueFd udpSocket(int family) {
  UniqueFd fd(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (fd.get() < 0) throw SystemError(errno, "socket", "cannot open a UDP socket");
  return fd;
}

void setRecvTimeout(int fd, long usec) {
  timeval tv{};
  tv.tv_sec = usec / 1000000;
  tv.tv_usec = usec % 1000000;
  setOpt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv, "SO_RCVTIMEO");
}

// The ping's socket: an ephemeral port (the replies come back to it by unicast), multicast
// interface, TTL and loop set, kernel receive stamps on.
UniqueFd openPingSocket(const RttSocketOptions& o, sockaddr_storage& dest, socklen_t& destLen) {
  RttEndpoint e = resolveEndpoint(o);
  UniqueFd fd = udpSocket(e.family);
  int s = fd.get();
  sockaddr_storage any{};
  any.ss_family = static_cast<sa_family_t>(e.family);
  if (bind(s, reinterpret_cast<sockaddr*>(&any), e.groupLen) != 0)
    throw SystemError(errno, "bind", "cannot bind the ping's socket");
  if (e.family == AF_INET) {
    if (e.iface.index != 0 || e.iface.address.s_addr != INADDR_ANY) {
      ip_mreqn r{};
      r.imr_ifindex = static_cast<int>(e.iface.index);
      r.imr_address = e.iface.address;
      setOpt(s, IPPROTO_IP, IP_MULTICAST_IF, &r, sizeof r, "IP_MULTICAST_IF");
    }
    setInt(s, IPPROTO_IP, IP_MULTICAST_TTL, o.ttl, "IP_MULTICAST_TTL");
    setInt(s, IPPROTO_IP, IP_MULTICAST_LOOP, o.loop ? 1 : 0, "IP_MULTICAST_LOOP");
  } else {
    if (e.iface.index != 0)
      setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(e.iface.index), "IPV6_MULTICAST_IF");
    setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, o.ttl, "IPV6_MULTICAST_HOPS");
    setInt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, o.loop ? 1 : 0, "IPV6_MULTICAST_LOOP");
  }
  setInt(s, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  dest = e.group;
  destLen = e.groupLen;
  return fd;
}

// The pong's socket: bound to the group and port (several pongs on one host share it), joined on
// the interface, kernel receive stamps on; the replies leave from it by unicast.
UniqueFd openPongSocket(const RttSocketOptions& o) {
  RttEndpoint e = resolveEndpoint(o);
  UniqueFd fd = udpSocket(e.family);
  int s = fd.get();
  setInt(s, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (bind(s, reinterpret_cast<sockaddr*>(&e.group), e.groupLen) != 0)
    throw SystemError(errno, "bind", "cannot bind to the group's port");
  if (e.family == AF_INET) {
    ip_mreqn join{};
    join.imr_multiaddr = reinterpret_cast<sockaddr_in*>(&e.group)->sin_addr;
    join.imr_ifindex = static_cast<int>(e.iface.index);
    join.imr_address = e.iface.address;
    setOpt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join, "cannot join the group (IP_ADD_MEMBERSHIP)");
    setInt(s, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  } else {
    group_req join{};
    join.gr_interface = e.iface.index;
    std::memcpy(&join.gr_group, &e.group, sizeof(sockaddr_in6));
    setOpt(s, IPPROTO_IPV6, MCAST_JOIN_GROUP, &join, sizeof join, "cannot join the group (MCAST_JOIN_GROUP)");
  }
  setInt(s, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
  setRecvTimeout(s, 100000);  // the thread notices its stop flag within 100 ms
  return fd;
}

uint64_t kernelStamp(msghdr& mh) {
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
        cm->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
    }
  }
  return 0;
}

bool sameAddress(const sockaddr_storage& a, socklen_t aLen, const sockaddr_storage& b, socklen_t bLen) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    if (aLen < sizeof(sockaddr_in) || bLen < sizeof(sockaddr_in)) return false;
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    if (aLen < sizeof(sockaddr_in6) || bLen < sizeof(sockaddr_in6)) return false;
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

// recvmmsg buffers: one slot of `slot` bytes per datagram, a control area each, the source.
void setupBatch(unsigned batch, size_t slot, size_t controlLen, std::vector<uint8_t>& bufs,
                std::vector<uint8_t>& control, std::vector<sockaddr_storage>& from, std::vector<iovec>& iov,
                std::vector<mmsghdr>& msgs) {
  bufs.assign(batch * slot, 0);
  control.assign(batch * controlLen, 0);
  from.assign(batch, sockaddr_storage{});
  iov.resize(batch);
  msgs.resize(batch);
  for (unsigned i = 0; i < batch; ++i) {
    iov[i].iov_base = &bufs[i * slot];
    iov[i].iov_len = slot;
    std::memset(&msgs[i], 0, sizeof(mmsghdr));
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
  }
}
void resetBatch(unsigned batch, size_t controlLen, std::vector<uint8_t>& control, std::vector<mmsghdr>& msgs) {
  for (unsigned i = 0; i < batch; ++i) {
    msgs[i].msg_hdr.msg_control = &control[i * controlLen];
    msgs[i].msg_hdr.msg_controllen = controlLen;
    msgs[i].msg_hdr.msg_flags = 0;
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
}

}  // namespace

// ---- Ping ------------------------------------------------------------------------------------

Ping::Ping(const PingConfig& cfg) : cfg_(cfg), session_(randomId()) {
  if (!(cfg_.rate > 0)) throw SystemError(EINVAL, "ping", "the probe rate must be above 0");
  if (cfg_.length < wire::kProbeLen) cfg_.length = wire::kProbeLen;
  if (cfg_.length > wire::kMaxPayload) throw SystemError(EMSGSIZE, "ping", "the probe is longer than a UDP datagram");
  if (cfg_.maxReflectors == 0) cfg_.maxReflectors = 1;
  probe_.assign(cfg_.length, 0);
  sentT1_.assign(kProbeWindow, 0);
  reflectors_.reserve(cfg_.maxReflectors);
  setupBatch(kBatch, kReplyBuf, kControlLen, bufs_, control_, from_, iov_, msgs_);
  fd_ = openPingSocket(cfg_.socket, dest_, destLen_);
}

Ping::~Ping() { stop(); }

void Ping::start(std::function<void()> onDone) {
  onDone_ = std::move(onDone);
  running_.store(true);
  thread_ = std::thread([this] { run(); });
}

void Ping::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

void Ping::noteSent(uint64_t t1Ns) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t seq = counters_.sent;
  size_t slot = static_cast<size_t>(seq % kProbeWindow);
  sentT1_[slot] = t1Ns;
  // The slot now belongs to this probe: no reflector has answered it yet.
  for (auto& r : reflectors_) r->answered[slot / 64] &= ~(uint64_t{1} << (slot % 64));
  ++counters_.sent;
  if (counters_.firstSendRealNs == 0) counters_.firstSendRealNs = t1Ns;
  counters_.lastSendRealNs = t1Ns;
}

void Ping::sendProbe() {
  uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = counters_.sent;
  }
  uint64_t t1 = realNs();
  wire::encodeProbe(probe_.data(), wire::Probe{session_, seq, t1});
  noteSent(t1);
  uint64_t lastBefore;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lastBefore = counters_.sent > 1 ? counters_.lastSendRealNs : 0;
  }
  ssize_t r = sendto(fd_.get(), probe_.data(), probe_.size(), 0, reinterpret_cast<sockaddr*>(&dest_), destLen_);
  if (r < 0) {
    int e = errno;
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.sendErrors;
    counters_.lastSendErrno = e;
    // Never on the wire, so not a lost probe (RFC 7680 3.6): it gives its sequence back (only this
    // thread sends: seq is still the last one) and no reply can match it.
    sentT1_[static_cast<size_t>(seq % kProbeWindow)] = 0;
    --counters_.sent;
    counters_.lastSendRealNs = lastBefore;
    if (counters_.sent == 0) counters_.firstSendRealNs = 0;
  }
}

Ping::Outcome Ping::processReply(const uint8_t* buf, size_t len, const sockaddr_storage& from, socklen_t fromLen,
                                 uint64_t t4Ns, uint64_t nowMonoNs) {
  PingCounters& c = counters_;
  wire::Reply r;
  if (wire::decodeReply(buf, len, r) != wire::DecodeResult::Ok) {
    ++c.malformed;
    return Outcome::Malformed;
  }
  if (r.session != session_) {
    ++c.otherSession;
    return Outcome::OtherSession;
  }
  if (r.seq >= c.sent) {
    ++c.unknownProbe;
    return Outcome::UnknownProbe;
  }
  if (c.sent - r.seq > kProbeWindow) {
    ++c.late;
    return Outcome::Late;
  }
  size_t slot = static_cast<size_t>(r.seq % kProbeWindow);
  if (r.t1Ns == 0 || sentT1_[slot] != r.t1Ns) {
    ++c.unknownProbe;
    return Outcome::UnknownProbe;
  }
  // t1 is ours (checked), t4 ours: t4 >= t1. t2 and t3 are the reflector's clock: only their
  // difference means anything, and it cannot exceed the whole round trip.
  if (t4Ns < r.t1Ns || r.t3Ns < r.t2Ns || r.t3Ns - r.t2Ns > t4Ns - r.t1Ns) {
    ++c.implausible;
    return Outcome::Implausible;
  }
  ReflectorRecord* rec = nullptr;
  for (auto& x : reflectors_) {
    if (x->stats.reflector == r.reflector) {
      rec = x.get();
      break;
    }
  }
  if (rec && !sameAddress(rec->stats.address, rec->stats.addressLen, from, fromLen)) {
    ++c.sourceMismatch;
    return Outcome::SourceMismatch;
  }
  if (!rec) {
    if (reflectors_.size() >= cfg_.maxReflectors) {
      ++c.rejectedReflectors;
      return Outcome::Rejected;
    }
    auto fresh = std::make_unique<ReflectorRecord>();  // once per reflector, never per packet
    fresh->answered.assign(kProbeWindow / 64, 0);
    fresh->stats.reflector = r.reflector;
    fresh->stats.address = from;
    fresh->stats.addressLen = fromLen;
    fresh->stats.firstSeen = r.firstSeq;
    fresh->stats.firstReplyMonoNs = nowMonoNs;
    rec = fresh.get();
    reflectors_.push_back(std::move(fresh));
  }
  ReflectorStats& s = rec->stats;
  uint64_t& word = rec->answered[slot / 64];
  uint64_t bit = uint64_t{1} << (slot % 64);
  if (word & bit) {
    ++s.duplicates;
    return Outcome::Duplicate;
  }
  word |= bit;
  ++s.replies;
  s.lastReplyMonoNs = nowMonoNs;
  if (r.seq >= s.maxSeq || s.replies == 1) {
    s.maxSeq = r.seq;
    s.probesSeenAtMax = r.probesSeen;
  }
  if (r.firstSeq < s.firstSeen) s.firstSeen = r.firstSeq;
  uint64_t roundTrip = t4Ns - r.t1Ns;
  uint64_t processing = r.t3Ns - r.t2Ns;
  uint64_t rtt = roundTrip - processing;
  rec->rtt.record(rtt);
  rec->roundTrip.record(roundTrip);
  rec->processing.record(processing);
  // NTP (RFC 5905): offset = ((t2 - t1) + (t3 - t4)) / 2, each difference signed. t2 and t3 are
  // whatever the reply says (any 64-bit value when forged or garbage): the differences are taken
  // in 128 bits and the offset clamped to 64, and the sum saturates, so no stamp can overflow them.
  __extension__ using Wide = __int128;
  const Wide wide = ((static_cast<Wide>(r.t2Ns) - static_cast<Wide>(r.t1Ns)) +
                     (static_cast<Wide>(r.t3Ns) - static_cast<Wide>(t4Ns))) /
                    2;
  const int64_t offset = wide > INT64_MAX ? INT64_MAX : wide < INT64_MIN ? INT64_MIN : static_cast<int64_t>(wide);
  if (__builtin_add_overflow(s.offsetSumNs, offset, &s.offsetSumNs)) s.offsetSumNs = offset < 0 ? INT64_MIN : INT64_MAX;
  s.offsetMinNs = std::min(s.offsetMinNs, offset);
  s.offsetMaxNs = std::max(s.offsetMaxNs, offset);
  if (rtt < s.bestRttNs) {
    s.bestRttNs = rtt;
    s.bestOffsetNs = offset;
  }
  return Outcome::Recorded;
}

void Ping::drain() {
  for (;;) {
    resetBatch(kBatch, kControlLen, control_, msgs_);
    int n = static_cast<int>(syscall(SYS_recvmmsg, fd_.get(), msgs_.data(), kBatch, MSG_DONTWAIT, nullptr));
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) return;
      // ICMP port unreachable of a reflector gone away arrives as ECONNREFUSED on some paths: not fatal.
      if (e == ECONNREFUSED) continue;
      errSyscall_.store("recvmmsg");
      errno_.store(e);
      stop_.store(true);
      return;
    }
    if (n == 0) return;
    uint64_t appReal = realNs();
    uint64_t appMono = monoNs();
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      msghdr& mh = msgs_[i].msg_hdr;
      ++counters_.datagrams;
      if (mh.msg_flags & MSG_TRUNC) {
        ++counters_.truncated;
        ++counters_.malformed;
        continue;
      }
      uint64_t t4 = kernelStamp(mh);
      if (t4 == 0) {
        ++counters_.noKernelStamp;
        t4 = appReal;
      }
      processReply(static_cast<const uint8_t*>(iov_[i].iov_base), msgs_[i].msg_len, from_[i], mh.msg_namelen, t4,
                   appMono);
    }
    if (static_cast<unsigned>(n) < kBatch) return;
  }
}

void Ping::run() {
  const uint64_t period = static_cast<uint64_t>(1e9 / cfg_.rate);
  const uint64_t start = monoNs();
  uint64_t nextSend = start;
  uint64_t probes = 0;
  uint64_t endAt = 0;  // when sending is done: the end of the wait for late replies
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t now = monoNs();
    if (endAt == 0) {
      bool countDone = cfg_.count != 0 && probes >= cfg_.count;
      bool timeDone = cfg_.durationNs != 0 && now - start >= cfg_.durationNs;
      if (countDone || timeDone) {
        sendingDone_.store(true);
        endAt = now + cfg_.waitNs;
      } else if (now >= nextSend) {
        sendProbe();
        ++probes;
        nextSend += period;
        // Far behind (the host was stopped): start the schedule again instead of a burst.
        if (now > nextSend + 100 * period) nextSend = now + period;
        continue;
      }
    }
    if (endAt != 0 && now >= endAt) break;
    uint64_t until = endAt != 0 ? endAt : nextSend;
    if (cfg_.durationNs != 0 && endAt == 0) until = std::min(until, start + cfg_.durationNs);
    uint64_t waitNs = until > now ? until - now : 0;
    waitNs = std::min<uint64_t>(waitNs, 100000000);  // notice stop() within 100 ms
    timespec ts{static_cast<time_t>(waitNs / 1000000000ull), static_cast<long>(waitNs % 1000000000ull)};
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ppoll(&p, 1, &ts, nullptr);
    if (r > 0) drain();
  }
  drain();
  running_.store(false);
  if (onDone_) onDone_();
}

void Ping::snapshot(PingSnapshot& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.session = session_;
  out.counters = counters_;
  out.reflectors.clear();
  for (const auto& r : reflectors_) out.reflectors.push_back(r->stats);
  out.running = running_.load();
  out.sendingDone = sendingDone_.load();
  out.error.err = errno_.load();
  out.error.syscall = errSyscall_.load();
}

bool Ping::histograms(size_t i, LatencyHistogram& rtt, LatencyHistogram& roundTrip,
                      LatencyHistogram& processing) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (i >= reflectors_.size()) return false;
  rtt.copyFrom(reflectors_[i]->rtt);
  roundTrip.copyFrom(reflectors_[i]->roundTrip);
  processing.copyFrom(reflectors_[i]->processing);
  return true;
}

// ---- Pong ------------------------------------------------------------------------------------

Pong::Pong(const PongConfig& cfg) : cfg_(cfg), reflector_(randomId()) {
  if (cfg_.maxSessions == 0) cfg_.maxSessions = 1;
  sessions_.assign(cfg_.maxSessions, SessionSlot{});
  setupBatch(kBatch, kProbeBuf, kControlLen, bufs_, control_, from_, iov_, msgs_);
  fd_ = openPongSocket(cfg_.socket);
}

Pong::~Pong() { stop(); }

void Pong::start(std::function<void()> onEnd) {
  onEnd_ = std::move(onEnd);
  running_.store(true);
  thread_ = std::thread([this] { run(); });
}

void Pong::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

// The slot of a session; a new one takes a free slot, else the longest-silent one if it went
// stale, else the one with the fewest probes (a flood of new session ids, each with few probes,
// churns among themselves and cannot push out a running ping's session).
Pong::SessionSlot& Pong::slotFor(uint64_t session, uint64_t nowMono, bool& fresh) {
  fresh = false;
  SessionSlot* free = nullptr;
  SessionSlot* silent = &sessions_[0];
  SessionSlot* fewest = &sessions_[0];
  for (auto& s : sessions_) {
    if (s.probes == 0) {
      if (!free) free = &s;
      continue;
    }
    if (s.session == session) return s;
    if (s.lastMonoNs < silent->lastMonoNs) silent = &s;
    if (s.probes < fewest->probes || (s.probes == fewest->probes && s.lastMonoNs < fewest->lastMonoNs)) fewest = &s;
  }
  SessionSlot* slot = free;
  if (!slot) {
    slot = nowMono - silent->lastMonoNs >= kStaleSessionNs ? silent : fewest;
    ++counters_.evictedSessions;
  }
  ++counters_.sessions;
  *slot = SessionSlot{};
  slot->session = session;
  fresh = true;
  return *slot;
}

Pong::ProbeCount Pong::countProbe(uint64_t session, uint64_t seq, const sockaddr_storage& from, socklen_t fromLen,
                                  uint64_t nowMono) {
  bool fresh = false;
  SessionSlot& s = slotFor(session, nowMono, fresh);
  if (fresh) {
    s.source = from;
    s.sourceLen = fromLen;
    s.firstSeq = seq;
  } else if (!sameAddress(s.source, s.sourceLen, from, fromLen)) {
    // The session id is visible to every member of the group: another address using it is forged.
    ++counters_.foreignSource;
    return ProbeCount{};
  } else if (seq <= s.lastSeq) {
    ++counters_.notAscending;
    s.lastMonoNs = nowMono;
    return ProbeCount{true, s.probes, s.firstSeq};
  }
  ++s.probes;
  s.lastSeq = seq;
  s.lastMonoNs = nowMono;
  return ProbeCount{true, s.probes, s.firstSeq};
}

void Pong::run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    resetBatch(kBatch, kControlLen, control_, msgs_);
    int n = static_cast<int>(syscall(SYS_recvmmsg, fd_.get(), msgs_.data(), kBatch, MSG_WAITFORONE, nullptr));
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) continue;
      errSyscall_.store("recvmmsg");
      errno_.store(e);
      break;
    }
    uint64_t appReal = realNs();
    uint64_t appMono = monoNs();
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      msghdr& mh = msgs_[i].msg_hdr;
      ++counters_.datagrams;
      // A padded probe longer than the slot is truncated: only its header is needed.
      if (mh.msg_flags & MSG_TRUNC) ++counters_.truncated;
      wire::Probe p;
      size_t len = std::min<size_t>(msgs_[i].msg_len, kProbeBuf);
      if (wire::decodeProbe(static_cast<const uint8_t*>(iov_[i].iov_base), len, p) != wire::DecodeResult::Ok) {
        ++counters_.malformed;
        continue;
      }
      ++counters_.probes;
      uint64_t t2 = kernelStamp(mh);
      if (t2 == 0) {
        ++counters_.noKernelStamp;
        t2 = appReal;
      }
      ProbeCount count = countProbe(p.session, p.seq, from_[i], mh.msg_namelen, appMono);
      if (!count.answer) continue;
      wire::Reply r{p.session, p.seq, p.t1Ns, reflector_, t2, 0, count.probesSeen, count.firstSeq};
      r.t3Ns = realNs();
      wire::encodeReply(reply_, r);
      if (sendto(fd_.get(), reply_, sizeof reply_, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from_[i]),
                 mh.msg_namelen) < 0) {
        ++counters_.replyErrors;
        counters_.lastReplyErrno = errno;
      } else {
        ++counters_.replies;
      }
    }
  }
  running_.store(false);
  if (errno_.load() != 0 && onEnd_) onEnd_();
}

void Pong::snapshot(PongSnapshot& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.reflector = reflector_;
  out.counters = counters_;
  out.running = running_.load();
  out.error.err = errno_.load();
  out.error.syscall = errSyscall_.load();
}

}  // namespace mcbench
