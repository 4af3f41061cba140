import type { DropCounterDelta, LossAttribution, SendLossSummary } from './counters.js';
import type { IntervalLatency, LatencySummary } from './latency.js';
import type { KernelSettingsSnapshot } from './settings.js';

// mcbench/result@1: the JSON a run writes. Shaped like iperf3's -J output (start / intervals /
// end) and using its key names where an equivalent exists. Every field's JSDoc says what it is
// and its unit: they are the single source of src/core/result.schema.json (`npm run schema`,
// checked by test/schema.test.ts), so keep one /** */ per field.

export const RESULT_SCHEMA = 'mcbench/result@1' as const;

/**
 * Why the run ended: 'fin' (receiver: every sender sent FIN), 'count' (sender: -n packets sent),
 * 'time' (-t elapsed), 'idle-timeout' (receiver: silence for --idle-timeout after traffic had
 * started), 'signal' (SIGINT / SIGTERM), 'error' (the socket failed mid-run)
 */
export type EndReason =
  | 'fin'           // receiver: every sender session ended with FIN
  | 'count'         // sender: -n packets sent
  | 'time'          // -t elapsed
  | 'idle-timeout'  // receiver: traffic had started, then nothing for --idle-timeout
  | 'signal'        // SIGINT / SIGTERM
  | 'error';        // the socket failed mid-run

export interface StartInfo {
  /** the program and its version, e.g. 'mcbench 0.1.0' */
  version: string;
  /** which side wrote the result */
  role: 'sender' | 'receiver';
  /** when the run started (after the socket was set up) */
  timestamp: {
    /** ISO 8601 UTC time, ms resolution, e.g. '2026-01-31T12:00:00.000Z' */
    time: string;
    /** the same time in whole seconds since the Unix epoch */
    timesecs: number;
  };
  /** OS type, hostname, kernel release, kernel version and machine, space separated (iperf3's system_info) */
  system_info: string;
  /** this host's name (os.hostname()) */
  hostname: string;
  /** the mcbench process id */
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
  /** datagrams per second (unique, for a receiver) */
  packets_per_second: number;
}

export interface LossFigures {
  /** packets this receiver should have seen (RFC 7680: sent while it listened) */
  expected_packets: number;
  /** expected minus unique received, packets (never below 0) */
  lost_packets: number;
  /** 100 * lost / expected, percent 0-100 (0 when nothing was expected) */
  lost_percent: number;
  /** RFC 4737 reordered arrivals (seq below the next expected), duplicates excluded, packets */
  out_of_order: number;
  /** datagrams received again with a sequence already seen, packets */
  duplicates: number;
}

export interface StreamInterval extends ThroughputFigures, LossFigures {
  /** the sender's session id, 16 hex digits */
  session_id: string;
  /** interval start, seconds since the receiver's first packet */
  start: number;
  /** interval end, seconds since the receiver's first packet */
  end: number;
  /** RFC 3550 interarrival jitter estimate at the end of the interval, ms */
  jitter_ms: number;
}

export interface ReceiverIntervalSum extends ThroughputFigures, LossFigures {
  /** interval start, seconds since the receiver's first packet */
  start: number;
  /** interval end, seconds since the receiver's first packet */
  end: number;
  /** datagrams in this interval that were not mcbench v1 packets (counted, ignored) */
  foreign_packets: number;
  /** this socket's drop counter (SO_MEMINFO, read at the interval's end) delta: datagrams dropped because its buffer was full (with --gro: buffers, each up to one GSO send) */
  socket_overflow_drops: number;
  /** one-way delay (kernel receive stamp) of the packets that arrived in this interval, ms; null when none was recorded */
  latency_ms: IntervalLatency | null;
}

export interface ReceiverInterval {
  /** one entry per sender session known at the end of the interval */
  streams: StreamInterval[];
  /** all sessions of the interval added up, plus socket-level figures */
  sum: ReceiverIntervalSum;
}

/**
 * A 64-bit unsigned integer: a JSON number while it is exact (at most 2^53 = 9007199254740992),
 * else its exact decimal string (e.g. '18446744073709551615'), never a rounded number.
 */
