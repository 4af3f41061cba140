// The one place that loads the addon. Loaded lazily (only send/recv need it) so `--help` and
// the pure commands start fast, and failing with one actionable message when it is not built.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from './core/errors.js';
import type { NativeLatency } from './core/latency.js';

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
}

export interface ThreadErrorInfo extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export interface NativeSenderSnapshot {
  sessionId: string;
  sent: number;
  bytes: number;
  calls: number;
  enobufs: number;
  eagain: number;
  finsSent: number;
  startMonoNs: number;
  endMonoNs: number;
  maxLateNs: number;
  lateSumNs: number;
  /** CPU time of the sending thread (until the last DATA packet), ns; 0 while it runs */
  threadCpuNs: number;
  /** CLOCK_MONOTONIC of the first and the last sendmmsg call that sent something */
  firstSendMonoNs: number;
  lastSendMonoNs: number;
  done: boolean;
  error: ThreadErrorInfo | null;
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
  batch: number;
  maxDatagram: number;
  readPauseNs: number;
  latency: boolean;
}

export interface NativeSessionSnapshot {
  sessionId: string;
  started: boolean;
  firstSeq: number;
  maxSeq: number;
  unique: number;
  expected: number;
  lost: number;
  duplicates: number;
  reordered: number;
  reorderMaxExtent: number;
  gaps: number;
  beyondWindow: number;
  bytes: number;
  finSeen: boolean;
  finTotal: number;
  finsReceived: number;
  firstRecvNs: number;
  lastRecvNs: number;
  /** CLOCK_MONOTONIC of the last unique DATA packet */
  lastRecvMonoNs: number;
  jitterNs: number;
}

export interface NativeReceiverSnapshot {
  datagrams: number;
  foreign: number;
  truncated: number;
  rejectedSessions: number;
  batches: number;
  fullBatches: number;
  rxqOvfl: number;
  kernelStamps: number;
  firstPacketMonoNs: number;
  lastPacketMonoNs: number;
  running: boolean;
  error: ThreadErrorInfo | null;
  sessions: NativeSessionSnapshot[];
}

export interface NativeReceiver {
  start(onError: () => void): void;
  close(): void;
  snapshot(): NativeReceiverSnapshot;
  /** threadCpuNs: CPU time the receive thread used, known after close() */
  info(): { rcvbufActual: number; joinMonoNs: number; threadCpuNs: number };
  latency(): NativeLatency;
}

export interface Binding {
  Sender: new (o: SenderOptions) => NativeSender;
  Receiver: new (o: ReceiverOptions) => NativeReceiver;
  headerLength: number;
  /** one IGMPv2 general query on the interface (raw socket: root) */
  sendIgmpQuery(iface: string, maxResponseDeciseconds: number): void;
}

/** Wire-format v1 header length; kept here so validation does not need the addon loaded. */
export const HEADER_LENGTH = 32;

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
