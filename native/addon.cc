// The thin Node-API layer over the core: option objects in, snapshots out, core SystemErrors
// turned into Node-style system errors (code, errno, syscall). No packet ever crosses to JS.
#include <napi.h>

#include <arpa/inet.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "core/flock.h"
#include "core/igmp.h"
#include "core/receiver.h"
#include "core/rtt.h"
#include "core/sender.h"
#include "core/ssm_router.h"

namespace {

using mcbench::SystemError;

std::string errnoName(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EINVAL: return "EINVAL";
    case ENOBUFS: return "ENOBUFS";
    case ENETUNREACH: return "ENETUNREACH";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case EAGAIN: return "EAGAIN";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EIO: return "EIO";
    case EMSGSIZE: return "EMSGSIZE";
    default: return "E" + std::to_string(e);
  }
}

Napi::Error systemError(Napi::Env env, int err, const std::string& syscall, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, errnoName(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Runs setup code that may throw a core SystemError and rethrows it as a JS system error.
template <typename F>
bool guarded(Napi::Env env, F&& f) {
  try {
    f();
    return true;
  } catch (const SystemError& e) {
    systemError(env, e.code(), e.syscall(), e.what()).ThrowAsJavaScriptException();
  } catch (const std::exception& e) { Napi::Error::New(env, e.what()).ThrowAsJavaScriptException(); }
  return false;
}

double num(const Napi::Object& o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}
bool boolean(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}
std::string str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
// The TS layer validated everything; this only refuses what would be undefined behaviour.
mcbench::IpAddress groupOf(const Napi::Object& o) { return mcbench::parseIpAddress(str(o, "group")); }
// SSM sources (`sources`: an array of address strings); absent or empty: any source.
std::vector<mcbench::IpAddress> sourcesOf(const Napi::Object& o) {
  std::vector<mcbench::IpAddress> out;
  Napi::Value v = o.Get("sources");
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw SystemError(EINVAL, "inet_pton", "a source is not a string");
    out.push_back(mcbench::parseIpAddress(s.As<Napi::String>().Utf8Value()));
  }
  return out;
}
// Several -g: the groups after `group` (`moreGroups`: an array of address strings, in -g order).
std::vector<mcbench::IpAddress> moreGroupsOf(const Napi::Object& o) {
  std::vector<mcbench::IpAddress> out;
  Napi::Value v = o.Get("moreGroups");
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw SystemError(EINVAL, "inet_pton", "a group is not a string");
    out.push_back(mcbench::parseIpAddress(s.As<Napi::String>().Utf8Value()));
  }
  return out;
}
// 64-bit counters cross as Numbers: exact up to 2^53, which no run reaches.
Napi::Number n64(Napi::Env env, uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }
// Sequence numbers and counts that may exceed 2^53 (a crafted or long-running session): a Number
// while exact, else the exact decimal string (the result schema documents both forms).
Napi::Value u64exact(Napi::Env env, uint64_t v) {
  if (v <= (uint64_t{1} << 53)) return Napi::Number::New(env, static_cast<double>(v));
  return Napi::String::New(env, std::to_string(v));
}
Napi::String hex64(Napi::Env env, uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return Napi::String::New(env, buf);
}
Napi::Value threadError(Napi::Env env, const mcbench::ThreadError& te) {
  if (te.err == 0) return env.Null();
  return systemError(env, te.err, te.syscall, std::string(te.syscall) + ": " + std::strerror(te.err)).Value();
}

// A "worker finished" notification: the worker thread calls fire() at most once; the JS callback
// then runs on the JS thread. The worker releases the TSFN right after queueing the call (the
// pattern of node-addon-examples' clock.cc); if the worker never fires, release() after the join
// does it. The TSFN keeps the event loop alive while the worker runs.
class DoneNotifier {
 public:
  DoneNotifier(Napi::Env env, Napi::Function cb, const char* name) {
    if (!cb.IsEmpty()) tsfn_ = Napi::ThreadSafeFunction::New(env, cb, name, 0, 1);
  }
  void fire() {  // worker thread
    if (tsfn_ && !released_.exchange(true)) {
      tsfn_.NonBlockingCall();
      tsfn_.Release();
    }
  }
  void release() {  // JS thread, after the worker was joined
    if (tsfn_ && !released_.exchange(true)) tsfn_.Release();
  }

 private:
  Napi::ThreadSafeFunction tsfn_;
  std::atomic<bool> released_{false};
};

