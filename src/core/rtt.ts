// RTT mode (mcbench ping / pong): the specs, what the addon reports, and the mcbench/rtt@1
// document built from it. Pure.
//
// Per exchange, four timestamps (RFC 5905's names): t1 the ping's send, t2 the reflector's kernel
// receive stamp, t3 the reflector's send, t4 the ping's kernel receive stamp. t1 and t4 are the
// ping's clock, t2 and t3 the reflector's: only differences on one clock are taken, so no clock
// sync is needed.
//   round trip  = t4 - t1                     (with the reflector's processing time)
//   processing  = t3 - t2                     (the reflector between receiving and answering)
//   RTT         = (t4 - t1) - (t3 - t2)       (the network and the stacks only; RFC 2681 round trip)
//   offset      = ((t2 - t1) + (t3 - t4)) / 2 (the reflector's clock minus the ping's, NTP)
// An offset is exact when both directions take as long; its error is at most RTT / 2, so the
// exchange with the smallest RTT gives the tightest estimate (DESIGN.md section 11).
//
// Loss (RFC 6673, round-trip loss): a probe sent that the reflector never answered. A bare ping
// counts from the first probe the reflector says it saw (it may have joined later: the probes
// before it are not expected of it, and loss before its first arrival is not seen); `run --mode
// rtt` joins every reflector before the first probe and counts from probe 0 (loss_counted_from).
// A send the kernel refused never was on the wire: not a probe, not lost (RFC 7680 3.6), it takes
// no sequence and is reported apart (probes.send_errors).
// The reflector counts a session's probes only from the address of its first one and each with a
// sequence above the last (the session id is visible to every member of the group: forged probes
// cannot move loss from one direction to the other). The reflector counts the probes of this session it
// received and sends the count in every reply: up to the last answered probe, probes it did not
// see were lost on the way there (forward), probes it saw and whose reply never came on the way
// back (return). Probes after the last answer cannot be told apart (the reflector may have gone):
// their direction is unknown.
import { UsageError, shown } from './errors.js';
import { type LatencySummary, type NativeHistogram, summarize } from './latency.js';
import { parseGroupAddress, type AddressFamily } from './multicast-address.js';
import { outputPath, parseInterface, parsePort } from './spec.js';

export const RTT_SCHEMA = 'mcbench/rtt@1';
/** The probe's header (wire.h kProbeLen): the smallest probe. */
export const PROBE_HEADER_BYTES = 32;
export const MAX_RATE = 100000;
export const MAX_REFLECTORS = 64;

// ---- specs ----------------------------------------------------------------------------------

export interface RttSocketSpec {
  group: string;
  family: AddressFamily;
  port: number;
  iface: string | null;
}

export interface PingSpec extends RttSocketSpec {
  /** probes per second */
  rate: number;
  /** seconds of probing */
  seconds: number;
  /** probes to send; null: as many as --rate gives in -t */
  count: number | null;
  /** seconds to wait for late replies after the last probe */
  waitSeconds: number;
  /** probe datagram bytes (UDP payload) */
  length: number;
  ttl: number;
  json: string | null;
  quiet: boolean;
  timeSeconds: number;
}

export interface PongSpec extends RttSocketSpec {
  /** stop after this many seconds; null: until SIGINT/SIGTERM */
  seconds: number | null;
  json: string | null;
  quiet: boolean;
  timeSeconds: number | null;
}

function decimal(flag: string, raw: unknown, min: number, max: number, unit: string): number {
  const text = shown(raw).trim();
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag}: '${text}' is not ${unit} from ${min} to ${max}`);
  return n;
}
function integer(flag: string, raw: unknown, min: number, max: number, unit: string): number {
  const text = shown(raw).trim();
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag}: '${text}' is not ${unit} from ${min} to ${max}`);
  return n;
}

function socketSpec(a: Record<string, unknown>): RttSocketSpec {
  const group = parseGroupAddress(a.group);
  // A pong joins any-source (MCAST_JOIN_GROUP): on an SSM group the kernel would deliver nothing
  if (group.ssm) {
    const range = group.family === 'ipv4' ? '232.0.0.0/8' : 'ff3x::/32';
    throw new UsageError(`-g/--group: ${group.address} is a source-specific group (${range}, RFC 4607); RTT mode takes an any-source group (IPv4 224.0.0.0/4 outside 232.0.0.0/8, IPv6 ff00::/8 outside ff3x::/32)`);
  }
  const iface = parseInterface(a.interface);
  if (group.linkLocal && iface === null) throw new UsageError(`-I/--interface: ${group.address} is a link-local group: name the interface with -I`);
  return { group: group.address, family: group.family, port: parsePort(a.port ?? '5001'), iface };
}

