// The reference: the least a multicast sender and receiver can do on this kernel, to measure
// mcbench and its peers against. Same 32-byte header as mcbench's wire format v1 (so mcbench recv
// could read it), sendmmsg/recvmmsg x32, or one syscall per packet with "single".
//   reference send GROUP PORT IFADDR LEN SECONDS [mmsg|single|gso [SEGMENTS]]
//   reference recv GROUP PORT IFADDR SECONDS [mmsg|single|cmsg] [RCVBUF_BYTES] [STAMP_FILE]
// Prints one JSON line: {role, mode, packets, seconds, pps, cpu_seconds, ...}. The receiver ends
// after SECONDS, or 1 s after the last packet once traffic started; it counts unique sequences.
// "gso" is the UDP GSO reference: sendmmsg x32 of messages with a UDP_SEGMENT cmsg, each holding
// SEGMENTS whole datagrams (default: as many as fit 65507 bytes, at most 64), each with its header.
// "cmsg" is mmsg with the socket options mcbench recv sets (SO_TIMESTAMPNS, SO_RXQ_OVFL) and their
// control messages read: what the kernel side of those costs, apart from mcbench's own work.
// With STAMP_FILE (mmsg/cmsg) it also writes each datagram's kernel receive time (SO_TIMESTAMPNS,
// u64 ns, host order) there: the pacing analysis of bench/run.js reads the gaps from it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAXLEN 65536
#define SEQ_BITS (1u << 28) /* unique-sequence bitmap: 2^28 packets, 32 MiB touched lazily */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
static uint64_t realns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
static void die(const char *what) {
  fprintf(stderr, "reference: %s: %s\n", what, strerror(errno));
  exit(1);
}
static void put64(uint8_t *p, uint64_t v) {
  v = htobe64(v);
  memcpy(p, &v, 8);
}

static int do_send(const char *group, int port, const char *ifaddr, int len, double secs, int single, int segs) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  struct in_addr ifa = {0};
  inet_pton(AF_INET, ifaddr, &ifa);
  if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa) < 0) die("IP_MULTICAST_IF");
  unsigned char ttl = 1;
  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, group, &dst.sin_addr) != 1) die("group address");
  if (segs < 1) segs = 1;
  if ((long)segs * len > 65507 || segs > 64) {
    errno = EINVAL;
    die("gso: SEGMENTS x LEN must fit 65507 bytes, at most 64 segments");
  }

  /* each message buffer holds segs datagrams back to back (segs = 1 without GSO) */
  static uint8_t buf[BATCH][MAXLEN];
  static union {
    char bytes[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctl[BATCH];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  uint64_t session = ((uint64_t)getpid() << 32) ^ realns();
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    for (int k = 0; k < segs; k++) {
      uint8_t *d = buf[i] + (size_t)k * len;
      memcpy(d, "MCB1", 4);
      d[4] = 1;            /* version */
      d[5] = 1;            /* DATA */
      d[6] = 0, d[7] = 32; /* header length */
      put64(d + 8, session);
    }
    iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = (size_t)len * segs};
    msgs[i].msg_hdr = (struct msghdr){.msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov[i], .msg_iovlen = 1};
    if (segs > 1) {
      msgs[i].msg_hdr.msg_control = ctl[i].bytes;
      msgs[i].msg_hdr.msg_controllen = sizeof ctl[i].bytes;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = (uint16_t)len;
      memcpy(CMSG_DATA(c), &size, sizeof size);
    }
  }
  uint64_t seq = 0, enobufs = 0, calls = 0;
  double t0 = now(), end = t0 + secs, t = t0;
  while ((t = now()) < end) {
    uint64_t stamp = realns();
    int n = single ? 1 : BATCH;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < segs; k++) {
        uint8_t *d = buf[i] + (size_t)k * len;
        put64(d + 16, seq + (uint64_t)i * segs + k), put64(d + 24, stamp);
      }
    int r = single ? (sendto(fd, buf[0], len, 0, (struct sockaddr *)&dst, sizeof dst) < 0 ? -1 : 1)
                   : sendmmsg(fd, msgs, n, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) {
        enobufs++;
        continue;
      }
      if (errno == EINTR) continue;
      die("send");
    }
    seq += (uint64_t)r * segs;
    calls++;
  }
  t = now();
  printf(
      "{\"role\":\"sender\",\"mode\":\"%s\",\"length\":%d,\"segments\":%d,\"packets\":%llu,\"seconds\":%.6f,"
      "\"pps\":%.1f,\"cpu_seconds\":%.4f,\"calls\":%llu,\"enobufs\":%llu}\n",
      single     ? "single"
      : segs > 1 ? "gso"
                 : "mmsg",
      len, segs, (unsigned long long)seq, t - t0, seq / (t - t0), cpu(), (unsigned long long)calls,
      (unsigned long long)enobufs);
  return 0;
}

