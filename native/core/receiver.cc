#include "receiver.h"

#include <algorithm>
#include <cstring>
#include <ctime>

#include <linux/sock_diag.h>
#include <netinet/udp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "wire.h"

namespace mcbench {

namespace {
// The socket's own drop counter (sk_drops: every datagram the kernel dropped for this socket,
// buffer full above all), read directly; -1 when the kernel cannot tell.
int64_t readSocketDrops(int fd) {
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 || len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
    return -1;
  return static_cast<int64_t>(mem[SK_MEMINFO_DROPS]);
}
}  // namespace

Receiver::Receiver(const ReceiverConfig& cfg) : cfg_(cfg), table_(cfg.maxSessions), stalls_(cfg.stallThresholdNs) {
  if (cfg_.batch == 0) cfg_.batch = 1;
  // Several groups are told apart by their IPv4 destination (IP_PKTINFO, groupAddrs_): IPv4 only.
  for (const IpAddress& g : cfg_.socket.moreGroups)
    if (g.family() != AF_INET || cfg_.socket.group.family() != AF_INET)
      throw SystemError(EINVAL, "receiver", "several groups must all be IPv4 (an IPv6 receiver joins one group)");
  // RFC 3918 join delay runs from the join request to the first packet: the clocks are read
  // before the membership is added (after it, a running stream's first packet can be stamped
  // earlier than the join and read as a negative delay).
  joinMonoNs_ = monoNs();
  joinRealNs_ = realNs();
  if (!cfg_.noSocket) fd_ = openReceiverSocket(cfg_.socket, info_);
  // A v2 session that started after this has its head counted as loss; one before, as not expected.
  table_.setListeningSince(joinRealNs_);
  // The drop count comes from SO_MEMINFO at every snapshot (drops after the last datagram
  // included); the per-datagram SO_RXQ_OVFL control message only when the kernel cannot tell.
  if (!cfg_.noSocket && readSocketDrops(fd_.get()) < 0) {
    int one = 1;
    if (setsockopt(fd_.get(), SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0)
      throw SystemError(errno, "setsockopt", "SO_RXQ_OVFL");
  }
  // --gro: the kernel may keep a GSO send whole (one buffer of datagrams back to back, with a
  // UDP_GRO cmsg giving their length); each must be read whole to find the headers after the first.
  if (cfg_.gro && !cfg_.noSocket) {
    int one = 1;
    if (setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &one, sizeof one) != 0)
      throw SystemError(errno, "setsockopt", "UDP_GRO");
  }
  controlLen_ = CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(int)) + 64;
  if (cfg_.verifyPayload || cfg_.gro) slotLen_ = std::max<size_t>(cfg_.maxDatagram, kHeaderSlot);
  slots_.assign(static_cast<size_t>(cfg_.batch) * slotLen_, 0);
  if (cfg_.verifyPayload) expected_.assign(slotLen_, 0);
  control_.assign(static_cast<size_t>(cfg_.batch) * controlLen_, 0);
  iov_.resize(cfg_.batch);
  sources_.assign(cfg_.batch, sockaddr_storage{});
  msgs_.resize(cfg_.batch);
  if (!cfg_.socket.moreGroups.empty()) {
    groupAddrs_.push_back(reinterpret_cast<const sockaddr_in&>(cfg_.socket.group.storage).sin_addr.s_addr);
    for (const IpAddress& g : cfg_.socket.moreGroups)
      groupAddrs_.push_back(reinterpret_cast<const sockaddr_in&>(g.storage).sin_addr.s_addr);
    groupReceived_.assign(groupAddrs_.size(), 0);
    for (size_t k = 0; k < groupAddrs_.size(); ++k) groupIndex_.emplace_back(groupAddrs_[k], static_cast<uint32_t>(k));
    std::sort(groupIndex_.begin(), groupIndex_.end());
  }
  for (uint32_t i = 0; i < cfg_.batch; ++i) {
    iov_[i].iov_base = slot(i);
    iov_[i].iov_len = slotLen_;
    std::memset(&msgs_[i], 0, sizeof(mmsghdr));
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    msgs_[i].msg_hdr.msg_name = &sources_[i];
  }
}

Receiver::~Receiver() { stop(); }

void Receiver::start(std::function<void()> onEnd) {
  onEnd_ = std::move(onEnd);
  running_.store(true);
  thread_ = std::thread([this] { run(); });
}

void Receiver::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