export function pingSpec(a: Record<string, unknown>): PingSpec {
  const s = socketSpec(a);
  const rate = decimal('--rate', a.rate ?? '10', 0.1, MAX_RATE, 'a probe rate (probes/s)');
  const count = a.count === undefined ? null : integer('-n/--count', a.count, 1, 1e9, 'a probe count');
  // -t bounds the probing; with -n alone it is as long as the count takes at the rate
  const seconds = a.time === undefined ? (count === null ? 5 : count / rate) : decimal('-t/--time', a.time, 0.1, 86400, 'seconds');
  const waitSeconds = decimal('--wait', a.wait ?? '1', 0, 60, 'seconds');
  // one limit for both families: the largest UDP payload over IPv4 (65,535 - 20 - 8)
  const length = integer('-l/--length', a.length ?? String(PROBE_HEADER_BYTES), PROBE_HEADER_BYTES, 65507, 'a probe size (bytes)');
  const ttl = integer('--ttl', a.ttl ?? '1', 1, 255, 'a TTL');
  if (count !== null && count / rate > 86400) throw new UsageError(`-n/--count: ${count} probes at ${rate}/s take longer than a day (86400 s); raise --rate or lower -n`);
  return { ...s, rate, seconds, count, waitSeconds, length, ttl, json: outputPath('--json', a.json), quiet: a.quiet === true, timeSeconds: seconds + waitSeconds };
}

export function pongSpec(a: Record<string, unknown>): PongSpec {
  const s = socketSpec(a);
  const seconds = a.time === undefined ? null : decimal('-t/--time', a.time, 0.1, 86400 * 365, 'seconds');
  return { ...s, seconds, json: outputPath('--json', a.json), quiet: a.quiet === true, timeSeconds: seconds };
}

// ---- what the addon reports -----------------------------------------------------------------

export interface NativeReflectorSnapshot {
  reflectorId: string;
  address: string;
  replies: number;
  duplicates: number;
  /** exact as a Number up to 2^53, else the decimal string (a reflector's own claim) */
  firstSeen: number | string;
  maxSeq: number | string;
  probesSeenAtMax: number | string;
  firstReplyMonoNs: number;
  lastReplyMonoNs: number;
  bestRttNs: number;
  bestOffsetNs: number;
  offsetSumNs: number;
  offsetMinNs: number;
  offsetMaxNs: number;
}

export interface NativePingSnapshot {
  sessionId: string;
  sent: number;
  sendErrors: number;
  lastSendErrno: number;
  datagrams: number;
  truncated: number;
  malformed: number;
  otherSession: number;
  unknownProbe: number;
  late: number;
  implausible: number;
  sourceMismatch: number;
  rejectedReflectors: number;
  noKernelStamp: number;
  firstSendRealNs: number;
  lastSendRealNs: number;
  running: boolean;
  sendingDone: boolean;
  error: { code: string; message: string } | null;
  reflectors: NativeReflectorSnapshot[];
}

export interface NativeRttHistograms {
  rtt: NativeHistogram;
  roundTrip: NativeHistogram;
  processing: NativeHistogram;
}

export interface NativePongSnapshot {
  reflectorId: string;
  datagrams: number;
  truncated: number;
  malformed: number;
  probes: number;
  replies: number;
  replyErrors: number;
  lastReplyErrno: number;
  noKernelStamp: number;
  sessions: number;
  evictedSessions: number;
  foreignSource: number;
  notAscending: number;
  running: boolean;
  error: { code: string; message: string } | null;
}

// ---- mcbench/rtt@1 ----------------------------------------------------------------------------

