// Runs one receiver: the addon's thread drains the socket; this side polls snapshots a few
// dozen times a second (never per packet), cuts intervals, decides when the run is over.
import type { Histogram } from 'hdr-histogram-js';
import { attributeLoss, diffDropCounters } from '../core/counters.js';
import { readDropCounters, receiveInterface } from '../host/counters.js';
import { intervalLatency, percentileDistribution, summarize, toHdr } from '../core/latency.js';
import { locateStalls, rcvbufClamped, socketDrops, threadCost, receiverInterval, sessionResult, sumSessions } from '../core/metrics.js';
import type { EndReason, ReceiverGroup, ReceiverInterval, ReceiverResult, SessionResult } from '../core/result.js';
import { receiverGroups, type SequenceRange } from '../core/groups.js';
import { RESULT_SCHEMA } from '../core/result.js';
import type { RecvSpec } from '../core/spec.js';
import { monoNs, readNumber, startInfo } from '../host/system.js';
import { formatCount, formatU64 } from '../core/units.js';
import { loadBinding, type NativeReceiver, type NativeReceiverSnapshot, type NativeSessionSnapshot } from '../native.js';
import { RECEIVER_HEADER, SessionLabels, receiverIntervalLines, receiverSummaryLines } from '../report/human.js';
import { writeFileAtomic } from '../report/files.js';
import type { Output } from '../report/output.js';
import { explainSocketError } from './native-errors.js';

const TICK_MS = 20;
/** after every session sent FIN, how long the receiver waits quietly for another sender */
const LINGER_SECONDS = 1;
/** the shortest traffic window from which the receive thread's busy share is read as saturation */
const SATURATION_WINDOW_SECONDS = 1;

