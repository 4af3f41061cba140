// The HTML report's content, shaped from mcbench documents: blocks of headings, sentences,
// tables and chart specifications (aligned x values and series, ready for uPlot). Pure: every
// figure is computed here from the documents (delay percentiles from the recorded HdrHistograms,
// not from the few printed percentiles), so it is unit-testable without a browser; html-page.ts
// only renders and html-client.ts only hands the series to uPlot.
import type { AbReport, AbRun } from '../core/ab.js';
import { decodeHistogram, emptyHistogram } from '../core/latency.js';
import type { ReceiverResult, RunResult, SenderResult } from '../core/result.js';
import type { RunReport, VariantOutcome } from '../core/run-report.js';
import { diffSettings, type KernelSettingsSnapshot, type SettingValue } from '../core/settings.js';
import { t95 } from '../core/stats.js';
import type { SuiteReport, SuiteScenarioOutcome } from '../core/suite.js';
import { formatRate } from '../core/units.js';
import type { McbenchDocument } from './html-input.js';

/** How a series is drawn: a line, points only, bars, a shaded span (stalls), an interval whisker. */
export type SeriesStyle = 'line' | 'points' | 'bars' | 'shade' | 'whisker' | 'mean';

export interface ChartSeries {
  label: string;
  style: SeriesStyle;
  /** one value per x; null: no value there */
  values: Array<number | null>;
  /** what the legend shows instead of the value (stacked bars: each part, not the running total) */
  shown?: Array<string | null>;
}

export interface ChartSpec {
  kind: 'percentile' | 'time' | 'stacked' | 'ab';
  title: string;
  xLabel: string;
  yLabel: string;
  /** ascending */
  x: number[];
  series: ChartSeries[];
  /** x is drawn on a log10 axis (the percentile chart's 1/(1-p)) */
  xLog: boolean;
  /** fixed x ticks with their labels (percentiles, receivers, sides); absent: numbers */
  xTicks?: Array<{ value: number; label: string }>;
  /** x range, when the data's own would cut points at the edge */
  xRange?: [number, number];
}

export interface Table {
  caption: string;
  head: string[];
  rows: string[][];
  /** a CSS class per row (pass, fail, regression), or null */
  rowClass?: Array<string | null>;
}

export interface Block {
  heading: string;
  /** 2: a document, 3: a variant or scenario, 4: a part of it */
  level: 2 | 3 | 4;
  lines: Array<{ text: string; cls?: 'verdict' | 'warn' | 'fail' | 'pass' }>;
  tables: Table[];
  charts: ChartSpec[];
}

export interface ReportContent {
  title: string;
  blocks: Block[];
}

// ------------------------------------------------------------------------------------ numbers

