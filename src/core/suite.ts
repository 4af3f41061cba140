// Suite verdicts (DESIGN section 8): per-variant metrics, thresholds, a comparison with a
// previous suite report, and the mcbench/suite@1 document. Pure: reading the suite file and
// running it is run/suite.ts's and the command's.
import { UsageError } from './errors.js';
import { runMetrics } from './ab.js';
import type { RunReport } from './run-report.js';
import type { NdrSize } from './ndr.js';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export const SUITE_SCHEMA = 'mcbench/suite@1' as const;

export interface Thresholds {
  /** the worst receiver's loss may not exceed this, percent */
  max_lost_percent?: number;
  /** the slowest receiver must receive at least this many packets per second */
  min_recv_pps?: number;
  /** the worst receiver's one-way p99 delay (kernel stamp) may not exceed this, ms */
  max_p99_delay_ms?: number;
  /** the lossless rate (mcbench ndr's search, run after the case's run) must be at least this, pps */
  min_ndr_pps?: number;
}

export interface VariantMetrics {
  variant: string;
  /** null when a receiver or the sender produced no result (or the variant was skipped) */
  lost_percent: number | null;
  recv_pps: number | null;
  p99_delay_ms: number | null;
  /** the lossless rate, pps, when the case searched it (min_ndr_pps or `ndr:`); null when the search found no figure (skipped, interrupted); absent without a search */
  ndr_pps?: number | null;
  /** who limited that search (NdrSize.limited_by's kind): 'sender' when no receiver lost at the highest rate offered (the sender's most or --max-pps), so ndr_pps is only a lower bound; absent without a search or in reports of older versions */
  ndr_limited_by?: 'receiver' | 'sender' | null;
}

export type MetricName = 'lost_percent' | 'recv_pps' | 'p99_delay_ms' | 'ndr_pps';

/** One variant's lossless-rate search; size null when it was interrupted. */
export interface SuiteNdr {
  variant: string;
  size: NdrSize | null;
}

export interface Failure {
  kind: 'threshold' | 'regression' | 'incomplete';
  variant: string;
  metric: MetricName | null;
  message: string;
}

/**
 * A threshold the run could neither meet nor fail: min_ndr_pps above a sender-limited search's
 * lossless rate (only a lower bound: the receivers may well carry more). It does not fail the
 * scenario; every output reports it (JUnit: a skipped testcase with this message).
 */
export interface Inconclusive {
  variant: string;
  metric: MetricName;
  message: string;
}

export interface Comparison {
  variant: string;
  metric: MetricName;
  baseline: number;
  current: number;
  /** relative change, percent of the baseline (null when the baseline is 0) */
  change_percent: number | null;
  /** how far the metric may move the wrong way before it is a regression */
  allowed: number;
  regression: boolean;
  /** ndr_pps fell beyond the allowed, but the current search was sender-limited (only a lower
   * bound): no regression is proven (absent when not so, and in reports of older versions) */
  inconclusive?: boolean;
}

export interface SuiteScenarioOutcome {
  name: string;
  /** the named scenario it ran, or 'custom' */
  scenario: string;
  thresholds: Thresholds;
  metrics: VariantMetrics[];
  /** null without --baseline; [] when the baseline had no figures for this scenario */
  baseline: Comparison[] | null;
  failures: Failure[];
  /** thresholds that could not be decided (absent in reports of older versions); they do not fail the scenario */
  inconclusive?: Inconclusive[];
  passed: boolean;
  report: RunReport;
  /** the lossless-rate search of each variant, when the case asked for it (absent otherwise) */
  ndr?: SuiteNdr[];
  /** wall-clock seconds the scenario took, measured: labs made and removed, every variant run (absent in reports of older versions) */
  seconds?: number;
}

export interface SuiteReport {
  schema: typeof SUITE_SCHEMA;
  suite: string;
  file: string;
  started: string;
  finished: string;
  local: boolean;
  tolerance_percent: number;
  baseline_file: string | null;
  scenarios: SuiteScenarioOutcome[];
  passed: boolean;
  partial: boolean;
}

