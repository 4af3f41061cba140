// Pure metric arithmetic over native snapshots: no I/O, unit-tested without sockets.
import type { NativeReceiverSnapshot, NativeSessionSnapshot, NativeStalls } from './snapshots.js';
import type { LossFigures, ReceiverIntervalSum, Stall, ThreadCost, SessionResult, StreamInterval, ThroughputFigures } from './result.js';

/** the counters of a stream interval that the sum adds up */
type CountKey = 'expected_packets' | 'packets' | 'bytes' | 'out_of_order' | 'duplicates' | 'lost_packets';

export function percent(part: number, whole: number): number {
  return whole > 0 ? (100 * part) / whole : 0;
}

export function throughput(packets: number, bytes: number, seconds: number): ThroughputFigures {
  return {
    seconds,
    packets,
    bytes,
    bits_per_second: seconds > 0 ? (bytes * 8) / seconds : 0,
    packets_per_second: seconds > 0 ? packets / seconds : 0,
  };
}

export function loss(expected: number, unique: number, reordered: number, duplicates: number): LossFigures {
  const lost = Math.max(0, expected - unique);
  return {
    expected_packets: expected,
    lost_packets: lost,
    lost_percent: percent(lost, expected),
    out_of_order: reordered,
    duplicates,
  };
}

/**
 * The whole-run figures of one sender session. The rate spans first to last arrival, so n
 * packets paced at r pps span (n - 1) / r seconds: the (n - 1) intervals give the true rate.
 */
/**
 * Rates of packets spread over a span from the first to the last one: n packets paced at r pps
 * span (n - 1) / r seconds, so the (n - 1) gaps give the true rate (n / span would overstate a
 * short run). `seconds` is what the figures report as their duration (default: the span).
 */
export function spanThroughput(packets: number, bytes: number, spanSeconds: number, seconds = spanSeconds): ThroughputFigures {
  const t = throughput(packets, bytes, seconds);
  if (packets > 1 && spanSeconds > 0) {
    t.packets_per_second = (packets - 1) / spanSeconds;
    t.bits_per_second = t.packets_per_second * (bytes / packets) * 8;
  }
  return t;
}

export function sessionResult(s: NativeSessionSnapshot): SessionResult {
  const spanSeconds = s.unique > 1 ? (s.lastRecvNs - s.firstRecvNs) / 1e9 : 0;
  const t = spanThroughput(s.unique, s.bytes, spanSeconds);
  return {
    session_id: s.sessionId,
    ...t,
    ...loss(s.expected, s.unique, s.reordered, s.duplicates),
    tail_known: s.finSeen,
    sender_packets: s.finSeen ? s.finTotal : null,
    first_seq: s.firstSeq,
    last_seq: s.maxSeq,
    head: !s.startKnown ? 'unknown' : s.headCounted ? 'counted' : s.joinedAfterStart ? 'not-expected' : 'unknown',
    not_expected_packets: s.notExpected,
    seq_jumps: s.seqJumps,
    source: s.source === '' ? null : s.source,
    gaps: s.gaps,
    reorder_max_extent: s.reorderMaxExtent,
    jitter_ms: s.jitterNs / 1e6,
  };
}

/**
 * All sessions added up. Loss is the sum of each session's own loss, never expected minus unique
 * over the sums: one session's surplus (duplicates counted as late uniques, a head not expected)
 * must not cancel another's loss.
 */
export function sumSessions(sessions: SessionResult[]): ThroughputFigures & LossFigures {
  const add = (k: keyof (ThroughputFigures & LossFigures)) => sessions.reduce((a, s) => a + s[k], 0);
  const expected = add('expected_packets');
  const lost = add('lost_packets');
  return {
    seconds: sessions.reduce((a, s) => Math.max(a, s.seconds), 0),
    packets: add('packets'),
    bytes: add('bytes'),
    bits_per_second: add('bits_per_second'),
    packets_per_second: add('packets_per_second'),
    expected_packets: expected,
    lost_packets: lost,
    lost_percent: percent(lost, expected),
    out_of_order: add('out_of_order'),
    duplicates: add('duplicates'),
  };
}

const ZERO_SESSION: Omit<NativeSessionSnapshot, 'sessionId'> = {
  started: false, firstSeq: 0, maxSeq: 0, notExpected: 0, headCounted: false, joinedAfterStart: false,
  startKnown: false, seqJumps: 0, source: '', unique: 0, expected: 0, lost: 0, duplicates: 0,
  reordered: 0, reorderMaxExtent: 0, gaps: 0, beyondWindow: 0, bytes: 0, finSeen: false,
  finTotal: 0, finsReceived: 0, firstRecvNs: 0, lastRecvNs: 0, lastRecvMonoNs: 0, jitterNs: 0,
};

