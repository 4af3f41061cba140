// The throughput search of RFC 2544 section 26.1 (RFC 3918 section 4.1 for multicast): the highest
// offered rate at which no receiver loses more than the tolerance, found by binary search between
// a rate known to pass and one known to fail. Every pass is confirmed by a repeat at the same
// rate (a lucky trial must not raise the result); one failed trial is enough to lower the bound.
// Pure: the trials themselves are src/run/ndr.ts's.

import { UsageError } from './errors.js';
import { inRange, parseCount, parsePercent, parseRate, parseSeconds } from './units.js';

export const NDR_SCHEMA = 'mcbench/ndr@1';

/** One receiver's figures in one trial. */
export interface NdrReceiverTrial {
  guest: string;
  /** what the receiver expected (RFC 7680: sent while it listened); null when it gave no result (a failed trial) */
  expected_packets: number | null;
  /** unique datagrams it received; null without a result. 0 while the sender sent fails the trial */
  received_packets: number | null;
  /** RFC 2544 frame loss: the sender's sent minus this receiver's unique received (never less than the
   * receiver's own count); null without a result or when the sender sent nothing */
  lost_packets: number | null;
  /** 100 x lost_packets / the sender's sent */
  lost_percent: number | null;
  /** where this receiver's loss was counted (socket buffer, backlog, interface, unaccounted); null without loss */
  loss_where: string | null;
}

/** One trial: the sender offered `offered_pps` for the trial's seconds. */
export interface NdrTrial {
  offered_pps: number;
  /** the rate the sender reached (its own count over its send span) */
  achieved_pps: number;
  /** datagrams the sender sent */
  sent: number;
  gso: boolean;
  /** a repeat at the same rate, confirming the one before */
  repeat: boolean;
  /** the sender reached less than SENDER_SHORTFALL x offered_pps: the trial says nothing about the
   * offered rate and does not pass */
  sender_limited: boolean;
  /** the sender reached the offered rate and every receiver lost at most the tolerance */
  passed: boolean;
  receivers: NdrReceiverTrial[];
}

/** The search's settings (the flags, checked). */
export interface NdrSearchOptions {
  /** the highest loss a passing trial may have, percent (RFC 2544: 0) */
  lossTolerancePercent: number;
  /** stop when the gap between passing and failing rates is at most this share of the failing one */
  resolution: number;
  /** most trials per size, repeats included */
  maxTrials: number;
  /** the lowest rate worth trying, pps: below it the search reports no lossless rate */
  minPps: number;
}

/** A paced trial whose sender reached less than this share of the offered rate is sender-limited. */
export const SENDER_SHORTFALL = 0.99;

export function senderLimited(offeredPps: number, achievedPps: number): boolean {
  return achievedPps < SENDER_SHORTFALL * offeredPps;
}

/** The receiver's own counts in one trial (its result's end.sum); null when it gave none. */
export interface ReceiverCounts {
  expected_packets: number;
  /** unique datagrams received */
  packets: number;
  lost_packets: number;
}

/**
 * One receiver's figures judged the RFC 2544 (section 26.3) way, against the sender's own count: a
 * receiver that expected nothing (it saw nothing, e.g. behind a bridge that forwards nothing) has
 * lost everything the sender sent, not 0%.
 */
export function receiverTrial(guest: string, sent: number, counts: ReceiverCounts | null, lossWhere: string | null): NdrReceiverTrial {
  if (counts === null) return { guest, expected_packets: null, received_packets: null, lost_packets: null, lost_percent: null, loss_where: null };
  const lost = sent > 0 ? Math.max(sent - counts.packets, counts.lost_packets, 0) : null;
  return {
    guest,
    expected_packets: counts.expected_packets,
    received_packets: counts.packets,
    lost_packets: lost,
    lost_percent: lost === null ? null : (100 * lost) / sent,
    // loss the receiver did not count itself (it never expected those datagrams)
    loss_where: lost === null || lost === 0 ? null : (lossWhere ?? (counts.packets === 0 ? 'nothing received' : 'not expected by the receiver')),
  };
}

export function trialPassed(receivers: readonly NdrReceiverTrial[], lossTolerancePercent: number): boolean {
  return (
    receivers.length > 0 &&
    receivers.every((r) => r.lost_percent !== null && r.received_packets !== null && r.received_packets > 0 && r.lost_percent <= lossTolerancePercent)
  );
}

/**
 * Where the search starts from the sender's unpaced probe: its achieved rate (or --max-pps when
 * lower). A probe that sent nothing, or whose rate is below --min-pps, leaves nothing to search
 * (a start of 0 would be an unpaced trial): the size is skipped, with the reason.
 */
export function searchStart(probe: Pick<NdrTrial, 'sent' | 'achieved_pps'>, maxPps: number | null, minPps: number): { start: number; skipped: null } | { start: 0; skipped: string } {
  const most = Math.round(probe.achieved_pps);
  if (probe.sent === 0 || most === 0) return { start: 0, skipped: 'the sender\'s unpaced probe sent nothing (no sender result)' };
  if (most < minPps) return { start: 0, skipped: `the sender's most, ${most} pps, is below --min-pps ${minPps}` };
  return { start: maxPps !== null ? Math.min(maxPps, most) : most, skipped: null };
}

