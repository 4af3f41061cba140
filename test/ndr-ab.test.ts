// The lossless rate as a compared metric (`ab --metric ndr`) and as a suite threshold
// (min_ndr_pps): the verdict and threshold logic against hand-made figures (pure), then one short
// A/B search and one suite case end to end in a private namespace, each search's trials checked
// against the sender's own count.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ndrSummary, ndrVerdict, type AbReport, type AbRun } from '../src/core/ab.js';
import { skippedSize, type NdrSize } from '../src/core/ndr.js';
import {
  checkThresholds, compareMetric, compareWithBaseline, parseBaseline, regressionFailures, regressionInconclusive, SUITE_SCHEMA, suiteMetrics, thresholdInconclusive, type SuiteReport,
} from '../src/core/suite.js';
import { trialScenario } from '../src/run/ndr.js';
import { customScenario } from '../src/run/scenarios.js';
import { parseSuite } from '../src/run/suite.js';
import { abBlocks } from '../src/report/html-data.js';
import { asDocument } from '../src/report/html-input.js';
import { mcbenchNoNet } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ndr-ab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A search's result with only the figures the verdict reads: its rate and who limited it (receiver by default). */
const size = (pps: number, limitedBy: 'sender' | 'receiver' = 'receiver'): NdrSize => ({
  ...skippedSize(1400, false, pps, 'x', []), skipped: null, lossless_pps: pps, limited_by: limitedBy === 'sender' ? { kind: 'sender' } : { kind: 'receiver', guest: 'g2' },
});
/** a sender-limited search: no receiver lost at the highest rate offered (that figure) */
const bySender = (pps: number) => ({ pps, sender: true });
type Rep = number | null | { pps: number; sender: boolean };
const runsOf = (a: Rep[], b: Rep[], warm: [number, number] | null = null): AbRun[] => {
  const out: AbRun[] = [];
  if (warm) for (const [side, pps] of [['a', warm[0]], ['b', warm[1]]] as const) out.push({ side, rep: 0, warmup: true, metrics: null, outcome: null, ndr: size(pps, 'sender') });
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    for (const [side, list] of [['a', a], ['b', b]] as const) {
      const x = list[i];
      if (x === undefined) continue;
      const ndr = x === null ? null : typeof x === 'number' ? size(x) : size(x.pps, 'sender');
      out.push({ side, rep: i + 1, warmup: false, metrics: null, outcome: null, ndr });
    }
  }
  return out;
};