/** Worst loss, slowest receiver, worst p99, per variant of a run; the lossless rate where it was searched. */
export function suiteMetrics(report: RunReport, ndr?: SuiteNdr[]): VariantMetrics[] {
  return report.variants.map((v) => {
    const m = v.skipped ? null : runMetrics(v);
    const out: VariantMetrics = { variant: v.name, lost_percent: m?.lost_percent ?? null, recv_pps: m?.recv_pps ?? null, p99_delay_ms: m?.p99_delay_ms ?? null };
    if (ndr) {
      const size = ndr.find((x) => x.variant === v.name)?.size ?? null;
      out.ndr_pps = ndrPps(size);
      out.ndr_limited_by = out.ndr_pps === null ? null : (size?.limited_by?.kind ?? null);
    }
    return out;
  });
}

/** A search's figure: its lossless rate (0 when no rate was lossless), null when it was skipped or never ran. */
export function ndrPps(size: NdrSize | null): number | null {
  return size === null || size.skipped !== null ? null : size.lossless_pps;
}

/** messages name the variant, except the only variant of a scenario from flags */
const pre = (variant: string) => (variant === 'custom' ? '' : `${variant}: `);
const fmt = (m: MetricName, x: number) => (m === 'lost_percent' ? `${x.toFixed(2)}%` : m === 'recv_pps' || m === 'ndr_pps' ? `${Math.round(x)} pps` : `${x.toFixed(2)} ms`);
export const METRIC_LABEL: Record<MetricName, string> = { lost_percent: 'lost', recv_pps: 'recv pps', p99_delay_ms: 'p99 delay', ndr_pps: 'lossless pps' };

/** Threshold failures (and variants that produced no figures) of one scenario. */
export function checkThresholds(metrics: VariantMetrics[], t: Thresholds, report?: Pick<RunReport, 'variants' | 'partial'>): Failure[] {
  const out: Failure[] = [];
  for (const m of metrics) {
    const v = report?.variants.find((x) => x.name === m.variant);
    if (v?.skipped) {
      out.push({ kind: 'incomplete', variant: m.variant, metric: null, message: `${pre(m.variant)}skipped: ${v.skipped}` });
      continue;
    }
    if (m.lost_percent === null || m.recv_pps === null) {
      out.push({ kind: 'incomplete', variant: m.variant, metric: null, message: `${pre(m.variant)}a receiver or the sender produced no result` });
      continue;
    }
    if (t.max_lost_percent !== undefined && m.lost_percent > t.max_lost_percent) {
      out.push({ kind: 'threshold', variant: m.variant, metric: 'lost_percent', message: `${pre(m.variant)}lost ${fmt('lost_percent', m.lost_percent)} > max_lost_percent ${t.max_lost_percent}` });
    }
    if (t.min_recv_pps !== undefined && m.recv_pps < t.min_recv_pps) {
      out.push({ kind: 'threshold', variant: m.variant, metric: 'recv_pps', message: `${pre(m.variant)}recv ${fmt('recv_pps', m.recv_pps)} < min_recv_pps ${t.min_recv_pps}` });
    }
    if (t.max_p99_delay_ms !== undefined) {
      if (m.p99_delay_ms === null) {
        out.push({ kind: 'threshold', variant: m.variant, metric: 'p99_delay_ms', message: `${pre(m.variant)}no p99 delay measured (max_p99_delay_ms ${t.max_p99_delay_ms})` });
      } else if (m.p99_delay_ms > t.max_p99_delay_ms) {
        out.push({ kind: 'threshold', variant: m.variant, metric: 'p99_delay_ms', message: `${pre(m.variant)}p99 delay ${fmt('p99_delay_ms', m.p99_delay_ms)} > max_p99_delay_ms ${t.max_p99_delay_ms}` });
      }
    }
    if (t.min_ndr_pps !== undefined) {
      const pps = m.ndr_pps ?? null;
      if (pps === null) {
        out.push({ kind: 'threshold', variant: m.variant, metric: 'ndr_pps', message: `${pre(m.variant)}no lossless rate measured (the search was skipped or interrupted; min_ndr_pps ${t.min_ndr_pps})` });
      } else if (pps < t.min_ndr_pps && m.ndr_limited_by !== 'sender') {
        // a sender-limited rate below the threshold fails nothing: thresholdInconclusive reports it
        out.push({ kind: 'threshold', variant: m.variant, metric: 'ndr_pps', message: `${pre(m.variant)}lossless rate ${fmt('ndr_pps', pps)} < min_ndr_pps ${t.min_ndr_pps}` });
      }
    }
  }
  if (report?.partial && !out.some((f) => f.kind === 'incomplete')) {
    out.push({ kind: 'incomplete', variant: '-', metric: null, message: 'the run was interrupted or incomplete (partial)' });
  }
  return out;
}

