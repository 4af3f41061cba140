// /run/mcbench: what root's mcbench keeps between processes (restore records, lab states, lock
// files). Root acts on what it finds here (writes sysctls, deletes links), so nothing here is
// trusted unless only root could have put it there: every folder is a real directory (not a
// symlink), owned by root, writable by no one else; every file is a regular file (opened with
// O_NOFOLLOW and checked on the open fd), owned by root, writable by no one else. Folders are
// made 0700 and chmod-ed after mkdir, so the umask plays no part. Files are written to a fresh
// O_EXCL|O_NOFOLLOW 0600 temp file and renamed (or linked) into place, so a reader never sees
// half a file and a planted name cannot redirect the write.
import { randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../core/errors.js';

export const STATE_ROOT = '/run/mcbench';

/** Why a folder or file may not be trusted; null when it may. */
function untrusted(st: Stats, kind: 'folder' | 'file'): string | null {
  if (st.isSymbolicLink()) return 'a symlink';
  if (kind === 'folder' ? !st.isDirectory() : !st.isFile()) return `not a ${kind === 'folder' ? 'directory' : 'regular file'}`;
  if (st.uid !== 0) return `owned by uid ${st.uid}, not root`;
  if ((st.mode & 0o022) !== 0) return `writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return null;
}

/** Why the open file fd may not be trusted; null when it may. */
export function untrustedFd(fd: number): string | null {
  return untrusted(fstatSync(fd), 'file');
}

/** Null when every folder from /run/mcbench down to sub is trustworthy or absent; else the problem. */
export function checkStateDir(sub: string): { path: string; problem: string } | null {
  for (const path of [STATE_ROOT, join(STATE_ROOT, sub)]) {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return { path, problem: (e as Error).message };
    }
    const why = untrusted(st, 'folder');
    if (why) return { path, problem: why };
  }
  return null;
}

const refuse = (p: { path: string; problem: string }) =>
  `${p.path} is ${p.problem}: not trusted, mcbench will not use it (as root: rm -rf ${STATE_ROOT})`;

/** Makes /run/mcbench/SUB (root, 0700) or checks the one there; throws a RunError when it is not ours. */
export function ensureStateDir(sub: string): string {
  const dir = join(STATE_ROOT, sub);
  for (const path of [STATE_ROOT, dir]) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // checked below, never chmod-ed (it may be a symlink)
      throw new RunError(`cannot make ${path}: ${(e as Error).message}`);
    }
    try {
      chmodSync(path, 0o700); // mkdir's mode passes through the umask; /run is root's alone, so no one swapped it meanwhile
    } catch (e) {
      throw new RunError(`cannot make ${path}: ${(e as Error).message}`);
    }
  }
  const bad = checkStateDir(sub);
  if (bad) throw new RunError(refuse(bad));
  return dir;
}

/** folders already warned about: one line per process, however many readers meet them */
const warnedDirs = new Set<string>();

/**
 * The names in /run/mcbench/SUB, or [] when it is absent; when it is not trustworthy, one
 * warning line (the first time) and [] (whatever is in it is ignored).
 */
export function listStateDir(sub: string, warn: (line: string) => void): string[] {
  const bad = checkStateDir(sub);
  if (bad) {
    if (!warnedDirs.has(bad.path)) {
      warnedDirs.add(bad.path);
      warn(`mcbench: warning: ${refuse(bad)}`);
    }
    return [];
  }
  try {
    return readdirSync(join(STATE_ROOT, sub));
  } catch {
    return []; // absent, or not root
  }
}

export type TrustedRead = { text: string } | { absent: true } | { problem: string };

/** Reads a file only if root alone could have written it (see the top of this file). */
export function readTrustedFile(path: string, maxBytes = 1 << 20): TrustedRead {
  let fd: number;
  try {
    // O_NONBLOCK: a planted FIFO does not hang us; O_NOFOLLOW: a symlink fails with ELOOP.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { absent: true };
    return { problem: code === 'ELOOP' ? 'a symlink' : (e as Error).message };
  }
  try {
    const st = fstatSync(fd);
    const why = untrusted(st, 'file');
    if (why) return { problem: why };
    if (st.size > maxBytes) return { problem: `larger than ${maxBytes} bytes` };
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}

/** Writes all of text to fd (a short write is continued, an error thrown). */
export function writeAll(fd: number, text: string, position: number | null = null): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position === null ? null : position + off);
}

/** Temp files carry the writer's pid, so `lab down` can remove those of a process that died. */
const TEMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * The complete text in a fresh temp file in dir (O_CREAT|O_EXCL|O_NOFOLLOW, 0600, fsynced);
 * returns its path, for the caller to rename(2) or link(2) into place.
 */
export function writeTemp(dir: string, name: string, text: string): string {
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    throw new RunError(`cannot write ${join(dir, name)}: ${(e as Error).message}`);
  }
  try {
    writeAll(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw new RunError(`cannot write ${join(dir, name)}: ${(e as Error).message}`);
  }
  closeSync(fd);
  return tmp;
}

/** Removes temp files in /run/mcbench/SUB whose writer is gone; returns how many. */
export function removeDeadTemps(sub: string): number {
  let n = 0;
  if (checkStateDir(sub)) return 0; // not ours to clean (listStateDir has said why)
  let files: string[];
  try {
    files = readdirSync(join(STATE_ROOT, sub));
  } catch {
    return 0;
  }
  for (const f of files) {
    const m = TEMP_RE.exec(f);
    if (!m || pidAlive(Number(m[2]))) continue;
    try {
      unlinkSync(join(STATE_ROOT, sub, f));
      n++;
    } catch {
      /* someone else removed it */
    }
  }
  return n;
}

// ---- whose is it: a pid and its start time, so a reused pid does not pass for the owner ------

export function processStartTicks(pid: number): number | null {
  try {
    const fd = openSync(`/proc/${pid}/stat`, 'r');
    let stat: string;
    try {
      const buf = Buffer.alloc(4096);
      stat = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString();
    } finally {
      closeSync(fd);
    }
    // comm (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process is alive and, when its start time is known, the same one. */
export function processAlive(pid: number, startTicks: number | null): boolean {
  if (!pidAlive(pid)) return false;
  return startTicks === null || processStartTicks(pid) === startTicks;
}
