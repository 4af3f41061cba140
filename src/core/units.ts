// Number parsing with iperf's suffixes: rates are decimal (-b 800M = 800,000,000 bit/s),
// byte sizes are binary (--rcvbuf 8M = 8,388,608 bytes, -l 1K = 1024), as iperf does.
import { UsageError } from './errors.js';

const RATE = { '': 1, k: 1e3, m: 1e6, g: 1e9 } as const;
const SIZE = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;
const NUMBER_WITH_SUFFIX = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmg]?)\s*$/i;

function parseSuffixed(flag: string, raw: unknown, table: Record<string, number>, what: string): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
  const m = NUMBER_WITH_SUFFIX.exec(text);
  if (!m) throw new UsageError(`${flag}: '${String(raw)}' is not ${what} (a non-negative number, optional K/M/G suffix)`);
  return Number(m[1]) * (table[m[2]!.toLowerCase()] ?? 1);
}

/** bits per second, decimal suffixes */
export function parseRate(flag: string, raw: unknown): number {
  return parseSuffixed(flag, raw, RATE, 'a rate');
}

/** bytes, binary suffixes; must be a whole number of bytes */
export function parseSize(flag: string, raw: unknown): number {
  const v = parseSuffixed(flag, raw, SIZE, 'a size');
  return Math.round(v);
}

/** a plain count with decimal suffixes (-n 1M = 1,000,000 packets) */
export function parseCount(flag: string, raw: unknown): number {
  const v = parseSuffixed(flag, raw, RATE, 'a count');
  if (!Number.isInteger(v)) throw new UsageError(`${flag}: '${String(raw)}' is not a whole number`);
  return v;
}

/** seconds, fractional allowed */
export function parseSeconds(flag: string, raw: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
  if (!/^\s*(\d+(\.\d+)?|\.\d+)\s*$/.test(text)) {
    throw new UsageError(`${flag}: '${String(raw)}' is not a duration (non-negative seconds)`);
  }
  return Number(text);
}

export function inRange(flag: string, v: number, min: number, max: number, unit = ''): number {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`${flag}: ${v}${unit} is out of range (${min}${unit} to ${max}${unit})`);
  }
  return v;
}

export function formatRate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e9) return `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`;
  if (bitsPerSecond >= 1e3) return `${(bitsPerSecond / 1e3).toFixed(2)} Kbit/s`;
  return `${bitsPerSecond.toFixed(0)} bit/s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
