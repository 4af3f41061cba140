// `mcbench run`: one sender on host 1, receivers on the others, one scenario variant at a time
// on hosts made for it by the place (a fresh lab, a private namespace). Receivers start first
// and must report that they joined before the sender starts; every result is collected into one
// mcbench/run@1 document. Results come back on each process's stdout (`--json -`), so the same
// code collects them wherever the processes run.
import { randomBytes } from 'node:crypto';
import { RunError } from '../core/errors.js';
import type { ReceiverResult, SenderResult } from '../core/result.js';
import { groupFigures } from '../core/group.js';
import { RUN_SCHEMA, type ReceiverOutcome, type RunReport, type VariantOutcome } from '../core/run-report.js';
import type { Hosts, Place } from '../where/hosts.js';
import { RunClockWatch } from './clocks.js';
import { childError, childResult, noResultReason, startChild, stopChildren, waitForStart, type Child } from './child.js';
import type { Scenario, ScenarioVariant } from './scenarios.js';

/** `--source sender` in the receivers' flags: the sending host's own address of the group's family. */
function sourcesNamed(args: readonly string[], hosts: Hosts, group: string): string[] {
  return args.map((a, i) => {
    if (a !== 'sender' || args[i - 1] !== '--source') return a;
    const address = hosts.address?.(1, group.includes(':') ? 'ipv6' : 'ipv4') ?? null;
    if (address === null) throw new RunError(`--source sender: the address of ${hosts.name(1)} is not known here; give it (--source ADDR)`);
    return address;
  });
}

export async function runVariant(scenario: Scenario, variant: ScenarioVariant, hosts: Hosts, signal: AbortSignal, log: (l: string) => void): Promise<VariantOutcome> {
  const applied = await hosts.applySettings(variant.sysctls, signal);
  const children: Child[] = [];
  const receivers: Array<{ host: number; child: Child }> = [];
  let sender: Child | null = null;
  let partial = false;
  let clocks: RunClockWatch | null = null;
  try {
    // The clocks before the run (the server outlives the longest run: the deadline below is +30 s).
    clocks = await RunClockWatch.start(hosts, scenario.seconds + 60, signal);
    const common = (k: number) => ['-g', scenario.group, '-p', String(scenario.port), '-I', hosts.iface(k)];
    // Receivers give up at the latest well after the sender should have finished.
    const limit = String(scenario.seconds + (scenario.receiverMarginSeconds ?? 20));
    // This run's session, chosen here and given to the sender and every receiver: a stray sender or
    // a crafted session on the group cannot end a receiver with its FIN or add its loss.
    let session = randomBytes(8).toString('hex');
    while (/^0+$/.test(session)) session = randomBytes(8).toString('hex'); // 0 is "random" to the sender
    for (let k = 2; k <= hosts.count; k++) {
      const child = startChild(hosts, k, ['recv', ...common(k), ...sourcesNamed(scenario.recvArgs, hosts, scenario.group), ...variant.recvArgs, '--expect-session', session, '-t', limit, '-i', '1', '--json-stream'], log);
      children.push(child);
      receivers.push({ host: k, child });
    }
    for (const r of receivers) await waitForStart(r.child, 15000, signal);
    const upstream = scenario.upstreamQuery;
    if (upstream && variant.upstreamQuerierOnce) {
      const mld = upstream.protocol === 'mld';
      const q = startChild(hosts, 1, ['igmp-query', '-I', hosts.iface(1), '--max-resp', String(upstream.maxResponseSeconds), ...(mld ? ['--protocol', 'mld'] : [])]);
      if ((await q.exited) !== 0) throw new RunError(`the upstream ${mld ? 'MLD' : 'IGMP'} query failed: ${childError(q) ?? 'no reason given'}`);
      log(`  ${variant.name}: ${hosts.name(1)} sent one ${mld ? 'MLDv2' : 'IGMPv2'} general query (the upstream querier), then went quiet`);
      await new Promise((r) => setTimeout(r, upstream.settleSeconds * 1000));
    }
    sender = startChild(hosts, 1, ['send', ...common(1), ...scenario.sendArgs, '--session', session, '-i', '0', '--json-stream'], log);
    children.push(sender);
    log(`  ${variant.name}: ${variant.describe}; sending for ${scenario.seconds} s to ${hosts.count - 1} receivers`);
    const onAbort = () => void stopChildren(children, 3000);
    signal.addEventListener('abort', onAbort);
    const deadline = setTimeout(() => {
      partial = true;
      void stopChildren(children, 3000);
    }, (scenario.seconds + 30) * 1000);
    try {
      await Promise.all(children.map((c) => c.exited));
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) partial = true;
    const senderResult = childResult(sender) as SenderResult | null;
    if (!senderResult) log(`  ${variant.name}: ${sender.host} (sender): ${noResultReason(sender)}`);
    const outcomes: ReceiverOutcome[] = receivers.map((r) => {
      const result = childResult(r.child) as ReceiverResult | null;
      const code = r.child.proc.exitCode;
      if (!result) log(`  ${variant.name}: ${r.child.host}: ${noResultReason(r.child)}`);
      return { guest: hosts.name(r.host), result, exit_code: code, error: result && code === 0 ? null : result ? childError(r.child) : noResultReason(r.child) };
    });
    const bridge = hosts.bridge();
    partial ||= !senderResult || senderResult.end.partial || outcomes.some((o) => !o.result || o.result.end.partial);
    const clockFigures = await clocks.finish(signal);
    return { name: variant.name, describe: variant.describe, settings_applied: applied.changes, lab: variant.lab, bridge, skipped: null, sender: senderResult, receivers: outcomes,
      group: groupFigures(outcomes), clocks: clockFigures, ...(hosts.facts ? { hosts: hosts.facts() } : {}), partial };
  } finally {
    await stopChildren(children, 2000);
    await clocks?.close();
    const failed = await applied.restore();
    if (failed.length) log(`warning: could not restore ${failed.join('; ')}`);
  }
}