export type Uint64 = number | string;

export interface SessionResult extends ThroughputFigures, LossFigures {
  /** the sender's random session id, 16 hex digits */
  session_id: string;
  /** FIN seen: the sender's own total is known, so tail loss is counted */
  tail_known: boolean;
  /** the sender's DATA count from its (valid) FIN; null when none arrived. A decimal string above 2^53 */
  sender_packets: Uint64 | null;
  /** the first sequence number this receiver saw from the session. A decimal string above 2^53 */
  first_seq: Uint64;
  /** the highest sequence number seen from the session (not necessarily the last to arrive). A decimal string above 2^53 */
  last_seq: Uint64;
  /**
   * the sequences below first_seq (wire v2 carries the session's start time): 'counted' (this
   * receiver listened before the session started, so they were sent to it and count as lost),
   * 'not-expected' (it joined after the stream began: they were never expected, see
   * not_expected_packets), 'unknown' (a v1 sender: loss counts from first_seq)
   */
  head: 'counted' | 'not-expected' | 'unknown';
  /** head 'not-expected': packets the sender sent before this receiver listened (= first_seq), else 0. A decimal string above 2^53 */
  not_expected_packets: Uint64;
  /** DATA packets whose sequence jumped 2^20 or more from the session's range and was not continued by the next packet: ignored (crafted or corrupt) */
  seq_jumps: number;
  /** the session's source address:port (its first DATA packet; [addr]:port for IPv6); FINs from elsewhere are ignored; null when unknown */
  source: string | null;
  /** times the sequence jumped forward by more than one */
  gaps: number;
  /** largest RFC 4737 reordering extent (next expected - seq) seen, packets */
  reorder_max_extent: number;
  /** RFC 3550 interarrival jitter estimate at the end of the run, ms */
  jitter_ms: number;
}

export interface ReceiverConfig {
  /** -g: the multicast group joined, an IPv4 dotted quad or an IPv6 address (ff00::/8) */
  group: string;
  /** several -g: every group joined on the one socket, in -g order (group is the first); absent with one */
  groups?: string[];
  /** the group's address family (absent in results before IPv6 support: ipv4) */
  family?: 'ipv4' | 'ipv6';
  /** --source: the SSM sources joined, (S,G) each (MCAST_JOIN_SOURCE_GROUP); empty = any source (absent in results before SSM support: any source) */
  source?: string[];
  /** -p: the UDP port listened on */
  port: number;
  /** -I as given: an interface name or one of its IPv4 or IPv6 addresses; null = chosen by the routing table */
  interface: string | null;
  /** --rcvbuf: the SO_RCVBUF asked for, bytes; null = the kernel default (net.core.rmem_default) */
  rcvbuf_requested: number | null;
  /** --rcvbuf-force: set with SO_RCVBUFFORCE, past net.core.rmem_max */
  rcvbuf_force: boolean;
  /** --batch: most datagrams read per recvmmsg call */
  batch: number;
  /** -i: interval report length, seconds; 0 = no intervals */
  interval_seconds: number;
  /** --idle-timeout: seconds without a packet, once traffic started, before ending as partial */
  idle_timeout_seconds: number;
  /** -t: the run ends at the latest after this many seconds; null = no limit */
  time_limit_seconds: number | null;
  /** --sessions: end once this many senders have finished (FIN); null = when all seen have finished, after 1 s quiet */
  expect_sessions: number | null;
  /** --expect-session: the one session measured and waited for (others counted in other_session_packets, ignored); null or absent = every session */
  expect_session?: string | null;
  /** one-way delay recording on (false with --no-latency) */
  latency: boolean;
}

export interface ReceiverSocketInfo {
  /** SO_RCVBUF read back after setting, bytes; Linux reports twice the usable size it granted */
  rcvbuf_actual: number;
  /** the kernel gave less than asked: limited by net.core.rmem_max */
  rcvbuf_clamped: boolean;
  /** net.core.rmem_max at start, bytes; null when unreadable */
  rmem_max: number | null;
}

