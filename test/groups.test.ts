// Many groups: `-g` repeatable and as a range. The sender spreads its datagrams round robin over
// the groups, the receiver joins them all on one socket and counts per group. Checked against a
// python receiver with one socket bound to each group (the kernel's own per-destination delivery,
// no mcbench code) and the sender's count; a join past net.ipv4.igmp_max_memberships names the sysctl.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import type { RunReport } from '../src/core/run-report.js';
import { mcbenchNoNet, Running, TestNetns } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-groups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One socket per group, each bound to its group's address (so it gets that group's datagrams
// only): per group, the DATA count and how many had a sequence that is not seq % N == index.
const PY_PER_GROUP = `
import socket, struct, sys, json, select
first, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = struct.unpack('>I', socket.inet_aton(first))[0]
socks = []
for i in range(n):
    g = socket.inet_ntoa(struct.pack('>I', base + i))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 1 << 20)
    s.bind((g, port))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4s', socket.inet_aton(g), socket.inet_aton('127.0.0.1')))
    s.setblocking(False)
    socks.append(s)
index = {s.fileno(): i for i, s in enumerate(socks)}
counts, wrong = [0] * n, 0
print('listening', flush=True)
quiet = 8.0
while True:
    r, _, _ = select.select(socks, [], [], quiet)
    if not r:
        break
    quiet = 1.5
    for s in r:
        while True:
            try:
                b = s.recv(70000)
            except BlockingIOError:
                break
            if b[:4] != b'MCB1' or b[5] != 1:
                continue
            i = index[s.fileno()]
            counts[i] += 1
            if struct.unpack('>Q', b[16:24])[0] % n != i:
                wrong += 1
print(json.dumps({'counts': counts, 'wrong': wrong}), flush=True)
`;

// Session 1: 300 DATA and a FIN unicast to 127.0.0.1:PORT; then session 2: 30 DATA to the groups
// 239.3.4.1-3 round robin (seq % 3) and its FIN (total 30) to the first group.
const PY_UNICAST_THEN_GROUPS = `
import socket, struct, sys, time
port = int(sys.argv[1])
def pkt(kind, session, seq):
    return struct.pack('>4sBBHQQQ', b'MCB1', 1, kind, 32, session, seq, time.time_ns()) + bytes(32)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('127.0.0.1'))
for q in range(300):
    s.sendto(pkt(1, 1, q), ('127.0.0.1', port))
    if q % 50 == 0:
        time.sleep(0.002)
s.sendto(pkt(2, 1, 300), ('127.0.0.1', port))
groups = ['239.3.4.1', '239.3.4.2', '239.3.4.3']
for q in range(30):
    s.sendto(pkt(1, 2, q), (groups[q % 3], port))
    time.sleep(0.001)
s.sendto(pkt(2, 2, 30), (groups[0], port))
`;

// One session of 5,005 sequences round robin over 239.3.6.1-10 (seq % 10), some never sent: every
// one of the third group, every other one of the seventh, and 1000-1199 (all groups); then the
// FIN (total 5005). Prints per group what it sent and what it left out.
const PY_ROUND_ROBIN_WITH_GAPS = `
import socket, struct, sys, time, json
port, n, total = int(sys.argv[1]), 10, 5005
groups = ['239.3.6.%d' % (k + 1) for k in range(n)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('127.0.0.1'))
sent, skipped = [0] * n, [0] * n
def pkt(kind, seq):
    return struct.pack('>4sBBHQQQ', b'MCB1', 1, kind, 32, 7, seq, time.time_ns()) + bytes(168)
for q in range(total):
    k = q % n
    if k == 2 or (k == 6 and (q // n) % 2 == 0) or 1000 <= q < 1200:
        skipped[k] += 1
        continue
    s.sendto(pkt(1, q), (groups[k], port))
    sent[k] += 1
    if q % 200 == 0:
        time.sleep(0.002)
for _ in range(3):
    s.sendto(pkt(2, total), (groups[0], port))
print(json.dumps({'sent': sent, 'skipped': skipped}), flush=True)
`;

