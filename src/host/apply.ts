// applyKernelSettings: set sysctls for a run and put them back afterwards, on every exit path.
// Global settings (net.core.rmem_max is one) outlive this process, so a change that is not
// restored is a bug, and so is a restore that undoes someone else's change:
// - each setting's lock (host/locks.ts) is held from before its value is saved to after it is
//   put back, so a second mcbench waits instead of saving our value as its "before";
// - the old values go to a restore record (root-only folder, 0600, written atomically) before
//   anything changes; the restore runs in `finally`, on process exit (also after a second
//   Ctrl-C), and a record left by a process that died (SIGKILL) is restored by the next process
//   that takes that setting's lock, or by `mcbench lab down`;
// - a restore writes the old value only while the setting still holds the value mcbench set
//   (someone who changed it since wins, with a warning), and a record is removed once its
//   restore was attempted, failed or not, so it is never replayed over a later hand-set value;
// - a record is acted on only when root alone could have written it (host/state-dir.ts).
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RunError } from '../core/errors.js';
import { lockSettings, lockSettingsSync, tryLockSettings, type LockOptions, type SettingLocks } from './locks.js';
import { ensureStateDir, listStateDir, processAlive, processStartTicks, readTrustedFile, STATE_ROOT, writeTemp } from './state-dir.js';

const RESTORE_SUBDIR = 'restore';
export const RESTORE_DIR = join(STATE_ROOT, RESTORE_SUBDIR);

export interface SettingChange {
  id: string;
  before: string;
  after: string;
}

export interface AppliedSettings {
  changes: SettingChange[];
  /** puts every changed value back (idempotent); returns what could not be restored */
  restore(): string[];
}

/** Waiting for a lock (timeout, Ctrl-C) and where the waiting and warning lines go (default: stderr). */
export type ApplyOptions = LockOptions;

interface RestoreRecord {
  pid: number;
  start_ticks: number | null;
  changes: SettingChange[];
}

const defaultLog = (line: string) => process.stderr.write(`${line}\n`);

const sysctlPath = (id: string) => {
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i.test(id)) throw new RunError(`not a sysctl name: ${id}`);
  return join('/proc/sys', id.replace(/\./g, '/'));
};
/** Multi-value sysctls read back with tabs (tcp_rmem): compare them word by word. */
const norm = (v: string) => v.trim().split(/\s+/).join(' ');
const read = (id: string) => norm(readFileSync(sysctlPath(id), 'utf8'));

type PutBack = { outcome: 'restored' | 'theirs' } | { outcome: 'failed'; detail: string };

/** Puts one value back if the setting still holds `expected`, the value mcbench left there. */
function putBack(c: SettingChange, expected: string, log: (line: string) => void): PutBack {
  try {
    const now = read(c.id);
    if (now !== norm(expected)) {
      log(`mcbench: warning: ${c.id} is ${now} now, not the ${expected} mcbench set: someone changed it since; left as it is (it was ${c.before})`);
      return { outcome: 'theirs' };
    }
    if (now !== norm(c.before)) writeFileSync(sysctlPath(c.id), c.before);
    return { outcome: 'restored' };
  } catch (e) {
    return { outcome: 'failed', detail: `${c.id}=${c.before}: ${(e as Error).message}` };
  }
}

export interface StaleOutcome {
  change: SettingChange;
  /** restored; theirs: changed by someone since, left alone; failed: could not be written */
  outcome: 'restored' | 'theirs' | 'failed';
  detail: string | null;
  /** the process that died with the change in place */
  pid: number;
}

const isRecord = (r: unknown): r is RestoreRecord => {
  const o = r as Partial<RestoreRecord> | null;
  return !!o && typeof o.pid === 'number' && Array.isArray(o.changes) &&
    (o.changes as unknown[]).every((c) => {
      const x = c as Partial<SettingChange> | null;
      return x !== null && typeof x.id === 'string' && typeof x.before === 'string' && typeof x.after === 'string';
    });
};

/**
 * Restores what dead processes changed and did not put back (only records naming one of `only`,
 * when given). A record is honoured only when trustworthy, its writer is gone and no live
 * process holds the lock of one of its settings; it is removed once attempted.
 */
