// The throughput search of RFC 2544 section 26.1 (RFC 3918 section 4.1 for multicast): the highest
// offered rate at which no receiver loses more than the tolerance, found by binary search between
// a rate known to pass and one known to fail. Every pass is confirmed by a repeat at the same
// rate (a lucky trial must not raise the result); one failed trial is enough to lower the bound.
// Pure: the trials themselves are src/run/ndr.ts's.

export const NDR_SCHEMA = 'mcbench/ndr@1';

/** One receiver's figures in one trial. */
export interface NdrReceiverTrial {
  guest: string;
  /** null when the receiver gave no result (counts as a failed trial) */
  expected_packets: number | null;
  lost_packets: number | null;
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
  /** every receiver lost at most the tolerance */
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

export function trialPassed(receivers: readonly NdrReceiverTrial[], lossTolerancePercent: number): boolean {
  return receivers.length > 0 && receivers.every((r) => r.lost_percent !== null && r.lost_percent <= lossTolerancePercent);
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
    if (this.trials >= this.opts.maxTrials) return null;
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
    return this.pass < this.start && this.fail - this.pass > this.opts.resolution * this.fail;
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
      if (ok && t.repeat && prevPass === t.offered_pps) lossless = Math.max(lossless, t.offered_pps);
      prevPass = ok ? t.offered_pps : null;
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
  /** who limited it: a receiver (the one that lost at first_loss), or the sender (it never lost) */
  limited_by: { kind: 'receiver'; guest: string } | { kind: 'sender' } | null;
  /** the lowest rate that lost, who lost the most there and where it was counted; null: nothing lost */
  first_loss: { offered_pps: number; guest: string; lost_percent: number; where: string | null } | null;
  /** the sender's most (the first trial's achieved rate) */
  sender_max_pps: number;
  /** the search stopped at --max-trials before the resolution */
  unresolved: boolean;
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
    gso: 'auto' | 'on' | 'off';
  };
  sizes: NdrSize[];
  partial: boolean;
}

/** Sums up one size's search. */
export function summarizeSize(length: number, gso: boolean, senderMax: number, search: NdrSearch, trials: NdrTrial[], lossTolerancePercent: number): NdrSize {
  const lossy = trials.filter((t) => !t.passed);
  const firstFail = lossy.length ? lossy.reduce((a, b) => (b.offered_pps < a.offered_pps ? b : a)) : null;
  let firstLoss: NdrSize['first_loss'] = null;
  if (firstFail) {
    const worst = firstFail.receivers.reduce((a, b) => ((b.lost_percent ?? Infinity) > (a.lost_percent ?? Infinity) ? b : a));
    firstLoss = { offered_pps: firstFail.offered_pps, guest: worst.guest, lost_percent: worst.lost_percent ?? 100, where: worst.lost_percent === null ? 'no result' : worst.loss_where };
  }
  const pass = search.pass;
  return {
    length,
    gso,
    lossless_pps: pass,
    lossless_bits_per_second: pass * length * 8,
    limited_by: firstLoss ? { kind: 'receiver', guest: firstLoss.guest } : pass > 0 ? { kind: 'sender' } : null,
    first_loss: firstLoss,
    sender_max_pps: senderMax,
    unresolved: search.unresolved,
    receivers: receiverBounds(trials, lossTolerancePercent),
    trials,
  };
}
