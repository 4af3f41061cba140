// Traffic patterns of `send` (and `run`): --burst N --burst-interval T (N datagrams back to back
// every T seconds) and --isochronous FPS:MEAN[,STDDEV] (iperf2's: frames at a frame rate, their
// sizes drawn log-normally so that the load averages MEAN bit/s with that standard deviation,
// each frame cut into datagrams of -l bytes). Pure: flags in, a typed pattern or one UsageError out.
import { shown, UsageError } from './errors.js';
import { formatNumber, inRange, parseInteger, parseRate, parseSeconds } from './units.js';
import type { SenderPattern, SenderPatternConfig } from './result.js';
import type { NativeSenderSnapshot } from './snapshots.js';

/** --burst: the most datagrams in one burst (1024 go out in one sendmmsg call, more in several) */
export const MAX_BURST = 65536;
/** --isochronous: the frame rate's range, frames/s */
export const MIN_FPS = 0.1;
export const MAX_FPS = 10000;
/** --isochronous: the largest mean frame (MEAN / 8 / FPS), bytes; single frames are capped at it too */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** --isochronous: the smallest mean frame, bytes: one datagram with mcbench's v2 header (a smaller one could only be padded) */
export const MIN_FRAME_BYTES = 48;
/** iperf2's default for a bare --isochronous: 60 frames/s of 20 Mbit/s, no variation */
const ISOCHRONOUS_DEFAULT = '60:20M,0';

export interface BurstPattern {
  kind: 'burst';
  /** --burst N: datagrams per burst, sent back to back */
  datagrams: number;
  /** --burst-interval T: seconds from one burst's start to the next's */
  intervalSeconds: number;
}

export interface IsochronousPattern {
  kind: 'isochronous';
  /** FPS: frames per second */
  framesPerSecond: number;
  /** MEAN: the mean load, bit/s of UDP payload (a frame's mean size is MEAN / 8 / FPS bytes) */
  meanBitsPerSecond: number;
  /** STDDEV: the load's standard deviation, bit/s (0: every frame the mean size) */
  stddevBitsPerSecond: number;
  /** --seed: the frame sizes' generator seed (the same seed, the same sizes) */
  seed: number;
}

export type PatternSpec = BurstPattern | IsochronousPattern;

/** Bursts or frames per second. */
export function unitsPerSecond(p: PatternSpec): number {
  return p.kind === 'burst' ? 1 / p.intervalSeconds : p.framesPerSecond;
}

/** A frame's mean and standard deviation in bytes (isochronous). */
export function frameBytes(p: IsochronousPattern): { mean: number; stddev: number } {
  return { mean: p.meanBitsPerSecond / 8 / p.framesPerSecond, stddev: p.stddevBitsPerSecond / 8 / p.framesPerSecond };
}

/** The pattern's mean rate as the sender's target: packets/s and payload bit/s. */
export function patternRate(p: PatternSpec, length: number): { pps: number; bitsPerSecond: number } {
  if (p.kind === 'burst') {
    const pps = p.datagrams / p.intervalSeconds;
    return { pps, bitsPerSecond: pps * length * 8 };
  }
  // about: a frame's last datagram is shorter
  return { pps: Math.max(1, Math.ceil(frameBytes(p).mean / length)) * p.framesPerSecond, bitsPerSecond: p.meanBitsPerSecond };
}

/** The pattern flags as yargs gives them (send, run). */
export interface PatternFlags {
  burst?: unknown;
  'burst-interval'?: unknown;
  isochronous?: unknown;
  seed?: unknown;
  bandwidth?: unknown;
  pps?: unknown;
  gso?: unknown;
}

function once(flag: string, raw: unknown): unknown {
  if (Array.isArray(raw)) throw new UsageError(`${flag}: given more than once; give it once`);
  return raw;
}

/**
 * --burst/--burst-interval or --isochronous (with --seed): null when neither is given. A pattern
 * sets the rate itself, so -b/--pps with one is bad input, and so is --gso (a frame's short last
 * datagram and bursts on a schedule are one datagram per message).
 */