/** Told when each step of long work (a variant, an A/B run) begins and ends: progress and --json-stream. */
export interface StepWatch<T> {
  begin(step: number, total: number, label: string): void;
  end(step: number, total: number, outcome: T): void;
}

/** Runs every variant (or the one named) of a scenario, each on hosts the place makes for it. */
export async function runScenario(
  scenario: Scenario,
  opts: {
    variant?: string | null;
    place: Place;
    log: (l: string) => void;
    signal: AbortSignal;
    steps?: StepWatch<VariantOutcome>;
    /** more work on each variant's hosts after its run (a suite case's lossless-rate search), before they are removed */
    after?: (v: ScenarioVariant, hosts: Hosts, signal: AbortSignal) => Promise<void>;
  },
): Promise<RunReport> {
  const variants = opts.variant ? scenario.variants.filter((v) => v.name === opts.variant) : scenario.variants;
  const report: RunReport = {
    schema: RUN_SCHEMA,
    scenario: { name: scenario.name, title: scenario.title, seed: scenario.seed },
    started: new Date().toISOString(),
    variants: [],
    partial: false,
  };
  for (const [i, v] of variants.entries()) {
    if (opts.signal.aborted) break;
    opts.steps?.begin(i + 1, variants.length, v.name);
    const need = { guests: scenario.guests, lab: v.lab, sysctls: v.sysctls };
    const why = opts.place.refuse(need);
    if (why) {
      opts.log(`  ${v.name}: skipped: ${why}`);
      report.variants.push({ name: v.name, describe: v.describe, settings_applied: [], lab: v.lab, bridge: null, skipped: why, sender: null, receivers: [], group: null, clocks: null, partial: false });
      opts.steps?.end(i + 1, variants.length, report.variants.at(-1)!);
      continue;
    }
    const outcome = await opts.place.withHosts(need, opts.signal, async (hosts, signal) => {
      const o = await runVariant(scenario, v, hosts, signal, opts.log);
      if (opts.after && !aborted(signal)) await opts.after(v, hosts, signal);
      return o;
    });
    report.variants.push(outcome);
    opts.steps?.end(i + 1, variants.length, outcome);
  }
  report.partial = opts.signal.aborted || report.variants.length < variants.length || report.variants.some((v) => v.partial);
  return report;
}

/** read at call time: a run takes seconds, and the signal may fire during it */
function aborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
