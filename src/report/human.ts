// Human output in iperf's style: one line per interval, then a summary block.
import { formatAttribution, formatSendLoss } from '../core/counters.js';
import type { LatencySummary } from '../core/latency.js';
import type { SenderPattern, ThreadCost, ReceiverEnd, ReceiverInterval, SenderEnd, SenderInterval, SessionResult } from '../core/result.js';
import { formatCount, formatRate, formatU64 } from '../core/units.js';

const range = (start: number, end: number) => `${start.toFixed(2)}-${end.toFixed(2)} sec`.padEnd(16);
const pct = (p: number) => `${p.toFixed(p > 0 && p < 0.01 ? 4 : 2)}%`;

export class SessionLabels {
  private readonly ids = new Map<string, number>();
  label(sessionId: string): string {
    let n = this.ids.get(sessionId);
    if (n === undefined) {
      n = this.ids.size + 1;
      this.ids.set(sessionId, n);
    }
    return `[${String(n).padStart(3)}]`;
  }
}

export const RECEIVER_HEADER =
  '[ ID] Interval         Packets     Payload rate        pps    Lost/Expected     Lost%   OOO  Dup  Jitter';
export const SENDER_HEADER = '[ ID] Interval         Packets     Payload rate        pps';

function receiverRow(label: string, r: {
  start?: number; end?: number; seconds: number; packets: number; bits_per_second: number; packets_per_second: number;
  lost_packets: number; expected_packets: number; lost_percent: number; out_of_order: number; duplicates: number;
}, jitterMs: number | null, lowerBound = false): string {
  const when = r.start !== undefined && r.end !== undefined ? range(r.start, r.end) : range(0, r.seconds);
  return [
    label, ' ', when,
    formatCount(r.packets).padStart(9), '  ',
    formatRate(r.bits_per_second).padStart(14), '  ',
    r.packets_per_second.toFixed(0).padStart(9), '  ',
    `${formatCount(r.lost_packets)}/${formatCount(r.expected_packets)}`.padStart(15), '  ',
    // tail unknown: what was seen is lost at least, never a plain figure
    `${lowerBound ? '≥' : ''}${pct(r.lost_percent)}`.padStart(8), '  ',
    String(r.out_of_order).padStart(4), ' ',
    String(r.duplicates).padStart(4), '  ',
    jitterMs === null ? '' : `${jitterMs.toFixed(3)} ms`,
  ].join('');
}

export function receiverIntervalLines(iv: ReceiverInterval, labels: SessionLabels): string[] {
  const lines = iv.streams.map((s) => receiverRow(labels.label(s.session_id), s, s.jitter_ms));
  if (iv.streams.length > 1) lines.push(receiverRow('[SUM]', iv.sum, null));
  const l = iv.sum.latency_ms;
  const last = lines.length - 1;
  if (l && last >= 0) lines[last] = `${lines[last]!}  delay p50 ${l.p50_ms.toFixed(3)} p99 ${l.p99_ms.toFixed(3)} ms`;
  if (iv.sum.socket_overflow_drops > 0) lines.push(`      socket buffer overflow drops in this interval: ${formatCount(iv.sum.socket_overflow_drops)}`);
  return lines;
}

function sessionLine(s: SessionResult, labels: SessionLabels): string {
  const tail = s.tail_known ? `sender sent ${formatU64(s.sender_packets ?? 0)}` : 'no FIN: tail loss unknown';
  const head = s.head === 'not-expected' && s.not_expected_packets !== 0 ? `; joined after the stream began: ${formatU64(s.not_expected_packets)} not expected` : '';
  return `${receiverRow(labels.label(s.session_id), s, s.jitter_ms, !s.tail_known)}  (session ${s.session_id}, ${tail}${head})`;
}

