// `mcbench suite FILE`: the scenarios of a suite file run in order, thresholds and an optional
// baseline turned into pass/fail, and the outputs CI wants (DESIGN section 8).
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { parsePercent } from '../core/units.js';
import { InputFileError, readInputFile } from '../host/input-file.js';
import { labSpec, requireRoot } from '../lab/index.js';
import { checkOutputTarget } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { writeBenchmarkJson } from '../report/suite-benchmark.js';
import { writeSuiteJson } from '../report/suite-json.js';
import { writeSuiteJunit } from '../report/suite-junit.js';
import { writeSuiteMarkdown } from '../report/suite-markdown.js';
import { suiteFailureLines, suiteTable } from '../report/suite-table.js';
import { runScenario } from '../run/orchestrate.js';
import { searchSize } from '../run/ndr.js';
import type { ScenarioVariant } from '../run/scenarios.js';
import type { Hosts } from '../where/hosts.js';
import { abortOnSignals } from '../run/signals.js';
import { judgeScenario, parseBaseline, SUITE_SCHEMA, suiteSummary, type SuiteReport, type VariantMetrics } from '../core/suite.js';
import { parseSuite } from '../run/suite.js';
import { parseSuiteText } from '../core/suite-file.js';
import { placeFor } from '../where/index.js';
import { runCommand } from './common.js';
import { hostsFromFlags, hostsOptions } from './hosts-flags.js';
import { emitHtml, htmlOption } from './report.js';
import { checkStreamTargets, jsonStreamOption, watchSteps } from './stream.js';
import type { SuiteNdr, SuiteScenarioOutcome } from '../core/suite.js';