/** One reflector's figures, as the ping measured them. */
export interface RttReflector {
  /** the reflector's id (random per pong run, 16 hex digits): reflectors on one address are told apart */
  reflector_id: string;
  /** where its replies came from, address:port ([address]:port for IPv6); null: it never answered (`run --mode rtt` knows it from its pong) */
  address: string | null;
  /** `run --mode rtt`: the guest (or host) the reflector ran on; absent from a bare `mcbench ping` */
  guest?: string;
  /** probes it answered (one valid reply each) */
  replies: number;
  /** further valid replies to a probe already answered (not recorded again) */
  duplicates: number;
  /** the first probe sequence the reflector saw of this session (a bare ping expects nothing before it); null: never answered */
  first_seq: number | null;
  /** the highest probe sequence it answered; null: never answered */
  last_seq: number | null;
  /** probes it was expected to answer (RFC 6673): those sent from first_seq on, or every probe sent when loss_counted_from is 'first_probe' */
  expected: number;
  /** expected - replies: probes never answered */
  lost: number;
  /** lost / expected x 100, percent (0 when nothing was expected) */
  loss_percent: number;
  /** up to last_seq: probes the reflector never received (lost on the way there); with loss_counted_from 'first_probe' also those before first_seq */
  lost_forward: number;
  /** up to last_seq: probes it received whose reply never arrived (lost on the way back) */
  lost_return: number;
  /** after last_seq: probes never answered whose direction cannot be told (or the reflector went away) */
  lost_unknown_direction: number;
  /** RTT = (t4 - t1) - (t3 - t2): the round trip without the reflector's processing time, ms */
  rtt: LatencySummary | null;
  /** t4 - t1: the round trip as the ping saw it, with the reflector's processing time, ms */
  round_trip: LatencySummary | null;
  /** t3 - t2: the reflector's time between receiving a probe and sending its reply, ms */
  processing: LatencySummary | null;
  /** the reflector's clock minus the ping's, NTP's ((t2 - t1) + (t3 - t4)) / 2; null without replies */
  clock_offset: RttClockOffset | null;
}

export interface RttClockOffset {
  /** the estimate of the exchange with the smallest RTT, ms */
  best_ms: number;
  /** its error bound: that smallest RTT / 2, ms (the true offset lies within best_ms +- error_ms when the path is the only delay) */
  error_ms: number;
  /** mean over all recorded exchanges, ms */
  mean_ms: number;
  /** smallest single estimate, ms */
  min_ms: number;
  /** largest single estimate, ms */
  max_ms: number;
}

/** The mcbench/rtt@1 document: `mcbench ping --json FILE`. */
export interface RttResult {
  /** the format and its version: always 'mcbench/rtt@1' */
  schema: typeof RTT_SCHEMA;
  /** the program and its version, e.g. 'mcbench 0.1.0' */
  version: string;
  /** when probing started, ISO 8601 */
  started: string;
  /** what was asked for */
  config: {
    /** the group probed */
    group: string;
    /** the group's address family */
    family: AddressFamily;
    /** UDP port of the group (the reflectors listen on it) */
    port: number;
    /** -I as given; null: the routing table chose */
    interface: string | null;
    /** probes per second asked for */
    rate_pps: number;
    /** seconds of probing asked for */
    seconds: number;
    /** probes asked for; null: as many as the rate gives in the seconds */
    count: number | null;
    /** seconds waited for late replies after the last probe */
    wait_seconds: number;
    /** probe size, UDP payload bytes */
    length_bytes: number;
    /** multicast TTL / hop limit of the probes */
    ttl: number;
  };
  /** this ping's session id (16 hex digits): replies must echo it */
  session_id: string;
  /**
   * where each reflector's expected probes start: 'first_seen' (a bare ping: from the first probe
   * the reflector saw; loss before its first arrival is not counted), 'first_probe' (`run --mode
   * rtt`: every reflector joined before probe 0, so every probe sent is expected of it)
   */
  loss_counted_from: 'first_seen' | 'first_probe';
  /** what this ping sent */
  probes: {
    /** probes on the wire (sequences 0 to sent - 1); a failed send takes no sequence */
    sent: number;
    /** sends the kernel refused: never on the wire, so not lost (RFC 7680) and in no reflector's expected */
    send_errors: number;
    /** seconds from the first probe to the last */
    span_seconds: number;
  };
  /** every datagram that came back, and why the ones not recorded were ignored */
  replies: {
    /** datagrams read on the ping's socket */
    datagrams: number;
    /** valid replies recorded (all reflectors) */
    recorded: number;
    /** valid replies to a probe already answered by that reflector */
    duplicates: number;
    /** not a reply: short, wrong magic, version, kind or header length, or longer than any reply */
    malformed: number;
    /** a well-formed reply to another ping's session */
    other_session: number;
    /** a sequence this ping never sent, or a t1 that is not the one it sent (forged) */
    unknown_probe: number;
    /** a reply to a probe older than the last 65,536 */
    late: number;
    /** stamps that cannot be: t3 < t2, t4 < t1, or processing longer than the round trip */
    implausible: number;
    /** a known reflector's id from another address (forged) */
    source_mismatch: number;
    /** valid replies of reflectors beyond the first 64 */
    rejected_reflectors: number;
    /** replies without a kernel receive stamp (t4 taken by the app instead) */
    no_kernel_stamp: number;
  };
  /** one entry per reflector that answered, in the order of their first reply */
  reflectors: RttReflector[];
  /** how the run ended */
  end: {
    /** 'done': probed and waited; 'signal': SIGINT/SIGTERM; 'error': the socket failed */
    end_reason: 'done' | 'signal' | 'error';
    /** cut short: the figures cover less than asked for */
    partial: boolean;
    /** the socket error that ended it; null otherwise */
    error: string | null;
  };
}

