// `mcbench ping`'s table: one row per reflector (RTT without the reflector's processing time,
// loss by direction, clock offset), then what was ignored and why.
import type { RttResult } from '../core/rtt.js';

const f3 = (v: number) => v.toFixed(3);
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);

export const RTT_HEADER = 'Reflector (address, id)          Replies      Lost fwd/ret/?        RTT ms min / p50 / p99 / max        Offset ms';

export function rttTableLines(r: RttResult): string[] {
  const lines = [RTT_HEADER];
  for (const x of r.reflectors) {
    const loss = `${x.lost} (${x.loss_percent.toFixed(2)}%) ${x.lost_forward}/${x.lost_return}/${x.lost_unknown_direction}`;
    const rtt = x.rtt ? `${f3(x.rtt.min_ms)} / ${f3(x.rtt.p50_ms)} / ${f3(x.rtt.p99_ms)} / ${f3(x.rtt.max_ms)}` : '-';
    const off = x.clock_offset ? `${signed(x.clock_offset.best_ms)} +-${f3(x.clock_offset.error_ms)}` : '-';
    lines.push(`${`${x.guest === undefined ? '' : `${x.guest} `}${x.address ?? '(no reply)'} ${x.reflector_id.slice(0, 8)}`.padEnd(32)} ${`${x.replies}/${x.expected}`.padEnd(12)} ${loss.padEnd(21)} ${rtt.padEnd(35)} ${off}`);
  }
  if (r.reflectors.length === 0) lines.push(`(no reflector answered the ${r.probes.sent} probes to ${r.config.group} port ${r.config.port})`);
  const rep = r.replies;
  const ignored: Array<[number, string]> = [
    [rep.malformed, 'malformed'],
    [rep.other_session, "another ping's session"],
    [rep.unknown_probe, 'no such probe sent (forged)'],
    [rep.implausible, 'impossible stamps'],
    [rep.source_mismatch, "a reflector's id from another address"],
    [rep.late, 'late (beyond the window)'],
    [rep.duplicates, 'duplicates'],
    [rep.rejected_reflectors, 'beyond 64 reflectors'],
  ];
  const shown = ignored.filter(([n]) => n > 0).map(([n, why]) => `${n} ${why}`);
  if (shown.length) lines.push(`ignored replies: ${shown.join(', ')}`);
  lines.push(`${r.probes.sent} probes sent${r.probes.send_errors ? ` (${r.probes.send_errors} failed)` : ''}; RTT = (t4 - t1) - (t3 - t2), the reflector's processing time taken out; offset = the reflector's clock minus ours, from the fastest exchange`);
  return lines;
}
