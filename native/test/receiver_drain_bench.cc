// What one received datagram costs the receive thread (user + kernel CPU), measured without a
// racing sender: a Receiver that does not read for a while (readPauseNs) lets an mcbench Sender
// in the same process queue N datagrams into a big socket buffer, then drains them in full
// batches. Its thread's CPU time (CLOCK_THREAD_CPUTIME_ID: recvmmsg's copy and cmsgs included)
// over N is the figure; the sender's CPU is on its own thread and not counted. Not a unit test
// (timing): run by hand in a namespace of its own, optimised build (BENCHMARKS.md has the numbers):
//   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DMCBENCH_BUILD_ADDON=OFF
//   cmake --build build-rel -t mcbench_receiver_drain_bench
//   sudo unshare -n sh -c 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo &&
//     build-rel/mcbench_receiver_drain_bench 1400 20000 5 [verify] [pause=MS]'
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

namespace {

using namespace mcbench;

// One run: ns of receive-thread CPU per datagram; -1 when the drain was not exact.
double drainOnce(uint32_t len, uint64_t count, uint16_t port, bool verify, uint64_t pauseNs) {
#ifdef MCBENCH_IPV4_ONLY_API  // to measure a build from before IPv6 (a group was an in_addr)
  in_addr group{};
  inet_pton(AF_INET, "239.255.0.77", &group);
#else
  const IpAddress group = parseIpAddress("239.255.0.77");
#endif
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
  SenderConfig sc;
  sc.socket.group = group;
  sc.socket.port = port;
  sc.socket.iface = resolveInterface("lo");
  sc.payloadLen = len;
  sc.count = count;
  sc.finCount = 1;
  {
    Sender s(sc);
    s.start(nullptr);
    while (!s.snapshot().done) sleepUntilMono(monoNs() + 10000000);
  }
  ReceiverSnapshot snap;
  const uint64_t want = count + 1;  // and the FIN
  for (int i = 0; i < 600; ++i) {
    r.snapshot(snap);
    if (snap.counters.datagrams >= want) break;
    sleepUntilMono(monoNs() + 10000000);
  }
  r.stop();
  r.snapshot(snap);
  const bool exact = snap.counters.datagrams == want && snap.counters.socketDrops == 0 && snap.sessions.size() == 1 &&
                     snap.sessions[0].unique == count && snap.sessions[0].bytes == count * len;
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
    std::fprintf(stderr, "usage: %s LEN COUNT RUNS [verify] [pause=MS]\n", argv[0]);
    return 2;
  }
  const auto len = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
  const uint64_t count = std::strtoull(argv[2], nullptr, 10);
  const int runs = std::atoi(argv[3]);
  bool verify = false;
  uint64_t pauseMs = 1500;  // longer under valgrind, where the sender is slow
  for (int i = 4; i < argc; ++i) {
    if (std::strcmp(argv[i], "verify") == 0) verify = true;
    else if (std::strncmp(argv[i], "pause=", 6) == 0) pauseMs = std::strtoull(argv[i] + 6, nullptr, 10);
  }
  int bad = 0;
  for (int i = 0; i < runs; ++i) {
    double ns = drainOnce(len, count, static_cast<uint16_t>(5100 + i), verify, pauseMs * 1000000);
    if (ns < 0) ++bad;
    else
      std::printf("%u B, %llu datagrams: %.1f ns receive-thread CPU per datagram\n", len,
                  static_cast<unsigned long long>(count), ns);
  }
  return bad ? 1 : 0;
}