class SenderWrap : public Napi::ObjectWrap<SenderWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Sender",
                       {InstanceMethod("start", &SenderWrap::Start), InstanceMethod("close", &SenderWrap::Close),
                        InstanceMethod("snapshot", &SenderWrap::Snapshot)});
  }

  explicit SenderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SenderWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "Sender(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    guarded(env, [&] {
      mcbench::SenderConfig c;
      c.socket.group = groupOf(o);
      c.socket.port = static_cast<uint16_t>(num(o, "port", 0));
      c.socket.iface = mcbench::resolveInterface(str(o, "interface"));
      c.socket.ttl = static_cast<int>(num(o, "ttl", 1));
      c.socket.loop = boolean(o, "loop", true);
      c.socket.sndbuf = static_cast<int>(num(o, "sndbuf", 0));
      c.payloadLen = static_cast<uint32_t>(num(o, "length", 1400));
      c.batch = static_cast<uint32_t>(num(o, "batch", 32));
      c.pps = num(o, "pps", 0);
      c.count = static_cast<uint64_t>(num(o, "count", 0));
      c.durationNs = static_cast<uint64_t>(num(o, "durationNs", 0));
      c.finCount = static_cast<uint32_t>(num(o, "finCount", 5));
      c.gsoSegments = static_cast<uint32_t>(num(o, "gsoSegments", 0));
      c.gsoFallback = boolean(o, "gsoFallback", false);
      // the session id as 1-16 hex digits (a Number cannot hold 64 bits); absent: random
      const std::string session = str(o, "sessionId");
      if (!session.empty()) c.sessionId = std::stoull(session, nullptr, 16);
      const std::string pattern = str(o, "pattern");
      c.pattern.kind = pattern == "burst"         ? mcbench::PatternKind::Burst
                       : pattern == "isochronous" ? mcbench::PatternKind::Isochronous
                                                  : mcbench::PatternKind::None;
      c.pattern.unitsPerSecond = num(o, "unitsPerSecond", 0);
      c.pattern.burstDatagrams = static_cast<uint32_t>(num(o, "burstDatagrams", 0));
      c.pattern.frameMeanBytes = num(o, "frameMeanBytes", 0);
      c.pattern.frameStddevBytes = num(o, "frameStddevBytes", 0);
      c.pattern.seed = static_cast<uint64_t>(num(o, "seed", 1));
      c.moreGroups = moreGroupsOf(o);
      sender_ = std::make_unique<mcbench::Sender>(c);
    });
  }
  ~SenderWrap() override {
    if (sender_) sender_->stop();
    if (notifier_) notifier_->release();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!sender_ || started_) {
      Napi::Error::New(env, "sender not open or already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    started_ = true;
    Napi::Function cb = info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
    notifier_ = std::make_unique<DoneNotifier>(env, cb, "mcbench.sender.done");
    DoneNotifier* n = notifier_.get();
    sender_->start([n] { n->fire(); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (sender_) sender_->stop();
    if (notifier_) notifier_->release();
    return info.Env().Undefined();
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!sender_) return env.Null();
    mcbench::SenderSnapshot s = sender_->snapshot();
    Napi::Object o = Napi::Object::New(env);
    o.Set("sessionId", hex64(env, s.sessionId));
    o.Set("sent", n64(env, s.sent));
    o.Set("bytes", n64(env, s.bytes));
    o.Set("calls", n64(env, s.calls));
    o.Set("enobufs", n64(env, s.enobufs));
    o.Set("eagain", n64(env, s.eagain));
    o.Set("finsSent", n64(env, s.finsSent));
    o.Set("startMonoNs", n64(env, s.startMonoNs));
    o.Set("endMonoNs", n64(env, s.endMonoNs));
    o.Set("maxLateNs", n64(env, s.maxLateNs));
    o.Set("lateSumNs", n64(env, s.lateSumNs));
    o.Set("threadCpuNs", n64(env, s.threadCpuNs));
    o.Set("firstSendMonoNs", n64(env, s.firstSendMonoNs));
    o.Set("lastSendMonoNs", n64(env, s.lastSendMonoNs));
    o.Set("gsoSegments", Napi::Number::New(env, s.gsoSegments));
    o.Set("gsoRefusedErrno", Napi::Number::New(env, s.gsoRefusedErrno));
    o.Set("patternUnits", n64(env, s.patternUnits));
    o.Set("unitsFinished", n64(env, s.unitsFinished));
    o.Set("gapSumNs", n64(env, s.gapSumNs));
    o.Set("gapMaxNs", n64(env, s.gapMaxNs));
    o.Set("spanSumNs", n64(env, s.spanSumNs));
    o.Set("spanMaxNs", n64(env, s.spanMaxNs));
    o.Set("unitDatagramsMax", n64(env, s.unitDatagramsMax));
    o.Set("unitBytesMax", n64(env, s.unitBytesMax));
    o.Set("firstUnitMonoNs", n64(env, s.firstUnitMonoNs));
    o.Set("lastUnitMonoNs", n64(env, s.lastUnitMonoNs));
    o.Set("done", Napi::Boolean::New(env, s.done));
    o.Set("error", threadError(env, s.error));
    return o;
  }

  std::unique_ptr<mcbench::Sender> sender_;
  std::unique_ptr<DoneNotifier> notifier_;
  bool started_ = false;
};

class ReceiverWrap : public Napi::ObjectWrap<ReceiverWrap> {
 public:
  friend class PingWrap;  // the RTT histograms cross like the latency ones: histogram()
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Receiver",
                       {InstanceMethod("start", &ReceiverWrap::Start), InstanceMethod("close", &ReceiverWrap::Close),
                        InstanceMethod("snapshot", &ReceiverWrap::Snapshot),
                        InstanceMethod("info", &ReceiverWrap::Info),
                        InstanceMethod("latency", &ReceiverWrap::Latency)});
  }

  explicit ReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReceiverWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "Receiver(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    guarded(env, [&] {
      mcbench::ReceiverConfig c;
      c.socket.group = groupOf(o);
      c.socket.port = static_cast<uint16_t>(num(o, "port", 0));
      c.socket.iface = mcbench::resolveInterface(str(o, "interface"));
      c.socket.rcvbuf = static_cast<int>(num(o, "rcvbuf", 0));
      c.socket.rcvbufForce = boolean(o, "rcvbufForce", false);
      c.socket.sources = sourcesOf(o);
      c.socket.moreGroups = moreGroupsOf(o);
      ipv6_ = c.socket.group.family() == AF_INET6;
      c.batch = static_cast<uint32_t>(num(o, "batch", 64));
      c.maxDatagram = static_cast<uint32_t>(num(o, "maxDatagram", 65536));
      c.readPauseNs = static_cast<uint64_t>(num(o, "readPauseNs", 0));
      c.coalesceNs = static_cast<uint64_t>(num(o, "coalesceNs", 0));
      c.gro = boolean(o, "gro", false);
      c.latency = boolean(o, "latency", true);
      c.verifyPayload = boolean(o, "verifyPayload", false);
      c.stallThresholdNs = static_cast<uint64_t>(num(o, "stallThresholdNs", 0));
      const std::string expectSession = str(o, "expectSession");
      if (!expectSession.empty()) c.expectSession = std::stoull(expectSession, nullptr, 16);
      receiver_ = std::make_unique<mcbench::Receiver>(c);
    });
  }
  ~ReceiverWrap() override {
    if (receiver_) receiver_->stop();
    if (notifier_) notifier_->release();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!receiver_ || started_) {
      Napi::Error::New(env, "receiver not open or already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    started_ = true;
    Napi::Function cb = info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
    notifier_ = std::make_unique<DoneNotifier>(env, cb, "mcbench.receiver.error");
    DoneNotifier* n = notifier_.get();
    // The receiver calls back only when it stops on a fatal error.
    receiver_->start([n] { n->fire(); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (receiver_) receiver_->stop();
    if (notifier_) notifier_->release();
    return info.Env().Undefined();
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!receiver_) return env.Null();
    o.Set("rcvbufActual", Napi::Number::New(env, receiver_->socketInfo().rcvbufActual));
    o.Set("joinMonoNs", n64(env, receiver_->joinMonoNs()));
    o.Set("joinRealNs", n64(env, receiver_->joinRealNs()));
    o.Set("threadCpuNs", n64(env, receiver_->threadCpuNs()));
    return o;
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!receiver_) return env.Null();
    // snapshot(true): the latency histograms too, cut at the same packet as the counters.
    bool withLatency = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
    if (withLatency && !latencyCopy_) latencyCopy_ = std::make_unique<mcbench::LatencyRecorder>();
    receiver_->snapshot(snap_, withLatency ? latencyCopy_.get() : nullptr);
    const mcbench::ReceiverCounters& c = snap_.counters;
    Napi::Object o = Napi::Object::New(env);
    if (!snap_.groupReceived.empty()) {
      Napi::Array groups = Napi::Array::New(env, snap_.groupReceived.size());
      for (size_t i = 0; i < snap_.groupReceived.size(); ++i)
        groups.Set(static_cast<uint32_t>(i), n64(env, snap_.groupReceived[i]));
      o.Set("groupReceived", groups);
      o.Set("groupMismatch", n64(env, snap_.groupMismatch));
      o.Set("otherDestination", n64(env, snap_.otherDestination));
    }
    o.Set("datagrams", n64(env, c.datagrams));
    o.Set("foreign", n64(env, c.foreign));
    o.Set("truncated", n64(env, c.truncated));
    o.Set("payloadChecked", n64(env, c.payloadChecked));
    o.Set("payloadErrors", n64(env, c.payloadErrors));
    o.Set("rejectedSessions", n64(env, c.rejectedSessions));
    o.Set("evictedSessions", n64(env, c.evictedSessions));
    o.Set("bogusFins", n64(env, c.bogusFins));
    o.Set("foreignSourceData", n64(env, c.foreignSourceData));
    o.Set("implausibleStamps", n64(env, c.implausibleStamps));
    o.Set("otherSessionPackets", n64(env, c.otherSessionPackets));
    o.Set("batches", n64(env, c.batches));
    o.Set("fullBatches", n64(env, c.fullBatches));
    o.Set("coalescedWaits", n64(env, c.coalescedWaits));
    o.Set("messages", n64(env, c.messages));
    o.Set("groBuffers", n64(env, c.groBuffers));
    o.Set("groDatagrams", n64(env, c.groDatagrams));
    o.Set("coalescedNs", n64(env, c.coalescedNs));
    o.Set("rxqOvfl", n64(env, c.rxqOvfl));
    o.Set("kernelStamps", n64(env, c.kernelStamps));
    o.Set("firstPacketMonoNs", n64(env, c.firstPacketMonoNs));
    o.Set("lastPacketMonoNs", n64(env, c.lastPacketMonoNs));
    o.Set("socketDrops", Napi::Number::New(env, static_cast<double>(c.socketDrops)));
    o.Set("firstMcbenchRealNs", n64(env, c.firstMcbenchRealNs));
    o.Set("firstMcbenchMonoNs", n64(env, c.firstMcbenchMonoNs));
    o.Set("stalls", stallsObject(env, snap_.stalls));
    if (withLatency) o.Set("latency", latencyObject(env, *latencyCopy_));
    o.Set("running", Napi::Boolean::New(env, snap_.running));
    o.Set("error", threadError(env, snap_.error));
    Napi::Array sessions = Napi::Array::New(env, snap_.sessions.size());
    for (size_t i = 0; i < snap_.sessions.size(); ++i) {
      const mcbench::SessionStats& s = snap_.sessions[i];
      Napi::Object so = Napi::Object::New(env);
      so.Set("sessionId", hex64(env, s.session));
      so.Set("started", Napi::Boolean::New(env, s.started));
      so.Set("firstSeq", u64exact(env, s.firstSeq));
      so.Set("maxSeq", u64exact(env, s.maxSeq));
      so.Set("notExpected", u64exact(env, s.notExpected()));
      so.Set("headCounted", Napi::Boolean::New(env, s.headCounted));
      so.Set("joinedAfterStart", Napi::Boolean::New(env, s.joinedAfterStart));
      so.Set("startKnown", Napi::Boolean::New(env, s.startNs != 0));
      so.Set("seqJumps", n64(env, s.seqJumps));
      char src[64] = "";
      if (s.source != 0 && ipv6_) {
        char a[INET6_ADDRSTRLEN] = "";
        inet_ntop(AF_INET6, s.sourceIPv6, a, sizeof a);
        snprintf(src, sizeof src, "[%s]:%u", a, static_cast<unsigned>(s.source & 0xFFFF));
      } else if (s.source != 0) {
        snprintf(src, sizeof src, "%u.%u.%u.%u:%u", static_cast<unsigned>(s.source >> 40) & 255,
                 static_cast<unsigned>(s.source >> 32) & 255, static_cast<unsigned>(s.source >> 24) & 255,
                 static_cast<unsigned>(s.source >> 16) & 255, static_cast<unsigned>(s.source & 0xFFFF));
      }
      so.Set("source", Napi::String::New(env, src));
      so.Set("unique", n64(env, s.unique));
      so.Set("expected", n64(env, s.expected()));
      so.Set("lost", n64(env, s.lost()));
      so.Set("duplicates", n64(env, s.duplicates));
      so.Set("reordered", n64(env, s.reordered));
      so.Set("reorderMaxExtent", n64(env, s.reorderMaxExtent));
      so.Set("gaps", n64(env, s.gaps));
      so.Set("beyondWindow", n64(env, s.beyondWindow));
      so.Set("bytes", n64(env, s.bytes));
      so.Set("finSeen", Napi::Boolean::New(env, s.finSeen));
      so.Set("finTotal", u64exact(env, s.finTotal));
      so.Set("finsReceived", n64(env, s.finsReceived));
      so.Set("firstRecvNs", n64(env, s.firstRecvNs));
      so.Set("lastRecvNs", n64(env, s.lastRecvNs));
      so.Set("lastRecvMonoNs", n64(env, s.lastRecvMonoNs));
      so.Set("jitterNs", Napi::Number::New(env, s.jitterNs));
      sessions[i] = so;
    }
    o.Set("sessions", sessions);
    return o;
  }

  // Non-zero buckets as parallel arrays (value = the bucket's lowest value, ns; count).
  static Napi::Object histogram(Napi::Env env, const mcbench::LatencyHistogram& h) {
    using H = mcbench::LatencyHistogram;
    size_t nonZero = 0;
    for (size_t i = 0; i < H::kCountsLength; ++i) nonZero += h.count(i) != 0;
    Napi::Float64Array values = Napi::Float64Array::New(env, nonZero);
    Napi::Float64Array counts = Napi::Float64Array::New(env, nonZero);
    for (size_t i = 0, k = 0; i < H::kCountsLength; ++i) {
      if (h.count(i) == 0) continue;
      values[k] = static_cast<double>(H::valueAt(i));
      counts[k] = static_cast<double>(h.count(i));
      ++k;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("values", values);
    o.Set("counts", counts);
    o.Set("total", n64(env, h.total()));
    o.Set("min", n64(env, h.min()));
    o.Set("max", n64(env, h.max()));
    o.Set("sum", n64(env, h.sum()));
    o.Set("aboveRange", n64(env, h.aboveRange()));
    return o;
  }
  // Receive stamps cross as Numbers of ns since the epoch (about 2^60: exact to 256 ns, which is
  // below what the 10 ms stall accuracy needs); lengths are exact differences taken here.
  static Napi::Object stallsObject(Napi::Env env, const mcbench::StallSnapshot& st) {
    Napi::Array list = Napi::Array::New(env, st.stalls.size());
    for (size_t i = 0; i < st.stalls.size(); ++i) {
      const mcbench::StallRecord& r = st.stalls[i];
      Napi::Object so = Napi::Object::New(env);
      so.Set("startNs", n64(env, r.startNs));
      so.Set("lengthNs", n64(env, r.endNs - r.startNs));
      so.Set("sessionBefore", hex64(env, r.sessionBefore));
      so.Set("seqBefore", n64(env, r.seqBefore));
      so.Set("sessionAfter", hex64(env, r.sessionAfter));
      so.Set("seqAfter", n64(env, r.seqAfter));
      list[i] = so;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("list", list);
    o.Set("overflow", n64(env, st.overflow));
    o.Set("thresholdNs", n64(env, st.thresholdNs));
    o.Set("medianGapNs", n64(env, st.medianGapNs));
    o.Set("firstDataNs", n64(env, st.firstDataNs));
    o.Set("lastDataNs", n64(env, st.lastDataNs));
    o.Set("lastSession", hex64(env, st.lastSession));
    o.Set("lastSeq", n64(env, st.lastSeq));
    return o;
  }
  Napi::Value Latency(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!receiver_) return env.Null();
    if (!latencyCopy_) latencyCopy_ = std::make_unique<mcbench::LatencyRecorder>();
    receiver_->latency(*latencyCopy_);
    return latencyObject(env, *latencyCopy_);
  }
  static Napi::Object latencyObject(Napi::Env env, const mcbench::LatencyRecorder& l) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("kernel", histogram(env, l.kernel));
    o.Set("app", histogram(env, l.app));
    o.Set("queue", histogram(env, l.queue));
    o.Set("lateness", histogram(env, l.lateness));
    o.Set("path", histogram(env, l.path));
    o.Set("clockSkew", n64(env, l.clockSkew));
    o.Set("noKernelStamp", n64(env, l.noKernelStamp));
    return o;
  }

  std::unique_ptr<mcbench::Receiver> receiver_;
  std::unique_ptr<mcbench::LatencyRecorder> latencyCopy_;  // reused across calls
  std::unique_ptr<DoneNotifier> notifier_;
  mcbench::ReceiverSnapshot snap_;  // reused: no allocation per snapshot once sized
  bool started_ = false;
  bool ipv6_ = false;  // the group (and so every source) is IPv6
};