/**
 * Thresholds neither met nor failed: min_ndr_pps above the lossless rate of a sender-limited search
 * (no receiver lost at the highest rate offered, the sender's most or --max-pps: the receivers' rate is at least that, maybe more). One
 * met by a sender-limited search passes: its lower bound is already above the threshold.
 */
export function thresholdInconclusive(metrics: VariantMetrics[], t: Thresholds): Inconclusive[] {
  if (t.min_ndr_pps === undefined) return [];
  const min = t.min_ndr_pps;
  return metrics.flatMap((m) => (m.ndr_limited_by === 'sender' && typeof m.ndr_pps === 'number' && m.ndr_pps < min
    ? [{ variant: m.variant, metric: 'ndr_pps' as const, message: `${pre(m.variant)}lossless rate at least ${fmt('ndr_pps', m.ndr_pps)} (sender-limited: no receiver lost at the highest rate offered) < min_ndr_pps ${min}: inconclusive, the receivers were not reached` }]
    : []));
}

/** Absolute floors below which a change is noise, not a regression. */
export const LOSS_FLOOR_POINTS = 0.1;
export const P99_FLOOR_MS = 0.5;

/**
 * One metric against its baseline, with tolerance T percent:
 *  - lost_percent: a regression when it rises by more than max(0.1 points, T% of the baseline);
 *  - recv_pps: when it falls by more than T% of the baseline;
 *  - p99_delay_ms: when it rises by more than max(0.5 ms, T% of the baseline);
 *  - ndr_pps: when it falls by more than T% of the baseline.
 */
export function compareMetric(variant: string, metric: MetricName, baseline: number, current: number, tolerancePercent: number): Comparison {
  const rel = (tolerancePercent / 100) * Math.abs(baseline);
  const allowed = metric === 'lost_percent' ? Math.max(LOSS_FLOOR_POINTS, rel) : metric === 'p99_delay_ms' ? Math.max(P99_FLOOR_MS, rel) : rel;
  const worse = metric === 'recv_pps' || metric === 'ndr_pps' ? baseline - current : current - baseline;
  return {
    variant,
    metric,
    baseline,
    current,
    change_percent: baseline === 0 ? null : ((current - baseline) / Math.abs(baseline)) * 100,
    allowed,
    regression: worse > allowed + 1e-9,
  };
}

/** Every metric present in both, per variant of the same name. */
export function compareWithBaseline(current: VariantMetrics[], baseline: VariantMetrics[], tolerancePercent: number): Comparison[] {
  const out: Comparison[] = [];
  for (const c of current) {
    const b = baseline.find((x) => x.variant === c.variant);
    if (!b) continue;
    for (const metric of ['lost_percent', 'recv_pps', 'p99_delay_ms', 'ndr_pps'] as const) {
      const bv = b[metric];
      const cv = c[metric];
      if (typeof bv !== 'number' || typeof cv !== 'number') continue;
      const cmp = compareMetric(c.variant, metric, bv, cv, tolerancePercent);
      // a sender-limited lossless rate is a lower bound: a fall of it proves nothing (a baseline's own bound does not matter: a lower figure now is lower still)
      if (metric === 'ndr_pps' && cmp.regression && c.ndr_limited_by === 'sender') out.push({ ...cmp, regression: false, inconclusive: true });
      else out.push(cmp);
    }
  }
  return out;
}

const change = (c: Comparison) => `${fmt(c.metric, c.baseline)} → ${fmt(c.metric, c.current)}` +
  (c.change_percent === null ? '' : ` (${c.change_percent >= 0 ? '+' : ''}${c.change_percent.toFixed(1)}%)`) +
  `, beyond the allowed ${fmt(c.metric, c.allowed)}`;

export function regressionFailures(cmp: Comparison[]): Failure[] {
  return cmp.filter((c) => c.regression).map((c) => ({
    kind: 'regression' as const,
    variant: c.variant,
    metric: c.metric,
    message: `${pre(c.variant)}${METRIC_LABEL[c.metric]} regressed: ${change(c)}`,
  }));
}

