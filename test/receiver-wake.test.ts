// `recv --coalesce`: after a read that showed dense traffic the receive thread waits before the
// next, so one wakeup takes a fuller batch. Checked against truth the receiver does not produce:
// the sender's own count and the kernel's Udp counters (/proc/net/snmp) of a private namespace,
// for the lossless claim; its read count against a plain receiver on the same traffic; and the
// wait's bound on a small (kernel default) socket buffer, where a long wait could make drops.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { mcbenchNoNet, TestNetns, udpCounters } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-wake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!isRoot)('recv --coalesce in a private namespace on lo', () => {
  let ns: TestNetns;
  beforeAll(async () => {
    ns = await TestNetns.withMulticastLo();
  });
  afterAll(() => ns?.close());

  const snmp = async () => udpCounters((await ns.run('cat', ['/proc/net/snmp'])).stdout);
  const waitJoined = async () => {
    // both receivers print their start line (the join is done) before the sender starts
    await new Promise((r) => setTimeout(r, 800));
  };
  /** One receiver on GROUP:PORT, then a 64-byte stream to it; both results (exit 0 checked). */
  const oneStream = async (name: string, group: string, port: string, recvFlags: string[], sendFlags: string[]) => {
    const file = join(dir, `${name}.json`);
    const rx = ns.mcbench(['recv', '-g', group, '-p', port, '-I', 'lo', '-t', '6', '-i', '0', '--sessions', '1', ...recvFlags, '--json', file, '-q']);
    await waitJoined();
    const txFile = join(dir, `${name}-send.json`);
    const tx = await ns.mcbench(['send', '-g', group, '-p', port, '-I', 'lo', '-l', '64', '-i', '0', ...sendFlags, '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const out = await rx.done;
    expect(out.code, out.stderr).toBe(0);
    return { sent: (JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult).end, r: (JSON.parse(readFileSync(file, 'utf8')) as ReceiverResult).end };
  };

  it('200 kpps, two receivers on one stream: the coalescing one reads fuller batches and still gets every packet', async () => {
    const before = await snmp();
    const plainFile = join(dir, 'plain.json');
    const coalFile = join(dir, 'coal.json');
    const recv = (file: string, extra: string[]) =>
      ns.mcbench(['recv', '-g', '239.8.8.1', '-p', '5021', '-I', 'lo', '-t', '6', '-i', '0', '--sessions', '1', '--rcvbuf', '32M', '--rcvbuf-force', '--json', file, '-q', ...extra]);
    // the plain one with coalescing off; the other with the default (500 us, batch 256)
    const plain = recv(plainFile, ['--coalesce', '0']);
    const coal = recv(coalFile, []);
    await waitJoined();
    const txFile = join(dir, 'send.json');
    // paced: unlimited, a receiver starved for a moment on a loaded 2-core machine could lose
    const tx = await ns.mcbench(['send', '-g', '239.8.8.1', '-p', '5021', '-I', 'lo', '--pps', '200000', '-l', '64', '-t', '1.5', '-i', '0', '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const [p, c] = await Promise.all([plain.done, coal.done]);
    expect(p.code, p.stderr).toBe(0);
    expect(c.code, c.stderr).toBe(0);
    const after = await snmp();
    const sent = (JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult).end;
    const a = (JSON.parse(readFileSync(plainFile, 'utf8')) as ReceiverResult).end;
    const b = (JSON.parse(readFileSync(coalFile, 'utf8')) as ReceiverResult).end;
    const n = sent.packets;
    expect(n).toBeGreaterThan(250000);
    // the kernel delivered every datagram to both sockets and dropped none for lack of room
    const d = (k: string) => after[k]! - before[k]!;
    expect(d('RcvbufErrors')).toBe(0);
    // (each receiver stops at the first FIN: the later FINs may find its socket gone)
    expect(d('InDatagrams')).toBeGreaterThanOrEqual(2 * (n + 1));
    expect(d('InDatagrams')).toBeLessThanOrEqual(2 * (n + sent.fins_sent));
    for (const r of [a, b]) {
      expect(r.sum).toMatchObject({ packets: n, lost_packets: 0, expected_packets: n, duplicates: 0 });
      expect(r.socket_overflow_drops).toBe(0);
    }
    expect(a.coalesce ?? null).toBeNull();
    expect(b.coalesce).toMatchObject({ max_wait_us: 500, batch: 256 });
    expect(b.coalesce!.waits).toBeGreaterThan(0);
    expect(b.coalesce!.waited_seconds).toBeGreaterThan(0);
    // no wait longer than asked: their total is at most waits x 500 us
    expect(b.coalesce!.waited_seconds).toBeLessThanOrEqual((b.coalesce!.waits * 500e-6) * 1.0001);
    const perRead = (r: typeof a) => r.datagrams / r.recv_calls;
    console.log(
      `lo, 64 B at 200 kpps: sent ${n}; plain ${a.recv_calls} reads (${perRead(a).toFixed(1)}/read, ${a.receiver_thread.cpu_ns_per_packet?.toFixed(0)} ns/packet); ` +
        `default (--coalesce 500) ${b.recv_calls} reads (${perRead(b).toFixed(1)}/read, ${b.receiver_thread.cpu_ns_per_packet?.toFixed(0)} ns/packet), ${b.coalesce!.waits} waits, ${(b.coalesce!.waited_seconds * 1e3).toFixed(1)} ms`,
    );
    // the point of it: fewer wakeups for the same packets
    expect(perRead(b)).toBeGreaterThan(1.5 * perRead(a));
  }, 40000);

  it('a buffer the size of the kernel default holds too few datagrams in an eighth to be worth a wait: the default never waits', async () => {
    // 106496 asked, 212992 granted (the kernel doubles it): Debian's net.core.rmem_default;
    // 100,000 pps: dense enough that, unbounded, nearly every read would be followed by a wait
    // (measured: 12,800 waits in the second)
    const { sent, r } = await oneStream('small', '239.8.8.2', '5022', ['--rcvbuf', '106496', '--rcvbuf-force'], ['--pps', '100000', '-t', '1']);
    const rcvbuf = r.socket.rcvbuf_actual;
    // an eighth of the buffer at 64 + 4096 bytes a datagram, against the 32 a wait must gather
    const room = Math.floor(rcvbuf / 8 / (64 + 4096));
    console.log(`lo, 64 B at 100 kpps, SO_RCVBUF ${rcvbuf}: room for ${room} datagrams a wait; ${r.coalesce?.waits ?? 0} waits; ${r.recv_calls} reads; lost ${r.sum.lost_packets} (socket drops ${r.socket_overflow_drops})`);
    expect(r.sum.packets + r.sum.lost_packets).toBe(sent.packets);
    expect(rcvbuf).toBe(212992);
    expect(room).toBe(6);
    expect(r.coalesce).toMatchObject({ max_wait_us: 500, batch: 256, waits: 0, waited_seconds: 0 });
    expect(r.recv_calls).toBeGreaterThan(1000);
  }, 30000);

  it('drops while the receiver coalesced: a warning names the waits and --coalesce 0; the counts stay the truth', async () => {
    // a reader stalled for 1.4 s (the sender starts 0.8 s in) behind 1 MiB (2 MiB granted: an
    // eighth holds 63 datagrams, so it may wait) drops at the socket, then drains a dense stream with waits
    const { sent, r } = await oneStream('dropwait', '239.8.8.5', '5025', ['--rcvbuf', '1M', '--rcvbuf-force', '--test-read-pause', '1.4'], ['--pps', '150000', '-t', '1.5']);
    console.log(`lo, reader stalled 1.4 s: lost ${r.sum.lost_packets} of ${sent.packets} (socket drops ${r.socket_overflow_drops}), ${r.coalesce?.waits} waits`);
    expect(r.sum.packets + r.sum.lost_packets).toBe(sent.packets);
    expect(r.socket_overflow_drops).toBeGreaterThan(0);
    expect(r.coalesce!.waits).toBeGreaterThan(0);
    expect(r.warnings.join('\n')).toMatch(/the socket dropped while the receiver coalesced \([\d,]+ waits of up to 500 us\): rerun with --coalesce 0/);
  }, 30000);

  it('--gro: a GSO send is read as one buffer and split into its datagrams: every sequence, every payload, in order', async () => {
    const groFile = join(dir, 'gro.json');
    const plainFile = join(dir, 'gro-plain.json');
    const recv = (file: string, extra: string[]) =>
      ns.mcbench(['recv', '-g', '239.8.8.4', '-p', '5024', '-I', 'lo', '-t', '6', '-i', '0', '--sessions', '1', '--rcvbuf', '16M', '--rcvbuf-force', '--verify-payload', '--json', file, '-q', ...extra]);
    const gro = recv(groFile, ['--gro']);
    const plain = recv(plainFile, []);
    await waitJoined();
    // 8,003 datagrams of 200 bytes, 8 per GSO send: 1,000 buffers of 1,600 bytes and one of 600
    const txFile = join(dir, 'gro-send.json');
    const tx = await ns.mcbench(['send', '-g', '239.8.8.4', '-p', '5024', '-I', 'lo', '-b', '0', '-l', '200', '--gso', '8', '-n', '8003', '-i', '0', '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const [g, p] = await Promise.all([gro.done, plain.done]);
    expect(g.code, g.stderr).toBe(0);
    expect(p.code, p.stderr).toBe(0);
    const a = (JSON.parse(readFileSync(groFile, 'utf8')) as ReceiverResult).end;
    const b = (JSON.parse(readFileSync(plainFile, 'utf8')) as ReceiverResult).end;
    console.log(`lo, --gso 8, 200 B: --gro read ${a.gro?.buffers_read} buffers (${a.gro?.coalesced_buffers} coalesced, ${a.gro?.datagrams_per_buffer?.toFixed(2)} datagrams each); plain read ${b.datagrams} datagrams`);
    for (const r of [a, b]) {
      expect(r.sum).toMatchObject({ packets: 8003, lost_packets: 0, expected_packets: 8003, duplicates: 0, out_of_order: 0 });
      // each datagram's payload, at its offset in the buffer, is the sender's pattern
      expect(r).toMatchObject({ payload_checked: 8003, payload_errors: 0, foreign_packets: 0, truncated_packets: 0 });
    }
    // the kernel kept the sends whole: 1,001 buffers of DATA (the 3-datagram one too), + the FIN(s)
    expect(a.gro).toMatchObject({ coalesced_buffers: 1001, coalesced_datagrams: 8003 });
    expect(a.gro!.buffers_read).toBeGreaterThanOrEqual(1002);
    expect(a.gro!.buffers_read).toBeLessThanOrEqual(1006);
    expect(a.kernel_timestamped).toBe(a.datagrams);
    expect(b.gro ?? null).toBeNull();
    // without UDP_GRO the socket gets every datagram on its own
    expect(b.datagrams).toBeGreaterThanOrEqual(8004);
  }, 40000);

  it('--gro with a stalled reader: the socket drops whole buffers; the loss attribution counts them in datagrams', async () => {
    const file = join(dir, 'gro-drops.json');
    // a small buffer and a reader that starts 0.6 s late: most of the burst finds the socket full
    const rx = ns.mcbench(['recv', '-g', '239.8.8.5', '-p', '5025', '-I', 'lo', '-t', '8', '-i', '0', '--idle-timeout', '2', '--rcvbuf', '64K', '--rcvbuf-force', '--gro', '--test-read-pause', '0.6', '--json', file, '-q']);
    await waitJoined();
    const txFile = join(dir, 'gro-drops-send.json');
    const tx = await ns.mcbench(['send', '-g', '239.8.8.5', '-p', '5025', '-I', 'lo', '-b', '0', '-l', '200', '--gso', '8', '-n', '16000', '-i', '0', '--json', txFile, '-q']).done;
    expect(tx.code, tx.stderr).toBe(0);
    const out = await rx.done;
    expect([0, 1]).toContain(out.code);
    const r = (JSON.parse(readFileSync(file, 'utf8')) as ReceiverResult).end;
    const lost = 16000 - r.sum.packets;
    console.log(`lo, --gro, stalled reader: received ${r.sum.packets} of 16000, socket dropped ${r.socket_overflow_drops} buffers, taken for ${r.gro?.socket_drops_as_datagrams} datagrams; attribution socket ${r.loss_attribution.socket_buffer.count}`);
    expect(lost).toBeGreaterThan(1000);
    // sends of 8: each dropped buffer is at most 8 datagrams (a FIN is one)
    expect(r.socket_overflow_drops).toBeGreaterThanOrEqual(Math.ceil(lost / 8));
    expect(r.socket_overflow_drops).toBeLessThanOrEqual(Math.ceil(lost / 8) + 5);
    // the estimate: drops x datagrams per buffer read (8 for the data, 1 for each FIN read)
    const per = r.gro!.datagrams_per_buffer!;
    expect(per).toBeGreaterThan(6);
    expect(per).toBeLessThanOrEqual(8);
    expect(r.gro!.socket_drops_as_datagrams).toBe(Math.round(r.socket_overflow_drops * per));
    expect(r.gro!.socket_drops_as_datagrams).toBeGreaterThan(0.75 * lost);
    // the attribution gives the socket that much of the loss (never more than was lost); the
    // loss itself is the sequences' count, not the estimate
    expect(r.loss_attribution.lost).toBe(lost);
    expect(r.loss_attribution.socket_buffer.count).toBe(Math.min(lost, r.gro!.socket_drops_as_datagrams));
  }, 40000);
});

describe.skipIf(!isRoot)('run passes --verify-payload, --gro and --coalesce to its receivers', () => {
  it('run --gso 8 --gro --verify-payload --coalesce 200: each receiver result has them, every payload checked', async () => {
    const file = join(dir, 'run.json');
    const r = await mcbenchNoNet(['run', '-l', '200', '--pps', '20000', '-t', '1', '--receivers', '1', '--gso', '8', '--gro', '--verify-payload', '--coalesce', '200', '--rcvbuf', '8M', '--rcvbuf-force', '--lab-name', 'wake', '--json', file], 60000);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { variants: Array<{ receivers: Array<{ result: ReceiverResult }> }> };
    const end = doc.variants[0]!.receivers[0]!.result.end;
    expect(end.sum.packets).toBe(20000);
    expect(end).toMatchObject({ payload_checked: 20000, payload_errors: 0 });
    // through the lab's veths and bridge the GSO sends reach the receiver whole: some buffers hold
    // several datagrams (paced at 20 kpps, most sends are of one or two)
    expect(end.gro!.coalesced_buffers).toBeGreaterThan(0);
    expect(end.gro!.coalesced_datagrams).toBeGreaterThanOrEqual(2 * end.gro!.coalesced_buffers);
    expect(end.gro!.buffers_read).toBeLessThan(end.datagrams);
    // whole-datagram slots (--gro, --verify-payload: 64 KiB each) keep the batch at 64
    expect(end.coalesce).toMatchObject({ max_wait_us: 200, batch: 64 });
  }, 90000);

  for (const [args, want] of [
    [['run', '--coalesce', '5000', '-t', '1'], /^mcbench run: --coalesce: 5,?000 is out of range \(0 to 1,?000\)$/m],
    [['recv', '-g', '239.8.8.3', '--coalesce', '100', '--batch', '16'], /^mcbench recv: --coalesce: needs --batch 32 or more/m],
    [['run', '--scenario', 'seed-001-rmem', '--gro'], /--gro is not used by a named scenario/],
    [['run', '--mode', 'rtt', '--verify-payload'], /--verify-payload: does not apply to --mode rtt/],
  ] as const) {
    it(`${args.join(' ')}: exit 2, one line, nothing made`, async () => {
      const r = await mcbenchNoNet([...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe('recv --coalesce: bad values', () => {
  for (const [value, want] of [
    ['1001', /^mcbench recv: --coalesce: 1,?001 is out of range \(0 to 1,?000\)$/m],
    ['abc', /^mcbench recv: --coalesce: 'abc' is not a whole number \(0 to 1,?000\)$/m],
    ['-5', /--coalesce/],
  ] as const) {
    it(`--coalesce ${value}: exit 2, one line`, async () => {
      const r = await mcbenchNoNet(['recv', '-g', '239.8.8.3', '--coalesce', value, '-t', '1']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});
