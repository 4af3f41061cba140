// `mcbench ndr`: the RFC 2544 / RFC 3918 throughput search, run wherever `run` runs (the same
// Place: a lab, --local, --hosts). Each trial is one `run` variant on the same hosts (receivers
// join, the sender sends at the trial's rate for --trial seconds, every result is collected); the
// pure search (core/ndr.ts) picks the next rate. The hosts are made once for the whole search.
import { customScenario, type CustomRunFlags, type Scenario, type ScenarioVariant } from './scenarios.js';
import { runVariant } from './orchestrate.js';
import type { VariantOutcome } from '../core/run-report.js';
import type { LossAttribution } from '../core/counters.js';
import { DEFAULT_COALESCE_US, MAX_GSO_SEGMENTS, MAX_PAYLOAD } from '../core/spec.js';
import { parseSize } from '../core/units.js';
import {
  NDR_SCHEMA,
  NdrSearch,
  receiverTrial,
  searchStart,
  senderLimited,
  skippedSize,
  summarizeSize,
  trialPassed,
  type NdrReceiverTrial,
  type NdrReport,
  type NdrSearchOptions,
  type NdrSize,
  type NdrTrial,
} from '../core/ndr.js';
import type { Hosts, Place } from '../where/hosts.js';

export interface NdrPlan {
  group: string;
  port: number;
  lengths: number[];
  trialSeconds: number;
  receivers: number;
  rcvbuf: string | null;
  rcvbufForce: boolean;
  /** the receivers' --coalesce (null: recv's default) and --gro, as given */
  coalesce: string | null;
  gro: boolean;
  /** the receivers' --source (SSM (S,G) joins), as given: 'sender' is the sending host's address */
  sources: string[];
  /** auto: GSO when the per-datagram sender cannot make a receiver lose; on: always; off: never */
  gso: 'auto' | 'on' | 'off';
  /** the search starts at the sender's most, or at this when lower */
  maxPps: number | null;
  search: NdrSearchOptions;
}

/** Where a receiver's loss was counted: its largest part. */
function lossWhere(a: LossAttribution): string | null {
  if (a.lost === 0) return null;
  const parts: Array<[string, number | null]> = [
    ['socket buffer', a.socket_buffer.count],
    ['CPU backlog', a.backlog.count],
    [`interface${a.iface ? ` ${a.iface}` : ''}`, a.interface.count],
    ['unaccounted (network, bridge or sender)', a.unaccounted.count],
  ];
  const [name] = parts.reduce((best, p) => ((p[1] ?? 0) > (best[1] ?? 0) ? p : best));
  return name;
}

/** One trial's figures; `offered` null for the unpaced probe (it offers what it achieves). */
function trialOf(outcome: VariantOutcome, offered: number | null, gso: boolean, repeat: boolean, tolerance: number): NdrTrial {
  const sent = outcome.sender?.end.packets ?? 0;
  const achieved = outcome.sender?.end.packets_per_second ?? 0;
  // each receiver's loss against the sender's own count (RFC 2544), not only what it expected
  const receivers: NdrReceiverTrial[] = outcome.receivers.map((o) => {
    const sum = o.result?.end.sum;
    const counts = sum ? { expected_packets: sum.expected_packets, packets: sum.packets, lost_packets: sum.lost_packets } : null;
    return receiverTrial(o.guest, sent, counts, o.result ? lossWhere(o.result.end.loss_attribution) : null);
  });
  // A sender that failed or gave no result makes the trial say nothing about the receivers: failed.
  const senderOk = outcome.sender !== null && !outcome.sender.end.partial;
  const offeredPps = offered ?? Math.round(achieved);
  // a paced sender short of its rate did not offer it: the trial cannot pass at that rate
  const short = offered !== null && senderLimited(offered, achieved);
  return {
    offered_pps: offeredPps,
    achieved_pps: achieved,
    sent,
    gso,
    repeat,
    sender_limited: short,
    passed: senderOk && !short && !outcome.partial && trialPassed(receivers, tolerance),
    receivers,
  };
}

/** How one size is searched: the trials' seconds, GSO, where to start, the search's rules. */
export type NdrSearchPlan = Pick<NdrPlan, 'trialSeconds' | 'gso' | 'maxPps' | 'search'>;

/**
 * The scenario with its sender's rate, time and GSO replaced by one trial's: everything else (the
 * group, the size, the receivers' flags) is the scenario's own, so `ab` and suites search the very
 * run they describe.
 */
export function trialScenario(base: Scenario, rate: number | 'unlimited', gso: boolean, seconds: number): Scenario {
  const withValue = new Set(['-t', '--time', '-b', '--bandwidth', '--pps']);
  const args: string[] = [];
  for (let i = 0; i < base.sendArgs.length; i++) {
    const x = base.sendArgs[i]!;
    if (x === '--gso' || x.startsWith('--gso=')) continue;
    if (withValue.has(x)) {
      i++;
      continue;
    }
    args.push(x);
  }
  args.push('-t', String(seconds), ...(rate === 'unlimited' ? ['-b', '0'] : ['--pps', String(rate)]), ...(gso ? ['--gso'] : []));
  return { ...base, sendArgs: args, seconds };
}

/** The datagram size a scenario's sender sends (its -l; send's default otherwise). */
export function scenarioLength(base: Scenario): number {
  const i = base.sendArgs.findIndex((x) => x === '-l' || x === '--length');
  return i >= 0 ? Number(base.sendArgs[i + 1]) : 1400;
}

/**
 * One size's search on hosts already made: the unpaced probe (and --gso auto's GSO probe), then
 * the binary search, each trial one run of `base` under `variant`'s settings (applied and restored
 * per trial by runVariant).
 */
