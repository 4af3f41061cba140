// Where the processes of a run live, behind one interface, so run/ab/suite never branch on the
// kind: guests of a lab (one namespace each, a bridge between), one private namespace with only
// lo for every "guest" (--local), and, with the same interface, the user's own hosts.
import type { ChildProcess } from 'node:child_process';
import type { LabSpecInput } from '../core/lab-spec.js';
import type { BridgeMulticast, HostFacts, SettingChange } from '../core/run-report.js';

/** Settings changed for one run; restore() puts them back and returns what it could not. */
export interface AppliedChanges {
  changes: SettingChange[];
  restore(): Promise<string[]>;
}

/** The hosts of one piece of work: host 1 sends, hosts 2..N receive (as the lab's g1, g2, …). */
export interface Hosts {
  /** how many hosts there are */
  readonly count: number;
  /** the host's name in reports (g1, g2, … in a lab) */
  name(host: number): string;
  /** the interface the processes on that host use (-I) */
  iface(host: number): string;
  /** the host's own address of that family on iface(host), what an SSM receiver names as the source (`--source sender`); absent or null when not known */
  address?(host: number, family: 'ipv4' | 'ipv6'): string | null;
  /** starts `mcbench ARGS` on the host, stdout and stderr piped */
  spawnMcbench(host: number, args: readonly string[]): ChildProcess;
  /** sets sysctls for one run (saved first, restored by the caller on every path); signal ends a wait for another process's lock */
  applySettings(values: Record<string, number | string>, signal?: AbortSignal): Promise<AppliedChanges>;
  /** the bridge's multicast settings, read back; null without a bridge of ours */
  bridge(): BridgeMulticast | null;
  /**
   * every host reads one kernel clock (lab namespaces, --local), so the clock offset is truly 0
   * and one-way delays need no clock caveat; absent (false) for separate machines
   */
  readonly sharedClock?: boolean;
  /** the user's own hosts (--hosts): each host's facts and settings snapshot, for the report */
  facts?(): HostFacts[];
}

/** What one piece of work needs of its hosts. */
export interface HostsNeed {
  /** sender + receivers */
  guests: number;
  /** the lab bridge's and links' knobs (a lab only) */
  lab: LabSpecInput;
  /** sysctls the work will change */
  sysctls: Record<string, number | string>;
}

/** A kind of place: makes the hosts for a piece of work and removes them after. */
export interface Place {
  readonly kind: 'lab' | 'local' | 'ssh';
  /** why this place cannot do the work (shown as "skipped: …"); null when it can */
  refuse(need: HostsNeed): string | null;
  /** runs fn on hosts made for it; they are removed afterwards, on every path */
  withHosts<T>(need: HostsNeed, signal: AbortSignal, fn: (hosts: Hosts, signal: AbortSignal) => Promise<T>): Promise<T>;
}