// RTT mode (native/core/rtt.h): Ping and Pong. Options in, snapshots out; the histograms of one
// reflector on request (a few hundred KiB each: at the end, not per tick).
mcbench::RttSocketOptions rttSocketOf(const Napi::Object& o) {
  mcbench::RttSocketOptions s;
  s.group = str(o, "group");
  s.port = static_cast<uint16_t>(num(o, "port", 0));
  s.iface = str(o, "interface");
  s.ttl = static_cast<int>(num(o, "ttl", 1));
  s.loop = boolean(o, "loop", true);
  return s;
}
// A reflector's address as text ("10.0.0.2:5001", "[fd00::2]:5001").
std::string addressText(const sockaddr_storage& a) {
  char ip[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto& s = reinterpret_cast<const sockaddr_in&>(a);
    inet_ntop(AF_INET, &s.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(s.sin_port));
  }
  if (a.ss_family == AF_INET6) {
    const auto& s = reinterpret_cast<const sockaddr_in6&>(a);
    inet_ntop(AF_INET6, &s.sin6_addr, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(s.sin6_port));
  }
  return "";
}
// Signed ns (offsets) as Numbers: exact within +-2^53 ns (104 days).
Napi::Number i64(Napi::Env env, int64_t v) { return Napi::Number::New(env, static_cast<double>(v)); }