describe('ab --metric ndr: the verdict (pure)', () => {
  it('B raises the lossless rate only when the repetitions\' 95% interval of the difference excludes 0', () => {
    const s = ndrSummary(runsOf([100_000, 102_000, 98_000], [150_000, 151_000, 149_000]));
    expect([s.a.n, s.a.mean, s.b.mean]).toEqual([3, 100_000, 150_000]);
    expect(s.difference.significant).toBe(true);
    expect(ndrVerdict('A', 'B', s)).toMatch(/^lossless rate: B raises the lossless rate from 100,000 to 150,000 pps \(A 100,000 ± 2,000, B 150,000 ± 1,000; difference 50,000 ± \d[\d,]* pps, 95%\)$/);
    const lower = ndrSummary(runsOf([150_000, 151_000, 149_000], [100_000, 102_000, 98_000]));
    expect(ndrVerdict('small', 'big', lower)).toMatch(/^lossless rate: big lowers the lossless rate from 150,000 to 100,000 pps/);
  });

  it('a difference within the spread is no verdict; fewer than 2 searches a side is none either', () => {
    // means 100,000 and 110,000, but the searches spread by some 50,000
    const noisy = ndrSummary(runsOf([50_000, 150_000, 100_000], [60_000, 160_000, 110_000]));
    expect(noisy.difference.significant).toBe(false);
    expect(ndrVerdict('A', 'B', noisy)).toBe('lossless rate: no difference beyond the noise (A 100,000 ± 50,000 pps, B 110,000 ± 50,000 pps)');
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf([1000], [2000])))).toMatch(/^lossless rate: fewer than 2 measured searches per side: no verdict/);
  });

  it('warm-up searches and interrupted ones do not count; a search that found no lossless rate counts as 0', () => {
    const s = ndrSummary(runsOf([1000, null, 0], [2000, 2000, 2000], [9e6, 9e6]));
    expect([s.a.n, s.a.mean, s.b.n, s.b.mean]).toEqual([2, 500, 3, 2000]);
    // a skipped size (the sender sent nothing) is no figure at all
    const skipped: AbRun = { side: 'a', rep: 4, warmup: false, metrics: null, outcome: null, ndr: skippedSize(1400, false, 0, 'the sender sent nothing', []) };
    expect(ndrSummary([...runsOf([1000, 3000], []), skipped]).a.n).toBe(2);
  });

  it('sender-limited searches (only a lower bound) on either side: inconclusive, unless the bound still proves it', () => {
    const lim = (xs: number[]) => xs.map(bySender);
    // both sides sender-limited: the sender's noise is all that differs
    const both = ndrSummary(runsOf(lim([100_000, 101_000, 99_000]), lim([120_000, 121_000, 119_000])));
    expect(both.sender_limited).toEqual({ a: 3, b: 3 });
    expect(both.difference.significant).toBe(true);
    expect(ndrVerdict('A', 'B', both)).toBe("lossless rate: inconclusive: sender-limited (A ≥ 100,000 pps (3 of 3 searches sender-limited), B ≥ 120,000 pps (3 of 3 searches sender-limited); no receiver lost at the highest rate offered, so that rate is only a lower bound)");
    // nor the other way round: both lower bounds, B's significantly below A's
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf(lim([120_000, 121_000, 119_000]), lim([100_000, 101_000, 99_000]))))).toMatch(/^lossless rate: inconclusive: sender-limited \(A ≥ 120,000 pps/);
    // A only a lower bound, B receiver-limited below it: B lowers it (A's true rate is higher still)
    const lowers = ndrSummary(runsOf(lim([100_000, 101_000, 99_000]), [50_000, 51_000, 49_000]));
    expect(ndrVerdict('A', 'B', lowers)).toMatch(/^lossless rate: B lowers the lossless rate from at least 100,000 to 50,000 pps \(A ≥ 100,000 pps \(3 of 3 searches sender-limited\), B 50,000 ± 1,000 pps; difference at least 50,000 ± \d[\d,]* pps, 95%\)$/);
    // ... but B receiver-limited above A's lower bound proves nothing (A may carry more)
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf(lim([100_000, 101_000, 99_000]), [150_000, 151_000, 149_000])))).toMatch(/^lossless rate: inconclusive: sender-limited \(A ≥ 100,000 pps \(3 of 3 searches sender-limited\), B 150,000 ± 1,000 pps;/);
    // nor does B below A within the noise
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf(lim([50_000, 150_000, 100_000]), [60_000, 140_000, 95_000])))).toMatch(/^lossless rate: inconclusive: sender-limited/);
    // symmetric: B's lower bound above a receiver-limited A raises it; below A it proves nothing
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf([50_000, 51_000, 49_000], lim([100_000, 101_000, 99_000]))))).toMatch(/^lossless rate: B raises the lossless rate from 50,000 to at least 100,000 pps \(A 50,000 ± 1,000 pps, B ≥ 100,000 pps \(3 of 3 searches sender-limited\); difference at least 50,000 ± /);
    expect(ndrVerdict('A', 'B', ndrSummary(runsOf([150_000, 151_000, 149_000], lim([100_000, 101_000, 99_000]))))).toMatch(/^lossless rate: inconclusive: sender-limited \(A 150,000 ± 1,000 pps, B ≥ 100,000 pps/);
    // one sender-limited search of three makes the side's mean a lower bound; warm-ups do not count
    const mixed = ndrSummary(runsOf([100_000, bySender(101_000), 99_000], [150_000, 151_000, 149_000], [1, 1]));
    expect(mixed.sender_limited).toEqual({ a: 1, b: 0 });
    expect(ndrVerdict('A', 'B', mixed)).toMatch(/^lossless rate: inconclusive: sender-limited \(A ≥ 100,000 pps \(1 of 3 searches sender-limited\), B 150,000 ± 1,000 pps;/);
    // a summary of an older version (no sender_limited) reads as receiver-limited
    const { sender_limited: _, ...old } = ndrSummary(runsOf([100_000, 102_000, 98_000], [150_000, 151_000, 149_000]));
    expect(ndrVerdict('A', 'B', old)).toMatch(/^lossless rate: B raises the lossless rate from 100,000 to 150,000 pps/);
  });

  it('a search trial replaces only the run\'s rate, time and GSO', () => {
    const base = customScenario({ length: '512', time: '5', bandwidth: '10M', rcvbuf: '1M', receivers: '1', gso: '8' });
    expect(trialScenario(base, 2000, false, 0.5).sendArgs).toEqual(['-l', '512', '-t', '0.5', '--pps', '2000']);
    expect(trialScenario(base, 'unlimited', true, 1).sendArgs).toEqual(['-l', '512', '-t', '1', '-b', '0', '--gso']);
    expect(trialScenario(base, 2000, false, 0.5)).toMatchObject({ recvArgs: ['--rcvbuf', '1M'], seconds: 0.5, guests: 2 });
  });
});

