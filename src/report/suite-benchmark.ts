// github-action-benchmark's custom formats: `--benchmark-json FILE` is "customSmallerIsBetter"
// (loss % and p99 delay ms), `--benchmark-bigger-json FILE` is "customBiggerIsBetter" (receive
// rate and the lossless rate, pps): the action takes one direction per file, so the two directions are two files.
import { metricLabel, type SuiteReport } from '../core/suite.js';
import { emitJson } from './json.js';

export interface BenchmarkEntry {
  name: string;
  unit: string;
  value: number;
  extra?: string;
}

const extra = (r: SuiteReport, s: SuiteReport['scenarios'][number]) => `suite ${r.suite}${s.scenario !== 'custom' ? `, scenario ${s.scenario}` : ''}${s.passed ? '' : ', FAILED'}`;

/** Smaller is better: worst receiver's loss (%) and worst p99 delay (ms), per scenario variant. */
export function benchmarkSmaller(r: SuiteReport): BenchmarkEntry[] {
  return r.scenarios.flatMap((s) =>
    s.metrics.flatMap((m) => {
      const name = metricLabel(s.name, m.variant);
      const out: BenchmarkEntry[] = [];
      if (m.lost_percent !== null) out.push({ name: `${name} lost`, unit: '%', value: m.lost_percent, extra: extra(r, s) });
      if (m.p99_delay_ms !== null) out.push({ name: `${name} p99 delay`, unit: 'ms', value: m.p99_delay_ms, extra: extra(r, s) });
      return out;
    }),
  );
}

/** Bigger is better: the slowest receiver's packets per second, and the lossless rate where searched, per scenario variant. */
export function benchmarkBigger(r: SuiteReport): BenchmarkEntry[] {
  return r.scenarios.flatMap((s) =>
    s.metrics.flatMap((m) => [
      ...(m.recv_pps === null ? [] : [{ name: `${metricLabel(s.name, m.variant)} recv rate`, unit: 'pps', value: m.recv_pps, extra: extra(r, s) }]),
      ...(m.ndr_pps === undefined || m.ndr_pps === null ? [] : [{ name: `${metricLabel(s.name, m.variant)} lossless rate`, unit: 'pps', value: m.ndr_pps, extra: `${extra(r, s)}${m.ndr_limited_by === 'sender' ? ', sender-limited (a lower bound)' : ''}` }]),
    ]),
  );
}

export function writeBenchmarkJson(target: string, r: SuiteReport, direction: 'smaller' | 'bigger'): void {
  emitJson(target, direction === 'smaller' ? benchmarkSmaller(r) : benchmarkBigger(r));
}
