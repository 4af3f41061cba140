// Pure parsing and metric arithmetic, no sockets: known answers computed by hand.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { loss, rcvbufClamped, receiverInterval, sessionResult, sumSessions, throughput } from '../src/core/metrics.js';
import { recvSpec, sendSpec } from '../src/core/spec.js';
import { parseCount, parseRate, parseSeconds, parseSize } from '../src/core/units.js';
import type { NativeReceiverSnapshot, NativeSessionSnapshot } from '../src/core/snapshots.js';

describe('units (iperf conventions)', () => {
  it('rates are decimal, sizes binary', () => {
    expect(parseRate('-b', '800M')).toBe(800e6);
    expect(parseRate('-b', '1.5g')).toBe(1.5e9);
    expect(parseRate('-b', '64k')).toBe(64000);
    expect(parseRate('-b', '0')).toBe(0);
    expect(parseSize('--rcvbuf', '8M')).toBe(8 * 1024 * 1024);
    expect(parseSize('-l', '1K')).toBe(1024);
    expect(parseSize('-l', '1400')).toBe(1400);
    expect(parseCount('-n', '1M')).toBe(1e6);
    expect(parseSeconds('-t', '2.5')).toBe(2.5);
  });
  it('rejects junk with the flag named', () => {
    expect(() => parseRate('-b/--bandwidth', '12X')).toThrow(/-b\/--bandwidth: '12X' is not a rate/);
    expect(() => parseSize('--rcvbuf', '-1')).toThrow(UsageError);
    expect(() => parseCount('-n', '1.5')).toThrow(/not a whole number/);
    expect(() => parseSeconds('-t', '1e3')).toThrow(/not a duration/);
  });
});

describe('run specs', () => {
  it('send: -b converts to packets per second of the payload', () => {
    const s = sendSpec({ group: '239.1.2.3', port: '5001', bandwidth: '80M', length: '1000' });
    expect(s.pps).toBe(10000);
    expect(s.bitsPerSecond).toBe(80e6);
    expect(s.timeSeconds).toBe(10); // iperf's default when neither -t nor -n
    expect(s.ttl).toBe(1);
  });
  it('send: --pps sets the bit rate from the length; -n alone has no time limit', () => {
    const s = sendSpec({ group: '239.1.2.3', port: 9, pps: '2k', length: '500', count: '100' });
    expect(s.pps).toBe(2000);
    expect(s.bitsPerSecond).toBe(2000 * 500 * 8);
    expect(s.timeSeconds).toBeNull();
    expect(s.count).toBe(100);
  });
  it('send: -b 0 is unlimited', () => {
    expect(sendSpec({ group: '239.1.2.3', port: 9, bandwidth: '0' }).pps).toBe(0);
  });
  it('recv: defaults and sizes', () => {
    const r = recvSpec({ group: '224.0.1.1', port: '65535', rcvbuf: '25M' });
    expect(r.rcvbuf).toBe(25 * 1024 * 1024);
    expect(r.idleTimeoutSeconds).toBe(3);
    expect(r.interface).toBeNull();
  });
  it('recv: coalescing on by default (500 us, batch 256); off with --coalesce 0 or a batch below 32; 64-KiB slots keep batch 64', () => {
    const at = (extra: Record<string, unknown>) => {
      const r = recvSpec({ group: '239.1.2.3', port: 9, ...extra });
      return [r.coalesceMicroseconds, r.batch];
    };
    expect(at({})).toEqual([500, 256]);
    expect(at({ coalesce: '0' })).toEqual([0, 64]);
    expect(at({ coalesce: '200' })).toEqual([200, 256]);
    expect(at({ batch: '16' })).toEqual([0, 16]);
    expect(at({ batch: '32' })).toEqual([500, 32]);
    expect(at({ 'verify-payload': true })).toEqual([500, 64]);
    expect(at({ gro: true, coalesce: '0' })).toEqual([0, 64]);
    expect(() => recvSpec({ group: '239.1.2.3', port: 9, coalesce: '100', batch: '16' })).toThrow(/--coalesce: needs --batch 32 or more/);
  });
  it('boundaries of the multicast range', () => {
    expect(() => sendSpec({ group: '223.255.255.255', port: 1 })).toThrow(/not a multicast address/);
    expect(() => sendSpec({ group: '240.0.0.0', port: 1 })).toThrow(/not a multicast address/);
    expect(sendSpec({ group: '224.0.0.0', port: 1 }).group).toBe('224.0.0.0');
    expect(sendSpec({ group: '239.255.255.255', port: 1 }).group).toBe('239.255.255.255');
  });
});