/** A suite file (JSON or YAML) or a baseline report (JSON): a regular file of at most 16 MiB. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

function readText(flag: string, file: string): string {
  try {
    return readInputFile(file, MAX_INPUT_BYTES, flag ? 'a baseline' : 'a suite file');
  } catch (e) {
    if (e instanceof InputFileError) throw new UsageError(`${flag}${file}: ${e.message}`);
    throw e;
  }
}

function readJson(flag: string, file: string): unknown {
  const text = readText(flag, file);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${flag}${file}: not valid JSON: ${(e as Error).message.replace(/\s+/g, ' ').trim()}`);
  }
}

export const suiteCommand: CommandModule = {
  command: 'suite <file>',
  describe: 'run the scenarios of a suite file (YAML or JSON) in order: thresholds, a baseline, JSON/Markdown/JUnit/benchmark outputs for CI',
  builder: (y: Argv) =>
    jsonStreamOption(htmlOption(hostsOptions(y)))
      .option('receivers', { type: 'string', describe: 'with --hosts: the receiving hosts, g2,g3 (overrides the file)' })
      .positional('file', { type: 'string', describe: 'the suite file, YAML (.yaml, .yml) or JSON: suite: NAME, scenarios: [{name, run: {flags} | scenario: NAME, thresholds}]' })
      .option('baseline', { type: 'string', describe: 'a previous mcbench/suite@1 report (--json): fail on regressions beyond --tolerance' })
      .option('tolerance', { type: 'string', default: '10', describe: 'percent of the baseline a metric may worsen (loss: at least 0.1 points, p99: at least 0.5 ms)' })
      .option('json', { type: 'string', describe: 'write the mcbench/suite@1 report to FILE (atomically); - for stdout' })
      .option('markdown', { type: 'string', describe: 'write a Markdown summary to FILE' })
      .option('junit', { type: 'string', describe: 'write JUnit XML to FILE (one testcase per scenario)' })
      .option('benchmark-json', { type: 'string', describe: 'write github-action-benchmark customSmallerIsBetter JSON (loss %, p99 ms) to FILE' })
      .option('benchmark-bigger-json', { type: 'string', describe: 'write github-action-benchmark customBiggerIsBetter JSON (recv pps) to FILE' })
      .option('local', { type: 'boolean', default: false, describe: 'no lab: every scenario on lo in a private namespace' })
      .option('lab-name', { type: 'string', default: 'suite', describe: 'name of the ephemeral labs ([a-z0-9], up to 8)' })
      .example('$0 suite bench/suites/smoke.json --local --json suite.json --junit junit.xml', 'the smoke suite, for CI')
      .example('$0 suite nightly.json --baseline last-night.json --tolerance 15', 'fail on regressions against last night'),
  handler: (argv) =>
    runCommand('suite', async () => {
      const a = argv as Record<string, unknown>;
      const file = String(a.file);
      const local = a.local === true;
      if (a.receivers !== undefined && a.hosts === undefined) throw new UsageError('--receivers: only with --hosts FILE');
      const own = hostsFromFlags(a);
      const tolerance = parsePercent('--tolerance', a.tolerance, 1000);
      const suiteText = parseSuiteText(readText('', file), file);
      const spec = parseSuite(suiteText.doc, file, { local, ...(suiteText.locate ? { locate: suiteText.locate } : {}) });
      const baselineFile = typeof a.baseline === 'string' ? a.baseline : null;
      const baseline: Map<string, VariantMetrics[]> | null = baselineFile === null ? null : parseBaseline(readJson('--baseline: ', baselineFile), baselineFile);
      const outs = {
        json: checkOutputTarget('--json', a.json),
        markdown: checkOutputTarget('--markdown', a.markdown),
        junit: checkOutputTarget('--junit', a.junit),
        smaller: checkOutputTarget('--benchmark-json', a['benchmark-json']),
        bigger: checkOutputTarget('--benchmark-bigger-json', a['benchmark-bigger-json']),
        html: checkOutputTarget('--html', a.html),
      };
      const toStdout = Object.entries(outs).filter(([, v]) => v === '-').map(([k]) => k);
      if (toStdout.length > 1) throw new UsageError(`only one output can go to stdout (-), not ${toStdout.join(' and ')}`);
      const jsonStream = a['json-stream'] === true;
      checkStreamTargets(jsonStream, { '--json': outs.json, '--markdown': outs.markdown, '--junit': outs.junit, '--benchmark-json': outs.smaller, '--benchmark-bigger-json': outs.bigger, '--html': outs.html });
      const labName = String(a['lab-name']);
      if (!local && !own) {
        // The lab of every variant is checked now (name, size, knobs), not minutes into the suite.
        for (const e of spec.entries) {
          for (const v of e.scenario.variants) {
            try {
              labSpec({ name: labName, guests: e.scenario.guests, ...v.lab });
            } catch (err) {
              if (err instanceof UsageError) throw new UsageError(`--lab-name: ${e.name}: ${err.message.replace(/^--name: /, '')}`);
              throw err;
            }
          }
        }
        requireRoot();
      }
      const perScenario = spec.entries.reduce((s, e) => s + (e.scenario.seconds + 4 + (e.ndr ? (e.ndr.search.maxTrials + 2) * (e.ndr.trialSeconds + 2) : 0)) * e.scenario.variants.length, 0) / spec.entries.length;
      const watch = watchSteps(
        makeOutput({ jsonToStdout: toStdout.length === 1, quiet: false, jsonStream }),
        { total: spec.entries.length, unit: 'scenario', stepSeconds: perScenario, show: true },
        (s: SuiteScenarioOutcome) => ({ scenario: s.name, passed: s.passed, metrics: s.metrics, failures: s.failures }),
      );
      const out = watch.out;
      const signals = abortOnSignals();
      const place = placeFor({ local, labName, log: out.info, hosts: own });
      try {
        const report: SuiteReport = {
          schema: SUITE_SCHEMA,
          suite: spec.suite,
          file,
          started: new Date().toISOString(),
          finished: '',
          local,
          tolerance_percent: tolerance,
          baseline_file: baselineFile,
          scenarios: [],
          passed: false,
          partial: false,
        };
        out.info(`mcbench suite: ${spec.suite}: ${spec.entries.length} scenario(s)${local ? ', --local' : ''}`);
        out.event('start', { command: 'suite', suite: spec.suite, file, scenarios: spec.entries.map((e) => e.name), time: report.started });
        for (const [i, e] of spec.entries.entries()) {
          if (signals.signal.aborted) break;
          watch.steps.begin(i + 1, spec.entries.length, e.name);
          out.info(`[${i + 1}/${spec.entries.length}] ${e.name}: ${e.scenario_name ?? e.scenario.variants[0]!.describe}`);
          const t0 = Date.now();
          // the lossless-rate search on each variant's hosts, after its run (min_ndr_pps, `ndr:`)
          const plan = e.ndr;
          const ndr: SuiteNdr[] | undefined = plan ? [] : undefined;
          const after = plan
            ? async (v: ScenarioVariant, hosts: Hosts, signal: AbortSignal) => {
              out.info(`  ${v.name}: the lossless-rate search (${plan.trialSeconds} s trials, at most ${plan.search.maxTrials})`);
              const size = await searchSize(e.scenario, v, plan, hosts, signal, out.info);
              ndr!.push({ variant: v.name, size: signal.aborted ? null : size });
              out.info(`  ${v.name}: lossless ${size.skipped === null ? `${size.lossless_pps} pps` : `rate not measured: ${size.skipped}`}`);
            }
            : undefined;
          const run = await runScenario(e.scenario, { place, log: out.info, signal: signals.signal, ...(after ? { after } : {}) });
          const judged = { ...judgeScenario(e, run, baseline, tolerance, ndr), seconds: (Date.now() - t0) / 1000 };
          report.scenarios.push(judged);
          watch.steps.end(i + 1, spec.entries.length, judged);
          const undecided = (judged.inconclusive ?? []).map((x) => `inconclusive: ${x.message}`);
          out.info(`  ${judged.passed ? (undecided.length ? undecided.join('; ') : 'pass') : `FAIL: ${[...judged.failures.map((f) => f.message), ...undecided].join('; ')}`}`);
        }
        watch.dispose();
        report.finished = new Date().toISOString();
        report.partial = signals.signal.aborted || report.scenarios.length < spec.entries.length || report.scenarios.some((s) => s.report.partial);
        report.passed = !report.partial && report.scenarios.every((s) => s.passed);
        out.summary('');
        for (const line of suiteTable(report)) out.summary(line);
        const failures = suiteFailureLines(report);
        if (failures.length) out.summary('');
        for (const line of failures) out.summary(line);
        out.summary('');
        out.summary(suiteSummary(report));
        if (outs.json) writeSuiteJson(outs.json, report);
        if (outs.markdown) writeSuiteMarkdown(outs.markdown, report);
        if (outs.junit) writeSuiteJunit(outs.junit, report);
        if (outs.smaller) writeBenchmarkJson(outs.smaller, report, 'smaller');
        if (outs.bigger) writeBenchmarkJson(outs.bigger, report, 'bigger');
        emitHtml(outs.html, 'suite', report);
        out.event('end', report);
        return signals.exitCode() ?? (report.passed ? 0 : 1);
      } catch (e) {
        out.event('error', { message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        watch.dispose();
        signals.dispose();
      }
    }),
};
