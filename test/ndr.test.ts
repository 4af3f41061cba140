// `mcbench ndr`: the search logic against receivers with a known threshold (pure), bad input, and
// one short search end to end in a private namespace whose answer is then checked by `run`: the
// found rate is lossless again, and a rate 20% above it loses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NDR_SCHEMA, NdrSearch, receiverBounds, summarizeSize, trialPassed, type NdrReport, type NdrTrial } from '../src/core/ndr.js';
import type { RunReport } from '../src/core/run-report.js';
import { mcbenchNoNet } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ndr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the search against receivers that lose exactly above their thresholds (pps). */
function simulate(start: number, thresholds: Record<string, number>, opts = { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 10 }, flaky?: (pps: number, n: number) => boolean) {
  const search = new NdrSearch(start, opts);
  const trials: NdrTrial[] = [];
  for (let step = search.next(); step; step = search.next()) {
    const n = trials.length;
    const receivers = Object.entries(thresholds).map(([guest, limit]) => {
      const lost = step.pps > limit || (flaky?.(step.pps, n) ?? false) ? 5 : 0;
      return { guest, expected_packets: 1000, lost_packets: lost, lost_percent: lost / 10, loss_where: lost ? 'socket buffer' : null };
    });
    const passed = trialPassed(receivers, opts.lossTolerancePercent);
    trials.push({ offered_pps: step.pps, achieved_pps: step.pps, sent: 1000, gso: false, repeat: step.repeat, passed, receivers });
    search.record(step.pps, passed);
  }
  return { search, trials, size: summarizeSize(1400, false, start, search, trials, opts.lossTolerancePercent) };
}

describe('the search (pure)', () => {
  it('converges to the lowest receiver\'s threshold within the resolution; every pass is confirmed by a repeat', () => {
    const { size, trials } = simulate(1_000_000, { g2: 300_000, g3: 123_456 });
    expect(size.lossless_pps).toBeLessThanOrEqual(123_456);
    expect(size.lossless_pps).toBeGreaterThanOrEqual(123_456 * 0.99);
    expect(size.limited_by).toEqual({ kind: 'receiver', guest: 'g3' });
    expect(size.first_loss!.guest).toBe('g3');
    expect(size.first_loss!.offered_pps).toBeGreaterThan(123_456);
    expect(size.first_loss!.offered_pps).toBeLessThanOrEqual(123_456 / 0.99 + 1);
    expect(size.unresolved).toBe(false);
    // the reported rate passed twice in a row
    const at = trials.filter((t) => t.offered_pps === size.lossless_pps);
    expect(at.map((t) => [t.repeat, t.passed])).toEqual([[false, true], [true, true]]);
    // per receiver: g2 was never seen losing below its threshold
    const g2 = size.receivers.find((r) => r.guest === 'g2')!;
    expect(g2.first_loss_pps === null || g2.first_loss_pps > 300_000).toBe(true);
    expect(g2.lossless_pps).toBeGreaterThanOrEqual(size.lossless_pps);
  });

  it('a sender that cannot make any receiver lose: the start rate is the answer, limited by the sender', () => {
    const { size, trials } = simulate(50_000, { g2: 1e9 });
    expect(trials).toHaveLength(2);
    expect(size.lossless_pps).toBe(50_000);
    expect(size.limited_by).toEqual({ kind: 'sender' });
    expect(size.first_loss).toBeNull();
  });

  it('a pass whose repeat loses counts as a failure (a lucky trial does not raise the result)', () => {
    // at 500,000 the first trial passes and the repeat loses; the threshold is really 200,000
    const { size } = simulate(1_000_000, { g2: 200_000 }, undefined, (pps, n) => pps === 500_000 && n > 1);
    expect(size.lossless_pps).toBeLessThanOrEqual(200_000);
    expect(size.lossless_pps).toBeGreaterThan(190_000);
  });

  it('tolerance: a trial passes with loss up to --loss-tolerance percent', () => {
    const r = [{ guest: 'g2', expected_packets: 1000, lost_packets: 5, lost_percent: 0.5, loss_where: null }];
    expect(trialPassed(r, 0)).toBe(false);
    expect(trialPassed(r, 0.5)).toBe(true);
    expect(trialPassed([{ ...r[0]!, lost_percent: null }], 100)).toBe(false);
    expect(trialPassed([], 0)).toBe(false);
  });

  it('--max-trials bounds the search and says it is unresolved', () => {
    const { trials, size } = simulate(1_000_000, { g2: 123_456 }, { lossTolerancePercent: 0, resolution: 0.001, maxTrials: 5, minPps: 10 });
    expect(trials).toHaveLength(5);
    expect(size.unresolved).toBe(true);
  });

  it('nothing lossless down to --min-pps: 0 and no endless search', () => {
    const { size, trials } = simulate(100_000, { g2: 5 }, { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 1000 });
    expect(size.lossless_pps).toBe(0);
    expect(trials.length).toBeLessThan(12);
    expect(trials.at(-1)!.offered_pps).toBe(1000);
  });

  it('receiverBounds: a receiver\'s lossless rate needs two passes in a row at that rate', () => {
    const t = (pps: number, repeat: boolean, lost: number): NdrTrial => ({
      offered_pps: pps, achieved_pps: pps, sent: 100, gso: false, repeat, passed: lost === 0,
      receivers: [{ guest: 'g2', expected_packets: 100, lost_packets: lost, lost_percent: lost, loss_where: null }],
    });
    expect(receiverBounds([t(100, false, 0), t(100, true, 1), t(50, false, 0), t(50, true, 0)], 0)).toEqual([{ guest: 'g2', lossless_pps: 50, first_loss_pps: 100 }]);
  });
});