class PingWrap : public Napi::ObjectWrap<PingWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Ping",
                       {InstanceMethod("start", &PingWrap::Start), InstanceMethod("close", &PingWrap::Close),
                        InstanceMethod("snapshot", &PingWrap::Snapshot),
                        InstanceMethod("histograms", &PingWrap::Histograms)});
  }
  explicit PingWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PingWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "Ping(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    guarded(env, [&] {
      mcbench::PingConfig c;
      c.socket = rttSocketOf(o);
      c.rate = num(o, "rate", 10);
      c.count = static_cast<uint64_t>(num(o, "count", 0));
      c.durationNs = static_cast<uint64_t>(num(o, "durationNs", 0));
      c.waitNs = static_cast<uint64_t>(num(o, "waitNs", 1e9));
      c.length = static_cast<uint32_t>(num(o, "length", 32));
      c.maxReflectors = static_cast<size_t>(num(o, "maxReflectors", 64));
      ping_ = std::make_unique<mcbench::Ping>(c);
    });
  }
  ~PingWrap() override {
    if (ping_) ping_->stop();
    if (notifier_) notifier_->release();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ping_ || started_) {
      Napi::Error::New(env, "ping not open or already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    started_ = true;
    Napi::Function cb = info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
    notifier_ = std::make_unique<DoneNotifier>(env, cb, "mcbench.ping.done");
    DoneNotifier* n = notifier_.get();
    ping_->start([n] { n->fire(); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (ping_) ping_->stop();
    if (notifier_) notifier_->release();
    return info.Env().Undefined();
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ping_) return env.Null();
    ping_->snapshot(snap_);
    const mcbench::PingCounters& c = snap_.counters;
    Napi::Object o = Napi::Object::New(env);
    o.Set("sessionId", hex64(env, snap_.session));
    o.Set("sent", n64(env, c.sent));
    o.Set("sendErrors", n64(env, c.sendErrors));
    o.Set("lastSendErrno", Napi::Number::New(env, c.lastSendErrno));
    o.Set("datagrams", n64(env, c.datagrams));
    o.Set("truncated", n64(env, c.truncated));
    o.Set("malformed", n64(env, c.malformed));
    o.Set("otherSession", n64(env, c.otherSession));
    o.Set("unknownProbe", n64(env, c.unknownProbe));
    o.Set("late", n64(env, c.late));
    o.Set("implausible", n64(env, c.implausible));
    o.Set("sourceMismatch", n64(env, c.sourceMismatch));
    o.Set("rejectedReflectors", n64(env, c.rejectedReflectors));
    o.Set("noKernelStamp", n64(env, c.noKernelStamp));
    o.Set("firstSendRealNs", n64(env, c.firstSendRealNs));
    o.Set("lastSendRealNs", n64(env, c.lastSendRealNs));
    o.Set("running", Napi::Boolean::New(env, snap_.running));
    o.Set("sendingDone", Napi::Boolean::New(env, snap_.sendingDone));
    o.Set("error", threadError(env, snap_.error));
    Napi::Array list = Napi::Array::New(env, snap_.reflectors.size());
    for (size_t i = 0; i < snap_.reflectors.size(); ++i) {
      const mcbench::ReflectorStats& r = snap_.reflectors[i];
      Napi::Object ro = Napi::Object::New(env);
      ro.Set("reflectorId", hex64(env, r.reflector));
      ro.Set("address", Napi::String::New(env, addressText(r.address)));
      ro.Set("replies", n64(env, r.replies));
      ro.Set("duplicates", n64(env, r.duplicates));
      ro.Set("firstSeen", u64exact(env, r.firstSeen));
      ro.Set("maxSeq", u64exact(env, r.maxSeq));
      ro.Set("probesSeenAtMax", u64exact(env, r.probesSeenAtMax));
      ro.Set("firstReplyMonoNs", n64(env, r.firstReplyMonoNs));
      ro.Set("lastReplyMonoNs", n64(env, r.lastReplyMonoNs));
      ro.Set("bestRttNs", n64(env, r.bestRttNs));
      ro.Set("bestOffsetNs", i64(env, r.bestOffsetNs));
      ro.Set("offsetSumNs", i64(env, r.offsetSumNs));
      ro.Set("offsetMinNs", i64(env, r.offsetMinNs));
      ro.Set("offsetMaxNs", i64(env, r.offsetMaxNs));
      list[i] = ro;
    }
    o.Set("reflectors", list);
    return o;
  }
  // histograms(i): { rtt, roundTrip, processing } of reflector i (as in the snapshot), or null.
  Napi::Value Histograms(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ping_ || !info[0].IsNumber()) return env.Null();
    if (!rtt_) {
      rtt_ = std::make_unique<mcbench::LatencyHistogram>();
      roundTrip_ = std::make_unique<mcbench::LatencyHistogram>();
      processing_ = std::make_unique<mcbench::LatencyHistogram>();
    }
    size_t i = info[0].As<Napi::Number>().Uint32Value();
    if (!ping_->histograms(i, *rtt_, *roundTrip_, *processing_)) return env.Null();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rtt", ReceiverWrap::histogram(env, *rtt_));
    o.Set("roundTrip", ReceiverWrap::histogram(env, *roundTrip_));
    o.Set("processing", ReceiverWrap::histogram(env, *processing_));
    return o;
  }

  std::unique_ptr<mcbench::Ping> ping_;
  std::unique_ptr<DoneNotifier> notifier_;
  std::unique_ptr<mcbench::LatencyHistogram> rtt_, roundTrip_, processing_;  // reused across calls
  mcbench::PingSnapshot snap_;
  bool started_ = false;
};

