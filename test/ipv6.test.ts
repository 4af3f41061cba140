// IPv6 (issue 11 item 1): send/recv across a lab's veths and bridge over IPv6 groups, checked
// against the receiving guest's own /proc/net/snmp6 Udp6 counters read by the test (not by
// mcbench): clean (every datagram delivered, nothing dropped) and lossy (a receiver that does not
// read for 1.2 s behind a small buffer: the socket's drops are the namespace's Udp6RcvbufErrors);
// a link-local group with -I by address (ULA and link-local with its zone); `run` over IPv6 SSM;
// seed 002 over IPv6 (MLD snooping without a querier); and the bad-input grid of the new flags
// (exit 2, one line, before any socket).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import type { RunReport } from '../src/core/run-report.js';
import { MCBENCH, mcbenchNoNet, Running } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const LAB = 'v6t';
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ipv6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const netns = (k: number) => `mcb-${LAB}-g${k}`;
const inGuest = (k: number, args: string[], timeoutMs = 40000) =>
  new Running(spawn('ip', ['netns', 'exec', netns(k), process.execPath, MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);

/** The guest's Udp6 counters as the kernel prints them (/proc/net/snmp6 of its namespace). */
function udp6(k: number): Record<string, number> {
  const text = spawnSync('ip', ['netns', 'exec', netns(k), 'cat', '/proc/net/snmp6'], { encoding: 'utf8' }).stdout;
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name?.startsWith('Udp6')) out[name.slice(4)] = Number(value);
  }
  return out;
}

