// `send --gso`: UDP_SEGMENT sends whose segments are whole mcbench datagrams. Checked against
// truth mcbench did not produce: a python receiver that reads every datagram's own header, and the
// kernel's Udp counters (/proc/net/snmp) of the private namespace; then through a lab's veths and
// bridge with `run --gso`; and bad values are exit 2 with one line, before anything is sent.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import type { RunReport } from '../src/core/run-report.js';
import { MCBENCH, mcbenchNoNet, Running, TestNetns, udpCounters } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-gso-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Reads every datagram until 1.5 s of quiet: DATA sequences (kind 1 at byte 5, seq at 16) and FINs.
const PY_RECEIVER = `
import socket, struct, sys, json
group, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
# SO_RCVBUFFORCE (root): immune to whatever net.core.rmem_max another test leaves meanwhile
s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 1 << 23)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4s', socket.inet_aton(group), socket.inet_aton('127.0.0.1')))
print('listening', flush=True)
s.settimeout(6)
seqs, sizes, fins, data, stamps = set(), set(), 0, 0, set()
while True:
    try:
        b = s.recv(70000)
    except socket.timeout:
        break
    s.settimeout(1.5)
    if b[:4] != b'MCB1':
        continue
    if b[5] == 2:
        fins += 1
        continue
    data += 1
    seqs.add(struct.unpack('>Q', b[16:24])[0])
    stamps.add(struct.unpack('>Q', b[24:32])[0])
    sizes.add(len(b))
print(json.dumps({'data': data, 'distinct': len(seqs), 'min': min(seqs) if seqs else -1, 'max': max(seqs) if seqs else -1, 'fins': fins, 'sizes': sorted(sizes), 'stamps': len(stamps)}), flush=True)
`;

interface PyCount { data: number; distinct: number; min: number; max: number; fins: number; sizes: number[]; stamps: number }