class PongWrap : public Napi::ObjectWrap<PongWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Pong",
                       {InstanceMethod("start", &PongWrap::Start), InstanceMethod("close", &PongWrap::Close),
                        InstanceMethod("snapshot", &PongWrap::Snapshot)});
  }
  explicit PongWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PongWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "Pong(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    guarded(env, [&] {
      mcbench::PongConfig c;
      c.socket = rttSocketOf(o);
      pong_ = std::make_unique<mcbench::Pong>(c);
    });
  }
  ~PongWrap() override {
    if (pong_) pong_->stop();
    if (notifier_) notifier_->release();
  }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!pong_ || started_) {
      Napi::Error::New(env, "pong not open or already started").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    started_ = true;
    Napi::Function cb = info[0].IsFunction() ? info[0].As<Napi::Function>() : Napi::Function();
    notifier_ = std::make_unique<DoneNotifier>(env, cb, "mcbench.pong.error");
    DoneNotifier* n = notifier_.get();
    pong_->start([n] { n->fire(); });
    return env.Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (pong_) pong_->stop();
    if (notifier_) notifier_->release();
    return info.Env().Undefined();
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!pong_) return env.Null();
    mcbench::PongSnapshot s;
    pong_->snapshot(s);
    const mcbench::PongCounters& c = s.counters;
    Napi::Object o = Napi::Object::New(env);
    o.Set("reflectorId", hex64(env, s.reflector));
    o.Set("datagrams", n64(env, c.datagrams));
    o.Set("truncated", n64(env, c.truncated));
    o.Set("malformed", n64(env, c.malformed));
    o.Set("probes", n64(env, c.probes));
    o.Set("replies", n64(env, c.replies));
    o.Set("replyErrors", n64(env, c.replyErrors));
    o.Set("lastReplyErrno", Napi::Number::New(env, c.lastReplyErrno));
    o.Set("noKernelStamp", n64(env, c.noKernelStamp));
    o.Set("sessions", n64(env, c.sessions));
    o.Set("evictedSessions", n64(env, c.evictedSessions));
    o.Set("foreignSource", n64(env, c.foreignSource));
    o.Set("notAscending", n64(env, c.notAscending));
    o.Set("running", Napi::Boolean::New(env, s.running));
    o.Set("error", threadError(env, s.error));
    return o;
  }

  std::unique_ptr<mcbench::Pong> pong_;
  std::unique_ptr<DoneNotifier> notifier_;
  bool started_ = false;
};