// Session 0xabc: 200 DATA now-stamped, 2 ms apart, with a 1 s silence after the first 100 (a
// stall), and its FIN (total 200). Session 0xbad fills the silence: 100 DATA 10 ms apart stamped
// 20 minutes ago (a plausible stamp: within 1 h), and a FIN.
const PY_EXPECTED_AND_CRAFTED = `
import socket, struct, sys, time
group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('127.0.0.1'))
def pkt(kind, session, seq, stamp):
    return struct.pack('>4sBBHQQQ', b'MCB1', 1, kind, 32, session, seq, stamp) + bytes(32)
old = 20 * 60 * 10**9
for q in range(100):
    s.sendto(pkt(1, 0xabc, q, time.time_ns()), (group, port))
    time.sleep(0.002)
for q in range(100):
    s.sendto(pkt(1, 0xbad, q, time.time_ns() - old), (group, port))
    time.sleep(0.01)
s.sendto(pkt(2, 0xbad, 100, time.time_ns()), (group, port))
for q in range(100, 200):
    s.sendto(pkt(1, 0xabc, q, time.time_ns()), (group, port))
    time.sleep(0.002)
for _ in range(3):
    s.sendto(pkt(2, 0xabc, 200, time.time_ns()), (group, port))
`;

describe('-g: several groups and ranges, bad values exit 2 with one line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['send', '-g', '239.1.1.10-239.1.1.1'], /-g\/--group: '239\.1\.1\.10-239\.1\.1\.1': the range ends before it starts/],
    [['send', '-g', '239.1.1.1-239.1.5.1'], /-g\/--group: '239\.1\.1\.1-239\.1\.5\.1' is 1025 groups; at most 1024 in all/],
    [['recv', '-g', '239.1.1.1-10.0.0.1'], /-g\/--group: 10\.0\.0\.1 is not a multicast address/],
    [['recv', '-g', '239.1.1.1', '-g', 'ff15::1'], /-g\/--group: several groups are IPv4 only \(ff15::1 is IPv6\)/],
    [['send', '-g', '239.1.1.1', '-g', '239.1.1.1'], /-g\/--group: 239\.1\.1\.1 is given twice/],
    [['send', '-g', '239.1.1.1-239.1.1.4', '--gso'], /--gso: one GSO send goes to one group/],
    [['recv', '-g', '239.1.1.1-239.1.1.4', '--source', '10.0.0.1'], /--source: SSM joins one group/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await mcbenchNoNet(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }
});

describe('group lists and round robin shares (pure)', () => {
  it('a range runs across octets, in order; the shares of a round robin add up', async () => {
    const { parseGroupList, roundRobinRange, roundRobinShare } = await import('../src/core/groups.js');
    expect(parseGroupList('239.1.1.250-239.1.2.5')).toEqual(['239.1.1.250', '239.1.1.251', '239.1.1.252', '239.1.1.253', '239.1.1.254', '239.1.1.255', '239.1.2.0', '239.1.2.1', '239.1.2.2', '239.1.2.3', '239.1.2.4', '239.1.2.5']);
    expect(parseGroupList(['239.9.9.9', '239.1.1.1-239.1.1.2'])).toEqual(['239.9.9.9', '239.1.1.1', '239.1.1.2']);
    expect(parseGroupList('ff15::1')).toEqual(['ff15::1']);
    // against counting one by one
    for (const [from, to, n] of [[0, 10050, 100], [7, 7, 3], [5, 6, 3], [20291, 59999, 10], [0, 1, 1]] as const) {
      for (let i = 0; i < n; i++) {
        let c = 0;
        for (let q = from; q < to; q++) if (q % n === i) c++;
        expect(roundRobinRange(from, to, n, i)).toBe(c);
      }
    }
    expect(Array.from({ length: 7 }, (_, i) => roundRobinShare(100, 7, i)).reduce((a, b) => a + b, 0)).toBe(100);
  });
});

