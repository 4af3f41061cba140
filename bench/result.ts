// mcbench/bench@1: the JSON `npm run bench` writes (bench/results/*.json), and the statistics
// that make its summary. Key order of every object is the order the fields are set in.
import type { GroupsBenchResult } from './groups.js';

export const BENCH_SCHEMA = 'mcbench/bench@1' as const;

export const TOOL_IDS = ['ref', 'ref1', 'refc', 'mcbench', 'nolat', 'mcsend', 'mcrecv', 'mcplain', 'refgso', 'mcgso', 'gsogro', 'iperf', 'sockperf'] as const;
/** a throughput tool: one column of the unlimited-rate table */
export type ToolId = (typeof TOOL_IDS)[number];
export const SECTIONS = [...TOOL_IDS, 'ndr', 'scaling', 'groups', 'paced', 'memory', 'help'] as const;
/** what --only selects */
export type Section = (typeof SECTIONS)[number];
export type Mode = 'full' | 'quick' | 'smoke';

export const isSection = (s: string): s is Section => (SECTIONS as readonly string[]).includes(s);
export const isToolId = (s: string): s is ToolId => (TOOL_IDS as readonly string[]).includes(s);

/** CPU used by others while a run lasted, in CPUs (1.0 = one CPU busy all the time) */
export interface OtherLoad {
  wall_seconds: number;
  other_cpus: number;
  kernel_threads_cpus: number;
  steal_cpus: number;
}

export interface RunLoad extends OtherLoad {
  waited_for_quiet_seconds: number;
  quiet_before: number;
}

export interface ThreadCpu {
  tid: number;
  /** the thread's comm; the main thread gets ' (main)' */
  thread: string;
  cpu_seconds: number;
}

/** a run's steady window (startup and teardown left out), for its sender or its receiver */
export interface CpuWindow {
  seconds: number;
  packets: number;
  cpu_seconds: number;
  cpu_per_packet_us: number | null;
  threads: ThreadCpu[] | null;
}

/** what a sender reports of itself; the extras depend on the tool */
export interface SendFigures {
  packets: number | null;
  seconds: number | null;
  pps: number | null;
  /** C reference */
  own_cpu_seconds?: number;
  /** mcbench */
  send_calls?: number;
  enobufs?: number;
}

/** what a receiver reports of itself; the extras depend on the tool */
export interface RecvFigures {
  packets: number | null;
  seconds: number | null;
  pps: number | null;
  lost?: number | null;
  /** C reference */
  own_cpu_seconds_traffic?: number;
  duplicates?: number;
  /** mcbench */
  socket_overflow_drops?: number;
  recv_calls?: number;
  recv_full_batches?: number;
  end_reason?: string;
}

export interface SenderRow extends SendFigures {
  cpu_window: CpuWindow | null;
  cpu_per_packet_us: number | null;
}

export interface ReceiverRow extends RecvFigures {
  lost: number | null;
  loss_percent: number | null;
  /** the whole run's CPU, from ready to idle after the sender ended */
  cpu_seconds: number | null;
  /** over the sender's steady window (null when it could not be sampled) */
  cpu_window: CpuWindow | null;
  /** the window's figure (null when the window could not be sampled) */
  cpu_per_packet_us: number | null;
  /** the whole run's CPU over every packet received: start, result and exit included */
  cpu_per_packet_us_run: number | null;
  threads: ThreadCpu[] | null;
}

/** one unlimited-rate run of one tool */
export interface RunRow {
  tool: ToolId;
  length: number;
  rep: number;
  port: number;
  ok: boolean;
  sender: SenderRow | null;
  receiver: ReceiverRow | null;
  load: RunLoad;
  error: string | null;
}

export interface OkRunRow extends RunRow {
  ok: true;
  sender: SenderRow;
  receiver: ReceiverRow;
}

export interface RatioToRef {
  sender_pps: number | null;
  receiver_pps: number | null;
  sender_cpu_per_packet: number | null;
  receiver_cpu_per_packet: number | null;
}

export interface ToolSummary {
  reps: number;
  sender_pps_median: number | null;
  sender_pps_min: number | null;
  sender_pps_max: number | null;
  receiver_pps_median: number | null;
  lost_packets_max: number | null;
  loss_percent_median: number | null;
  loss_percent_max: number | null;
  sender_cpu_us_per_packet: number | null;
  receiver_cpu_us_per_packet: number | null;
  /** the whole run's (start, result and exit in it) */
  receiver_cpu_us_per_packet_run: number | null;
  other_load_cpus_max: number | null;
  disturbed_runs: number;
  /** null when the reference has no successful run at this size */
  ratio_to_ref: RatioToRef | null;
}

/** by payload length (JSON keys are the lengths as strings), then by tool */
export type Summary = Record<string, Partial<Record<ToolId, ToolSummary>>>;

