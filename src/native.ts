// The one place that loads the addon. Loaded lazily (only send/recv need it) so `--help` and
// the pure commands start fast, and failing with one actionable message when it is not built.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from './core/errors.js';
import type { NativeLatency } from './core/latency.js';
import type { NativePingSnapshot, NativePongSnapshot, NativeRttHistograms } from './core/rtt.js';
import type { NativeReceiverSnapshot, NativeSenderSnapshot, ThreadErrorInfo } from './core/snapshots.js';

export type { NativeReceiverSnapshot, NativeSenderSnapshot, NativeSessionSnapshot, ThreadErrorInfo } from './core/snapshots.js';

export interface SenderOptions {
  group: string;
  port: number;
  interface: string;
  ttl: number;
  loop: boolean;
  length: number;
  batch: number;
  /** packets per second; 0 = unlimited */
  pps: number;
  /** 0 = no limit */
  count: number;
  /** 0 = no limit */
  durationNs: number;
  finCount: number;
  /** UDP GSO: datagrams per send; 0 = one per message */
  gsoSegments?: number;
  /** on EIO/EINVAL/EMSGSIZE from the first GSO send, go on one datagram per message */
  gsoFallback?: boolean;
  /** the session id, 16 hex digits (64 bits do not fit a Number); absent = random */
  sessionId?: string;
  /** --burst / --isochronous: units of datagrams back to back on a schedule (pps is then unused) */
  pattern?: 'burst' | 'isochronous';
  /** bursts or frames per second */
  unitsPerSecond?: number;
  /** --burst N */
  burstDatagrams?: number;
  /** --isochronous: the frames' log-normal size, mean and standard deviation, bytes */
  frameMeanBytes?: number;
  frameStddevBytes?: number;
  /** the frame size draws' seed */
  seed?: number;
  /** several -g: the groups after `group`, in -g order (datagram seq goes to group seq % all) */
  moreGroups?: string[];
}

export interface NativeSender {
  start(onDone: () => void): void;
  close(): void;
  snapshot(): NativeSenderSnapshot;
}

export interface ReceiverOptions {
  group: string;
  port: number;
  interface: string;
  rcvbuf: number;
  rcvbufForce: boolean;
  /** SSM: join (S,G) for each source address; empty = any source */
  sources: string[];
  /** several -g: the groups after `group`, all joined on one socket bound to the wildcard address */
  moreGroups?: string[];
  batch: number;
  maxDatagram: number;
  readPauseNs: number;
  /** UDP_GRO on the socket: coalesced buffers of datagrams are split by the receiver */
  gro: boolean;
  /** --coalesce in ns: the longest wait before a read after a dense batch; 0 = none */
  coalesceNs: number;
  latency: boolean;
  /** copy each datagram whole and check the sender's payload pattern (payloadErrors) */
  verifyPayload: boolean;
  /** --stall in ns; 0 = max(50 ms, 20x the median inter-arrival) */
  stallThresholdNs: number;
  /** --expect-session (16 hex digits): only this session reaches the session table, delay and stalls */
  expectSession?: string;
}

export interface NativeReceiver {
  start(onError: () => void): void;
  close(): void;
  /** withLatency: also the latency histograms, under the same lock as the counters */
  snapshot(withLatency?: boolean): NativeReceiverSnapshot;
  /** threadCpuNs: CPU time the receive thread used, known after close() */
  info(): { rcvbufActual: number; joinMonoNs: number; joinRealNs: number; threadCpuNs: number };
  latency(): NativeLatency;
}

/** One family's querier as the bridge sees it: itself when multicast_querier=1, or another one it heard. */
export interface NativeQuerierFamily {
  /** the querier's address; '0.0.0.0' or '::' when the bridge has none to say */
  address: string | null;
  /** ifindex of the port the other querier was heard on; null when none (the bridge itself) */
  port_ifindex: number | null;
  /** centiseconds left before the bridge stops believing in the other querier; null when it heard none */
  other_querier_timer_cs: number | null;
}

export interface NativeBridgeQuerierState {
  /** the kernel sent IFLA_BR_MCAST_QUERIER_STATE: it leaves it out when both families are null, and before 5.16 always */
  reported: boolean;
  /** null: the bridge neither queries in this family nor heard a querier within multicast_querier_interval */
  ipv4: NativeQuerierFamily | null;
  ipv6: NativeQuerierFamily | null;
}