describe.skipIf(!isRoot)('run -g FIRST-LAST --local', () => {
  it('the range reaches the sender and each receiver: per group, what the sender sent it', async () => {
    const file = join(dir, 'run-local.json');
    const r = await mcbenchNoNet(['run', '--local', '-g', '239.3.3.1-239.3.3.5', '--pps', '5000', '-l', '200', '-t', '1', '--receivers', '2', '--json', file], 60000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const v = report.variants[0]!;
    const sent = v.sender!.end.groups!;
    expect(sent.map((g) => g.group)).toEqual(['239.3.3.1', '239.3.3.2', '239.3.3.3', '239.3.3.4', '239.3.3.5']);
    expect(sent.reduce((a, g) => a + g.packets, 0)).toBe(v.sender!.end.packets);
    expect(v.receivers).toHaveLength(2);
    for (const rx of v.receivers) {
      const got = rx.result!.end;
      expect(got.groups!.map((g) => g.expected_packets)).toEqual(sent.map((g) => g.packets));
      expect(got.groups!.map((g) => g.packets + (g.lost_packets ?? NaN))).toEqual(sent.map((g) => g.packets));
      expect(got.group_mismatch).toBe(0);
    }
  }, 70000);
});

describe.skipIf(!isRoot)('many groups in a private namespace on lo', () => {
  let ns: TestNetns;
  beforeAll(async () => {
    ns = await TestNetns.withMulticastLo();
  });
  afterAll(() => ns?.close());

  it('the 21st join fails with ENOBUFS under the default net.ipv4.igmp_max_memberships (20), and says so', async () => {
    // a fresh namespace has the kernel's default
    expect((await ns.run('cat', ['/proc/sys/net/ipv4/igmp_max_memberships'])).stdout.trim()).toBe('20');
    const r = await ns.mcbench(['recv', '-g', '239.3.0.1-239.3.0.21', '-p', '5041', '-I', 'lo', '-t', '1']).done;
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot join group 21 of 21 \(MCAST_JOIN_GROUP\); 20 joined.*ENOBUFS|No buffer space/);
    expect(lines[0]).toMatch(/net\.ipv4\.igmp_max_memberships \(20\) limits the groups one socket joins; raise it for this many groups: sysctl -w net\.ipv4\.igmp_max_memberships=21/);
  }, 20000);

  it('100 groups: the receiver counts each group as the kernel delivered it and as the sender sent it', async () => {
    // per namespace: gone with it
    expect((await ns.run('sysctl', ['-w', 'net.ipv4.igmp_max_memberships=1024'])).code).toBe(0);
    const groups = '239.3.1.1-239.3.1.100';
    const py = new Running(ns.spawn('python3', ['-c', PY_PER_GROUP, '239.3.1.1', '100', '5042']), 40000);
    await py.waitFor('listening');
    const rxFile = join(dir, 'recv.json');
    const rx = ns.mcbench(['recv', '-g', groups, '-p', '5042', '-I', 'lo', '-i', '0', '--rcvbuf', '8M', '--rcvbuf-force', '--json', rxFile], 40000);
    await rx.waitFor('listening');
    const txFile = join(dir, 'send.json');
    // 10,050 datagrams at 10k pps: groups 1-50 get 101 each, 51-100 get 100
    const tx = await ns.mcbench(['send', '-g', groups, '-p', '5042', '-I', 'lo', '--pps', '10000', '-n', '10050', '-l', '200', '-i', '0', '-q', '--json', txFile]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const [rxOut, pyOut] = await Promise.all([rx.done, py.done]);
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const sent = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    const truth = JSON.parse(pyOut.stdout.trim().split('\n').at(-1)!) as { counts: number[]; wrong: number };
    expect(sent.end.packets).toBe(10050);
    expect(sent.start.config.groups).toHaveLength(100);
    const sentPer = sent.end.groups!.map((g) => g.packets);
    expect(sentPer).toEqual(Array.from({ length: 100 }, (_, i) => (i < 50 ? 101 : 100)));
    // the kernel delivered each group's share to that group, round robin by sequence
    expect(truth.wrong).toBe(0);
    expect(truth.counts).toEqual(sentPer);
    // mcbench's receiver: one socket, every group counted as delivered and as expected
    const per = got.end.groups!;
    expect(per.map((g) => g.group)).toEqual(sent.start.config.groups);
    expect(per.map((g) => g.packets)).toEqual(truth.counts);
    expect(per.map((g) => g.expected_packets)).toEqual(sentPer);
    expect(per.every((g) => g.lost_packets === 0)).toBe(true);
    expect(got.end.group_mismatch).toBe(0);
    expect(got.end.sum).toMatchObject({ packets: 10050, lost_packets: 0, expected_packets: 10050 });
    console.log(`100 groups: sent ${sent.end.packets} (${sentPer[0]}..${sentPer[99]} per group); python per-group sockets ${truth.counts.reduce((a, b) => a + b, 0)}; mcbench recv ${got.end.sum.packets} on one socket, per group ${per[0]!.packets}..${per[99]!.packets}, mismatched ${got.end.group_mismatch}`);
  }, 60000);

  it('a receiver that joins late and reads late: per group, lost + received = its share of the sequences it expected, and the groups add up to the total', async () => {
    const groups = '239.3.2.1-239.3.2.10';
    const txFile = join(dir, 'send-lossy.json');
    // the sender runs 3 s; the receiver joins about 1 s in (its head is not expected) and does not
    // read for 0.5 s with 106,496 bytes of buffer: thousands dropped, whatever the machine's load
    const tx = ns.mcbench(['send', '-g', groups, '-p', '5043', '-I', 'lo', '--pps', '20000', '-t', '3', '-l', '200', '-i', '0', '-q', '--json', txFile], 40000);
    await new Promise((r) => setTimeout(r, 1000));
    const rxFile = join(dir, 'recv-lossy.json');
    const rx = ns.mcbench(['recv', '-g', groups, '-p', '5043', '-I', 'lo', '-i', '0', '--rcvbuf', '53248', '--rcvbuf-force', '--test-read-pause', '0.5', '--json', rxFile], 40000);
    expect((await tx.done).code).toBe(0);
    const rxOut = await rx.done;
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const sent = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    const session = got.end.sessions[0]!;
    expect(got.end.sessions).toHaveLength(1);
    expect(session.head).toBe('not-expected');
    expect(session.tail_known).toBe(true);
    const first = Number(session.first_seq);
    expect(first).toBeGreaterThan(0);
    expect(got.end.sum.lost_packets).toBeGreaterThan(1000);
    const per = got.end.groups!;
    for (const [i, g] of per.entries()) {
      // the sequences first .. sent - 1 whose round-robin group is i, counted here
      let share = 0;
      for (let q = first; q < sent.end.packets; q++) if (q % 10 === i) share++;
      expect(g.expected_packets).toBe(share);
      expect(g.packets + (g.lost_packets ?? NaN)).toBe(g.expected_packets);
    }
    expect(per.reduce((a, g) => a + g.packets, 0)).toBe(got.end.sum.packets);
    expect(per.reduce((a, g) => a + (g.lost_packets ?? NaN), 0)).toBe(got.end.sum.lost_packets);
    console.log(`10 groups, late reader: joined at seq ${first}, lost ${got.end.sum.lost_packets} of ${got.end.sum.expected_packets}; per group lost ${per.map((g) => String(g.lost_packets)).join(' ')}`);
  }, 60000);

  it('datagrams to the port that went to none of the groups (unicast) are dropped unread and counted: other_destination', async () => {
    const rxFile = join(dir, 'recv-unicast.json');
    const rx = ns.mcbench(['recv', '-g', '239.3.4.1-239.3.4.3', '-p', '5044', '-I', 'lo', '-i', '0', '-t', '3', '--rcvbuf', '4M', '--rcvbuf-force', '--json', rxFile], 30000);
    await rx.waitFor('listening');
    // 300 DATA and their FIN of one session unicast to 127.0.0.1:5044 (the wildcard-bound socket
    // gets them), then another session's 30 DATA round robin over the three groups and its FIN
    const py = await ns.run('python3', ['-c', PY_UNICAST_THEN_GROUPS, '5044']);
    expect(py.code, py.stderr).toBe(0);
    const rxOut = await rx.done;
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    expect(got.end.other_destination).toBe(301);
    expect(got.end.sessions.map((x) => x.session_id)).toEqual(['0000000000000002']);
    expect(got.end.sum).toMatchObject({ packets: 30, lost_packets: 0, expected_packets: 30 });
    expect(got.end.groups!.map((g) => [g.group, g.packets, g.expected_packets])).toEqual([['239.3.4.1', 10, 10], ['239.3.4.2', 10, 10], ['239.3.4.3', 10, 10]]);
    expect(got.end.group_mismatch).toBe(0);
    expect(rxOut.stderr).toMatch(/301 datagrams to port 5044 were sent to none of the joined groups/);
  }, 40000);

  it("a receiver's -g list in another order, or a subset: each group counted by destination as the kernel delivered it; per-group loss flagged invalid, not guessed", async () => {
    const sentGroups = ['239.3.5.1', '239.3.5.2', '239.3.5.3', '239.3.5.4'];
    const reordered = ['239.3.5.3', '239.3.5.1', '239.3.5.4', '239.3.5.2'];
    const subset = ['239.3.5.2', '239.3.5.3'];
    const run = (list: string[], name: string): { file: string; rx: Running } => {
      const file = join(dir, `recv-${name}.json`);
      return { file, rx: ns.mcbench(['recv', ...list.flatMap((g) => ['-g', g]), '-p', '5045', '-I', 'lo', '-i', '0', '--rcvbuf', '4M', '--rcvbuf-force', '--json', file], 30000) };
    };
    const a = run(reordered, 'reordered');
    const b = run(subset, 'subset');
    const same = run(sentGroups, 'same');
    await Promise.all([a.rx.waitFor('listening'), b.rx.waitFor('listening'), same.rx.waitFor('listening')]);
    const txFile = join(dir, 'send-order.json');
    const tx = await ns.mcbench(['send', '-g', '239.3.5.1-239.3.5.4', '-p', '5045', '-I', 'lo', '--pps', '10000', '-n', '4002', '-l', '200', '-i', '0', '-q', '--json', txFile]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const sent = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    const sentBy = new Map(sent.end.groups!.map((g) => [g.group, g.packets]));
    expect([...sentBy.values()]).toEqual([1001, 1001, 1000, 1000]);
    for (const [x, list] of [[a, reordered], [b, subset]] as const) {
      const out = await x.rx.done;
      expect(out.code, out.stderr).toBe(0);
      const got = JSON.parse(readFileSync(x.file, 'utf8')) as ReceiverResult;
      // by destination: what the sender sent each of these groups, in this receiver's order
      expect(got.end.groups!.map((g) => [g.group, g.packets])).toEqual(list.map((g) => [g, sentBy.get(g)]));
      expect(got.end.group_mismatch).toBeGreaterThan(0);
      expect(got.end.groups!.every((g) => g.expected_packets === null && g.lost_packets === null && g.lost_percent === null)).toBe(true);
      expect(out.stderr).toMatch(/invalid per-group loss, the receiver's -g list differs from the sender's/);
      expect(out.stdout).toMatch(/per-group loss invalid/);
    }
    const sameOut = await same.rx.done;
    expect(sameOut.code, sameOut.stderr).toBe(0);
    const same_ = JSON.parse(readFileSync(same.file, 'utf8')) as ReceiverResult;
    expect(same_.end.group_mismatch).toBe(0);
    expect(same_.end.groups!.map((g) => [g.group, g.packets, g.expected_packets, g.lost_packets])).toEqual(sentGroups.map((g) => [g, sentBy.get(g), sentBy.get(g), 0]));
  }, 60000);

  it('under loss a python sender makes (a group never sent, half of one, a burst of all), per group received and lost are what it left out', async () => {
    const rxFile = join(dir, 'recv-gaps.json');
    const rx = ns.mcbench(['recv', '-g', '239.3.6.1-239.3.6.10', '-p', '5046', '-I', 'lo', '-i', '0', '--rcvbuf', '4M', '--rcvbuf-force', '--json', rxFile], 30000);
    await rx.waitFor('listening');
    const py = await ns.run('python3', ['-c', PY_ROUND_ROBIN_WITH_GAPS, '5046']);
    expect(py.code, py.stderr).toBe(0);
    const truth = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as { sent: number[]; skipped: number[] };
    const rxOut = await rx.done;
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    const per = got.end.groups!;
    expect(truth.sent[2]).toBe(0);
    expect(per.map((g) => g.packets)).toEqual(truth.sent);
    expect(per.map((g) => g.lost_packets)).toEqual(truth.skipped);
    expect(per.map((g) => g.expected_packets)).toEqual(truth.sent.map((n, k) => n + truth.skipped[k]!));
    expect(got.end.group_mismatch).toBe(0);
    const lost = truth.skipped.reduce((a, b) => a + b, 0);
    expect(got.end.sum).toMatchObject({ packets: 5005 - lost, lost_packets: lost, expected_packets: 5005 });
    console.log(`python round robin with gaps: per group sent ${truth.sent.join(' ')}; mcbench per group ${per.map((g) => g.packets).join(' ')}, lost ${per.map((g) => String(g.lost_packets)).join(' ')}`);
  }, 40000);

  it('recv --expect-session: another session stamped 20 min ago that fills a 1 s silence of the expected one sets no delay and hides no stall (dropped before them, counted)', async () => {
    const rxFile = join(dir, 'recv-expect.json');
    const rx = ns.mcbench(['recv', '-g', '239.3.7.1', '-p', '5047', '-I', 'lo', '-i', '0', '--expect-session', 'abc', '-t', '6', '--rcvbuf', '4M', '--rcvbuf-force', '--json', rxFile], 30000);
    await rx.waitFor('listening');
    const py = await ns.run('python3', ['-c', PY_EXPECTED_AND_CRAFTED, '239.3.7.1', '5047']);
    expect(py.code, py.stderr).toBe(0);
    const rxOut = await rx.done;
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    expect(got.end.sessions.map((x) => x.session_id)).toEqual(['0000000000000abc']);
    expect(got.end.sum).toMatchObject({ packets: 200, lost_packets: 0 });
    // the crafted session's 100 DATA and its FIN
    expect(got.end.other_session_packets).toBe(101);
    const oneWay = got.end.latency.one_way_kernel!;
    expect(oneWay.count).toBe(200);
    expect(oneWay.max_ms).toBeLessThan(60000);
    // the expected session's silence, not filled by the other session's packets
    expect(got.end.stalls).toHaveLength(1);
    expect(got.end.stalls[0]).toMatchObject({ session_before: '0000000000000abc', seq_before: 99, resumed: true });
    expect(got.end.stalls[0]!.seconds).toBeGreaterThan(0.8);
  }, 40000);
});
