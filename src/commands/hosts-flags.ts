// `--hosts FILE` and its companions on run, ab and suite (and the file of `hosts check|restore|
// install`): the inventory read here (a regular file, at most 1 MiB) and validated by
// core/inventory.ts before anything connects; bad input is one line, exit 2.
import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.js';
import { InputFileError, readInputFile } from '../host/input-file.js';
import { parseInventory, parseSshOptions, settingsHosts, withRoles, type Inventory } from '../core/inventory.js';

const MAX_BYTES = 1 << 20;

/** Reads and validates an inventory file; `flag` prefixes every message (e.g. '--hosts'). */
export function readInventory(flag: string, file: string): Inventory {
  let text: string;
  try {
    text = readInputFile(file, MAX_BYTES, 'an inventory');
  } catch (e) {
    if (e instanceof InputFileError) throw new UsageError(`${flag}: ${file}: ${e.message}`);
    throw e;
  }
  try {
    return parseInventory(text);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${flag}: ${file}: ${e.message}`);
    throw e;
  }
}

export function hostsOptions<T>(y: Argv<T>) {
  return y
    .option('hosts', { type: 'string', describe: 'run on your own hosts over ssh: an inventory FILE (YAML/JSON: hosts, sender, receivers)' })
    .option('sender', { type: 'string', describe: 'with --hosts: the sending host (overrides the file)' })
    .option('on', { type: 'string', describe: 'with --hosts: hosts where settings are applied, g2,g3 [default: the receivers]' })
    .option('ssh-option', { type: 'string', array: true, describe: 'with --hosts: an ssh -o KEY=VALUE (repeatable)' });
}

export interface HostsFlags {
  inventory: Inventory;
  settingsOn: string[];
  sshOptions: string[];
}

/**
 * The --hosts flags, or null without --hosts (then --sender/--on/--ssh-option are refused: they
 * would be silently ignored). With --hosts, --receivers names hosts (g2,g3), not a count.
 */
export function hostsFromFlags(a: Record<string, unknown>): HostsFlags | null {
  const file = a.hosts;
  if (file === undefined || file === null) {
    for (const f of ['sender', 'on', 'ssh-option']) if (a[f] !== undefined) throw new UsageError(`--${f}: only with --hosts FILE`);
    return null;
  }
  if (typeof file !== 'string' || file === '') throw new UsageError('--hosts: give the inventory FILE');
  if (a.local === true) throw new UsageError('--hosts: not with --local (the inventory says where processes run; a host can be local: true)');
  const base = readInventory('--hosts', file);
  const inventory = withRoles(base, {
    sender: typeof a.sender === 'string' ? a.sender : null,
    receivers: typeof a.receivers === 'string' ? a.receivers : typeof a.receivers === 'number' ? String(a.receivers) : null,
  });
  return { inventory, settingsOn: settingsHosts(inventory, typeof a.on === 'string' ? a.on : null), sshOptions: parseSshOptions(a['ssh-option']) };
}