// SsmRouter({upstream, downstream, queryInterval}): the lab's SSM router (core/ssm_router.h),
// running on its own thread from construction until close().
class SsmRouterWrap : public Napi::ObjectWrap<SsmRouterWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "SsmRouter",
                       {InstanceMethod("close", &SsmRouterWrap::Close),
                        InstanceMethod("snapshot", &SsmRouterWrap::Snapshot)});
  }
  explicit SsmRouterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SsmRouterWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) {
      Napi::TypeError::New(env, "SsmRouter(options): options object required").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    const std::string up = o.Get("upstream").ToString().Utf8Value();
    const std::string down = o.Get("downstream").ToString().Utf8Value();
    const double interval =
        o.Get("queryInterval").IsNumber() ? o.Get("queryInterval").As<Napi::Number>().DoubleValue() : 10;
    guarded(env, [&] {
      router_ = std::make_unique<mcbench::SsmRouter>(up, down, interval);
      router_->start();
    });
  }
  ~SsmRouterWrap() override = default;  // the router stops and closes its socket

 private:
  Napi::Value Close(const Napi::CallbackInfo& info) {
    router_.reset();
    return info.Env().Undefined();
  }
  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!router_) return env.Null();
    mcbench::SsmRouterSnapshot s;
    router_->snapshot(s);
    const mcbench::SsmRouterCounters& c = s.counters;
    Napi::Object o = Napi::Object::New(env);
    o.Set("igmpPackets", n64(env, c.igmpPackets));
    o.Set("v3Reports", n64(env, c.v3Reports));
    o.Set("ssmRecords", n64(env, c.ssmRecords));
    o.Set("excludeRecords", n64(env, c.excludeRecords));
    o.Set("nonSsmRecords", n64(env, c.nonSsmRecords));
    o.Set("ignoredV1V2Ssm", n64(env, c.ignoredV1V2Ssm));
    o.Set("ignoredV1V2Other", n64(env, c.ignoredV1V2Other));
    o.Set("malformed", n64(env, c.malformed));
    o.Set("upstreamIgmp", n64(env, c.upstreamIgmp));
    o.Set("kernelUpcalls", n64(env, c.kernelUpcalls));
    o.Set("queriesSent", n64(env, c.queriesSent));
    o.Set("routesAdded", n64(env, c.routesAdded));
    o.Set("routesRemoved", n64(env, c.routesRemoved));
    o.Set("routesRefused", n64(env, c.routesRefused));
    Napi::Array routes = Napi::Array::New(env, s.routes.size());
    for (size_t i = 0; i < s.routes.size(); i++) {
      char src[INET_ADDRSTRLEN], grp[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &s.routes[i].source, src, sizeof src);
      inet_ntop(AF_INET, &s.routes[i].group, grp, sizeof grp);
      Napi::Object r = Napi::Object::New(env);
      r.Set("source", Napi::String::New(env, src));
      r.Set("group", Napi::String::New(env, grp));
      routes.Set(static_cast<uint32_t>(i), r);
    }
    o.Set("routes", routes);
    o.Set("running", Napi::Boolean::New(env, s.running));
    o.Set("error", threadError(env, s.error));
    return o;
  }

  std::unique_ptr<mcbench::SsmRouter> router_;
};

