// End to end: real mcbench processes, real sockets, inside a private namespace per test.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { MCBENCH, ROOT, Running, TestNetns } from './helpers/netns.js';

const CRAFT = join(ROOT, 'test', 'helpers', 'craft.mjs');
const GROUP = '239.255.10.1';
let ns: TestNetns;
let dir: string;

beforeEach(async () => {
  ns = await TestNetns.create();
  dir = mkdtempSync(join(tmpdir(), 'mcbench-test-'));
});
afterEach(async () => {
  await ns.close();
  rmSync(dir, { recursive: true, force: true });
});

const readJson = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

async function startReceiver(port: number, extra: string[] = [], file = 'recv.json') {
  const rx = ns.mcbench(['recv', '-g', GROUP, '-p', String(port), '-t', '20', '--json', join(dir, file), ...extra]);
  await rx.waitFor('listening on');
  return rx;
}

describe('send/recv between two processes', () => {
  it('clean path: everything sent arrives, tail known, rate within 2% of the asked one', async () => {
    const rx = await startReceiver(5101);
    const tx = await ns.mcbench(['send', '-g', GROUP, '-p', '5101', '-b', '40M', '-l', '1000', '-t', '2.5', '--json', join(dir, 'send.json')]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const sent = readJson<SenderResult>('send.json');
    const got = readJson<ReceiverResult>('recv.json');
    expect(got.schema).toBe('mcbench/result@1');
    expect(got.end.sessions).toHaveLength(1);
    const s = got.end.sessions[0]!;
    expect(s.session_id).toBe(sent.end.session_id);
    expect(s.tail_known).toBe(true);
    expect(s.sender_packets).toBe(sent.end.packets);
    expect(s.packets).toBe(sent.end.packets);
    expect(s.lost_packets).toBe(0);
    expect(s.duplicates).toBe(0);
    expect(got.end.partial).toBe(false);
    expect(got.end.end_reason).toBe('fin');
    // 40 Mbit/s of 1000-byte payloads = 5000 pps; the sender's own count over 2.5 s backs it.
    expect(Math.abs(sent.end.packets - 12500)).toBeLessThanOrEqual(12500 * 0.01);
    expect(Math.abs(s.packets_per_second - 5000) / 5000).toBeLessThan(0.02);
    expect(Math.abs(s.bits_per_second - 40e6) / 40e6).toBeLessThan(0.02);
    expect(got.intervals.length).toBeGreaterThanOrEqual(2);
    expect(got.intervals.reduce((a, iv) => a + iv.sum.packets, 0)).toBe(s.packets);
    // Human output: interval lines and the summary.
    expect(r.stdout).toMatch(/0\.00-1\.\d\d sec/);
    expect(r.stdout).toContain(`session ${s.session_id}, sender sent ${sent.end.packets.toLocaleString('en-US')}`);
  });

  it('loss path: a stalled reader with a tiny buffer loses exactly what the socket overflowed', async () => {
    const rx = await startReceiver(5102, ['--rcvbuf', '4K', '--test-read-pause', '1.2']);
    const tx = await ns.mcbench(['send', '-g', GROUP, '-p', '5102', '--pps', '2000', '-l', '1000', '-t', '2', '--json', join(dir, 'send.json')]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const sent = readJson<SenderResult>('send.json').end.packets;
    const got = readJson<ReceiverResult>('recv.json');
    const s = got.end.sessions[0]!;
    expect(s.tail_known).toBe(true);
    expect(s.sender_packets).toBe(sent);
    // RFC 7680 loss against the sender's own count, not against anything the receiver derived.
    expect(s.lost_packets).toBe(sent - s.packets);
    expect(s.lost_packets).toBeGreaterThan(1000); // ~1.2 s of 2000 pps could not fit in 4 KiB
    // The kernel's per-socket drop counter accounts for it: equal, or more by dropped FINs.
    expect(got.end.socket_overflow_drops).toBeGreaterThanOrEqual(s.lost_packets);
    expect(got.end.socket_overflow_drops).toBeLessThanOrEqual(s.lost_packets + 5);
    expect(r.stdout).toMatch(/socket buffer full/);
  });

  it('two senders at once: two sessions, each counted right', async () => {
    const rx = await startReceiver(5103, ['--sessions', '2']);
    const a = ns.mcbench(['send', '-g', GROUP, '-p', '5103', '--pps', '1500', '-l', '200', '-n', '3000', '--json', join(dir, 'a.json')]);
    const b = ns.mcbench(['send', '-g', GROUP, '-p', '5103', '--pps', '1000', '-l', '500', '-t', '2', '--json', join(dir, 'b.json')]);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    const sa = readJson<SenderResult>('a.json').end;
    const sb = readJson<SenderResult>('b.json').end;
    expect(sa.packets).toBe(3000);
    expect(sa.end_reason).toBe('count');
    expect(got.end.sessions).toHaveLength(2);
    for (const snd of [sa, sb]) {
      const s = got.end.sessions.find((x) => x.session_id === snd.session_id)!;
      expect(s, `session ${snd.session_id}`).toBeDefined();
      expect(s.sender_packets).toBe(snd.packets);
      expect(s.packets).toBe(snd.packets);
      expect(s.lost_packets).toBe(0);
      expect(s.bytes).toBe(snd.bytes);
    }
    expect(got.end.sum.packets).toBe(sa.packets + sb.packets);
    expect(got.end.end_reason).toBe('fin');
  });

  it('foreign and malformed datagrams are counted and ignored while real traffic is counted right', async () => {
    const rx = await startReceiver(5104, ['--sessions', '1']);
    const junk = [
      { raw: 'deadbeef' }, // short
      { raw: '' }, // empty datagram
      { raw: Buffer.from('MCB2' + 'x'.repeat(60)).toString('hex') }, // wrong magic
      { raw: Buffer.alloc(200, 0xff).toString('hex') }, // random-looking bytes
      { kind: 'data', session: '00000000000000aa', seq: 0, version: 9 }, // unknown version
      { kind: 'data', session: '00000000000000aa', seq: 0, headerLength: 8 }, // header length too short
      { kind: 'data', session: '00000000000000aa', seq: 0, headerLength: 900, len: 64 }, // header longer than datagram
    ].map((p) => ({ ...p, gapMs: 2 }));
    const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5104', '--pps', '1000', '-l', '300', '-t', '1.5', '--json', join(dir, 'send.json')]);
    const crafted = await ns.node(CRAFT, [GROUP, '5104', JSON.stringify([...junk, ...junk, ...junk])]).done;
    expect(crafted.code, crafted.stderr).toBe(0);
    expect((await tx.done).code).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    const sent = readJson<SenderResult>('send.json').end;
    expect(got.end.foreign_packets).toBe(21);
    expect(got.end.sessions).toHaveLength(1);
    expect(got.end.sessions[0]!.packets).toBe(sent.packets);
    expect(got.end.sessions[0]!.lost_packets).toBe(0);
    // every datagram read is DATA, junk or one of the (up to 5) FIN copies
    expect(got.end.datagrams).toBeGreaterThanOrEqual(sent.packets + 21 + 1);
    expect(got.end.datagrams).toBeLessThanOrEqual(sent.packets + 21 + 5);
    expect(r.stderr).toMatch(/21 datagrams on the group were not mcbench packets/);
  });

  it('--verify-payload: every byte mcbench send wrote checks out; crafted payloads other than the pattern are counted, not lost', async () => {
    const rx = await startReceiver(5111, ['--sessions', '1', '--verify-payload']);
    // Another session, v1, 1000-byte datagrams: the pattern as written by an independent
    // implementation (craft.mjs), the pattern with its last byte flipped, and zeros.
    const crafted = [
      ...[0, 1, 2].map((seq) => ({ kind: 'data', session: '00000000000000c1', seq, len: 1000, payload: 'pattern' })),
      ...[3, 4].map((seq) => ({ kind: 'data', session: '00000000000000c1', seq, len: 1003, payload: 'pattern-flip' })),
      { kind: 'data', session: '00000000000000c1', seq: 5, len: 1000 },
    ].map((p) => ({ ...p, gapMs: 2 }));
    const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5111', '--pps', '2000', '-l', '1400', '-t', '1', '--json', join(dir, 'send.json')]);
    const c = await ns.node(CRAFT, [GROUP, '5111', JSON.stringify(crafted)]).done;
    expect(c.code, c.stderr).toBe(0);
    expect((await tx.done).code).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    const sent = readJson<SenderResult>('send.json').end;
    const real = got.end.sessions.find((s) => s.session_id === sent.session_id)!;
    expect(real.packets).toBe(sent.packets);
    expect(real.bytes).toBe(sent.bytes); // byte counts from the real length (only the header is copied without the flag)
    expect(got.end.payload_checked).toBe(sent.packets + 6);
    expect(got.end.payload_errors).toBe(3);
    expect(got.end.sessions.find((s) => s.session_id === '00000000000000c1')!.packets).toBe(6); // still received
    expect(r.stderr).toMatch(/3 of [\d,]+ DATA datagrams carried a payload other than the pattern/);
  });

  it('crafted sequences: gaps, reorders, duplicates and a restart are counted exactly', async () => {
    const rx = await startReceiver(5105, ['--sessions', '2', '-i', '0']);
    const A = '0000000000000a01';
    const B = '0000000000000b02'; // the "restarted" sender: a new session id, seq from 0 again
    const seqA = [0, 1, 2, 5, 3, 4, 4, 6, 9, 7, 10, 10, 10];
    const packets = [
      ...seqA.map((seq) => ({ kind: 'data', session: A, seq })),
      { kind: 'fin', session: A, seq: 12 }, // A sent 0..11: 8 and 11 never came
      ...[0, 1, 2].map((seq) => ({ kind: 'data', session: B, seq })),
      { kind: 'fin', session: B, seq: 3 },
    ];
    const crafted = await ns.node(CRAFT, [GROUP, '5105', JSON.stringify(packets)]).done;
    expect(crafted.code, crafted.stderr).toBe(0);
    const r = await rx.done;
    expect(r.code, r.stderr).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    const a = got.end.sessions.find((s) => s.session_id === A)!;
    const b = got.end.sessions.find((s) => s.session_id === B)!;
    // unique: 0,1,2,3,4,5,6,7,9,10 = 10; duplicates: 4 once, 10 twice = 3
    expect(a.packets).toBe(10);
    expect(a.duplicates).toBe(3);
    // RFC 4737: 3 (after 5), 4 (after 5), 7 (after 9) arrived below the next expected
    expect(a.out_of_order).toBe(3);
    expect(a.reorder_max_extent).toBe(3); // 3 arrived when 6 was expected
    expect(a.expected_packets).toBe(12);
    expect(a.lost_packets).toBe(2);
    expect(a.gaps).toBe(2); // 2 -> 5 and 6 -> 9
    expect(a.tail_known).toBe(true);
    expect(b).toMatchObject({ packets: 3, lost_packets: 0, duplicates: 0, out_of_order: 0, tail_known: true, sender_packets: 3 });
  });

  it('Ctrl-C mid-run still prints and writes the result, marked partial', async () => {
    const rx = await startReceiver(5106);
    const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5106', '--pps', '1000', '-l', '100', '-t', '30', '--json', join(dir, 'send.json')]);
    await tx.waitFor('0.00-1.00 sec');
    tx.child.kill('SIGINT');
    const ts = await tx.done;
    expect(ts.code, ts.stderr).toBe(130); // SIGINT: partial, cut short
    const sent = readJson<SenderResult>('send.json').end;
    expect(sent.partial).toBe(true);
    expect(sent.end_reason).toBe('signal');
    expect(sent.packets).toBeGreaterThan(900);
    expect(sent.fins_sent).toBe(5);
    const r = await rx.done;
    const got = readJson<ReceiverResult>('recv.json');
    // The sender's FINs still went out, so the receiver ends normally with the exact count.
    expect(got.end.sessions[0]!.sender_packets).toBe(sent.packets);
    expect(got.end.sessions[0]!.packets).toBe(sent.packets);
    expect(r.code).toBe(0);
  });

  it('a receiver whose sender dies without FIN ends at --idle-timeout, partial, tail unknown', async () => {
    const rx = await startReceiver(5107, ['--idle-timeout', '1']);
    const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5107', '--pps', '500', '-l', '100', '-t', '30']);
    await tx.waitFor('0.00-1.00 sec');
    tx.child.kill('SIGKILL');
    await tx.done;
    const r = await rx.done;
    expect(r.code).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    expect(got.end.end_reason).toBe('idle-timeout');
    expect(got.end.partial).toBe(true);
    expect(got.end.sessions[0]!.tail_known).toBe(false);
    expect(got.end.sessions[0]!.sender_packets).toBeNull();
    expect(got.end.sessions[0]!.packets).toBeGreaterThan(400);
    expect(r.stdout).toContain('PARTIAL');
  });

  it('--json - puts the JSON on stdout and the human output on stderr', async () => {
    const rx = ns.mcbench(['recv', '-g', GROUP, '-p', '5108', '-t', '20', '--json', '-']);
    await rx.waitFor('listening on');
    const tx = await ns.mcbench(['send', '-g', GROUP, '-p', '5108', '--pps', '200', '-n', '100', '--json', '-']).done;
    expect(tx.code).toBe(0);
    const sent = JSON.parse(tx.stdout) as SenderResult;
    expect(sent.end.packets).toBe(100);
    expect(tx.stderr).toContain('mcbench send: to');
    const r = await rx.done;
    const got = JSON.parse(r.stdout) as ReceiverResult;
    expect(got.end.sessions[0]!.packets).toBe(100);
    expect(r.stderr).toContain('listening on');
  });

  it('a buffer above net.core.rmem_max is clamped, and the run says so with the sysctl that lifts it', async () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const asked = rmemMax * 2;
    const r = await ns.mcbench(['recv', '-g', GROUP, '-p', '5109', '--rcvbuf', String(asked), '-t', '0.3', '--json', join(dir, 'recv.json')]).done;
    expect(r.code, r.stderr).toBe(0);
    const got = readJson<ReceiverResult>('recv.json');
    expect(got.end.socket).toEqual({ rcvbuf_actual: 2 * rmemMax, rcvbuf_clamped: true, rmem_max: rmemMax });
    expect(r.stderr).toContain(`Lift the limit: sysctl -w net.core.rmem_max=${asked}`);
    expect(r.stderr.split('\n').filter((l) => l.includes('SO_RCVBUF clamped'))).toHaveLength(1);
  });

  it('--rcvbuf-force without CAP_NET_ADMIN: exit 2 saying what is needed', async () => {
    const child = ns.spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MCBENCH,
      'recv', '-g', GROUP, '-p', '5110', '--rcvbuf', '1M', '--rcvbuf-force', '-t', '1']);
    const r = await new Running(child, 15000).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('mcbench recv: --rcvbuf-force: needs CAP_NET_ADMIN (run as root), or drop it and raise net.core.rmem_max instead');
  });

  it('no multicast route: send and recv exit 1 saying what is missing', async () => {
    // A namespace of its own without the 224.0.0.0/4 route the shared one has.
    const bare = (args: string[]) => new Running(spawn('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, MCBENCH, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] }), 15000).done;
    const tx = await bare(['send', '-g', GROUP, '-n', '10']);
    expect(tx.code).toBe(1);
    expect(tx.stderr.trim()).toBe(`mcbench send: cannot send to ${GROUP}: no route for the group: give the interface with -I, or add one (ip route add 224.0.0.0/4 dev IFACE)`);
    const rx = await bare(['recv', '-g', GROUP, '-t', '1']);
    expect(rx.code).toBe(1);
    expect(rx.stderr.trim()).toBe(`mcbench recv: cannot join ${GROUP}: no route for the group: give the interface with -I, or add one (ip route add 224.0.0.0/4 dev IFACE)`);
  });

  it('another group on the same port, joined by another receiver on the host, is not counted (IP_MULTICAST_ALL off)', async () => {
    const OTHER = '239.255.10.99';
    const rxA = await startReceiver(5111, ['--sessions', '1'], 'a.json');
    const rxB = ns.mcbench(['recv', '-g', OTHER, '-p', '5111', '-t', '20', '--sessions', '1', '--json', join(dir, 'b.json')]);
    await rxB.waitFor('listening on');
    const [ta, tb] = await Promise.all([
      ns.mcbench(['send', '-g', GROUP, '-p', '5111', '--pps', '1000', '-n', '800', '-l', '100']).done,
      ns.mcbench(['send', '-g', OTHER, '-p', '5111', '--pps', '1000', '-n', '1300', '-l', '100']).done,
    ]);
    expect(ta.code, ta.stderr).toBe(0);
    expect(tb.code, tb.stderr).toBe(0);
    await Promise.all([rxA.done, rxB.done]);
    const a = readJson<ReceiverResult>('a.json');
    const b = readJson<ReceiverResult>('b.json');
    expect(a.end.sessions).toHaveLength(1);
    expect(a.end.sessions[0]!.packets).toBe(800);
    expect(a.end.foreign_packets).toBe(0);
    expect(b.end.sessions).toHaveLength(1);
    expect(b.end.sessions[0]!.packets).toBe(1300);
  });

  it('Ctrl-C on the receiver mid-run: it prints and writes what it measured, marked partial', async () => {
    const rx = await startReceiver(5112, ['-i', '0.5']);
    const tx = ns.mcbench(['send', '-g', GROUP, '-p', '5112', '--pps', '1000', '-l', '100', '-t', '20']);
    await rx.waitFor('0.00-0.5');
    rx.child.kill('SIGINT');
    const r = await rx.done;
    tx.child.kill('SIGKILL');
    expect(r.code, r.stderr).toBe(130); // SIGINT: partial, cut short
    const got = readJson<ReceiverResult>('recv.json');
    expect(got.end.partial).toBe(true);
    expect(got.end.end_reason).toBe('signal');
    expect(got.end.sessions[0]!.packets).toBeGreaterThan(300);
    expect(got.end.sessions[0]!.tail_known).toBe(false);
    expect(got.intervals.length).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toContain('end: signal (PARTIAL result)');
  });
});
