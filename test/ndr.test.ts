// `mcbench ndr`: the search logic against receivers with a known threshold (pure), bad input, and
// one short search end to end in a private namespace, each of its trials checked against the
// sender's own count.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  NDR_SCHEMA,
  NdrSearch,
  receiverBounds,
  receiverTrial,
  searchStart,
  senderLimited,
  skippedSize,
  summarizeSize,
  trialPassed,
  type NdrReport,
  type NdrTrial,
} from '../src/core/ndr.js';
import { trialFlags, type NdrPlan } from '../src/run/ndr.js';
import { customScenario } from '../src/run/scenarios.js';
import { mcbenchNoNet } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ndr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the search against receivers that lose exactly above their thresholds (pps), behind a sender
 * that reaches at most `senderCap` pps (its trials judged as src/run/ndr.ts judges them).
 */
function simulate(
  start: number,
  thresholds: Record<string, number>,
  opts = { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 10 },
  flaky?: (pps: number, n: number) => boolean,
  senderCap = Infinity,
) {
  const search = new NdrSearch(start, opts);
  const trials: NdrTrial[] = [];
  for (let step = search.next(); step; step = search.next()) {
    const n = trials.length;
    const achieved = Math.min(step.pps, senderCap);
    const sent = 1000;
    const receivers = Object.entries(thresholds).map(([guest, limit]) => {
      const lost = achieved > limit || (flaky?.(step.pps, n) ?? false) ? 5 : 0;
      return receiverTrial(guest, sent, { expected_packets: sent, packets: sent - lost, lost_packets: lost }, lost ? 'socket buffer' : null);
    });
    const short = senderLimited(step.pps, achieved);
    const passed = !short && trialPassed(receivers, opts.lossTolerancePercent);
    trials.push({ offered_pps: step.pps, achieved_pps: achieved, sent, gso: false, repeat: step.repeat, sender_limited: short, passed, receivers });
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
    const r = [{ guest: 'g2', expected_packets: 1000, received_packets: 995, lost_packets: 5, lost_percent: 0.5, loss_where: null }];
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
      offered_pps: pps, achieved_pps: pps, sent: 100, gso: false, repeat, sender_limited: false, passed: lost === 0,
      receivers: [{ guest: 'g2', expected_packets: 100, received_packets: 100 - lost, lost_packets: lost, lost_percent: lost, loss_where: null }],
    });
    expect(receiverBounds([t(100, false, 0), t(100, true, 1), t(50, false, 0), t(50, true, 0)], 0)).toEqual([{ guest: 'g2', lossless_pps: 50, first_loss_pps: 100 }]);
    // passes at a rate the sender did not reach are no lossless rate
    const short = (x: NdrTrial): NdrTrial => ({ ...x, sender_limited: true, passed: false });
    expect(receiverBounds([short(t(100, false, 0)), t(100, true, 0)], 0)).toEqual([{ guest: 'g2', lossless_pps: 0, first_loss_pps: null }]);
  });

  it('a receiver that received nothing fails the trial: its loss is the sender\'s count, not 0% of nothing expected', () => {
    // a snooping bridge that forwards nothing: the receiver expected 0, lost 0 by its own count
    const none = receiverTrial('g2', 1000, { expected_packets: 0, packets: 0, lost_packets: 0 }, null);
    expect(none).toEqual({ guest: 'g2', expected_packets: 0, received_packets: 0, lost_packets: 1000, lost_percent: 100, loss_where: 'nothing received' });
    expect(trialPassed([none], 0)).toBe(false);
    expect(trialPassed([none], 100)).toBe(false); // even at the widest tolerance
    // the other receiver got everything: the group still fails
    const all = receiverTrial('g3', 1000, { expected_packets: 1000, packets: 1000, lost_packets: 0 }, null);
    expect(trialPassed([all], 0)).toBe(true);
    expect(trialPassed([all, none], 0)).toBe(false);
    // no result at all
    const missing = receiverTrial('g4', 1000, null, null);
    expect(missing.lost_percent).toBeNull();
    expect(trialPassed([all, missing], 100)).toBe(false);
    // joined late: it expected 600 of the 1000 sent and got them all; RFC 2544 loss is 400 of 1000
    const late = receiverTrial('g5', 1000, { expected_packets: 600, packets: 600, lost_packets: 0 }, null);
    expect([late.lost_packets, late.lost_percent, late.loss_where]).toEqual([400, 40, 'not expected by the receiver']);
    expect(trialPassed([late], 0)).toBe(false);
    // never less than the receiver's own count (a stray datagram from elsewhere does not hide a loss)
    const own = receiverTrial('g6', 1000, { expected_packets: 1000, packets: 1001, lost_packets: 3 }, 'socket buffer');
    expect([own.lost_packets, own.loss_where]).toEqual([3, 'socket buffer']);
    // a sender that sent nothing: nothing to judge the receiver by
    expect(trialPassed([receiverTrial('g2', 0, { expected_packets: 0, packets: 0, lost_packets: 0 }, null)], 100)).toBe(false);
  });

  it('a sender short of the offered rate is not a pass: the search goes below what it reaches, limited by the sender', () => {
    expect(senderLimited(1000, 989)).toBe(true);
    expect(senderLimited(1000, 990)).toBe(false);
    // the unpaced probe reached 100,000 but paced the sender makes at most 80,000; no receiver loses
    const { size, trials } = simulate(100_000, { g2: 1e9 }, undefined, undefined, 80_000);
    expect(trials[0]).toMatchObject({ offered_pps: 100_000, achieved_pps: 80_000, sender_limited: true, passed: false });
    for (const t of trials) expect(t.sender_limited).toBe(t.offered_pps > 80_000 / 0.99);
    expect(trials.filter((t) => t.passed).every((t) => t.offered_pps <= 80_000 / 0.99)).toBe(true);
    expect(size.lossless_pps).toBeLessThanOrEqual(80_000 / 0.99);
    expect(size.lossless_pps).toBeGreaterThanOrEqual(80_000 * 0.99);
    expect(size.limited_by).toEqual({ kind: 'sender' });
    expect(size.first_loss).toBeNull();
    // a receiver that loses below the sender's cap still limits it
    const r = simulate(100_000, { g2: 50_000 }, undefined, undefined, 80_000).size;
    expect(r.limited_by).toEqual({ kind: 'receiver', guest: 'g2' });
    expect(r.lossless_pps).toBeLessThanOrEqual(50_000);
  });

  it('small rates: a search whose bounds are one apart stops (no repeats of the failing rate until --max-trials)', () => {
    // pass 10, fail 11: mid rounds to 11, the failing rate
    const { size, trials } = simulate(11, { g2: 10 }, { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 1 });
    expect(size.lossless_pps).toBe(10);
    expect(size.unresolved).toBe(false);
    expect(trials.filter((t) => t.offered_pps === 11)).toHaveLength(1);
    expect(trials.length).toBeLessThan(15);
    // every rate tried at most twice (a trial and its repeat)
    const counts = new Map<number, number>();
    for (const t of trials) counts.set(t.offered_pps, (counts.get(t.offered_pps) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
  });

  it('a start of 0 (a failed probe) is never tried as a rate: the size is skipped with the reason', () => {
    expect(new NdrSearch(0, { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 10 }).next()).toBeNull();
    expect(new NdrSearch(0, { lossTolerancePercent: 0, resolution: 0.01, maxTrials: 40, minPps: 10 }).unresolved).toBe(false);
    expect(searchStart({ sent: 0, achieved_pps: 0 }, null, 10)).toEqual({ start: 0, skipped: expect.stringMatching(/probe sent nothing/) as unknown });
    expect(searchStart({ sent: 40, achieved_pps: 80.4 }, null, 100)).toEqual({ start: 0, skipped: 'the sender\'s most, 80 pps, is below --min-pps 100' });
    expect(searchStart({ sent: 5000, achieved_pps: 10_000.4 }, null, 100)).toEqual({ start: 10_000, skipped: null });
    expect(searchStart({ sent: 5000, achieved_pps: 10_000 }, 2000, 100)).toEqual({ start: 2000, skipped: null });
    const s = skippedSize(1400, false, 0, 'why', []);
    expect([s.lossless_pps, s.limited_by, s.unresolved, s.skipped]).toEqual([0, null, false, 'why']);
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
    [['--coalesce', '5000'], /^mcbench ndr: --coalesce: 5,?000 is out of range \(0 to 1,?000\)/],
    [['--max-pps', '50', '--min-pps', '100'], /^mcbench ndr: --max-pps: 50 pps is below --min-pps/],
    [['--receivers', '16'], /^mcbench ndr: --receivers: 16 is out of range \(1 to 15\)/],
    [['--json', join(tmpdir(), 'no-such-dir-mcbench', 'x.json')], /^mcbench ndr: --json: /],
    // an SSM group needs --source, which ndr passes to its receivers, checked like recv's
    [['-g', '232.1.1.1'], /^mcbench ndr: --source: 232.1.1.1 is a source-specific group .*--source ADDR/],
    [['-g', '232.1.1.1', '--source', '239.1.1.1'], /^mcbench ndr: --source: 239.1.1.1 is not a unicast address/],
    [['-g', '232.1.1.1', '--source', 'fd00::1'], /^mcbench ndr: --source: fd00::1 is not an IPv4 address like the group/],
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

describe('ndr passes the receivers\' flags to every trial', () => {
  const plan = (over: Partial<NdrPlan>): NdrPlan => ({
    group: '239.255.0.1', port: 5001, lengths: [64], trialSeconds: 1, receivers: 2, rcvbuf: '8M', rcvbufForce: true, coalesce: null, gro: false,
    sources: [], gso: 'auto', maxPps: null, search: { lossTolerancePercent: 0, resolution: 0.02, maxTrials: 16, minPps: 100 }, ...over,
  } as NdrPlan);
  it('--coalesce and --gro reach the receivers\' recv flags; without them recv\'s defaults apply', () => {
    expect(customScenario(trialFlags(plan({ coalesce: '0', gro: true }), 64)).recvArgs).toEqual(['--rcvbuf', '8M', '--rcvbuf-force', '--coalesce', '0', '--gro']);
    expect(customScenario(trialFlags(plan({}), 1400)).recvArgs).toEqual(['--rcvbuf', '8M', '--rcvbuf-force']);
  });
});

describe.skipIf(!isRoot)('ndr over SSM in a lab', () => {
  it('-g 232.x --source sender: the receivers join (S,G) for the sending guest, every paced trial delivered in full', async () => {
    const file = join(dir, 'ndr-ssm.json');
    const r = await mcbenchNoNet(['ndr', '-g', '232.1.1.77', '--source', 'sender', '-l', '1400', '--trial', '0.3', '--receivers', '1',
      '--max-trials', '3', '--max-pps', '3000', '--lab-name', 'ndrssm', '--json', file], 120000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as NdrReport;
    expect(report.place).toBe('lab');
    expect(report.settings.sources).toEqual(['sender']);
    const size = report.sizes[0]!;
    const paced = size.trials.filter((t) => t.offered_pps === 3000);
    expect(paced.length).toBeGreaterThanOrEqual(2);
    // against the sender's own count: the (S,G) receiver got every datagram
    for (const t of paced) expect(t.receivers.map((x) => [x.received_packets, x.lost_packets])).toEqual([[t.sent, 0]]);
    expect(size.lossless_pps).toBe(3000);
    console.log(`ndr -g 232.1.1.77 --source sender: ${paced.map((t) => `${t.receivers[0]!.received_packets}/${t.sent}`).join(', ')} at 3000 pps`);
  }, 150000);
});

describe.skipIf(!isRoot)('ndr --local end to end', () => {
  it('a receiver behind a GSO sender: every trial adds up to the sender\'s count, the answer passed twice, a rate above it lost at the receiver', async () => {
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
    // the settings as the receivers took them: 8M is bytes (it was null before), recv's default coalescing
    expect(report.settings).toMatchObject({ rcvbuf: 8 * 1024 * 1024, coalesce_us: 500, gro: false });
    const size = report.sizes[0]!;
    expect(size.length).toBe(1400);
    expect(size.lossless_pps).toBeGreaterThan(0);
    expect(size.limited_by).toEqual({ kind: 'receiver', guest: 'g2' });
    expect(size.first_loss!.offered_pps).toBeGreaterThan(size.lossless_pps);
    expect(r.stdout).toMatch(new RegExp(`^\\s*1400\\s+(no|yes)\\s+${size.lossless_pps.toLocaleString('en-US')}\\s`, 'm'));
    // the search's own trials: the reported rate passed twice in a row
    const at = size.trials.filter((t) => t.offered_pps === size.lossless_pps && !t.gso === !size.gso);
    expect(at.filter((t) => t.passed).length).toBeGreaterThanOrEqual(2);
    // Every trial against the sender's own count: what the receiver got plus what it lost is what
    // was sent; a pass lost nothing; the first loss above the answer was counted at the receiver.
    for (const t of size.trials) {
      for (const x of t.receivers) expect((x.received_packets ?? 0) + (x.lost_packets ?? 0), JSON.stringify(t)).toBe(t.sent);
      if (t.passed) expect(t.receivers.every((x) => x.lost_packets === 0 && x.received_packets === t.sent)).toBe(true);
    }
    const failed = size.trials.filter((t) => !t.passed && !t.sender_limited && t.offered_pps > size.lossless_pps);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((t) => t.receivers.some((x) => (x.lost_packets ?? 0) > 0))).toBe(true);
    // No independent re-run here: on lo the receiver's limit is its CPU, which moves with the
    // other work on a 2-core machine and with the paced GSO bursts' shape (a re-run at the found
    // rate lost 0.1-1% in about one CI run in three); the search's repeat is the confirmation.
    console.log(`ndr --local (rcvbuf 8M): lossless ${size.lossless_pps} pps in ${size.trials.length} trials; first loss at ${size.first_loss!.offered_pps}`);
  }, 240000);
});