/**
 * One interval's figures from two cumulative snapshots. Loss in an interval is the growth of
 * the expected count minus the growth of the unique count; a late packet filling an earlier
 * interval's gap can make that negative, so it is floored at 0 (the run's total is exact).
 * Every count is floored at 0; a session evicted and seen anew (its counts restarted) is diffed
 * against zero, never against its previous life.
 */
export function receiverInterval(
  prev: NativeReceiverSnapshot | null,
  cur: NativeReceiverSnapshot,
  start: number,
  end: number,
): { streams: StreamInterval[]; sum: ReceiverIntervalSum } {
  const seconds = end - start;
  const streams = cur.sessions.map((s): StreamInterval => {
    const found = prev?.sessions.find((x) => x.sessionId === s.sessionId);
    const p = found && found.unique <= s.unique ? found : { sessionId: s.sessionId, ...ZERO_SESSION };
    const grown = (k: 'unique' | 'bytes' | 'expected' | 'reordered' | 'duplicates') => Math.max(0, s[k] - p[k]);
    const packets = grown('unique');
    return {
      session_id: s.sessionId,
      start,
      end,
      ...throughput(packets, grown('bytes'), seconds),
      ...loss(grown('expected'), packets, grown('reordered'), grown('duplicates')),
      jitter_ms: s.jitterNs / 1e6,
    };
  });
  const total = (k: CountKey) => streams.reduce((a, s) => a + s[k], 0);
  const expected = total('expected_packets');
  const packets = total('packets');
  return {
    streams,
    sum: {
      start,
      end,
      ...throughput(packets, total('bytes'), seconds),
      ...loss(expected, packets, total('out_of_order'), total('duplicates')),
      lost_packets: total('lost_packets'),
      lost_percent: percent(total('lost_packets'), expected),
      foreign_packets: cur.foreign - (prev?.foreign ?? 0),
      socket_overflow_drops: socketDrops(cur) - (prev ? socketDrops(prev) : 0),
      latency_ms: null,
    },
  };
}

/** SO_RCVBUF: Linux doubles the request (bookkeeping overhead) and caps it at rmem_max first. */
export function rcvbufClamped(requested: number | null, actual: number): boolean {
  return requested !== null && requested > 0 && actual < 2 * requested;
}

/**
 * The socket's drops so far: its own counter read at the snapshot (SO_MEMINFO), which also sees
 * drops after the last datagram queued; the last SO_RXQ_OVFL cmsg only when that is unreadable.
 */
export function socketDrops(s: NativeReceiverSnapshot): number {
  return s.socketDrops >= 0 ? s.socketDrops : s.rxqOvfl;
}

/**
 * The stalls the receive thread located (silences between DATA arrivals longer than the
 * threshold), plus the one the run ended in: when a session's tail is unknown (no FIN) and the
 * silence since the last DATA packet, up to `endRealNs`, is longer than the threshold. A snooping
 * bridge whose memberships expired, or a sender that stopped, shows this way.
 */
export function locateStalls(
  st: NativeStalls,
  endRealNs: number,
  tailUnknown: boolean,
  originRealNs = st.firstDataNs,
): { stalls: Stall[]; inProgress: boolean } {
  const since = (ns: number) => (ns - originRealNs) / 1e9;
  const stalls: Stall[] = st.list.map((x) => ({
    start_seconds: since(x.startNs),
    end_seconds: since(x.startNs) + x.lengthNs / 1e9,
    seconds: x.lengthNs / 1e9,
    resumed: true,
    start_epoch_seconds: x.startNs / 1e9,
    session_before: x.sessionBefore,
    seq_before: x.seqBefore,
    session_after: x.sessionAfter,
    seq_after: x.seqAfter,
    missing_packets: x.sessionAfter === x.sessionBefore && x.seqAfter > x.seqBefore ? x.seqAfter - x.seqBefore - 1 : null,
  }));
  const silence = endRealNs - st.lastDataNs;
  const inProgress = tailUnknown && st.lastDataNs > 0 && silence > st.thresholdNs;
  if (inProgress) {
    stalls.push({
      start_seconds: since(st.lastDataNs),
      end_seconds: since(endRealNs),
      seconds: silence / 1e9,
      resumed: false,
      start_epoch_seconds: st.lastDataNs / 1e9,
      session_before: st.lastSession,
      seq_before: st.lastSeq,
      session_after: null,
      seq_after: null,
      missing_packets: null,
    });
  }
  return { stalls, inProgress };
}

export function threadCost(cpuNs: number, trafficSeconds: number, packets: number): ThreadCost {
  return {
    cpu_seconds: cpuNs / 1e9,
    busy_percent: trafficSeconds > 0 ? Math.min(100, (100 * cpuNs) / 1e9 / trafficSeconds) : null,
    cpu_ns_per_packet: packets > 0 ? cpuNs / packets : null,
  };
}
