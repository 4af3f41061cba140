// A/B comparison of kernel settings (DESIGN section 7): the same scenario under two sets of
// settings, runs interleaved A B A B ... so drift hits both, warm-up runs discarded, repeated;
// medians and mean ± σ per side, and a verdict only where the difference beats the noise.
import { AB_SCHEMA, abVerdict, ndrSummary, runMetrics, sideSummary, type AbReport, type AbRun, type AbSide } from '../core/ab.js';
import { difference, ratio } from '../core/stats.js';
import type { Hosts, Place } from '../where/hosts.js';
import { runVariant, type StepWatch } from './orchestrate.js';
import type { Scenario } from './scenarios.js';
import { scenarioLength, searchSize, type NdrSearchPlan } from './ndr.js';

/**
 * Runs warm-up then measured repetitions, each repetition A then B, on one lab (or one private
 * namespace with --local) made for the whole comparison. Settings are applied before and
 * restored after every run (runVariant), also on Ctrl-C. With `ndr` each repetition is the
 * lossless-rate search (mcbench ndr) of the scenario under the side's settings instead of one run:
 * A's search, then B's, repeated, so the verdict weighs the searches' own spread.
 */
export async function runAb(
  base: Scenario,
  opts: { a: AbSide; b: AbSide; reps: number; warmup: number; place: Place; log: (l: string) => void; signal: AbortSignal; steps?: StepWatch<AbRun>; ndr?: NdrSearchPlan | null },
): Promise<AbReport> {
  const runs: AbRun[] = [];
  const variant = (s: AbSide) => ({ name: s.name, describe: Object.entries(s.sysctls).map(([k, v]) => `${k}=${v}`).join(', ') || 'as the host is', sysctls: s.sysctls as Record<string, number>, lab: {}, recvArgs: [] });
  const all = async (hosts: Hosts, signal: AbortSignal) => {
    const total = opts.warmup + opts.reps;
    for (let rep = 1; rep <= total && !signal.aborted; rep++) {
      for (const side of ['a', 'b'] as const) {
        // the previous side's run awaited: a signal may have come meanwhile (the rule cannot see that)
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
        if (signal.aborted) break;
        const s = opts[side];
        const warmup = rep <= opts.warmup;
        const label = `${warmup ? 'warm-up' : `rep ${rep - opts.warmup}/${opts.reps}`}: ${s.name}`;
        opts.steps?.begin(runs.length + 1, 2 * total, label);
        opts.log(`  ${label}`);
        const at = warmup ? 0 : rep - opts.warmup;
        if (opts.ndr) {
          const size = await searchSize(base, variant(s), opts.ndr, hosts, signal, opts.log);
          // a search cut short by Ctrl-C found nothing it could stand by
          runs.push({ side, rep: at, warmup, metrics: null, outcome: null, ndr: aborted(signal) ? null : size });
        } else {
          const outcome = await runVariant(base, variant(s), hosts, signal, () => {});
          runs.push({ side, rep: at, warmup, metrics: runMetrics(outcome), outcome });
        }
        opts.steps?.end(runs.length, 2 * total, runs.at(-1)!);
      }
    }
  };
  const sysctls = { ...opts.a.sysctls, ...opts.b.sysctls };
  await opts.place.withHosts({ guests: base.guests, lab: base.variants[0]!.lab, sysctls }, opts.signal, all);
  const sa = sideSummary(runs, 'a');
  const sb = sideSummary(runs, 'b');
  const summary = {
    a: sa,
    b: sb,
    loss_difference: difference(sa.lost_percent, sb.lost_percent),
    recv_pps_difference: difference(sa.recv_pps, sb.recv_pps),
    recv_pps_ratio: ratio(sa.recv_pps, sb.recv_pps),
    p99_delay_ratio: sa.p99_delay_ms.n && sb.p99_delay_ms.n ? ratio(sa.p99_delay_ms, sb.p99_delay_ms) : null,
    ndr_pps: opts.ndr ? ndrSummary(runs) : null,
  };
  const n = opts.ndr;
  const expected = 2 * (opts.warmup + opts.reps);
  return {
    schema: AB_SCHEMA,
    metric: n ? 'ndr' : 'run',
    ndr_settings: n
      ? { length: scenarioLength(base), trial_seconds: n.trialSeconds, loss_tolerance_percent: n.search.lossTolerancePercent, resolution: n.search.resolution, max_trials: n.search.maxTrials, gso: n.gso }
      : null,
    scenario: { send: base.sendArgs, recv: base.recvArgs, receivers: base.guests - 1, local: opts.place.kind === 'local' },
    a: opts.a,
    b: opts.b,
    reps: opts.reps,
    warmup: opts.warmup,
    runs,
    summary,
    verdict: abVerdict({ a: opts.a, b: opts.b, summary }),
    partial: opts.signal.aborted || runs.length < expected || runs.some((r) => (n ? !r.ndr || r.ndr.skipped !== null : !r.metrics || (r.outcome?.partial ?? true))),
  };
}

/** read at call time: a search takes many trials, and the signal may fire during any of them */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