/**
 * The binary search's state: `pass` the highest rate confirmed lossless (0 = none yet), `fail`
 * the lowest rate seen to lose. next() is the rate of the next trial and whether it is a repeat;
 * null when the search is done.
 */
export class NdrSearch {
  pass = 0;
  fail: number;
  trials = 0;
  private pending: number | null = null; // a rate that passed once and awaits its repeat

  constructor(
    /** the first rate tried: the sender's most (RFC 2544 starts at the medium's maximum) */
    readonly start: number,
    private readonly opts: NdrSearchOptions,
  ) {
    this.fail = start;
  }

  /** The first trial is at the start rate; a start that passes (and repeats) is the answer. */
  private started = false;

  next(): { pps: number; repeat: boolean } | null {
    return this.trials >= this.opts.maxTrials ? null : this.step();
  }

  /** the next trial regardless of --max-trials */
  private step(): { pps: number; repeat: boolean } | null {
    if (this.start <= 0) return null; // nothing to search (a rate of 0 would be unpaced)
    if (this.pending !== null) return { pps: this.pending, repeat: true };
    if (!this.started) return { pps: this.start, repeat: false };
    if (this.pass >= this.start) return null;
    if (this.fail - this.pass <= this.opts.resolution * this.fail) return null;
    const mid = Math.round((this.pass + this.fail) / 2);
    if (mid < this.opts.minPps) {
      // below the floor: try the floor once; if it fails too, there is no lossless rate here
      if (this.fail <= this.opts.minPps) return null;
      return { pps: this.opts.minPps, repeat: false };
    }
    // no whole rate strictly between the bounds (small rates): trying mid again would only repeat one
    if (mid <= this.pass || mid >= this.fail) return null;
    return { pps: mid, repeat: false };
  }

  record(pps: number, passed: boolean): void {
    this.trials++;
    this.started = true;
    if (!passed) {
      this.pending = null;
      this.fail = Math.min(this.fail, pps);
      if (this.fail <= this.pass) this.pass = 0; // a confirmed pass that loses now: noise; search below
      return;
    }
    if (this.pending === null) {
      this.pending = pps;
      return;
    }
    this.pending = null;
    this.pass = Math.max(this.pass, pps);
  }

  /** the search ran out of trials before it reached the resolution */
  get unresolved(): boolean {
    return this.step() !== null;
  }
}

/** A receiver's bounds from the group's trials: its highest confirmed-lossless rate, its lowest lossy one. */
export interface NdrReceiverBounds {
  guest: string;
  /** the highest rate at which this receiver passed twice in a row (0: none) */
  lossless_pps: number;
  /** the lowest rate at which it lost more than the tolerance; null: it never did */
  first_loss_pps: number | null;
}

export function receiverBounds(trials: readonly NdrTrial[], lossTolerancePercent: number): NdrReceiverBounds[] {
  const guests = [...new Set(trials.flatMap((t) => t.receivers.map((r) => r.guest)))];
  return guests.map((guest) => {
    let lossless = 0;
    let firstLoss: number | null = null;
    let prevPass: number | null = null;
    for (const t of trials) {
      const r = t.receivers.find((x) => x.guest === guest);
      const ok = r !== undefined && trialPassed([r], lossTolerancePercent);
      if (!ok) firstLoss = firstLoss === null ? t.offered_pps : Math.min(firstLoss, t.offered_pps);
      // a sender-limited trial never offered its rate: no pass there for anyone
      if (ok && !t.sender_limited && t.repeat && prevPass === t.offered_pps) lossless = Math.max(lossless, t.offered_pps);
      prevPass = ok && !t.sender_limited ? t.offered_pps : null;
    }
    return { guest, lossless_pps: lossless, first_loss_pps: firstLoss };
  });
}

/** The result for one datagram size. */
export interface NdrSize {
  length: number;
  /** the search's trials were sent with UDP GSO */
  gso: boolean;
  /** the highest confirmed rate with loss <= tolerance at every receiver, pps; 0 = none found */
  lossless_pps: number;
  /** lossless_pps x length x 8 (UDP payload bits) */
  lossless_bits_per_second: number;
  /** who limited it: a receiver (the one that lost at first_loss), or the sender (no receiver lost,
   * or the lowest failed trial was sender-limited: the sender could not offer that rate) */
  limited_by: { kind: 'receiver'; guest: string } | { kind: 'sender' } | null;
  /** the lowest rate at which a receiver lost (or gave no result), who lost the most there and where
   * it was counted; null: no receiver lost */
  first_loss: { offered_pps: number; guest: string; lost_percent: number; where: string | null } | null;
  /** the sender's most (the first trial's achieved rate) */
  sender_max_pps: number;
  /** the search stopped at --max-trials before the resolution */
  unresolved: boolean;
  /** why the size was not searched (the sender's probe sent nothing, or less than --min-pps); null when it was */
  skipped: string | null;
  receivers: NdrReceiverBounds[];
  trials: NdrTrial[];
}

