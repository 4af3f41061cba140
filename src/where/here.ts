// What the lab and the private namespace share: both run this installation's mcbench, and
// both change settings on this host's kernel.
import { fileURLToPath } from 'node:url';
import { applyKernelSettings } from '../host/apply.js';
import type { AppliedChanges } from './hosts.js';

export const MCBENCH_JS = fileURLToPath(new URL('../../bin/mcbench.js', import.meta.url));

/** Sysctls set on this host (global ones such as net.core.rmem_max reach every namespace). */
export function applyHere(values: Record<string, number | string>): Promise<AppliedChanges> {
  const applied = applyKernelSettings(values);
  return Promise.resolve({ changes: applied.changes, restore: () => Promise.resolve(applied.restore()) });
}