// sendIgmpQuery(interface, maxResponseDeciseconds): one IGMPv2 general query (raw socket).
Napi::Value SendIgmpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string iface = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  uint8_t maxResp = static_cast<uint8_t>(info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 10);
  guarded(env, [&] { mcbench::sendIgmpGeneralQuery(mcbench::resolveInterface(iface), maxResp); });
  return env.Undefined();
}

// sendMldQuery(interface, version 1|2, maxResponseMs): one MLD general query (raw ICMPv6 socket).
Napi::Value SendMldQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string iface = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  int version = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 2;
  uint32_t ms = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 10000;
  if (ms > 32767) ms = 32767;
  guarded(env, [&] { mcbench::sendMldGeneralQuery(iface, version, static_cast<uint16_t>(ms)); });
  return env.Undefined();
}

Napi::Object QuerierFamilyObject(Napi::Env env, const mcbench::QuerierFamilyState& f) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", f.address.empty() ? env.Null() : Napi::String::New(env, f.address));
  o.Set("port_ifindex", f.port ? Napi::Number::New(env, f.port) : env.Null());
  o.Set("other_querier_timer_cs", f.otherTimerCentiseconds >= 0
                                      ? Napi::Number::New(env, static_cast<double>(f.otherTimerCentiseconds))
                                      : env.Null());
  return o;
}