void Receiver::snapshot(ReceiverSnapshot& out, LatencyRecorder* lat) const {
  // Read before the lock: a datagram dropped meanwhile counts here, never a packet not yet counted.
  int64_t drops = readSocketDrops(fd_.get());
  std::lock_guard<std::mutex> lock(mu_);
  if (lat) lat->copyFrom(latency_);
  out.counters = counters_;
  out.groupReceived = groupReceived_;
  out.groupMismatch = groupMismatch_;
  out.otherDestination = otherDestination_;
  out.counters.socketDrops = drops;
  StallSnapshot& st = out.stalls;
  st.stalls.clear();
  for (size_t i = 0; i < stalls_.size(); ++i) st.stalls.push_back(stalls_.at(i));
  st.overflow = stalls_.overflow();
  st.thresholdNs = stalls_.thresholdNs();
  st.medianGapNs = stalls_.medianGapNs();
  st.firstDataNs = stalls_.firstNs();
  st.lastDataNs = stalls_.lastNs();
  st.lastSession = stalls_.lastSession();
  st.lastSeq = stalls_.lastSeq();
  out.counters.rejectedSessions = table_.rejectedNewSessions();
  out.counters.evictedSessions = table_.evictedSessions();
  out.counters.bogusFins = table_.bogusFins();
  out.counters.foreignSourceData = table_.foreignSourceData();
  out.counters.implausibleStamps = table_.implausibleStamps();
  out.sessions.clear();
  for (size_t i = 0; i < table_.size(); ++i) out.sessions.push_back(table_.at(i));
  out.running = running_.load();
  out.error.err = errno_.load();
  out.error.syscall = errSyscall_.load();
}

void Receiver::latency(LatencyRecorder& out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out.copyFrom(latency_);
}

void Receiver::run() {
  if (cfg_.readPauseNs) {
    uint64_t until = monoNs() + cfg_.readPauseNs;
    while (!stop_.load(std::memory_order_relaxed) && monoNs() < until)
      sleepUntilMono(std::min<uint64_t>(until, monoNs() + 50000000));
  }
  // A thread's timer slack (50 us by default) would stretch every --coalesce wait by up to that.
  if (cfg_.coalesceNs) prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  while (!stop_.load(std::memory_order_relaxed)) {
    for (uint32_t i = 0; i < cfg_.batch; ++i) {
      msgs_[i].msg_hdr.msg_control = &control_[i * controlLen_];
      msgs_[i].msg_hdr.msg_controllen = controlLen_;
      msgs_[i].msg_hdr.msg_flags = 0;
      msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    // Blocks for the first datagram (up to SO_RCVTIMEO), then takes what is queued.
    // The raw system call: glibc's recvmmsg wraps it in thread-cancellation bookkeeping that a
    // multi-threaded process pays on every call (about 1% of the receive path in a profile).
    // MSG_TRUNC: msg_len is the datagram's real length, not the part that fit its slot.
    int r = static_cast<int>(
        syscall(SYS_recvmmsg, fd_.get(), msgs_.data(), cfg_.batch, MSG_WAITFORONE | MSG_TRUNC, nullptr));
    if (r < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) continue;
      errSyscall_.store("recvmmsg");
      errno_.store(e);
      break;
    }
    if (r == 0) continue;
    processBatch(static_cast<unsigned>(r), realNs(), monoNs());
    if (nextWaitNs_ != 0) {
      timespec ts{static_cast<time_t>(nextWaitNs_ / 1000000000u), static_cast<long>(nextWaitNs_ % 1000000000u)};
      nanosleep(&ts, nullptr);
    }
  }
  cpuNs_.store(nowNs(CLOCK_THREAD_CPUTIME_ID));
  running_.store(false);
  if (errno_.load() != 0 && onEnd_) onEnd_();
}

uint64_t coalesceWaitNs(const BatchArrivals& b, uint32_t batch, uint64_t maxWaitNs, int rcvbufBytes) {
  if (maxWaitNs == 0 || b.messages < 4 || b.messages >= batch || b.stamped < 2 || rcvbufBytes <= 0) return 0;
  if (b.lastStampNs <= b.firstStampNs) return 0;  // one GSO send's segments share a stamp: no rate
  const uint64_t gapNs = (b.lastStampNs - b.firstStampNs) / (b.stamped - 1);
  const uint64_t room = static_cast<uint64_t>(rcvbufBytes) / 8 / (uint64_t{b.lastLen} + 4096);
  const uint64_t gather = std::min<uint64_t>(batch, room);
  // A timer wakeup costs about what a socket wakeup does (more in a VM: arming it exits to the
  // hypervisor): a wait pays only when it gathers many datagrams into the next read.
  if (gather < kCoalesceMinGather) return 0;
  return std::min<uint64_t>(maxWaitNs, gapNs * gather);
}

