// The report: the text table `npm run bench` prints (BENCHMARKS.md's tables come from it) and
// the issue 5 targets (and issue 3's latency cost) checked against a result.
import { isToolId, type BenchResult, type RatioToRef, type Target } from './result.js';
import { TOOLS } from './tools.js';

/** n with d decimals and thousands separators; '-' when not measured */
export const fmt = (n: number | null | undefined, d = 0): string =>
  n === null || n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function pad(v: string | number, n: number, right = true): string {
  const s = String(v);
  return right ? s.padStart(n) : s.padEnd(n);
}
/** a ratio as '0.97x'; '' when there is none */
export const x = (r: number | null | undefined): string => (r === null || r === undefined ? '' : `${r.toFixed(2)}x`);

export function table(result: BenchResult): string {
  const L: string[] = [];
  const { summary, settings } = result;
  for (const len of settings.sizes) {
    const rows = summary[len];
    if (!rows || !Object.keys(rows).length) continue;
    L.push(`${len} B payload, ${settings.seconds} s per run, medians of ${settings.reps} interleaved repetitions; x = ratio to the C reference of this run; disturbed = runs during which other work took > 0.15 CPU`);
    L.push(`${pad('tool', 40, false)} ${pad('send pps', 9)} ${pad('x', 6)} ${pad('recv pps', 9)} ${pad('loss% max', 9)} ${pad('send us/pkt', 11)} ${pad('x', 6)} ${pad('recv us/pkt', 11)} ${pad('x', 6)} ${pad('disturbed', 9)}`);
    for (const [tool, s] of Object.entries(rows)) {
      if (!isToolId(tool)) continue;
      const r: Partial<RatioToRef> = s.ratio_to_ref ?? {};
      L.push(
        `${pad(TOOLS[tool].label, 40, false)} ${pad(fmt(s.sender_pps_median), 9)} ${pad(x(r.sender_pps), 6)} ${pad(fmt(s.receiver_pps_median), 9)} ${pad(fmt(s.loss_percent_max, 3), 9)} ` +
          `${pad(fmt(s.sender_cpu_us_per_packet, 2), 11)} ${pad(x(r.sender_cpu_per_packet), 6)} ${pad(fmt(s.receiver_cpu_us_per_packet, 3), 11)} ${pad(x(r.receiver_cpu_per_packet), 6)} ${pad(`${s.disturbed_runs}/${s.reps}`, 9)}`,
      );
    }
    L.push('');
  }
  if (result.latency_cost.length) {
    for (const l of result.latency_cost) {
      L.push(`latency recording cost, ${l.length} B: receiver ${fmt(l.cpu_us_latency_on, 3)} vs ${fmt(l.cpu_us_latency_off, 3)} us/pkt CPU -> ${fmt(l.cost_percent, 1)}% of its packet rate at saturation; received ${fmt(l.pps_latency_on)} vs ${fmt(l.pps_latency_off)} pps behind an unlimited sender`);
    }
    L.push('');
  }
  if (result.paced?.summary.length) {
    L.push('paced mcbench send (median over repetitions; gaps at a C listener from kernel receive stamps)');
    L.push(`${pad('target', 28, false)} ${pad('rate_ratio', 10)} ${pad('worst', 8)} ${pad('recv ratio', 10)} ${pad('batch', 6)} ${pad('gap us', 8)} ${pad('gap CV', 7)} ${pad('gap p99', 8)} ${pad('1ms CV', 7)} ${pad('late max ms', 11)}`);
    for (const p of result.paced.summary) {
      L.push(
        `${pad(p.label, 28, false)} ${pad(fmt(p.rate_ratio_median, 4), 10)} ${pad(fmt(p.rate_ratio_worst, 4), 8)} ${pad(fmt(p.receiver_rate_ratio_median, 4), 10)} ${pad(fmt(p.mean_batch_size, 2), 6)} ` +
          `${pad(fmt(p.gap_mean_us, 1), 8)} ${pad(fmt(p.gap_cv, 3), 7)} ${pad(fmt(p.gap_p99_us, 1), 8)} ${pad(fmt(p.per_ms_count_cv, 3), 7)} ${pad(fmt(p.late_max_ms, 2), 11)}`,
      );
    }
    L.push('');
  }
  if (result.ndr?.rows.length) {
    L.push('max lossless rate (RFC 2544 26.1 binary search, loss 0, every pass repeated; loss against the sender\'s own count)');
    L.push(`${pad('receiver', 32, false)} ${pad('size', 5)} ${pad('lossless pps', 12)} ${pad('Mbit/s', 8)} ${pad('lowest lossy', 12)} ${pad('limited by', 10)} ${pad('trials', 6)}  load`);
    for (const r of result.ndr.rows) {
      L.push(
        r.error
          ? `${pad(r.label, 32, false)} ${pad(r.length, 5)} FAILED: ${r.error}`
          : `${pad(r.label, 32, false)} ${pad(r.length, 5)} ${pad(fmt(r.lossless_pps), 12)} ${pad(fmt(r.lossless_mbps, 1), 8)} ${pad(fmt(r.lowest_lossy_pps), 12)} ${pad(r.limited_by ?? '-', 10)} ${pad(r.trials.length, 6)}  ${r.sender}${r.unresolved ? ' (unresolved: out of trials)' : ''}`,
      );
    }
    L.push('');
  }
  if (result.groups?.rows.length) {
    L.push('groups: one sender round robin over N groups, one receiver joining all N on one socket (50,000 pps, 64 B; medians over repetitions)');
    L.push(`${pad('groups', 6)} ${pad('send ns/pkt', 11)} ${pad('recv ns/pkt', 11)} ${pad('recv proc us/pkt', 16)} ${pad('lost max', 9)} ${pad('runs', 4)}`);
    for (const n of [...new Set(result.groups.rows.map((r) => r.groups))]) {
      const rs = result.groups.rows.filter((r) => r.ok && r.groups === n);
      if (!rs.length) continue;
      const med = (xs: Array<number | null>): number | null => {
        const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
        return v.length ? (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2) : null;
      };
      L.push(
        `${pad(n, 6)} ${pad(fmt(med(rs.map((r) => r.sender_thread_ns_per_packet))), 11)} ${pad(fmt(med(rs.map((r) => r.receiver_thread_ns_per_packet))), 11)} ` +
          `${pad(fmt(med(rs.map((r) => r.receiver_process_us_per_packet)), 3), 16)} ${pad(fmt(Math.max(...rs.map((r) => r.lost ?? 0))), 9)} ${pad(rs.length, 4)}`,
      );
    }
    L.push('');
  }
  if (result.scaling?.runs.length) {
    L.push('scaling: n mcbench receivers behind one unlimited sender (medians over repetitions; per receiver)');
    L.push(`${pad('receivers', 9)} ${pad('size', 5)} ${pad('sender pps', 10)} ${pad('recv pps', 9)} ${pad('recv us/pkt', 11)} ${pad('lost max', 9)} ${pad('runs', 4)}`);
    const keys = [...new Set(result.scaling.runs.map((r) => `${r.length}/${r.receivers}`))];
    for (const k of keys) {
      const rs = result.scaling.runs.filter((r) => r.ok && `${r.length}/${r.receivers}` === k);
      if (!rs.length) continue;
      const med = (xs: Array<number | null>): number | null => {
        const v = xs.filter((n): n is number => n !== null).sort((a, b) => a - b);
        return v.length ? (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2) : null;
      };
      L.push(
        `${pad(rs[0]!.receivers, 9)} ${pad(rs[0]!.length, 5)} ${pad(fmt(med(rs.map((r) => r.sender_pps))), 10)} ${pad(fmt(med(rs.map((r) => r.receiver_pps_median))), 9)} ` +
          `${pad(fmt(med(rs.map((r) => r.receiver_cpu_us_per_packet_median)), 3), 11)} ${pad(fmt(Math.max(...rs.map((r) => r.lost_max ?? 0))), 9)} ${pad(rs.length, 4)}`,
      );
    }
    L.push('');
  }
  if (result.memory) {
    const m = result.memory;
    L.push(`mcbench recv memory, ${m.seconds} s at full rate (64 B): VmRSS max ${fmt(m.max_rss_mb, 1)} MB, slope ${fmt(m.slope_mb_per_min, 2)} MB/min (fitted growth ${fmt(m.fitted_growth_mb, 2)} MB from ${m.window_from_seconds} s to the end: ${m.flat ? 'no growth' : 'GROWING'})`);
  }
  if (result.help) L.push(`mcbench --help: median ${fmt(result.help.median_ms, 1)} ms over ${result.help.runs_ms.length} runs (node -e 0: ${fmt(result.node_floor?.median_ms, 1)} ms)`);
  if (result.targets.length) {
    L.push('', 'issue 5 and issue 13 targets (and issue 3 latency cost):');
    for (const t of result.targets) L.push(`  ${t.pass === null ? 'n/a ' : t.pass ? 'MET ' : 'MISS'} ${t.what}: ${t.value}`);
  }
  if (result.skipped.length) L.push('', ...result.skipped.map((s) => `skipped ${s.tool}: ${s.reason}`));
  return L.join('\n');
}

