// The one number parser of every numeric flag, with iperf's suffixes: rates are decimal
// (-b 800M = 800,000,000 bit/s), byte sizes are binary (--rcvbuf 8M = 8,388,608 bytes,
// -l 1K = 1024), as iperf does. Only decimal digits: no hex (0x1838), no exponent (6.2e3), no
// sign. A fraction is taken where it means something (seconds, a rate, 1.5M) and refused where a
// whole number is meant (-l 32.4, --batch 2.5); a suffixed fraction must come out whole (1.5K).
import { UsageError } from './errors.js';

const RATE = { '': 1, k: 1e3, m: 1e6, g: 1e9 } as const;
const SIZE = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
const NUMBER_WITH_SUFFIX = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmg]?)\s*$/i;
const DIGITS = /^\s*\d+\s*$/;

/** A number as a message shows it: never an exponent, at most 6 decimals (1073741823, 0.1). */
export function formatNumber(v: number): string {
  return Number.isFinite(v) ? v.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 6 }) : String(v);
}

function text(raw: unknown): string {
  return typeof raw === 'number' ? formatNumber(raw) : typeof raw === 'string' ? raw : '';
}

function parseSuffixed(flag: string, raw: unknown, table: Record<string, number>, what: string, whole: boolean): number {
  const t = text(raw);
  const m = NUMBER_WITH_SUFFIX.exec(t);
  if (!m) throw new UsageError(`${flag}: '${String(raw)}' is not ${what} (decimal digits, optional K/M/G suffix)`);
  const suffix = m[2]!.toLowerCase();
  const v = Number(m[1]) * (table[suffix] ?? 1);
  if (!Number.isFinite(v) || v > Number.MAX_SAFE_INTEGER) throw new UsageError(`${flag}: '${String(raw)}' is too large`);
  // 32.4 bytes or 2.5 packets mean nothing; 1.5K is 1536 and 1.5M packets is 1,500,000.
  if (whole && (!Number.isInteger(v) || (suffix === '' && m[1]!.includes('.')))) {
    throw new UsageError(`${flag}: '${String(raw)}' is not a whole number`);
  }
  return v;
}

/** bits per second, decimal suffixes; fractions allowed (-b 1.5M) */
export function parseRate(flag: string, raw: unknown): number {
  return parseSuffixed(flag, raw, RATE, 'a rate', false);
}

/** bytes, binary suffixes; a whole number of bytes */
export function parseSize(flag: string, raw: unknown): number {
  return parseSuffixed(flag, raw, SIZE, 'a size', true);
}

/** a plain count with decimal suffixes (-n 1M = 1,000,000 packets); whole */
export function parseCount(flag: string, raw: unknown): number {
  return parseSuffixed(flag, raw, RATE, 'a count', true);
}

/** a whole number without suffixes (a port, a TTL, a batch size), checked against its range */
export function parseInteger(flag: string, raw: unknown, min: number, max: number): number {
  const t = text(raw);
  if (!DIGITS.test(t)) throw new UsageError(`${flag}: '${String(raw)}' is not a whole number (${formatNumber(min)} to ${formatNumber(max)})`);
  return inRange(flag, Number(t), min, max);
}

/** seconds, fractional allowed */
export function parseSeconds(flag: string, raw: unknown): number {
  const t = text(raw);
  if (!/^\s*(\d+(\.\d+)?|\.\d+)\s*$/.test(t)) {
    throw new UsageError(`${flag}: '${String(raw)}' is not a duration (non-negative seconds, decimal digits)`);
  }
  const v = Number(t);
  if (!Number.isFinite(v)) throw new UsageError(`${flag}: '${String(raw)}' is too large`);
  return v;
}

/** a percentage, fractional allowed (--tolerance 12.5) */
export function parsePercent(flag: string, raw: unknown, max: number): number {
  const t = text(raw);
  if (!/^\s*(\d+(\.\d+)?|\.\d+)\s*$/.test(t)) throw new UsageError(`${flag}: '${String(raw)}' is not a percentage (0 to ${formatNumber(max)})`);
  return inRange(flag, Number(t), 0, max);
}

export function inRange(flag: string, v: number, min: number, max: number, unit = ''): number {
  if (!Number.isFinite(v) || v < min || v > max) {
    const f = formatNumber;
    throw new UsageError(`${flag}: ${f(v)}${unit} is out of range (${f(min)}${unit} to ${f(max)}${unit})`);
  }
  return v;
}

export function formatRate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e9) return `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`;
  if (bitsPerSecond >= 1e3) return `${(bitsPerSecond / 1e3).toFixed(2)} kbit/s`;
  return `${bitsPerSecond.toFixed(0)} bit/s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A 64-bit count that may come as its exact decimal string (above 2^53), grouped like formatCount. */
export function formatU64(n: number | string): string {
  return typeof n === 'number' ? formatCount(n) : BigInt(n).toLocaleString('en-US');
}