export function restoreStaleSettings(opts: { only?: readonly string[]; log?: (line: string) => void } = {}): StaleOutcome[] {
  const log = opts.log ?? defaultLog;
  const out: StaleOutcome[] = [];
  for (const f of listStateDir(RESTORE_SUBDIR, log)) {
    if (f.startsWith('.')) continue; // a temp file being written (removeDeadTemps takes the dead ones)
    const path = join(RESTORE_DIR, f);
    const r = readTrustedFile(path);
    if ('absent' in r) continue;
    if ('problem' in r) {
      log(`mcbench: warning: ignoring restore record ${path}: it is ${r.problem}`);
      continue;
    }
    let rec: unknown;
    try {
      rec = JSON.parse(r.text);
    } catch {
      rec = null;
    }
    if (!isRecord(rec) || !rec.changes.every((c) => { try { sysctlPath(c.id); return true; } catch { return false; } })) {
      log(`mcbench: warning: removing restore record ${path}: not a restore record`);
      unlinkQuiet(path);
      continue;
    }
    if (rec.pid === process.pid || processAlive(rec.pid, rec.start_ticks ?? null)) continue;
    const ids = rec.changes.map((c) => c.id);
    if (opts.only && !ids.some((id) => opts.only!.includes(id))) continue;
    const locks = tryLockSettings(ids);
    if (!locks) continue; // a live process is changing one of them: its own record covers it
    try {
      for (const c of [...rec.changes].reverse()) {
        const p = putBack(c, c.after, () => {}); // the caller reports 'theirs' (describeStale)
        out.push({ change: c, outcome: p.outcome, detail: p.outcome === 'failed' ? p.detail : null, pid: rec.pid });
      }
      unlinkQuiet(path);
    } finally {
      locks.release();
    }
  }
  return out;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** One line per stale outcome, as `lab down` and a run print them. */
export function describeStale(o: StaleOutcome): string {
  const c = o.change;
  switch (o.outcome) {
    case 'restored': return `restored ${c.id}=${c.before} (left at ${c.after} by pid ${o.pid}, which died)`;
    case 'theirs': return `left ${c.id} as it is (pid ${o.pid} died with it at ${c.after}; changed by someone since)`;
    case 'failed': return `could not restore ${o.detail ?? c.id} (left at ${c.after} by pid ${o.pid}, which died); its record is removed`;
  }
}

const active = new Set<AppliedSettings>();
let exitHookInstalled = false;

/** Saves, records and sets the values; `locks` are held already and released by restore(). */
function applyLocked(values: Record<string, number | string>, locks: SettingLocks, log: (line: string) => void): AppliedSettings {
  const ids = Object.keys(values);
  let record: string | null = null;
  try {
    for (const o of restoreStaleSettings({ only: ids, log })) log(`mcbench: ${o.outcome === 'restored' ? '' : 'warning: '}${describeStale(o)}`);
    const changes: SettingChange[] = ids.map((id) => ({ id, before: read(id), after: norm(String(values[id])) }));
    const dir = ensureStateDir(RESTORE_SUBDIR);
    const name = `${process.pid}-${Date.now()}-${randomBytes(4).toString('hex')}.json`;
    const rec: RestoreRecord = { pid: process.pid, start_ticks: processStartTicks(process.pid), changes };
    renameSync(writeTemp(dir, name, JSON.stringify(rec)), join(dir, name));
    record = join(dir, name);
    return setAll(changes, record, locks, log);
  } catch (e) {
    if (record) unlinkQuiet(record);
    locks.release();
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot set ${ids.join(', ')}: ${(e as Error).message} (needs root)`);
  }
}

function setAll(changes: SettingChange[], record: string, locks: SettingLocks, log: (line: string) => void): AppliedSettings {
  /** what mcbench left in each setting it wrote (the kernel may have kept another value) */
  const left = new Map<string, string>();
  let done = false;
  const applied: AppliedSettings = {
    changes,
    restore() {
      if (done) return [];
      done = true;
      active.delete(applied);
      const failed: string[] = [];
      for (const c of [...changes].reverse()) {
        const expected = left.get(c.id);
        if (expected === undefined) continue; // never written
        const p = putBack(c, expected, log);
        if (p.outcome === 'failed') failed.push(p.detail);
      }
      unlinkQuiet(record); // attempted: never replayed over a value set later by hand
      locks.release();
      return failed;
    },
  };
  active.add(applied);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Synchronous, so it also runs on process.exit() (a second Ctrl-C) and uncaught errors.
    process.on('exit', () => {
      for (const a of [...active]) a.restore();
    });
  }
  try {
    for (const c of changes) {
      try {
        writeFileSync(sysctlPath(c.id), c.after);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new RunError(`cannot set ${c.id}=${c.after}: ${(e as Error).message}${code === 'EACCES' || code === 'EPERM' ? ' (needs root)' : ''}`);
      }
      left.set(c.id, c.after);
      const now = read(c.id);
      if (now !== c.after) {
        left.set(c.id, now);
        throw new RunError(`${c.id}: wrote ${c.after}, the kernel kept ${now}`);
      }
    }
  } catch (e) {
    const failed = applied.restore();
    if (failed.length) log(`mcbench: warning: could not restore ${failed.join('; ')}`);
    throw e;
  }
  return applied;
}

/** Sets each sysctl (e.g. { 'net.core.rmem_max': 26214400 }) and returns the way back; waits blocking for the settings' locks. */
export function applyKernelSettings(values: Record<string, number | string>, opts: ApplyOptions = {}): AppliedSettings {
  const ids = Object.keys(values);
  if (ids.length === 0) return { changes: [], restore: () => [] };
  ids.forEach(sysctlPath);
  return applyLocked(values, lockSettingsSync(ids, opts), opts.log ?? defaultLog);
}

/** The same, waiting for the locks without blocking the event loop (signals, timers keep running). */
export async function applyKernelSettingsWaiting(values: Record<string, number | string>, opts: ApplyOptions = {}): Promise<AppliedSettings> {
  const ids = Object.keys(values);
  if (ids.length === 0) return { changes: [], restore: () => [] };
  ids.forEach(sysctlPath);
  return applyLocked(values, await lockSettings(ids, opts), opts.log ?? defaultLog);
}
