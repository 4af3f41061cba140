// npm run bench: mcbench side by side with a C reference loop (bench/reference.c), iperf2 and
// sockperf, on an ephemeral lab (2 guests on a bridge, snooping off), sender pinned to CPU0 and
// receiver to CPU1. Ratios are to the reference measured in the same run. See BENCHMARKS.md.
//
//   npm run bench -- [--quick | --smoke] [--only ref,mcbench,...] [--out FILE] [--reps N] [--seconds S]
//   (compiled: node bench/build-ts/bench/run.js ...; tsc -p bench/tsconfig.json)
//
// Every packet stays inside the lab's namespaces. Everything made is removed on every exit path:
// the lab by withLab, child processes by pid, net.core.rmem_max restored (finally, signals, exit).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as HostApply from '../src/host/apply.js';
import type * as NdrLib from '../src/core/ndr.js';
import type * as LabLib from '../src/lab/index.js';
import {
  abort, buildReference, checkAbort, cleanupSync, ensurePeers, GROUP, has, installCleanup, log, machine, MCBENCH, otherNetns, RCVBUF, restores, ROOT,
  setLabActive, sleep, timeIt, writeAtomic, type BenchCtx,
} from './harness.js';
import {
  BENCH_SCHEMA, isSection, maxOf, median, SECTIONS, summarize, TOOL_IDS, type BenchResult, type Mode, type NdrBenchRow, type NdrReceiverId, type PacedConfig, type PacedRow, type ScalingRow, type Section, type Skip, type ToolId,
} from './result.js';
import { fmt, table, targets } from './table.js';
import { NDR_RECEIVERS, runNdr, runScaling } from './ndr.js';
import { runCell, runMemory, runPaced } from './tools.js';
import { runGroups, type GroupsBenchRow } from './groups.js';

installCleanup();

// ---- options ---------------------------------------------------------------------------------

const USAGE = `usage: npm run bench -- [--quick | --smoke] [--only LIST] [--out FILE] [--reps N] [--seconds S] [--mem-seconds S] [--lab-name NAME]
  --quick    2 s per run, 2 repetitions, 10 s memory run
  --smoke    1 s per run, 64 B only, 1 repetition, no memory run (CI: proves the harness runs)
  --only     comma list of ${SECTIONS.join(',')} (ref is always run when a throughput tool is)
  --out      result JSON (default bench/results/latest.json; --smoke: bench/results/smoke.json)`;