describe.skipIf(!isRoot)('send --gso in a private namespace on lo', () => {
  let ns: TestNetns;
  beforeAll(async () => {
    ns = await TestNetns.withMulticastLo();
  });
  afterAll(() => ns?.close());

  it('every segment is one whole datagram with its own header: sent = received, 0 lost, and the kernel counts agree', async () => {
    const snmp = async () => udpCounters((await ns.run('cat', ['/proc/net/snmp'])).stdout);
    const before = await snmp();
    const py = new Running(ns.spawn('python3', ['-c', PY_RECEIVER, '239.7.7.7', '5011']), 30000);
    const rxFile = join(dir, 'lo-recv.json');
    // mcbench's receiver too (it waits for the time limit, so it sees all five FINs)
    const rx = ns.mcbench(['recv', '-g', '239.7.7.7', '-p', '5011', '-I', 'lo', '-t', '4', '-i', '0', '--rcvbuf', '8M', '--rcvbuf-force', '--json', rxFile, '-q']);
    await py.waitFor('listening');
    await new Promise((r) => setTimeout(r, 700));
    const txFile = join(dir, 'lo-send.json');
    // 20,000 pps of 1400-byte datagrams, 46 per GSO send (what fits 64 KiB) for 1 s: bursts of up to 46
    const tx = await ns.mcbench(['send', '-g', '239.7.7.7', '-p', '5011', '-I', 'lo', '--pps', '20000', '-l', '1400', '--gso', '-t', '1', '-i', '0', '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const [pyOut, rxOut] = await Promise.all([py.done, rx.done]);
    expect(rxOut.code, rxOut.stderr).toBe(0);
    const after = await snmp();
    const sent = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    const count = JSON.parse(pyOut.stdout.trim().split('\n').at(-1)!) as PyCount;
    expect(sent.end.gso).toEqual({ mode: 'on', segments: 46, used: true, refused: null });
    const n = sent.end.packets;
    expect(n).toBeGreaterThan(15000);
    // paced: a burst is what is due when the thread wakes (at most one GSO send), often 1 here
    expect(sent.end.send_calls).toBeLessThanOrEqual(n);
    // python: every sequence 0..n-1 exactly once, each datagram 1400 bytes, 5 FINs
    expect(count).toMatchObject({ data: n, distinct: n, min: 0, max: n - 1, fins: 5, sizes: [1400] });
    // paced: each datagram carries its own intended send time (distinct stamps within a send)
    expect(count.stamps).toBe(n);
    // mcbench's receiver: the same, nothing new needed there
    expect(got.end.sum).toMatchObject({ packets: n, lost_packets: 0, out_of_order: 0, duplicates: 0, expected_packets: n });
    // the kernel: OutDatagrams counts one per GSO send (udp_send_skb counts the skb before it is
    // cut; paced, each call is one message) plus the FINs; InDatagrams one per segment, per socket
    const d = (k: string) => after[k]! - before[k]!;
    expect(d('OutDatagrams')).toBe(sent.end.send_calls + sent.end.fins_sent);
    expect(d('InDatagrams')).toBe(2 * (n + 5));
    expect(d('RcvbufErrors')).toBe(0);
    console.log(`lo, --gso (46), 20k pps: sent ${n} in ${sent.end.send_calls} calls; python ${count.data}/${count.distinct} distinct; mcbench recv ${got.end.sum.packets}; Udp OutDatagrams +${d('OutDatagrams')}, InDatagrams +${d('InDatagrams')}`);
  }, 40000);

  it('--gso 8 unlimited: 32 messages of 8 per call, the last one short; no sequence lost or repeated', async () => {
    const py = new Running(ns.spawn('python3', ['-c', PY_RECEIVER, '239.7.7.8', '5012']), 30000);
    await py.waitFor('listening');
    const txFile = join(dir, 'lo-send8.json');
    // -n 1001 is not a multiple of 8: the last call sends a 1-datagram message
    const tx = await ns.mcbench(['send', '-g', '239.7.7.8', '-p', '5012', '-I', 'lo', '-b', '0', '-l', '200', '--gso', '8', '-n', '1001', '-i', '0', '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const count = JSON.parse((await py.done).stdout.trim().split('\n').at(-1)!) as PyCount;
    const sent = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    expect(sent.end.packets).toBe(1001);
    expect(sent.end.gso?.segments).toBe(8);
    // 1001 datagrams in ceil(1001 / 256) calls when none is cut short (the socket buffer may cut some)
    expect(sent.end.send_calls).toBeGreaterThanOrEqual(4);
    expect(sent.end.send_calls).toBeLessThan(1001 / 8);
    expect(count).toMatchObject({ data: 1001, distinct: 1001, min: 0, max: 1000, fins: 5, sizes: [200] });
  }, 30000);

  it('a segment larger than the path MTU: the kernel refuses GSO, exit 1 naming EMSGSIZE; --gso auto falls back with one warning', async () => {
    // (EIO, a device without checksum offload, needs ethtool, which this host may not have; the
    // same path reports both.) A veth with MTU 1000: 1400-byte segments cannot be cut from it.
    const ip = async (...args: string[]) => expect((await ns.run('ip', args)).code).toBe(0);
    await ip('link', 'add', 'gsoa', 'type', 'veth', 'peer', 'name', 'gsob');
    await ip('link', 'set', 'gsoa', 'mtu', '1000');
    await ip('addr', 'add', '10.9.9.1/24', 'dev', 'gsoa');
    await ip('link', 'set', 'gsoa', 'up');
    await ip('link', 'set', 'gsob', 'up');
    const args = ['send', '-g', '239.7.7.9', '-p', '5013', '-I', 'gsoa', '-b', '0', '-l', '1400', '-n', '1000', '-i', '0', '-q'];
    const refused = await ns.mcbench([...args, '--gso']).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^mcbench send: --gso: the kernel refused UDP GSO on gsoa: EMSGSIZE: a segment is larger than the device's MTU allows/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const txFile = join(dir, 'auto.json');
    const auto = await ns.mcbench([...args, '--gso', 'auto', '--json', txFile]).done;
    expect(auto.code, auto.stderr).toBe(0);
    const r = JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult;
    expect(r.end.packets).toBe(1000);
    expect(r.end.gso).toMatchObject({ mode: 'auto', segments: 46, used: false });
    expect(r.end.gso?.refused).toMatch(/^EMSGSIZE/);
    expect(auto.stderr.match(/warning: --gso auto/g)).toHaveLength(1);
  }, 30000);
});

describe('bad --gso values: exit 2, one line, nothing sent', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--gso', '0'], /^mcbench send: --gso: 0 segments is out of range \(1-64/],
    [['--gso', '65'], /^mcbench send: --gso: 65 segments is out of range \(1-64/],
    [['--gso', 'lots'], /^mcbench send: --gso: 'lots' is not a segment count/],
    [['--gso', '-l', '40000'], /^mcbench send: --gso: 40000-byte datagrams leave no room for two/],
    [['--gso', '47', '-l', '1400'], /^mcbench send: --gso: 47 segments of 1400 bytes are 65800 bytes; one GSO send holds at most 65507/],
    [['--gso', '2', '--gso', '3'], /^mcbench send: --gso: given more than once/],
  ];
  for (const [args, want] of cases) {
    it(args.join(' '), async () => {
      const r = await mcbenchNoNet(['send', '-g', '239.7.7.7', '-b', '0', '-n', '1', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe.skipIf(!isRoot)('run --gso through a lab (veth + bridge)', () => {
  afterAll(() => void spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'gso']));
  it('two receivers behind the bridge count every datagram; their namespaces\' Udp counters agree', async () => {
    const file = join(dir, 'run.json');
    const r = await new Running(
      spawnAsync(['run', '--pps', '60000', '-l', '1400', '--gso', '-t', '1', '--receivers', '2', '--rcvbuf', '8M', '--rcvbuf-force', '--lab-name', 'gso', '--json', file]),
      90000,
    ).done;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const v = report.variants[0]!;
    const sender = v.sender!;
    expect(sender.end.gso).toMatchObject({ used: true, segments: 46 });
    const n = sender.end.packets;
    expect(n).toBeGreaterThan(30000);
    // at 60k pps the thread often wakes with several datagrams due: real GSO sends (> 1 segment)
    // crossed the veths and the bridge
    expect(sender.end.send_calls).toBeLessThan(n);
    for (const o of v.receivers) {
      const end = o.result!.end;
      expect(end.sum).toMatchObject({ packets: n, lost_packets: 0, out_of_order: 0, duplicates: 0 });
      // the receiver's own namespace: every DATA datagram and the FINs it saw reached the socket
      const udp = end.kernel_counters?.udp?.counters;
      expect(udp?.InDatagrams).toBeGreaterThanOrEqual(n + 1);
      expect(udp?.InDatagrams).toBeLessThanOrEqual(n + 5);
      expect(udp?.RcvbufErrors).toBe(0);
    }
    // the sender's namespace: one OutDatagram per GSO send (paced: one message per call), plus the FINs
    expect(sender.end.kernel_counters?.udp?.counters?.OutDatagrams).toBe(sender.end.send_calls + sender.end.fins_sent);
    console.log(`lab, run --gso (46), 60k pps: sent ${n} in ${sender.end.send_calls} calls; received ${v.receivers.map((o) => o.result!.end.sum.packets).join(', ')}`);
  }, 120000);
});

function spawnAsync(args: string[]) {
  return spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