const f = (x: number | null | undefined, d: number) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${x.toFixed(2)}%`);

/** HdrHistogram's percentile axis: x = 1/(1-p), from p50 (x = 2) to p99.999 (x = 10^5), log spaced. */
export const PERCENTILE_TICKS: Array<{ value: number; label: string }> = [
  { value: 2, label: '50%' },
  { value: 10, label: '90%' },
  { value: 100, label: '99%' },
  { value: 1e3, label: '99.9%' },
  { value: 1e4, label: '99.99%' },
  { value: 1e5, label: '99.999%' },
];

export function percentileGrid(perDecade = 12): number[] {
  // 10^(i/perDecade): the decades (p90, p99, ...) are exact grid points
  const xs = [2];
  for (let i = 1; i <= 5 * perDecade; i++) {
    const x = 10 ** (i / perDecade);
    if (x > 2) xs.push(x);
  }
  return xs;
}

/** The percent p for an axis position x = 1/(1-p). */
export const percentOf = (x: number) => 100 * (1 - 1 / x);

/**
 * The one-way delay percentile curve(s) of the given histograms (HdrHistogram compressed base64,
 * ns), each and merged (bucket counts added): the delay at every grid percentile, ms.
 */
export function percentileChart(title: string, parts: Array<{ label: string; base64: string }>): ChartSpec | null {
  if (parts.length === 0) return null;
  const x = percentileGrid();
  const merged = emptyHistogram();
  const series: ChartSeries[] = [];
  const curve = (h: ReturnType<typeof emptyHistogram>) => x.map((xi) => h.getValueAtPercentile(percentOf(xi)) / 1e6);
  for (const p of parts) {
    const h = decodeHistogram(p.base64);
    merged.add(h);
    series.push({ label: `${p.label} (${h.totalCount.toLocaleString('en-US')} packets)`, style: 'line', values: curve(h) });
  }
  if (parts.length > 1) series.push({ label: `merged (${merged.totalCount.toLocaleString('en-US')} packets)`, style: 'line', values: curve(merged) });
  return { kind: 'percentile', title, xLabel: 'percentile (1/(1-p), log)', yLabel: 'one-way delay, ms', x, series, xLog: true, xTicks: PERCENTILE_TICKS };
}

/** Several series on their own x values, aligned on the union of them (null where one has none). */
function align(rows: Array<Map<number, number>>): { x: number[]; values: Array<Array<number | null>> } {
  const x = [...new Set(rows.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  return { x, values: rows.map((m) => x.map((xi) => m.get(xi) ?? null)) };
}

/** A time axis from 0 to the last interval's end (a run of one interval is not a dot in a void). */
const timeRange = (x: number[]): [number, number] => [0, Math.max(1, ...x) * 1.02];

/** Seconds as a reader takes them: 50 ms, 1.25 s. */
export const duration = (s: number) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);

/** The rate unit of a chart: kbit/s for a probe of a few kbit/s, Mbit/s above 1 Mbit/s (units.formatRate's rule). */
function rateScale(maxBps: number): { div: number; unit: string } {
  if (maxBps >= 1e9) return { div: 1e9, unit: 'Gbit/s' };
  if (maxBps >= 1e6) return { div: 1e6, unit: 'Mbit/s' };
  return { div: 1e3, unit: 'kbit/s' };
}

interface NamedReceiver {
  name: string;
  r: ReceiverResult;
}

/**
 * Throughput and loss per interval over time, one series per receiver, each receiver's stalls
 * shaded over the whole height of the chart (labelled with their start and length).
 */
export function timeCharts(rx: NamedReceiver[], sender: SenderResult | null, context: string): ChartSpec[] {
  const withIntervals = rx.filter((x) => x.r.intervals.length > 0);
  const maxBps = Math.max(0, ...withIntervals.flatMap((x) => x.r.intervals.map((i) => i.sum.bits_per_second)), ...(sender ? sender.intervals.map((i) => i.bits_per_second) : []));
  const { div, unit } = rateScale(maxBps);
  const out: ChartSpec[] = [];
  // one shaded series per receiver: its stalls at full height, a gap (null) just outside each
  const EDGE = 1e-6;
  const stallSpans = (yTop: number, x: number[]): ChartSeries[] =>
    rx.filter(({ r }) => r.end.stalls.length > 0).map(({ name, r }) => {
      const listed = r.end.stalls.slice(0, 4).map((s) => `${duration(s.start_seconds)} for ${duration(s.seconds)}${s.resumed ? '' : ' (to the end)'}`);
      const more = r.end.stalls.length > 4 ? `, and ${r.end.stalls.length - 4} more` : '';
      return {
        label: `${name} ${r.end.stalls.length === 1 ? 'stall' : 'stalls'} at ${listed.join(', ')}${more}`,
        style: 'shade' as const,
        values: x.map((xi) => (r.end.stalls.some((s) => xi >= s.start_seconds && xi <= s.end_seconds) ? yTop : null)),
      };
    });
  const stallEdges = rx.flatMap(({ r }) => r.end.stalls.flatMap((s) => [s.start_seconds - EDGE, s.start_seconds, s.end_seconds, s.end_seconds + EDGE]));
  const withEdges = (maps: Array<Map<number, number>>) => {
    const edges = new Map<number, number>(stallEdges.map((e) => [e, NaN]));
    const a = align([...maps, edges]);
    return { x: a.x, values: a.values.slice(0, maps.length) };
  };
  const rates = withIntervals.map(({ r }) => new Map(r.intervals.map((i) => [i.sum.end, i.sum.bits_per_second / div])));
  const senderRates = sender && sender.intervals.length ? [new Map(sender.intervals.map((i) => [i.end, i.bits_per_second / div]))] : [];
  if (rates.length || senderRates.length) {
    const a = withEdges([...rates, ...senderRates]);
    const top = Math.max(1e-9, ...a.values.flat().filter((v): v is number => v !== null && Number.isFinite(v))) * 1.05;
    out.push({
      kind: 'time',
      title: `${context}throughput per interval`,
      xLabel: 'seconds (each receiver from its first packet; the sender from its start)',
      yLabel: `UDP payload, ${unit}`,
      x: a.x,
      xRange: timeRange(a.x),
      series: [
        ...withIntervals.map(({ name }, k) => ({ label: `${name} received`, style: 'line' as const, values: a.values[k]! })),
        ...(senderRates.length ? [{ label: 'sender sent', style: 'line' as const, values: a.values[withIntervals.length]! }] : []),
        ...stallSpans(top, a.x),
      ],
      xLog: false,
    });
  }
  if (withIntervals.length) {
    const loss = withIntervals.map(({ r }) => new Map(r.intervals.map((i) => [i.sum.end, i.sum.lost_percent])));
    const a = withEdges(loss);
    const top = Math.max(1, ...a.values.flat().filter((v): v is number => v !== null)) * 1.05;
    out.push({
      kind: 'time',
      title: `${context}loss per interval`,
      xLabel: 'seconds since the receiver\'s first packet',
      yLabel: 'lost, % of expected',
      x: a.x,
      xRange: timeRange(a.x),
      series: [...withIntervals.map(({ name }, k) => ({ label: `${name} lost`, style: 'line' as const, values: a.values[k]! })), ...stallSpans(top, a.x)],
      xLog: false,
    });
  }
  return out;
}

const PARTS = [
  ['socket_buffer', 'socket buffer full'],
  ['backlog', 'backlog'],
  ['interface', 'interface'],
  ['unaccounted', 'unaccounted'],
] as const;

/**
 * Where each receiver's loss happened, stacked: the parts add up to its lost percent. uPlot
 * draws bars from zero, so each series holds the running total up to its part and they are
 * listed top part first (drawn first, the lower parts over it); the legend shows the part itself.
 */
export function lossChart(rx: NamedReceiver[], context: string): ChartSpec | null {
  if (rx.length === 0) return null;
  const x = rx.map((_, i) => i);
  const parts = PARTS.map(([k]) => rx.map(({ r }) => r.end.loss_attribution[k].percent ?? 0));
  const running = parts.map((_, k) => x.map((i) => parts.slice(0, k + 1).reduce((s, p) => s + p[i]!, 0)));
  const series: ChartSeries[] = PARTS.map(([k, label], j) => ({
    label,
    style: 'bars' as const,
    values: running[j]!,
    shown: rx.map(({ r }) => {
      const p = r.end.loss_attribution[k];
      return p.percent === null ? 'unreadable' : `${p.percent.toFixed(3)}% (${(p.count ?? 0).toLocaleString('en-US')})`;
    }),
  })).reverse();
  return {
    kind: 'stacked',
    title: `${context}where the loss happened`,
    xLabel: 'receiver',
    yLabel: 'lost, % of expected',
    x,
    series,
    xLog: false,
    xTicks: rx.map(({ name }, i) => ({ value: i, label: name })),
    xRange: [-0.6, rx.length - 0.4],
  };
}

// ------------------------------------------------------------------------------------ settings

const valueText = (v: SettingValue | undefined) => (v === undefined ? '-' : v === null ? 'n/a' : Array.isArray(v) ? v.join(' ') : String(v));

/** The settings snapshots of several hosts side by side: one row per setting, one column per host. */
export function settingsTable(caption: string, hosts: Array<{ name: string; snap: KernelSettingsSnapshot | null }>): Table | null {
  const known = hosts.filter((h): h is { name: string; snap: KernelSettingsSnapshot } => h.snap !== null);
  if (known.length === 0) return null;
  const keys: string[] = [];
  const byHost = known.map((h) => new Map(h.snap.entries.map((e) => [e.key, e])));
  for (const h of known) for (const e of h.snap.entries) if (!keys.includes(e.key)) keys.push(e.key);
  const rows = keys.map((k) => {
    const first = byHost.find((m) => m.has(k))!.get(k)!;
    return [first.target ? first.id : k, first.unit, ...byHost.map((m) => {
      const e = m.get(k);
      return e === undefined ? '-' : e.available ? valueText(e.value) : `n/a${e.error ? ` (${e.error})` : ''}`;
    })];
  });
  const facts = [
    ['kernel', 'text', ...known.map((h) => h.snap.host.kernel)],
    ['CPUs', 'count', ...known.map((h) => String(h.snap.host.cpus))],
    ['virtualization', 'text', ...known.map((h) => h.snap.virtualization.systemd_detect_virt ?? 'n/a')],
    ['interface', 'text', ...known.map((h) => (h.snap.interface ? `${h.snap.interface.name} (${h.snap.interface.driver ?? '?'})` : 'none'))],
  ];
  return { caption, head: ['setting', 'unit', ...known.map((h) => h.name)], rows: [...facts, ...rows] };
}

/** What differs between two snapshots (a: before / A, b: after / B). */
export function settingsDiffTable(caption: string, a: { name: string; snap: KernelSettingsSnapshot | null }, b: { name: string; snap: KernelSettingsSnapshot | null }): Table | null {
  if (!a.snap || !b.snap) return null;
  const changes = diffSettings(a.snap, b.snap);
  return {
    caption,
    head: ['setting', a.name, b.name, 'difference'],
    rows: changes.length ? changes.map((c) => [c.id_b ?? c.id_a ?? c.key, valueText(c.a), valueText(c.b), c.kind]) : [['(none)', '', '', 'the same settings']],
  };
}

// ------------------------------------------------------------------------------------ documents

function receiversOf(v: VariantOutcome): NamedReceiver[] {
  return v.receivers.flatMap((o) => (o.result ? [{ name: o.guest, r: o.result }] : []));
}

function latencyParts(rx: NamedReceiver[]): Array<{ label: string; base64: string }> {
  return rx.flatMap(({ name, r }) => {
    const k = r.end.latency.one_way_kernel;
    return k && k.count > 0 ? [{ label: name, base64: k.hdr_base64 }] : [];
  });
}

function receiverRows(rx: NamedReceiver[]): string[][] {
  return rx.map(({ name, r }) => {
    const e = r.end;
    const k = e.latency.one_way_kernel;
    return [
      name,
      e.sum.packets.toLocaleString('en-US'),
      e.sum.lost_packets.toLocaleString('en-US'),
      // no FIN and the run ended inside a stall: the tail's loss is unknown (issue 9's lower bound)
      `${(e as { loss_lower_bound?: unknown }).loss_lower_bound === true ? '≥' : ''}${pct(e.sum.lost_percent)}`,
      formatRate(e.sum.bits_per_second),
      k ? `${f(k.p50_ms, 3)} / ${f(k.p99_ms, 3)} / ${f(k.max_ms, 3)}` : 'n/a',
      e.socket.rcvbuf_actual.toLocaleString('en-US'),
      e.stalls.length ? e.stalls.map((s) => `${duration(s.seconds)} at ${duration(s.start_seconds)}`).join(', ') : 'none',
    ];
  });
}

const RECEIVER_HEAD = ['receiver', 'received', 'lost', 'lost %', 'rate', 'delay p50 / p99 / max, ms', 'SO_RCVBUF', 'stalls'];

function variantBlocks(v: VariantOutcome, level: 3 | 4, prefix: string, first: VariantOutcome | null): Block[] {
  const head = `${prefix}${v.name}`;
  const lines: Block['lines'] = [{ text: v.describe }];
  if (v.skipped) return [{ heading: head, level, lines: [...lines, { text: `skipped: ${v.skipped}`, cls: 'warn' }], tables: [], charts: [] }];
  if (v.partial) lines.push({ text: 'partial: the run was cut short or a process produced no result', cls: 'warn' });
  for (const o of v.receivers) if (!o.result) lines.push({ text: `${o.guest}: no result${o.error ? `: ${o.error}` : ''}`, cls: 'fail' });
  const rx = receiversOf(v);
  for (const { name, r } of rx) for (const w of r.end.warnings) lines.push({ text: `${name}: ${w}`, cls: 'warn' });
  const ctx = `${head}: `;
  const charts = [
    percentileChart(`${ctx}one-way delay (kernel receive stamp) by percentile`, latencyParts(rx)),
    ...timeCharts(rx, v.sender, ctx),
    lossChart(rx, ctx),
  ].filter((c): c is ChartSpec => c !== null);
  const tables: Table[] = [{ caption: 'receivers', head: RECEIVER_HEAD, rows: receiverRows(rx) }];
  if (v.settings_applied.length) {
    tables.push({ caption: 'settings this variant changed (restored after)', head: ['setting', 'before', 'during the run', 'host'], rows: v.settings_applied.map((c) => [c.id, c.before, c.after, c.host ?? 'this host']) });
  }
  const hosts = [
    ...(v.sender ? [{ name: `${v.hosts?.find((h) => h.role === 'sender')?.name ?? 'sender'} (sender)`, snap: v.sender.start.settings }] : []),
    ...rx.map(({ name, r }) => ({ name, snap: r.start.settings })),
  ];
  const st = settingsTable('the kernel settings the run happened under', hosts);
  if (st) tables.push(st);
  if (first && first !== v) {
    const a = receiversOf(first)[0];
    const b = rx[0];
    if (a && b) {
      const d = settingsDiffTable(`settings of ${b.name} here against ${first.name}'s ${a.name}`, { name: first.name, snap: a.r.start.settings }, { name: v.name, snap: b.r.start.settings });
      if (d) tables.push(d);
    }
  }
  return [{ heading: head, level, lines, tables, charts }];
}

