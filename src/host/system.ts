import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { StartInfo } from '../core/result.js';
import { snapshotKernelSettings } from './settings.js';
import { VERSION } from './version.js';

/** Reads a number from /proc or /sys; null when unreadable (never guessed). */
export function readNumber(path: string): number | null {
  try {
    const v = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** The run's start block, with the kernel settings it runs under (read once, ~10 ms). */
export function startInfo<R extends StartInfo['role']>(role: R, iface: string | null): StartInfo & { role: R } {
  const now = new Date();
  let settings: StartInfo['settings'] = null;
  try {
    settings = snapshotKernelSettings({ interface: iface });
  } catch {
    // The socket is already open on this interface; a snapshot that cannot resolve it is no
    // reason to fail the run: the result says the settings are unknown.
  }
  return {
    version: `mcbench ${VERSION}`,
    role,
    timestamp: { time: now.toISOString(), timesecs: Math.floor(now.getTime() / 1000) },
    system_info: `${os.type()} ${os.hostname()} ${os.release()} ${os.version()} ${os.machine()}`,
    hostname: os.hostname(),
    pid: process.pid,
    settings,
  };
}

/** CLOCK_MONOTONIC in ns as a Number, the same clock the addon stamps its snapshots with. */
export function monoNs(): number {
  return Number(process.hrtime.bigint());
}
