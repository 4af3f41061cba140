// What one received datagram costs the receive thread (user + kernel CPU), measured without a
// racing sender: a Receiver that does not read for a while (readPauseNs) lets an mcbench Sender
// in the same process queue N datagrams into a big socket buffer, then drains them in full
// batches. Its thread's CPU time (CLOCK_THREAD_CPUTIME_ID: recvmmsg's copy and cmsgs included)
// over N is the figure; the sender's CPU is on its own thread and not counted. Not a unit test
// (timing): run by hand in a namespace of its own, optimised build (BENCHMARKS.md has the numbers):
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMCBENCH_BUILD_ADDON=OFF
//   cmake --build build-rel -t mcbench_receiver_drain_bench
//   sudo unshare -n sh -c 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo &&
//     build-rel/mcbench_receiver_drain_bench 1400 20000 5 [verify] [predrop] [pause=MS]'
// (An older tree's receiver was measured by compiling this file by hand against its sources:
//   g++ -std=c++17 -O2 -Iold/native [-DMCBENCH_IPV4_ONLY_API] this.cc old/native/core/*.cc -lpthread)
// Under callgrind (user-space instructions of the receive thread, stable run to run):
//   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=cg.%p build-rel/... 1400 20000 1
// Exits 1 when a run lost or missed datagrams (the figure would be wrong).
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/clock.h"
#include "core/receiver.h"
#include "core/sender.h"

namespace mcbench {
// The bench's own access to the receiver's socket ("predrop": shrink its buffer for a moment).
// Declared a friend by Receiver for the fuzzer; no other translation unit of this binary defines it.
struct ReceiverFuzzAccess {
  static int fd(const Receiver& r) { return r.fd_.get(); }
};
}  // namespace mcbench

namespace {

using namespace mcbench;

#ifdef MCBENCH_IPV4_ONLY_API  // to measure a build from before IPv6 (a group was an in_addr)
using Group = in_addr;
Group benchGroup() {
  in_addr g{};
  inet_pton(AF_INET, "239.255.0.77", &g);
  return g;
}
#else
using Group = IpAddress;
Group benchGroup() { return parseIpAddress("239.255.0.77"); }
#endif

// Sends count datagrams of len from a Sender of its own (one FIN); returns its session id.
uint64_t sendAll(const Group& group, uint16_t port, uint32_t len, uint64_t count) {
  SenderConfig sc;
  sc.socket.group = group;
  sc.socket.port = port;
  sc.socket.iface = resolveInterface("lo");
  sc.payloadLen = len;
  sc.count = count;
  sc.finCount = 1;
  Sender s(sc);
  s.start(nullptr);
  while (!s.snapshot().done) sleepUntilMono(monoNs() + 10000000);
  return s.snapshot().sessionId;
}

void setRcvbuf(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) std::perror("SO_RCVBUFFORCE");
}

// One run: ns of receive-thread CPU per datagram; -1 when the drain was not exact. With predrop,
// the socket first overflows (a 200-datagram burst into a minimal buffer): every datagram queued
// after that carries the socket's nonzero drop count, which is when the kernel attaches an
// SO_RXQ_OVFL control message to each one (the state of a receiver at its loss limit).
double drainOnce(uint32_t len, uint64_t count, uint16_t port, bool verify, bool predrop, uint64_t pauseNs) {
  const Group group = benchGroup();
  ReceiverConfig rc;
  rc.socket.group = group;
  rc.socket.port = port;
  rc.socket.iface = resolveInterface("lo");
  rc.socket.rcvbuf = 256 << 20;  // holds the whole run (truesize per datagram is ~1-3 KiB)
  rc.socket.rcvbufForce = true;
  rc.readPauseNs = pauseNs;  // the sender queues everything meanwhile
#ifdef MCBENCH_HAS_VERIFY_PAYLOAD
  rc.verifyPayload = verify;
#else
  if (verify) {
    std::fprintf(stderr, "this build has no verifyPayload\n");
    std::exit(2);
  }
#endif
  Receiver r(rc);
  r.start(nullptr);
  uint64_t before = 0;  // datagrams queued by the overflow burst (read before the measured ones)
  if (predrop) {
    setRcvbuf(ReceiverFuzzAccess::fd(r), 1);  // the kernel's minimum: a datagram or two
    sendAll(group, port, len, 200);
    ReceiverSnapshot s0;
    r.snapshot(s0);
    if (s0.counters.socketDrops <= 0) std::fprintf(stderr, "predrop: no drops\n");
    setRcvbuf(ReceiverFuzzAccess::fd(r), 256 << 20);
    before = 201 - static_cast<uint64_t>(s0.counters.socketDrops);
  }
  const uint64_t session = sendAll(group, port, len, count);
  ReceiverSnapshot snap;
  const uint64_t want = before + count + 1;  // and the FIN
  for (int i = 0; i < 600; ++i) {
    r.snapshot(snap);
    if (snap.counters.datagrams >= want) break;
    sleepUntilMono(monoNs() + 10000000);
  }
  r.stop();
  r.snapshot(snap);
  const SessionStats* main = nullptr;
  for (const SessionStats& st : snap.sessions)
    if (st.session == session) main = &st;
  const bool exact = snap.counters.datagrams == want && (predrop || snap.counters.socketDrops == 0) &&
                     main != nullptr && main->unique == count && main->bytes == count * len;
  if (!exact) {
    std::fprintf(stderr, "run not exact: datagrams %llu of %llu, socket drops %lld\n",
                 static_cast<unsigned long long>(snap.counters.datagrams), static_cast<unsigned long long>(want),
                 static_cast<long long>(snap.counters.socketDrops));
    return -1;
  }
  return static_cast<double>(r.threadCpuNs()) / static_cast<double>(count);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s LEN COUNT RUNS [verify] [predrop] [pause=MS]\n", argv[0]);
    return 2;
  }
  const auto len = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
  const uint64_t count = std::strtoull(argv[2], nullptr, 10);
  const int runs = std::atoi(argv[3]);
  bool verify = false, predrop = false;
  uint64_t pauseMs = 1500;  // longer under valgrind, where the sender is slow
  for (int i = 4; i < argc; ++i) {
    if (std::strcmp(argv[i], "verify") == 0) verify = true;
    else if (std::strcmp(argv[i], "predrop") == 0) predrop = true;
    else if (std::strncmp(argv[i], "pause=", 6) == 0) pauseMs = std::strtoull(argv[i] + 6, nullptr, 10);
  }
  int bad = 0;
  for (int i = 0; i < runs; ++i) {
    double ns = drainOnce(len, count, static_cast<uint16_t>(5100 + i), verify, predrop, pauseMs * 1000000);
    if (ns < 0) ++bad;
    else
      std::printf("%u B, %llu datagrams: %.1f ns receive-thread CPU per datagram\n", len,
                  static_cast<unsigned long long>(count), ns);
  }
  return bad ? 1 : 0;
}