export function parsePattern(a: PatternFlags): PatternSpec | null {
  const burstGiven = a.burst !== undefined;
  const intervalGiven = a['burst-interval'] !== undefined;
  const isoGiven = a.isochronous !== undefined && a.isochronous !== false;
  if (a.seed !== undefined && !isoGiven) throw new UsageError('--seed: seeds the frame sizes of --isochronous; give it with --isochronous');
  if (!burstGiven && !intervalGiven && !isoGiven) return null;
  if (intervalGiven && !burstGiven) throw new UsageError('--burst-interval: give the burst size with --burst N (datagrams per burst, 1-65536)');
  if (burstGiven && isoGiven) throw new UsageError('--burst and --isochronous: give one traffic pattern, not both');
  const which = burstGiven ? '--burst' : '--isochronous';
  if (a.bandwidth !== undefined || a.pps !== undefined) {
    throw new UsageError(`${which}: the pattern sets the rate; drop ${a.pps !== undefined ? '--pps' : '-b/--bandwidth'} (${burstGiven ? 'N datagrams every T seconds' : 'MEAN is the rate'})`);
  }
  if (a.gso !== undefined && a.gso !== false) throw new UsageError(`${which}: cannot be combined with --gso (a pattern sends one datagram per message)`);
  if (burstGiven) {
    const datagrams = parseInteger('--burst', once('--burst', a.burst), 1, MAX_BURST);
    if (!intervalGiven) throw new UsageError('--burst: give the time between bursts with --burst-interval T (seconds, 0.0001-3600)');
    const intervalSeconds = inRange('--burst-interval', parseSeconds('--burst-interval', once('--burst-interval', a['burst-interval'])), 0.0001, 3600, ' s');
    if (datagrams / intervalSeconds > 1e8) {
      throw new UsageError(`--burst: ${datagrams} datagrams every ${formatNumber(intervalSeconds)} s is ${formatNumber(datagrams / intervalSeconds)} packets/s; the most is 100000000`);
    }
    return { kind: 'burst', datagrams, intervalSeconds };
  }
  const raw = once('--isochronous', a.isochronous);
  const text = raw === true || raw === '' ? ISOCHRONOUS_DEFAULT : shown(raw).trim();
  const m = /^([^:,]+):([^:,]+)(?:,([^:,]+))?$/.exec(text);
  if (!m) throw new UsageError(`--isochronous: '${text}' is not FPS:MEAN[,STDDEV] (frames/s : mean bit/s, optional standard deviation bit/s; e.g. 60:2M,0.5M)`);
  const fpsText = m[1]!.trim();
  if (!/^(\d+(\.\d+)?|\.\d+)$/.test(fpsText)) throw new UsageError(`--isochronous: FPS '${fpsText}' is not a frame rate (frames/s, ${MIN_FPS}-${MAX_FPS})`);
  const framesPerSecond = inRange('--isochronous: FPS', Number(fpsText), MIN_FPS, MAX_FPS, ' frames/s');
  const meanBitsPerSecond = inRange('--isochronous: MEAN', parseRate('--isochronous: MEAN', m[2]!.trim()), 1, 1e12, ' bit/s');
  const stddevBitsPerSecond = m[3] === undefined ? 0 : inRange('--isochronous: STDDEV', parseRate('--isochronous: STDDEV', m[3].trim()), 0, 1e12, ' bit/s');
  const seed = a.seed === undefined ? 1 : parseInteger('--seed', once('--seed', a.seed), 0, Number.MAX_SAFE_INTEGER);
  const p: IsochronousPattern = { kind: 'isochronous', framesPerSecond, meanBitsPerSecond, stddevBitsPerSecond, seed };
  const mean = frameBytes(p).mean;
  if (mean < MIN_FRAME_BYTES || mean > MAX_FRAME_BYTES) {
    throw new UsageError(`--isochronous: ${formatNumber(meanBitsPerSecond)} bit/s at ${formatNumber(framesPerSecond)} frames/s is a mean frame of ${formatNumber(mean)} bytes (${MIN_FRAME_BYTES}, one datagram's header, to ${MAX_FRAME_BYTES})`);
  }
  return p;
}

/** The pattern in words, for the sender's first line. */
export function describePattern(p: PatternSpec, length: number): string {
  if (p.kind === 'burst') return `bursts of ${p.datagrams} datagrams every ${formatNumber(p.intervalSeconds * 1000)} ms`;
  const f = frameBytes(p);
  return `${formatNumber(p.framesPerSecond)} frames/s of ${formatNumber(Math.round(f.mean))} bytes mean` +
    `${f.stddev > 0 ? ` (log-normal, stddev ${formatNumber(Math.round(f.stddev))}, seed ${p.seed})` : ''} in datagrams of up to ${length} bytes`;
}

/** The pattern as the result's start.config records it. */
export function patternConfig(p: PatternSpec): SenderPatternConfig {
  if (p.kind === 'burst') {
    return { kind: 'burst', burst_datagrams: p.datagrams, burst_interval_seconds: p.intervalSeconds, frames_per_second: null, mean_bits_per_second: null, stddev_bits_per_second: null, frame_mean_bytes: null, seed: null };
  }
  return {
    kind: 'isochronous', burst_datagrams: null, burst_interval_seconds: null, frames_per_second: p.framesPerSecond, mean_bits_per_second: p.meanBitsPerSecond,
    stddev_bits_per_second: p.stddevBitsPerSecond, frame_mean_bytes: frameBytes(p).mean, seed: p.seed,
  };
}

/** What the sender's thread measured of the pattern (its snapshot's counters) as the result reports it. */
export function patternFigures(kind: PatternSpec['kind'], s: NativeSenderSnapshot): SenderPattern {
  const units = s.patternUnits;
  const span = (s.lastUnitMonoNs - s.firstUnitMonoNs) / 1e9;
  const finished = s.unitsFinished;
  return {
    kind,
    units,
    units_per_second: units > 1 && span > 0 ? (units - 1) / span : null,
    datagrams_per_unit_mean: units > 0 ? s.sent / units : null,
    datagrams_per_unit_max: s.unitDatagramsMax,
    bytes_per_unit_mean: units > 0 ? s.bytes / units : null,
    bytes_per_unit_max: s.unitBytesMax,
    calls_per_unit_mean: units > 0 ? s.calls / units : null,
    gap_mean_ms: units > 1 ? s.gapSumNs / (units - 1) / 1e6 : null,
    gap_max_ms: units > 1 ? s.gapMaxNs / 1e6 : null,
    span_mean_ms: finished > 0 ? s.spanSumNs / finished / 1e6 : null,
    span_max_ms: finished > 0 ? s.spanMaxNs / 1e6 : null,
  };
}