static int do_recv(const char *group, int port, const char *ifaddr, double secs, int single, int cmsg, int rcvbuf,
                   const char *stampfile) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) die("SO_RCVBUFFORCE");
  FILE *stamps = NULL;
  if (stampfile && !single && !(stamps = fopen(stampfile, "wb"))) die("stamp file");
  if (stamps || cmsg) {
    cmsg = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) die("SO_TIMESTAMPNS");
    if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0) die("SO_RXQ_OVFL");
  }
  struct timeval tv = {0, 100000}; /* wake every 100 ms to check the clock */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, group, &me.sin_addr);
  if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) die("bind");
  struct ip_mreq mr = {0};
  inet_pton(AF_INET, group, &mr.imr_multiaddr);
  inet_pton(AF_INET, ifaddr, &mr.imr_interface);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) die("IP_ADD_MEMBERSHIP");

  static uint8_t buf[BATCH][MAXLEN];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  static char ctl[BATCH][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = MAXLEN};
    msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
  }
  uint64_t *seen = calloc(SEQ_BITS / 64, 8);
  if (!seen) die("calloc");
  uint64_t unique = 0, dups = 0, foreign = 0, datagrams = 0, maxseq = 0, calls = 0, stamped = 0;
  uint32_t overflows = 0;
  double t0 = now(), first = 0, last = 0, cpu0 = 0;
  for (;;) {
    for (int i = 0; cmsg && i < BATCH; i++)
      msgs[i].msg_hdr.msg_control = ctl[i], msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
    double t = now();
    if (t - t0 >= secs || (first > 0 && t - last >= 1.0)) break;
    ssize_t got = 0;
    int r =
        single ? ((got = recv(fd, buf[0], MAXLEN, 0)) >= 0 ? 1 : -1) : recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      die("recv");
    }
    calls++;
    double at = now();
    for (int i = 0; i < r; i++) {
      const uint8_t *p = buf[i];
      size_t n = single ? (size_t)got : msgs[i].msg_len;
      datagrams++;
      /* anything but a DATA packet is foreign, FINs too */
      if (n < 32 || memcmp(p, "MCB1", 4) != 0 || p[5] != 1) {
        foreign++;
        continue;
      }
      for (struct cmsghdr *cm = cmsg ? CMSG_FIRSTHDR(&msgs[i].msg_hdr) : NULL; cm;
           cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
        if (cm->cmsg_level != SOL_SOCKET) continue;
        if (cm->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(cm), sizeof ts);
          uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
          stamped++;
          if (stamps) fwrite(&ns, 8, 1, stamps);
        } else if (cm->cmsg_type == SO_RXQ_OVFL) {
          memcpy(&overflows, CMSG_DATA(cm), sizeof overflows);
        }
      }
      uint64_t s;
      memcpy(&s, p + 16, 8);
      s = be64toh(s);
      if (s >= SEQ_BITS) {
        foreign++;
        continue;
      }
      if (seen[s / 64] & (1ull << (s % 64))) {
        dups++;
        continue;
      }
      seen[s / 64] |= 1ull << (s % 64);
      unique++;
      if (s > maxseq) maxseq = s;
      last = at; /* the span runs from the first to the last DATA datagram */
      if (first == 0) first = at, cpu0 = cpu();
    }
  }
  if (stamps) fclose(stamps);
  double span = last - first;
  printf(
      "{\"role\":\"receiver\",\"mode\":\"%s\",\"packets\":%llu,\"seconds\":%.6f,\"pps\":%.1f,\"cpu_seconds\":%.4f,"
      "\"cpu_seconds_traffic\":%.4f,\"duplicates\":%llu,\"foreign\":%llu,\"datagrams\":%llu,\"max_seq\":%llu,\"calls\":%llu,"
      "\"stamped\":%llu,\"rxq_ovfl\":%u}\n",
      single ? "single" : (cmsg ? "cmsg" : "mmsg"), (unsigned long long)unique, span, span > 0 ? unique / span : 0.0,
      cpu(), first > 0 ? cpu() - cpu0 : 0.0, (unsigned long long)dups, (unsigned long long)foreign,
      (unsigned long long)datagrams, (unsigned long long)maxseq, (unsigned long long)calls, (unsigned long long)stamped,
      overflows);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 7 && strcmp(argv[1], "send") == 0)
    return do_send(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), atof(argv[6]),
                   argc > 7 && strcmp(argv[7], "single") == 0,
                   argc > 7 && strcmp(argv[7], "gso") == 0
                       ? (argc > 8 ? atoi(argv[8]) : (65507 / atoi(argv[5]) > 64 ? 64 : 65507 / atoi(argv[5])))
                       : 1);
  if (argc >= 6 && strcmp(argv[1], "recv") == 0)
    return do_recv(argv[2], atoi(argv[3]), argv[4], atof(argv[5]), argc > 6 && strcmp(argv[6], "single") == 0,
                   argc > 6 && strcmp(argv[6], "cmsg") == 0, argc > 7 ? atoi(argv[7]) : 0, argc > 8 ? argv[8] : NULL);
  fprintf(stderr,
          "usage: reference send GROUP PORT IFADDR LEN SECONDS [mmsg|single]\n"
          "       reference recv GROUP PORT IFADDR SECONDS [mmsg|single|cmsg] [RCVBUF_BYTES] [STAMP_FILE]\n");
  return 2;
}
