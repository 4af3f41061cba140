// The side-by-side table of a scenario run: one row per receiver per variant, and a one-line
// conclusion computed from the figures (never a canned sentence).
import { clockBound } from '../core/clock.js';
import type { RunReport, VariantOutcome } from '../core/run-report.js';
import { formatCount } from '../core/units.js';
import { emitJson } from './json.js';
import type { Output } from './output.js';

const pct = (p: number | null | undefined) => (p === null || p === undefined ? 'n/a' : `${p.toFixed(2)}%`);

/** A receive rate with its own unit: a 16 kbit/s probe is 16.0 kbit/s, not "0.0" Mbit/s. */
export function tableRate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}

// 'stalls' holds only stalls; why a variant was skipped, why a receiver has no result and the
// group's summary are notes, in a column of their own (left-aligned, last: they are sentences).
const HEADER = ['variant', 'guest', 'received', 'lost', 'lost%', 'sockbuf full', 'backlog', 'unaccounted', 'rate', 'p99 delay', 'SO_RCVBUF', 'stalls', 'notes'];
const NOTES = HEADER.length - 1;

export function runTableRows(report: RunReport): string[][] {
  const rows: string[][] = [];
  for (const v of report.variants) {
    if (v.skipped) rows.push([v.name, '-', 'skipped', '', '', '', '', '', '', '', '', '', v.skipped]);
    for (const r of v.receivers) {
      const e = r.result?.end;
      if (!e) {
        rows.push([v.name, r.guest, 'no result', '', '', '', '', '', '', '', '', '', r.error ?? '']);
        continue;
      }
      const a = e.loss_attribution;
      const p99 = e.latency.one_way_kernel?.p99_ms;
      const caveat = p99 === undefined ? '' : clockCaveat(v, [r.guest], p99);
      rows.push([
        v.name,
        r.guest,
        formatCount(e.sum.packets),
        formatCount(e.sum.lost_packets),
        `${e.loss_lower_bound ? '≥' : ''}${pct(e.sum.lost_percent)}`,
        pct(a.socket_buffer.percent),
        pct(a.backlog.percent),
        pct(a.unaccounted.percent),
        tableRate(e.sum.bits_per_second),
        p99 === undefined ? 'n/a' : `${p99.toFixed(2)} ms${caveat}`,
        `${formatCount(e.socket.rcvbuf_actual)}${e.socket.rcvbuf_clamped ? ' (clamped)' : ''}`,
        e.stalls.length === 0 ? '0' : e.stalls.map((s) => `${s.seconds.toFixed(0)}s@${s.start_seconds.toFixed(0)}s`).join(' '),
        e.loss_lower_bound ? 'no FIN: tail unknown' : '',
      ]);
    }
    const g = v.group;
    if (g && v.receivers.length > 1) {
      const p99 = g.one_way_kernel?.p99_ms;
      const notes = [
        `${g.receivers_with_loss}/${g.per_receiver.length} lost packets`,
        g.worst_loss && g.receivers_with_loss > 0 ? `worst ${g.worst_loss.guest} ${pct(g.worst_loss.lost_percent)}` : null,
        g.mean_loss_percent === null || g.receivers_with_loss === 0 ? null : `mean ${pct(g.mean_loss_percent)}`,
        g.slowest ? `slowest ${g.slowest.guest} ${formatCount(Math.round(g.slowest.packets_per_second))} pps` : null,
        g.missing.length ? `no result: ${g.missing.join(', ')}` : null,
      ];
      rows.push([
        v.name,
        'group',
        formatCount(g.per_receiver.reduce((n, r) => n + r.packets, 0)),
        formatCount(g.per_receiver.reduce((n, r) => n + r.lost_packets, 0)),
        pct(g.group_loss_percent),
        '', '', '', '',
        p99 === undefined ? 'n/a' : `${p99.toFixed(2)} ms${clockCaveat(v, g.per_receiver.map((r) => r.guest), p99)}`,
        '',
        String(v.receivers.reduce((n, r) => n + (r.result?.end.stalls.length ?? 0), 0)),
        notes.filter(Boolean).join('; '),
      ]);
    }
  }
  return rows;
}

/**
 * Beside a one-way delay measured across machines: how far the clocks may be apart (offset plus
 * error bound, before and after the run), and a warning when that is more than the delay itself.
 * Nothing when the hosts share one kernel clock.
 */
