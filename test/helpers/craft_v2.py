#!/usr/bin/env python3
"""Sends hand-made mcbench datagrams (wire v1 or v2) to a group, from chosen source ports.

Usage: craft_v2.py GROUP PORT '<json list of packets>' [IFACE]
An IPv6 GROUP is sent over IPv6; IFACE (optional) is the interface multicast leaves by.
Each packet (all fields optional but kind/session/seq):
  kind      "data" | "fin"
  session   16 hex digits
  seq       integer or decimal string (64-bit: 18446744073709551615 is fine)
  v         1 or 2 (default 2: the 48-byte header with session start and actual send time)
  ageMs     the intended send stamp is now - ageMs (default 0)
  sendNs    the intended send stamp itself, a decimal string (overrides ageMs: garbage stamps)
  startAgeS v2: the session start is now - startAgeS seconds at the session's first packet
            (negative: in the future); the same start is then carried by all its packets
  startNs   v2: the session start itself, decimal string (overrides startAgeS)
  lateMs    v2: the actual send time is the intended one + lateMs (default 0)
  len       datagram length (default 64)
  src       source port (0 = an ephemeral one; each distinct value is its own socket)
  addr      source address to bind (default: any; each distinct addr/src pair is its own socket)
  gapMs     pause after this packet (default 1)
Stamps are CLOCK_REALTIME ns, taken when the packet is built.
"""
import json
import socket
import struct
import sys
import time

group, port, packets = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
iface = sys.argv[4] if len(sys.argv) > 4 else None
v6 = ":" in group
sockets = {}
starts = {}


def sock_for(src, addr):
    key = (src, addr)
    if key not in sockets:
        if v6:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            if iface:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex(iface))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            if iface:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        s.bind((addr or ("::" if v6 else "0.0.0.0"), src))
        sockets[key] = s
    return sockets[key]


for p in packets:
    now = time.clock_gettime_ns(time.CLOCK_REALTIME)
    v = p.get("v", 2)
    send_ns = int(p["sendNs"]) if "sendNs" in p else now - int(p.get("ageMs", 0) * 1e6)
    hlen = 48 if v == 2 else 32
    head = b"MCB1" + bytes([v, 2 if p["kind"] == "fin" else 1]) + struct.pack(">H", hlen)
    head += struct.pack(">QQQ", int(p["session"], 16), int(p["seq"]), send_ns % (1 << 64))
    if v == 2:
        if p["session"] not in starts:
            starts[p["session"]] = now - int(p.get("startAgeS", 0) * 1e9)
        start = int(p["startNs"]) if "startNs" in p else starts[p["session"]]
        actual = send_ns + int(p.get("lateMs", 0) * 1e6)
        head += struct.pack(">QQ", start % (1 << 64), actual % (1 << 64))
    buf = head.ljust(max(p.get("len", 64), hlen), b"\0")
    sock_for(p.get("src", 0), p.get("addr")).sendto(buf, (group, port))
    time.sleep(p.get("gapMs", 1) / 1000)
