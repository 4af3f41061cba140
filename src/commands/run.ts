import type { Argv, CommandModule } from 'yargs';
import { shown, UsageError } from '../core/errors.js';
import { requireRoot } from '../lab/index.js';
import { checkOutputTarget } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { emitRunReport } from '../report/run-table.js';
import { runScenario } from '../run/orchestrate.js';
import { runRttOnPlace } from '../run/rtt.js';
import { pingSpec } from '../core/rtt.js';
import { emitJson } from '../report/json.js';
import { rttTableLines } from '../report/rtt-table.js';
import { SCENARIOS, customScenario, findScenario, rejectUnusedFlags } from '../run/scenarios.js';
import { abortOnSignals } from '../run/signals.js';
import { placeFor } from '../where/index.js';
import { checkLabFor, runCommand, scenarioOptions } from './common.js';
import { hostsFromFlags, hostsOptions } from './hosts-flags.js';
import { checkStdoutOnce, emitHtml, htmlOption } from './report.js';
import { checkStreamTargets, jsonStreamOption, watchSteps } from './stream.js';
import { runMetrics } from '../core/ab.js';
import type { VariantOutcome } from '../core/run-report.js';

// The flags of the data mode that --mode rtt does not take (the ping and pong have no rate in bits,
// no payload size choice, no socket buffer or bridge knobs).
const NOT_RTT = ['scenario', 'variant', 'bandwidth', 'pps', 'length', 'rcvbuf', 'rcvbuf-force', 'verify-payload', 'coalesce', 'gro', 'snooping', 'querier', 'gso', 'set', 'html', 'source', 'burst', 'burst-interval', 'isochronous'];

/** `run --mode rtt`: one guest pings, the others reflect; the ping's table and mcbench/rtt@1. */
async function runRttMode(a: Record<string, unknown>): Promise<number> {
  if (a.mode !== 'rtt') throw new UsageError(`--mode: '${shown(a.mode)}' is not a mode (data or rtt)`);
  const extra = NOT_RTT.find((k) => a[k] !== undefined && a[k] !== false);
  if (extra) throw new UsageError(`--${extra}: does not apply to --mode rtt (it takes -g, -p, -t, --rate, --receivers, --local, --hosts, --lab-name, --json)`);
  // with --hosts, the inventory's sender pings and its receivers reflect (--receivers names them)
  const own = hostsFromFlags(a);
  const receivers = own ? own.inventory.receivers.length : a.receivers === undefined ? 2 : Number(shown(a.receivers));
  if (!own && (!/^\d+$/.test(shown(a.receivers ?? '2')) || receivers < 1 || receivers > 15)) throw new UsageError(`--receivers: '${shown(a.receivers)}' is out of range (1 to 15 reflectors)`);
  const spec = pingSpec({ group: a.group ?? '239.255.0.1', port: a.port, rate: a.rate, time: a.time, json: a.json, interface: 'eth0' });
  const local = a.local === true;
  if (!local && !own) {
    checkLabFor(a['lab-name'], { guests: receivers + 1, variants: [{ lab: {} }] });
    requireRoot();
  }
  checkOutputTarget('--json', spec.json);
  checkStreamTargets(a['json-stream'] === true, { '--json': spec.json });
  const out = makeOutput({ jsonToStdout: spec.json === '-', quiet: false, jsonStream: a['json-stream'] === true });
  const place = placeFor({ local, labName: String(a['lab-name']), log: out.info, hosts: own });
  const signals = abortOnSignals();
  try {
    const result = await runRttOnPlace({ group: spec.group, port: spec.port, rate: spec.rate, seconds: spec.seconds, reflectors: receivers, place, log: out.info, signal: signals.signal });
    for (const line of rttTableLines(result)) out.summary(line);
    if (spec.json) emitJson(spec.json, result);
    out.event('end', result);
    // a reflector that answered nothing (or whose pong left no result) fails the run
    const silent = result.reflectors.length < receivers || result.reflectors.some((x) => x.replies === 0);
    return signals.exitCode() ?? (result.end.end_reason === 'error' || silent ? 1 : 0);
  } finally {
    signals.dispose();
  }
}

