// A/B comparison of kernel settings (DESIGN section 7): the same scenario under two sets of
// settings, runs interleaved A B A B ... so drift hits both, warm-up runs discarded, repeated;
// medians and mean ± σ per side, and a verdict only where the difference beats the noise.
import { difference, ratio, summarize, type Difference, type Ratio, type Summary } from '../core/stats.js';
import { withLab } from '../lab/index.js';
import { labGuests, localGuests, runVariant, type Guests, type VariantOutcome } from './orchestrate.js';
import { PrivateNetns } from './private-netns.js';
import type { Scenario } from './scenarios.js';

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

export interface AbRun {
  side: 'a' | 'b';
  rep: number;
  warmup: boolean;
  /** null when a receiver or the sender produced no result */
  metrics: AbRunMetrics | null;
  outcome: VariantOutcome;
}

export interface AbSideSummary {
  lost_percent: Summary;
  recv_pps: Summary;
  p99_delay_ms: Summary;
}

export interface AbReport {
  schema: typeof AB_SCHEMA;
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

function sideSummary(runs: AbRun[], side: 'a' | 'b'): AbSideSummary {
  const m = runs.filter((r) => r.side === side && !r.warmup && r.metrics).map((r) => r.metrics!);
  return {
    lost_percent: summarize(m.map((x) => x.lost_percent)),
    recv_pps: summarize(m.map((x) => x.recv_pps)),
    p99_delay_ms: summarize(m.flatMap((x) => (x.p99_delay_ms === null ? [] : [x.p99_delay_ms]))),
  };
}

const pm = (s: Summary, digits: number) => `${s.mean.toFixed(digits)} ± ${s.stddev.toFixed(digits)}`;

/** The verdict lines: a claim only where the 95% interval of the difference excludes zero. */
export function abVerdict(r: Pick<AbReport, 'a' | 'b' | 'summary'>): string[] {
  const { a, b, summary: s } = r;
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

/**
 * Runs warm-up then measured repetitions, each repetition A then B, on one lab (or one private
 * namespace with --local) made for the whole comparison. Settings are applied before and
 * restored after every run (runVariant), also on Ctrl-C.
 */
export async function runAb(
  base: Scenario,
  opts: { a: AbSide; b: AbSide; reps: number; warmup: number; local: boolean; labName: string; log: (l: string) => void; signal: AbortSignal },
): Promise<AbReport> {
  const runs: AbRun[] = [];
  const variant = (s: AbSide) => ({ name: s.name, describe: Object.entries(s.sysctls).map(([k, v]) => `${k}=${v}`).join(', ') || 'as the host is', sysctls: s.sysctls as Record<string, number>, lab: {}, recvArgs: [] });
  const all = async (guests: Guests, signal: AbortSignal) => {
    const total = opts.warmup + opts.reps;
    for (let rep = 1; rep <= total && !signal.aborted; rep++) {
      for (const side of ['a', 'b'] as const) {
        if (signal.aborted) break;
        const s = opts[side];
        const warmup = rep <= opts.warmup;
        opts.log(`  ${warmup ? 'warm-up' : `rep ${rep - opts.warmup}/${opts.reps}`}: ${s.name}`);
        const outcome = await runVariant(base, variant(s), guests, signal, () => {});
        runs.push({ side, rep: warmup ? 0 : rep - opts.warmup, warmup, metrics: runMetrics(outcome), outcome });
      }
    }
  };
  if (opts.local) {
    const ns = await PrivateNetns.create();
    try {
      await all(localGuests(ns), opts.signal);
    } finally {
      await ns.close();
    }
  } else {
    await withLab({ name: opts.labName, guests: base.guests, ...base.variants[0]!.lab }, (lab, labSignal) => all(labGuests(lab), AbortSignal.any([opts.signal, labSignal])), {
      log: opts.log,
      graceMs: 4000,
      callerHandlesSignals: true,
    });
  }
  const sa = sideSummary(runs, 'a');
  const sb = sideSummary(runs, 'b');
  const summary = {
    a: sa,
    b: sb,
    loss_difference: difference(sa.lost_percent, sb.lost_percent),
    recv_pps_difference: difference(sa.recv_pps, sb.recv_pps),
    recv_pps_ratio: ratio(sa.recv_pps, sb.recv_pps),
    p99_delay_ratio: sa.p99_delay_ms.n && sb.p99_delay_ms.n ? ratio(sa.p99_delay_ms, sb.p99_delay_ms) : null,
  };
  const expected = 2 * (opts.warmup + opts.reps);
  return {
    schema: AB_SCHEMA,
    scenario: { send: base.sendArgs, recv: base.recvArgs, receivers: base.guests - 1, local: opts.local },
    a: opts.a,
    b: opts.b,
    reps: opts.reps,
    warmup: opts.warmup,
    runs,
    summary,
    verdict: abVerdict({ a: opts.a, b: opts.b, summary }),
    partial: opts.signal.aborted || runs.length < expected || runs.some((r) => !r.metrics || r.outcome.partial),
  };
}
