// Runs one sender: the addon's thread paces and sends; this side reports each interval from
// snapshots and waits for the thread's "done" (count or time reached, FINs sent).
import { constants as osConstants } from 'node:os';
import { attributeSendLoss, diffDropCounters } from '../core/counters.js';
import { readDropCounters, receiveInterface } from '../host/counters.js';
import { spanThroughput, threadCost, throughput } from '../core/metrics.js';
import type { EndReason, SenderInterval, SenderResult } from '../core/result.js';
import { RESULT_SCHEMA } from '../core/result.js';
import type { SendSpec } from '../core/spec.js';
import { describePattern, frameBytes, patternConfig, patternFigures, unitsPerSecond } from '../core/pattern.js';
import { senderGroups } from '../core/groups.js';
import { startInfo } from '../host/system.js';
import { formatCount, formatRate } from '../core/units.js';
import { loadBinding, type NativeSender, type NativeSenderSnapshot, type SenderOptions } from '../native.js';
import { SENDER_HEADER, senderIntervalLine, senderSummaryLines } from '../report/human.js';
import type { Output } from '../report/output.js';
import { explainSendError, explainSocketError, gsoRefusal } from './native-errors.js';

export async function runSender(spec: SendSpec, out: Output, abort: AbortSignal): Promise<SenderResult> {
  const binding = loadBinding();
  // The send device: -I's, or the group's route (the same lookup as the receiver's).
  const countersDevice = receiveInterface(spec.group, spec.interface);
  const countersBefore = readDropCounters(countersDevice, { family: spec.family });
  let tx: NativeSender;
  try {
    tx = new binding.Sender({
      group: spec.group,
      port: spec.port,
      interface: spec.interface ?? '',
      ttl: spec.ttl,
      loop: spec.loop,
      length: spec.length,
      batch: spec.batch,
      pps: spec.pps,
      count: spec.count ?? 0,
      durationNs: spec.timeSeconds === null ? 0 : Math.round(spec.timeSeconds * 1e9),
      finCount: 5,
      gsoSegments: spec.gso?.segments ?? 0,
      gsoFallback: spec.gso?.fallback ?? false,
      ...(spec.sessionId !== null ? { sessionId: spec.sessionId } : {}),
      ...(spec.pattern ? nativePattern(spec.pattern) : {}),
      ...(spec.groups.length > 1 ? { moreGroups: spec.groups.slice(1) } : {}),
    });
  } catch (e) {
    throw explainSocketError(e, spec);
  }
  const start = startInfo('sender', spec.interface);
  const target = spec.pps > 0 ? `${formatRate(spec.bitsPerSecond)} (${formatCount(Math.round(spec.pps * 100) / 100)} pps)` : 'unlimited rate';
  const limit = [spec.timeSeconds !== null ? `${spec.timeSeconds} s` : '', spec.count !== null ? `${formatCount(spec.count)} packets` : '']
    .filter(Boolean)
    .join(' or ');
  const gsoText = spec.gso ? ` (UDP GSO, ${spec.gso.segments} per send${spec.gso.fallback ? ' or fewer' : ''})` : '';
  if (spec.pattern) out.info(`mcbench send: pattern: ${describePattern(spec.pattern, spec.length)}`);
  if (spec.groups.length > 1) out.info(`mcbench send: ${spec.groups.length} groups, round robin (${spec.groups[0]} ... ${spec.groups.at(-1)}): each gets 1/${spec.groups.length} of the rate`);
  out.info(`mcbench send: to ${spec.family === 'ipv6' ? `[${spec.group}]` : spec.group}:${spec.port}${spec.interface ? ` via ${spec.interface}` : ''}, ${spec.length}-byte datagrams${gsoText}, ${target}, for ${limit}, TTL ${spec.ttl}`);
  out.event('start', start);

  const intervals: SenderInterval[] = [];
  let prev: NativeSenderSnapshot | null = null;
  const reason = await new Promise<EndReason>((resolve) => {
    let headerShown = false;
    const onAbort = () => {
      // close() stops the thread at its next batch and still sends the FINs.
      tx.close();
      done('signal');
    };
    // Intervals end at exact multiples of -i from the first send (the thread's start, not this
    // timer's: on a loaded host the thread starts tens of ms later). Each poll is timed to the
    // next boundary; its counts are cut there.
    let timer: NodeJS.Timeout | undefined;
    let boundaries = 0;
    let prevAt = 0;
    const ivNs = spec.intervalSeconds * 1e9;
    const poll = () => {
      const cur = tx.snapshot();
      const at = Number(process.hrtime.bigint());
      if (cur.startMonoNs === 0) {
        timer = setTimeout(poll, 10);
        return;
      }
      if (at >= cur.startMonoNs + (boundaries + 1) * ivNs) {
        boundaries++;
        const from = (boundaries - 1) * spec.intervalSeconds;
        const to = boundaries * spec.intervalSeconds;
        // The rate is over the window the counts really cover (a late poll cuts later).
        const window = (at - (prev ? prevAt : cur.startMonoNs)) / 1e9;
        const iv: SenderInterval = { start: from, end: to, ...throughput(cur.sent - (prev?.sent ?? 0), cur.bytes - (prev?.bytes ?? 0), window) };
        intervals.push(iv);
        out.event('interval', iv);
        if (!headerShown) {
          out.info(SENDER_HEADER);
          headerShown = true;
        }
        out.info(senderIntervalLine(iv));
        prev = cur;
        prevAt = at;
      }
      timer = setTimeout(poll, Math.max(0, (cur.startMonoNs + (boundaries + 1) * ivNs - at) / 1e6));
    };
    if (spec.intervalSeconds > 0) timer = setTimeout(poll, spec.intervalSeconds * 1000);
    let settled = false;
    function done(r: EndReason) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort.removeEventListener('abort', onAbort);
      resolve(r);
    }
    abort.addEventListener('abort', onAbort);
    tx.start(() => {
      const s = tx.snapshot();
      if (s.error) done('error');
      else if (spec.count !== null && s.sent >= spec.count) done('count');
      else done('time');
    });
  });

  tx.close();
  const last = tx.snapshot();
  const kernelDelta = diffDropCounters(countersBefore, readDropCounters(countersDevice, { family: spec.family }));
  const sendDrops = attributeSendLoss({ enobufs: last.enobufs, eagain: last.eagain, delta: kernelDelta });
  const seconds = last.endMonoNs > last.startMonoNs ? (last.endMonoNs - last.startMonoNs) / 1e9 : 0;
  const pattern = spec.pattern ? patternFigures(spec.pattern.kind, last) : null;
  // A pattern's rate is its units' (a burst's datagrams share one moment, not the span's gaps).
  const totals = pattern?.units_per_second
    ? { ...throughput(last.sent, last.bytes, seconds), packets_per_second: (last.sent / pattern.units) * pattern.units_per_second, bits_per_second: (last.bytes / pattern.units) * pattern.units_per_second * 8 }
    : spanThroughput(last.sent, last.bytes, (last.lastSendMonoNs - last.firstSendMonoNs) / 1e9, seconds);
  const failedAtOnce = reason === 'error' && last.sent === 0;
  if (failedAtOnce && last.error) {
    tx.close();
    throw explainSendError(last.error, spec);
  }
  const rateRatio = spec.pattern
    ? pattern?.units_per_second ? pattern.units_per_second / unitsPerSecond(spec.pattern) : null
    : spec.pps > 0 && last.sent > 1 ? totals.packets_per_second / spec.pps : null;
  const warnings: string[] = [];
  const busy = seconds > 0 ? Math.min(1, last.threadCpuNs / 1e9 / seconds) : 0;
  if (rateRatio !== null && rateRatio < 0.99 && reason !== 'signal' && reason !== 'error') {
    warnings.push(
      `the sender reached only ${(rateRatio * 100).toFixed(1)}% of its target rate (send thread busy ${(busy * 100).toFixed(0)}%): this host or mcbench limited the rate, ` +
        'so loss and throughput figures describe the sender, not the network',
    );
  }
  if ((sendDrops.qdisc_drops ?? 0) > 0) {
    warnings.push(`the send interface's queue dropped ${formatCount(sendDrops.qdisc_drops!)} packets: raise its txqueuelen (ip link set DEV txqueuelen 10000) or lower the rate`);
  }
  if (last.enobufs > 0) warnings.push(`sendmmsg failed with ENOBUFS ${formatCount(last.enobufs)} times: the interface queue was full (see txqueuelen)`);
  if (last.error) warnings.push(`send failed: ${last.error.message}`);
  const gsoRefused = last.gsoRefusedErrno ? gsoRefusal(errnoName(last.gsoRefusedErrno)) : null;
  if (gsoRefused) warnings.push(`--gso auto: the kernel refused UDP GSO (${gsoRefused}); sent one datagram per call instead`);
  if (last.finsSent === 0) warnings.push('no FIN could be sent: receivers cannot know the total');
  const result: SenderResult = {
    schema: RESULT_SCHEMA,
    start: {
      ...start,
      config: {
        group: spec.group,
        ...(spec.groups.length > 1 ? { groups: spec.groups } : {}),
        family: spec.family,
        port: spec.port,
        interface: spec.interface,
        length: spec.length,
        target_bits_per_second: spec.bitsPerSecond,
        target_packets_per_second: spec.pps,
        time_limit_seconds: spec.timeSeconds,
        count_limit: spec.count,
        ttl: spec.ttl,
        loop: spec.loop,
        // a burst of up to 1024 datagrams is one sendmmsg call whatever --batch says
        batch: spec.pattern?.kind === 'burst' ? Math.max(spec.batch, Math.min(spec.pattern.datagrams, 1024)) : spec.batch,
        interval_seconds: spec.intervalSeconds,
        send_stamp: spec.pps > 0 ? 'intended' : 'actual',
        ...(spec.pattern ? { pattern: patternConfig(spec.pattern) } : {}),
      },
    },
    intervals,
    end: {
      ...(spec.gso ? { gso: { mode: spec.gso.fallback ? 'auto' : 'on', segments: spec.gso.segments, used: last.gsoSegments > 0, refused: gsoRefused } as const } : {}),
      ...(pattern ? { pattern } : {}),
      ...(spec.groups.length > 1 ? { groups: senderGroups(spec.groups, last.sent) } : {}),
      session_id: last.sessionId,
      ...totals,
      rate_ratio: rateRatio,
      send_calls: last.calls,
      enobufs: last.enobufs,
      eagain: last.eagain,
      fins_sent: last.finsSent,
      late_max_ms: spec.pps > 0 ? last.maxLateNs / 1e6 : null,
      late_mean_ms: spec.pps > 0 && last.calls > 0 ? last.lateSumNs / (pattern ? Math.max(1, pattern.units) : last.calls) / 1e6 : null,
      sender_thread: threadCost(last.threadCpuNs, seconds, last.sent),
      send_drops: sendDrops,
      kernel_counters: kernelDelta,
      partial: reason === 'signal' || reason === 'error',
      end_reason: reason,
      warnings,
    },
  };
  for (const line of senderSummaryLines(result.end)) out.summary(line);
  for (const w of warnings) out.warn(`warning: ${w}`);
  return result;
}

/** The errno's symbolic name (EIO, EINVAL, ...) from os.constants, its number when unknown. */
function errnoName(errno: number): string {
  const hit = Object.entries(osConstants.errno).find(([, n]) => n === errno);
  return hit ? hit[0] : `errno ${errno}`;
}

/** The pattern as the addon takes it. */
function nativePattern(p: NonNullable<SendSpec['pattern']>): Partial<SenderOptions> {
  if (p.kind === 'burst') return { pattern: 'burst', unitsPerSecond: unitsPerSecond(p), burstDatagrams: p.datagrams };
  const f = frameBytes(p);
  return { pattern: 'isochronous', unitsPerSecond: p.framesPerSecond, frameMeanBytes: f.mean, frameStddevBytes: f.stddev, seed: p.seed };
}