const toNumber = (v: number | string): number => (typeof v === 'number' ? v : Number.MAX_SAFE_INTEGER);
const ms = (ns: number) => ns / 1e6;

/** One reflector's loss split (see the header): every count >= 0, fwd + ret + unknown = lost when consistent. */
export function reflectorLoss(sent: number, r: Pick<NativeReflectorSnapshot, 'replies' | 'firstSeen' | 'maxSeq' | 'probesSeenAtMax'>) {
  const last = toNumber(r.maxSeq);
  // a reflector's own claims are clamped to what this ping knows (it answered last_seq)
  const first = Math.min(toNumber(r.firstSeen), last);
  const expected = Math.max(0, sent - first);
  const lost = Math.max(0, expected - r.replies);
  const span = last - first + 1;
  const seen = Math.min(toNumber(r.probesSeenAtMax), span);
  return {
    first_seq: first,
    last_seq: last,
    expected,
    lost,
    loss_percent: expected > 0 ? (lost / expected) * 100 : 0,
    lost_forward: Math.max(0, span - seen),
    lost_return: Math.max(0, seen - r.replies),
    lost_unknown_direction: Math.max(0, sent - 1 - last),
  };
}

export function reflectorResult(sent: number, r: NativeReflectorSnapshot, h: NativeRttHistograms | null): RttReflector {
  return {
    reflector_id: r.reflectorId,
    address: r.address,
    replies: r.replies,
    duplicates: r.duplicates,
    ...reflectorLoss(sent, r),
    rtt: h ? summarize(h.rtt) : null,
    round_trip: h ? summarize(h.roundTrip) : null,
    processing: h ? summarize(h.processing) : null,
    clock_offset:
      r.replies > 0
        ? { best_ms: ms(r.bestOffsetNs), error_ms: ms(r.bestRttNs / 2), mean_ms: ms(r.offsetSumNs / r.replies), min_ms: ms(r.offsetMinNs), max_ms: ms(r.offsetMaxNs) }
        : null,
  };
}

export function rttResult(
  spec: PingSpec,
  snap: NativePingSnapshot,
  histograms: ReadonlyArray<NativeRttHistograms | null>,
  meta: { version: string; started: string; endReason: 'done' | 'signal' | 'error'; error: string | null },
): RttResult {
  const reflectors = snap.reflectors.map((r, i) => reflectorResult(snap.sent, r, histograms[i] ?? null));
  return {
    schema: RTT_SCHEMA,
    version: meta.version,
    started: meta.started,
    config: {
      group: spec.group,
      family: spec.family,
      port: spec.port,
      interface: spec.iface,
      rate_pps: spec.rate,
      seconds: spec.seconds,
      count: spec.count,
      wait_seconds: spec.waitSeconds,
      length_bytes: spec.length,
      ttl: spec.ttl,
    },
    session_id: snap.sessionId,
    loss_counted_from: 'first_seen',
    probes: { sent: snap.sent, send_errors: snap.sendErrors, span_seconds: snap.sent > 1 ? (snap.lastSendRealNs - snap.firstSendRealNs) / 1e9 : 0 },
    replies: {
      datagrams: snap.datagrams,
      recorded: reflectors.reduce((n, r) => n + r.replies, 0),
      duplicates: reflectors.reduce((n, r) => n + r.duplicates, 0),
      malformed: snap.malformed,
      other_session: snap.otherSession,
      unknown_probe: snap.unknownProbe,
      late: snap.late,
      implausible: snap.implausible,
      source_mismatch: snap.sourceMismatch,
      rejected_reflectors: snap.rejectedReflectors,
      no_kernel_stamp: snap.noKernelStamp,
    },
    reflectors,
    end: { end_reason: meta.endReason, partial: meta.endReason !== 'done', error: meta.error },
  };
}