export async function runReceiver(spec: RecvSpec, out: Output, abort: AbortSignal): Promise<ReceiverResult> {
  const binding = loadBinding();
  // Kernel drop counters, read before the join and after the run (never per packet).
  const countersDevice = receiveInterface(spec.group, spec.interface);
  const countersBefore = readDropCounters(countersDevice, { qdisc: false, family: spec.family });
  let rx: NativeReceiver;
  try {
    rx = new binding.Receiver({
      group: spec.group,
      port: spec.port,
      interface: spec.interface ?? '',
      rcvbuf: spec.rcvbuf ?? 0,
      rcvbufForce: spec.rcvbufForce,
      sources: spec.sources,
      ...(spec.groups.length > 1 ? { moreGroups: spec.groups.slice(1) } : {}),
      batch: spec.batch,
      maxDatagram: 65536,
      readPauseNs: spec.readPauseSeconds * 1e9,
      coalesceNs: Math.round(spec.coalesceMicroseconds * 1e3),
      gro: spec.gro,
      latency: spec.latency,
      verifyPayload: spec.verifyPayload,
      stallThresholdNs: spec.stallSeconds === null ? 0 : Math.round(spec.stallSeconds * 1e9),
      ...(spec.expectSession !== null ? { expectSession: spec.expectSession } : {}),
    });
  } catch (e) {
    throw explainSocketError(e, spec);
  }

  const start = startInfo('receiver', spec.interface);
  const { rcvbufActual, joinRealNs } = rx.info();
  const rmemMax = readNumber('/proc/sys/net/core/rmem_max');
  const clamped = rcvbufClamped(spec.rcvbuf, rcvbufActual);
  const warnings: string[] = [];
  if (spec.ssmNote !== null) out.info(spec.ssmNote);
  out.info(
    `mcbench recv: listening on ${spec.family === 'ipv6' ? `[${spec.group}]` : spec.group}${spec.groups.length > 1 ? ` and ${spec.groups.length - 1} more groups` : ''}:${spec.port}${spec.sources.length ? ` from ${spec.sources.join(', ')} only (SSM)` : ''}${spec.interface ? ` via ${spec.interface}` : ''}, ` +
      `SO_RCVBUF ${formatCount(rcvbufActual)} bytes${spec.rcvbuf ? ` (asked ${formatCount(spec.rcvbuf)})` : ' (kernel default)'}`,
  );
  // joined: the orchestrator starts the sender once every receiver's start event arrived
  out.event('start', { ...start, rcvbuf_actual: rcvbufActual });
  if (clamped && spec.rcvbuf !== null) {
    const w =
      `SO_RCVBUF clamped: asked ${formatCount(spec.rcvbuf)} bytes, the kernel granted ${formatCount(rcvbufActual / 2)} ` +
      `(net.core.rmem_max=${rmemMax ?? '?'}). Lift the limit: sysctl -w net.core.rmem_max=${spec.rcvbuf} (or --rcvbuf-force as root)`;
    warnings.push(w);
    out.warn(`warning: ${w}`);
  }

  const labels = new SessionLabels();
  // --expect-session: only that session is measured and can end the run; the packets of any other
  // (a stray sender on the group, a crafted session and its FIN) are counted and ignored.
  const only = (snap: NativeReceiverSnapshot): NativeReceiverSnapshot =>
    spec.expectSession === null ? snap : { ...snap, sessions: snap.sessions.filter((x) => x.sessionId === spec.expectSession) };
  const intervals: ReceiverInterval[] = [];
  const t0 = monoNs();
  let threadFailed = false;
  let wake: () => void = () => {};
  rx.start(() => {
    threadFailed = true;
    wake();
  });

  let prev: NativeReceiverSnapshot | null = null;
  let prevAt = 0; // seconds since the first packet
  let anchor = 0; // CLOCK_MONOTONIC of the first packet
  let headerShown = false;
  let prevKernelHdr: Histogram | null = null;
  // `cur` must come from rx.snapshot(spec.latency): its latency was cut at the same packet.
  const emitInterval = (cur: NativeReceiverSnapshot, at: number) => {
    const iv = receiverInterval(prev, cur, prevAt, at);
    if (spec.latency && cur.latency) {
      const kernelHdr = toHdr(cur.latency.kernel);
      iv.sum.latency_ms = intervalLatency(prevKernelHdr, kernelHdr);
      prevKernelHdr = kernelHdr;
    }
    intervals.push(iv);
    out.event('interval', iv);
    if (!headerShown) {
      out.info(RECEIVER_HEADER);
      headerShown = true;
    }
    for (const line of receiverIntervalLines(iv, labels)) out.info(line);
    prev = cur;
    prevAt = at;
  };

  const reason = await new Promise<EndReason>((resolve) => {
    const finish = (r: EndReason) => {
      clearInterval(timer);
      abort.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => finish('signal');
    const check = () => {
      if (abort.aborted) { finish('signal'); return; }
      const snap = only(rx.snapshot());
      const now = monoNs();
      if (threadFailed || snap.error) { finish('error'); return; }
      if (spec.timeSeconds !== null && now - t0 >= spec.timeSeconds * 1e9) { finish('time'); return; }
      if (snap.firstPacketMonoNs === 0) return;
      // Time zero is the first packet's kernel stamp (not when it was read), as for stalls.
      if (anchor === 0) anchor = snap.firstMcbenchMonoNs || snap.firstPacketMonoNs;
      const at = (now - anchor) / 1e9;
      const quiet = (now - snap.lastPacketMonoNs) / 1e9;
      const finished = snap.sessions.filter((s) => s.finSeen).length;
      // Once every sender has finished, the linger adds no intervals (the tail comes at the end).
      const allFinished = finished > 0 && finished === snap.sessions.length;
      // Boundaries at exact multiples of -i from the first packet (never now + -i: that drifts);
      // the counts are cut at the first poll after the boundary, which is timed to it.
      if (spec.intervalSeconds > 0 && !allFinished) {
        const boundary = (intervals.length + 1) * spec.intervalSeconds;
        if (at >= boundary) emitInterval(only(rx.snapshot(spec.latency)), boundary);
        const untilNextMs = ((intervals.length + 1) * spec.intervalSeconds - (monoNs() - anchor) / 1e9) * 1e3;
        if (untilNextMs < TICK_MS) setTimeout(check, Math.max(0, untilNextMs));
      }
      if (spec.expectSession !== null) {
        if (finished > 0) { finish('fin'); return; }
      } else if (spec.expectSessions !== null) {
        if (finished >= spec.expectSessions) { finish('fin'); return; }
      } else if (allFinished && quiet >= Math.min(LINGER_SECONDS, spec.idleTimeoutSeconds)) {
        { finish('fin'); return; }
      }
      if (quiet >= spec.idleTimeoutSeconds) { finish('idle-timeout'); return; }
    };
    const timer = setInterval(check, TICK_MS);
    wake = check;
    abort.addEventListener('abort', onAbort);
  });

  rx.close();
  const endRealNs = Date.now() * 1e6;
  const everySession = rx.snapshot(spec.latency);
  const last = only(everySession);
  // The native receiver drops other sessions' DATA and FIN before its session table, delay
  // histograms and stall detector (a crafted session sets no figure) and counts them.
  const otherSessionPackets = spec.expectSession === null ? null : everySession.otherSessionPackets;
  if (otherSessionPackets) {
    warnings.push(`${formatCount(otherSessionPackets)} packets of sessions other than the expected ${spec.expectSession!} (counted, ignored: their loss is not this run's, their FIN ends nothing)`);
  }
  if (anchor === 0 && last.firstPacketMonoNs !== 0) anchor = last.firstMcbenchMonoNs || last.firstPacketMonoNs;
  if (anchor !== 0 && spec.intervalSeconds > 0) {
    // The tail interval ends at the last DATA packet, not at the end of the FIN linger.
    const lastData = Math.max(0, ...last.sessions.map((x) => x.lastRecvMonoNs));
    const at = Math.max(prevAt, ((lastData || monoNs()) - anchor) / 1e9);
    const uniqueSoFar = (s: NativeReceiverSnapshot | null) => (s ? s.sessions.reduce((a, x) => a + x.unique, 0) : 0);
    // The tail since the last full interval, when it holds packets (not just FINs or silence).
    if (uniqueSoFar(last) !== uniqueSoFar(prev)) emitInterval(last, at);
  }

  const kernelDelta = diffDropCounters(countersBefore, readDropCounters(countersDevice, { qdisc: false, family: spec.family }));
  const sessions = last.sessions.filter((s) => s.started || s.finSeen).map(sessionResult);
  const sum = sumSessions(sessions);
  const lat = last.latency ?? rx.latency();
  const kernelHdr = toHdr(lat.kernel);
  const clockSkew = lat.clockSkew;
  if (clockSkew > 0) {
    warnings.push(
      `${formatCount(clockSkew)} packets carried send stamps in this host's future: the sender's clock is ahead, ` +
        'so one-way delays are not trustworthy (sync the clocks, e.g. with chrony/PTP); they were counted, not recorded',
    );
  }
  // From the kernel's receive stamp of the first packet, not from when the app read it.
  const firstAfterJoin = last.firstMcbenchRealNs > 0 && joinRealNs > 0 ? (last.firstMcbenchRealNs - joinRealNs) / 1e6 : null;
  const overflowDrops = socketDrops(last);
  // --gro: the socket counts a dropped buffer (a whole GSO send, or a single datagram) once. In
  // datagrams that is an estimate, the drops times the datagrams per buffer read (FINs and other
  // single datagrams count as buffers too), used only for the socket's share of the loss; the
  // loss itself stays what the sequences say (with the tail unknown, at least the drops).
  const perBuffer = last.messages > 0 ? last.datagrams / last.messages : null;
  const overflowDatagrams = spec.gro && last.groBuffers > 0 && perBuffer !== null ? Math.round(overflowDrops * perBuffer) : overflowDrops;
  if (overflowDatagrams !== overflowDrops) {
    warnings.push(
      `--gro: the socket dropped ${formatCount(overflowDrops)} buffers, each up to one GSO send; the loss attribution takes them for ` +
        `about ${formatCount(overflowDatagrams)} datagrams (${perBuffer!.toFixed(1)} per buffer read, an estimate)`,
    );
  }
  const tailUnknown = sessions.some((s) => !s.tail_known);
  const located = locateStalls(last.stalls, endRealNs, tailUnknown && reason !== 'fin', last.firstMcbenchRealNs || last.stalls.firstDataNs);
  if (located.inProgress) {
    const open = located.stalls[located.stalls.length - 1]!;
    warnings.push(
      `the run ended inside a stall: no packet for the last ${open.seconds.toFixed(2)} s and no FIN, so the sender stopped or the path did; ` +
        'the loss is a lower bound (tail unknown)',
    );
  }
  const firstSession = last.sessions.find((s) => s.started);
  if (spec.hgrm && lat.kernel.total > 0) writeFileAtomic(spec.hgrm, percentileDistribution(kernelHdr));
  for (const s of sessions) {
    if (!s.tail_known) warnings.push(`session ${s.session_id}: no FIN received, so loss at the tail is unknown`);
  }
  if (last.foreign > 0) warnings.push(`${formatCount(last.foreign)} datagrams on the group were not mcbench packets (counted as foreign, ignored)`);
  if (spec.verifyPayload && last.payloadErrors > 0) {
    warnings.push(
      `${formatCount(last.payloadErrors)} of ${formatCount(last.payloadChecked)} DATA datagrams carried a payload other than the pattern mcbench send writes ` +
        '(corrupted on the way, or a sender that writes another payload: an older mcbench or another tool)',
    );
  }
  const groupMismatch = last.groupMismatch ?? 0;
  const groups = last.groupReceived ? receiverGroups(spec.groups, last.groupReceived, sessions.map(sequenceRange), groupMismatch > 0) : null;
  if (groupMismatch > 0) {
    warnings.push(
      `${formatCount(groupMismatch)} datagrams arrived on another group than their sequence names in this -g list: invalid per-group loss, the receiver's -g list differs from the sender's ` +
        '(same groups, same order needed); per-group loss not reported (end.groups: packets only); a subset of the sender\'s groups also sees their share as session loss',
    );
  }
  if ((last.otherDestination ?? 0) > 0) {
    warnings.push(`${formatCount(last.otherDestination!)} datagrams to port ${spec.port} were sent to none of the joined groups (unicast or broadcast): counted as other_destination, ignored`);
  }
  if (last.rejectedSessions > 0) warnings.push(`${formatCount(last.rejectedSessions)} packets of senders beyond the 32-session table were ignored`);
  warnings.push(...sessionWarnings(last, sessions));
  if (last.error) warnings.push(`receive failed: ${last.error.message}`);
  // The thread's window runs from the first packet's kernel stamp (not from when it was read: a
  // paused reader then drains its queue in a fraction of a millisecond) to the last read.
  const trafficSeconds = last.firstMcbenchMonoNs > 0 ? Math.max(0, last.lastPacketMonoNs - last.firstMcbenchMonoNs) / 1e9 : 0;
  const rxThread = threadCost(rx.info().threadCpuNs, trafficSeconds, last.datagrams);
  // Only a window long enough to mean it (1 s) can say the thread, not the network, was the limit.
  if (overflowDrops > 0 && trafficSeconds >= SATURATION_WINDOW_SECONDS && (rxThread.busy_percent ?? 0) >= 90) {
    warnings.push(
      `the receive thread was busy ${rxThread.busy_percent!.toFixed(0)}% of the time while the socket dropped: ` +
        'part of the loss may be mcbench\'s own limit on this CPU, not the network',
    );
  }
  // A wait holds at most an eighth of the buffer at the rate just seen; a rate that jumps during
  // one could fill the rest, which a reader that did not wait might have drained.
  if (overflowDrops > 0 && last.coalescedWaits > 0) {
    warnings.push(
      `the socket dropped while the receiver coalesced (${formatCount(last.coalescedWaits)} waits of up to ${spec.coalesceMicroseconds} us): ` +
        'rerun with --coalesce 0 to rule its waits out',
    );
  }
  const partial = reason === 'signal' || reason === 'error' || reason === 'idle-timeout';
  const result: ReceiverResult = {
    schema: RESULT_SCHEMA,
    start: {
      ...start,
      config: {
        group: spec.group,
        ...(spec.groups.length > 1 ? { groups: spec.groups } : {}),
        family: spec.family,
        source: spec.sources,
        port: spec.port,
        interface: spec.interface,
        rcvbuf_requested: spec.rcvbuf,
        rcvbuf_force: spec.rcvbufForce,
        batch: spec.batch,
        interval_seconds: spec.intervalSeconds,
        idle_timeout_seconds: spec.idleTimeoutSeconds,
        time_limit_seconds: spec.timeSeconds,
        expect_sessions: spec.expectSessions,
        expect_session: spec.expectSession,
        latency: spec.latency,
      },
    },
    intervals,
    end: {
      sessions,
      ...(groups ? { groups, group_mismatch: groupMismatch, other_destination: last.otherDestination ?? 0 } : {}),
      sum,
      socket: { rcvbuf_actual: rcvbufActual, rcvbuf_clamped: clamped, rmem_max: rmemMax },
      socket_overflow_drops: overflowDrops,
      foreign_packets: last.foreign,
      truncated_packets: last.truncated,
      payload_checked: spec.verifyPayload ? last.payloadChecked : null,
      payload_errors: spec.verifyPayload ? last.payloadErrors : null,
      rejected_session_packets: last.rejectedSessions,
      evicted_sessions: last.evictedSessions,
      bogus_fins: last.bogusFins,
      foreign_source_packets: last.foreignSourceData,
      other_session_packets: otherSessionPackets,
      datagrams: last.datagrams,
      kernel_timestamped: last.kernelStamps,
      recv_calls: last.batches,
      recv_full_batches: last.fullBatches,
      gro: spec.gro
        ? { buffers_read: last.messages, coalesced_buffers: last.groBuffers, coalesced_datagrams: last.groDatagrams, datagrams_per_buffer: perBuffer, socket_drops_as_datagrams: overflowDatagrams }
        : null,
      coalesce: spec.coalesceMicroseconds > 0 ? { max_wait_us: spec.coalesceMicroseconds, batch: spec.batch, waits: last.coalescedWaits, waited_seconds: last.coalescedNs / 1e9 } : null,
      receiver_thread: rxThread,
      latency: {
        enabled: spec.latency,
        one_way_kernel: summarize(lat.kernel, kernelHdr),
        one_way_app: summarize(lat.app),
        sender_lateness: summarize(lat.lateness),
        path_delay: summarize(lat.path),
        implausible_stamps: last.implausibleStamps,
        socket_queue: summarize(lat.queue),
        clock_skew_packets: clockSkew,
        no_kernel_stamp: lat.noKernelStamp,
      },
      stalls: located.stalls,
      stall_detection: {
        threshold_ms: last.stalls.thresholdNs / 1e6,
        threshold_source: spec.stallSeconds === null ? 'median' : 'flag',
        median_interarrival_ms: last.stalls.medianGapNs > 0 ? last.stalls.medianGapNs / 1e6 : null,
        overflow: last.stalls.overflow,
        in_progress: located.inProgress,
      },
      loss_lower_bound: tailUnknown,
      // With a tail unknown, the sequences cannot see what this socket dropped after the last
      // packet it read; every one of its drops was lost here, so the loss is at least those.
      // (and at least that many more were expected than were received).
      loss_attribution: attributeLoss({
        expected: tailUnknown ? Math.max(sum.expected_packets, sum.packets + overflowDrops) : sum.expected_packets,
        lost: tailUnknown ? Math.max(sum.lost_packets, overflowDrops) : sum.lost_packets,
        socketOverflow: overflowDatagrams,
        delta: kernelDelta,
      }),
      kernel_counters: kernelDelta,
      join: {
        first_packet_after_join_ms: firstAfterJoin,
        // The first packet this receiver saw had seq > 0: the sender was already running.
        join_delay_ms: firstSession && streamRunningAtJoin(firstSession) ? firstAfterJoin : null,
      },
      partial,
      end_reason: reason,
      warnings,
    },
  };
  for (const line of receiverSummaryLines(result.end, labels)) out.summary(line);
  if (groups) out.summary(groupsLine(groups));
  for (const w of warnings.slice(clamped ? 1 : 0)) out.warn(`warning: ${w}`);
  return result;
}

/**
 * RFC 3918 join delay needs the stream running at the join: wire v2 says so from the session's
 * start time; for a v1 sender, a first sequence above 0 is the only hint.
 */
function streamRunningAtJoin(s: NativeSessionSnapshot): boolean {
  return s.startKnown ? s.joinedAfterStart : s.firstSeq !== 0;
}

/** What a reader must know about the sessions' accounting: heads not expected, ignored packets. */
function sessionWarnings(last: NativeReceiverSnapshot, sessions: SessionResult[]): string[] {
  const w: string[] = [];
  for (const s of sessions) {
    if (s.head === 'not-expected' && s.not_expected_packets !== 0) {
      w.push(`session ${s.session_id}: joined after the stream began: ${formatU64(s.not_expected_packets)} not expected (sent before this receiver listened)`);
    }
    if (s.seq_jumps > 0) {
      w.push(`session ${s.session_id}: ${formatCount(s.seq_jumps)} packets with implausible sequence jumps (2^20 or more) were ignored`);
    }
  }
  if (last.bogusFins > 0) {
    w.push(`${formatCount(last.bogusFins)} FINs were ignored (unknown session, another source, or an impossible total)`);
  }
  if (last.foreignSourceData > 0) {
    w.push(`${formatCount(last.foreignSourceData)} DATA packets of known sessions came from another address or port than the session's first packet: ignored`);
  }
  if (last.implausibleStamps > 0) {
    w.push(`${formatCount(last.implausibleStamps)} packets carried send stamps more than 1 h from their arrival: kept out of delay and jitter`);
  }
  if (last.evictedSessions > 0) {
    w.push(`${formatCount(last.evictedSessions)} sessions with few packets were evicted from the full session table to make room`);
  }
  return w;
}

/** A session's expected sequences: from 0 when its head counts (listening before it began), else from its first. */
function sequenceRange(s: SessionResult): SequenceRange {
  const from = s.head === 'counted' ? 0 : Number(s.first_seq);
  return { from, to: from + s.expected_packets };
}

/** Several groups in one line: how many, the total, and the worst group's loss. */
function groupsLine(groups: ReceiverGroup[]): string {
  const total = `groups: ${groups.length}, ${formatCount(groups.reduce((n, g) => n + g.packets, 0))} packets`;
  if (groups.some((g) => g.lost_percent === null)) return `${total}; per-group loss invalid: the receiver's -g list differs from the sender's (per group in the JSON: end.groups)`;
  const worst = groups.reduce((w, g) => ((g.lost_percent ?? 0) > (w.lost_percent ?? 0) ? g : w), groups[0]!);
  const lossy = groups.filter((g) => (g.lost_packets ?? 0) > 0).length;
  return `${total}; ${lossy} lost some` +
    (lossy > 0 ? `, worst ${worst.group} ${(worst.lost_percent ?? 0).toFixed(2)}% (${formatCount(worst.lost_packets ?? 0)}/${formatCount(worst.expected_packets ?? 0)})` : '') +
    ' (per group in the JSON: end.groups)';
}