/** CPU use of mcbench's packet thread (CLOCK_THREAD_CPUTIME_ID at its end). */
export interface ThreadCost {
  /** CPU seconds the thread used */
  cpu_seconds: number;
  /** 100 * CPU seconds / seconds of traffic: near 100 means the thread, not the network, set the pace */
  busy_percent: number | null;
  /** CPU nanoseconds per packet handled; null without packets */
  cpu_ns_per_packet: number | null;
}

/**
 * One-way delay from the intended send time splits, for wire v2 packets, into sender lateness
 * (actual - intended send time), path delay (kernel receive stamp - actual send time) and socket
 * queueing (app read - kernel stamp); one_way_app is the total (app read - intended send time),
 * free of coordinated omission.
 */
export interface ReceiverLatency {
  /** false with --no-latency: nothing recorded */
  enabled: boolean;
  /** v2 packets: actual minus intended send time (the sender running behind its schedule), ms; null when none recorded */
  sender_lateness: LatencySummary | null;
  /** v2 packets: kernel receive stamp minus the actual send time (network and stacks), ms; null when none recorded */
  path_delay: LatencySummary | null;
  /** RFC 7679 one-way delay: kernel receive stamp (SO_TIMESTAMPNS) minus the sender's stamp, ms; null when none recorded */
  one_way_kernel: LatencySummary | null;
  /** the total: the time the app got the datagram from recvmmsg minus the intended send time (no coordinated omission), ms; null when none recorded */
  one_way_app: LatencySummary | null;
  /** app minus kernel receive time: the wait in the socket buffer (one host clock, no skew), --coalesce's waits included, ms; null when none recorded */
  socket_queue: LatencySummary | null;
  /** packets stamped in the receiver's future (clocks out of sync): counted, never recorded */
  clock_skew_packets: number;
  /** unique DATA whose send stamp was more than 1 h (3600 s) from its arrival: counted, kept out of every delay, jitter and histogram */
  implausible_stamps: number;
  /** datagrams without a kernel stamp (recorded in one_way_app only), packets */
  no_kernel_stamp: number;
}

export interface JoinInfo {
  /** from the join request (MCAST_JOIN_GROUP / MCAST_JOIN_SOURCE_GROUP) to the first mcbench packet's kernel receive stamp (not when the app read it), ms; null when none arrived */
  first_packet_after_join_ms: number | null;
  /**
   * RFC 3918 group join delay, ms: the same figure, but only when the stream was running at the
   * join (wire v2: the session started before this receiver listened; v1: its first packet here
   * had a sequence above 0); otherwise null
   */
  join_delay_ms: number | null;
}

/**
 * A silence between two DATA arrivals longer than the stall threshold, located by the receive
 * thread from the kernel's receive stamps (SO_TIMESTAMPNS), whatever -i is.
 */
export interface Stall {
  /** stall start (receive stamp of the last DATA packet before the silence), seconds since the first packet's kernel stamp (the intervals' time zero) */
  start_seconds: number;
  /** stall end (receive stamp of the first DATA packet after it; the end of the run when it did not resume), seconds since the first packet's kernel stamp */
  end_seconds: number;
  /** its length, end_seconds - start_seconds, seconds (a lower bound when not resumed) */
  seconds: number;
  /** traffic came back after it (false: it lasted to the end of the run, the run ended inside it) */
  resumed: boolean;
  /** the stall's start as seconds since the Unix epoch (this host's CLOCK_REALTIME, as a capture stamps it) */
  start_epoch_seconds: number;
  /** session id of the last DATA packet before the silence, 16 hex digits */
  session_before: string;
  /** its sequence number */
  seq_before: number;
  /** session id of the first DATA packet after the silence; null when it did not resume */
  session_after: string | null;
  /** its sequence number; null when it did not resume */
  seq_after: number | null;
  /** sequences missing across the silence (seq_after - seq_before - 1, same session only); null when unknown (other session, or not resumed) */
  missing_packets: number | null;
}

