// Where output files go: the check made before a run (so a typo does not throw a run's
// measurements away at its end) and the atomic writer every exporter uses.
import { accessSync, closeSync, constants, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { outputPath } from '../core/spec.js';

/**
 * An output FILE flag, checked before the run: its folder must exist and be writable. `-` is
 * stdout. Returns the path, or null when the flag was not given.
 */
export function checkOutputTarget(flag: string, raw: unknown): string | null {
  const path = outputPath(flag, raw);
  if (path === null || path === '-') return path;
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a folder');
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag}: cannot write ${path}: ${dir} is not a writable folder`);
  }
  return path;
}

/** Writes a file atomically: a reader sees the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
