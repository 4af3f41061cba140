// The mcbench/ab@1 document and its verdict (DESIGN section 7). Pure: the runs are made by
// run/ab.ts.
import { difference, ratio, summarize, type Difference, type Ratio, type Summary } from './stats.js';
import type { VariantOutcome } from './run-report.js';
import type { NdrSize } from './ndr.js';

export const AB_SCHEMA = 'mcbench/ab@1' as const;

export interface AbSide {
  name: string;
  sysctls: Record<string, number | string>;
}

export interface AbRunMetrics {
  /** the worst receiver's loss, percent */
  lost_percent: number;
  /** the slowest receiver's unique packets per second */
  recv_pps: number;
  /** the worst receiver's one-way delay p99 (kernel stamp), ms; null without latency */
  p99_delay_ms: number | null;
}

/** What ab compares: one run per repetition, or the lossless-rate search (mcbench ndr) per repetition. */
export type AbMetric = 'run' | 'ndr';

export interface AbRun {
  side: 'a' | 'b';
  rep: number;
  warmup: boolean;
  /** null when a receiver or the sender produced no result (and always with --metric ndr) */
  metrics: AbRunMetrics | null;
  /** the run; null with --metric ndr (the search's trials are in `ndr`) */
  outcome: VariantOutcome | null;
  /** --metric ndr: this repetition's search (RFC 2544 26.1); null for a run, or a search interrupted before it ended */
  ndr?: NdrSize | null;
}

/** --metric ndr: the lossless rates of the repetitions, per side, and B against A. */
export interface AbNdrSummary {
  /** the lossless rate, pps, of each side's measured searches */
  a: Summary;
  b: Summary;
  /** b - a, pps, with its 95% interval */
  difference: Difference;
  /** b / a */
  ratio: Ratio;
  /** how many of each side's measured searches were sender-limited (limited_by sender: no receiver
   * lost at the highest rate offered (the sender's most or --max-pps), so that rate is only a lower bound); absent in reports of older versions */
  sender_limited?: { a: number; b: number };
}

/** --metric ndr: how each repetition's search was run (mcbench ndr's flags). */
export interface AbNdrSettings {
  length: number;
  trial_seconds: number;
  loss_tolerance_percent: number;
  resolution: number;
  max_trials: number;
  gso: 'auto' | 'on' | 'off';
}

export interface AbSideSummary {
  lost_percent: Summary;
  recv_pps: Summary;
  p99_delay_ms: Summary;
}

export interface AbReport {
  schema: typeof AB_SCHEMA;
  /** what was compared (absent in reports of older versions: 'run') */
  metric?: AbMetric;
  /** --metric ndr: the search's settings; null for runs */
  ndr_settings?: AbNdrSettings | null;
  scenario: { send: string[]; recv: string[]; receivers: number; local: boolean };
  a: AbSide;
  b: AbSide;
  reps: number;
  warmup: number;
  runs: AbRun[];
  summary: {
    a: AbSideSummary;
    b: AbSideSummary;
    /** b - a, percentage points, with its 95% interval */
    loss_difference: Difference;
    recv_pps_difference: Difference;
    /** b / a */
    recv_pps_ratio: Ratio;
    p99_delay_ratio: Ratio | null;
    /** --metric ndr: the lossless rates; null for runs */
    ndr_pps?: AbNdrSummary | null;
  };
  verdict: string[];
  partial: boolean;
}

export function runMetrics(o: VariantOutcome): AbRunMetrics | null {
  const ends = o.receivers.map((r) => r.result?.end);
  if (!o.sender || ends.length === 0 || ends.some((e) => !e)) return null;
  const p99s = ends.map((e) => e!.latency.one_way_kernel?.p99_ms ?? null);
  return {
    lost_percent: Math.max(...ends.map((e) => e!.sum.lost_percent)),
    recv_pps: Math.min(...ends.map((e) => e!.sum.packets_per_second)),
    p99_delay_ms: p99s.some((p) => p === null) ? null : Math.max(...(p99s as number[])),
  };
}

export function sideSummary(runs: AbRun[], side: 'a' | 'b'): AbSideSummary {
  const m = runs.filter((r) => r.side === side && !r.warmup && r.metrics).map((r) => r.metrics!);
  return {
    lost_percent: summarize(m.map((x) => x.lost_percent)),
    recv_pps: summarize(m.map((x) => x.recv_pps)),
    p99_delay_ms: summarize(m.flatMap((x) => (x.p99_delay_ms === null ? [] : [x.p99_delay_ms]))),
  };
}

/** The lossless rates of each side's measured searches (a search that found none counts as 0; a skipped one, whose sender sent nothing, not at all). */
export function ndrSummary(runs: AbRun[]): AbNdrSummary {
  const measured = (side: 'a' | 'b') => runs.flatMap((r) => (r.side === side && !r.warmup && r.ndr && r.ndr.skipped === null ? [r.ndr] : []));
  const a = summarize(measured('a').map((x) => x.lossless_pps));
  const b = summarize(measured('b').map((x) => x.lossless_pps));
  const senderLimited = (side: 'a' | 'b') => measured(side).filter((x) => x.limited_by?.kind === 'sender').length;
  return { a, b, difference: difference(a, b), ratio: ratio(a, b), sender_limited: { a: senderLimited('a'), b: senderLimited('b') } };
}

const pps = (x: number) => Math.round(x).toLocaleString('en-US');
const ppsPm = (s: Summary) => `${pps(s.mean)} ± ${pps(s.stddev)}`;