export interface StallDetection {
  /** a silence longer than this is a stall, ms */
  threshold_ms: number;
  /** 'flag': --stall; 'median': max(50 ms, 20x the median inter-arrival), 1 s until 8 gaps were seen */
  threshold_source: 'flag' | 'median';
  /** the streaming median inter-arrival of DATA packets (8 buckets per octave: within 6.25%), ms; null before two packets */
  median_interarrival_ms: number | null;
  /** stalls past the receive thread's fixed list of 64 (counted, not located) */
  overflow: number;
  /** the run ended inside a stall (silence to the end, no FIN): the loss at the tail is unknown */
  in_progress: boolean;
}

/** recv --gro: UDP_GRO on the socket, GSO sends read as one buffer of datagrams each */
export interface ReceiverGro {
  /** buffers read (recvmmsg messages): datagrams and coalesced buffers */
  buffers_read: number;
  /** buffers of several datagrams (GSO sends the kernel kept whole) */
  coalesced_buffers: number;
  /** the datagrams in those buffers */
  coalesced_datagrams: number;
  /** datagrams per buffer read, on average */
  datagrams_per_buffer: number | null;
  /** the socket's drop count counts buffers: what the loss attribution took it for in datagrams (drops x the datagrams per buffer read, an estimate; only the socket's share of the loss, never the loss) */
  socket_drops_as_datagrams: number;
}

/** recv --coalesce: after a read that showed dense traffic, a wait before the next (fewer wakeups per packet) */
export interface ReceiverCoalesce {
  /** the longest wait asked for, us */
  max_wait_us: number;
  /** datagrams per recvmmsg at most (--batch) */
  batch: number;
  /** waits taken */
  waits: number;
  /** their total length, s (each also bounded by what an eighth of the socket buffer holds) */
  waited_seconds: number;
}

