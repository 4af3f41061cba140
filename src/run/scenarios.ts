// Named scenarios: the seeds' failures, reproduced on the lab, each with the variant that shows
// the failure and the variant with the kernel setting that fixes it.
import { shown, UsageError } from '../core/errors.js';
import { recvSpec, sendSpec } from '../core/spec.js';
import { unitsPerSecond } from '../core/pattern.js';
import { parseSetItem } from '../core/sysctl.js';
import { checkSysctlWritable } from '../host/sysctl.js';
import { inRange, parseCount } from '../core/units.js';
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
   * seconds a receiver waits past `seconds` before it gives up (default 20): a scenario whose
   * failure is a receiver that hears nothing at all (no FIN to end it) waits only this long
   */
  receiverMarginSeconds?: number;
  /**
   * g1 also plays the upstream switch's querier: one IGMPv2 general query (this Max Resp Time, s)
   * after the receivers joined and before the sender starts, then silence.
   */
  upstreamQuery?: {
    maxResponseSeconds: number;
    /** the query's protocol: an IGMPv2 general query (IPv4 groups) or an MLDv2 one (IPv6); default igmp */
    protocol?: 'igmp' | 'mld';
    /**
     * Seconds between the query and the sender's start. A bridge that is a querier itself briefly
     * stops forwarding (0.5-1 s, in about one run in six on this kernel) while it settles the
     * election with the new querier: that start-up effect is not the story, so it is waited out.
     */
    settleSeconds: number;
  };
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
    upstreamQuery: { maxResponseSeconds: 0.5, settleSeconds: 1.5 },
    variants: [
      {
        name: 'default',
        describe: 'snooping on, multicast_querier 0: nobody queries after the first one',
        sysctls: {},
        lab: { snooping: 1, querier: 0, membershipInterval: 4, querierInterval: 10, responseInterval: 1, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
      {
        name: 'tuned',
        describe: 'multicast_querier 1: the bridge takes over querying when the upstream querier falls silent',
        sysctls: {},
        // As on a real bridge (255 s < 260 s), the bridge waits less for a silent querier than a
        // membership lasts, with room for its query and the reports to it: querierInterval 1 s,
        // response 0.5 s, against memberships of 4 s (2 s with a 1 s response was too tight:
        // a stall in about one run in five). startupQueryInterval is derived from the query
        // interval only when the bridge is made, so it is set too (else 31 s late).
        lab: { snooping: 1, querier: 1, membershipInterval: 4, querierInterval: 1, queryInterval: 1, responseInterval: 0.5, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
    ],
  },
  {
    name: 'seed-002-querier-ipv6',
    title: 'seed 002 over IPv6: MLD memberships on a snooping bridge expire once the MLD querier goes quiet',
    seed: '002',
    guests: 3,
    needsBridge: true,
    group: 'ff15::2:2',
    port: 5002,
    // A 10 pps probe: loss here is not load, it is the bridge no longer forwarding.
    sendArgs: ['--pps', '10', '-l', '200', '-t', '14'],
    // The stall is the finding, not a dead sender: wait through it.
    recvArgs: ['--idle-timeout', '20'],
    seconds: 14,
    // The same story with MLD: g1 sends one MLDv2 general query, the bridge's MLD snooping learns
    // the receivers' reports, then forgets them after the membership interval.
    upstreamQuery: { maxResponseSeconds: 0.5, settleSeconds: 1.5, protocol: 'mld' },
    variants: [
      {
        name: 'default',
        describe: 'snooping on, multicast_querier 0: nobody queries after the first one',
        sysctls: {},
        lab: { snooping: 1, querier: 0, membershipInterval: 4, querierInterval: 10, responseInterval: 1, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
      {
        name: 'tuned',
        describe: 'multicast_querier 1: the bridge takes over querying when the upstream querier falls silent',
        sysctls: {},
        // As on a real bridge (255 s < 260 s), the bridge waits less for a silent querier than a
        // membership lasts, with room for its query and the reports to it: querierInterval 1 s,
        // response 0.5 s, against memberships of 4 s (2 s with a 1 s response was too tight:
        // a stall in about one run in five). startupQueryInterval is derived from the query
        // interval only when the bridge is made, so it is set too (else 31 s late).
        lab: { snooping: 1, querier: 1, membershipInterval: 4, querierInterval: 1, queryInterval: 1, responseInterval: 0.5, startupQueryInterval: 1 },
        recvArgs: [],
        upstreamQuerierOnce: true,
      },
    ],
  },
  {
    name: 'burst-rmem',
    title: 'bursts bigger than the socket buffer lose packets at a low average rate (22 Mbit/s)',
    seed: '-',
    guests: 3,
    needsBridge: false,
    group: '239.255.0.3',
    port: 5003,
    // 1000 datagrams of 1400 bytes back to back (one sendmmsg) every 0.5 s: 2000 pps, 22.4 Mbit/s
    // on average, but 1.4 MB at once, several times what a 212 KB buffer holds (each datagram
    // costs its skb's truesize, about 2.3 KB, against SO_RCVBUF).
    sendArgs: ['--burst', '1000', '--burst-interval', '0.5', '-l', '1400', '-t', '4'],
    // The application asks for 8 MiB, as a receiver sized for its bursts would; the 0.5 s
    // silences between bursts are the pattern, not stalls.
    recvArgs: ['--rcvbuf', '8M', '--stall', '1'],
    seconds: 4,
    variants: [
      {
        name: 'default',
        describe: `net.core.rmem_max=${RMEM_DEFAULT} (the kernel's default): SO_RCVBUF 8M is clamped to ${2 * RMEM_DEFAULT}`,
        sysctls: { 'net.core.rmem_max': RMEM_DEFAULT },
        lab: { snooping: 0 },
        recvArgs: [],
      },
      {
        name: 'tuned',
        describe: 'net.core.rmem_max=8388608: the 8M buffer is granted, a whole burst fits',
        sysctls: { 'net.core.rmem_max': 8388608 },
        lab: { snooping: 0 },
        recvArgs: [],
      },
    ],
  },
  {
    name: 'ssm-igmpv2',
    title: 'an SSM join behind an SSM router from a receiver pinned to IGMPv2 (force_igmp_version=2) gets nothing, silently',
    seed: '-',
    guests: 2,
    // g2 sits behind the lab's SSM router (LabSpec.ssmRouter), which drops what the bridge keeps
    needsBridge: true,
    group: '232.1.1.1',
    port: 5004,
    // TTL 8: the router forwards only datagrams with TTL 2 or more (it takes one)
    sendArgs: ['--pps', '2000', '-l', '200', '-t', '1', '--ttl', '8'],
    // (S,G) with S the sender; an idle receiver stops 3 s after the sender's end
    recvArgs: ['--source', 'sender', '--idle-timeout', '3'],
    seconds: 1,
    // the pinned receiver hears nothing, so only its time limit ends it: lab up and the sender's
    // start take about 2 s, the rest is margin
    receiverMarginSeconds: 6,
    variants: [
      {
        name: 'default',
        describe: 'g2 pinned to IGMPv2 (force_igmp_version=2): its join leaves as a v2 report without the source, which an SSM router ignores (RFC 4604 2.2.1)',
        sysctls: {},
        lab: { snooping: 0, ssmRouter: true, forceIgmpVersion: [null, 2] },
        recvArgs: [],
      },
      {
        name: 'tuned',
        describe: 'force_igmp_version=0 (the kernel default): an IGMPv3 report naming the source, the router forwards (S,G)',
        sysctls: {},
        lab: { snooping: 0, ssmRouter: true, forceIgmpVersion: [null, 0] },
        recvArgs: [],
      },
    ],
  },
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** The scenario flags (scenarioOptions) as a user types them; a named scenario sets them all itself. */
const SCENARIO_FLAGS: Array<[key: string, shown: string]> = [
  ['group', '-g/--group'], ['port', '-p/--port'], ['bandwidth', '-b/--bandwidth'], ['pps', '--pps'], ['length', '-l/--length'],
  ['time', '-t/--time'], ['rcvbuf', '--rcvbuf'], ['rcvbuf-force', '--rcvbuf-force'], ['verify-payload', '--verify-payload'], ['coalesce', '--coalesce'], ['gro', '--gro'], ['receivers', '--receivers'],
  ['snooping', '--snooping'], ['querier', '--querier'], ['set', '--set'], ['gso', '--gso'], ['source', '--source'],
  ['burst', '--burst'], ['burst-interval', '--burst-interval'], ['isochronous', '--isochronous'], ['seed', '--seed'],
];

/**
 * A named scenario is the seed's story with its own group, rates, buffers, receivers and kernel
 * settings: a flag that would change them is refused (exit 2, naming it), never silently ignored.
 */
export function rejectUnusedFlags(scenario: string, a: Record<string, unknown>): void {
  // With --hosts, --receivers names the receiving hosts (where it runs, not what it runs).
  const given = SCENARIO_FLAGS.filter(([key]) => a[key] !== undefined && !(key === 'receivers' && a.hosts !== undefined)).map(([, name]) => name);
  if (given.length === 0) return;
  throw new UsageError(
    `--scenario ${scenario}: ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} not used by a named scenario ` +
      '(it sets its own group, port, rates, buffers, receivers and settings); drop them, or run without --scenario',
  );
}

/** The flags of an ad-hoc `mcbench run` (no --scenario), as yargs gives them. */
export interface CustomRunFlags {
  group?: unknown;
  port?: unknown;
  bandwidth?: unknown;
  pps?: unknown;
  length?: unknown;
  time?: unknown;
  rcvbuf?: unknown;
  'rcvbuf-force'?: unknown;
  'verify-payload'?: unknown;
  coalesce?: unknown;
  gro?: unknown;
  receivers?: unknown;
  set?: unknown;
  snooping?: unknown;
  querier?: unknown;
  gso?: unknown;
  source?: unknown;
  burst?: unknown;
  'burst-interval'?: unknown;
  isochronous?: unknown;
  seed?: unknown;
}

/**
 * `--set net.core.rmem_max=26214400` (repeatable) to a sysctl map, every item checked before
 * anything is made: the value's type (core/sysctl.ts) and a readable, writable /proc/sys file.
 */
export function parseSetFlags(raw: unknown, flag = '--set'): Record<string, number | string> {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out: Record<string, number | string> = {};
  for (const item of list) {
    const { key, value } = parseSetItem(flag, item);
    if (key in out) throw new UsageError(`${flag}: ${key} is given twice`);
    checkSysctlWritable(flag, key);
    out[key] = value;
  }
  return out;
}

/**
 * A one-variant scenario from the flags of an ad-hoc run: the flags are validated here, with the
 * same rules as send/recv, so a bad value fails once, before any lab is made.
 */
export function customScenario(f: CustomRunFlags): Scenario {
  const group = f.group === undefined ? '239.255.0.1' : shown(f.group);
  const port = f.port === undefined ? '5001' : shown(f.port);
  const sendArgs = ['-l', shown(f.length ?? 1400), '-t', shown(f.time ?? 5)];
  // a traffic pattern sets the sender's rate itself (sendSpec refuses -b/--pps with one)
  const patterned = f.burst !== undefined || f['burst-interval'] !== undefined || (f.isochronous !== undefined && f.isochronous !== false);
  if (patterned) sendArgs.push(...patternArgs(f));
  else if (f.pps !== undefined) sendArgs.push('--pps', shown(f.pps));
  else sendArgs.push('-b', shown(f.bandwidth ?? '100M'));
  if (f.gso !== undefined && f.gso !== false) sendArgs.push(f.gso === true ? '--gso' : `--gso=${shown(f.gso)}`);
  // The receivers' own flags: turned into their arguments below and checked, all of them, as recv takes them.
  const recvFlags = { rcvbuf: f.rcvbuf, 'rcvbuf-force': f['rcvbuf-force'], 'verify-payload': f['verify-payload'], coalesce: f.coalesce, gro: f.gro };
  const recvArgs: string[] = [];
  if (f.rcvbuf !== undefined) recvArgs.push('--rcvbuf', shown(f.rcvbuf));
  if (f['rcvbuf-force'] === true) recvArgs.push('--rcvbuf-force');
  if (f['verify-payload'] === true) recvArgs.push('--verify-payload');
  if (f.coalesce !== undefined) recvArgs.push('--coalesce', shown(f.coalesce));
  if (f.gro === true) recvArgs.push('--gro');
  const sources = f.source === undefined ? [] : (Array.isArray(f.source) ? f.source : [f.source]).map(shown);
  for (const s of sources) recvArgs.push('--source', s);
  const send = sendSpec({ group, port, interface: 'eth0', length: f.length, time: f.time ?? 5, pps: f.pps, bandwidth: f.pps === undefined && !patterned ? (f.bandwidth ?? '100M') : f.bandwidth, gso: f.gso,
    burst: f.burst, 'burst-interval': f['burst-interval'], isochronous: f.isochronous, seed: f.seed });
  // `--source sender`: the sending host's address, known once the hosts exist; checked here as one of the group's family
  const stand = group.includes(':') ? 'fd00::1' : '10.0.0.1';
  recvSpec({ group, port, ...recvFlags, source: sources.map((s) => (s === 'sender' ? stand : s)), interface: 'eth0' });
  // The silences between bursts or frames are the pattern: a stall is a silence well past one.
  if (send.pattern) recvArgs.push('--stall', String(Math.min(3600, Math.max(0.05, 2.5 / unitsPerSecond(send.pattern)))));
  const receivers = f.receivers === undefined ? 2 : inRange('--receivers', parseCount('--receivers', f.receivers), 1, 15);
  const sysctls = parseSetFlags(f.set) as Record<string, number>;
  const lab: LabSpecInput = {};
  if (f.snooping !== undefined) lab.snooping = f.snooping === '1' || f.snooping === 1 ? 1 : f.snooping === '0' || f.snooping === 0 ? 0 : (() => { throw new UsageError(`--snooping: '${shown(f.snooping)}' is out of range (0 or 1)`); })();
  if (f.querier !== undefined) lab.querier = f.querier === '1' || f.querier === 1 ? 1 : f.querier === '0' || f.querier === 0 ? 0 : (() => { throw new UsageError(`--querier: '${shown(f.querier)}' is out of range (0 or 1)`); })();
  const describe = [
    send.pps > 0 ? sendArgs.join(' ') : `unlimited rate ${sendArgs.join(' ')}`,
    recvArgs.length ? `receivers ${recvArgs.join(' ')}` : '',
    ...Object.entries(sysctls).map(([k, v]) => `${k}=${v}`),
  ].filter(Boolean).join(', ');
  return {
    name: 'custom',
    title: 'ad-hoc run from the command line',
    seed: '-',
    guests: receivers + 1,
    needsBridge: lab.snooping !== undefined || lab.querier !== undefined,
    // a range (-g 239.1.1.1-239.1.1.10) goes to the sender and receivers as given
    group: send.groups.length > 1 ? group : send.group,
    port: send.port,
    sendArgs,
    recvArgs,
    seconds: send.timeSeconds ?? 5,
    variants: [{ name: 'custom', describe, sysctls, lab, recvArgs: [] }],
  };
}

/** The pattern flags of an ad-hoc run as the sender's arguments (validated by sendSpec). */
function patternArgs(f: CustomRunFlags): string[] {
  const args: string[] = [];
  if (f.burst !== undefined) args.push('--burst', shown(f.burst));
  if (f['burst-interval'] !== undefined) args.push('--burst-interval', shown(f['burst-interval']));
  if (f.isochronous !== undefined && f.isochronous !== false) args.push(f.isochronous === true || f.isochronous === '' ? '--isochronous' : `--isochronous=${shown(f.isochronous)}`);
  if (f.seed !== undefined) args.push('--seed', shown(f.seed));
  return args;
}