export function receiverSummaryLines(end: ReceiverEnd, labels: SessionLabels): string[] {
  const lines = ['- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -', RECEIVER_HEADER];
  for (const s of end.sessions) lines.push(sessionLine(s, labels));
  if (end.sessions.length > 1) lines.push(receiverRow('[SUM]', end.sum, null, end.loss_lower_bound));
  if (end.sessions.length === 0) lines.push('no mcbench traffic received');
  const asked = end.socket.rcvbuf_clamped ? ' (CLAMPED by net.core.rmem_max)' : '';
  lines.push(
    `socket: SO_RCVBUF ${formatCount(end.socket.rcvbuf_actual)} bytes${asked} · overflow drops (SO_MEMINFO) ${formatCount(end.socket_overflow_drops)}` +
      ` · foreign datagrams ${formatCount(end.foreign_packets)}`,
  );
  // (with a tail unknown the attribution also counts the socket's drops the sequences cannot see)
  if (end.loss_attribution.lost > 0) lines.push(...formatAttribution(end.loss_attribution).split('\n'));
  const co = end.coalesce;
  const waited = co && co.waits > 0 ? ` · coalesced: ${formatCount(co.waits)} waits of up to ${co.max_wait_us} us (${(co.waited_seconds * 1e3).toFixed(1)} ms in all), ${formatCount(end.recv_calls)} reads of up to ${co.batch}` : '';
  lines.push(`receive thread: ${threadLine(end.receiver_thread)}${waited}`);
  const gro = end.gro;
  if (gro) lines.push(`UDP_GRO: ${formatCount(gro.coalesced_datagrams)} datagrams came in ${formatCount(gro.coalesced_buffers)} coalesced buffers; ${formatCount(gro.buffers_read)} buffers read (${gro.datagrams_per_buffer?.toFixed(1) ?? '-'} datagrams each)`);
  const lat = end.latency;
  const rows: Array<[string, LatencySummary | null]> = [
    ['one-way delay (kernel stamp)', lat.one_way_kernel],
    ['one-way delay (app, recvmmsg)', lat.one_way_app],
    // wire v2: the total (app - intended send) split into its parts
    ['sender lateness (actual - due)', lat.sender_lateness],
    ['path delay (kernel - actual)', lat.path_delay],
    ['socket queueing (app - kernel)', lat.socket_queue],
  ];
  if (rows.some(([, l]) => l !== null)) {
    lines.push(`${'latency, ms'.padEnd(31)}${['min', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'mean'].map((h) => h.padStart(9)).join('')}`);
    for (const [name, l] of rows) {
      if (!l) continue;
      const cells = [l.min_ms, l.p50_ms, l.p90_ms, l.p99_ms, l.p99_9_ms, l.p99_99_ms, l.max_ms, l.mean_ms];
      lines.push(`${name.padEnd(31)}${cells.map((v) => v.toFixed(3).padStart(9)).join('')}`);
    }
  }
  for (const st of end.stalls) {
    const missing = st.missing_packets === null ? '' : `, ${formatCount(st.missing_packets)} sequences missing across it`;
    lines.push(
      `STALL: no packets from ${st.start_seconds.toFixed(3)} s to ${st.end_seconds.toFixed(3)} s (${st.seconds.toFixed(3)} s)` +
        (st.resumed ? `, then traffic resumed${missing}` : ', still in progress at the end of the run: the loss is a lower bound (tail unknown)'),
    );
  }
  if (end.stall_detection.overflow > 0) lines.push(`STALL: ${formatCount(end.stall_detection.overflow)} more stalls not listed (the list holds 64)`);
  if (end.join.join_delay_ms !== null) lines.push(`join delay (RFC 3918): ${end.join.join_delay_ms.toFixed(1)} ms from the join to the first packet`);
  lines.push(`end: ${end.end_reason}${end.partial ? ' (PARTIAL result)' : ''}`);
  return lines;
}

function senderRow(label: string, r: { start: number; end: number; packets: number; bits_per_second: number; packets_per_second: number }): string {
  return [
    label, ' ', range(r.start, r.end),
    formatCount(r.packets).padStart(9), '  ',
    formatRate(r.bits_per_second).padStart(14), '  ',
    r.packets_per_second.toFixed(0).padStart(9),
  ].join('');
}

export function senderIntervalLine(iv: SenderInterval): string {
  return senderRow('[  1]', iv);
}

export function senderSummaryLines(end: SenderEnd): string[] {
  const lines = ['- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -', SENDER_HEADER];
  lines.push(`${senderRow('[  1]', { ...end, start: 0, end: end.seconds })}  (session ${end.session_id})`);
  if (end.rate_ratio !== null) {
    const late = end.late_mean_ms !== null && end.late_max_ms !== null ? ` · behind schedule: mean ${end.late_mean_ms.toFixed(3)} ms, worst ${end.late_max_ms.toFixed(3)} ms` : '';
    lines.push(`target ${(end.rate_ratio * 100).toFixed(2)}% reached${late}`);
  }
  if (end.pattern) lines.push(patternLine(end.pattern));
  lines.push(`sendmmsg calls ${formatCount(end.send_calls)} · FIN sent ${end.fins_sent} · ${formatSendLoss(end.send_drops)}`);
  lines.push(`send thread: ${threadLine(end.sender_thread)}`);
  lines.push(`end: ${end.end_reason}${end.partial ? ' (PARTIAL result)' : ''}`);
  return lines;
}

/** The achieved burst or frame pattern: units/s, their size, the gaps between them, how long each took to send. */
function patternLine(p: SenderPattern): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(3)} ms`);
  const perSecond = p.units_per_second === null ? '' : `, ${p.units_per_second.toFixed(2)}/s`;
  const size = p.datagrams_per_unit_mean === null ? '' : ` · ${p.datagrams_per_unit_mean.toFixed(1)} datagrams (max ${formatCount(p.datagrams_per_unit_max)}), ${formatCount(Math.round(p.bytes_per_unit_mean ?? 0))} bytes each (max ${formatCount(p.bytes_per_unit_max)}) in ${(p.calls_per_unit_mean ?? 0).toFixed(2)} sendmmsg`;
  return `pattern: ${formatCount(p.units)} ${p.kind === 'burst' ? 'bursts' : 'frames'}${perSecond}${size} · gap mean ${ms(p.gap_mean_ms)}, max ${ms(p.gap_max_ms)} · sent within mean ${ms(p.span_mean_ms)}, max ${ms(p.span_max_ms)}`;
}

function threadLine(t: ThreadCost): string {
  const busy = t.busy_percent === null ? '' : `, busy ${t.busy_percent.toFixed(0)}%`;
  const per = t.cpu_ns_per_packet === null ? '' : `, ${t.cpu_ns_per_packet.toFixed(0)} ns/packet`;
  return `CPU ${t.cpu_seconds.toFixed(3)} s${busy}${per}`;
}