void Receiver::recordLatency(const wire::Header& h, uint64_t kernelNs, uint64_t appNs) {
  LatencyRecorder& l = latency_;
  // Both receive stamps are this host's CLOCK_REALTIME: their difference is free of clock skew.
  if (kernelNs != 0) l.queue.record(appNs >= kernelNs ? appNs - kernelNs : 0);
  else ++l.noKernelStamp;
  const uint64_t arrival = kernelNs != 0 ? kernelNs : appNs;
  // Stamps beyond +-1 h of the arrival are garbage (the session table counted them): kept out.
  if (!wire::plausibleStamp(h.sendNs, arrival)) return;
  // A stamp after the arrival means the sender's clock is ahead: count it, never fold it in.
  if (arrival < h.sendNs) {
    ++l.clockSkew;
    return;
  }
  if (kernelNs != 0) l.kernel.record(kernelNs - h.sendNs);
  l.app.record(appNs >= h.sendNs ? appNs - h.sendNs : 0);
  // v2: the actual send time splits the delay. It is never before the intended time (a sender
  // cannot send early) nor after the arrival; a packet that says otherwise adds to neither.
  if (h.actualNs >= h.sendNs && h.actualNs <= arrival) {
    l.lateness.record(h.actualNs - h.sendNs);
    if (kernelNs != 0) l.path.record(kernelNs - h.actualNs);
  }
}

bool Receiver::payloadMatches(const wire::Header& h, const uint8_t* datagram, size_t len) {
  // The pattern depends on the session and the offset only: kept for the last session seen and
  // extended as longer datagrams come, so checking is one memcmp per datagram.
  if (h.session != expectedSession_ || expectedLen_ == 0) {
    expectedSession_ = h.session;
    expectedLen_ = wire::kHeaderLen;  // the pattern starts after v1's header at the earliest
  }
  if (len > expectedLen_) {
    wire::fillPayload(expected_.data(), expectedLen_, len, h.session);
    expectedLen_ = len & ~size_t{7};  // a short last word is rewritten whole next time
  }
  const size_t from = h.version == wire::kVersion1 ? wire::kHeaderLen : wire::kHeaderLenV2;
  return len <= from || std::memcmp(datagram + from, expected_.data() + from, len - from) == 0;
}

int Receiver::joinedGroup(uint32_t destination) const {
  auto it = std::lower_bound(groupIndex_.begin(), groupIndex_.end(), std::make_pair(destination, uint32_t{0}));
  return it != groupIndex_.end() && it->first == destination ? static_cast<int>(it->second) : -1;
}

void Receiver::countUnreadable(const Arrival& at) {
  ReceiverCounters& c = counters_;
  ++c.datagrams;
  if (at.kernelStamp) ++c.kernelStamps;
  ++c.truncated;
  ++c.foreign;
}

void Receiver::processDatagram(const uint8_t* data, uint32_t len, const Arrival& at) {
  ReceiverCounters& c = counters_;
  if (len > cfg_.maxDatagram) {
    countUnreadable(at);
    return;
  }
  ++c.datagrams;
  if (at.kernelStamp) ++c.kernelStamps;
  // Several groups: the socket is bound to the wildcard address, so unicast and broadcast to the
  // port arrive too (IP_MULTICAST_ALL 0 filters multicast only). Only the joined groups count.
  int group = -1;
  if (!groupIndex_.empty() && (group = joinedGroup(at.destination)) < 0) {
    ++otherDestination_;
    return;
  }
  wire::Header h;
  // decode() reads at most the header's first 48 bytes, never past len (the datagram's length).
  if (wire::decode(data, len, h) != wire::DecodeResult::Ok) {
    ++c.foreign;
    return;
  }
  if (cfg_.expectSession != 0 && h.session != cfg_.expectSession) {
    ++c.otherSessionPackets;
    return;
  }
  if (cfg_.verifyPayload && h.kind == wire::Kind::Data) {
    ++c.payloadChecked;
    if (!payloadMatches(h, data, len)) ++c.payloadErrors;
  }
  if (c.firstMcbenchRealNs == 0) {
    c.firstMcbenchRealNs = at.recvNs;
    // The kernel stamp moved to CLOCK_MONOTONIC by the batch's two clock readings, taken together.
    uint64_t waited = at.appRealNs > at.recvNs ? at.appRealNs - at.recvNs : 0;
    c.firstMcbenchMonoNs = at.appMonoNs > waited ? at.appMonoNs - waited : at.appMonoNs;
  }
  const msghdr& mh = msgs_[at.message].msg_hdr;
  uint64_t source = sourceKey(sources_[at.message], mh.msg_namelen);
  const auto& from6 = reinterpret_cast<const sockaddr_in6&>(sources_[at.message]);
  SessionTable::Outcome outcome = table_.record(h, len, at.recvNs, at.appMonoNs, source,
                                                from6.sin6_family == AF_INET6 ? from6.sin6_addr.s6_addr : nullptr);
  if (outcome == SessionTable::Outcome::Unique || outcome == SessionTable::Outcome::Duplicate)
    stalls_.arrival(at.recvNs, h.session, h.seq);
  if (outcome == SessionTable::Outcome::Unique && cfg_.latency)
    recordLatency(h, at.kernelStamp ? at.recvNs : 0, at.appRealNs);
  if (outcome == SessionTable::Outcome::Unique && group >= 0) {
    ++groupReceived_[static_cast<size_t>(group)];
    // The sender sends seq to its group seq % N: another group here means its list is not ours.
    if (groupAddrs_[static_cast<size_t>(h.seq % groupAddrs_.size())] != at.destination) ++groupMismatch_;
  }
}

