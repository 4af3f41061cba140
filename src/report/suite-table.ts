// The suite on screen: one row per scenario variant, the failures under it.
import { METRIC_LABEL, metricLabel, type Comparison, type MetricName, type SuiteReport, type SuiteScenarioOutcome } from '../core/suite.js';
import { formatTable } from './run-table.js';

export const fmtMetric = (m: MetricName, x: number | null) =>
  x === null ? 'n/a' : m === 'lost_percent' ? `${x.toFixed(2)}%` : m === 'recv_pps' || m === 'ndr_pps' ? String(Math.round(x)) : `${x.toFixed(2)} ms`;

/** Some case searched the lossless rate (min_ndr_pps, `ndr:`): the tables get its column. */
export const hasNdr = (r: SuiteReport) => r.scenarios.some((s) => s.metrics.some((m) => m.ndr_pps !== undefined));

/** A variant's lossless rate: '-' where its case did not search it. */
export const ndrCell = (m: SuiteScenarioOutcome['metrics'][number]) => (m.ndr_pps === undefined ? '-' : fmtMetric('ndr_pps', m.ndr_pps));

/** "lost +1.2 pts, recv pps -3.0%": the changes against the baseline, regressions marked with `!`, inconclusive falls (a sender-limited lossless rate) with `?`. */
export function baselineCell(s: SuiteScenarioOutcome, variant: string): string {
  if (s.baseline === null) return '';
  const cmp = s.baseline.filter((c) => c.variant === variant);
  if (cmp.length === 0) return 'no baseline';
  const one = (c: Comparison) => {
    const d = c.current - c.baseline;
    const change = c.metric === 'lost_percent' ? `${d >= 0 ? '+' : ''}${d.toFixed(2)} pts` : c.change_percent === null ? `${d >= 0 ? '+' : ''}${d.toFixed(2)}` : `${c.change_percent >= 0 ? '+' : ''}${c.change_percent.toFixed(1)}%`;
    return `${c.regression ? '!' : c.inconclusive === true ? '?' : ''}${METRIC_LABEL[c.metric]} ${change}`;
  };
  return cmp.map(one).join(', ');
}

/** pass, FAIL (kinds), or inconclusive: a threshold neither met nor failed (a sender-limited lossless rate below min_ndr_pps) and no failure. */
export function variantVerdict(s: SuiteScenarioOutcome, variant: string): string {
  const f = s.failures.filter((x) => x.variant === variant || x.variant === '-');
  if (f.length === 0) return (s.inconclusive ?? []).some((x) => x.variant === variant) ? 'inconclusive' : 'pass';
  const kinds = [...new Set(f.map((x) => x.kind))];
  return `FAIL (${kinds.join(', ')})`;
}

export function suiteRows(r: SuiteReport): string[][] {
  const ndr = hasNdr(r);
  return r.scenarios.flatMap((s) =>
    s.metrics.map((m) => [
      metricLabel(s.name, m.variant),
      fmtMetric('lost_percent', m.lost_percent),
      fmtMetric('recv_pps', m.recv_pps),
      fmtMetric('p99_delay_ms', m.p99_delay_ms),
      ...(ndr ? [ndrCell(m)] : []),
      variantVerdict(s, m.variant),
      baselineCell(s, m.variant),
    ]),
  );
}

export const SUITE_HEADER = ['scenario', 'lost%', 'recv pps', 'p99 delay', 'result', 'vs baseline'];

/** The header of a suite's table: a 'lossless pps' column after the delay when a case searched it. */
export function suiteHeader(r: SuiteReport): string[] {
  const head = hasNdr(r) ? [...SUITE_HEADER.slice(0, 4), 'lossless pps', ...SUITE_HEADER.slice(4)] : SUITE_HEADER;
  return r.baseline_file !== null ? head : head.slice(0, -1);
}

export function suiteTable(r: SuiteReport): string[] {
  const rows = suiteRows(r);
  const hasBaseline = r.baseline_file !== null;
  const header = suiteHeader(r);
  return formatTable(header, hasBaseline ? rows : rows.map((x) => x.slice(0, -1))).map((l) => l.trimEnd());
}

/** The failure lines, one per failure, named by scenario; then the thresholds that were inconclusive. */
export function suiteFailureLines(r: SuiteReport): string[] {
  return [
    ...r.scenarios.flatMap((s) => s.failures.map((f) => `${s.name}: ${f.kind}: ${f.message}`)),
    ...r.scenarios.flatMap((s) => (s.inconclusive ?? []).map((x) => `${s.name}: inconclusive: ${x.message}`)),
  ];
}