export interface ReceiverEnd {
  /** whole-run figures per sender session that sent data or FIN */
  sessions: SessionResult[];
  /**
   * several -g: per group, in -g order, what the sessions sent it (datagram seq goes to group
   * seq % groups: the sender's round robin) against what arrived; sum is the total. Absent with one group
   */
  groups?: ReceiverGroup[];
  /** several -g: unique datagrams whose destination (IP_PKTINFO) was another group than their sequence says (the sender's -g list differs from this one's); absent with one group */
  group_mismatch?: number;
  /** several -g: datagrams to the port whose destination (IP_PKTINFO) was none of the joined groups (unicast, broadcast), dropped before any session; absent with one group */
  other_destination?: number;
  /**
   * all sessions added up: packets, bytes, loss and rates are sums; seconds is the longest
   * session's span
   */
  sum: ThroughputFigures & LossFigures;
  /** the receive socket's buffer, as set and as granted */
  socket: ReceiverSocketInfo;
  /**
   * datagrams the kernel dropped for this socket (its receive buffer full), whole run: the
   * socket's own counter read directly (SO_MEMINFO SK_MEMINFO_DROPS) at the end, so drops after
   * the last datagram read count too; the last SO_RXQ_OVFL cmsg when SO_MEMINFO is unreadable.
   * With --gro it counts buffers (each up to one GSO send): end.gro has the estimate in datagrams
   */
  socket_overflow_drops: number;
  /** datagrams on the group that were not mcbench v1 packets (counted, ignored) */
  foreign_packets: number;
  /** datagrams longer than the receiver accepts (65,536 bytes: none over IPv4; also counted as foreign) */
  truncated_packets: number;
  /**
   * --verify-payload: DATA datagrams whose payload (after the header) was compared with the
   * pattern mcbench send writes (a function of the session and the byte's offset); null without it
   */
  payload_checked: number | null;
  /** --verify-payload: of those, the datagrams whose payload differed (still counted as received); null without it */
  payload_errors: number | null;
  /** packets of new sessions while the table (32) was full of established ones (ignored) */
  rejected_session_packets: number;
  /** sessions with fewer than 16 packets evicted (least recently heard first) to make room for a new one */
  evicted_sessions: number;
  /** FINs ignored: of an unknown session, from another source than its data, or with a total below the highest sequence + 1 or beyond what the sender could have sent (100 Mpps + 1 s) */
  bogus_fins: number;
  /** DATA packets of a known session from another address or port than the session's first packet: ignored (a forged packet does not count) */
  foreign_source_packets: number;
  /** --expect-session: DATA and FIN packets of other sessions, dropped before the session table, the delay histograms and the stall detector (their loss is not this run's, their FIN ends nothing, their stamps set no delay, their packets fill no stall); null or absent without --expect-session */
  other_session_packets?: number | null;
  /** every datagram read, of any kind (FINs, duplicates, foreign included) */
  datagrams: number;
  /** datagrams that carried a kernel receive stamp (SO_TIMESTAMPNS) */
  kernel_timestamped: number;
  /** recvmmsg calls that returned datagrams */
  recv_calls: number;
  /** recvmmsg calls that came back with a full batch (the socket had a backlog, or --coalesce waited for it) */
  recv_full_batches: number;
  /** --gro: what arrived coalesced; null or absent without it */
  gro?: ReceiverGro | null;
  /** --coalesce (on by default): the waits before reads that took fuller batches; null with --coalesce 0 or a --batch below 32 */
  coalesce?: ReceiverCoalesce | null;
  /** the receive thread's own cost: mcbench must not be the bottleneck */
  receiver_thread: ThreadCost;
  /** one-way delay and socket queueing summaries, ms */
  latency: ReceiverLatency;
  /** how long after the group join the first packet came, ms */
  join: JoinInfo;
  /** silences longer than the stall threshold after traffic had started (e.g. IGMP membership expired, a sender that stopped) */
  stalls: Stall[];
  /** how stalls were detected, and whether the run ended inside one */
  stall_detection: StallDetection;
  /** some session's tail is unknown (no FIN): lost_packets and lost_percent are lower bounds */
  loss_lower_bound: boolean;
  /**
   * where the lost packets were dropped: this socket's buffer, the backlog, the interface, or
   * unaccounted. With a tail unknown (loss_lower_bound) its `lost` is at least the socket's own
   * drops (every datagram the socket dropped was one this receiver did not get, FINs included) and
   * its `expected` at least the packets received plus those drops
   */
  loss_attribution: LossAttribution;
  /** kernel drop counters, after minus before the run, each group labelled with its scope */
  kernel_counters: DropCounterDelta;
  /** the run did not end normally (signal, error or idle-timeout): figures cover only what was seen */
  partial: boolean;
  /** why the run ended */
  end_reason: EndReason;
  /** things a reader should know about this run, one human-readable sentence each */
  warnings: string[];
}

/** A receiver's result (`mcbench recv --json`) */
export interface ReceiverResult {
  /** the format and its version: always 'mcbench/result@1' */
  schema: typeof RESULT_SCHEMA;
  /** who, where and with which options the run started */
  start: StartInfo & {
    /** always 'receiver' in a receiver's result: tells the two result kinds apart */
    role: 'receiver';
    /** the receiver's options */
    config: ReceiverConfig;
  };
  /** one report per -i interval, in order (empty with -i 0) */
  intervals: ReceiverInterval[];
  /** the whole run's figures */
  end: ReceiverEnd;
}