export interface LatencyCost {
  length: number;
  cpu_us_latency_on: number | null;
  cpu_us_latency_off: number | null;
  cost_percent: number | null;
  pps_latency_on: number | null;
  pps_latency_off: number | null;
}

export interface PacedConfig {
  id: string;
  label: string;
  len: number;
  /** -b */
  bps?: number;
  /** --pps */
  pps?: number;
  /** whose unlimited rate the 50% is of */
  from?: ToolId;
}

export interface GapStats {
  mean_us: number;
  cv: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

export interface PacedGaps {
  arrivals: number;
  batches: number;
  mean_batch_size: number;
  inter_batch_gap: GapStats | null;
  per_ms_count_cv: number | null;
  arrival_span_seconds: number;
}

/** one paced run; the measured fields are there only when it got that far */
export interface PacedRow {
  config: string;
  length: number;
  rep: number;
  ok: boolean;
  load: RunLoad;
  error: string | null;
  target_pps?: number;
  target_bits_per_second?: number;
  sender?: {
    packets: number;
    seconds: number;
    pps: number;
    rate_ratio: number | null;
    send_calls: number;
    late_mean_ms: number | null;
    late_max_ms: number | null;
  };
  receiver?: { packets: number; seconds: number; pps: number; rate_ratio: number; lost: number };
  gaps?: PacedGaps | null;
}

export interface PacedSummary {
  id: string;
  label: string;
  reps: number;
  target_pps: number | null;
  rate_ratio_median: number | null;
  rate_ratio_worst: number | null;
  receiver_rate_ratio_median: number | null;
  mean_batch_size: number | null;
  gap_mean_us: number | null;
  gap_cv: number | null;
  gap_p99_us: number | null;
  gap_max_us: number | null;
  per_ms_count_cv: number | null;
  late_max_ms: number | null;
  late_mean_ms: number | null;
}

export interface PacedResult {
  method: string;
  configs: PacedConfig[];
  runs: PacedRow[];
  summary: PacedSummary[];
}

export interface MemorySample {
  t: number;
  rss_mb: number;
  hwm_mb: number;
}

export interface MemoryResult {
  seconds: number;
  length: number;
  samples: MemorySample[];
  max_rss_mb: number | null;
  max_hwm_mb: number | null;
  slope_mb_per_min: number | null;
  fitted_growth_mb: number | null;
  window_from_seconds: number;
  flat: boolean | null;
  received: { packets: number; pps: number; lost_packets: number } | null;
}

/** a receiver whose max lossless rate the ndr section searches */
export type NdrReceiverId = 'mcbench' | 'mcplain' | 'mcgro' | 'ref' | 'refc' | 'sockperf';

/** one NDR trial (pps 0: the sender's unlimited probe) */
export interface NdrBenchTrial {
  pps: number;
  repeat: boolean;
  /** the sender's own count and rate */
  sent: number;
  achieved_pps: number;
  /** unique datagrams the receiver counted */
  received: number;
  lost: number | null;
  loss_percent: number | null;
  /** the sender reached < 99% of the offered rate: not a pass */
  sender_limited: boolean;
  passed: boolean;
  receiver_cpu_per_packet_us: number | null;
  other_load_cpus: number;
}

/** one receiver's max lossless rate at one size */
export interface NdrBenchRow {
  receiver: NdrReceiverId;
  label: string;
  /** the load generator */
  sender: string;
  length: number;
  trial_seconds: number;
  probe: NdrBenchTrial | null;
  /** the highest rate that passed twice; null: none */
  lossless_pps: number | null;
  lossless_mbps: number | null;
  /** the lowest offered rate at which the receiver lost anything */
  lowest_lossy_pps: number | null;
  /** receiver: some trial lost; sender: nothing lost, or the sender's most passed (the answer is a lower bound) */
  limited_by: 'receiver' | 'sender' | null;
  unresolved: boolean;
  trials: NdrBenchTrial[];
  error: string | null;
}

export interface NdrBenchResult {
  method: string;
  rows: NdrBenchRow[];
}

/** n mcbench receivers behind one unlimited sender */
export interface ScalingRow {
  receivers: number;
  length: number;
  rep: number;
  ok: boolean;
  sender_pps: number | null;
  sent: number | null;
  per_receiver: Array<{ pps: number; packets: number; lost: number; cpu_seconds: number | null; cpu_per_packet_us: number | null }>;
  receiver_pps_median: number | null;
  receiver_cpu_us_per_packet_median: number | null;
  lost_max: number | null;
  other_load_cpus: number | null;
  error: string | null;
}

export interface ScalingResult {
  method: string;
  runs: ScalingRow[];
}

export interface Timing {
  runs_ms: number[];
  median_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
}

export interface Target {
  id: string;
  what: string;
  value: string;
  ratio?: number | null;
  /** null: not measurable in this run */
  pass: boolean | null;
}

export interface Skip {
  tool: string;
  reason: string;
}

export interface MachineInfo {
  nproc: number;
  cpu_model: string | null;
  hypervisor: boolean;
  kernel: string;
  node: string;
  cc: string | null;
  iperf: string | null;
  sockperf: string | null;
  bridge_nf_call_iptables: string | null;
}

export interface BenchSettings {
  seconds: number;
  reps: number;
  sizes: number[];
  tools: ToolId[];
  interleaving: string;
  cpu_sender: number;
  cpu_receiver: number;
  cpu_runner: number;
  rcvbuf_bytes: number;
  group: string;
}

export interface BenchResult {
  schema: typeof BENCH_SCHEMA;
  created: string;
  command: string;
  mode: Mode;
  settings: BenchSettings;
  machine: MachineInfo;
  load: {
    loadavg_before: number[];
    loadavg_after: number[] | null;
    other_netns_before: string[];
    other_netns_after: string[] | null;
  };
  lab: { name: string; subnet: string | null; sender: string; receiver: string; snooping: 0 } | null;
  sysctl: Record<string, { before: number; during: number }>;
  runs: RunRow[];
  summary: Summary;
  latency_cost: LatencyCost[];
  paced: PacedResult | null;
  /** absent in results written before the ndr and scaling sections */
  ndr?: NdrBenchResult | null;
  scaling?: ScalingResult | null;
  /** absent in results written before the groups section: per-packet cost with 1, 10 and 100 groups */
  groups?: GroupsBenchResult | null;
  memory: MemoryResult | null;
  help: Timing | null;
  node_floor: Timing | null;
  targets: Target[];
  skipped: Skip[];
}

// ---- statistics -------------------------------------------------------------------------------

type Maybe = number | null | undefined;
const finite = (v: Maybe): v is number => Number.isFinite(v);

export function median(xs: readonly Maybe[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
export const minOf = (xs: readonly Maybe[]): number | null => (xs.filter(finite).length ? Math.min(...xs.filter(finite)) : null);
export const maxOf = (xs: readonly Maybe[]): number | null => (xs.filter(finite).length ? Math.max(...xs.filter(finite)) : null);
const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? a / b : null);
/** a run during which other work took more than 0.15 CPU, or the hypervisor stole more than 5% */
const disturbed = (r: { load?: OtherLoad | null }): boolean => (r.load?.other_cpus ?? 0) > 0.15 || (r.load?.steal_cpus ?? 0) > 0.05;
const isOk = (r: RunRow): r is OkRunRow => r.ok && r.sender !== null && r.receiver !== null;

export function summarize(rows: readonly RunRow[], tools: readonly ToolId[], sizes: readonly number[]): Summary {
  const out: Summary = {};
  for (const len of sizes) {
    const bySize: Partial<Record<ToolId, ToolSummary>> = {};
    out[len] = bySize;
    for (const tool of tools) {
      const rs = rows.filter((r): r is OkRunRow => r.tool === tool && r.length === len && isOk(r));
      if (!rs.length) continue;
      const g = (f: (r: OkRunRow) => Maybe) => rs.map(f);
      bySize[tool] = {
        reps: rs.length,
        sender_pps_median: median(g((r) => r.sender.pps)),
        sender_pps_min: minOf(g((r) => r.sender.pps)),
        sender_pps_max: maxOf(g((r) => r.sender.pps)),
        receiver_pps_median: median(g((r) => r.receiver.pps)),
        lost_packets_max: maxOf(g((r) => r.receiver.lost)),
        loss_percent_median: median(g((r) => r.receiver.loss_percent)),
        loss_percent_max: maxOf(g((r) => r.receiver.loss_percent)),
        sender_cpu_us_per_packet: median(g((r) => r.sender.cpu_per_packet_us)),
        receiver_cpu_us_per_packet: median(g((r) => r.receiver.cpu_per_packet_us)),
        receiver_cpu_us_per_packet_run: median(g((r) => r.receiver.cpu_per_packet_us_run)),
        other_load_cpus_max: maxOf(g((r) => r.load.other_cpus)),
        disturbed_runs: rs.filter(disturbed).length,
        ratio_to_ref: null,
      };
    }
    const ref = bySize.ref;
    for (const s of Object.values(bySize)) {
      s.ratio_to_ref = ref
        ? {
            sender_pps: ratio(s.sender_pps_median, ref.sender_pps_median),
            receiver_pps: ratio(s.receiver_pps_median, ref.receiver_pps_median),
            sender_cpu_per_packet: ratio(s.sender_cpu_us_per_packet, ref.sender_cpu_us_per_packet),
            receiver_cpu_per_packet: ratio(s.receiver_cpu_us_per_packet, ref.receiver_cpu_us_per_packet),
          }
        : null;
    }
  }
  return out;
}