describe('suite min_ndr_pps (pure)', () => {
  const vm = (ndr: number | null | undefined) => ({ variant: 'custom', lost_percent: 0, recv_pps: 1000, p99_delay_ms: null, ...(ndr === undefined ? {} : { ndr_pps: ndr }) });
  it('fails below the threshold, and when the search gave no figure; passes at or above it', () => {
    expect(checkThresholds([vm(5000)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(checkThresholds([vm(4999)], { min_ndr_pps: 5000 }).map((f) => [f.kind, f.metric, f.message])).toEqual([['threshold', 'ndr_pps', 'lossless rate 4999 pps < min_ndr_pps 5000']]);
    expect(checkThresholds([vm(null)], { min_ndr_pps: 5000 }).map((f) => f.message)).toEqual(['no lossless rate measured (the search was skipped or interrupted; min_ndr_pps 5000)']);
    expect(checkThresholds([vm(undefined)], {})).toEqual([]);
  });

  it('a sender-limited search: above the threshold passes (its lower bound is above it); below it is inconclusive, not a failure', () => {
    const lim = (ndr: number | null) => ({ ...vm(ndr), ndr_limited_by: 'sender' as const });
    const rx = (ndr: number) => ({ ...vm(ndr), ndr_limited_by: 'receiver' as const });
    expect(checkThresholds([lim(6000)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(thresholdInconclusive([lim(6000)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(checkThresholds([lim(4000)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(thresholdInconclusive([lim(4000)], { min_ndr_pps: 5000 })).toEqual([{
      variant: 'custom', metric: 'ndr_pps',
      message: "lossless rate at least 4000 pps (sender-limited: no receiver lost at the highest rate offered) < min_ndr_pps 5000: inconclusive, the receivers were not reached",
    }]);
    // a receiver-limited one below fails as before; one without a figure fails, it is not inconclusive
    expect(checkThresholds([rx(4000)], { min_ndr_pps: 5000 }).map((f) => f.message)).toEqual(['lossless rate 4000 pps < min_ndr_pps 5000']);
    expect(thresholdInconclusive([rx(4000)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(thresholdInconclusive([lim(null)], { min_ndr_pps: 5000 })).toEqual([]);
    expect(checkThresholds([lim(null)], { min_ndr_pps: 5000 }).map((f) => f.kind)).toEqual(['threshold']);
    expect(thresholdInconclusive([lim(4000)], {})).toEqual([]);
    // the metrics carry who limited each variant's search
    const report = { variants: [{ name: 'a', skipped: null, sender: null, receivers: [] }, { name: 'b', skipped: null, sender: null, receivers: [] }] } as unknown as Parameters<typeof suiteMetrics>[0];
    const m = suiteMetrics(report, [{ variant: 'a', size: size(3000, 'sender') }, { variant: 'b', size: null }]);
    expect(m.map((x) => [x.ndr_pps, x.ndr_limited_by])).toEqual([[3000, 'sender'], [null, null]]);
  });

  it('against a baseline, a fall of a sender-limited lossless rate is inconclusive, not a regression; a receiver-limited one regresses', () => {
    const cur = (pps: number, by: 'sender' | 'receiver') => [{ ...vm(pps), ndr_limited_by: by }];
    const base = [{ ...vm(100_000), ndr_limited_by: 'receiver' as const }];
    const fell = compareWithBaseline(cur(50_000, 'sender'), base, 10).find((c) => c.metric === 'ndr_pps')!;
    expect([fell.regression, fell.inconclusive]).toEqual([false, true]);
    expect(regressionFailures([fell])).toEqual([]);
    expect(regressionInconclusive([fell]).map((x) => x.message)).toEqual(['lossless pps fell: 100000 pps → 50000 pps (-50.0%), beyond the allowed 10000 pps; but the search is sender-limited (a lower bound): inconclusive, not a regression']);
    const real = compareWithBaseline(cur(50_000, 'receiver'), base, 10).find((c) => c.metric === 'ndr_pps')!;
    expect([real.regression, real.inconclusive]).toEqual([true, undefined]);
    // a sender-limited baseline (a lower bound) and a lower receiver-limited figure now: still a regression
    expect(compareWithBaseline(cur(50_000, 'receiver'), [{ ...vm(100_000), ndr_limited_by: 'sender' as const }], 10).find((c) => c.metric === 'ndr_pps')!.regression).toBe(true);
    // a sender-limited figure within the tolerance is neither
    const near = compareWithBaseline(cur(95_000, 'sender'), base, 10).find((c) => c.metric === 'ndr_pps')!;
    expect([near.regression, near.inconclusive]).toEqual([false, undefined]);
  });

  it('against a baseline the lossless rate is bigger-is-better, read back from a previous report', () => {
    expect(compareMetric('custom', 'ndr_pps', 100_000, 85_000, 10).regression).toBe(true);
    expect(compareMetric('custom', 'ndr_pps', 100_000, 95_000, 10).regression).toBe(false);
    expect(compareMetric('custom', 'ndr_pps', 100_000, 200_000, 10).regression).toBe(false);
    const doc = { schema: SUITE_SCHEMA, scenarios: [{ name: 'x', metrics: [{ ...vm(1234), variant: 'custom' }] }] };
    expect(parseBaseline(doc, 'b.json').get('x')![0]!.ndr_pps).toBe(1234);
  });

  it('a case\'s `ndr:` keys are checked, naming the key; min_ndr_pps alone searches with the defaults', () => {
    const one = (e: Record<string, unknown>) => parseSuite({ suite: 's', scenarios: [{ name: 'a', run: { time: '1' }, ...e }] }, 'f.json', { local: true });
    const bad = (e: Record<string, unknown>) => { try { one(e); return 'no error'; } catch (err) { return (err as Error).message; } };
    expect(one({ thresholds: { min_ndr_pps: 1000 } }).entries[0]!.ndr).toMatchObject({ trialSeconds: 2, gso: 'auto', search: { maxTrials: 16, lossTolerancePercent: 0 } });
    expect(one({ ndr: { trial: 0.5, 'max-trials': 4, gso: 'off' } }).entries[0]!.ndr).toMatchObject({ trialSeconds: 0.5, gso: 'off', search: { maxTrials: 4 } });
    expect(one({}).entries[0]!.ndr).toBeNull();
    expect(bad({ ndr: { trial: 0 } })).toBe("f.json: scenarios[0] 'a': ndr.trial: 0 s is out of range (0.1 s to 600 s)");
    expect(bad({ ndr: { 'max-trials': 1 } })).toBe("f.json: scenarios[0] 'a': ndr.max-trials: 1 is out of range (2 to 100)");
    expect(bad({ ndr: { rate: 1 } })).toMatch(/^f\.json: scenarios\[0\] 'a': ndr\.rate: unknown key \(known: trial, /);
    expect(bad({ ndr: { gso: 'maybe' } })).toBe("f.json: scenarios[0] 'a': ndr.gso: 'maybe' is not one of auto, on, off");
    expect(bad({ ndr: 5 })).toMatch(/ndr: not an object/);
    expect(bad({ thresholds: { min_ndr_pps: -1 } })).toMatch(/thresholds\.min_ndr_pps: '-1' is not a number >= 0/);
  });
});

describe('bad input: exit 2, one line, nothing made', () => {
  const ab = ['ab', '--local', '--a', 'net.core.rmem_max=212992', '--b', 'net.core.rmem_max=4194304'];
  const cases: Array<[string[], RegExp]> = [
    [[...ab, '--metric', 'fastest'], /^mcbench ab: --metric: 'fastest' is not one of run, ndr$/],
    [[...ab, '--trial', '1'], /^mcbench ab: --trial: only with --metric ndr$/],
    [[...ab, '--metric', 'ndr', '-t', '3'], /^mcbench ab: -t\/--time: not with --metric ndr/],
    [[...ab, '--metric', 'ndr', '--pps', '1000'], /^mcbench ab: --pps: not with --metric ndr/],
    [[...ab, '--metric', 'ndr', '--gso', '8'], /^mcbench ab: --gso: with --metric ndr give --gso .* or --gso auto, not '8'$/],
    [[...ab, '--metric', 'ndr', '--trial', '0'], /^mcbench ab: --trial: 0 s is out of range/],
    [[...ab, '--metric', 'ndr', '--max-trials', '101'], /^mcbench ab: --max-trials: 101 is out of range \(2 to 100\)$/],
  ];
  for (const [args, want] of cases) {
    it(args.slice(6).join(' '), async () => {
      const r = await mcbenchNoNet(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

/** Every trial adds up to the sender's own count; a passing trial lost nothing. */
function checkTrials(s: NdrSize): void {
  expect(s.trials.length).toBeGreaterThan(0);
  for (const t of s.trials) {
    for (const x of t.receivers) expect((x.received_packets ?? 0) + (x.lost_packets ?? 0), JSON.stringify(t)).toBe(t.sent);
    if (t.passed) expect(t.receivers.every((x) => x.lost_packets === 0 && x.received_packets === t.sent)).toBe(true);
  }
  // the reported rate passed twice in a row (a trial and its repeat)
  if (s.lossless_pps > 0) expect(s.trials.filter((t) => t.offered_pps === s.lossless_pps && t.passed).length).toBeGreaterThanOrEqual(2);
}

// One receiver, --max-pps 2000 (far below what lo carries): each search is the unpaced probe, then
// 2000 pps and its repeat, so the test is short and its answer is known: 2000 pps unless a trial lost.
describe.skipIf(!isRoot)('end to end, --local', () => {
  it('ab --metric ndr: A and B each searched, interleaved; the report says what each found and the verdict follows the figures', async () => {
    const file = join(dir, 'ab.json');
    // netdev_max_backlog, not rmem_max: benches and other tests hold rmem_max for minutes
    const r = await mcbenchNoNet(['ab', '--local', '--metric', 'ndr', '--a', 'net.core.netdev_max_backlog=1000', '--b', 'net.core.netdev_max_backlog=2000',
      '--receivers', '1', '--reps', '1', '--warmup', '0', '--trial', '0.3', '--max-trials', '2', '--max-pps', '2000', '--json', file], 120000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as AbReport;
    expect(report.metric).toBe('ndr');
    expect(report.ndr_settings).toMatchObject({ length: 1400, trial_seconds: 0.3, max_trials: 2, gso: 'off' });
    expect(report.runs.map((x) => x.side)).toEqual(['a', 'b']);
    for (const run of report.runs) {
      checkTrials(run.ndr!);
      expect(run.ndr!.lossless_pps).toBeLessThanOrEqual(2000);
      expect(run.ndr!.trials.every((t) => t.receivers.length === 1 && t.receivers[0]!.guest === 'g2')).toBe(true);
    }
    const s = report.summary.ndr_pps!;
    expect([s.a.n, s.b.n]).toEqual([1, 1]);
    expect([s.a.mean, s.b.mean]).toEqual([report.runs[0]!.ndr!.lossless_pps, report.runs[1]!.ndr!.lossless_pps]);
    expect(report.verdict).toEqual([expect.stringMatching(/^lossless rate: fewer than 2 measured searches per side: no verdict/) as unknown]);
    expect(r.stdout).toMatch(/^side\s+searches\s+lossless pps \(mean ± σ\)/m);
    expect(r.stdout).toMatch(new RegExp(`^A\\s+1\\s+${report.runs[0]!.ndr!.lossless_pps.toLocaleString('en-US')} ± 0\\s`, 'm'));
    // the HTML report reads the document and draws each search's lossless rate
    expect(asDocument(JSON.parse(readFileSync(file, 'utf8')), file).kind).toBe('ab');
    const block = abBlocks(report, file)[0]!;
    const chart = block.charts.find((c) => c.title.startsWith('lossless rate'))!;
    expect(chart.series.filter((x) => x.style === 'points').flatMap((x) => x.values.filter((v) => v !== null)).sort()).toEqual(report.runs.map((x) => x.ndr!.lossless_pps).sort());
    expect(block.tables.map((t) => t.caption)).toContain('every search');
    console.log(`ab --metric ndr: A ${s.a.mean} pps, B ${s.b.mean} pps in ${report.runs.reduce((n, x) => n + x.ndr!.trials.length, 0)} trials`);
  }, 150000);

  // --max-pps 2000 caps the search far below what lo carries: unless a trial lost, the search is
  // sender-limited and a threshold above it is inconclusive (exit 0, JUnit skipped); a receiver that
  // lost makes it an honest failure (exit 1). Each branch checks what its limited_by implies.
  it('suite min_ndr_pps: the case runs the search after its run; below the threshold it is inconclusive when sender-limited, a failure when receiver-limited; every output shows the rate', async () => {
    const suite = join(dir, 'ndr.yaml');
    writeFileSync(suite, [
      'suite: ndr',
      'scenarios:',
      '  - name: lossless',
      '    run: { pps: 1000, length: 200, time: 0.3, receivers: 1, rcvbuf: 1M }',
      '    ndr: { trial: 0.3, max-trials: 2, max-pps: 2000, gso: off }',
      '    thresholds: { min_ndr_pps: 10000000 }',
      '',
    ].join('\n'));
    const out = (x: string) => join(dir, x);
    const r = await mcbenchNoNet(['suite', suite, '--local', '--json', out('s.json'), '--junit', out('j.xml'), '--markdown', out('m.md'), '--benchmark-bigger-json', out('b.json')], 120000);
    const report = JSON.parse(readFileSync(out('s.json'), 'utf8')) as SuiteReport;
    const c = report.scenarios[0]!;
    expect(c.report.variants).toHaveLength(1);
    const found = c.ndr![0]!.size!;
    checkTrials(found);
    expect(found.length).toBe(200);
    expect(found.lossless_pps).toBeLessThanOrEqual(2000);
    expect(c.metrics[0]!.ndr_pps).toBe(found.lossless_pps);
    expect(c.metrics[0]!.ndr_limited_by).toBe(found.limited_by?.kind ?? null);
    // the search's own classification, against its trials: sender-limited exactly when no paced trial saw a receiver lose
    const paced = found.trials.filter((t) => t.offered_pps > 0 && t.offered_pps <= 2000);
    const receiverLost = paced.some((t) => t.receivers.some((x) => x.lost_packets !== 0));
    const junit = readFileSync(out('j.xml'), 'utf8');
    const md = readFileSync(out('m.md'), 'utf8');
    expect(junit).toContain(`<property name="lossless lossless pps" value="${found.lossless_pps}"/>`);
    if (found.limited_by?.kind === 'sender') {
      expect(receiverLost, JSON.stringify(paced)).toBe(false);
      expect(r.code, r.stderr).toBe(0);
      expect([c.passed, c.failures]).toEqual([true, []]);
      const msg = `lossless rate at least ${found.lossless_pps} pps (sender-limited: no receiver lost at the highest rate offered) < min_ndr_pps 10000000: inconclusive, the receivers were not reached`;
      expect(c.inconclusive!.map((x) => x.message)).toEqual([msg]);
      expect(r.stdout).toMatch(new RegExp(`^lossless\\s+\\S+\\s+\\S+\\s+(?:n/a|\\S+ ms)\\s+${found.lossless_pps}\\s+inconclusive$`, 'm'));
      expect(r.stdout).toContain(`lossless: inconclusive: ${msg}`);
      expect(r.stdout).toMatch(/^suite ndr: PASS: 1\/1 scenario\(s\) passed; 1 threshold\(s\) inconclusive: lossless$/m);
      expect(junit).toContain('skipped="1"');
      expect(junit).toContain(`<skipped message="inconclusive: ${msg.replace('<', '&lt;')}"/>`);
      expect(md).toMatch(new RegExp(`\\| lossless pps \\|[\\s\\S]*\\| ${found.lossless_pps} \\| inconclusive \\|`));
      expect(md).toContain('### Inconclusive');
    } else {
      expect(receiverLost, JSON.stringify(paced)).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(c.failures.map((f) => f.message)).toEqual([`lossless rate ${found.lossless_pps} pps < min_ndr_pps 10000000`]);
      expect(r.stdout).toMatch(new RegExp(`^lossless\\s+\\S+\\s+\\S+\\s+(?:n/a|\\S+ ms)\\s+${found.lossless_pps}\\s+FAIL \\(threshold\\)`, 'm'));
      expect(md).toMatch(new RegExp(`\\| lossless pps \\|[\\s\\S]*\\| ${found.lossless_pps} \\| \\*\\*FAIL`));
    }
    console.log(`suite min_ndr_pps: ${found.lossless_pps} pps, limited by ${found.limited_by?.kind ?? 'none'}, exit ${r.code}`);
    expect(JSON.parse(readFileSync(out('b.json'), 'utf8'))).toContainEqual(expect.objectContaining({ name: 'lossless lossless rate', unit: 'pps', value: found.lossless_pps }));
  }, 150000);
});