export interface BenchOptions {
  mode: Mode;
  seconds: number;
  reps: number;
  sizes: number[];
  memSeconds: number;
  /** the sections to run (--only, less what cannot run) */
  want: Set<Section>;
  out: string;
  labName: string;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const PRESETS: Record<Mode, { seconds: number; reps: number; sizes: number[]; memSeconds: number }> = {
  full: { seconds: 5, reps: 3, sizes: [64, 1400], memSeconds: 30 },
  quick: { seconds: 2, reps: 2, sizes: [64, 1400], memSeconds: 10 },
  smoke: { seconds: 1, reps: 1, sizes: [64], memSeconds: 0 },
};

function parseArgs(argv: readonly string[]): BenchOptions {
  const o: { mode: Mode; only: string[] | null; out: string | null; reps: number | null; seconds: number | null; memSeconds: number | null; labName: string | null } = {
    mode: 'full', only: null, out: null, reps: null, seconds: null, memSeconds: null, labName: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.mode = 'quick';
    else if (a === '--smoke') o.mode = 'smoke';
    else if (a === '--only') o.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--reps') o.reps = Number(val());
    else if (a === '--seconds') o.seconds = Number(val());
    else if (a === '--mem-seconds') o.memSeconds = Number(val());
    else if (a === '--lab-name') o.labName = val();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  const only: Section[] | null = o.only?.map((s) => (isSection(s) ? s : usage(`--only: '${s}' is not one of ${SECTIONS.join(',')}`))) ?? null;
  if (o.reps !== null && !(Number.isInteger(o.reps) && o.reps >= 1 && o.reps <= 50)) usage('--reps: 1-50');
  if (o.seconds !== null && !(o.seconds >= 0.5 && o.seconds <= 600)) usage('--seconds: 0.5-600');
  if (o.memSeconds !== null && !(o.memSeconds >= 5 && o.memSeconds <= 3600)) usage('--mem-seconds: 5-3600');
  const preset = PRESETS[o.mode];
  const want = new Set<Section>(only ?? SECTIONS);
  if (o.mode === 'smoke') want.delete('memory');
  // the searches take minutes: in --smoke only when asked for by name
  if (o.mode === 'smoke' && only === null) for (const s of ['ndr', 'scaling', 'groups'] as const) want.delete(s);
  return {
    mode: o.mode,
    seconds: o.seconds ?? preset.seconds,
    reps: o.reps ?? preset.reps,
    sizes: preset.sizes,
    memSeconds: o.memSeconds ?? preset.memSeconds,
    want,
    out: o.out ?? join(ROOT, 'bench/results', o.mode === 'smoke' ? 'smoke.json' : 'latest.json'),
    labName: o.labName ?? (o.mode === 'smoke' ? 'bsmoke' : 'bench'),
  };
}

/** dist/ at run time (the product as built), typed by its sources */
async function loadDist(): Promise<{ withLab: typeof LabLib.withLab; applyKernelSettings: typeof HostApply.applyKernelSettings; ndr: typeof NdrLib }> {
  const lab = (await import(pathToFileURL(join(ROOT, 'dist/lab/index.js')).href)) as typeof LabLib;
  // The product's own save/set/restore: restored in finally, on signals and at exit, and by the
  // next `mcbench lab down` if this process is SIGKILLed.
  const apply = (await import(pathToFileURL(join(ROOT, 'dist/host/apply.js')).href)) as typeof HostApply;
  // mcbench ndr's own search (RFC 2544 26.1: binary search, every pass repeated)
  const ndr = (await import(pathToFileURL(join(ROOT, 'dist/core/ndr.js')).href)) as typeof NdrLib;
  return { withLab: lab.withLab, applyKernelSettings: apply.applyKernelSettings, ndr };
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opt = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage('needs root (network namespaces, SO_RCVBUFFORCE)');
  if (!['dist/lab/index.js', 'dist/host/apply.js', 'dist/cli.js'].every((f) => existsSync(join(ROOT, f)))) {
    log('bench: dist/ is not built: run `npm run build` (npm run bench does it)');
    process.exit(1);
  }
  if (!has('taskset')) usage('taskset (util-linux) is missing');
  const { withLab, applyKernelSettings, ndr } = await loadDist();
  const skipped: Skip[] = [];
  ensurePeers(opt.want, opt.mode, skipped);
  buildReference();

  const throughputTools: ToolId[] = TOOL_IDS.filter((t) => opt.want.has(t));
  if (throughputTools.length && !throughputTools.includes('ref')) throughputTools.unshift('ref');
  const nproc = cpus().length;
  const cpuTx = 0;
  const cpuRx = nproc >= 2 ? 1 : 0;
  if (nproc < 2) skipped.push({ tool: 'pinning', reason: 'one CPU: sender and receiver share CPU0' });
  // This runner samples /proc every 50 ms: keep it off the sender's CPU, which the sender saturates.
  spawnSync('taskset', ['-a', '-p', '-c', String(cpuRx), String(process.pid)], { stdio: 'ignore' });

  const result: BenchResult = {
    schema: BENCH_SCHEMA,
    created: new Date().toISOString(),
    command: `node ${relative(ROOT, process.argv[1]!)} ${process.argv.slice(2).join(' ')}`.trim(),
    mode: opt.mode,
    settings: { seconds: opt.seconds, reps: opt.reps, sizes: opt.sizes, tools: throughputTools, interleaving: 'for each repetition, for each size, every tool in turn', cpu_sender: cpuTx, cpu_receiver: cpuRx, cpu_runner: cpuRx, rcvbuf_bytes: RCVBUF, group: GROUP },
    machine: machine(),
    // other work on the machine makes absolute figures drift (ratios to the reference hold better)
    load: { loadavg_before: loadavg(), loadavg_after: null, other_netns_before: otherNetns(), other_netns_after: null },
    lab: null,
    sysctl: {},
    runs: [],
    summary: {},
    latency_cost: [],
    paced: null,
    ndr: null,
    scaling: null,
    groups: null,
    memory: null,
    help: null,
    node_floor: null,
    targets: [],
    skipped,
  };

  // iperf -w and sockperf --buffer-size go through SO_RCVBUF: lift rmem_max for them (restored).
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const rmem = { before: rmemMax, during: rmemMax };
  result.sysctl['net.core.rmem_max'] = rmem;
  const tmp = mkdtempSync(join(tmpdir(), 'mcbench-bench-'));
  restores.unshift(() => rmSync(tmp, { recursive: true, force: true }));
  try {
    if (rmemMax < RCVBUF && (opt.want.has('iperf') || opt.want.has('sockperf'))) {
      const applied = applyKernelSettings({ 'net.core.rmem_max': RCVBUF });
      restores.push(() => {
        applied.restore();
        log(`bench: restored net.core.rmem_max=${rmemMax}`);
      });
      rmem.during = RCVBUF;
    }
    setLabActive(true);
    await withLab({ name: opt.labName, guests: 2, snooping: 0 }, async (lab, signal) => {
      signal.addEventListener('abort', () => abort.abort(signal.reason));
      // withLab made exactly these two guests
      const g1 = lab.guests[0]!;
      const g2 = lab.guests[1]!;
      result.lab = { name: lab.name, subnet: lab.state?.subnet ?? null, sender: g1.netns, receiver: g2.netns, snooping: 0 };
      const ctx: BenchCtx = {
        lab, tmp, seconds: opt.seconds, memSeconds: opt.memSeconds, nextPort: 5001, cpuTx, cpuRx, quietCap: opt.mode === 'smoke' ? 2 : 20,
        txGuest: g1.index, rxGuest: g2.index, txAddr: g1.address.split('/')[0]!, rxAddr: g2.address.split('/')[0]!,
      };

      // Unlimited rate, interleaved: rep 1 [64: A B C D] [1400: A B C D], rep 2 ...
      const total = opt.reps * opt.sizes.length * throughputTools.length;
      let k = 0;
      for (let rep = 1; rep <= opt.reps; rep++) {
        for (const len of opt.sizes) {
          for (const tool of throughputTools) {
            checkAbort();
            const row = await runCell(ctx, tool, len, rep);
            result.runs.push(row);
            k++;
            log(row.ok
              ? `[${k}/${total}] ${len} B ${tool} rep ${rep}: send ${fmt(row.sender?.pps)} pps (${fmt(row.sender?.cpu_per_packet_us, 2)} us/pkt), recv ${fmt(row.receiver?.pps)} pps, lost ${fmt(row.receiver?.lost)} (${fmt(row.receiver?.cpu_per_packet_us, 3)} us/pkt); other load ${fmt(row.load.other_cpus, 2)} CPU`
              : `[${k}/${total}] ${len} B ${tool} rep ${rep}: FAILED: ${row.error}`);
            await sleep(300);
          }
        }
      }
      result.summary = summarize(result.runs, throughputTools, opt.sizes);
      for (const len of opt.sizes) {
        const on = result.summary[len]?.mcbench;
        const off = result.summary[len]?.nolat;
        if (!on || !off) continue;
        result.latency_cost.push({
          length: len,
          cpu_us_latency_on: on.receiver_cpu_us_per_packet,
          cpu_us_latency_off: off.receiver_cpu_us_per_packet,
          // the receiver's packet rate at saturation is 1 / CPU per packet: the cost is the rate lost
          cost_percent: on.receiver_cpu_us_per_packet && off.receiver_cpu_us_per_packet ? 100 * (1 - off.receiver_cpu_us_per_packet / on.receiver_cpu_us_per_packet) : null,
          pps_latency_on: on.receiver_pps_median,
          pps_latency_off: off.receiver_pps_median,
        });
      }

      if (opt.want.has('ndr')) {
        const ids: NdrReceiverId[] = ['mcbench', 'mcplain', 'mcgro', 'ref', 'refc'];
        if (has('sockperf')) ids.push('sockperf');
        else skipped.push({ tool: 'ndr sockperf', reason: 'sockperf is not installed' });
        const settings = { seconds: opt.mode === 'full' ? 2 : 1, resolution: opt.mode === 'full' ? 0.02 : 0.05, maxTrials: opt.mode === 'full' ? 16 : 12 };
        const rows: NdrBenchRow[] = [];
        // interleaved like the unlimited runs: for each size, each receiver in turn
        for (const len of opt.sizes) {
          for (const id of ids) {
            checkAbort();
            const row = await runNdr(ctx, id, len, settings, ndr, log);
            rows.push(row);
            log(row.error ? `ndr ${id} ${len} B: FAILED: ${row.error}` : `ndr ${id} ${len} B: lossless ${fmt(row.lossless_pps)} pps (limited by ${row.limited_by ?? '-'}, ${row.trials.length} trials)`);
          }
        }
        result.ndr = {
          method: `RFC 2544 26.1 binary search with mcbench's NdrSearch (loss 0, every pass repeated, resolution ${settings.resolution * 100}%, at most ${settings.maxTrials} trials, ${settings.seconds} s each), started at the sender's unlimited probe; loss against the sender's own count. Load: ${Object.values(NDR_RECEIVERS).map((d) => `${d.label} <- ${d.sender}`).join('; ')}`,
          rows,
        };
      }

      if (opt.want.has('scaling')) {
        const counts = opt.mode === 'smoke' ? [1, 2] : [1, 2, 4, 8];
        const runs: ScalingRow[] = [];
        for (let rep = 1; rep <= opt.reps; rep++) {
          for (const len of opt.sizes) {
            for (const n of counts) {
              checkAbort();
              const row = await runScaling(ctx, n, len, rep);
              runs.push(row);
              log(row.ok
                ? `scaling ${n} receivers ${len} B rep ${rep}: sender ${fmt(row.sender_pps)} pps, per receiver ${fmt(row.receiver_pps_median)} pps, ${fmt(row.receiver_cpu_us_per_packet_median, 3)} us/pkt, lost max ${fmt(row.lost_max)}`
                : `scaling ${n} receivers ${len} B rep ${rep}: FAILED: ${row.error}`);
              await sleep(300);
            }
          }
        }
        result.scaling = { method: 'n mcbench recv (latency on, 25 MiB forced) in the receive guest, all pinned to its CPU, behind one unlimited mcbench send (one datagram per call); per receiver: its own packet rate, the sender\'s count minus its unique packets, its CPU ready-to-idle over its packets', runs };
      }

      if (opt.want.has('groups')) {
        // 50,000 pps of 64 B: a rate both sides keep up with on this host, so the cost is per packet
        const rows: GroupsBenchRow[] = [];
        for (let rep = 1; rep <= opt.reps; rep++) {
          for (const n of [1, 10, 100]) {
            checkAbort();
            const row = await runGroups(ctx, n, 64, 50000, rep);
            rows.push(row);
            log(row.ok
              ? `groups ${n} rep ${rep}: sent ${fmt(row.sent)}, received ${fmt(row.received)} (lost ${fmt(row.lost)}), send thread ${fmt(row.sender_thread_ns_per_packet)} ns/pkt, recv thread ${fmt(row.receiver_thread_ns_per_packet)} ns/pkt, recv process ${fmt(row.receiver_process_us_per_packet, 3)} us/pkt`
              : `groups ${n} rep ${rep}: FAILED: ${row.error}`);
            await sleep(300);
          }
        }
        result.groups = { method: 'one mcbench send --pps 50000 -l 64 round robin over N groups (1, 10, 100) to one mcbench recv joining all N on one socket (25 MiB forced); each side\'s own thread CPU per datagram from its result, and the receiver process\'s CPU over its packets', rows };
      }

      if (opt.want.has('paced')) {
        const configs: PacedConfig[] = [];
        if (opt.sizes.includes(1400)) configs.push({ id: '100M_1400', label: '100 Mbit/s, 1400 B', len: 1400, bps: 100e6 });
        for (const len of opt.sizes) {
          const u = result.summary[len]?.mcbench?.sender_pps_median ?? result.summary[len]?.ref?.sender_pps_median;
          if (u) configs.push({ id: `half_${len}`, label: `50% of unlimited, ${len} B`, len, pps: u / 2, from: result.summary[len]?.mcbench ? 'mcbench' : 'ref' });
          else skipped.push({ tool: `paced ${len} B at 50%`, reason: 'no unlimited rate measured for this size' });
        }
        const rows: PacedRow[] = [];
        for (let rep = 1; rep <= opt.reps; rep++) {
          for (const cfg of configs) {
            checkAbort();
            const row = await runPaced(ctx, cfg, rep);
            rows.push(row);
            log(row.ok
              ? `paced ${cfg.label} rep ${rep}: rate_ratio ${fmt(row.sender?.rate_ratio, 4)}, receiver ${fmt(row.receiver?.rate_ratio, 4)}, batch ${fmt(row.gaps?.mean_batch_size, 2)}, gap CV ${fmt(row.gaps?.inter_batch_gap?.cv, 3)}`
              : `paced ${cfg.label} rep ${rep}: FAILED: ${row.error}`);
            await sleep(300);
          }
        }
        result.paced = {
          method: 'mcbench send paced (-b or --pps) into the C reference receiver, which writes each datagram\'s SO_TIMESTAMPNS kernel receive time; arrivals closer than half the nominal period form one batch',
          configs,
          runs: rows,
          summary: configs.map((cfg) => {
            const rs = rows.filter((r) => r.config === cfg.id && r.ok);
            const ratios = rs.map((r) => r.sender?.rate_ratio ?? null);
            const worst = ratios.length ? ratios.reduce((a, b) => (Math.abs(Number(b) - 1) > Math.abs(Number(a) - 1) ? b : a)) : null;
            return {
              id: cfg.id,
              label: cfg.label,
              reps: rs.length,
              target_pps: median(rs.map((r) => r.target_pps)),
              rate_ratio_median: median(ratios),
              rate_ratio_worst: worst,
              receiver_rate_ratio_median: median(rs.map((r) => r.receiver?.rate_ratio)),
              mean_batch_size: median(rs.map((r) => r.gaps?.mean_batch_size)),
              gap_mean_us: median(rs.map((r) => r.gaps?.inter_batch_gap?.mean_us)),
              gap_cv: median(rs.map((r) => r.gaps?.inter_batch_gap?.cv)),
              gap_p99_us: median(rs.map((r) => r.gaps?.inter_batch_gap?.p99_us)),
              gap_max_us: maxOf(rs.map((r) => r.gaps?.inter_batch_gap?.max_us)),
              per_ms_count_cv: median(rs.map((r) => r.gaps?.per_ms_count_cv)),
              late_max_ms: maxOf(rs.map((r) => r.sender?.late_max_ms)),
              late_mean_ms: median(rs.map((r) => r.sender?.late_mean_ms)),
            };
          }),
        };
      }

      if (opt.want.has('memory') && opt.memSeconds > 0) {
        checkAbort();
        log(`bench: mcbench recv memory, ${opt.memSeconds} s at full rate`);
        result.memory = await runMemory(ctx);
      }
    }, { graceMs: 3000, log });
    setLabActive(false);

    if (opt.want.has('help')) {
      // Start-up needs no network: it runs on the host, like a user's first command.
      result.help = timeIt(['node', MCBENCH, '--help'], 10);
      result.node_floor = timeIt(['node', '-e', '0'], 10);
    }
  } finally {
    setLabActive(false);
    cleanupSync();
  }

  result.load.loadavg_after = loadavg();
  result.load.other_netns_after = otherNetns();
  result.targets = targets(result);
  writeAtomic(opt.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${table(result)}\n\nwritten: ${opt.out}\n`);
  const failed =
    result.runs.filter((r) => !r.ok).length + (result.paced?.runs.filter((r) => !r.ok).length ?? 0) + (result.ndr?.rows.filter((r) => r.error !== null).length ?? 0) + (result.scaling?.runs.filter((r) => !r.ok).length ?? 0);
  if (failed) {
    log(`bench: ${failed} run(s) failed (see "error" in the JSON)`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  const err = e as Error;
  log(`bench: ${abort.signal.aborted ? err.message : (err.stack ?? err.message)}`);
  cleanupSync();
  process.exitCode = 1;
});
