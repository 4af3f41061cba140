// How far a receiver's clock is from the sender's, from an NTP-style exchange of four stamps
// (RFC 5905 §8): t1 the client sends, t2 the server receives, t3 the server answers, t4 the
// client receives. offset = ((t2 - t1) + (t3 - t4)) / 2 is the server's clock minus the client's,
// delay = (t4 - t1) - (t3 - t2) the round trip without the server's own time. Whatever the path's
// asymmetry, the true offset lies within ±delay/2 of the estimate, so the sample with the smallest
// round trip gives the tightest bound. Pure.

/** One exchange, each stamp in ns of CLOCK_REALTIME on its own host. */
export interface ClockSample {
  t1: bigint;
  t2: bigint;
  t3: bigint;
  t4: bigint;
}

/** A receiver's clock against the sender's. */
export interface ClockOffset {
  /** the sender's clock minus this host's, ms (positive: the sender is ahead, one-way delays read too long) */
  offset_ms: number;
  /** the true offset lies within offset_ms ± error_ms: half the best round trip, ms */
  error_ms: number;
  /** the best (smallest) round trip, without the server's own time, ms */
  rtt_ms: number;
  /** exchanges that came back (the estimate uses the one with the smallest round trip) */
  samples: number;
}

const ms = (ns: bigint) => Number(ns) / 1e6;

export function sampleOffsetNs(s: ClockSample): bigint {
  return (s.t2 - s.t1 + (s.t3 - s.t4)) / 2n;
}

export function sampleDelayNs(s: ClockSample): bigint {
  return s.t4 - s.t1 - (s.t3 - s.t2);
}

/** Best of N by minimum round trip; null without a sample. */
export function estimateOffset(samples: readonly ClockSample[]): ClockOffset | null {
  let best: ClockSample | null = null;
  let bestDelay = 0n;
  for (const s of samples) {
    const d = sampleDelayNs(s);
    // A negative round trip means a clock stepped during the exchange: not a measurement.
    if (d < 0n) continue;
    if (!best || d < bestDelay) {
      best = s;
      bestDelay = d;
    }
  }
  if (!best) return null;
  return { offset_ms: ms(sampleOffsetNs(best)), error_ms: ms(bestDelay) / 2, rtt_ms: ms(bestDelay), samples: samples.length };
}

/** What the host said about its clock discipline (chrony, systemd-timesyncd), verbatim. */
export interface ClockSync {
  /** the command that answered, e.g. 'chronyc tracking' */
  source: string;
  text: string;
}

/** `mcbench clock-probe --json` output. */
export interface ClockProbeReport {
  schema: 'mcbench/clock@1';
  /** the server probed, ADDR:PORT */
  to: string;
  /** the estimate from the samples; null when no answer came back */
  estimate: ClockOffset | null;
  /** probes sent */
  sent: number;
  /** this host's clock discipline; null when neither chronyc nor timedatectl answered */
  sync: ClockSync | null;
}

/** One receiver's clock in a run: measured before and after it (the drift shows between the two). */
export interface ReceiverClock {
  guest: string;
  before: ClockOffset | null;
  after: ClockOffset | null;
  sync: ClockSync | null;
  /** why a measurement is missing; null when both were made */
  error: string | null;
}

export interface RunClocks {
  /** the host whose clock the offsets are against (the sender) */
  reference: string;
  /** the reference host's clock discipline */
  reference_sync: ClockSync | null;
  /** every host runs on one kernel clock (the lab, --local): the true offset is 0 */
  shared_clock: boolean;
  receivers: ReceiverClock[];
}

/** The wider of the before/after error bounds, widened by how far the offset moved between them; null when neither was measured. */
export function clockBound(c: ReceiverClock): number | null {
  const got = [c.before, c.after].filter((x): x is ClockOffset => x !== null);
  if (got.length === 0) return null;
  const drift = got.length === 2 ? Math.abs(got[0]!.offset_ms - got[1]!.offset_ms) : 0;
  return Math.max(...got.map((x) => Math.abs(x.offset_ms) + x.error_ms)) + drift;
}