/** Falls of a sender-limited lossless rate against the baseline: not proven regressions. */
export function regressionInconclusive(cmp: Comparison[]): Inconclusive[] {
  return cmp.filter((c) => c.inconclusive === true).map((c) => ({
    variant: c.variant,
    metric: c.metric,
    message: `${pre(c.variant)}${METRIC_LABEL[c.metric]} fell: ${change(c)}; but the search is sender-limited (a lower bound): inconclusive, not a regression`,
  }));
}

/** A previous suite report (--baseline): scenario name → its metrics. */
export function parseBaseline(doc: unknown, file: string): Map<string, VariantMetrics[]> {
  if (!isObject(doc) || doc.schema !== SUITE_SCHEMA || !Array.isArray(doc.scenarios)) {
    throw new UsageError(`--baseline: ${file} is not a ${SUITE_SCHEMA} report (write one with mcbench suite --json)`);
  }
  const out = new Map<string, VariantMetrics[]>();
  for (const s of doc.scenarios as unknown[]) {
    if (!isObject(s) || typeof s.name !== 'string' || !Array.isArray(s.metrics)) throw new UsageError(`--baseline: ${file}: a scenario without name and metrics`);
    const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
    out.set(s.name, (s.metrics as unknown[]).filter(isObject).map((m) => ({
      variant: String(m.variant), lost_percent: num(m.lost_percent), recv_pps: num(m.recv_pps), p99_delay_ms: num(m.p99_delay_ms), ndr_pps: num(m.ndr_pps),
    })));
  }
  return out;
}

/** A scenario's verdict from its run, thresholds and (optional) baseline. */
export function judgeScenario(
  entry: { name: string; scenario_name: string | null; thresholds: Thresholds },
  report: RunReport,
  baseline: Map<string, VariantMetrics[]> | null,
  tolerancePercent: number,
  ndr?: SuiteNdr[],
): SuiteScenarioOutcome {
  const metrics = suiteMetrics(report, ndr);
  const failures = checkThresholds(metrics, entry.thresholds, report);
  // a variant that produced no figures is incomplete, not inconclusive
  const incomplete = new Set(failures.filter((f) => f.kind === 'incomplete').map((f) => f.variant));
  const inconclusive = thresholdInconclusive(metrics, entry.thresholds).filter((x) => !incomplete.has(x.variant));
  let cmp: Comparison[] | null = null;
  if (baseline) {
    cmp = compareWithBaseline(metrics, baseline.get(entry.name) ?? [], tolerancePercent);
    failures.push(...regressionFailures(cmp));
    inconclusive.push(...regressionInconclusive(cmp).filter((x) => !incomplete.has(x.variant)));
  }
  return { name: entry.name, scenario: entry.scenario_name ?? 'custom', thresholds: entry.thresholds, metrics, baseline: cmp, failures, inconclusive, passed: failures.length === 0, report, ...(ndr ? { ndr } : {}) };
}

/** `name` for a one-variant scenario from flags, `name/variant` otherwise. */
export function metricLabel(scenario: string, variant: string): string {
  return variant === 'custom' ? scenario : `${scenario}/${variant}`;
}

/** The one-line result. */
export function suiteSummary(r: SuiteReport): string {
  const failed = r.scenarios.filter((s) => !s.passed);
  const count = (k: Failure['kind']) => r.scenarios.reduce((n, s) => n + s.failures.filter((f) => f.kind === k).length, 0);
  const parts = [`${count('threshold')} threshold failure(s)`, `${count('regression')} regression(s)`];
  if (count('incomplete')) parts.push(`${count('incomplete')} incomplete`);
  const head = `suite ${r.suite}: ${r.passed ? 'PASS' : 'FAIL'}: ${r.scenarios.length - failed.length}/${r.scenarios.length} scenario(s) passed`;
  const undecided = r.scenarios.filter((s) => (s.inconclusive ?? []).length > 0);
  return `${head}${r.passed ? '' : ` (${parts.join(', ')}: ${failed.map((s) => s.name).join(', ')})`}` +
    (undecided.length ? `; ${undecided.reduce((n, s) => n + s.inconclusive!.length, 0)} threshold(s) inconclusive: ${undecided.map((s) => s.name).join(', ')}` : '') +
    (r.baseline_file ? `; baseline ${r.baseline_file}, tolerance ${r.tolerance_percent}%` : '') + (r.partial ? ' (PARTIAL)' : '');
}