export interface SenderConfig {
  /** -g: the multicast group sent to, an IPv4 dotted quad or an IPv6 address (ff00::/8) */
  group: string;
  /** several -g: every group, in -g order (group is the first); datagram seq went to groups[seq % length]; absent with one */
  groups?: string[];
  /** the group's address family (absent in results before IPv6 support: ipv4) */
  family?: 'ipv4' | 'ipv6';
  /** -p: the UDP destination port */
  port: number;
  /** -I as given: an interface name or one of its IPv4 or IPv6 addresses; null = chosen by the routing table */
  interface: string | null;
  /** UDP payload bytes per datagram, mcbench header included */
  length: number;
  /** requested UDP payload bit rate, bit/s (-b, or --pps * length * 8); 0 = unlimited */
  target_bits_per_second: number;
  /** requested packet rate, packets/s (--pps, or -b / (length * 8)); 0 = unlimited */
  target_packets_per_second: number;
  /** -t: seconds to send; null when only -n limits the run */
  time_limit_seconds: number | null;
  /** -n: packets to send; null = no count limit */
  count_limit: number | null;
  /** --ttl: the multicast TTL, hops (0-255) */
  ttl: number;
  /** IP_MULTICAST_LOOP: copies go to receivers on the sending host (false with --no-loop) */
  loop: boolean;
  /** --batch: most messages per sendmmsg call (with --gso each holds up to that many datagrams) */
  batch: number;
  /** -i: interval report length, seconds; 0 = no intervals */
  interval_seconds: number;
  /** what the send stamp holds: the packet's scheduled time when paced (so a late sender shows
   * as latency, no coordinated omission), the time of the sendmmsg call when unlimited */
  send_stamp: 'intended' | 'actual';
  /** --burst / --isochronous: the traffic pattern asked for; absent when evenly paced or unlimited */
  pattern?: SenderPatternConfig;
}

/** Several -g: one group's share of a receiver's datagrams */
export interface ReceiverGroup {
  /** the group, dotted quad */
  group: string;
  /** unique DATA datagrams sent to this group (told by their destination, IP_PKTINFO), packets */
  packets: number;
  /** the sessions' expected sequences that belong to this group in the sender's round robin, packets; null when group_mismatch > 0 (the sender's -g list is not this receiver's: unknown) */
  expected_packets: number | null;
  /** expected minus received, packets (never below 0); null when group_mismatch > 0 */
  lost_packets: number | null;
  /** 100 * lost / expected, percent 0-100 (0 when nothing was expected); null when group_mismatch > 0 */
  lost_percent: number | null;
}

/** Several -g: one group's share of a sender's datagrams */
export interface SenderGroup {
  /** the group, dotted quad */
  group: string;
  /** DATA datagrams sent to it, packets */
  packets: number;
}

/** --burst N --burst-interval T, or --isochronous FPS:MEAN[,STDDEV] (iperf2's), as asked */
export interface SenderPatternConfig {
  /** burst: N datagrams back to back every T; isochronous: frames at a frame rate, of log-normal sizes */
  kind: 'burst' | 'isochronous';
  /** burst: --burst N, datagrams per burst; null for isochronous */
  burst_datagrams: number | null;
  /** burst: --burst-interval T, seconds from a burst's start to the next's; null for isochronous */
  burst_interval_seconds: number | null;
  /** isochronous: FPS, frames per second; null for bursts */
  frames_per_second: number | null;
  /** isochronous: MEAN, the mean load, bit/s of UDP payload; null for bursts */
  mean_bits_per_second: number | null;
  /** isochronous: STDDEV, the load's standard deviation, bit/s; null for bursts */
  stddev_bits_per_second: number | null;
  /** isochronous: a frame's mean size, MEAN / 8 / FPS, bytes; null for bursts */
  frame_mean_bytes: number | null;
  /** isochronous: --seed of the frame size draws (the same seed, the same sizes); null for bursts */
  seed: number | null;
}

/** The traffic pattern the sender achieved, from its own clock readings around each sendmmsg call */
export interface SenderPattern {
  /** what the units are: bursts (--burst) or frames (--isochronous) */
  kind: 'burst' | 'isochronous';
  /** bursts or frames whose first datagram went out */
  units: number;
  /** achieved bursts or frames per second: (units - 1) over the span from the first one's first sendmmsg call to the last one's; null with fewer than 2 */
  units_per_second: number | null;
  /** datagrams per burst or frame, mean (sent / units); null before the first */
  datagrams_per_unit_mean: number | null;
  /** datagrams of the largest burst or frame */
  datagrams_per_unit_max: number;
  /** UDP payload bytes per burst or frame, mean (bytes / units); null before the first */
  bytes_per_unit_mean: number | null;
  /** UDP payload bytes of the largest burst or frame */
  bytes_per_unit_max: number;
  /** sendmmsg calls per burst or frame, mean (1: each went out in one call) */
  calls_per_unit_mean: number | null;
  /** the gap from one unit's first sendmmsg call to the next one's, mean, ms (asked: 1000 / rate); null with fewer than 2 */
  gap_mean_ms: number | null;
  /** the largest such gap, ms; null with fewer than 2 */
  gap_max_ms: number | null;
  /** a unit's first sendmmsg call to the return of its last, mean over finished units, ms (how long handing the kernel a whole burst or frame took); null before one finished */
  span_mean_ms: number | null;
  /** the longest such span, ms; null before one finished */
  span_max_ms: number | null;
}

