// `mcbench ab`: the same run under two sets of kernel settings, interleaved and repeated, with
// an honest verdict (DESIGN section 7).
import type { Argv, CommandModule } from 'yargs';
import { shown, UsageError } from '../core/errors.js';
import { formatCount, inRange, parseCount } from '../core/units.js';
import { requireRoot } from '../lab/index.js';
import { emitJson } from '../report/json.js';
import { checkOutputTarget } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { formatTable } from '../report/run-table.js';
import type { AbReport, AbSide } from '../core/ab.js';
import { runAb } from '../run/ab.js';
import { customScenario, parseSetFlags } from '../run/scenarios.js';
import { abortOnSignals } from '../run/signals.js';
import { placeFor } from '../where/index.js';
import { checkLabFor, runCommand, scenarioOptions } from './common.js';
import { hostsFromFlags, hostsOptions } from './hosts-flags.js';
import { checkStdoutOnce, emitHtml, htmlOption } from './report.js';
import { checkStreamTargets, jsonStreamOption, watchSteps } from './stream.js';
import type { AbRun } from '../core/ab.js';
import { scenarioLength, type NdrSearchPlan } from '../run/ndr.js';
import { searchFlags, searchOptions } from './ndr.js';

function side(flag: string, raw: unknown, name: unknown): AbSide {
  const items = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((x) => String(x).split(',')).filter(Boolean);
  const sysctls = parseSetFlags(items, flag);
  return { name: typeof name === 'string' && name ? name : flag.replace(/^--/, '').toUpperCase(), sysctls };
}

/**
 * Each run as ab's own flags would say it: the scenario's sender arguments are `mcbench send`'s
 * (-b, -l, -t), and in ab `-b` is side B, so the rate is --bandwidth here.
 */
export function abRunDescription(sendArgs: readonly string[], recvArgs: readonly string[]): string {
  const long: Record<string, string> = { '-b': '--bandwidth', '-l': '--length', '-t': '--time' };
  const send = sendArgs.map((x) => long[x] ?? x);
  const unlimited = send.some((x, i) => x === '--bandwidth' && /^0+(\.0*)?$/.test(send[i + 1] ?? ''));
  return `${send.join(' ')}${unlimited ? ' (unlimited)' : ''}${recvArgs.length ? `, receivers ${recvArgs.join(' ')}` : ''}`;
}

/**
 * --metric ndr: the search's flags checked, and the run's rate and time refused (the search picks
 * the rate, --trial the seconds). The sender's GSO is what --gso says, the same on both sides:
 * absent off, --gso on (as many as fit 64 KiB), --gso auto as mcbench ndr's.
 */
export function abNdrPlan(a: Record<string, unknown>): NdrSearchPlan {
  for (const [key, flag] of [['bandwidth', '--bandwidth'], ['pps', '--pps'], ['time', '-t/--time']] as const) {
    if (a[key] !== undefined) throw new UsageError(`${flag}: not with --metric ndr (the search picks the rate; --trial sets each trial's seconds)`);
  }
  const g = a.gso;
  const gso = g === undefined || g === false ? 'off' : g === true || g === '' ? 'on' : g === 'auto' ? 'auto' : null;
  if (gso === null) throw new UsageError(`--gso: with --metric ndr give --gso (as many segments as fit 64 KiB) or --gso auto, not '${String(g)}'`);
  return { ...searchFlags(a), gso };
}

/** The flags only --metric ndr takes, refused in runs rather than ignored. */
const NDR_ONLY = ['trial', 'loss-tolerance', 'resolution', 'max-trials', 'max-pps', 'min-pps'];

