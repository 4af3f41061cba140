// What the lab and the private namespace share: both run this installation's mcbench, and
// both change settings on this host's kernel.
import { fileURLToPath } from 'node:url';
import { applyKernelSettingsWaiting } from '../host/apply.js';
import type { AppliedChanges } from './hosts.js';

export const MCBENCH_JS = fileURLToPath(new URL('../../bin/mcbench.js', import.meta.url));

/**
 * Sysctls set on this host (global ones such as net.core.rmem_max reach every namespace). Waits
 * while another mcbench holds one of them (it says so); signal ends the wait.
 */
export async function applyHere(values: Record<string, number | string>, signal?: AbortSignal): Promise<AppliedChanges> {
  const applied = await applyKernelSettingsWaiting(values, signal ? { signal } : {});
  return { changes: applied.changes, restore: () => Promise.resolve(applied.restore()) };
}
