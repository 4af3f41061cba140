// Where processes run: pick the place from the command's flags.
import type { Inventory } from '../core/inventory.js';
import { labPlace } from './lab.js';
import { localPlace } from './local.js';
import { sshPlace } from './ssh.js';
import type { Place } from './hosts.js';

export type { AppliedChanges, Hosts, HostsNeed, Place } from './hosts.js';
export { PrivateNetns } from './local.js';

export interface OwnHosts {
  inventory: Inventory;
  /** hosts where settings are applied (--on) */
  settingsOn: readonly string[];
  /** --ssh-option KEY=VALUE pairs */
  sshOptions: readonly string[];
}

export function placeFor(opts: { local: boolean; labName: string; log: (line: string) => void; hosts?: OwnHosts | null }): Place {
  if (opts.hosts) return sshPlace(opts.hosts.inventory, { settingsOn: opts.hosts.settingsOn, sshOptions: opts.hosts.sshOptions, log: opts.log });
  return opts.local ? localPlace() : labPlace({ name: opts.labName, log: opts.log });
}
