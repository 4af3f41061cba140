// Where output files go, the one home of every --json, --hgrm, --markdown, --junit and benchmark
// file of every command: the check made before a run (so a typo does not throw a run's
// measurements away at its end) and the writer every exporter uses.
//
// mcbench runs as root, often in folders others can write to (/tmp), so:
// - A new file is written to a temp file of a random name in the target's folder, opened
//   O_CREAT|O_EXCL|O_NOFOLLOW with mode 0600 (a link planted at that name is never followed:
//   the open fails and another name is tried), every write checked, fsynced, given the mode a
//   new file gets (0666 & ~umask), renamed over the target, and the folder fsynced. A reader sees
//   the old file or the whole new one. On failure the temp file is removed, the old file is
//   untouched, and the error is one line: `cannot write FILE: no space left on device` (exit 1).
// - A target that exists and is a character device or a FIFO (/dev/null, a tty, a pipe) is
//   written in place: opened without O_CREAT or O_TRUNC, never replaced by a regular file.
//   Directories, block devices and sockets are refused before the run (exit 2), as are paths
//   ending in '/' and paths under /proc and /sys.
// - A symbolic link at the target is followed only if it belongs to root or to this user (as the
//   kernel's protected_symlinks does in sticky folders): /dev/stdout -> /proc/self/fd/1 reaches
//   the terminal or pipe, a link of one's own to a regular file has that file replaced. A link of
//   anyone else is never followed: the rename replaces the link itself, not what it points to.
import { randomBytes } from 'node:crypto';
import {
  readFileSync, accessSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RunError, UsageError } from '../core/errors.js';
import { outputPath } from '../core/spec.js';

/** What writing a target means: replace `file` (a regular file or none yet), or write `path` in place. */
type Target = { kind: 'replace'; file: string } | { kind: 'in-place'; path: string };

const KERNEL_TREES = ['/proc', '/sys'];
const underKernelTree = (p: string) => KERNEL_TREES.some((t) => p === t || p.startsWith(`${t}/`));

const trustedLink = (st: Stats) => st.uid === 0 || st.uid === process.geteuid?.();

/** Why a target cannot be written at all (as a message after the path), or its kind. */
function classify(path: string): Target | { refuse: string } {
  if (path.endsWith('/')) return { refuse: 'ends in /: give a file name, not a folder' };
  const abs = resolve(path);
  if (underKernelTree(abs)) return { refuse: 'is under /proc or /sys: those are kernel files, not output files' };
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch {
    return { kind: 'replace', file: abs };
  }
  let file = abs;
  if (st.isSymbolicLink()) {
    if (!trustedLink(st)) return { kind: 'replace', file: abs };
    try {
      st = statSync(abs);
    } catch {
      return { kind: 'replace', file: abs }; // dangling: the link is replaced
    }
    if (st.isFile()) {
      try {
        file = realpathSync(abs);
      } catch {
        return { refuse: 'is a link whose file cannot be resolved' };
      }
    }
  }
  if (st.isDirectory()) return { refuse: 'is a folder: give a file name' };
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'in-place', path: abs };
  if (st.isSocket()) return { refuse: 'is a socket (for standard output, give -)' };
  if (!st.isFile()) return { refuse: 'is a device that is not written to (only regular files, character devices and FIFOs are)' };
  return { kind: 'replace', file };
}

/**
 * An output FILE flag, checked before the run: a file whose folder exists and can be written, or
 * a character device or FIFO that can be written; `-` is stdout. Returns the path, or null when
 * the flag was not given.
 */
export function checkOutputTarget(flag: string, raw: unknown): string | null {
  const path = outputPath(flag, raw);
  if (path === null || path === '-') return path;
  const t = classify(path);
  if ('refuse' in t) throw new UsageError(`${flag}: cannot write ${path}: it ${t.refuse}`);
  if (t.kind === 'in-place') {
    try {
      accessSync(t.path, constants.W_OK);
    } catch {
      throw new UsageError(`${flag}: cannot write ${path}: permission denied`);
    }
    return path;
  }
  const dir = dirname(t.file);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    if (underKernelTree(realpathSync(dir))) throw new Error('a kernel tree');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag}: cannot write ${path}: ${dir} is not a writable folder`);
  }
  return path;
}

/**
 * This process's umask, read from /proc/self/status: process.umask() with no argument sets it
 * twice to read it (a race with the threads' file creation), and Linux shows it without that.
 */
function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  } catch { /* no procfs: the common default */ }
  return 0o022;
}

/** `no space left on device` from ENOSPC: the strerror text Node puts after the code. */
function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENXIO') return 'no process has the FIFO open for reading';
  const m = /^E[A-Z0-9]+: ([^,]+)/.exec(err.message);
  return m ? m[1]! : err.message;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Every byte written or an error: short writes continue, EAGAIN (a full FIFO) waits a little. */
function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  let waited = 0;
  while (off < data.length) {
    let n: number;
    try {
      n = writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 30000) throw e;
      sleep(10);
      waited += 10;
      continue;
    }
    if (n <= 0) throw Object.assign(new Error('EIO: input/output error, write'), { code: 'EIO' });
    off += n;
  }
}

function writeInPlace(path: string, data: Buffer): void {
  // O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) instead of hanging the process.
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    // It was a device or FIFO when checked; if it is a file now, writing without O_TRUNC would
    // leave a mix of old and new: refuse instead.
    if (!st.isCharacterDevice() && !st.isFIFO()) throw Object.assign(new Error('EEXIST: changed into a regular file since it was checked'), { code: 'EEXIST' });
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

function openTemp(file: string): { fd: number; tmp: string } {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      return { fd: openSync(tmp, flags, 0o600), tmp };
    } catch (e) {
      // a name taken (planted, or astronomically unlucky): another random one
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 8) throw e;
    }
  }
}

function replaceFile(file: string, data: Buffer): void {
  const { fd, tmp } = openTemp(file);
  let open = true;
  try {
    writeAll(fd, data);
    // The mode a file made by creat() gets; 0600 until here so no one read it half written.
    fchmodSync(fd, 0o666 & ~currentUmask());
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(tmp, file);
  } catch (e) {
    if (open) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  // The rename is durable once the folder is on disk too.
  let dfd: number | null = null;
  try {
    dfd = openSync(dirname(file), constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(dfd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e; // a file system without folder fsync
  } finally {
    if (dfd !== null) closeSync(dfd);
  }
}

/**
 * Writes an output file: replaced atomically when it is (or will be) a regular file, written in
 * place when it is a character device or FIFO (see the top of this file). Any failure is a
 * RunError `cannot write PATH: REASON` (exit 1), with the old file left as it was.
 */
export function writeFileAtomic(path: string, text: string): void {
  const t = classify(path);
  if ('refuse' in t) throw new RunError(`cannot write ${path}: it ${t.refuse}`);
  const data = Buffer.from(text, 'utf8');
  try {
    if (t.kind === 'in-place') writeInPlace(t.path, data);
    else replaceFile(t.file, data);
  } catch (e) {
    throw new RunError(`cannot write ${path}: ${reason(e)}`);
  }
}