export function runBlocks(r: RunReport, file: string, level: 2 | 3 = 2): Block[] {
  const blocks: Block[] = [{
    heading: level === 2 ? `${file}: run ${r.scenario.name}` : `run ${r.scenario.name}`,
    level,
    lines: [{ text: r.scenario.title }, { text: `started ${r.started}${r.partial ? ' (PARTIAL)' : ''}`, ...(r.partial ? { cls: 'warn' as const } : {}) }],
    tables: [],
    charts: [],
  }];
  const sub = level === 2 ? 3 : 4;
  const first = r.variants.find((v) => !v.skipped && receiversOf(v).length > 0) ?? null;
  for (const v of r.variants) blocks.push(...variantBlocks(v, sub, level === 2 ? 'variant ' : `${r.scenario.name}: `, first));
  return blocks;
}

const isReceiver = (r: RunResult): r is ReceiverResult => r.start.role === 'receiver';

export function resultBlocks(r: RunResult, file: string): Block[] {
  const who = r.start.hostname;
  const lines: Block['lines'] = [{ text: `${r.start.role} on ${who}, ${r.start.timestamp.time}, ${r.end.end_reason}${r.end.partial ? ' (PARTIAL)' : ''}` }];
  for (const w of r.end.warnings) lines.push({ text: w, cls: 'warn' });
  const tables: Table[] = [];
  let charts: ChartSpec[];
  if (isReceiver(r)) {
    const rx = [{ name: who, r }];
    charts = [percentileChart(`${who}: one-way delay (kernel receive stamp) by percentile`, latencyParts(rx)), ...timeCharts(rx, null, `${who}: `), lossChart(rx, `${who}: `)].filter((c): c is ChartSpec => c !== null);
    tables.push({ caption: 'receiver', head: RECEIVER_HEAD, rows: receiverRows(rx) });
  } else {
    charts = timeCharts([], r, `${who}: `);
    tables.push({ caption: 'sender', head: ['sent', 'rate', 'pps', 'seconds'], rows: [[r.end.packets.toLocaleString('en-US'), formatRate(r.end.bits_per_second), f(r.end.packets_per_second, 0), f(r.end.seconds, 2)]] });
  }
  const st = settingsTable('the kernel settings the run happened under', [{ name: who, snap: r.start.settings }]);
  if (st) tables.push(st);
  return [{ heading: `${file}: ${r.start.role} result`, level: 2, lines, tables, charts }];
}