void Receiver::processBatch(unsigned n, uint64_t appRealNs, uint64_t appMonoNs) {
  std::lock_guard<std::mutex> lock(mu_);
  ReceiverCounters& c = counters_;
  ++c.batches;
  if (n == cfg_.batch) ++c.fullBatches;
  c.messages += n;
  if (c.firstPacketMonoNs == 0) c.firstPacketMonoNs = appMonoNs;
  c.lastPacketMonoNs = appMonoNs;
  arrivals_ = BatchArrivals{};
  arrivals_.messages = n;
  for (unsigned i = 0; i < n; ++i) {
    msghdr& mh = msgs_[i].msg_hdr;
    Arrival at{appRealNs, appMonoNs, appRealNs, false, 0, i};
    uint32_t segment = 0;  // UDP_GRO: the length of each datagram in a coalesced buffer
    for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr; cm = CMSG_NXTHDR(&mh, cm)) {
      if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO && cm->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
        at.destination = pi.ipi_addr.s_addr;
        continue;
      }
      if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO && cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(cm), sizeof size);
        segment = size > 0 ? static_cast<uint32_t>(size) : 0;
        continue;
      }
      if (cm->cmsg_level != SOL_SOCKET) continue;
      if (cm->cmsg_type == SCM_TIMESTAMPNS && cm->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        at.recvNs = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
        at.kernelStamp = true;
        if (arrivals_.stamped++ == 0) arrivals_.firstStampNs = at.recvNs;
        arrivals_.lastStampNs = at.recvNs;
      } else if (cm->cmsg_type == SO_RXQ_OVFL && cm->cmsg_len >= CMSG_LEN(sizeof(uint32_t))) {
        std::memcpy(&c.rxqOvfl, CMSG_DATA(cm), sizeof(uint32_t));
        c.rxqOvflSeen = true;
      }
    }
    // msg_len is the real length (MSG_TRUNC): MSG_TRUNC in msg_flags only says the datagram was
    // longer than its slot, which every datagram beyond the header is unless the slot is whole.
    const uint32_t len = msgs_[i].msg_len;
    // the socket held the whole message (with --gro a whole buffer): --coalesce's room counts it so
    arrivals_.lastLen = len;
    if (segment == 0 || segment >= len || !cfg_.gro) {
      processDatagram(slot(i), len, at);
      continue;
    }
    // UDP_GRO: the kernel kept one GSO send whole; its datagrams lie back to back, each `segment`
    // bytes but the last. Only what fit the slot can be read (the slot is maxDatagram bytes).
    ++c.groBuffers;
    const uint32_t fits = static_cast<uint32_t>(std::min<size_t>(len, slotLen_));
    for (uint32_t off = 0; off < len; off += segment) {
      const uint32_t part = std::min(segment, len - off);
      ++c.groDatagrams;
      // past the slot (a buffer longer than maxDatagram): unreadable, like a datagram that long
      if (off + part > fits) countUnreadable(at);
      else processDatagram(slot(i) + off, part, at);
    }
  }
  nextWaitNs_ = coalesceWaitNs(arrivals_, cfg_.batch, cfg_.coalesceNs, info_.rcvbufActual);
  if (nextWaitNs_ != 0) {
    ++c.coalescedWaits;
    c.coalescedNs += nextWaitNs_;
  }
}

}  // namespace mcbench