export async function searchSize(base: Scenario, variant: ScenarioVariant, plan: NdrSearchPlan, hosts: Hosts, signal: AbortSignal, log: (l: string) => void): Promise<NdrSize> {
  const length = scenarioLength(base);
  const quiet = () => undefined;
  const trial = async (pps: number | 'unlimited', gso: boolean, repeat: boolean): Promise<NdrTrial> => {
    const scenario = trialScenario(base, pps, gso, plan.trialSeconds);
    // each trial on its own signal, linked to the search's: its listeners go with it
    const trialAbort = new AbortController();
    const onAbort = () => trialAbort.abort();
    signal.addEventListener('abort', onAbort);
    let outcome: VariantOutcome;
    try {
      outcome = await runVariant(scenario, variant, hosts, trialAbort.signal, quiet);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    const t = trialOf(outcome, pps === 'unlimited' ? null : pps, gso, repeat, plan.search.lossTolerancePercent);
    const worst = t.receivers.reduce<NdrReceiverTrial | null>((a, b) => (a === null || (b.lost_percent ?? Infinity) > (a.lost_percent ?? Infinity) ? b : a), null);
    log(
      `  -l ${length}${gso ? ' --gso' : ''}: ${pps === 'unlimited' ? 'unlimited' : `${pps} pps`}${repeat ? ' (repeat)' : ''}: ` +
        `sent ${t.sent} at ${Math.round(t.achieved_pps)} pps, ${t.passed ? 'pass' : t.sender_limited ? 'SENDER SHORT of the offered rate' : 'LOSS'}` +
        (worst && !t.passed ? ` (${worst.guest} ${worst.lost_percent === null ? 'no result' : `${worst.lost_percent.toFixed(3)}%`})` : ''),
    );
    return t;
  };
  const trials: NdrTrial[] = [];
  // The sender's most, one datagram per call; when it cannot make any receiver lose, with GSO.
  const gsoFits = Math.min(MAX_GSO_SEGMENTS, Math.floor(MAX_PAYLOAD / length)) >= 2;
  let gso = plan.gso === 'on';
  let probe = await trial('unlimited', gso, false);
  trials.push(probe);
  if (plan.gso === 'auto' && probe.passed && gsoFits && !aborted(signal)) {
    log(`  -l ${length}: one datagram per call did not make a receiver lose: trying UDP GSO`);
    const withGso = await trial('unlimited', true, false);
    trials.push(withGso);
    if (withGso.achieved_pps > probe.achieved_pps) {
      gso = true;
      probe = withGso;
    }
  }
  const senderMax = Math.round(probe.achieved_pps);
  const { start, skipped } = searchStart(probe, plan.maxPps, plan.search.minPps);
  if (skipped !== null) {
    log(`  -l ${length}: skipped: ${skipped}`);
    return skippedSize(length, gso, senderMax, skipped, trials);
  }
  const search = new NdrSearch(start, plan.search);
  for (let step = search.next(); step && !aborted(signal); step = search.next()) {
    const t = await trial(step.pps, gso, step.repeat);
    trials.push(t);
    search.record(step.pps, t.passed);
  }
  // the probes are trials too, but not of the search: only paced trials decide the bounds
  const paced = trials.slice(trials.length - search.trials);
  const size: NdrSize = summarizeSize(length, gso, senderMax, search, paced, plan.search.lossTolerancePercent);
  size.trials = trials;
  return size;
}

/** One size's run as `run` takes its flags: what `ndr` checks before anything is made and then searches. */
export function trialFlags(plan: NdrPlan, length: number): CustomRunFlags {
  return {
    group: plan.group,
    port: String(plan.port),
    length: String(length),
    time: String(plan.trialSeconds),
    receivers: String(plan.receivers),
    pps: '1000',
    ...(plan.rcvbuf !== null ? { rcvbuf: plan.rcvbuf } : {}),
    ...(plan.rcvbufForce ? { 'rcvbuf-force': true } : {}),
    ...(plan.coalesce !== null ? { coalesce: plan.coalesce } : {}),
    ...(plan.gro ? { gro: true } : {}),
    ...(plan.sources.length ? { source: plan.sources } : {}),
  };
}

export async function runNdr(plan: NdrPlan, opts: { place: Place; log: (l: string) => void; signal: AbortSignal }): Promise<NdrReport> {
  const report: NdrReport = {
    schema: NDR_SCHEMA,
    started: new Date().toISOString(),
    place: opts.place.kind,
    settings: {
      lengths: plan.lengths,
      trial_seconds: plan.trialSeconds,
      loss_tolerance_percent: plan.search.lossTolerancePercent,
      resolution: plan.search.resolution,
      max_trials: plan.search.maxTrials,
      receivers: plan.receivers,
      // bytes, K/M/G as recv takes them (checked before the run: customScenario)
      rcvbuf: plan.rcvbuf === null ? null : parseSize('--rcvbuf', plan.rcvbuf),
      coalesce_us: plan.coalesce === null ? DEFAULT_COALESCE_US : Number(plan.coalesce),
      gro: plan.gro,
      gso: plan.gso,
      sources: plan.sources,
    },
    sizes: [],
    partial: false,
  };
  const need = { guests: plan.receivers + 1, lab: {}, sysctls: {} };
  await opts.place.withHosts(need, opts.signal, async (hosts, signal) => {
    for (const length of plan.lengths) {
      if (signal.aborted) break;
      const base = customScenario(trialFlags(plan, length));
      report.sizes.push(await searchSize(base, base.variants[0]!, plan, hosts, signal, opts.log));
    }
  });
  report.partial = opts.signal.aborted || report.sizes.length < plan.lengths.length;
  return report;
}

/** read at call time: trials take seconds, and the signal may fire during any of them */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
