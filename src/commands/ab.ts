// `mcbench ab`: the same run under two sets of kernel settings, interleaved and repeated, with
// an honest verdict (DESIGN section 7).
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { inRange, parseCount } from '../core/units.js';
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

export function abTable(r: AbReport): string[] {
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
    jsonStreamOption(htmlOption(hostsOptions(scenarioOptions(y, { bandwidthAlias: false, set: false }))))
      .option('a', { type: 'string', array: true, describe: 'settings of side A: KEY=VALUE[,KEY=VALUE] (repeatable)' })
      .option('b', { type: 'string', array: true, describe: 'settings of side B: KEY=VALUE[,KEY=VALUE] (repeatable)' })
      .option('a-name', { type: 'string', default: 'A', describe: 'label of side A' })
      .option('b-name', { type: 'string', default: 'B', describe: 'label of side B' })
      .option('reps', { type: 'string', default: '5', describe: 'measured repetitions per side (1-100)' })
      .option('warmup', { type: 'string', default: '1', describe: 'warm-up repetitions per side, not counted (0-10)' })
      .option('local', { type: 'boolean', default: false, describe: 'no lab: every process on lo in one private namespace' })
      .option('lab-name', { type: 'string', default: 'ab', describe: 'name of the ephemeral lab' })
      .option('json', { type: 'string', describe: 'write the mcbench/ab@1 report to FILE (atomically); - for stdout' })
      .example("$0 ab --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400 --rcvbuf 25M --bandwidth 0 -t 3", 'seed 001 as an A/B'),
  handler: (argv) =>
    runCommand('ab', async () => {
      const a = argv as Record<string, unknown>;
      const sa = side('--a', a.a, a['a-name']);
      const sb = side('--b', a.b, a['b-name']);
      if (Object.keys(sa.sysctls).length === 0 && Object.keys(sb.sysctls).length === 0) {
        throw new UsageError('--a/--b: give the settings to compare, e.g. --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400');
      }
      const reps = inRange('--reps', parseCount('--reps', a.reps), 1, 100);
      const warmup = inRange('--warmup', parseCount('--warmup', a.warmup), 0, 10);
      const own = hostsFromFlags(a);
      const scenario = customScenario(own ? { ...a, receivers: String(own.inventory.receivers.length) } : a);
      const local = a.local === true;
      if (local && scenario.needsBridge) throw new UsageError('--local: --snooping/--querier need the lab\'s bridge; drop --local (as root)');
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
        { total: 2 * (warmup + reps), unit: 'run', stepSeconds: scenario.seconds + 3, show: true },
        (r: AbRun) => ({ side: r.side, name: r.side === 'a' ? sa.name : sb.name, rep: r.rep, warmup: r.warmup, partial: r.outcome.partial, metrics: r.metrics }),
      );
      const out = watch.out;
      const signals = abortOnSignals();
      try {
        out.event('start', { command: 'ab', a: sa, b: sb, reps, warmup, runs: 2 * (warmup + reps), run: abRunDescription(scenario.sendArgs, scenario.recvArgs), time: new Date().toISOString() });
        out.info(`mcbench ab: ${sa.name} vs ${sb.name}, ${reps} runs each after ${warmup} warm-up, interleaved; each run: ${abRunDescription(scenario.sendArgs, scenario.recvArgs)}`);
        const report = await runAb(scenario, { a: sa, b: sb, reps, warmup, place: placeFor({ local, labName: String(a['lab-name']), log: out.info, hosts: own }), log: out.info, signal: signals.signal, steps: watch.steps });
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