/** `mcbench pong --json FILE`: what the reflector did. */
export interface PongResult {
  /** always 'mcbench/pong@1' */
  schema: 'mcbench/pong@1';
  /** the program and its version, e.g. 'mcbench 0.1.0' */
  version: string;
  /** when it joined, ISO 8601 */
  started: string;
  /** what was asked for */
  config: {
    /** the group joined */
    group: string;
    /** the group's address family */
    family: AddressFamily;
    /** the group's UDP port (bound) */
    port: number;
    /** -I as given; null: the routing table chose */
    interface: string | null;
  };
  /** this reflector's id (16 hex digits), as its replies carry it */
  reflector_id: string;
  /** datagrams read on the group's socket */
  datagrams: number;
  /** probes among them (each answered, or a failed reply) */
  probes: number;
  /** replies sent */
  replies: number;
  /** replies the kernel refused to send */
  reply_errors: number;
  /** datagrams that were not probes (ignored) */
  malformed: number;
  /** ping sessions seen */
  sessions: number;
  /** sessions dropped from its table of 16 to make room (one silent for 10 s, else the one with the fewest probes) */
  evicted_sessions: number;
  /** probes with a known session's id from another address than its first probe (forged: not counted, not answered) */
  foreign_source_probes: number;
  /** probes of a session whose sequence was not above the last counted one (duplicated or reordered: answered, not counted as seen) */
  not_ascending_probes: number;
  /** probes without a kernel receive stamp (t2 taken by the app instead) */
  no_kernel_stamp: number;
  /** seconds it ran */
  seconds: number;
  /** how it ended */
  end: {
    /** 'time': -t ran out; 'signal': SIGINT/SIGTERM; 'error': the socket failed */
    end_reason: 'time' | 'signal' | 'error';
    /** the socket error that ended it; null otherwise */
    error: string | null;
  };
}

export function pongResult(
  spec: PongSpec,
  s: NativePongSnapshot,
  meta: { version: string; started: string; seconds: number; endReason: 'time' | 'signal' | 'error'; error: string | null },
): PongResult {
  return {
    schema: 'mcbench/pong@1',
    version: meta.version,
    started: meta.started,
    config: { group: spec.group, family: spec.family, port: spec.port, interface: spec.iface },
    reflector_id: s.reflectorId,
    datagrams: s.datagrams,
    probes: s.probes,
    replies: s.replies,
    reply_errors: s.replyErrors,
    malformed: s.malformed,
    sessions: s.sessions,
    evicted_sessions: s.evictedSessions,
    foreign_source_probes: s.foreignSource,
    not_ascending_probes: s.notAscending,
    no_kernel_stamp: s.noKernelStamp,
    seconds: meta.seconds,
    end: { end_reason: meta.endReason, error: meta.error },
  };
}

/**
 * `run --mode rtt`: the ping's result with every reflector in it and counted from probe 0 (the
 * pongs joined before the ping started): a reflector's probes before its first_seq were lost on
 * the way there; a pong that answered nothing is an entry with every probe lost, forward when it
 * received no probe at all, else back for as many as it received (its own count).
 */
export function everyReflectorFromProbe0(r: RttResult, pongs: ReadonlyArray<{ guest: string; pong: PongResult }>): RttResult {
  const sent = r.probes.sent;
  const byId = new Map(pongs.map((p) => [p.pong.reflector_id, p]));
  const reflectors: RttReflector[] = r.reflectors.map((x) => {
    const head = x.first_seq ?? 0;
    const lost = Math.max(0, sent - x.replies);
    const guest = byId.get(x.reflector_id)?.guest;
    return { ...x, ...(guest === undefined ? {} : { guest }), expected: sent, lost, loss_percent: sent > 0 ? (lost / sent) * 100 : 0, lost_forward: x.lost_forward + head };
  });
  const answered = new Set(r.reflectors.map((x) => x.reflector_id));
  for (const { guest, pong } of pongs) {
    if (answered.has(pong.reflector_id)) continue;
    const received = Math.min(pong.probes, sent);
    reflectors.push({
      reflector_id: pong.reflector_id, address: null, guest, replies: 0, duplicates: 0, first_seq: null, last_seq: null,
      expected: sent, lost: sent, loss_percent: sent > 0 ? 100 : 0, lost_forward: sent - received, lost_return: received, lost_unknown_direction: 0,
      rtt: null, round_trip: null, processing: null, clock_offset: null,
    });
  }
  return { ...r, loss_counted_from: 'first_probe', reflectors };
}
