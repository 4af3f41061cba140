import type { NativeLatency } from './latency.js';

// What the addon's threads report (polled, never per packet): plain data, so the pure metrics in
// core/ can be computed and tested without the addon. native.ts binds them to the addon.

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
  /** datagrams per UDP GSO send in use; 0 without --gso and after a fallback */
  gsoSegments: number;
  /** the errno with which the kernel refused GSO (--gso auto fell back); 0 when it did not */
  gsoRefusedErrno: number;
  /** --burst / --isochronous: units (bursts, frames) begun */
  patternUnits: number;
  /** ... of which all datagrams were sent (the last one may be cut by -t or -n) */
  unitsFinished: number;
  /** gaps between consecutive units' first sendmmsg calls, summed and the largest, ns */
  gapSumNs: number;
  gapMaxNs: number;
  /** a unit's first call to the return of its last, summed over finished units and the largest, ns */
  spanSumNs: number;
  spanMaxNs: number;
  /** the largest unit, datagrams and bytes */
  unitDatagramsMax: number;
  unitBytesMax: number;
  /** CLOCK_MONOTONIC of the first and the last unit's first call */
  firstUnitMonoNs: number;
  lastUnitMonoNs: number;
  done: boolean;
  error: ThreadErrorInfo | null;
}

/**
 * A 64-bit unsigned value from the addon: a Number while exact (up to 2^53), else its exact decimal
 * string (a sequence near 2^64 must not be rounded).
 */
export type U64 = number | string;

export interface NativeSessionSnapshot {
  sessionId: string;
  started: boolean;
  firstSeq: U64;
  maxSeq: U64;
  /** v2 session that began before this receiver listened: the sequences below firstSeq, not expected */
  notExpected: U64;
  /** v2 session that began after this receiver listened: its head (below firstSeq) is counted as lost */
  headCounted: boolean;
  /** v2: the session was already running when this receiver began listening */
  joinedAfterStart: boolean;
  /** the packets carried the session's start time (wire v2) */
  startKnown: boolean;
  /** DATA with an implausible sequence jump (2^20 or more), ignored */
  seqJumps: number;
  /** the source address:port of the session's first DATA ('' when unknown) */
  source: string;
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
  finTotal: U64;
  finsReceived: number;
  firstRecvNs: number;
  lastRecvNs: number;
  /** CLOCK_MONOTONIC of the last unique DATA packet */
  lastRecvMonoNs: number;
  jitterNs: number;
}

/** One silence between two DATA arrivals longer than the threshold (receive stamps, CLOCK_REALTIME ns). */
export interface NativeStall {
  startNs: number;
  lengthNs: number;
  sessionBefore: string;
  seqBefore: number;
  sessionAfter: string;
  seqAfter: number;
}

export interface NativeStalls {
  list: NativeStall[];
  /** stalls past the fixed-capacity list (counted, not kept) */
  overflow: number;
  thresholdNs: number;
  /** the streaming median inter-arrival the default threshold is made from, ns (0: none yet) */
  medianGapNs: number;
  /** receive stamps of the first and the last DATA packet (0 before any) */
  firstDataNs: number;
  lastDataNs: number;
  lastSession: string;
  lastSeq: number;
}

export interface NativeReceiverSnapshot {
  /**
   * several groups (absent with one): unique DATA per group by its destination (IP_PKTINFO), in -g
   * order; unique DATA whose destination is not the group seq % groups of this list; datagrams to
   * the port whose destination is none of the groups (unicast, broadcast: dropped unread)
   */
  groupReceived?: number[];
  groupMismatch?: number;
  otherDestination?: number;
  datagrams: number;
  foreign: number;
  truncated: number;
  /** --verify-payload: DATA datagrams whose payload was checked against the sender's pattern, and those that differed */
  payloadChecked: number;
  payloadErrors: number;
  rejectedSessions: number;
  /** few-packet sessions evicted from the full table to make room for new senders */
  evictedSessions: number;
  /** FINs ignored: unknown session, another source, or a total below what arrived / beyond what could be sent */
  bogusFins: number;
  /** DATA of a known session from another address or port than its first packet's: ignored */
  foreignSourceData: number;
  /** unique DATA whose send stamp was more than 1 h from its arrival: kept out of delay and jitter */
  implausibleStamps: number;
  /** --expect-session: DATA and FIN of other sessions, dropped before the session table, delay and stalls */
  otherSessionPackets: number;
  batches: number;
  fullBatches: number;
  /** what recvmmsg returned: datagrams, or with --gro buffers of them */
  messages: number;
  /** --gro: buffers of several datagrams (a GSO send kept whole) and the datagrams in them */
  groBuffers: number;
  groDatagrams: number;
  /** --coalesce: waits taken before reads, and their total length asked for, ns */
  coalescedWaits: number;
  coalescedNs: number;
  rxqOvfl: number;
  kernelStamps: number;
  firstPacketMonoNs: number;
  lastPacketMonoNs: number;
  /** SO_MEMINFO SK_MEMINFO_DROPS read at the snapshot: the socket's drops so far; -1 when unreadable */
  socketDrops: number;
  /** receive stamp (CLOCK_REALTIME ns, the kernel's when it had one) of the first mcbench packet; 0 before */
  firstMcbenchRealNs: number;
  /** the same instant on CLOCK_MONOTONIC (0 before): time zero of the intervals */
  firstMcbenchMonoNs: number;
  stalls: NativeStalls;
  /** with snapshot(true): the latency histograms, cut at the same packet as the counters */
  latency?: NativeLatency;
  running: boolean;
  error: ThreadErrorInfo | null;
  sessions: NativeSessionSnapshot[];
}