const session = (over: Partial<NativeSessionSnapshot>): NativeSessionSnapshot => ({
  sessionId: '00000000000000aa', started: true, firstSeq: 0, maxSeq: 0, unique: 0, expected: 0, lost: 0,
  duplicates: 0, reordered: 0, reorderMaxExtent: 0, gaps: 0, beyondWindow: 0, bytes: 0, finSeen: false,
  finTotal: 0, finsReceived: 0, firstRecvNs: 0, lastRecvNs: 0, lastRecvMonoNs: 0, jitterNs: 0, ...over,
});
const receiverSnap = (sessions: NativeSessionSnapshot[], over: Partial<NativeReceiverSnapshot> = {}): NativeReceiverSnapshot => ({
  datagrams: 0, foreign: 0, truncated: 0, payloadChecked: 0, payloadErrors: 0, rejectedSessions: 0, batches: 0, fullBatches: 0, rxqOvfl: 0,
  kernelStamps: 0, firstPacketMonoNs: 0, lastPacketMonoNs: 0, socketDrops: -1, firstMcbenchRealNs: 0, firstMcbenchMonoNs: 0,
  stalls: { list: [], overflow: 0, thresholdNs: 0, medianGapNs: 0, firstDataNs: 0, lastDataNs: 0, lastSession: '', lastSeq: 0 },
  running: true, error: null, sessions, ...over,
});

describe('metrics', () => {
  it('throughput and loss', () => {
    expect(throughput(1000, 1_000_000, 2)).toEqual({ seconds: 2, packets: 1000, bytes: 1e6, bits_per_second: 4e6, packets_per_second: 500 });
    expect(loss(200, 150, 3, 1)).toEqual({ expected_packets: 200, lost_packets: 50, lost_percent: 25, out_of_order: 3, duplicates: 1 });
    expect(loss(0, 0, 0, 0).lost_percent).toBe(0);
  });
  it('session rate spans first to last arrival: n packets paced at r span (n-1)/r', () => {
    // 1001 packets of 100 bytes, 1 ms apart: 1000 pps over exactly 1 s
    const s = sessionResult(session({ unique: 1001, expected: 1001, bytes: 100_100, firstRecvNs: 5e9, lastRecvNs: 6e9, maxSeq: 1000, finSeen: true, finTotal: 1001 }));
    expect(s.packets_per_second).toBeCloseTo(1000, 9);
    expect(s.bits_per_second).toBeCloseTo(800_000, 6);
    expect(s.tail_known).toBe(true);
    expect(s.sender_packets).toBe(1001);
  });
  it('intervals are differences of cumulative snapshots; the sum adds sessions', () => {
    const a0 = session({ sessionId: 'a', unique: 100, expected: 100, bytes: 10_000 });
    const b0 = session({ sessionId: 'b', unique: 50, expected: 60, bytes: 5_000 });
    const a1 = session({ sessionId: 'a', unique: 300, expected: 310, bytes: 30_000, reordered: 2 });
    const b1 = session({ sessionId: 'b', unique: 150, expected: 160, bytes: 15_000 });
    const c1 = session({ sessionId: 'c', unique: 10, expected: 10, bytes: 1_000 }); // new in this interval
    const iv = receiverInterval(receiverSnap([a0, b0], { foreign: 1, rxqOvfl: 4 }), receiverSnap([a1, b1, c1], { foreign: 3, rxqOvfl: 14 }), 1, 3);
    const a = iv.streams.find((s) => s.session_id === 'a')!;
    expect(a).toMatchObject({ packets: 200, expected_packets: 210, lost_packets: 10, out_of_order: 2, bytes: 20_000, seconds: 2, packets_per_second: 100 });
    expect(iv.streams.find((s) => s.session_id === 'b')).toMatchObject({ packets: 100, lost_packets: 0 });
    expect(iv.streams.find((s) => s.session_id === 'c')).toMatchObject({ packets: 10, lost_packets: 0 });
    expect(iv.sum).toMatchObject({ packets: 310, expected_packets: 320, lost_packets: 10, foreign_packets: 2, socket_overflow_drops: 10 });
    expect(iv.sum.lost_percent).toBeCloseTo(100 * 10 / 320, 12);
  });
  it('a late packet filling an earlier gap never shows as negative loss', () => {
    const iv = receiverInterval(receiverSnap([session({ unique: 9, expected: 10 })]), receiverSnap([session({ unique: 10, expected: 10 })]), 0, 1);
    expect(iv.streams[0]!.lost_packets).toBe(0);
  });
  it('sumSessions', () => {
    const s1 = sessionResult(session({ sessionId: 'a', unique: 90, expected: 100, bytes: 9000, firstRecvNs: 0, lastRecvNs: 1e9 }));
    const s2 = sessionResult(session({ sessionId: 'b', unique: 100, expected: 100, bytes: 10000, firstRecvNs: 0, lastRecvNs: 2e9 }));
    expect(sumSessions([s1, s2])).toMatchObject({ packets: 190, expected_packets: 200, lost_packets: 10, lost_percent: 5, seconds: 2 });
  });
  it('SO_RCVBUF clamp detection: Linux grants 2x the request unless rmem_max cut it', () => {
    expect(rcvbufClamped(212992, 425984)).toBe(false);
    expect(rcvbufClamped(8 * 1024 * 1024, 425984)).toBe(true);
    expect(rcvbufClamped(null, 212992)).toBe(false);
    expect(rcvbufClamped(1000, 4608)).toBe(false); // the kernel's minimum is above 2x
  });
});

