// RFC 5644 one-to-group figures: the histogram merge against a histogram of the union of the raw
// values (and the exact percentiles of those values), the loss figures against hand-computed
// truth, and a lab run whose group figures are what its receivers' own results say.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupFigures, mergeLatency } from '../src/core/group.js';
import { decodeHistogram, emptyHistogram, type LatencySummary } from '../src/core/latency.js';
import type { ReceiverResult } from '../src/core/result.js';
import type { ReceiverOutcome, RunReport } from '../src/core/run-report.js';
import * as hdr from 'hdr-histogram-js';
import { MCBENCH, Running } from './helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'mcbench-group-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic generator (so a failure reproduces). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** What a receiver's result carries for a set of delays (ns): exact figures and its histogram. */
function summaryOf(values: number[]): LatencySummary {
  const h = emptyHistogram();
  for (const v of values) h.recordValue(v);
  const sum = values.reduce((s, v) => s + v, 0);
  return {
    count: values.length,
    min_ms: Math.min(...values) / 1e6,
    mean_ms: sum / values.length / 1e6,
    p50_ms: 0, p90_ms: 0, p99_ms: 0, p99_9_ms: 0, p99_99_ms: 0, // not used by the merge
    max_ms: Math.max(...values) / 1e6,
    above_range: 0,
    hdr_base64: hdr.encodeIntoCompressedBase64(h),
  };
}

/** The exact percentile of raw values (nearest rank, as HdrHistogram defines it). */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe('mergeLatency', () => {
  it('merged histograms give the percentiles of the union of the raw values', () => {
    const rnd = lcg(5644);
    // Three receivers with different delay distributions (ns): a fast one, a slow one with a tail, a small one.
    const sets = [
      Array.from({ length: 20000 }, () => 20000 + Math.floor(rnd() * 30000)),
      Array.from({ length: 15000 }, () => (rnd() < 0.02 ? 5e6 + Math.floor(rnd() * 20e6) : 200000 + Math.floor(rnd() * 100000))),
      Array.from({ length: 300 }, () => 1e6 + Math.floor(rnd() * 1e6)),
    ];
    const merged = mergeLatency(sets.map(summaryOf))!;
    const union = sets.flat();
    const unionHist = emptyHistogram();
    for (const v of union) unionHist.recordValue(v);
    const sorted = [...union].sort((a, b) => a - b);

    expect(merged.count).toBe(union.length);
    expect(merged.min_ms).toBe(sorted[0]! / 1e6);
    expect(merged.max_ms).toBe(sorted[sorted.length - 1]! / 1e6);
    expect(merged.mean_ms).toBeCloseTo(union.reduce((s, v) => s + v, 0) / union.length / 1e6, 9);
    const got: Array<[number, number]> = [[50, merged.p50_ms], [90, merged.p90_ms], [99, merged.p99_ms], [99.9, merged.p99_9_ms], [99.99, merged.p99_99_ms]];
    for (const [p, ms] of got) {
      // The same as one histogram of every value…
      expect(ms, `p${p}`).toBe(unionHist.getValueAtPercentile(p) / 1e6);
      // …and within HdrHistogram's 3 significant digits of the exact percentile of the values.
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(ms * 1e6 - exact) / exact, `p${p}`).toBeLessThan(1e-3);
    }
    // The merged histogram it carries is the union's, bucket for bucket.
    const carried = decodeHistogram(merged.hdr_base64);
    expect(carried.totalCount).toBe(union.length);
    for (const p of [10, 25, 75, 95, 99.5]) expect(carried.getValueAtPercentile(p)).toBe(unionHist.getValueAtPercentile(p));
  });

  it('no recorded packet anywhere: null', () => {
    expect(mergeLatency([])).toBeNull();
  });
});

/** A receiver outcome with only the figures the group reads (the rest of a result is irrelevant here). */
function outcome(guest: string, f: { expected: number; lost: number; pps: number; delays?: number[] } | null): ReceiverOutcome {
  if (!f) return { guest, result: null, exit_code: null, error: 'killed' };
  const end = {
    sum: { expected_packets: f.expected, lost_packets: f.lost, lost_percent: (100 * f.lost) / f.expected, packets: f.expected - f.lost, packets_per_second: f.pps },
    latency: { one_way_kernel: f.delays ? summaryOf(f.delays) : null, one_way_app: null },
  };
  return { guest, result: { end } as unknown as ReceiverResult, exit_code: 0, error: null };
}

