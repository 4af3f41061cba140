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
}

export interface Scenario {
  name: string;
  title: string;
  seed: string;
  /** guests: g1 sends, the others receive */
  guests: number;
  group: string;
  port: number;
  /** sender flags (rate, size, duration) */
  sendArgs: string[];
  /** receiver flags common to every variant */
  recvArgs: string[];
  /** seconds the sender runs; the harness adds its own margins */
  seconds: number;
  variants: ScenarioVariant[];
}

const RMEM_DEFAULT = 212992; // the kernel's built-in default for rmem_default and rmem_max

export const SCENARIOS: Scenario[] = [
  {
    name: 'seed-001-rmem',
    title: 'receive buffer clamped by net.core.rmem_max (corosync on VMware, seed 001)',
    seed: '001',
    guests: 3,
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
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