describe('stall detection', () => {
  const stall = (startNs: number, lengthNs: number, seqBefore: number, seqAfter: number, sessionAfter = 'a') =>
    ({ startNs, lengthNs, sessionBefore: 'a', seqBefore, sessionAfter, seqAfter });
  const st = (list: ReturnType<typeof stall>[], lastDataNs: number) =>
    ({ list, overflow: 0, thresholdNs: 50e6, medianGapNs: 1e6, firstDataNs: 1e9, lastDataNs, lastSession: 'a', lastSeq: 99 });
  it('located stalls: times since the first DATA packet, sequences missing across them (same session only)', async () => {
    const { locateStalls } = await import('../src/core/metrics.js');
    const r = locateStalls(st([stall(2e9, 1.5e9, 10, 21), stall(4e9, 0.1e9, 30, 0, 'b')], 5e9), 5.01e9, true);
    expect(r.inProgress).toBe(false); // 10 ms of silence at the end is below the 50 ms threshold
    expect(r.stalls).toEqual([
      { start_seconds: 1, end_seconds: 2.5, seconds: 1.5, resumed: true, start_epoch_seconds: 2, session_before: 'a', seq_before: 10, session_after: 'a', seq_after: 21, missing_packets: 10 },
      { start_seconds: 3, end_seconds: 3.1, seconds: 0.1, resumed: true, start_epoch_seconds: 4, session_before: 'a', seq_before: 30, session_after: 'b', seq_after: 0, missing_packets: null },
    ]);
  });
  it('a silence to the end is a stall in progress only when a tail is unknown', async () => {
    const { locateStalls } = await import('../src/core/metrics.js');
    const open = locateStalls(st([], 5e9), 11.15e9, true);
    expect(open.inProgress).toBe(true);
    expect(open.stalls).toHaveLength(1);
    expect(open.stalls[0]).toMatchObject({ start_seconds: 4, resumed: false, seq_before: 99, seq_after: null, missing_packets: null });
    expect(open.stalls[0]!.seconds).toBeCloseTo(6.15, 9);
    // every session sent FIN: the quiet after it is the end, not a stall
    expect(locateStalls(st([], 5e9), 11.15e9, false)).toEqual({ stalls: [], inProgress: false });
  });
});

describe('span rates', () => {
  it('n packets over (n-1) gaps: 5 packets paced at 100 pps span 40 ms and are 100 pps, not 125', async () => {
    const { spanThroughput } = await import('../src/core/metrics.js');
    const t = spanThroughput(5, 500, 0.04, 0.05);
    expect(t.packets_per_second).toBeCloseTo(100, 9);
    expect(t.bits_per_second).toBeCloseTo(100 * 100 * 8, 6);
    expect(t.seconds).toBe(0.05);
    expect(spanThroughput(1, 100, 0, 1).packets_per_second).toBe(1); // one packet: count / seconds
  });
});