export interface NdrReport {
  schema: typeof NDR_SCHEMA;
  started: string;
  place: 'lab' | 'local' | 'ssh';
  settings: {
    lengths: number[];
    trial_seconds: number;
    loss_tolerance_percent: number;
    resolution: number;
    max_trials: number;
    receivers: number;
    rcvbuf: number | null;
    /** the receivers' --coalesce, us (recv's default when not given) */
    coalesce_us: number;
    /** the receivers' --gro */
    gro: boolean;
    gso: 'auto' | 'on' | 'off';
    /** the receivers' --source (SSM (S,G) joins) as given, 'sender' for the sending host's address; empty: any-source joins */
    sources: string[];
  };
  sizes: NdrSize[];
  partial: boolean;
}

/** Sums up one size's search. */
export function summarizeSize(length: number, gso: boolean, senderMax: number, search: NdrSearch, trials: NdrTrial[], lossTolerancePercent: number): NdrSize {
  const lowest = (ts: NdrTrial[]) => (ts.length ? ts.reduce((a, b) => (b.offered_pps < a.offered_pps ? b : a)) : null);
  // a receiver's loss, not a sender that fell short: a receiver that failed on its own
  const receiverLost = (t: NdrTrial) => t.receivers.some((r) => !trialPassed([r], lossTolerancePercent));
  const firstFail = lowest(trials.filter((t) => !t.passed));
  const firstLossTrial = lowest(trials.filter((t) => !t.passed && receiverLost(t)));
  let firstLoss: NdrSize['first_loss'] = null;
  if (firstLossTrial) {
    const worst = firstLossTrial.receivers.reduce((a, b) => ((b.lost_percent ?? Infinity) > (a.lost_percent ?? Infinity) ? b : a));
    firstLoss = { offered_pps: firstLossTrial.offered_pps, guest: worst.guest, lost_percent: worst.lost_percent ?? 100, where: worst.lost_percent === null ? 'no result' : worst.loss_where };
  }
  const pass = search.pass;
  const senderBound = firstFail !== null && firstFail.sender_limited && !receiverLost(firstFail);
  return {
    length,
    gso,
    lossless_pps: pass,
    lossless_bits_per_second: pass * length * 8,
    limited_by: senderBound ? { kind: 'sender' } : firstLoss ? { kind: 'receiver', guest: firstLoss.guest } : pass > 0 ? { kind: 'sender' } : null,
    first_loss: firstLoss,
    sender_max_pps: senderMax,
    unresolved: search.unresolved,
    skipped: null,
    receivers: receiverBounds(trials, lossTolerancePercent),
    trials,
  };
}

/** A size that was not searched: why, and the probe trials that showed it. */
export function skippedSize(length: number, gso: boolean, senderMax: number, reason: string, trials: NdrTrial[]): NdrSize {
  return {
    length,
    gso,
    lossless_pps: 0,
    lossless_bits_per_second: 0,
    limited_by: null,
    first_loss: null,
    sender_max_pps: senderMax,
    unresolved: false,
    skipped: reason,
    receivers: [],
    trials,
  };
}

/** The search's flags as given (mcbench ndr's, ab --metric ndr's, a suite case's `ndr:` keys). */
export interface NdrSearchFlags {
  trial?: unknown;
  'loss-tolerance'?: unknown;
  resolution?: unknown;
  'max-trials'?: unknown;
  'min-pps'?: unknown;
  'max-pps'?: unknown;
}

/** The search's flags checked: each trial's seconds, where it may start, its rules. */
export function parseSearchFlags(a: NdrSearchFlags): { trialSeconds: number; maxPps: number | null; search: NdrSearchOptions } {
  const minPps = a['min-pps'] === undefined ? 100 : inRange('--min-pps', parseRate('--min-pps', a['min-pps']), 1, 1e8, ' pps');
  const maxPps = a['max-pps'] === undefined ? null : inRange('--max-pps', parseRate('--max-pps', a['max-pps']), 1, 1e8, ' pps');
  if (maxPps !== null && maxPps < minPps) throw new UsageError(`--max-pps: ${maxPps} pps is below --min-pps (${minPps} pps)`);
  return {
    trialSeconds: a.trial === undefined ? 2 : inRange('--trial', parseSeconds('--trial', a.trial), 0.1, 600, ' s'),
    maxPps,
    search: {
      lossTolerancePercent: a['loss-tolerance'] === undefined ? 0 : parsePercent('--loss-tolerance', a['loss-tolerance'], 100),
      resolution: (a.resolution === undefined ? 2 : inRange('--resolution', parsePercent('--resolution', a.resolution, 50), 0.1, 50, '%')) / 100,
      maxTrials: a['max-trials'] === undefined ? 16 : inRange('--max-trials', parseCount('--max-trials', a['max-trials']), 2, 100),
      minPps,
    },
  };
}