export interface SenderInterval extends ThroughputFigures {
  /** interval start, seconds since sending began */
  start: number;
  /** interval end, seconds since sending began */
  end: number;
}

/** --gso: how the sender used UDP GSO (UDP_SEGMENT) */
export interface SenderGso {
  /** --gso N or --gso auto (fall back when refused) */
  mode: 'on' | 'auto';
  /** datagrams asked per GSO send (each one whole mcbench datagram with its own header) */
  segments: number;
  /** whether the datagrams went out as GSO sends (false: --gso auto fell back) */
  used: boolean;
  /** why the kernel refused GSO (--gso auto fell back); null when it did not */
  refused: string | null;
}

export interface SenderEnd extends ThroughputFigures {
  /** --gso: absent when sending one datagram per message */
  gso?: SenderGso;
  /** --burst / --isochronous: the pattern achieved; absent when evenly paced or unlimited */
  pattern?: SenderPattern;
  /** several -g: the datagrams sent to each group, in -g order; absent with one */
  groups?: SenderGroup[];
  /** this sender's random session id, 16 hex digits (receivers report per session id) */
  session_id: string;
  /** achieved / target packet rate (with --burst / --isochronous: achieved / asked bursts or frames per second); null when unlimited */
  rate_ratio: number | null;
  /** sendmmsg calls that sent at least one datagram */
  send_calls: number;
  /** sendmmsg calls refused with ENOBUFS (retried) */
  enobufs: number;
  /** sendmmsg calls refused with EAGAIN (retried) */
  eagain: number;
  /** FIN datagrams sent at the end (they carry the DATA total; 5 when all went out) */
  fins_sent: number;
  /** paced: how far behind its schedule the sender was at worst, ms; null when unlimited */
  late_max_ms: number | null;
  /** paced: how far behind its schedule the sender was, mean per sendmmsg call (with a pattern: per burst or frame), ms; null when unlimited */
  late_mean_ms: number | null;
  /** the send thread's own cost: mcbench must not be the bottleneck */
  sender_thread: ThreadCost;
  /** the kernel's sender-side drops during the run (SndbufErrors, qdisc, tx_dropped) */
  send_drops: SendLossSummary;
  /** kernel drop counters, after minus before the run, each group labelled with its scope */
  kernel_counters: DropCounterDelta;
  /** the run did not end normally (signal or error): figures cover only what was sent */
  partial: boolean;
  /** why the run ended */
  end_reason: EndReason;
  /** things a reader should know about this run, one human-readable sentence each */
  warnings: string[];
}

/** A sender's result (`mcbench send --json`) */
export interface SenderResult {
  /** the format and its version: always 'mcbench/result@1' */
  schema: typeof RESULT_SCHEMA;
  /** who, where and with which options the run started */
  start: StartInfo & {
    /** always 'sender' in a sender's result: tells the two result kinds apart */
    role: 'sender';
    /** the sender's options */
    config: SenderConfig;
  };
  /** one report per -i interval, in order (empty with -i 0) */
  intervals: SenderInterval[];
  /** the whole run's figures */
  end: SenderEnd;
}

/**
 * The JSON document `mcbench send --json` or `mcbench recv --json` writes: start (who, where,
 * options, kernel settings), intervals (per -i report) and end (whole-run figures). Every field
 * says its unit. Generated from src/core/result.ts by `npm run schema`.
 * @title mcbench/result@1
 */
export type RunResult = SenderResult | ReceiverResult;
