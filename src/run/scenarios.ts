// Named scenarios: the seeds' failures, reproduced on the lab, each with the variant that shows
// the failure and the variant with the kernel setting that fixes it.
import type { LabSpecInput } from '../lab/index.js';

export interface ScenarioVariant {
  name: string;
  /** one line: what is different in this variant */
  describe: string;
  /** global sysctls set for the variant (saved and restored) */
  sysctls: Record<string, number>;
  /** bridge and link knobs of the variant's lab */
  lab: LabSpecInput;
  /** extra receiver flags */
  recvArgs: string[];
  /** g1 plays an upstream querier that is seen once, then goes quiet (see Scenario.upstreamQuery) */
  upstreamQuerierOnce?: boolean;
}

export interface Scenario {
  name: string;
  title: string;
  seed: string;
  /** guests: g1 sends, the others receive */
  guests: number;
  /** the story needs the lab's bridge (it cannot run --local, on lo) */
  needsBridge: boolean;
  group: string;
  port: number;
  /** sender flags (rate, size, duration) */
  sendArgs: string[];
  /** receiver flags common to every variant */
  recvArgs: string[];
  /** seconds the sender runs; the harness adds its own margins */
  seconds: number;
  /**
   * g1 also plays the upstream switch's querier: one IGMPv2 general query (this Max Resp Time, s)
   * after the receivers joined and before the sender starts, then silence.
   */
  upstreamQuery?: { maxResponseSeconds: number };
  variants: ScenarioVariant[];
}

const RMEM_DEFAULT = 212992; // the kernel's built-in default for rmem_default and rmem_max

export const SCENARIOS: Scenario[] = [
  {
    name: 'seed-001-rmem',
    title: 'receive buffer clamped by net.core.rmem_max (corosync on VMware, seed 001)',
    seed: '001',
    guests: 3,
    needsBridge: false,
    group: '239.255.0.1',
    port: 5001,
    // As fast as the sender goes: bursts a 212 KB buffer cannot absorb while the reader is off-CPU.
    sendArgs: ['-b', '0', '-l', '1400', '-t', '3'],
    // The application asks for 25 MiB, as corosync does; the kernel grants at most rmem_max.
    recvArgs: ['--rcvbuf', '25M'],
    seconds: 3,
    variants: [
      {
        name: 'default',
        describe: `net.core.rmem_max=${RMEM_DEFAULT} (the kernel's default): SO_RCVBUF 25M is clamped`,
        sysctls: { 'net.core.rmem_max': RMEM_DEFAULT },
        lab: { snooping: 0 },
        recvArgs: [],
      },
      {
        name: 'tuned',
        describe: 'net.core.rmem_max=26214400: the 25M buffer is granted',
        sysctls: { 'net.core.rmem_max': 26214400 },
        lab: { snooping: 0 },
        recvArgs: [],
      },
    ],
  },
  {
    name: 'seed-002-querier',
    title: 'multicast stops on a snooping bridge once the querier goes quiet (RHEL 6.5 KVM guests, seed 002)',
    seed: '002',
    guests: 3,
    needsBridge: true,
    group: '239.255.0.2',
    port: 5002,
    // A 10 pps probe: loss here is not load, it is the bridge no longer forwarding.
    sendArgs: ['--pps', '10', '-l', '200', '-t', '14'],
    // The stall is the finding, not a dead sender: wait through it.
    recvArgs: ['--idle-timeout', '20'],
    seconds: 14,
    // The seed's bridge saw an upstream querier once; snooping then trusts its table, entries
    // expire after the membership interval, and forwarding resumes only when the other-querier
    // timer runs out. The seed's own timers are minutes; these are the same story in seconds.
    upstreamQuery: { maxResponseSeconds: 0.5 },
    variants: [
      {
        name: 'default',
        describe: 'snooping on, multicast_querier 0: nobody queries after the first one',
        sysctls: {},
        lab: { snooping: 1, querier: 0, membershipInterval: 3, querierInterval: 10, responseInterval: 1, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
      {
        name: 'tuned',
        describe: 'multicast_querier 1: the bridge takes over querying when the upstream querier falls silent',
        sysctls: {},
        // As on a real bridge (255 s < 260 s), the bridge waits less for a silent querier than a
        // membership lasts; with the seconds-scale timers that means querierInterval 2 < 3.
        // startupQueryInterval is derived from the query interval only when the bridge is made,
        // so it is set too (otherwise the bridge's first queries come 31 s late).
        lab: { snooping: 1, querier: 1, membershipInterval: 3, querierInterval: 2, queryInterval: 1, responseInterval: 1, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
    ],
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
