import type { DropCounterDelta, LossAttribution, SendLossSummary } from './counters.js';
import type { IntervalLatency, LatencySummary } from './latency.js';
import type { KernelSettingsSnapshot } from './settings.js';

// mcbench/result@1: the JSON a run writes. Shaped like iperf3's -J output (start / intervals /
// end) and using its key names where an equivalent exists. Units are in the key names or the
// comments; schema/result.schema.json documents every field.

export const RESULT_SCHEMA = 'mcbench/result@1' as const;

export type EndReason =
  | 'fin'           // receiver: every sender session ended with FIN
  | 'count'         // sender: -n packets sent
  | 'time'          // -t elapsed
  | 'idle-timeout'  // receiver: traffic had started, then nothing for --idle-timeout
  | 'signal'        // SIGINT / SIGTERM
  | 'error';        // the socket failed mid-run

export interface StartInfo {
  version: string;
  role: 'sender' | 'receiver';
  timestamp: { time: string; timesecs: number };
  system_info: string;
  hostname: string;
  pid: number;
  /** the kernel settings the run happened under (null only if they could not be read at all) */
  settings: KernelSettingsSnapshot | null;
}

export interface ThroughputFigures {
  /** seconds the figures span */
  seconds: number;
  /** datagrams (unique, for a receiver) */
  packets: number;
  /** UDP payload bytes */
  bytes: number;
  /** UDP payload bits per second */
  bits_per_second: number;
  packets_per_second: number;
}

export interface LossFigures {
  /** packets this receiver should have seen (RFC 7680: sent while it listened) */
  expected_packets: number;
  lost_packets: number;
  /** 100 * lost / expected */
  lost_percent: number;
  /** RFC 4737 reordered arrivals (seq below the next expected), duplicates excluded */
  out_of_order: number;
  duplicates: number;
}

export interface StreamInterval extends ThroughputFigures, LossFigures {
  session_id: string;
  /** seconds since the receiver's first packet (sender: since sending began) */
  start: number;
  end: number;
  /** RFC 3550 interarrival jitter estimate at the end of the interval, ms */
  jitter_ms: number;
}

export interface ReceiverIntervalSum extends ThroughputFigures, LossFigures {
  start: number;
  end: number;
  foreign_packets: number;
  /** SO_RXQ_OVFL delta: datagrams the kernel dropped because this socket's buffer was full */
  socket_overflow_drops: number;
  /** one-way delay (kernel receive stamp) of the packets that arrived in this interval */
  latency_ms: IntervalLatency | null;
}

export interface ReceiverInterval {
  streams: StreamInterval[];
  sum: ReceiverIntervalSum;
}

export interface SessionResult extends ThroughputFigures, LossFigures {
  /** the sender's random session id, 16 hex digits */
  session_id: string;
  /** FIN seen: the sender's own total is known, so tail loss is counted */
  tail_known: boolean;
  /** the sender's DATA count from its FIN; null when no FIN arrived */
  sender_packets: number | null;
  first_seq: number;
  last_seq: number;
  /** times the sequence jumped forward by more than one */
  gaps: number;
  /** largest RFC 4737 reordering extent (next expected - seq) seen */
  reorder_max_extent: number;
  jitter_ms: number;
}

export interface ReceiverConfig {
  group: string;
  port: number;
  interface: string | null;
  rcvbuf_requested: number | null;
  rcvbuf_force: boolean;
  batch: number;
  interval_seconds: number;
  idle_timeout_seconds: number;
  time_limit_seconds: number | null;
  expect_sessions: number | null;
  latency: boolean;
}

export interface ReceiverSocketInfo {
  /** SO_RCVBUF read back after setting; Linux reports twice the usable size it granted */
  rcvbuf_actual: number;
  /** the kernel gave less than asked: limited by net.core.rmem_max */
  rcvbuf_clamped: boolean;
  /** net.core.rmem_max at start, bytes; null when unreadable */
  rmem_max: number | null;
}

export interface ReceiverLatency {
  /** false with --no-latency: nothing recorded */
  enabled: boolean;
  /** RFC 7679 one-way delay: kernel receive stamp (SO_TIMESTAMPNS) minus the sender's stamp */
  one_way_kernel: LatencySummary | null;
  /** the same with the time the app got the datagram from recvmmsg */
  one_way_app: LatencySummary | null;
  /** app minus kernel receive time: the wait in the socket buffer (one host clock, no skew) */
  socket_queue: LatencySummary | null;
  /** packets stamped in the receiver's future (clocks out of sync): counted, never recorded */
  clock_skew_packets: number;
  /** datagrams without a kernel stamp (recorded in one_way_app only) */
  no_kernel_stamp: number;
}