// bridgeQuerierState(bridge): {reported, ipv4, ipv6} from IFLA_BR_MCAST_QUERIER_STATE; a family
// is null when the bridge neither queries in it nor heard a querier.
Napi::Value BridgeQuerierState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string br = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  mcbench::BridgeQuerierState s;
  if (!guarded(env, [&] { s = mcbench::readBridgeQuerierState(br); })) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("reported", Napi::Boolean::New(env, s.reported));
  o.Set("ipv4", s.ipv4.present ? QuerierFamilyObject(env, s.ipv4) : env.Null());
  o.Set("ipv6", s.ipv6.present ? QuerierFamilyObject(env, s.ipv6) : env.Null());
  return o;
}

int fdArg(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "a file descriptor");
  return info[0].As<Napi::Number>().Int32Value();
}

// flockTry(fd): true when the exclusive lock was taken, false when another process holds it.
Napi::Value FlockTry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(info);
  bool taken = false;
  guarded(env, [&] { taken = mcbench::tryLockExclusive(fd); });
  return Napi::Boolean::New(env, taken);
}

Napi::Value FlockRelease(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = fdArg(info);
  guarded(env, [&] { mcbench::unlock(fd); });
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flockTry", Napi::Function::New(env, FlockTry));
  exports.Set("flockRelease", Napi::Function::New(env, FlockRelease));
  exports.Set("sendIgmpQuery", Napi::Function::New(env, SendIgmpQuery));
  exports.Set("sendMldQuery", Napi::Function::New(env, SendMldQuery));
  exports.Set("bridgeQuerierState", Napi::Function::New(env, BridgeQuerierState));
  exports.Set("Sender", SenderWrap::Init(env));
  exports.Set("Receiver", ReceiverWrap::Init(env));
  exports.Set("Ping", PingWrap::Init(env));
  exports.Set("Pong", PongWrap::Init(env));
  exports.Set("SsmRouter", SsmRouterWrap::Init(env));
  exports.Set("headerLength", Napi::Number::New(env, static_cast<double>(mcbench::wire::kHeaderLen)));
  return exports;
}

}  // namespace

NODE_API_MODULE(mcbench, Init)
