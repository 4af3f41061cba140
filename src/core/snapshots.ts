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
  done: boolean;
  error: ThreadErrorInfo | null;
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