export function abNdrTable(r: AbReport): string[] {
  const f = (x: number) => (Number.isFinite(x) ? formatCount(Math.round(x)) : 'n/a');
  const rows = (['a', 'b'] as const).map((k) => {
    const s = r.summary.ndr_pps?.[k];
    const mine = r.runs.filter((x) => x.side === k && !x.warmup);
    const limited = [...new Set(mine.flatMap((x) => (x.ndr?.limited_by ? [x.ndr.limited_by.kind === 'sender' ? 'the sender' : x.ndr.limited_by.guest] : [])))].join(', ') || '-';
    return [
      r[k].name,
      String(s?.n ?? 0),
      s ? `${f(s.mean)} ± ${f(s.stddev)}` : 'n/a',
      s ? f(s.median) : 'n/a',
      mine.map((x) => (x.ndr ? f(x.ndr.lossless_pps) : 'n/a')).join(' '),
      limited,
      Object.entries(r[k].sysctls).map(([id, v]) => `${id}=${v}`).join(' ') || 'as the host is',
    ];
  });
  return formatTable(['side', 'searches', 'lossless pps (mean ± σ)', 'median', 'each search', 'limited by', 'settings'], rows);
}

export function abTable(r: AbReport): string[] {
  if (r.summary.ndr_pps) return abNdrTable(r);
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const rows = (['a', 'b'] as const).map((k) => {
    const s = r.summary[k];
    return [
      r[k].name,
      String(s.lost_percent.n),
      `${f(s.lost_percent.mean, 2)} ± ${f(s.lost_percent.stddev, 2)}`,
      f(s.lost_percent.median, 2),
      `${f(s.recv_pps.mean, 0)} ± ${f(s.recv_pps.stddev, 0)}`,
      s.p99_delay_ms.n ? `${f(s.p99_delay_ms.mean, 2)} ± ${f(s.p99_delay_ms.stddev, 2)}` : 'n/a',
      Object.entries(r[k].sysctls).map(([id, v]) => `${id}=${v}`).join(' ') || 'as the host is',
    ];
  });
  return formatTable(['side', 'runs', 'lost % (mean ± σ)', 'median', 'recv pps (mean ± σ)', 'p99 delay ms', 'settings'], rows);
}