function clockCaveat(v: VariantOutcome, guests: string[], delayMs: number): string {
  if (!v.clocks || v.clocks.shared_clock) return '';
  const bounds = guests.map((guest) => {
    const c = v.clocks!.receivers.find((x) => x.guest === guest);
    return c ? clockBound(c) : null;
  });
  if (bounds.some((b) => b === null)) return ' (clocks not measured)';
  const bound = Math.max(...(bounds as number[]));
  return bound > delayMs ? ` (clocks not synchronised enough: ±${bound.toFixed(2)} ms)` : ` (clocks ±${bound.toFixed(2)} ms)`;
}

/** The first two columns and those in `left` are left-aligned (text), the rest right-aligned (figures). */
export function formatTable(header: string[], rows: string[][], left: readonly number[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 || left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function runTable(report: RunReport): string[] {
  const rows = runTableRows(report);
  // no notes, no notes column
  const withNotes = rows.some((r) => r[NOTES] !== '');
  const cut = (r: string[]) => (withNotes ? r : r.slice(0, NOTES));
  return formatTable(cut(HEADER), rows.map(cut), [NOTES]).map((l) => l.trimEnd());
}

/** Worst receiver's loss in a variant (percent), or null when no receiver produced a result. */
export function worstLoss(v: VariantOutcome): number | null {
  const losses = v.receivers.flatMap((r) => (r.result ? [r.result.end.sum.lost_percent] : []));
  return losses.length ? Math.max(...losses) : null;
}

function mainCause(v: VariantOutcome): string {
  let socket = 0, backlog = 0, iface = 0, rest = 0;
  for (const r of v.receivers) {
    const a = r.result?.end.loss_attribution;
    if (!a) continue;
    socket += a.socket_buffer.count ?? 0;
    backlog += a.backlog.count ?? 0;
    iface += a.interface.count ?? 0;
    rest += a.unaccounted.count ?? 0;
  }
  const parts: Array<[string, number]> = [['the socket buffer was full', socket], ['the backlog was full', backlog], ['the interface dropped', iface], ['unaccounted (in the network)', rest]];
  parts.sort((x, y) => y[1] - x[1]);
  return parts[0]![1] > 0 ? parts[0]![0] : 'nothing';
}

/** Every receiver with a result ended inside a stall: silence to the end and no FIN. */
function endedInStall(v: VariantOutcome): boolean {
  const results = v.receivers.flatMap((r) => (r.result ? [r.result] : []));
  return results.length > 0 && results.every((r) => r.end.stall_detection.in_progress);
}

/** The sender did not finish its run: no result (killed, crashed), a partial one, or no FIN sent. */
function senderStopped(v: VariantOutcome): boolean {
  return v.sender === null || v.sender.end.partial || v.sender.end.fins_sent === 0;
}

/** Some receiver's tail is unknown (no FIN): its loss is a lower bound. */
function lossLowerBound(v: VariantOutcome): boolean {
  return v.receivers.some((r) => r.result?.end.loss_lower_bound === true);
}

/** The worst loss as a reader may take it: "≥x% (tail unknown)" when it is only a lower bound. */
function lossText(v: VariantOutcome, p: number): string {
  return lossLowerBound(v) ? `≥${pct(p)} (tail unknown)` : pct(p);
}

/**
 * A sender that stopped (no FIN, silence to the end) is said so first: the silence is its, not
 * the network's. Otherwise, when traffic stalled on a bridge that snoops IGMP without being a
 * querier itself, that is the likely cause (seed 002): say so with the fix.
 */
export function diagnosis(report: RunReport): string[] {
  const out: string[] = [];
  for (const v of report.variants) {
    if (v.skipped) continue;
    if (endedInStall(v) && senderStopped(v)) {
      out.push(
        `${v.name}: the sender stopped: ${v.sender === null ? 'it produced no result' : 'its run did not finish'} and sent no FIN, and the receivers ` +
          'heard silence to the end of the run; their loss is a lower bound (tail unknown), not a network finding',
      );
      continue;
    }
    for (const g of silentReceivers(v)) {
      // the receiver's socket joined fine; only its report's version tells why (doctor: ssm-report-version)
      const pin = v.lab.forceIgmpVersion?.[Number(g.slice(1)) - 1];
      const group = v.receivers.find((r) => r.guest === g)?.result?.start.config.group ?? '';
      if ((pin === 1 || pin === 2) && group.startsWith('232.')) {
        out.push(
          `${v.name}: ${g} received nothing of the ${formatCount(v.sender!.end.packets)} sent, with no error: it is pinned to IGMPv${pin} ` +
            `(net.ipv4.conf.eth0.force_igmp_version=${pin}), so its (S,G) join for ${group} left as an IGMPv${pin} report without the source, ` +
            'which an SSM router ignores (RFC 4604 2.2.1). Fix: force_igmp_version=0 (IGMPv3); mcbench doctor names it (ssm-report-version)',
        );
      } else {
        out.push(`${v.name}: ${g} received nothing of the ${formatCount(v.sender!.end.packets)} sent (no join reached the network, or the traffic was not forwarded to it)`);
      }
    }
    const stalls = v.receivers.reduce((n, r) => n + (r.result?.end.stalls.length ?? 0), 0);
    if (stalls > 0 && v.bridge && v.bridge.multicast_snooping === 1 && v.bridge.multicast_querier === 0) {
      // an IPv6 group's memberships are MLD's (the same bridge knob queries both)
      const protocol = v.receivers.some((r) => r.result?.start.config.family === 'ipv6') ? 'MLD' : 'IGMP';
      out.push(
        `${v.name}: traffic stalled on bridge ${v.bridge.name}, which snoops ${protocol} (multicast_snooping=1) with no querier of its own ` +
          `(multicast_querier=0): the receivers' memberships expired. Fix: echo 1 > /sys/class/net/${v.bridge.name}/bridge/multicast_querier ` +
          `(or run an ${protocol} querier on the LAN)`,
      );
    }
  }
  return out;
}

/** receivers that got no datagram at all while the sender sent some: no loss is counted for them (no session) */
function silentReceivers(v: VariantOutcome): string[] {
  if (!v.sender || v.sender.end.packets === 0) return [];
  return v.receivers.filter((r) => r.result !== null && r.result.end.datagrams === 0).map((r) => r.guest);
}

export function conclusion(report: RunReport): string {
  const vs = report.variants.filter((v) => !v.skipped);
  if (vs.length === 0) return 'nothing ran';
  const first = vs[0]!;
  const last = vs[vs.length - 1]!;
  const a = worstLoss(first);
  const b = worstLoss(last);
  if (a === null || b === null) return 'incomplete: a receiver produced no result (see the table)';
  const stallsFirst = first.receivers.reduce((n, r) => n + (r.result?.end.stalls.length ?? 0), 0);
  const stallsLast = last.receivers.reduce((n, r) => n + (r.result?.end.stalls.length ?? 0), 0);
  if (vs.length === 1) {
    return `${first.name}: worst receiver lost ${lossText(first, a)} (${mainCause(first)})${stallsFirst ? `, ${stallsFirst} stall(s)` : ''}`;
  }
  // A lower bound on either side compares nothing: say what is known.
  if (lossLowerBound(first) || lossLowerBound(last)) {
    return `${first.name} lost ${lossText(first, a)}, ${last.name} ${lossText(last, b)}: a receiver's tail is unknown (no FIN), so the variants cannot be compared`;
  }
  if (stallsFirst > 0 && stallsLast === 0) return `${last.name} (${last.describe}) kept traffic flowing: ${stallsFirst} stall(s) with ${first.name}, none with ${last.name}`;
  if (a > 0 && b === 0) return `${last.name} fixed it: ${last.describe}. Loss ${pct(a)} → 0.00% (with ${first.name}, ${mainCause(first)})`;
  const silentFirst = silentReceivers(first);
  if (silentFirst.length > 0 && silentReceivers(last).length === 0 && b === 0) {
    return `${last.name} fixed it: ${last.describe}. With ${first.name}, ${silentFirst.join(', ')} received nothing of the ${formatCount(first.sender!.end.packets)} sent`;
  }
  if (a === 0 && b === 0) return `no loss in either variant: the failure did not reproduce on this host (try a longer run or a faster sender)`;
  if (b >= a) return `${last.name} did not help: loss ${pct(a)} → ${pct(b)} (${mainCause(last)})`;
  return `${last.name} reduced the loss but did not remove it: ${pct(a)} → ${pct(b)} (remaining: ${mainCause(last)})`;
}

/** The table, the conclusion and the diagnosis on screen, the report to --json; the exit code. */
export function emitRunReport(report: RunReport, out: Output, json: string | null, notes: string[] = []): number {
  out.summary('');
  for (const line of runTable(report)) out.summary(line);
  out.summary('');
  out.summary(conclusion(report) + (report.partial ? ' (PARTIAL)' : ''));
  for (const line of [...diagnosis(report), ...notes]) out.summary(line);
  if (json) emitJson(json, report);
  return report.partial ? 1 : 0;
}
