#include "sender.h"

#include <netinet/udp.h>
#include <sys/prctl.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "clock.h"
#include "pacer.h"
#include "wire.h"

namespace mcbench {

uint64_t randomSessionId() {
  uint64_t id = 0;
  while (id == 0) {
    if (getrandom(&id, sizeof id, 0) != sizeof id) id = std::random_device{}() ^ monoNs();
  }
  return id;
}

Sender::Sender(const SenderConfig& cfg) : cfg_(cfg) {
  if (cfg_.sessionId == 0) cfg_.sessionId = randomSessionId();
  if (cfg_.batch == 0) cfg_.batch = 1;
  if (cfg_.payloadLen < wire::kHeaderLen || cfg_.payloadLen > wire::kMaxPayload)
    throw SystemError(EINVAL, "sendmmsg", "payload length must be 32..65507 bytes");
  const uint32_t segs = cfg_.gsoSegments;
  if (segs > kMaxGsoSegments || static_cast<uint64_t>(segs) * cfg_.payloadLen > wire::kMaxPayload)
    throw SystemError(EINVAL, "sendmmsg",
                      "GSO: segments x payload length must fit one 65507-byte send, at most 64 segments");
  if (cfg_.pattern.kind != PatternKind::None) {
    const PatternConfig& p = cfg_.pattern;
    if (segs) throw SystemError(EINVAL, "sendmmsg", "a traffic pattern (burst, isochronous) cannot be sent with GSO");
    if (!(p.unitsPerSecond > 0) || (p.kind == PatternKind::Burst && p.burstDatagrams == 0) ||
        (p.kind == PatternKind::Isochronous && !(p.frameMeanBytes >= 1)))
      throw SystemError(EINVAL, "sendmmsg", "a traffic pattern needs a rate and a burst or frame size");
    // A burst of up to 1024 (UIO_MAXIOV) datagrams is one sendmmsg call, back to back.
    if (p.kind == PatternKind::Burst) cfg_.batch = std::max(cfg_.batch, std::min<uint32_t>(p.burstDatagrams, 1024));
  }
  fd_ = openSenderSocket(cfg_.socket, dest_, destLen_);
  if (!cfg_.moreGroups.empty()) {
    if (segs) throw SystemError(EINVAL, "sendmmsg", "several groups cannot be sent with GSO");
    dests_.push_back(dest_);
    for (const IpAddress& g : cfg_.moreGroups) {
      if (g.family() != cfg_.socket.group.family())
        throw SystemError(EINVAL, "sendmmsg", "groups of two address families");
      dests_.push_back(g.withPort(cfg_.socket.port, needsScopeId(g) ? cfg_.socket.iface.index : 0));
    }
  }
  messages_ = cfg_.batch;
  // Room for one call's datagrams: batch messages of segs datagrams each with GSO, else batch.
  const size_t capacity = static_cast<size_t>(cfg_.batch) * (segs ? segs : 1);
  // Every buffer carries an encoded header up front; the loop patches only seq and stamp.
  buffers_.assign(capacity * cfg_.payloadLen, 0);
  iov_.resize(capacity);
  msgs_.resize(capacity);
  wire::Header h;
  h.kind = wire::Kind::Data;
  h.session = cfg_.sessionId;
  // v2 (session start and actual send time) whenever the datagram has room for its header.
  v2_ = cfg_.payloadLen >= wire::kHeaderLenV2;
  h.version = v2_ ? wire::kVersion : wire::kVersion1;
  for (size_t i = 0; i < capacity; ++i) {
    uint8_t* b = &buffers_[i * cfg_.payloadLen];
    wire::encode(b, h);
    // The payload pattern a receiver checks with --verify-payload: written once, nothing per packet.
    wire::fillPayload(b, v2_ ? wire::kHeaderLenV2 : wire::kHeaderLen, cfg_.payloadLen, cfg_.sessionId);
    iov_[i].iov_base = b;
    iov_[i].iov_len = cfg_.payloadLen;
    std::memset(&msgs_[i], 0, sizeof(mmsghdr));
    msgs_[i].msg_hdr.msg_name = &dest_;
    msgs_[i].msg_hdr.msg_namelen = destLen_;
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  if (segs > 0) {
    // The same contiguous buffers, one iovec per group of segs datagrams: the kernel cuts the
    // message every payloadLen bytes, so each segment is one whole datagram with its header.
    gsoIov_.resize(messages_);
    gsoMsgs_.resize(messages_);
    gsoControl_.resize(messages_);
    for (uint32_t j = 0; j < messages_; ++j) {
      gsoIov_[j].iov_base = &buffers_[static_cast<size_t>(j) * segs * cfg_.payloadLen];
      gsoIov_[j].iov_len = static_cast<size_t>(segs) * cfg_.payloadLen;
      std::memset(&gsoMsgs_[j], 0, sizeof(mmsghdr));
      std::memset(&gsoControl_[j], 0, sizeof(SegmentControl));
      msghdr& m = gsoMsgs_[j].msg_hdr;
      m.msg_name = &dest_;
      m.msg_namelen = destLen_;
      m.msg_iov = &gsoIov_[j];
      m.msg_iovlen = 1;
      m.msg_control = gsoControl_[j].bytes;
      m.msg_controllen = sizeof gsoControl_[j].bytes;
      cmsghdr* c = CMSG_FIRSTHDR(&m);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const auto size = static_cast<uint16_t>(cfg_.payloadLen);
      std::memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    gsoInUse_.store(segs, std::memory_order_relaxed);
  }
}

Sender::~Sender() { stop(); }

void Sender::start(std::function<void()> onDone) {
  onDone_ = std::move(onDone);
  thread_ = std::thread([this] { run(); });
}

void Sender::stop() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
}

SenderSnapshot Sender::snapshot() const {
  SenderSnapshot s;
  s.sessionId = cfg_.sessionId;
  s.sent = sent_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.calls = calls_.load(std::memory_order_relaxed);
  s.enobufs = enobufs_.load(std::memory_order_relaxed);
  s.eagain = eagain_.load(std::memory_order_relaxed);
  s.finsSent = fins_.load(std::memory_order_relaxed);
  s.startMonoNs = startMono_.load(std::memory_order_relaxed);
  s.endMonoNs = endMono_.load(std::memory_order_relaxed);
  s.maxLateNs = maxLate_.load(std::memory_order_relaxed);
  s.lateSumNs = lateSum_.load(std::memory_order_relaxed);
  s.threadCpuNs = cpuNs_.load(std::memory_order_relaxed);
  s.firstSendMonoNs = firstSend_.load(std::memory_order_relaxed);
  s.lastSendMonoNs = lastSend_.load(std::memory_order_relaxed);
  s.gsoSegments = gsoInUse_.load(std::memory_order_relaxed);
  s.gsoRefusedErrno = gsoRefused_.load(std::memory_order_relaxed);
  s.patternUnits = units_.load(std::memory_order_relaxed);
  s.unitsFinished = unitsDone_.load(std::memory_order_relaxed);
  s.gapSumNs = gapSum_.load(std::memory_order_relaxed);
  s.gapMaxNs = gapMax_.load(std::memory_order_relaxed);
  s.spanSumNs = spanSum_.load(std::memory_order_relaxed);
  s.spanMaxNs = spanMax_.load(std::memory_order_relaxed);
  s.unitDatagramsMax = unitDgMax_.load(std::memory_order_relaxed);
  s.unitBytesMax = unitBytesMax_.load(std::memory_order_relaxed);
  s.firstUnitMonoNs = firstUnit_.load(std::memory_order_relaxed);
  s.lastUnitMonoNs = lastUnit_.load(std::memory_order_relaxed);
  s.done = done_.load(std::memory_order_acquire);
  s.error.err = errno_.load(std::memory_order_relaxed);
  s.error.syscall = errSyscall_.load(std::memory_order_relaxed);
  return s;
}

void Sender::run() {
  // Sleeps end when asked, not up to 50 us later (the default timer slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  const uint64_t start = monoNs();
  // Intended send times are monotonic; the wire carries CLOCK_REALTIME, so map once.
  const uint64_t realAtStart = realNs();
  startMono_.store(start, std::memory_order_relaxed);
  // The session's start time (v2): a receiver that listened before it counts the head's loss.
  startRealNs_ = realAtStart;
  if (v2_)
    for (iovec& v : iov_) wire::patchStart(static_cast<uint8_t*>(v.iov_base), realAtStart);
  Pacer pacer(cfg_.pps, start);
  const uint64_t end = cfg_.durationNs ? start + cfg_.durationNs : UINT64_MAX;
  uint64_t seq = 0, bytes = 0, calls = 0, maxLate = 0, lateSum = 0;
  if (cfg_.pattern.kind != PatternKind::None) seq = runPattern(start, realAtStart, end);

  while (cfg_.pattern.kind == PatternKind::None && !stop_.load(std::memory_order_relaxed)) {
    uint64_t now = monoNs();
    if (now >= end) break;
    if (cfg_.count && seq >= cfg_.count) break;
    // With GSO one call sends up to batch messages of segs datagrams; a paced burst is at most
    // one GSO message (the schedule is kept per message, not per batch of messages).
    const uint32_t segs = gsoInUse_.load(std::memory_order_relaxed);
    uint64_t n = segs ? static_cast<uint64_t>(messages_) * segs : cfg_.batch;
    if (!pacer.unlimited()) {
      if (segs) n = segs;
      uint64_t due = pacer.dueCount(now, seq);
      if (due == 0) {
        // Sleep to the next packet's time, but wake at least every 100 ms for the stop flag.
        uint64_t next = std::min<uint64_t>({pacer.dueNs(seq), now + uint64_t{100000000}, end});
        sleepUntilMono(next);
        continue;
      }
      n = std::min(n, due);
    }
    if (cfg_.count) n = std::min(n, cfg_.count - seq);

    if (pacer.unlimited()) {
      // Unlimited: the send stamp is the actual time of this call, so one pass writes both (with
      // GSO a call patches up to 2,048 headers: a second pass over them cost ~10% at 64 B).
      const uint64_t stampNow = realNs();
      for (uint64_t i = 0; i < n; ++i) {
        auto* b = static_cast<uint8_t*>(iov_[i].iov_base);
        wire::patchSeqAndTime(b, seq + i, stampNow);
        if (v2_) wire::patchActual(b, stampNow);
      }
    } else {
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t stamp = realAtStart + (pacer.dueNs(seq + i) - start);
        wire::patchSeqAndTime(static_cast<uint8_t*>(iov_[i].iov_base), seq + i, stamp);
      }
    }
    if (v2_ && !pacer.unlimited()) {
      // The actual send time, taken right before the call: actual - intended is the lateness.
      uint64_t actual = realNs();
      for (uint64_t i = 0; i < n; ++i) wire::patchActual(static_cast<uint8_t*>(iov_[i].iov_base), actual);
    }
    uint64_t sentNow = 0;
    aim(seq, n);
    int r = sendBurst(n, sentNow);
    if (r < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (segs && calls == 0 && (e == EIO || e == EINVAL || e == EMSGSIZE)) {
        // The kernel or the device refused GSO (EIO: no checksum offload; EMSGSIZE/EINVAL: a
        // segment larger than the device's MTU, which IP fragments cannot carry). Nothing was sent.
        if (cfg_.gsoFallback) {
          gsoRefused_.store(e, std::memory_order_relaxed);
          gsoInUse_.store(0, std::memory_order_relaxed);
          continue;
        }
        errSyscall_.store("sendmmsg with UDP_SEGMENT", std::memory_order_relaxed);
        errno_.store(e, std::memory_order_relaxed);
        break;
      }
      if (e == ENOBUFS) {
        enobufs_.fetch_add(1, std::memory_order_relaxed);
        sched_yield();
        continue;
      }
      if (e == EAGAIN || e == EWOULDBLOCK) {
        eagain_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      errSyscall_.store("sendmmsg", std::memory_order_relaxed);
      errno_.store(e, std::memory_order_relaxed);
      break;
    }
    if (!pacer.unlimited()) {
      uint64_t late = now - pacer.dueNs(seq);
      lateSum += late;
      if (late > maxLate) maxLate = late;
    }
    if (calls == 0) firstSend_.store(now, std::memory_order_relaxed);
    lastSend_.store(now, std::memory_order_relaxed);
    seq += sentNow;
    bytes += sentNow * cfg_.payloadLen;
    ++calls;
    sent_.store(seq, std::memory_order_relaxed);
    bytes_.store(bytes, std::memory_order_relaxed);
    calls_.store(calls, std::memory_order_relaxed);
    maxLate_.store(maxLate, std::memory_order_relaxed);
    lateSum_.store(lateSum, std::memory_order_relaxed);
  }
  endMono_.store(monoNs(), std::memory_order_relaxed);
  cpuNs_.store(nowNs(CLOCK_THREAD_CPUTIME_ID), std::memory_order_relaxed);
  sendFins(seq);
  done_.store(true, std::memory_order_release);
  if (onDone_) onDone_();
}

int Sender::sendBurst(uint64_t n, uint64_t& sent) {
  const uint32_t segs = gsoInUse_.load(std::memory_order_relaxed);
  if (segs == 0) {
    int r = sendmmsg(fd_.get(), msgs_.data(), static_cast<unsigned>(n), 0);
    if (r > 0) sent = static_cast<uint64_t>(r);
    return r;
  }
  const uint64_t k = (n + segs - 1) / segs;
  for (uint64_t j = 0; j < k; ++j)
    gsoIov_[j].iov_len = static_cast<size_t>(std::min<uint64_t>(segs, n - j * segs)) * cfg_.payloadLen;
  int r = sendmmsg(fd_.get(), gsoMsgs_.data(), static_cast<unsigned>(k), 0);
  // All messages before the last are full; the last one holds the remainder.
  if (r > 0) sent = static_cast<uint64_t>(r) == k ? n : static_cast<uint64_t>(r) * segs;
  return r;
}

void Sender::aim(uint64_t seq, uint64_t n) {
  if (dests_.empty()) return;
  const uint64_t groups = dests_.size();
  for (uint64_t i = 0; i < n; ++i) msgs_[i].msg_hdr.msg_name = &dests_[(seq + i) % groups];
}

uint64_t Sender::runPattern(uint64_t start, uint64_t realAtStart, uint64_t end) {
  const PatternConfig& p = cfg_.pattern;
  const uint32_t len = cfg_.payloadLen;
  const uint32_t minLen = v2_ ? wire::kHeaderLenV2 : wire::kHeaderLen;
  FrameSizer sizer(p.frameMeanBytes, p.frameStddevBytes, p.seed);
  uint64_t seq = 0, bytes = 0, calls = 0, maxLate = 0, lateSum = 0;
  uint64_t next = 0;       // index of the next unit to begin
  uint64_t left = 0;       // datagrams of the current unit still to send (0: begin the next)
  uint32_t lastLen = len;  // the current unit's last datagram's length
  uint64_t unitBytes = 0, unitDatagrams = 0, unitDue = 0, unitFirstCall = 0;
  bool unitBegun = false;  // its first sendmmsg call was made
  uint64_t units = 0, finished = 0, gapSum = 0, gapMax = 0, spanSum = 0, spanMax = 0, dgMax = 0, bytesMax = 0;

  while (!stop_.load(std::memory_order_relaxed)) {
    if (left == 0) {
      unitDue = unitDueNs(start, p.unitsPerSecond, next++);
      if (p.kind == PatternKind::Burst) {
        left = p.burstDatagrams;
        lastLen = len;
      } else {
        // The frame's bytes cut into datagrams of len; the remainder is the last, padded to a header.
        const uint64_t frame = sizer.next();
        left = (frame + len - 1) / len;
        lastLen = std::max<uint32_t>(static_cast<uint32_t>(frame - (left - 1) * len), minLen);
      }
      unitDatagrams = left;
      unitBytes = (left - 1) * len + lastLen;
      unitBegun = false;
    }
    const uint64_t now = monoNs();
    if (now >= end) break;
    if (cfg_.count && seq >= cfg_.count) break;
    if (now < unitDue) {
      sleepUntilMono(std::min<uint64_t>({unitDue, now + uint64_t{100000000}, end}));
      continue;
    }
    uint64_t n = std::min<uint64_t>(left, cfg_.batch);
    if (cfg_.count) n = std::min(n, cfg_.count - seq);
    const bool endsUnit = n == left;
    // Every datagram of a unit is due at the unit's time: one behind others of its burst waits.
    const uint64_t stamp = realAtStart + (unitDue - start);
    for (uint64_t i = 0; i < n; ++i) wire::patchSeqAndTime(static_cast<uint8_t*>(iov_[i].iov_base), seq + i, stamp);
    if (v2_) {
      const uint64_t actual = realNs();
      for (uint64_t i = 0; i < n; ++i) wire::patchActual(static_cast<uint8_t*>(iov_[i].iov_base), actual);
    }
    if (endsUnit) iov_[n - 1].iov_len = lastLen;
    const uint64_t callAt = monoNs();
    uint64_t sentNow = 0;
    aim(seq, n);
    const int r = sendBurst(n, sentNow);
    const uint64_t returned = monoNs();
    if (endsUnit) iov_[n - 1].iov_len = len;
    if (r < 0) {
      const int e = errno;
      if (e == EINTR) continue;
      if (e == ENOBUFS) {
        enobufs_.fetch_add(1, std::memory_order_relaxed);
        sched_yield();
        continue;
      }
      if (e == EAGAIN || e == EWOULDBLOCK) {
        eagain_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      errSyscall_.store("sendmmsg", std::memory_order_relaxed);
      errno_.store(e, std::memory_order_relaxed);
      break;
    }
    if (!unitBegun) {
      unitBegun = true;
      const uint64_t late = callAt > unitDue ? callAt - unitDue : 0;
      lateSum += late;
      maxLate = std::max(maxLate, late);
      if (units > 0) {
        const uint64_t gap = callAt - unitFirstCall;
        gapSum += gap;
        gapMax = std::max(gapMax, gap);
      } else {
        firstUnit_.store(callAt, std::memory_order_relaxed);
      }
      lastUnit_.store(callAt, std::memory_order_relaxed);
      unitFirstCall = callAt;
      ++units;
      dgMax = std::max(dgMax, unitDatagrams);
      bytesMax = std::max(bytesMax, unitBytes);
    }
    if (calls == 0) firstSend_.store(callAt, std::memory_order_relaxed);
    lastSend_.store(callAt, std::memory_order_relaxed);
    bytes += sentNow * len;
    if (endsUnit && sentNow == n) bytes -= len - lastLen;
    seq += sentNow;
    left -= sentNow;
    ++calls;
    if (left == 0) {
      const uint64_t span = returned - unitFirstCall;
      spanSum += span;
      spanMax = std::max(spanMax, span);
      ++finished;
    }
    sent_.store(seq, std::memory_order_relaxed);
    bytes_.store(bytes, std::memory_order_relaxed);
    calls_.store(calls, std::memory_order_relaxed);
    maxLate_.store(maxLate, std::memory_order_relaxed);
    lateSum_.store(lateSum, std::memory_order_relaxed);
    units_.store(units, std::memory_order_relaxed);
    unitsDone_.store(finished, std::memory_order_relaxed);
    gapSum_.store(gapSum, std::memory_order_relaxed);
    gapMax_.store(gapMax, std::memory_order_relaxed);
    spanSum_.store(spanSum, std::memory_order_relaxed);
    spanMax_.store(spanMax, std::memory_order_relaxed);
    unitDgMax_.store(dgMax, std::memory_order_relaxed);
    unitBytesMax_.store(bytesMax, std::memory_order_relaxed);
  }
  return seq;
}

void Sender::sendFins(uint64_t total) {
  // FIN is sent several times: one lost FIN must not make the tail unknown.
  wire::Header h;
  h.kind = wire::Kind::Fin;
  h.session = cfg_.sessionId;
  h.seq = total;
  h.version = v2_ ? wire::kVersion : wire::kVersion1;
  h.startNs = startRealNs_;
  uint8_t buf[wire::kHeaderLenV2];
  const size_t len = v2_ ? wire::kHeaderLenV2 : wire::kHeaderLen;
  for (uint32_t i = 0; i < cfg_.finCount; ++i) {
    if (i > 0) sleepUntilMono(monoNs() + cfg_.finSpacingNs);
    h.sendNs = h.actualNs = realNs();
    wire::encode(buf, h);
    if (sendto(fd_.get(), buf, len, 0, reinterpret_cast<sockaddr*>(&dest_), destLen_) == static_cast<ssize_t>(len))
      fins_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace mcbench