describe('groupFigures', () => {
  it('worst, mean and group loss, receivers with loss, the slowest, against figures worked out by hand', () => {
    const g = groupFigures([
      outcome('g2', { expected: 1000, lost: 10, pps: 990, delays: [100000, 200000] }),
      outcome('g3', { expected: 500, lost: 0, pps: 500, delays: [300000] }),
      outcome('g4', { expected: 2000, lost: 100, pps: 1900 }),
      outcome('g5', null),
    ]);
    expect(g.receivers).toBe(4);
    expect(g.missing).toEqual(['g5']);
    expect(g.per_receiver.map((r) => r.guest)).toEqual(['g2', 'g3', 'g4']);
    expect(g.receivers_with_loss).toBe(2);
    expect(g.worst_loss).toEqual({ guest: 'g4', lost_percent: 5 });
    // (1 + 0 + 5) / 3 receivers
    expect(g.mean_loss_percent).toBeCloseTo(2, 12);
    // (10 + 0 + 100) / (1000 + 500 + 2000)
    expect(g.group_loss_percent).toBeCloseTo((100 * 110) / 3500, 12);
    expect(g.slowest).toEqual({ guest: 'g3', packets_per_second: 500 });
    // g4 recorded no delays: the group's are g2's and g3's three packets
    expect(g.one_way_kernel!.count).toBe(3);
    expect(g.one_way_kernel!.min_ms).toBe(0.1);
    expect(g.one_way_kernel!.max_ms).toBe(0.3);
    expect(g.one_way_kernel!.mean_ms).toBeCloseTo(0.2, 12);
    expect(g.one_way_app).toBeNull();
  });

  it('no receiver result: nothing to aggregate, no invented figure', () => {
    const g = groupFigures([outcome('g2', null)]);
    expect(g).toMatchObject({ receivers: 1, missing: ['g2'], per_receiver: [], receivers_with_loss: 0, worst_loss: null, mean_loss_percent: null, group_loss_percent: null, slowest: null, one_way_kernel: null });
  });
});

describe('mcbench run: the group figures of a lab run', () => {
  it('three receivers: the group row and figures are what the receivers\' own results say', async () => {
    const file = join(dir, 'group.json');
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '--pps', '3000', '-l', '300', '-t', '1.5', '--receivers', '3', '--lab-name', 'grp',
      '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 60000).done;
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'grp']);
    expect(r.code, r.stderr).toBe(0);
    const v = (JSON.parse(readFileSync(file, 'utf8')) as RunReport).variants[0]!;
    const g = v.group!;
    const ends = v.receivers.map((x) => x.result!.end);
    expect(ends).toHaveLength(3);
    // The sender's count is the truth each receiver's loss is against.
    for (const e of ends) expect(e.sessions[0]!.sender_packets).toBe(v.sender!.end.packets);
    expect(g.per_receiver.map((x) => x.lost_packets)).toEqual(ends.map((e) => e.sum.lost_packets));
    expect(g.receivers_with_loss).toBe(ends.filter((e) => e.sum.lost_packets > 0).length);
    expect(g.worst_loss!.lost_percent).toBe(Math.max(...ends.map((e) => e.sum.lost_percent)));
    expect(g.slowest!.packets_per_second).toBe(Math.min(...ends.map((e) => e.sum.packets_per_second)));
    const lost = ends.reduce((n, e) => n + e.sum.lost_packets, 0);
    const expected = ends.reduce((n, e) => n + e.sum.expected_packets, 0);
    expect(g.group_loss_percent).toBeCloseTo((100 * lost) / expected, 12);
    // Delays: every receiver's recorded packets, in one histogram built here from their own.
    const kernel = ends.map((e) => e.latency.one_way_kernel!);
    const h = emptyHistogram();
    for (const k of kernel) h.add(decodeHistogram(k.hdr_base64));
    expect(g.one_way_kernel!.count).toBe(kernel.reduce((n, k) => n + k.count, 0));
    expect(g.one_way_kernel!.count).toBe(h.totalCount);
    expect(g.one_way_kernel!.p99_ms).toBe(h.getValueAtPercentile(99) / 1e6);
    expect(g.one_way_kernel!.p50_ms).toBe(h.getValueAtPercentile(50) / 1e6);
    expect(g.one_way_kernel!.min_ms).toBe(Math.min(...kernel.map((k) => k.min_ms)));
    expect(g.one_way_kernel!.max_ms).toBe(Math.max(...kernel.map((k) => k.max_ms)));
    // The table's group row: total received and lost, the group loss ratio.
    const received = ends.reduce((n, e) => n + e.sum.packets, 0);
    expect(r.stdout).toMatch(new RegExp(`^custom\\s+group\\s+${received.toLocaleString('en-US')}\\s+${lost.toLocaleString('en-US')}\\s+${((100 * lost) / expected).toFixed(2)}%`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`${g.receivers_with_loss}/3 lost packets`));
  }, 60000);
});