/** The 95% interval of a side's mean (Student t, n - 1 degrees of freedom); null below 2 runs. */
export function meanInterval(values: number[]): { mean: number; lo: number; hi: number } | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = t95(n - 1) * (sd / Math.sqrt(n));
  return { mean, lo: mean - half, hi: mean + half };
}

type AbMetric = 'lost_percent' | 'recv_pps' | 'p99_delay_ms' | 'ndr_pps';

/** A run's figure: one of its metrics, or (--metric ndr) its search's lossless rate. */
const abValue = (x: AbRun, metric: AbMetric): number | null => (metric === 'ndr_pps' ? (x.ndr?.lossless_pps ?? null) : (x.metrics?.[metric] ?? null));

/**
 * One A/B metric side by side: every run a point (measured and warm-up apart), spread across its
 * side's slot in run order, and each side's mean with its 95% interval as a whisker beside them.
 */
export function abChart(r: AbReport, metric: AbMetric, title: string, yLabel: string): ChartSpec | null {
  const sides = (['a', 'b'] as const).map((side, s) => {
    const runs = r.runs.filter((x) => x.side === side);
    const at = (x: AbRun) => abValue(x, metric);
    const n = runs.length;
    const points = runs.map((x, i) => ({ x: s - 0.3 + (n > 1 ? (0.4 * i) / (n - 1) : 0.2), v: at(x), warmup: x.warmup }));
    const measured = runs.filter((x) => !x.warmup).map(at).filter((v): v is number => v !== null);
    return { s, name: r[side].name, points, ci: meanInterval(measured) };
  });
  if (sides.every((x) => x.points.every((p) => p.v === null))) return null;
  const EPS = 1e-6;
  const xs = new Set<number>();
  for (const sd of sides) {
    for (const p of sd.points) xs.add(p.x);
    xs.add(sd.s + 0.25);
    xs.add(sd.s + 0.25 + EPS);
  }
  const x = [...xs].sort((a, b) => a - b);
  const idx = new Map(x.map((v, i) => [v, i]));
  const blank = () => x.map((): number | null => null);
  const series: ChartSeries[] = [];
  for (const sd of sides) {
    const measured = blank();
    const warm = blank();
    for (const p of sd.points) (p.warmup ? warm : measured)[idx.get(p.x)!] = p.v;
    series.push({ label: `${sd.name}: measured runs`, style: 'points', values: measured });
    if (sd.points.some((p) => p.warmup)) series.push({ label: `${sd.name}: warm-up runs (not counted)`, style: 'points', values: warm });
  }
  const mean = blank();
  const whisker = blank();
  for (const sd of sides) {
    if (!sd.ci) continue;
    mean[idx.get(sd.s + 0.25)!] = sd.ci.mean;
    whisker[idx.get(sd.s + 0.25)!] = sd.ci.lo;
    whisker[idx.get(sd.s + 0.25 + EPS)!] = sd.ci.hi;
  }
  series.push({ label: 'mean', style: 'mean', values: mean });
  series.push({ label: '95% interval of the mean', style: 'whisker', values: whisker });
  return { kind: 'ab', title, xLabel: 'side', yLabel, x, series, xLog: false, xTicks: sides.map((sd) => ({ value: sd.s, label: sd.name })), xRange: [-0.6, 1.6] };
}

