// applyKernelSettings: set sysctls for a run and put them back afterwards, on every exit path.
// Global settings (net.core.rmem_max is one) outlive this process, so a change that is not
// restored is a bug: the old values are written to a record file before anything changes; the
// restore runs in `finally`, on process exit (also after a second Ctrl-C), and a record left by
// a process that died (SIGKILL) is restored by the next applyKernelSettings or `mcbench lab down`.
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../core/errors.js';

export const RESTORE_DIR = '/run/mcbench/restore';

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

interface RestoreRecord {
  pid: number;
  changes: SettingChange[];
}

const sysctlPath = (id: string) => {
  if (!/^[a-z0-9_.-]+$/i.test(id)) throw new RunError(`not a sysctl name: ${id}`);
  return join('/proc/sys', id.replace(/\./g, '/'));
};
const read = (id: string) => readFileSync(sysctlPath(id), 'utf8').trim();
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function writeBack(changes: SettingChange[]): string[] {
  const failed: string[] = [];
  for (const c of [...changes].reverse()) {
    try {
      writeFileSync(sysctlPath(c.id), c.before);
    } catch (e) {
      failed.push(`${c.id}=${c.before}: ${(e as Error).message}`);
    }
  }
  return failed;
}

/** Restores what dead processes changed and did not put back. Returns the restored changes. */
export function restoreStaleSettings(): SettingChange[] {
  let files: string[];
  try {
    files = existsSync(RESTORE_DIR) ? readdirSync(RESTORE_DIR) : [];
  } catch {
    return []; // not root: nothing of ours to restore from here
  }
  const restored: SettingChange[] = [];
  for (const f of files) {
    const path = join(RESTORE_DIR, f);
    let rec: RestoreRecord;
    try {
      rec = JSON.parse(readFileSync(path, 'utf8')) as RestoreRecord;
    } catch {
      continue;
    }
    if (alive(rec.pid)) continue;
    if (writeBack(rec.changes).length === 0) {
      restored.push(...rec.changes);
      unlinkSync(path);
    }
  }
  return restored;
}

const active = new Set<AppliedSettings>();
let exitHookInstalled = false;

/** Sets each sysctl (e.g. { 'net.core.rmem_max': 26214400 }) and returns the way back. */
export function applyKernelSettings(values: Record<string, number | string>): AppliedSettings {
  const ids = Object.keys(values);
  if (ids.length === 0) return { changes: [], restore: () => [] };
  restoreStaleSettings();
  const changes: SettingChange[] = ids.map((id) => ({ id, before: read(id), after: String(values[id]) }));
  mkdirSync(RESTORE_DIR, { recursive: true });
  const record = join(RESTORE_DIR, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(record, JSON.stringify({ pid: process.pid, changes } satisfies RestoreRecord));
  let done = false;
  const applied: AppliedSettings = {
    changes,
    restore() {
      if (done) return [];
      done = true;
      active.delete(applied);
      const failed = writeBack(changes);
      if (failed.length === 0) {
        try {
          unlinkSync(record);
        } catch {
          /* already gone */
        }
      }
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
      writeFileSync(sysctlPath(c.id), c.after);
      const now = read(c.id);
      if (now !== c.after) throw new RunError(`${c.id}: wrote ${c.after}, the kernel kept ${now}`);
    }
  } catch (e) {
    applied.restore();
    if (e instanceof RunError) throw e;
    throw new RunError(`cannot set ${ids.join(', ')}: ${(e as Error).message} (needs root)`);
  }
  return applied;
}
