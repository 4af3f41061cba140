// One-way delay histograms: the addon records HdrHistogram-layout bucket counts natively; here
// they become real hdr-histogram-js histograms (exact: same layout, each bucket's lowest value
// lands in the same bucket), summarised in ms, exported as .hgrm text and compressed base64.
import * as hdr from 'hdr-histogram-js';

export interface NativeHistogram {
  /** lowest value of each non-zero bucket, ns */
  values: Float64Array;
  counts: Float64Array;
  total: number;
  min: number;
  max: number;
  sum: number;
  aboveRange: number;
}

export interface NativeLatency {
  kernel: NativeHistogram;
  app: NativeHistogram;
  queue: NativeHistogram;
  /** v2: actual - intended send time */
  lateness: NativeHistogram;
  /** v2: kernel receive stamp - actual send time */
  path: NativeHistogram;
  /** packets stamped in the receiver's future (sender clock ahead): not recorded */
  clockSkew: number;
  noKernelStamp: number;
}

/** The HdrHistogram parameters the addon's layout matches. */
export const HISTOGRAM_LOWEST_NS = 1;
export const HISTOGRAM_HIGHEST_NS = 60e9;
export const HISTOGRAM_DIGITS = 3;

export function emptyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: HISTOGRAM_LOWEST_NS,
    highestTrackableValue: HISTOGRAM_HIGHEST_NS,
    numberOfSignificantValueDigits: HISTOGRAM_DIGITS,
  });
}

export function toHdr(h: NativeHistogram): hdr.Histogram {
  const out = emptyHistogram();
  for (let i = 0; i < h.values.length; i++) out.recordValueWithCount(h.values[i]!, h.counts[i]!);
  return out;
}

// Extremes and mean are exact; percentiles are at HdrHistogram's 3-significant-digit resolution.
export interface LatencySummary {
  /** packets recorded */
  count: number;
  /** smallest value, ms (exact) */
  min_ms: number;
  /** mean, ms (exact) */
  mean_ms: number;
  /** median, ms (3 significant digits) */
  p50_ms: number;
  /** 90th percentile, ms (3 significant digits) */
  p90_ms: number;
  /** 99th percentile, ms (3 significant digits) */
  p99_ms: number;
  /** 99.9th percentile, ms (3 significant digits) */
  p99_9_ms: number;
  /** 99.99th percentile, ms (3 significant digits) */
  p99_99_ms: number;
  /** largest value, ms (exact) */
  max_ms: number;
  /** packets whose value was above 60 s, recorded as 60 s */
  above_range: number;
  /** the histogram in HdrHistogram's compressed base64 encoding (ns), for merging runs */
  hdr_base64: string;
}

const ms = (ns: number) => ns / 1e6;

export function summarize(native: NativeHistogram, h: hdr.Histogram = toHdr(native)): LatencySummary | null {
  if (native.total === 0) return null;
  // HdrHistogram answers a percentile with its bucket's highest equivalent value, which can lie
  // above the largest value recorded: no percentile may exceed the exact max.
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), native.max));
  return {
    count: native.total,
    min_ms: ms(native.min),
    mean_ms: ms(native.sum / native.total),
    p50_ms: at(50),
    p90_ms: at(90),
    p99_ms: at(99),
    p99_9_ms: at(99.9),
    p99_99_ms: at(99.99),
    max_ms: ms(native.max),
    above_range: native.aboveRange,
    hdr_base64: hdr.encodeIntoCompressedBase64(h),
  };
}

/** Percentiles at HdrHistogram's 3-significant-digit resolution. */
export interface IntervalLatency {
  /** packets recorded in the interval */
  count: number;
  /** median, ms */
  p50_ms: number;
  /** 99th percentile, ms */
  p99_ms: number;
  /** largest value, ms (histogram resolution) */
  max_ms: number;
}

/** Figures of what was recorded between two cumulative histograms. */
export function intervalLatency(prev: hdr.Histogram | null, cur: hdr.Histogram): IntervalLatency | null {
  const delta = emptyHistogram();
  delta.add(cur);
  if (prev) delta.subtract(prev);
  if (delta.totalCount === 0) return null;
  // Percentiles are clamped to the max, as in summarize().
  const max = delta.maxValue;
  return {
    count: delta.totalCount,
    p50_ms: ms(Math.min(delta.getValueAtPercentile(50), max)),
    p99_ms: ms(Math.min(delta.getValueAtPercentile(99), max)),
    max_ms: ms(max),
  };
}

/** HdrHistogram's percentile distribution text (what its plotter reads), values in ms. */
export function percentileDistribution(h: hdr.Histogram): string {
  return h.outputPercentileDistribution(5, 1e6);
}

export function decodeHistogram(base64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(base64, 64, false);
}