export function abBlocks(r: AbReport, file: string): Block[] {
  const sideText = (k: 'a' | 'b') => Object.entries(r[k].sysctls).map(([id, v]) => `${id}=${v}`).join(', ') || 'as the host is';
  const lines: Block['lines'] = [
    { text: `${r.a.name} (${sideText('a')}) against ${r.b.name} (${sideText('b')}): ${r.reps} measured run(s) per side after ${r.warmup} warm-up, interleaved${r.partial ? ' (PARTIAL)' : ''}` },
    ...r.verdict.map((t) => ({ text: t, cls: 'verdict' as const })),
  ];
  const charts = [
    abChart(r, 'ndr_pps', 'lossless rate (RFC 2544 throughput search), per search', 'lossless, packets/s'),
    abChart(r, 'lost_percent', 'loss of the worst receiver, per run', 'lost, %'),
    abChart(r, 'recv_pps', 'packet rate of the slowest receiver, per run', 'received, packets/s'),
    abChart(r, 'p99_delay_ms', 'p99 one-way delay of the worst receiver, per run', 'p99 delay, ms'),
  ].filter((c): c is ChartSpec => c !== null);
  const sumRow = (k: 'a' | 'b') => {
    const s = r.summary[k];
    const runs = r.runs.filter((x) => x.side === k && !x.warmup && (x.metrics || x.ndr));
    const ci = (m: AbMetric) => {
      const c = meanInterval(runs.map((x) => abValue(x, m)).filter((v): v is number => v !== null));
      const d = m === 'recv_pps' || m === 'ndr_pps' ? 0 : 3;
      return c ? `${f(c.mean, d)} [${f(c.lo, d)}, ${f(c.hi, d)}]` : 'n/a';
    };
    if (r.metric === 'ndr') return [r[k].name, String(runs.length), ci('ndr_pps'), sideText(k)];
    return [r[k].name, String(s.lost_percent.n), ci('lost_percent'), ci('recv_pps'), ci('p99_delay_ms'), sideText(k)];
  };
  const ndr = r.metric === 'ndr';
  const tables: Table[] = [{
    caption: 'mean [95% interval] per side',
    head: ndr ? ['side', 'searches', 'lossless pps', 'settings'] : ['side', 'runs', 'lost %', 'recv pps', 'p99 delay ms', 'settings'],
    rows: [sumRow('a'), sumRow('b')],
  }];
  if (ndr) {
    tables.push({
      caption: 'every search',
      head: ['#', 'side', 'rep', 'lossless pps', 'trials', 'limited by'],
      rows: r.runs.map((x, i) => [String(i + 1), r[x.side].name, x.warmup ? 'warm-up' : String(x.rep), f(x.ndr?.lossless_pps, 0), String(x.ndr?.trials.length ?? 'n/a'),
        x.ndr?.limited_by ? (x.ndr.limited_by.kind === 'sender' ? 'the sender' : x.ndr.limited_by.guest) : '-']),
    });
  } else tables.push({
    caption: 'every run',
    head: ['#', 'side', 'rep', 'lost %', 'recv pps', 'p99 delay ms'],
    rows: r.runs.map((x, i) => [String(i + 1), r[x.side].name, x.warmup ? 'warm-up' : String(x.rep), f(x.metrics?.lost_percent, 3), f(x.metrics?.recv_pps, 0), f(x.metrics?.p99_delay_ms, 3)]),
  });
  // A's and B's settings, as their receivers read them at the start of the first measured run
  const firstSnap = (k: 'a' | 'b') => {
    const run = r.runs.find((x) => x.side === k && !x.warmup) ?? r.runs.find((x) => x.side === k);
    const rx = run?.outcome ? receiversOf(run.outcome)[0] : undefined;
    return { name: `${r[k].name}${rx ? ` (${rx.name})` : ''}`, snap: rx?.r.start.settings ?? null };
  };
  const d = settingsDiffTable(`how ${r.a.name}'s and ${r.b.name}'s settings differed (first measured run, first receiver)`, firstSnap('a'), firstSnap('b'));
  if (d) tables.push(d);
  const st = settingsTable('the kernel settings each side ran under (first measured run)', [firstSnap('a'), firstSnap('b')]);
  if (st) tables.push(st);
  // the delay distribution of every measured run's receivers, per side
  const delay = percentileChartPerSide(r);
  if (delay) charts.push(delay);
  return [{ heading: `${file}: A/B ${r.a.name} vs ${r.b.name}`, level: 2, lines, tables, charts }];
}