export const abCommand: CommandModule = {
  command: 'ab',
  describe: 'compare two sets of kernel settings on the same run: interleaved, repeated, with a verdict only beyond the noise',
  builder: (y: Argv) =>
    searchOptions(jsonStreamOption(htmlOption(hostsOptions(scenarioOptions(y, { bandwidthAlias: false, set: false })))))
      .option('metric', { type: 'string', describe: 'what is compared: run (one run per repetition: loss, packet rate, delay) or ndr (the lossless-rate search per repetition, mcbench ndr\'s flags --trial ...) [default: run]' })
      .option('a', { type: 'string', array: true, describe: 'settings of side A: KEY=VALUE[,KEY=VALUE] (repeatable)' })
      .option('b', { type: 'string', array: true, describe: 'settings of side B: KEY=VALUE[,KEY=VALUE] (repeatable)' })
      .option('a-name', { type: 'string', default: 'A', describe: 'label of side A' })
      .option('b-name', { type: 'string', default: 'B', describe: 'label of side B' })
      .option('reps', { type: 'string', default: '5', describe: 'measured repetitions per side (1-100)' })
      .option('warmup', { type: 'string', default: '1', describe: 'warm-up repetitions per side, not counted (0-10)' })
      .option('local', { type: 'boolean', default: false, describe: 'no lab: every process on lo in one private namespace' })
      .option('lab-name', { type: 'string', default: 'ab', describe: 'name of the ephemeral lab' })
      .option('json', { type: 'string', describe: 'write the mcbench/ab@1 report to FILE (atomically); - for stdout' })
      .example("$0 ab --metric ndr --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400 --rcvbuf 25M --trial 1 --reps 3", 'does B raise the lossless rate?')
      .example("$0 ab --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400 --rcvbuf 25M --bandwidth 0 -t 3", 'seed 001 as an A/B'),
  handler: (argv) =>
    runCommand('ab', async () => {
      const a = argv as Record<string, unknown>;
      const sa = side('--a', a.a, a['a-name']);
      const sb = side('--b', a.b, a['b-name']);
      if (Object.keys(sa.sysctls).length === 0 && Object.keys(sb.sysctls).length === 0) {
        throw new UsageError('--a/--b: give the settings to compare, e.g. --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400');
      }
      const metric = a.metric === undefined ? 'run' : shown(a.metric);
      if (metric !== 'run' && metric !== 'ndr') throw new UsageError(`--metric: '${metric}' is not one of run, ndr`);
      const ndr = metric === 'ndr' ? abNdrPlan(a) : null;
      const stray = NDR_ONLY.find((k) => a[k] !== undefined);
      if (!ndr && stray !== undefined) throw new UsageError(`--${stray}: only with --metric ndr`);
      const reps = inRange('--reps', parseCount('--reps', a.reps), 1, 100);
      const warmup = inRange('--warmup', parseCount('--warmup', a.warmup), 0, 10);
      const own = hostsFromFlags(a);
      // the search's trials replace the rate, time and GSO: the scenario is checked with a paced rate
      const flags = ndr ? { ...a, pps: '1000', gso: undefined } : a;
      const scenario = customScenario(own ? { ...flags, receivers: String(own.inventory.receivers.length) } : flags);
      const local = a.local === true;
      if (local && scenario.needsBridge) throw new UsageError('--local: --snooping/--querier need the lab\'s bridge; drop --local (as root)');
      if (local && scenario.group.includes(':')) throw new UsageError(`--local: ${scenario.group} is IPv6, which lo does not loop back to group members; drop --local (as root)`);
      // Global sysctls can only be set by root (on remote hosts: the ssh user, or sudo: true).
      if (!own) {
        if (!local) checkLabFor(a['lab-name'], scenario);
        requireRoot();
      }
      const json = checkOutputTarget('--json', a.json);
      const html = checkOutputTarget('--html', a.html);
      checkStdoutOnce({ '--json': json, '--html': html });
      const jsonStream = a['json-stream'] === true;
      checkStreamTargets(jsonStream, { '--json': json, '--html': html });
      const watch = watchSteps(
        makeOutput({ jsonToStdout: json === '-' || html === '-', quiet: false, jsonStream }),
        { total: 2 * (warmup + reps), unit: ndr ? 'search' : 'run', stepSeconds: ndr ? (ndr.search.maxTrials + 2) * (ndr.trialSeconds + 2) : scenario.seconds + 3, show: true },
        (r: AbRun) => ({
          side: r.side, name: r.side === 'a' ? sa.name : sb.name, rep: r.rep, warmup: r.warmup, partial: r.outcome?.partial ?? r.ndr === null, metrics: r.metrics,
          ...(ndr ? { lossless_pps: r.ndr?.lossless_pps ?? null } : {}),
        }),
      );
      const out = watch.out;
      const signals = abortOnSignals();
      try {
        const each = ndr
          ? `the lossless-rate search of -l ${scenarioLength(scenario)}, ${ndr.trialSeconds} s trials, loss tolerance ${ndr.search.lossTolerancePercent}%, GSO ${ndr.gso}${scenario.recvArgs.length ? `, receivers ${scenario.recvArgs.join(' ')}` : ''}`
          : abRunDescription(scenario.sendArgs, scenario.recvArgs);
        out.event('start', { command: 'ab', metric, a: sa, b: sb, reps, warmup, runs: 2 * (warmup + reps), run: each, time: new Date().toISOString() });
        out.info(`mcbench ab: ${sa.name} vs ${sb.name}, ${reps} ${ndr ? 'searches' : 'runs'} each after ${warmup} warm-up, interleaved; each: ${each}`);
        const report = await runAb(scenario, { a: sa, b: sb, reps, warmup, place: placeFor({ local, labName: String(a['lab-name']), log: out.info, hosts: own }), log: out.info, signal: signals.signal, steps: watch.steps, ndr });
        watch.dispose();
        out.summary('');
        for (const line of abTable(report)) out.summary(line);
        out.summary('');
        for (const line of report.verdict) out.summary(line + (report.partial ? ' (PARTIAL)' : ''));
        if (json) emitJson(json, report);
        emitHtml(html, 'ab', report);
        out.event('end', report);
        return signals.exitCode() ?? (report.partial ? 1 : 0);
      } catch (e) {
        out.event('error', { message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        watch.dispose();
        signals.dispose();
      }
    }),
};
