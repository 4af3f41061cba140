// RFC 5644 one-to-group figures of one variant: what each receiver saw, and the group as a whole
// (its worst and mean loss, how many receivers lost anything, the slowest receiver, and the
// one-way delay of every receiver in one histogram). Pure: computed from the receivers' own
// results, the delay histograms merged from the base64 HdrHistograms they carry.
import * as hdr from 'hdr-histogram-js';
import { decodeHistogram, emptyHistogram, type LatencySummary } from './latency.js';
import type { ReceiverOutcome } from './run-report.js';

/** One receiver's share of the group figures (RFC 5644 Type-P-One-to-group-Receiver-n-…). */
export interface GroupReceiver {
  guest: string;
  /** unique datagrams it received */
  packets: number;
  /** packets the receiver should have seen (sent while it listened) */
  expected_packets: number;
  lost_packets: number;
  /** 100 * lost / expected, percent 0-100 */
  lost_percent: number;
  /** unique datagrams per second it received */
  packets_per_second: number;
}

export interface GroupFigures {
  /** receivers of the variant, with or without a result */
  receivers: number;
  /** receivers that produced no result (not counted in any figure below) */
  missing: string[];
  /** per receiver, in the variant's order (those with a result) */
  per_receiver: GroupReceiver[];
  /** receivers that lost at least one packet */
  receivers_with_loss: number;
  /** the largest receiver loss, percent, and whose (RFC 5644 worst-case loss ratio); null without results */
  worst_loss: { guest: string; lost_percent: number } | null;
  /** the mean of the receivers' loss percentages (each receiver weighs the same), percent; null without results */
  mean_loss_percent: number | null;
  /** all lost over all expected packets (RFC 5644 Type-P-One-to-group-Loss-Ratio), percent; null when nothing was expected */
  group_loss_percent: number | null;
  /** the receiver with the lowest packet rate; null without results */
  slowest: { guest: string; packets_per_second: number } | null;
  /** one-way delay (kernel receive stamp) of every receiver's packets in one histogram; null when none was recorded */
  one_way_kernel: LatencySummary | null;
  /** the same with the time the application got the datagram */
  one_way_app: LatencySummary | null;
}

const ms = (ns: number) => ns / 1e6;

/**
 * One summary of several: the histograms merged (bucket counts added, so percentiles are those of
 * the union of the packets at HdrHistogram's 3-digit resolution); count, min, max, mean and
 * above-range from the parts' exact figures.
 */
export function mergeLatency(parts: readonly LatencySummary[]): LatencySummary | null {
  const used = parts.filter((p) => p.count > 0);
  if (used.length === 0) return null;
  const merged = emptyHistogram();
  for (const p of used) merged.add(decodeHistogram(p.hdr_base64));
  const count = used.reduce((n, p) => n + p.count, 0);
  return {
    count,
    min_ms: Math.min(...used.map((p) => p.min_ms)),
    mean_ms: used.reduce((s, p) => s + p.mean_ms * p.count, 0) / count,
    p50_ms: ms(merged.getValueAtPercentile(50)),
    p90_ms: ms(merged.getValueAtPercentile(90)),
    p99_ms: ms(merged.getValueAtPercentile(99)),
    p99_9_ms: ms(merged.getValueAtPercentile(99.9)),
    p99_99_ms: ms(merged.getValueAtPercentile(99.99)),
    max_ms: Math.max(...used.map((p) => p.max_ms)),
    above_range: used.reduce((n, p) => n + p.above_range, 0),
    hdr_base64: hdr.encodeIntoCompressedBase64(merged),
  };
}

export function groupFigures(receivers: readonly ReceiverOutcome[]): GroupFigures {
  const missing = receivers.filter((r) => !r.result).map((r) => r.guest);
  const withResult = receivers.flatMap((r) => (r.result ? [{ guest: r.guest, end: r.result.end }] : []));
  const per: GroupReceiver[] = withResult.map(({ guest, end }) => ({
    guest,
    packets: end.sum.packets,
    expected_packets: end.sum.expected_packets,
    lost_packets: end.sum.lost_packets,
    lost_percent: end.sum.lost_percent,
    packets_per_second: end.sum.packets_per_second,
  }));
  let worst: GroupReceiver | null = null;
  let slowest: GroupReceiver | null = null;
  for (const r of per) {
    if (!worst || r.lost_percent > worst.lost_percent) worst = r;
    if (!slowest || r.packets_per_second < slowest.packets_per_second) slowest = r;
  }
  const expected = per.reduce((n, r) => n + r.expected_packets, 0);
  const lost = per.reduce((n, r) => n + r.lost_packets, 0);
  const summaries = (pick: (l: (typeof withResult)[number]['end']['latency']) => LatencySummary | null) =>
    withResult.flatMap(({ end }) => {
      const s = pick(end.latency);
      return s ? [s] : [];
    });
  return {
    receivers: receivers.length,
    missing,
    per_receiver: per,
    receivers_with_loss: per.filter((r) => r.lost_packets > 0).length,
    worst_loss: worst ? { guest: worst.guest, lost_percent: worst.lost_percent } : null,
    mean_loss_percent: per.length ? per.reduce((s, r) => s + r.lost_percent, 0) / per.length : null,
    group_loss_percent: expected > 0 ? (100 * lost) / expected : null,
    slowest: slowest ? { guest: slowest.guest, packets_per_second: slowest.packets_per_second } : null,
    one_way_kernel: mergeLatency(summaries((l) => l.one_way_kernel)),
    one_way_app: mergeLatency(summaries((l) => l.one_way_app)),
  };
}