describe('bad input: exit 2, one line, nothing made', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--trial', '0'], /^mcbench ndr: --trial: 0 s is out of range \(0\.1 s to 600 s\)/],
    [['--loss-tolerance', '101'], /^mcbench ndr: --loss-tolerance: 101 is out of range/],
    [['-l', '64,,1400'], /^mcbench ndr: -l\/--length: give sizes separated by commas/],
    [['-l', '20'], /^mcbench ndr: -l\/--length: 20 bytes is out of range \(32 bytes to 65507 bytes\)/],
    [['-l', '64,64'], /^mcbench ndr: -l\/--length: a size is given twice/],
    [['--gso', 'maybe'], /^mcbench ndr: --gso: 'maybe' is not one of auto, on, off/],
    [['--gso', 'on', '-l', '40000'], /^mcbench ndr: --gso on: 40000-byte datagrams leave no room for two/],
    [['--max-trials', '1'], /^mcbench ndr: --max-trials: 1 is out of range \(2 to 100\)/],
    [['--max-pps', '50', '--min-pps', '100'], /^mcbench ndr: --max-pps: 50 pps is below --min-pps/],
    [['--receivers', '16'], /^mcbench ndr: --receivers: 16 is out of range \(1 to 15\)/],
    [['--json', join(tmpdir(), 'no-such-dir-mcbench', 'x.json')], /^mcbench ndr: --json: /],
  ];
  for (const [args, want] of cases) {
    it(args.join(' '), async () => {
      const r = await mcbenchNoNet(['ndr', '--local', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

describe.skipIf(!isRoot)('ndr --local end to end', () => {
  it('a receiver behind a GSO sender: the found rate is lossless when re-run, 20% above it loses', async () => {
    const file = join(dir, 'ndr.json');
    // one receiver, an 8 MiB socket buffer (forced: whatever rmem_max another test leaves): on lo
    // the limit is the receiver's CPU (some 3 x 10^5 pps at 1400 B), above the sender's one
    // datagram per call, so the search also shows --gso auto taking over
    const r = await mcbenchNoNet(['ndr', '--local', '-l', '1400', '--trial', '0.5', '--rcvbuf', '8M', '--rcvbuf-force', '--receivers', '1',
      '--resolution', '10', '--max-trials', '9', '--json', file], 150000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as NdrReport;
    expect(report.schema).toBe(NDR_SCHEMA);
    expect(report.place).toBe('local');
    const size = report.sizes[0]!;
    expect(size.length).toBe(1400);
    expect(size.lossless_pps).toBeGreaterThan(0);
    expect(size.limited_by).toEqual({ kind: 'receiver', guest: 'g2' });
    expect(size.first_loss!.offered_pps).toBeGreaterThan(size.lossless_pps);
    expect(r.stdout).toMatch(new RegExp(`^\\s*1400\\s+(no|yes)\\s+${size.lossless_pps.toLocaleString('en-US')}\\s`, 'm'));
    // the search's own trials: the reported rate passed twice in a row
    const at = size.trials.filter((t) => t.offered_pps === size.lossless_pps && !t.gso === !size.gso);
    expect(at.filter((t) => t.passed).length).toBeGreaterThanOrEqual(2);
    // independent confirmation with `run` (the same flags, fresh namespaces)
    const confirm = async (pps: number) => {
      const f = join(dir, `run-${pps}.json`);
      const c = await mcbenchNoNet(['run', '--local', '--pps', String(pps), '-l', '1400', '-t', '0.5', '--rcvbuf', '8M', '--rcvbuf-force', '--receivers', '1',
        ...(size.gso ? ['--gso'] : []), '--json', f], 60000);
      expect(c.code === 0 || c.code === 1, c.stderr).toBe(true);
      const v = (JSON.parse(readFileSync(f, 'utf8')) as RunReport).variants[0]!;
      return v.receivers[0]!.result!.end.sum;
    };
    // The receiver's limit moves with the other work on this 2-core machine and with the bursts'
    // shape (a paced GSO burst is what is due at a wake-up): the boundary is soft. So: the found rate must be lossless in a
    // re-run (one retry), and 20% above it must lose in at least one of three runs.
    const again = [await confirm(size.lossless_pps)];
    if (again[0]!.lost_packets > 0) again.push(await confirm(size.lossless_pps));
    const above = [];
    for (let i = 0; i < 3 && !above.some((x) => x.lost_packets > 0); i++) above.push(await confirm(Math.round(size.lossless_pps * 1.2)));
    const show = (xs: typeof again) => xs.map((x) => `${x.lost_packets}/${x.expected_packets}`).join(', ');
    console.log(`ndr --local (rcvbuf 8M): lossless ${size.lossless_pps} pps in ${size.trials.length} trials; re-run lost ${show(again)}; at +20% lost ${show(above)}`);
    expect(again.at(-1)!.lost_packets).toBe(0);
    expect(above.some((x) => x.lost_packets > 0)).toBe(true);
  }, 240000);
});