export interface JoinInfo {
  /** from IP_ADD_MEMBERSHIP to the first mcbench packet, ms; null when none arrived */
  first_packet_after_join_ms: number | null;
  /**
   * RFC 3918 group join delay, ms: the same figure, but only when the sender was already
   * running at the join (its first packet here had a sequence above 0); otherwise null
   */
  join_delay_ms: number | null;
}

export interface Stall {
  /** seconds since the first packet, at interval resolution */
  start_seconds: number;
  end_seconds: number;
  seconds: number;
  /** traffic came back after it (false: it lasted to the end of the run) */
  resumed: boolean;
}

export interface ReceiverEnd {
  sessions: SessionResult[];
  sum: ThroughputFigures & LossFigures;
  socket: ReceiverSocketInfo;
  /** SO_RXQ_OVFL: datagrams dropped because this socket's receive buffer was full (whole run) */
  socket_overflow_drops: number;
  /** datagrams on the group that were not mcbench v1 packets (counted, ignored) */
  foreign_packets: number;
  /** datagrams larger than the receive buffer (also counted as foreign) */
  truncated_packets: number;
  /** packets of sessions beyond the table's capacity (ignored) */
  rejected_session_packets: number;
  /** every datagram read, of any kind */
  datagrams: number;
  /** datagrams that carried a kernel receive stamp (SO_TIMESTAMPNS) */
  kernel_timestamped: number;
  /** recvmmsg calls, and those that came back with a full batch (the socket had a backlog) */
  recv_calls: number;
  recv_full_batches: number;
  latency: ReceiverLatency;
  join: JoinInfo;
  /** intervals without a packet after traffic had started (e.g. IGMP membership expired) */
  stalls: Stall[];
  /** where the lost packets were dropped: this socket's buffer, the backlog, the interface, or unaccounted */
  loss_attribution: LossAttribution;
  /** kernel drop counters, after minus before the run, each group labelled with its scope */
  kernel_counters: DropCounterDelta;
  partial: boolean;
  end_reason: EndReason;
  warnings: string[];
}

export interface ReceiverResult {
  schema: typeof RESULT_SCHEMA;
  start: StartInfo & { config: ReceiverConfig };
  intervals: ReceiverInterval[];
  end: ReceiverEnd;
}

export interface SenderConfig {
  group: string;
  port: number;
  interface: string | null;
  /** UDP payload bytes per datagram, mcbench header included */
  length: number;
  /** requested payload bit rate; 0 = unlimited */
  target_bits_per_second: number;
  /** requested packet rate; 0 = unlimited */
  target_packets_per_second: number;
  time_limit_seconds: number | null;
  count_limit: number | null;
  ttl: number;
  loop: boolean;
  batch: number;
  interval_seconds: number;
  /** what the send stamp holds: the packet's scheduled time when paced (so a late sender shows
   * as latency, no coordinated omission), the time of the sendmmsg call when unlimited */
  send_stamp: 'intended' | 'actual';
}

export interface SenderInterval extends ThroughputFigures {
  start: number;
  end: number;
}

export interface SenderEnd extends ThroughputFigures {
  session_id: string;
  /** achieved / target packet rate; null when unlimited */
  rate_ratio: number | null;
  /** sendmmsg calls that sent at least one datagram */
  send_calls: number;
  /** sendmmsg calls refused with ENOBUFS / EAGAIN (retried) */
  enobufs: number;
  eagain: number;
  fins_sent: number;
  /** paced: how far behind its schedule the sender was, worst and mean per call, ms */
  late_max_ms: number | null;
  late_mean_ms: number | null;
  /** the kernel's sender-side drops during the run (SndbufErrors, qdisc, tx_dropped) */
  send_drops: SendLossSummary;
  /** kernel drop counters, after minus before the run, each group labelled with its scope */
  kernel_counters: DropCounterDelta;
  partial: boolean;
  end_reason: EndReason;
  warnings: string[];
}

export interface SenderResult {
  schema: typeof RESULT_SCHEMA;
  start: StartInfo & { config: SenderConfig };
  intervals: SenderInterval[];
  end: SenderEnd;
}

export type RunResult = SenderResult | ReceiverResult;