/** RTT mode: the sockets of a ping (probes to the group) and of a pong (a reflector that joins it). */
export interface RttSocketOptions {
  group: string;
  port: number;
  /** name or address; '' = the routing table */
  interface: string;
  ttl?: number;
  loop?: boolean;
}

export interface PingOptions extends RttSocketOptions {
  /** probes per second */
  rate: number;
  /** 0 = until durationNs */
  count: number;
  durationNs: number;
  /** after the last probe, wait this long for late replies */
  waitNs: number;
  /** probe bytes (32 = the header alone) */
  length: number;
}

export interface NativePing {
  /** onDone: the thread ended (probed and waited, or close()) */
  start(onDone: () => void): void;
  close(): void;
  snapshot(): NativePingSnapshot;
  /** reflector i's histograms (index as in the snapshot), or null */
  histograms(i: number): NativeRttHistograms | null;
}

export interface NativePong {
  /** onError: the thread stopped on a socket error */
  start(onError: () => void): void;
  close(): void;
  snapshot(): NativePongSnapshot;
}

export interface SsmRouterOptions {
  /** the interface the sources are on (VIF 0) */
  upstream: string;
  /** the interface the receivers are on (VIF 1): IGMP read here, IGMPv3 queries sent here */
  downstream: string;
  /** seconds between the IGMPv3 general queries downstream */
  queryInterval: number;
}

export interface NativeSsmRouterSnapshot {
  igmpPackets: number;
  v3Reports: number;
  ssmRecords: number;
  excludeRecords: number;
  nonSsmRecords: number;
  /** IGMPv1/v2 reports and leaves for 232/8: no source in them, ignored (RFC 4604 2.2.1) */
  ignoredV1V2Ssm: number;
  ignoredV1V2Other: number;
  malformed: number;
  upstreamIgmp: number;
  kernelUpcalls: number;
  queriesSent: number;
  routesAdded: number;
  routesRemoved: number;
  routesRefused: number;
  routes: Array<{ source: string; group: string }>;
  running: boolean;
  error: ThreadErrorInfo | null;
}

/** the lab's SSM router (native/core/ssm_router.h): runs from construction until close() */
export interface NativeSsmRouter {
  close(): void;
  snapshot(): NativeSsmRouterSnapshot | null;
}

export interface Binding {
  Sender: new (o: SenderOptions) => NativeSender;
  Receiver: new (o: ReceiverOptions) => NativeReceiver;
  Ping: new (o: PingOptions) => NativePing;
  Pong: new (o: RttSocketOptions) => NativePong;
  SsmRouter: new (o: SsmRouterOptions) => NativeSsmRouter;
  headerLength: number;
  /** one IGMPv2 general query on the interface (raw socket: root) */
  sendIgmpQuery(iface: string, maxResponseDeciseconds: number): void;
  /** one MLD general query to ff02::1 on the interface (raw ICMPv6 socket: root); version 1 (RFC 2710) or 2 (RFC 3810) */
  sendMldQuery(iface: string, version: 1 | 2, maxResponseMs: number): void;
  /** what the bridge knows of the IGMP and MLD queriers (IFLA_BR_MCAST_QUERIER_STATE), in this network namespace */
  bridgeQuerierState(bridge: string): NativeBridgeQuerierState;
  /** flock(fd, LOCK_EX|LOCK_NB): true when taken, false when another open file holds it */
  flockTry(fd: number): boolean;
  /** flock(fd, LOCK_UN) */
  flockRelease(fd: number): void;
}

import { HEADER_LENGTH } from './core/wire.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
let cached: Binding | undefined;

export function loadBinding(): Binding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried = [join(packageRoot, 'build/Release/mcbench.node'), join(packageRoot, 'prebuilds/linux-' + process.arch)];
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    cached = nodeGypBuild(packageRoot) as Binding;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new RunError(`native addon not built: run \`npm install\` (or \`npm run build:native\`) in ${packageRoot}; tried: ${tried.join(', ')} (${why})`);
  }
  if (cached.headerLength !== HEADER_LENGTH) {
    throw new RunError(`native addon speaks a different wire format (header ${cached.headerLength} bytes): rebuild with \`npm run build:native\``);
  }
  return cached;
}
