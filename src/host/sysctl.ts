// Whether a sysctl named by `--set` can be set and put back on this host, asked before anything
// is made. The mode of the /proc/sys file is the kernel's table mode (it checks those bits even
// for root), so it answers the same for root and for a user checking a command line.
import { lstatSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { sysctlPath } from '../core/sysctl.js';

/** Throws a UsageError (prefixed by `flag`) unless KEY is a readable and writable sysctl file. */
export function checkSysctlWritable(flag: string, key: string): void {
  const path = sysctlPath(key);
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`${flag}: ${key} is not a sysctl on this host (no ${path})`);
    throw new UsageError(`${flag}: ${key}: cannot look at ${path}: ${code ?? (e as Error).message}`);
  }
  if (st.isDirectory()) throw new UsageError(`${flag}: ${key} is a group of sysctls, not one (${path} is a folder; name one of its files)`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${key}: ${path} is not a sysctl file`);
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  if ((st.mode & 0o200) === 0) throw new UsageError(`${flag}: ${key} is read-only here (mode ${mode})`);
  // a write-only one (net.ipv4.route.flush) cannot be read back, so it cannot be restored
  if ((st.mode & 0o400) === 0) throw new UsageError(`${flag}: ${key} is write-only (mode ${mode}): its value cannot be saved to restore it`);
}
