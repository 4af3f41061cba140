#!/usr/bin/env python3
"""Forged and foreign replies for test/rtt.test.ts, written from the wire format in
native/core/wire.h (no mcbench code): joins GROUP on IFACE's address, reads probes of a ping until the
10th (by then every reflector has answered earlier ones: a reflector's id is known), and answers its source with 7 datagrams that a ping must count and ignore:
  2 malformed (10 bytes of junk; a whole reply with the magic 'XCB1'),
  1 other session (the probe's session xor 1),
  2 unknown probe (a sequence 10^6 past the probe; the probe's sequence with t1 + 1),
  1 implausible (t3 < t2),
  1 source mismatch (a real reflector's id, REFLECTOR_ID, from this address and port).
Prints 'forged 7' and exits.
usage: forge_rtt_replies.py GROUP PORT IFACE_ADDRESS REFLECTOR_ID"""
import socket
import struct
import sys

group, port, iface_addr, known_id = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4], 16)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(iface_addr))
print('joined', flush=True)
s.settimeout(20)
probes = 0
while probes < 10:
    data, src = s.recvfrom(2048)
    if len(data) >= 32 and data[:4] == b'MCB1' and data[4] == 1 and data[5] == 3:
        probes += 1
session, seq, t1 = struct.unpack('>QQQ', data[8:32])

out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # another port than any reflector's
out.bind((iface_addr, 0))


def reply(session, seq, t1, reflector, t2, t3, seen=1, first=0, magic=b'MCB1'):
    return magic + bytes([1, 4]) + struct.pack('>H', 72) + struct.pack('>8Q', session, seq, t1, reflector, t2, t3, seen, first)


forged_id = 0x0BADC0DE0BADC0DE
datagrams = [
    b'0123456789',
    reply(session, seq, t1, forged_id, 10, 20, magic=b'XCB1'),
    reply(session ^ 1, seq, t1, forged_id, 10, 20),
    reply(session, seq + 1000000, t1, forged_id, 10, 20),
    reply(session, seq, t1 + 1, forged_id, 10, 20),
    reply(session, seq, t1, forged_id, 20, 10),
    reply(session, seq, t1, known_id, 10, 20),
]
for d in datagrams:
    out.sendto(d, src)
print('forged', len(datagrams), flush=True)
