// `mcbench suite`: the pure threshold and baseline logic, each exporter on hand-made reports, bad
// suite files refused before anything is made, and the whole thing end to end with --local.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport, VariantOutcome } from '../src/core/run-report.js';
import { benchmarkBigger, benchmarkSmaller } from '../src/report/suite-benchmark.js';
import { suiteJunit, xmlEscape } from '../src/report/suite-junit.js';
import { suiteFailureLines, suiteTable } from '../src/report/suite-table.js';
import { scenarioStatus } from '../src/report/html-data.js';
import { skippedSize, type NdrSize } from '../src/core/ndr.js';
import { mdCell, suiteMarkdown } from '../src/report/suite-markdown.js';
import {
  checkThresholds, compareMetric, compareWithBaseline, judgeScenario, parseBaseline, SUITE_SCHEMA, suiteSummary,
  type SuiteReport, type VariantMetrics,
} from '../src/core/suite.js';
import { parseSuite } from '../src/run/suite.js';
import { MCBENCH, Running } from './helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'mcbench-suite-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Running[] = [];
function mcbench(args: string[], timeoutMs = 60000): Running {
  const r = new Running(spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  started.push(r);
  return r;
}
afterEach(() => {
  for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

const vm = (variant: string, lost_percent: number | null, recv_pps: number | null, p99_delay_ms: number | null): VariantMetrics => ({ variant, lost_percent, recv_pps, p99_delay_ms });

/** A RunReport with one variant whose receivers lost / received / were delayed as given. */
function fakeReport(name: string, variants: Array<{ name: string; rx: Array<[number, number, number]> }>): RunReport {
  const outcome = (v: { name: string; rx: Array<[number, number, number]> }): VariantOutcome => ({
    name: v.name, describe: 'hand-made', settings_applied: [], lab: {}, bridge: null, skipped: null, partial: false,
    sender: { end: { seconds: 1 } } as unknown as VariantOutcome['sender'],
    receivers: v.rx.map(([lost, pps, p99], i) => ({
      guest: `g${i + 2}`, exit_code: 0, error: null,
      result: { end: { sum: { lost_percent: lost, packets_per_second: pps }, latency: { one_way_kernel: { p99_ms: p99 } } } } as unknown as VariantOutcome['receivers'][number]['result'],
    })),
  });
  return { schema: 'mcbench/run@1', scenario: { name, title: name, seed: '-' }, started: '2026-01-01T00:00:00.000Z', variants: variants.map(outcome), partial: false };
}

function fakeSuite(scenarios: SuiteReport['scenarios'], baseline: string | null = null): SuiteReport {
  return {
    schema: SUITE_SCHEMA, suite: 'nightly', file: 'n.json', started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:01:00.000Z', local: true,
    tolerance_percent: 10, baseline_file: baseline, scenarios, passed: scenarios.every((s) => s.passed), partial: false,
  };
}

describe('thresholds and regressions', () => {
  it('metrics are the worst receiver: highest loss, lowest pps, highest p99; thresholds name variant and limit', () => {
    const rep = fakeReport('x', [{ name: 'default', rx: [[1, 900, 2], [7.5, 1200, 60]] }, { name: 'tuned', rx: [[0, 2000, 1], [0, 1990, 1.5]] }]);
    const j = judgeScenario({ name: 'x', scenario_name: 'seed-001-rmem', thresholds: { max_lost_percent: 5, min_recv_pps: 1000, max_p99_delay_ms: 50 } }, rep, null, 10);
    expect(j.metrics).toEqual([vm('default', 7.5, 900, 60), vm('tuned', 0, 1990, 1.5)]);
    expect(j.failures.map((f) => f.message)).toEqual([
      'default: lost 7.50% > max_lost_percent 5',
      'default: recv 900 pps < min_recv_pps 1000',
      'default: p99 delay 60.00 ms > max_p99_delay_ms 50',
    ]);
    expect(j.passed).toBe(false);
    expect(j.baseline).toBeNull();
    // At the limit is a pass; a missing figure is incomplete, not a silent pass.
    expect(checkThresholds([vm('custom', 5, 1000, 50)], { max_lost_percent: 5, min_recv_pps: 1000, max_p99_delay_ms: 50 })).toEqual([]);
    expect(checkThresholds([vm('custom', null, null, null)], {}).map((f) => [f.kind, f.message])).toEqual([['incomplete', 'a receiver or the sender produced no result']]);
    expect(checkThresholds([vm('custom', 0, 10, null)], { max_p99_delay_ms: 1 })[0]!.message).toBe('no p99 delay measured (max_p99_delay_ms 1)');
  });

  it('loss: more than max(0.1 points, tolerance% of baseline); pps: falls by more than tolerance%; p99: max(0.5 ms, tolerance%)', () => {
    expect(compareMetric('v', 'lost_percent', 0, 0.1, 10).regression).toBe(false);
    expect(compareMetric('v', 'lost_percent', 0, 0.11, 10).regression).toBe(true);
    expect(compareMetric('v', 'lost_percent', 5, 5.5, 10).regression).toBe(false);
    expect(compareMetric('v', 'lost_percent', 5, 5.6, 10)).toMatchObject({ regression: true, allowed: 0.5 });
    expect(compareMetric('v', 'lost_percent', 5, 0, 10).regression).toBe(false); // better
    expect(compareMetric('v', 'recv_pps', 1000, 900, 10).regression).toBe(false);
    const c = compareMetric('v', 'recv_pps', 1000, 899, 10);
    expect(c.regression).toBe(true);
    expect(c.change_percent).toBeCloseTo(-10.1, 9);
    expect(compareMetric('v', 'recv_pps', 1000, 5000, 10).regression).toBe(false);
    expect(compareMetric('v', 'p99_delay_ms', 0.2, 0.3, 10).regression).toBe(false); // within the 0.5 ms floor
    expect(compareMetric('v', 'p99_delay_ms', 10, 11.5, 10).regression).toBe(true);
    expect(compareMetric('v', 'p99_delay_ms', 10, 11.5, 20).regression).toBe(false);
    // Only variants and metrics present in both are compared.
    const cmp = compareWithBaseline([vm('a', 1, 100, null), vm('b', 0, 1, 1)], [vm('a', 0, 200, 5)], 10);
    expect(cmp.map((c) => [c.variant, c.metric, c.regression])).toEqual([['a', 'lost_percent', true], ['a', 'recv_pps', true]]);
  });

  it('judges against a baseline report, by scenario and variant name, and names the regression', () => {
    const base = parseBaseline({ schema: SUITE_SCHEMA, scenarios: [{ name: 'x', metrics: [vm('custom', 0, 5000, 1)] }] }, 'old.json');
    const j = judgeScenario({ name: 'x', scenario_name: null, thresholds: {} }, fakeReport('x', [{ name: 'custom', rx: [[0, 2000, 1]] }]), base, 10);
    expect(j.failures.map((f) => f.message)).toEqual(['recv pps regressed: 5000 pps → 2000 pps (-60.0%), beyond the allowed 500 pps']);
    const fresh = judgeScenario({ name: 'new', scenario_name: null, thresholds: {} }, fakeReport('new', [{ name: 'custom', rx: [[0, 2000, 1]] }]), base, 10);
    expect(fresh).toMatchObject({ passed: true, baseline: [] });
    expect(() => parseBaseline({ schema: 'mcbench/run@1' }, 'r.json')).toThrow('--baseline: r.json is not a mcbench/suite@1 report');
  });

  it('validates the whole file, naming scenario and key', () => {
    const bad = (doc: unknown) => { try { parseSuite(doc, 'f.json'); return 'ok'; } catch (e) { return (e as Error).message; } };
    expect(bad([])).toBe('f.json: not a suite: expected an object with "suite" and "scenarios"');
    expect(bad({ suite: 'n', scenarios: [], extra: 1 })).toBe("f.json: unknown key 'extra' (known: suite, scenarios)");
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', run: {}, scenario: 'seed-001-rmem' }] })).toBe(`f.json: scenarios[0] 'a': give either "run" (flags as mcbench run takes them) or "scenario" (a named one)`);
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', run: {} }, { name: 'a', run: {} }] })).toBe("f.json: scenarios[1] 'a': name: used twice");
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', run: { length: '99999' } }] })).toMatch(/^f\.json: scenarios\[0\] 'a': run\.length: /);
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', run: { 'rcvbuf-force': 'yes' } }] })).toBe(`f.json: scenarios[0] 'a': run.rcvbuf-force: '"yes"' is not true or false`);
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', run: {}, thresholds: { max_loss: 1 } }] })).toBe("f.json: scenarios[0] 'a': thresholds.max_loss: unknown threshold (known: max_lost_percent, min_recv_pps, max_p99_delay_ms, min_ndr_pps)");
    expect(bad({ suite: 'n', scenarios: [{ name: 'a', scenario: 'seed-9' }] })).toBe("f.json: scenarios[0] 'a': scenario: 'seed-9' is not a scenario (one of: seed-001-rmem, seed-002-querier, seed-002-querier-ipv6, burst-rmem, ssm-igmpv2)");
    const ok = parseSuite({ suite: 'n', scenarios: [{ name: 'a', run: { time: 1, receivers: '3', set: ['net.core.rmem_max=26214400'] } }, { name: 'b', scenario: 'seed-001-rmem' }] }, 'f.json');
    expect(ok.entries.map((e) => [e.name, e.scenario.guests, e.scenario.variants.length])).toEqual([['a', 4, 1], ['b', 3, 2]]);
    expect(ok.entries[0]!.scenario.variants[0]!.sysctls).toEqual({ 'net.core.rmem_max': 26214400 });
  });
});

describe('exporters', () => {
  const failing = judgeScenario({ name: 'lossy', scenario_name: null, thresholds: { max_lost_percent: 0 } }, fakeReport('lossy', [{ name: 'custom', rx: [[34.5, 100000, 0.2]] }]), null, 10);
  const passing = judgeScenario({ name: 'seed', scenario_name: 'seed-001-rmem', thresholds: {} }, fakeReport('seed', [{ name: 'default', rx: [[1, 2, 3]] }, { name: 'tuned', rx: [[0, 4, 0.5]] }]), null, 10);

  it('JUnit: one testsuite, a testcase per scenario, a <failure> for the failing one; XML escaped', () => {
    expect(xmlEscape(`a<b>&"c"'d'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\uFFFD');
    const weird = { ...failing, name: 'x"<&>' , failures: [{ ...failing.failures[0]!, message: 'lost > 0 & "bad" <now>' }] };
    const xml = suiteJunit(fakeSuite([weird, passing]));
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="nightly" tests="2" failures="1" errors="0"');
    expect(xml).toContain('name="x&quot;&lt;&amp;&gt;"');
    expect(xml).toContain('<failure message="lost &gt; 0 &amp; &quot;bad&quot; &lt;now&gt;" type="threshold">threshold: lost &gt; 0 &amp; &quot;bad&quot; &lt;now&gt;</failure>');
    expect(xml).toMatch(/<testcase classname="mcbench\.suite\.nightly" name="seed" time="2\.000"\/>/);
    // Every element closes: no raw < or & outside the markup.
    const text = xml.replace(/<[^<>]*>/g, '');
    expect(text).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/);
  });

  it('Markdown: a row per scenario variant, pipes escaped, failures listed', () => {
    expect(mdCell('a|b\nc')).toBe('a\\|b c');
    const md = suiteMarkdown(fakeSuite([failing, passing]));
    expect(md).toContain('## mcbench suite `nightly`: FAIL');
    expect(md).toContain('| scenario | lost% | recv pps | p99 delay | result |');
    expect(md).toContain('| lossy | 34.50% | 100000 | 0.20 ms | **FAIL (threshold)** |');
    expect(md).toContain('| seed/default | 1.00% | 2 | 3.00 ms | pass |');
    expect(md).toContain('| seed/tuned | 0.00% | 4 | 0.50 ms | pass |');
    expect(md).toContain('- `lossy` threshold: lost 34.50% > max_lost_percent 0');
    expect(md).toContain('suite nightly: FAIL: 1/2 scenario(s) passed (1 threshold failure(s), 0 regression(s): lossy)');
  });

  it('benchmark JSON: smaller-is-better loss and p99, bigger-is-better pps, named by scenario/variant', () => {
    const r = fakeSuite([failing, passing]);
    expect(benchmarkSmaller(r).map(({ name, unit, value }) => ({ name, unit, value }))).toEqual([
      { name: 'lossy lost', unit: '%', value: 34.5 }, { name: 'lossy p99 delay', unit: 'ms', value: 0.2 },
      { name: 'seed/default lost', unit: '%', value: 1 }, { name: 'seed/default p99 delay', unit: 'ms', value: 3 },
      { name: 'seed/tuned lost', unit: '%', value: 0 }, { name: 'seed/tuned p99 delay', unit: 'ms', value: 0.5 },
    ]);
    expect(benchmarkBigger(r).map((e) => [e.name, e.unit, e.value])).toEqual([['lossy recv rate', 'pps', 100000], ['seed/default recv rate', 'pps', 2], ['seed/tuned recv rate', 'pps', 4]]);
    expect(suiteSummary(fakeSuite([passing]))).toBe('suite nightly: PASS: 1/1 scenario(s) passed');
  });

  it('a sender-limited lossless rate below min_ndr_pps: inconclusive in every output (JUnit skipped), the scenario not failed', () => {
    const searched = (pps: number, kind: 'sender' | 'receiver'): NdrSize => ({
      ...skippedSize(1400, false, pps, 'x', []), skipped: null, lossless_pps: pps, limited_by: kind === 'sender' ? { kind } : { kind, guest: 'g2' },
    });
    const judge = (name: string, pps: number, kind: 'sender' | 'receiver') =>
      judgeScenario({ name, scenario_name: null, thresholds: { min_ndr_pps: 5000 } }, fakeReport(name, [{ name: 'custom', rx: [[0, 1000, 0.1]] }]), null, 10, [{ variant: 'custom', size: searched(pps, kind) }]);
    const undecided = judge('capped', 2000, 'sender');
    const met = judge('fast', 8000, 'sender');
    const low = judge('slow', 2000, 'receiver');
    const msg = "lossless rate at least 2000 pps (sender-limited: no receiver lost at the highest rate offered) < min_ndr_pps 5000: inconclusive, the receivers were not reached";
    expect([undecided.passed, undecided.failures, undecided.inconclusive]).toEqual([true, [], [{ variant: 'custom', metric: 'ndr_pps', message: msg }]]);
    expect([met.passed, met.inconclusive]).toEqual([true, []]);
    expect([low.passed, low.failures.map((f) => f.message), low.inconclusive]).toEqual([false, ['lossless rate 2000 pps < min_ndr_pps 5000'], []]);
    const r = fakeSuite([undecided, met]);
    expect(r.passed).toBe(true);
    // text: the row's result, the line under the table, the summary
    expect(suiteTable(r).find((l) => l.startsWith('capped'))).toMatch(/\s2000\s+inconclusive$/);
    expect(suiteTable(r).find((l) => l.startsWith('fast'))).toMatch(/\s8000\s+pass$/);
    expect(suiteFailureLines(r)).toEqual([`capped: inconclusive: ${msg}`]);
    expect(suiteSummary(r)).toBe('suite nightly: PASS: 2/2 scenario(s) passed; 1 threshold(s) inconclusive: capped');
    // JUnit: a skipped testcase with the message, counted as skipped, not failed
    const xml = suiteJunit(r);
    expect(xml).toContain('<testsuite name="nightly" tests="2" failures="0" errors="0" skipped="1"');
    expect(xml).toContain(`<skipped message="inconclusive: ${xmlEscape(msg)}"/>`);
    expect(xml.match(/<skipped /g)).toHaveLength(1);
    // Markdown: the row and its own section
    const md = suiteMarkdown(r);
    expect(md).toContain('| capped | 0.00% | 1000 | 0.10 ms | 2000 | inconclusive |');
    expect(md).toContain(`### Inconclusive\n\n- \`capped\` inconclusive: ${msg}`);
    // JSON is the report itself: the field survives a round trip; HTML's status; the benchmark entry says it is a lower bound
    expect((JSON.parse(JSON.stringify(r)) as SuiteReport).scenarios[0]!.inconclusive).toEqual(undecided.inconclusive);
    expect([scenarioStatus(undecided), scenarioStatus(met), scenarioStatus(low)]).toEqual(['inconclusive', 'pass', 'fail']);
    expect(benchmarkBigger(r).find((e) => e.name === 'capped lossless rate')?.extra).toBe('suite nightly, sender-limited (a lower bound)');
    // with a real failure too, the case is a <failure> whose text lists the inconclusive line
    const both = suiteJunit(fakeSuite([{ ...low, inconclusive: undecided.inconclusive }]));
    expect(both).toContain(`<failure message="lossless rate 2000 pps &lt; min_ndr_pps 5000" type="threshold">threshold: lossless rate 2000 pps &lt; min_ndr_pps 5000\ninconclusive: ${xmlEscape(msg)}</failure>`);
    expect(both).not.toContain('<skipped');
    // against a baseline: a sender-limited rate that fell is inconclusive (marked ?), the scenario not failed
    const baseline = new Map([['fast', [{ variant: 'custom', lost_percent: 0, recv_pps: 1000, p99_delay_ms: 0.1, ndr_pps: 20_000 }]]]);
    const fell = judgeScenario({ name: 'fast', scenario_name: null, thresholds: { min_ndr_pps: 5000 } }, fakeReport('fast', [{ name: 'custom', rx: [[0, 1000, 0.1]] }]), baseline, 10, [{ variant: 'custom', size: searched(8000, 'sender') }]);
    expect([fell.passed, fell.failures, fell.inconclusive!.map((x) => x.message)]).toEqual([true, [], ['lossless pps fell: 20000 pps → 8000 pps (-60.0%), beyond the allowed 2000 pps; but the search is sender-limited (a lower bound): inconclusive, not a regression']]);
    expect(suiteTable(fakeSuite([fell], 'base.json')).find((l) => l.startsWith('fast'))).toMatch(/\s8000\s+inconclusive\s+.*\?lossless pps -60\.0%/);
  });
});

const RMEM = ['rmem_max', 'rmem_default', 'wmem_max', 'wmem_default'].map((k) => `/proc/sys/net/core/${k}`);
const sysctls = () => RMEM.map((p) => readFileSync(p, 'utf8').trim());
const netnsList = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.trim();
const restoreRecords = () => (existsSync('/run/mcbench/restore') ? readdirSync('/run/mcbench/restore') : []);
const file = (name: string, doc: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
};

describe('mcbench suite', () => {
  it('bad suite files: one line naming scenario and key, exit 2, nothing made', async () => {
    const before = netnsList();
    const run1 = { time: '1', pps: '100' };
    for (const [args, msg] of [
      [[file('u.json', { suite: 's', scenarios: [{ name: 'a', run: run1, colour: 1 }] })], `mcbench suite: ${dir}/u.json: scenarios[0] 'a': unknown key 'colour' (known: name, run, scenario, thresholds, ndr)`],
      [[file('r.json', { suite: 's', scenarios: [{ name: 'ok', run: run1 }, { name: 'b', run: { receivers: '16' } }] })], `mcbench suite: ${dir}/r.json: scenarios[1] 'b': run.receivers: 16 is out of range (1 to 15)`],
      [[file('g.json', { suite: 's', scenarios: [{ name: 'a', run: { group: '10.1.1.1' } }] })], `mcbench suite: ${dir}/g.json: scenarios[0] 'a': run.group: 10.1.1.1 is not a multicast address (valid range 224.0.0.0 to 239.255.255.255, or an IPv6 group in ff00::/8)`],
      [[file('t.json', { suite: 's', scenarios: [{ name: 'a', run: run1, thresholds: { max_lost_percent: '5' } }] })], `mcbench suite: ${dir}/t.json: scenarios[0] 'a': thresholds.max_lost_percent: '"5"' is not a number >= 0`],
      [[file('q.json', { suite: 's', scenarios: [{ name: 'a', scenario: 'seed-002-querier' }] }), '--local'], `mcbench suite: ${dir}/q.json: scenarios[0] 'a': --local: seed-002-querier needs the lab's bridge; run the suite without --local (as root)`],
      [[file('j.json', '{"suite": x}')], `mcbench suite: ${dir}/j.json: not valid JSON: Unexpected token 'x', "{"suite": x}" is not valid JSON`],
      [[join(dir, 'none.json')], `mcbench suite: ${dir}/none.json: cannot read: ENOENT`],
      [[file('ok.json', { suite: 's', scenarios: [{ name: 'a', run: run1 }] }), '--tolerance', 'x'], "mcbench suite: --tolerance: 'x' is not a percentage (0 to 1000)"],
      [[join(dir, 'ok.json'), '--baseline', join(dir, 'u.json')], `mcbench suite: --baseline: ${dir}/u.json is not a mcbench/suite@1 report (write one with mcbench suite --json)`],
      [[join(dir, 'ok.json'), '--junit', '/nonexistent-dir/x.xml'], 'mcbench suite: --junit: cannot write /nonexistent-dir/x.xml: /nonexistent-dir is not a writable folder'],
      [[join(dir, 'ok.json'), '--lab-name', 'BAD_NAME'], "mcbench suite: --lab-name: a: 'BAD_NAME' is not a lab name (1 to 8 characters of a-z and 0-9)"],
    ] as Array<[string[], string]>) {
      const r = await mcbench(['suite', ...args]).done;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(msg);
      expect(r.stdout).toBe('');
    }
    expect(netnsList()).toBe(before);
  });

  it('end to end --local: outputs written and parsed; a much better baseline is a named regression; a threshold failure is a JUnit <failure>', async () => {
    const before = sysctls();
    const nsBefore = netnsList();
    const suite = file('e2e.json', {
      suite: 'e2e',
      scenarios: [
        { name: 'paced', run: { pps: '2000', length: '200', time: '1', receivers: '1' }, thresholds: { max_lost_percent: 5, min_recv_pps: 1000 } },
        { name: 'rmem', run: { pps: '2000', length: '1400', time: '1', receivers: '2', rcvbuf: '1M', set: ['net.core.rmem_max=26214400'] }, thresholds: { max_lost_percent: 5 } },
      ],
    });
    const o = (n: string) => join(dir, n);
    const r = await mcbench(['suite', suite, '--local', '--json', o('s.json'), '--junit', o('s.xml'), '--markdown', o('s.md'), '--benchmark-json', o('b.json'), '--benchmark-bigger-json', o('bb.json')]).done;
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^paced\s+0\.00%\s+\d+/m);
    expect(r.stdout).toMatch(/^rmem\s+/m);
    expect(r.stdout).toMatch(/^suite e2e: PASS: 2\/2 scenario\(s\) passed$/m);
    const rep = JSON.parse(readFileSync(o('s.json'), 'utf8')) as SuiteReport;
    expect(rep.schema).toBe('mcbench/suite@1');
    expect(rep.scenarios.map((s) => [s.name, s.passed, s.report.schema])).toEqual([['paced', true, 'mcbench/run@1'], ['rmem', true, 'mcbench/run@1']]);
    expect(rep.scenarios[1]!.report.variants[0]!.settings_applied[0]).toMatchObject({ id: 'net.core.rmem_max', after: '26214400' });
    expect(rep.scenarios[0]!.metrics[0]!.recv_pps).toBeGreaterThan(1500);
    expect(readFileSync(o('s.xml'), 'utf8')).toContain('<testsuite name="e2e" tests="2" failures="0"');
    expect(readFileSync(o('s.md'), 'utf8')).toMatch(/^\| paced \| 0\.00% \| \d+ \| [\d.]+ ms \| pass \|$/m);
    const smaller = JSON.parse(readFileSync(o('b.json'), 'utf8')) as Array<{ name: string; unit: string; value: number }>;
    expect(smaller.map((e) => e.name)).toEqual(['paced lost', 'paced p99 delay', 'rmem lost', 'rmem p99 delay']);
    expect((JSON.parse(readFileSync(o('bb.json'), 'utf8')) as unknown[]).length).toBe(2);

    // A baseline three times faster: the receive rate regressed, by name.
    for (const s of rep.scenarios) for (const m of s.metrics) m.recv_pps = m.recv_pps! * 3;
    writeFileSync(o('better.json'), JSON.stringify(rep));
    const r2 = await mcbench(['suite', suite, '--local', '--baseline', o('better.json'), '--tolerance', '10', '--junit', o('r.xml')]).done;
    expect(r2.code, r2.stderr).toBe(1);
    expect(r2.stdout).toMatch(/^paced: regression: recv pps regressed: \d+ pps → \d+ pps \(-6\d\.\d%\), beyond the allowed \d+ pps$/m);
    expect(r2.stdout).toMatch(/^suite e2e: FAIL: 0\/2 scenario\(s\) passed \(0 threshold failure\(s\), \d+ regression\(s\): paced, rmem\); baseline .*better\.json, tolerance 10%$/m);
    expect(readFileSync(o('r.xml'), 'utf8')).toMatch(/<failure message="recv pps regressed: [^"]*" type="regression">/);

    // A receive buffer of 4K against an unlimited sender loses: max_lost_percent 0 fails.
    const lossy = file('lossy.json', { suite: 'lossy', scenarios: [{ name: 'small-buffer', run: { bandwidth: '0', length: '1400', time: '1', receivers: '1', rcvbuf: '4K' }, thresholds: { max_lost_percent: 0 } }] });
    const r3 = await mcbench(['suite', lossy, '--local', '--junit', o('l.xml')]).done;
    expect(r3.code, r3.stderr).toBe(1);
    expect(r3.stdout).toMatch(/^small-buffer: threshold: lost [\d.]+% > max_lost_percent 0$/m);
    expect(readFileSync(o('l.xml'), 'utf8')).toMatch(/<testcase classname="mcbench\.suite\.lossy" name="small-buffer" time="[\d.]+">\n\s+<failure message="lost [\d.]+% &gt; max_lost_percent 0" type="threshold">/);

    expect(sysctls()).toEqual(before);
    expect(netnsList()).toBe(nsBefore);
    expect(restoreRecords()).toEqual([]);
  }, 60000);
});