/** The guest's eth0 addresses: its ULA (fd6d:6362:…) and its link-local (fe80::…). */
function addresses(k: number): { ula: string; linkLocal: string } {
  const rows = JSON.parse(spawnSync('ip', ['-n', netns(k), '-j', '-6', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout) as Array<{ addr_info: Array<{ local: string; scope: string }> }>;
  const info = rows[0]!.addr_info;
  return { ula: info.find((a) => a.scope === 'global')!.local, linkLocal: info.find((a) => a.scope === 'link')!.local };
}

async function sendRecv(group: string, recvArgs: string[], sendArgs: string[], name: string) {
  const rxFile = join(dir, `${name}-recv.json`);
  const txFile = join(dir, `${name}-send.json`);
  const before = udp6(2);
  const rx = inGuest(2, ['recv', '-g', group, '-p', '5301', '--sessions', '1', '-t', '15', '-i', '0', '--json', rxFile, ...recvArgs]);
  await rx.waitFor('listening on');
  const tx = await inGuest(1, ['send', '-g', group, '-p', '5301', '-i', '0', '--json', txFile, '-q', ...sendArgs]).done;
  expect(tx.code, tx.stderr).toBe(0);
  const r = await rx.done;
  expect(r.code, r.stderr).toBe(0);
  const after = udp6(2);
  const d = (key: string) => after[key]! - before[key]!;
  return {
    sent: JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult,
    got: JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult,
    d,
  };
}

describe.skipIf(!isRoot)('IPv6 through a lab (veth + bridge)', () => {
  beforeAll(() => {
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]);
    const up = spawnSync(process.execPath, [MCBENCH, 'lab', 'up', '--name', LAB, '--guests', '2'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(up.stderr);
  }, 60000);
  afterAll(() => void spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]));

  it('clean: every datagram arrives; the counts equal the receiving namespace\'s Udp6 deltas', async () => {
    const { sent, got, d } = await sendRecv('ff15::1:101', ['-I', 'eth0', '--rcvbuf', '8M', '--rcvbuf-force'], ['-I', 'eth0', '--pps', '10000', '-n', '8000', '-l', '1000'], 'clean');
    const n = sent.end.packets;
    expect(n).toBe(8000);
    expect(got.start.config.family).toBe('ipv6');
    expect(sent.start.config.family).toBe('ipv6');
    expect(got.end.sum).toMatchObject({ packets: n, lost_packets: 0, expected_packets: n, duplicates: 0 });
    // the kernel delivered to the socket exactly what mcbench read (DATA + the FINs), dropped none
    expect(d('InDatagrams')).toBe(got.end.datagrams);
    expect(got.end.datagrams).toBeGreaterThanOrEqual(n + 1);
    expect(d('RcvbufErrors')).toBe(0);
    // mcbench's own reading of the same counters (snmp6, not snmp) agrees
    expect(got.end.kernel_counters?.udp.counters?.InDatagrams).toBe(d('InDatagrams'));
    console.log(`IPv6 clean: sent ${n}, received ${got.end.sum.packets}, read ${got.end.datagrams}; Udp6 InDatagrams +${d('InDatagrams')}, RcvbufErrors +${d('RcvbufErrors')}`);
  }, 60000);

  it('lossy: a small buffer and a reader stalled for 1.2 s; socket drops = Udp6 RcvbufErrors, received + lost = sent', async () => {
    const { sent, got, d } = await sendRecv('ff15::1:102', ['-I', 'eth0', '--rcvbuf', '64K', '--rcvbuf-force', '--test-read-pause', '1.2'], ['-I', 'eth0', '--pps', '10000', '-n', '20000', '-l', '1000'], 'lossy');
    const n = sent.end.packets;
    const { packets, lost_packets: lost } = got.end.sum;
    expect(lost).toBeGreaterThan(500);
    expect(packets).toBeGreaterThan(500);
    expect(packets + lost).toBe(n);
    expect(d('InDatagrams')).toBe(got.end.datagrams);
    expect(d('RcvbufErrors')).toBe(got.end.socket_overflow_drops);
    // every drop is a DATA datagram lost or one of the 5 FINs (nothing else was sent to the
    // group); a FIN that came after the receiver closed is neither read nor dropped
    const finsRead = got.end.datagrams - packets;
    expect(d('RcvbufErrors') - lost).toBeGreaterThanOrEqual(0);
    expect(d('RcvbufErrors') - lost).toBeLessThanOrEqual(5 - finsRead);
    expect(got.end.kernel_counters?.udp.counters?.RcvbufErrors).toBe(d('RcvbufErrors'));
    console.log(`IPv6 lossy: sent ${n}, received ${packets}, lost ${lost}; Udp6 RcvbufErrors +${d('RcvbufErrors')}, socket drops ${got.end.socket_overflow_drops}, InDatagrams +${d('InDatagrams')}`);
  }, 60000);

  it('a link-local group (ff02::) with -I by address: the receiver by its ULA, the sender by its link-local with the zone', async () => {
    const rxIf = addresses(2).ula;
    const txIf = `${addresses(1).linkLocal}%eth0`;
    const { sent, got, d } = await sendRecv('ff02::1:103', ['-I', rxIf], ['-I', txIf, '--pps', '2000', '-n', '1000', '-l', '200'], 'linklocal');
    expect(got.end.sum).toMatchObject({ packets: 1000, lost_packets: 0 });
    expect(sent.start.config.interface).toBe(txIf);
    expect(d('InDatagrams')).toBe(got.end.datagrams);
  }, 60000);

  it('run over IPv6 SSM (--source sender): the orchestrated receivers join (S,G) for the sending guest', async () => {
    const file = join(dir, 'run.json');
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '-g', 'ff3e::1:104', '--source', 'sender', '--pps', '2000', '-l', '500', '-t', '1', '--receivers', '2', '--lab-name', 'v6r', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 90000).done;
    expect(r.code, r.stderr).toBe(0);
    const v = (JSON.parse(readFileSync(file, 'utf8')) as RunReport).variants[0]!;
    const n = v.sender!.end.packets;
    expect(n).toBeGreaterThan(1500);
    for (const o of v.receivers) {
      expect(o.result!.start.config.family).toBe('ipv6');
      // the sending guest g1's ULA, in place of 'sender'; its datagrams came from there
      const [source] = o.result!.start.config.source ?? [];
      expect(source).toMatch(/^fd6d:6362:[0-9a-f]+:[0-9a-f]*:?:1$/);
      expect(o.result!.end.sessions[0]!.source).toMatch(new RegExp(`^\\[${source}\\]:\\d+$`));
      expect(o.result!.end.sum).toMatchObject({ packets: n, lost_packets: 0 });
      // their namespaces' Udp6 counters (not Udp): every DATA datagram and at least one FIN
      expect(o.result!.end.kernel_counters?.udp.counters?.InDatagrams).toBeGreaterThanOrEqual(n + 1);
    }
  }, 120000);
});

