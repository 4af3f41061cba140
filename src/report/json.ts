import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

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

/** `--json FILE` writes atomically; `--json -` prints to stdout. */
export function emitJson(target: string, result: unknown): void {
  const text = JSON.stringify(result, null, 2) + '\n';
  if (target === '-') process.stdout.write(text);
  else writeFileAtomic(target, text);
}
