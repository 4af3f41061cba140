// Where processes run: pick the place from the command's flags.
import { labPlace } from './lab.js';
import { localPlace } from './local.js';
import type { Place } from './hosts.js';

export type { AppliedChanges, Hosts, HostsNeed, Place } from './hosts.js';
export { PrivateNetns } from './local.js';

export function placeFor(opts: { local: boolean; labName: string; log: (line: string) => void }): Place {
  return opts.local ? localPlace() : labPlace({ name: opts.labName, log: opts.log });
}