function percentileChartPerSide(r: AbReport): ChartSpec | null {
  const x = percentileGrid();
  const series: ChartSeries[] = [];
  for (const k of ['a', 'b'] as const) {
    const h = emptyHistogram();
    for (const run of r.runs.filter((y) => y.side === k && !y.warmup)) for (const p of run.outcome ? latencyParts(receiversOf(run.outcome)) : []) h.add(decodeHistogram(p.base64));
    if (h.totalCount === 0) continue;
    series.push({ label: `${r[k].name}: all measured runs' receivers merged (${h.totalCount.toLocaleString('en-US')} packets)`, style: 'line', values: x.map((xi) => h.getValueAtPercentile(percentOf(xi)) / 1e6) });
  }
  if (series.length === 0) return null;
  return { kind: 'percentile', title: 'one-way delay by percentile, per side', xLabel: 'percentile (1/(1-p), log)', yLabel: 'one-way delay, ms', x, series, xLog: true, xTicks: PERCENTILE_TICKS };
}

/** pass, FAIL (threshold), regression, incomplete, or inconclusive (passed, a threshold undecided: a sender-limited lossless rate below min_ndr_pps): what a scenario's verdict was. */
export function scenarioStatus(s: SuiteScenarioOutcome): 'pass' | 'fail' | 'regression' | 'incomplete' | 'inconclusive' {
  if (s.passed) return (s.inconclusive ?? []).length ? 'inconclusive' : 'pass';
  if (s.failures.some((x) => x.kind === 'regression')) return 'regression';
  if (s.failures.some((x) => x.kind === 'threshold')) return 'fail';
  return 'incomplete';
}