export function targets(result: BenchResult): Target[] {
  const T: Target[] = [];
  const S = result.summary;
  for (const len of result.settings.sizes) {
    const m = S[len]?.mcbench;
    if (!m?.ratio_to_ref) continue;
    const r = m.ratio_to_ref.sender_pps;
    T.push({ id: `sender_pps_${len}`, what: `mcbench sender pps >= 0.95x reference at ${len} B`, value: `${x(r)} (${fmt(m.sender_pps_median)} vs ${fmt(S[len]!.ref?.sender_pps_median)} pps)`, ratio: r, pass: r !== null ? r >= 0.95 : null });
    const rc = m.ratio_to_ref.receiver_cpu_per_packet;
    T.push({ id: `receiver_loss_${len}`, what: `mcbench receiver (latency on, 25 MB) no loss behind an unlimited sender at ${len} B`, value: `max ${fmt(m.lost_packets_max)} lost in ${m.reps} runs`, pass: m.lost_packets_max === 0 });
    T.push({ id: `receiver_cpu_${len}`, what: `mcbench receiver CPU/packet <= 1.15x reference at ${len} B`, value: `${x(rc)} (${fmt(m.receiver_cpu_us_per_packet, 3)} vs ${fmt(S[len]!.ref?.receiver_cpu_us_per_packet, 3)} us)`, ratio: rc, pass: rc !== null ? rc <= 1.15 : null });
  }
  // issue 13 item 5: ratios in one run; each side against the C reference with the other side the
  // C reference's too (mcsend, mcrecv) when those rows ran, else the mcbench pair
  for (const len of result.settings.sizes) {
    const bound = len >= 1400 ? 0.8 : 1.0;
    const sendRow = S[len]?.mcsend ? 'mcsend' : 'mcbench';
    const recvRow = S[len]?.mcrecv ? 'mcrecv' : 'mcbench';
    const ms = S[len]?.[sendRow]?.ratio_to_ref;
    if (ms) {
      const r = ms.sender_pps;
      T.push({ id: `i13_sender_pps_${len}`, what: `issue 13: mcbench per-packet sender >= 1.00x reference at ${len} B (${sendRow})`, value: x(r), ratio: r, pass: r !== null ? r >= 1 : null });
    }
    const mr = S[len]?.[recvRow]?.ratio_to_ref;
    if (mr) {
      const rc = mr.receiver_cpu_per_packet;
      T.push({ id: `i13_receiver_cpu_${len}`, what: `issue 13: mcbench receiver CPU/packet <= ${bound.toFixed(2)}x reference at ${len} B (${recvRow})`, value: x(rc), ratio: rc, pass: rc !== null ? rc <= bound : null });
    }
    // what the default's waits buy: the same receiver with them off (a figure, not a target)
    const co = S[len]?.mcplain?.ratio_to_ref?.receiver_cpu_per_packet;
    if (co !== undefined) {
      T.push({ id: `i13_receiver_cpu_plain_${len}`, what: `issue 13 (for comparison): mcbench recv --coalesce 0 CPU/packet at ${len} B`, value: `${x(co)} (lost max ${fmt(S[len]!.mcplain!.lost_packets_max)})`, ratio: co, pass: null });
    }
    const gso = S[len]?.mcgso?.sender_pps_median ?? null;
    const refGso = S[len]?.refgso?.sender_pps_median ?? null;
    const ref = S[len]?.ref?.sender_pps_median ?? null;
    if (len >= 1400 && gso !== null && refGso) T.push({ id: `i13_gso_vs_refgso_${len}`, what: `issue 13: mcbench --gso >= 0.95x the C GSO reference at ${len} B`, value: `${x(gso / refGso)} (${fmt(gso)} vs ${fmt(refGso)} pps)`, ratio: gso / refGso, pass: gso / refGso >= 0.95 });
    if (len >= 1400 && gso !== null && ref) T.push({ id: `i13_gso_vs_ref_${len}`, what: `issue 13: mcbench --gso >= 3x the per-packet reference at ${len} B`, value: `${x(gso / ref)} (${fmt(gso)} vs ${fmt(ref)} pps)`, ratio: gso / ref, pass: gso / ref >= 3 });
    const nm = result.ndr?.rows.find((r) => r.receiver === 'mcbench' && r.length === len && r.error === null);
    const nr = result.ndr?.rows.find((r) => r.receiver === 'ref' && r.length === len && r.error === null);
    const ng = result.ndr?.rows.find((r) => r.receiver === 'mcgro' && r.length === len && r.error === null);
    if (ng && nr) {
      const ratio = ng.lossless_pps !== null && nr.lossless_pps ? ng.lossless_pps / nr.lossless_pps : null;
      T.push({ id: `i13_ndr_gro_${len}`, what: `issue 13: mcbench recv --gro max lossless rate >= the C receiver's at ${len} B (GSO load; the C receiver reads without UDP_GRO)`, value: `${x(ratio)} (${fmt(ng.lossless_pps)} vs ${fmt(nr.lossless_pps)} pps; limited by ${ng.limited_by ?? '-'})`, ratio, pass: ratio !== null ? ratio >= 1 : null });
    }
    const nc = result.ndr?.rows.find((r) => r.receiver === 'mcplain' && r.length === len && r.error === null);
    if (nc && nr) {
      const ratio = nc.lossless_pps !== null && nr.lossless_pps ? nc.lossless_pps / nr.lossless_pps : null;
      T.push({ id: `i13_ndr_plain_${len}`, what: `issue 13 (for comparison): mcbench recv --coalesce 0 max lossless rate vs the C receiver's at ${len} B`, value: `${x(ratio)} (${fmt(nc.lossless_pps)} vs ${fmt(nr.lossless_pps)} pps)`, ratio, pass: null });
    }
    const ncm = result.ndr?.rows.find((r) => r.receiver === 'refc' && r.length === len && r.error === null);
    if (nm && ncm) {
      const ratio = nm.lossless_pps !== null && ncm.lossless_pps ? nm.lossless_pps / ncm.lossless_pps : null;
      T.push({ id: `i13_ndr_vs_refc_${len}`, what: `issue 13 (for comparison): mcbench receiver's max lossless rate vs the C receiver reading the same timestamps at ${len} B`, value: `${x(ratio)} (${fmt(nm.lossless_pps)} vs ${fmt(ncm.lossless_pps)} pps)`, ratio, pass: null });
    }
    if (nm && nr) {
      const ratio = nm.lossless_pps !== null && nr.lossless_pps ? nm.lossless_pps / nr.lossless_pps : null;
      T.push({ id: `i13_ndr_${len}`, what: `issue 13: mcbench receiver's max lossless rate >= the C receiver's at ${len} B`, value: `${x(ratio)} (${fmt(nm.lossless_pps)} vs ${fmt(nr.lossless_pps)} pps; limited by ${nm.limited_by ?? '-'} / ${nr.limited_by ?? '-'})`, ratio, pass: ratio !== null ? ratio >= 1 : null });
    }
  }
  for (const p of result.paced?.summary ?? []) {
    T.push({ id: `paced_${p.id}`, what: `paced ${p.label} within 1% of target`, value: `rate_ratio median ${fmt(p.rate_ratio_median, 4)}, worst ${fmt(p.rate_ratio_worst, 4)}; gap CV ${fmt(p.gap_cv, 3)}`, pass: p.rate_ratio_worst !== null ? Math.abs(p.rate_ratio_worst - 1) <= 0.01 : null });
  }
  if (result.memory) {
    const m = result.memory;
    T.push({ id: 'rss', what: `mcbench recv RSS < 120 MB and flat over ${m.seconds} s`, value: `max ${fmt(m.max_rss_mb, 1)} MB, ${fmt(m.slope_mb_per_min, 2)} MB/min`, pass: m.max_rss_mb !== null ? m.max_rss_mb < 120 && m.flat === true : null });
  }
  if (result.help) T.push({ id: 'help', what: 'mcbench --help < 250 ms', value: `median ${fmt(result.help.median_ms, 1)} ms`, pass: result.help.median_ms !== null && result.help.median_ms < 250 });
  for (const l of result.latency_cost) {
    T.push({ id: `latency_cost_${l.length}`, what: `latency recording costs < 10% of the receiver's packet rate at ${l.length} B (issue 3)`, value: `${fmt(l.cost_percent, 1)}% (CPU/packet ${fmt(l.cpu_us_latency_on, 3)} vs ${fmt(l.cpu_us_latency_off, 3)} us)`, pass: l.cost_percent !== null ? l.cost_percent < 10 : null });
  }
  return T;
}