export const runCommandModule: CommandModule = {
  command: 'run',
  describe: 'a sender in one guest, receivers in the others, on a throwaway lab: a named scenario or your own flags, one table',
  builder: (y: Argv) =>
    jsonStreamOption(htmlOption(hostsOptions(scenarioOptions(y, { bandwidthAlias: true, set: true }))))
      .option('scenario', { type: 'string', describe: `a named scenario: ${SCENARIOS.map((s) => s.name).join(', ')} (without it: the scenario flags)` })
      .option('variant', { type: 'string', describe: 'run only this variant (default: all, side by side)' })
      .option('lab-name', { type: 'string', default: 'run', describe: 'name of the ephemeral lab ([a-z0-9], up to 8)' })
      .option('local', { type: 'boolean', default: false, describe: 'no lab: every process in one private network namespace on lo (unshare; works without root, where user namespaces are allowed)' })
      .option('json', { type: 'string', describe: 'write the mcbench/run@1 report to FILE (atomically); - for stdout' })
      .option('mode', { type: 'string', default: 'data', describe: 'data: a sender and receivers (the scenario); rtt: g1 runs mcbench ping, the others mcbench pong (takes -g, -p, -t, --rate, --receivers; --json writes mcbench/rtt@1)' })
      .option('rate', { type: 'string', describe: '--mode rtt: probes per second (0.1-100000) [default: 10]' })
      .example('$0 run --scenario seed-001-rmem', 'default vs tuned net.core.rmem_max, side by side')
      .example('$0 run -b 0 -l 64 -t 3 --receivers 3 --rcvbuf 8M --set net.core.rmem_max=16777216', 'your own scenario')
      .example('$0 run --hosts hosts.yaml -b 200M -t 10', 'on your own hosts over ssh (see mcbench hosts check)'),
  handler: (argv) =>
    runCommand('run', async () => {
      const a = argv as Record<string, unknown>;
      if (a.mode !== 'data') return runRttMode(a);
      if (a.rate !== undefined) throw new UsageError('--rate: only with --mode rtt (the data mode takes -b or --pps)');
      const own = hostsFromFlags(a);
      // with --hosts, the inventory decides how many receivers there are
      const flags = own ? { ...a, receivers: String(own.inventory.receivers.length) } : a;
      const scenario = a.scenario === undefined ? customScenario(flags) : findScenario(shown(a.scenario));
      if (!scenario) throw new UsageError(`--scenario: '${String(a.scenario)}' is not a scenario (one of: ${SCENARIOS.map((s) => s.name).join(', ')})`);
      if (a.scenario !== undefined) rejectUnusedFlags(scenario.name, a);
      const variant = typeof a.variant === 'string' ? a.variant : null;
      if (variant && !scenario.variants.some((v) => v.name === variant)) {
        throw new UsageError(`--variant: '${variant}' is not a variant of ${scenario.name} (one of: ${scenario.variants.map((v) => v.name).join(', ')})`);
      }
      const local = a.local === true;
      if (local && scenario.needsBridge) throw new UsageError(`--local: ${scenario.name} needs the lab's bridge; run it without --local (as root)`);
      // measured on this kernel: to an IPv6 group on lo of a fresh namespace, Ip6InReceives grows but no member socket gets it
      if (local && scenario.group.includes(':')) throw new UsageError(`--local: ${scenario.group} is IPv6, which lo does not loop back to group members; run it on the lab (without --local, as root)`);
      if (!local && !own) {
        checkLabFor(a['lab-name'], scenario);
        requireRoot();
      }
      const json = checkOutputTarget('--json', a.json);
      const html = checkOutputTarget('--html', a.html);
      checkStdoutOnce({ '--json': json, '--html': html });
      const jsonStream = a['json-stream'] === true;
      checkStreamTargets(jsonStream, { '--json': json, '--html': html });
      const chosen = scenario.variants.filter((v) => variant === null || v.name === variant);
      const watch = watchSteps(
        makeOutput({ jsonToStdout: json === '-' || html === '-', quiet: false, jsonStream }),
        { total: chosen.length, unit: 'variant', stepSeconds: scenario.seconds + 4, show: chosen.length > 1 },
        (o: VariantOutcome) => ({ variant: o.name, skipped: o.skipped, partial: o.partial, metrics: o.skipped ? null : runMetrics(o) }),
      );
      const out = watch.out;
      const place = placeFor({ local, labName: String(a['lab-name']), log: out.info, hosts: own });
      // A place that can run none of the variants (a non-root --local --set) is bad input, not a
      // run of nothing: say why before anything is made.
      const refused = chosen.map((v) => place.refuse({ guests: scenario.guests, lab: v.lab, sysctls: v.sysctls }));
      if (refused.every((why) => why !== null)) throw new UsageError(`${a.scenario === undefined ? '--set' : '--local'}: ${refused[0]}`);
      const signals = abortOnSignals();
      try {
        out.info(`mcbench run: ${scenario.name}: ${scenario.title}`);
        out.event('start', { command: 'run', scenario: { name: scenario.name, title: scenario.title }, variants: chosen.map((v) => v.name), time: new Date().toISOString() });
        const report = await runScenario(scenario, { variant, place, log: out.info, signal: signals.signal, steps: watch.steps });
        watch.dispose();
        const code = emitRunReport(report, out, json);
        emitHtml(html, 'run', report);
        out.event('end', report);
        return signals.exitCode() ?? code;
      } catch (e) {
        out.event('error', { message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        watch.dispose();
        signals.dispose();
      }
    }),
};