export function suiteBlocks(r: SuiteReport, file: string): Block[] {
  const passed = r.scenarios.filter((s) => s.passed).length;
  const lines: Block['lines'] = [
    { text: `suite ${r.suite}: ${r.passed ? 'PASS' : 'FAIL'}: ${passed}/${r.scenarios.length} scenario(s) passed${r.partial ? ' (PARTIAL)' : ''}`, cls: r.passed ? 'pass' : 'fail' },
    { text: `started ${r.started}, finished ${r.finished}${r.local ? ', --local' : ''}${r.baseline_file ? `; baseline ${r.baseline_file}, tolerance ${r.tolerance_percent}%` : '; no baseline'}` },
  ];
  const rows: string[][] = [];
  const rowClass: Array<string | null> = [];
  for (const s of r.scenarios) {
    const status = scenarioStatus(s);
    for (const m of s.metrics) {
      const cmp = (s.baseline ?? []).filter((c) => c.variant === m.variant);
      const vs = cmp.length ? cmp.map((c) => `${c.metric} ${f(c.baseline, 2)} → ${f(c.current, 2)}${c.regression ? ' REGRESSION' : c.inconclusive === true ? ' inconclusive (sender-limited)' : ''}`).join('; ') : s.baseline === null ? '-' : 'not in the baseline';
      rows.push([s.name, m.variant, status === 'fail' ? 'FAIL' : status, pct(m.lost_percent), f(m.recv_pps, 0), f(m.p99_delay_ms, 3), vs, [...s.failures.filter((x) => x.variant === m.variant || x.variant === '-').map((x) => x.message), ...(s.inconclusive ?? []).filter((x) => x.variant === m.variant).map((x) => `inconclusive: ${x.message}`)].join('; ')]);
      rowClass.push(status);
    }
    if (s.metrics.length === 0) {
      rows.push([s.name, '-', status, '', '', '', '', s.failures.map((x) => x.message).join('; ')]);
      rowClass.push(status);
    }
  }
  const blocks: Block[] = [{
    heading: `${file}: suite ${r.suite}`,
    level: 2,
    lines,
    tables: [{ caption: 'scenarios', head: ['scenario', 'variant', 'verdict', 'worst loss', 'slowest pps', 'worst p99 ms', 'against the baseline', 'failures'], rows, rowClass }],
    charts: [],
  }];
  for (const s of r.scenarios) {
    const status = scenarioStatus(s);
    blocks.push({
      heading: `scenario ${s.name}: ${status === 'fail' ? 'FAIL' : status}`,
      level: 3,
      lines: [...s.failures.map((x) => ({ text: `${x.kind}: ${x.message}`, cls: 'fail' as const })), ...(s.inconclusive ?? []).map((x) => ({ text: `inconclusive: ${x.message}`, cls: 'warn' as const }))],
      tables: [],
      charts: [],
    });
    blocks.push(...runBlocks(s.report, file, 3).slice(1));
  }
  return blocks;
}

export function reportContent(docs: Array<{ file: string; doc: McbenchDocument }>): ReportContent {
  const blocks = docs.flatMap(({ file, doc: d }) => {
    switch (d.kind) {
      case 'result': return resultBlocks(d.doc, file);
      case 'run': return runBlocks(d.doc, file);
      case 'ab': return abBlocks(d.doc, file);
      case 'suite': return suiteBlocks(d.doc, file);
    }
  });
  return { title: `mcbench report: ${docs.map((d) => d.file).join(', ')}`, blocks };
}