describe.skipIf(!isRoot)('run --scenario seed-002-querier-ipv6 (MLD snooping, the MLD querier gone quiet)', () => {
  it('the default variant stalls once the MLD memberships expire, then floods again; the diagnosis names MLD', async () => {
    const file = join(dir, 'q6.json');
    // one variant (the tuned one, the bridge as MLD querier, keeps flowing: seen by hand, not in CI's budget)
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '--scenario', 'seed-002-querier-ipv6', '--variant', 'default', '--lab-name', 'q6', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 90000).done;
    expect(r.code, r.stderr).toBe(0);
    const v = (JSON.parse(readFileSync(file, 'utf8')) as RunReport).variants[0]!;
    expect(v.bridge).toMatchObject({ multicast_snooping: 1, multicast_querier: 0 });
    for (const rx of v.receivers) {
      const e = rx.result!.end;
      expect(rx.result!.start.config.family).toBe('ipv6');
      // a stall of seconds in the middle (memberships of 4 s expired), then flooding resumed
      expect(e.stalls.length, rx.guest).toBeGreaterThanOrEqual(1);
      expect(e.stalls[0]!.seconds).toBeGreaterThanOrEqual(3);
      expect(e.stalls[0]!.resumed).toBe(true);
      // lost on the bridge, not in the socket: 10 pps through the stall
      expect(e.socket_overflow_drops).toBe(0);
      expect(e.kernel_counters?.udp.counters?.RcvbufErrors).toBe(0);
      expect(e.sum.lost_packets).toBeGreaterThanOrEqual(25);
      expect(e.sessions[0]!.sender_packets).toBe(v.sender!.end.packets);
    }
    expect(r.stdout).toMatch(/snoops MLD \(multicast_snooping=1\) with no querier of its own/);
    console.log(`seed-002 over IPv6: ${v.receivers.map((x) => `${x.guest} lost ${x.result!.end.sum.lost_packets}/${x.result!.end.sum.expected_packets}, stall ${x.result!.end.stalls[0]?.seconds.toFixed(1)} s`).join('; ')}`);
  }, 120000);
});

describe('IPv6 and SSM flags: bad input is exit 2 with one line naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['recv', '-g', 'ff01::1'], /-g\/--group: ff01::1 is interface-local/],
    [['recv', '-g', 'ff00::1'], /-g\/--group: ff00::1 has the reserved scope 0/],
    [['send', '-g', 'ff0f::1', '-n', '1'], /-g\/--group: ff0f::1 has the reserved scope f/],
    [['recv', '-g', 'fe80::1'], /-g\/--group: fe80::1 is not an IPv6 multicast address/],
    [['recv', '-g', 'ff02::1:3'], /-I\/--interface: ff02::1:3 is a link-local group .* -I/],
    [['send', '-g', 'ff02::1:3', '-n', '1'], /-I\/--interface: ff02::1:3 is a link-local group/],
    [['recv', '-g', 'ff15::1%eth0'], /-g\/--group: .*give the interface with -I/],
    [['recv', '-g', 'ff15::1', '-I', 'fe80::1%'], /-I\/--interface: 'fe80::1%' is neither/],
    [['recv', '-g', 'ff15::1', '-I', 'fd00::zz'], /-I\/--interface: 'fd00::zz' is neither/],
    // a zone names the interface, and the address must be that interface's own (lo has ::1 only)
    [['recv', '-g', 'ff15::1', '-I', 'fe80::dead%lo'], /-I\/--interface: interface lo has no address fe80::dead/],
    [['send', '-g', 'ff15::1', '-I', 'fe80::dead%lo', '-n', '1'], /-I\/--interface: interface lo has no address fe80::dead/],
    [['recv', '-g', 'ff15::1', '-I', '2001:db8::77'], /-I\/--interface: no interface on this host has the address 2001:db8::77/],
    [['recv', '-g', '232.1.1.1'], /--source: 232.1.1.1 is a source-specific group \(232.0.0.0\/8/],
    [['recv', '-g', 'ff3e::1'], /--source: ff3e::1 is a source-specific group \(ff3x::\/32/],
    [['recv', '-g', '232.1.1.1', '--source', 'fd00::1'], /--source: fd00::1 is not an IPv4 address like the group/],
    [['recv', '-g', 'ff3e::1', '--source', '10.0.0.1'], /--source: 10.0.0.1 is not an IPv6 address like the group/],
    [['recv', '-g', '232.1.1.1', '--source', '239.1.1.1'], /--source: 239.1.1.1 is not a unicast address/],
    [['recv', '-g', 'ff3e::1', '--source', '::'], /--source: :: is not a unicast address/],
    [['recv', '-g', '232.1.1.1', '--source', 'sender1'], /--source: 'sender1' is not an IP address/],
    [['recv', '-g', '232.1.1.1', '--source', '10.0.0.1', '--source', '10.0.0.1'], /--source: an address is given twice/],
    [['recv', '-g', '232.1.1.1', ...Array.from({ length: 11 }, (_, i) => ['--source', `10.0.0.${i + 1}`]).flat()], /--source: 11 sources; at most 10 \(net.ipv4.igmp_max_msf/],
    [['run', '-g', '232.1.1.1'], /--source: 232.1.1.1 is a source-specific group/],
  ];
  for (const [args, want] of cases) {
    it(args.slice(0, 5).join(' '), async () => {
      const r = await mcbenchNoNet(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});