/**
 * The --metric ndr verdict: B raises or lowers the lossless rate only where the 95% interval of
 * the difference of the means excludes zero (the repetitions' spread, as for loss and throughput).
 *
 * A sender-limited search (no receiver lost at the highest rate offered: the sender's most or --max-pps) found only a lower bound: a side
 * with one has a mean below its true one. So with a sender-limited side the verdict is inconclusive,
 * except where the bound still proves it: B, receiver-limited throughout, significantly below A's
 * lower bound lowers the rate (A's true rate is higher still), and symmetrically B's lower bound
 * significantly above a receiver-limited A raises it.
 */
export function ndrVerdict(a: string, b: string, s: AbNdrSummary): string {
  if (s.a.n < 2 || s.b.n < 2) return `lossless rate: fewer than 2 measured searches per side: no verdict (use --reps 3 or more; ${a} ${s.a.n ? ppsPm(s.a) : 'n/a'} pps, ${b} ${s.b.n ? ppsPm(s.b) : 'n/a'} pps)`;
  const d = s.difference;
  const limA = (s.sender_limited?.a ?? 0) > 0;
  const limB = (s.sender_limited?.b ?? 0) > 0;
  // a side's figure: "≥ mean" when some search of it was sender-limited
  const side = (name: string, x: Summary, lim: boolean, count: number) => (lim ? `${name} ≥ ${pps(x.mean)} pps (${count} of ${x.n} searches sender-limited)` : `${name} ${ppsPm(x)} pps`);
  const sides = `${side(a, s.a, limA, s.sender_limited?.a ?? 0)}, ${side(b, s.b, limB, s.sender_limited?.b ?? 0)}`;
  if (limA || limB) {
    // only a receiver-limited side below the other's lower bound is proven
    const lowers = limA && !limB && d.significant && d.diff < 0;
    const raises = limB && !limA && d.significant && d.diff > 0;
    if (!lowers && !raises) return `lossless rate: inconclusive: sender-limited (${sides}; no receiver lost at the highest rate offered, so that rate is only a lower bound)`;
    const from = limA ? `at least ${pps(s.a.mean)}` : pps(s.a.mean);
    const to = limB ? `at least ${pps(s.b.mean)}` : pps(s.b.mean);
    return `lossless rate: ${b} ${raises ? 'raises' : 'lowers'} the lossless rate from ${from} to ${to} pps (${sides}; difference at least ${pps(Math.abs(d.diff))} ± ${pps(d.ci95)} pps, 95%)`;
  }
  if (!d.significant) return `lossless rate: no difference beyond the noise (${a} ${ppsPm(s.a)} pps, ${b} ${ppsPm(s.b)} pps)`;
  return `lossless rate: ${b} ${d.diff > 0 ? 'raises' : 'lowers'} the lossless rate from ${pps(s.a.mean)} to ${pps(s.b.mean)} pps ` +
    `(${a} ${ppsPm(s.a)}, ${b} ${ppsPm(s.b)}; difference ${pps(Math.abs(d.diff))} ± ${pps(d.ci95)} pps, 95%)`;
}

const pm = (s: Summary, digits: number) => `${s.mean.toFixed(digits)} ± ${s.stddev.toFixed(digits)}`;

/** The verdict lines: a claim only where the 95% interval of the difference excludes zero. */
export function abVerdict(r: Pick<AbReport, 'a' | 'b' | 'summary'>): string[] {
  const { a, b, summary: s } = r;
  if (s.ndr_pps) return [ndrVerdict(a.name, b.name, s.ndr_pps)];
  const lines: string[] = [];
  const d = s.loss_difference;
  if (s.a.lost_percent.n < 2 || s.b.lost_percent.n < 2) {
    lines.push('loss: fewer than 2 measured runs per side: no verdict (use --reps 3 or more)');
  } else if (d.significant) {
    const better = d.diff < 0 ? b.name : a.name;
    const worse = d.diff < 0 ? a.name : b.name;
    lines.push(
      `loss: ${better} lost less than ${worse}: ${a.name} ${pm(s.a.lost_percent, 2)} %, ${b.name} ${pm(s.b.lost_percent, 2)} % ` +
        `(difference ${Math.abs(d.diff).toFixed(2)} ± ${d.ci95.toFixed(2)} points, 95%)`,
    );
  } else {
    lines.push(`loss: no difference beyond the noise (${a.name} ${pm(s.a.lost_percent, 2)} %, ${b.name} ${pm(s.b.lost_percent, 2)} %)`);
  }
  const q = s.recv_pps_ratio;
  if (s.recv_pps_difference.significant) {
    const faster = q.ratio >= 1 ? b.name : a.name;
    const slower = q.ratio >= 1 ? a.name : b.name;
    const x = q.ratio >= 1 ? q : { ratio: 1 / q.ratio, stddev: q.stddev / (q.ratio * q.ratio) };
    lines.push(`throughput: ${faster} received ${x.ratio.toFixed(2)} ± ${x.stddev.toFixed(2)} times the packet rate of ${slower}`);
  } else if (s.a.recv_pps.n >= 2 && s.b.recv_pps.n >= 2) {
    lines.push(`throughput: no difference beyond the noise (${a.name} ${pm(s.a.recv_pps, 0)} pps, ${b.name} ${pm(s.b.recv_pps, 0)} pps)`);
  }
  return lines;
}
