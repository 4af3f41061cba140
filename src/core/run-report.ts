// The mcbench/run@1 document: one scenario's variants, each with its sender's and receivers'
// results, and the per-run figures ab and suite compare. Pure types and functions.
import type { ReceiverResult, SenderResult } from './result.js';
import type { LabSpecInput } from './lab-spec.js';
import type { GroupFigures } from './group.js';
import type { RunClocks } from './clock.js';
import type { KernelSettingsSnapshot } from './settings.js';

/** A sysctl a variant changed for its run, and what it was before (restored after). */
export interface SettingChange {
  id: string;
  before: string;
  after: string;
  /** the host it was changed on (runs on the user's own hosts, --hosts); absent: this host */
  host?: string;
}

/** A host of a run on the user's own hosts (--hosts): what it is and how it was set. */
export interface HostFacts {
  name: string;
  role: 'sender' | 'receiver';
  /** the ssh destination; null for a local host */
  ssh: string | null;
  local: boolean;
  interface: string;
  mcbench_version: string;
  /** the mcbench it ran: the inventory's `mcbench:`, the path `hosts install` recorded, or 'mcbench' (on the host's PATH) */
  mcbench_command: string;
  /** the host's kernel settings for that interface, read before the run */
  settings: KernelSettingsSnapshot | null;
}

export const RUN_SCHEMA = 'mcbench/run@1' as const;

export interface ReceiverOutcome {
  guest: string;
  /** null when the receiver produced no result (it crashed or was killed) */
  result: ReceiverResult | null;
  exit_code: number | null;
  /** its stderr, when it failed */
  error: string | null;
}

/** The lab bridge's multicast settings, read back from sysfs after the variant ran. */
export interface BridgeMulticast {
  name: string;
  multicast_snooping: number | null;
  multicast_querier: number | null;
  /** centiseconds, as sysfs shows them */
  multicast_membership_interval: number | null;
  multicast_querier_interval: number | null;
  multicast_query_interval: number | null;
}

export interface VariantOutcome {
  name: string;
  describe: string;
  settings_applied: SettingChange[];
  lab: LabSpecInput;
  /** null in a --local run (no bridge) */
  bridge: BridgeMulticast | null;
  /** why the variant did not run (e.g. it needs root); null when it ran */
  skipped: string | null;
  sender: SenderResult | null;
  receivers: ReceiverOutcome[];
  /** RFC 5644 one-to-group figures over the receivers' results; null when the variant did not run */
  group: GroupFigures | null;
  /** each receiver's clock against the sender's, before and after the run; null when the variant did not run */
  clocks: RunClocks | null;
  /** the hosts it ran on, with their settings (runs with --hosts only) */
  hosts?: HostFacts[];
  partial: boolean;
}

export interface RunReport {
  schema: typeof RUN_SCHEMA;
  scenario: { name: string; title: string; seed: string };
  started: string;
  variants: VariantOutcome[];
  partial: boolean;
}
