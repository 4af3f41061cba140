// One owner per global setting: a process holds /run/mcbench/locks/<setting>.lock (flock(2),
// exclusive) from before it saves a setting's value to after it has put it back, so a second
// mcbench changing the same setting waits instead of saving the first one's value as "before"
// or measuring under a value its report does not state. flock belongs to the open file: the
// kernel drops it when the holder dies, SIGKILL included, and the fd is close-on-exec (libuv
// opens with O_CLOEXEC), so the runs' child processes never inherit it. Why not a child
// `flock(1)` process: it would have to be made to die with us (a pipe it watches), its pid is
// not ours, and knowing when it has the lock means parsing its output; the fd is simpler.
import { closeSync, constants, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { RunError, UsageError } from '../core/errors.js';
import { loadBinding } from '../native.js';
import { ensureStateDir, readTrustedFile, STATE_ROOT, untrustedFd, writeAll } from './state-dir.js';

export const LOCKS_SUBDIR = 'locks';
export const DEFAULT_LOCK_TIMEOUT_S = 60;

export interface LockOptions {
  /** how long to wait for another process's lock; default $MCBENCH_LOCK_TIMEOUT or 60 s */
  timeoutMs?: number;
  /** the "waiting for pid N" line */
  log?: (line: string) => void;
  /** stops the wait (Ctrl-C) */
  signal?: AbortSignal;
}

export interface SettingLocks {
  readonly ids: readonly string[];
  /** drops the locks (idempotent) */
  release(): void;
}

/** Locks this process holds; nested holders in one process share the fd (flock would deadlock). */
const held = new Map<string, { fd: number; count: number }>();

export function lockTimeoutMs(): number {
  const raw = process.env.MCBENCH_LOCK_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_LOCK_TIMEOUT_S * 1000;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 86400) throw new UsageError(`MCBENCH_LOCK_TIMEOUT: '${raw}' is not a number of seconds (0-86400)`);
  return Number(raw) * 1000;
}

const lockPath = (dir: string, id: string) => join(dir, `${id}.lock`);

/** Takes the lock of id if it is free (or already ours); false when another process holds it. */
function tryTake(id: string): boolean {
  const mine = held.get(id);
  if (mine) {
    mine.count++;
    return true;
  }
  const dir = ensureStateDir(LOCKS_SUBDIR);
  let fd: number;
  try {
    fd = openSync(lockPath(dir, id), constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (e) {
    throw new RunError(`cannot open the lock ${lockPath(dir, id)}: ${(e as Error).message}`);
  }
  try {
    const why = untrustedFd(fd);
    if (why) throw new RunError(`the lock ${lockPath(dir, id)} is ${why}: not trusted (as root: rm ${lockPath(dir, id)})`);
    if (!loadBinding().flockTry(fd)) {
      closeSync(fd);
      return false;
    }
    // Who holds it, for the waiting line of the next one.
    ftruncateSync(fd, 0);
    writeAll(fd, `${process.pid}\n`, 0);
  } catch (e) {
    closeSync(fd);
    throw e instanceof RunError ? e : new RunError(`cannot lock ${lockPath(dir, id)}: ${(e as Error).message}`);
  }
  held.set(id, { fd, count: 1 });
  return true;
}

function drop(id: string): void {
  const mine = held.get(id);
  if (!mine) return;
  if (--mine.count > 0) return;
  held.delete(id);
  closeSync(mine.fd); // closing the only fd of the open file drops the flock
}

function holder(id: string): string {
  const r = readTrustedFile(lockPath(join(STATE_ROOT, LOCKS_SUBDIR), id), 64);
  const pid = 'text' in r ? /^\d+/.exec(r.text)?.[0] : undefined;
  return pid ? `pid ${pid}` : 'another mcbench process';
}

function locksOf(ids: string[]): SettingLocks {
  let released = false;
  return {
    ids,
    release() {
      if (released) return;
      released = true;
      for (const id of [...ids].reverse()) drop(id);
    },
  };
}

/** One pass over the ids in a fixed order (sorted: two processes never wait on each other). */
class Acquirer {
  private readonly ids: string[];
  private next = 0;
  private waitingFor: string | null = null;
  private readonly deadline: number;
  private readonly started = Date.now();

  constructor(ids: readonly string[], private readonly opts: LockOptions) {
    this.ids = [...new Set(ids)].sort();
    this.deadline = this.started + (opts.timeoutMs ?? lockTimeoutMs());
  }

  /** true when every lock is taken; throws (after dropping what it took) on a timeout or abort */
  step(): boolean {
    try {
      while (this.next < this.ids.length) {
        const id = this.ids[this.next]!;
        if (tryTake(id)) {
          this.next++;
          continue;
        }
        if (this.waitingFor !== id) {
          this.waitingFor = id;
          (this.opts.log ?? ((l) => process.stderr.write(`${l}\n`)))(`mcbench: waiting for ${holder(id)}, which holds ${id}`);
        }
        const why = this.opts.signal?.aborted ? 'interrupted' : Date.now() >= this.deadline ? `gave up after ${Math.round((Date.now() - this.started) / 1000)} s` : null;
        if (why) throw new RunError(`${why} waiting for ${holder(id)}, which holds ${id} (MCBENCH_LOCK_TIMEOUT sets the wait in seconds)`);
        return false;
      }
      return true;
    } catch (e) {
      this.ids.slice(0, this.next).reverse().forEach(drop);
      throw e;
    }
  }

  get locks(): SettingLocks {
    return locksOf(this.ids);
  }
}

const POLL_MS = 50;

/** Takes the locks of ids, waiting (and saying so) while another process holds one. */
export async function lockSettings(ids: readonly string[], opts: LockOptions = {}): Promise<SettingLocks> {
  const a = new Acquirer(ids, opts);
  while (!a.step()) await new Promise((r) => setTimeout(r, POLL_MS));
  return a.locks;
}

/** The same, blocking the thread while it waits (for synchronous callers: the bench harness). */
export function lockSettingsSync(ids: readonly string[], opts: LockOptions = {}): SettingLocks {
  const a = new Acquirer(ids, opts);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!a.step()) Atomics.wait(nap, 0, 0, POLL_MS);
  return a.locks;
}

/** Takes every lock of ids without waiting; null (holding none) when one is busy. */
export function tryLockSettings(ids: readonly string[]): SettingLocks | null {
  const a = new Acquirer(ids, { timeoutMs: 0, log: () => {} });
  try {
    return a.step() ? a.locks : null;
  } catch (e) {
    if (e instanceof RunError && /^gave up/.test(e.message)) return null;
    throw e;
  }
}
