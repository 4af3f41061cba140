// The bench's machinery: constants, cleanup on every exit path, processes in lab guests, /proc
// readings (CPU, packets, RSS), the machine's other load, one measured sender/receiver pair,
// and the setup (the C reference, the peer tools, machine facts).
//
// Every packet stays inside the lab's namespaces. Everything made is removed on every exit path:
// the lab by withLab, child processes by pid, net.core.rmem_max restored (finally, signals, exit).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../src/lab/index.js';
import { median, maxOf, minOf, type CpuWindow, type MachineInfo, type Mode, type OtherLoad, type RunLoad, type Section, type Skip, type ThreadCpu, type Timing } from './result.js';

/** the repository: the first folder up from this module holding bench/reference.c (works from bench/ and bench/build-ts/bench/) */
function findRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bench/reference.c'))) {
    const up = dirname(d);
    if (up === d) throw new Error(`bench: no bench/reference.c above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
  return d;
}

export const ROOT = findRoot();
export const MCBENCH = join(ROOT, 'bin/mcbench.js');
const REF_SRC = join(ROOT, 'bench/reference.c');
export const REF_BIN = join(ROOT, 'bench/build/reference');
export const RCVBUF = 26214400; // 25 MiB, for every receiver
export const GROUP = '239.255.77.1';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- cleanup on every exit path ---------------------------------------------------------------

const children = new Set<ChildProcess>();
/** synchronous undo actions, run once, last first */
export const restores: Array<() => void> = [];

export function cleanupSync(): void {
  for (const c of children) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
  while (restores.length) {
    try {
      restores.pop()?.();
    } catch (e) {
      process.stderr.write(`bench: restore failed: ${(e as Error).message}\n`);
    }
  }
}

let labActive = false;
/** while a lab is up, withLab's own signal handler removes it and ends the process */
export const setLabActive = (on: boolean): void => {
  labActive = on;
};
/** fires on SIGINT/SIGTERM/SIGHUP (and when withLab's signal fires) */
export const abort = new AbortController();

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** Kills children and runs the restores at exit and on SIGINT/SIGTERM/SIGHUP. Call first. */
export function installCleanup(): void {
  process.on('exit', cleanupSync);
  for (const sig of Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>) {
    process.on(sig, () => {
      log(`bench: ${sig}: stopping, killing children, restoring sysctls${labActive ? ', removing the lab' : ''}`);
      cleanupSync();
      abort.abort(sig);
      // With a lab up, withLab's own handler removes it and then exits the process.
      if (!labActive) process.exit(128 + SIGNALS[sig]);
    });
  }
}

export function checkAbort(): void {
  if (abort.signal.aborted) throw new Error(`interrupted (${String(abort.signal.reason)})`);
}

// ---- processes and /proc ----------------------------------------------------------------------

const hostNetns = readlinkSync('/proc/self/ns/net');
const inGuest = (pid: number): boolean => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) !== hostNetns;
  } catch {
    return false;
  }
};

/** utime + stime of the whole process (all threads, dead ones too), seconds; null when gone */
export function cpuOf(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** eth0's packet counters in the pid's network namespace (only once it is in a guest) */
function devOf(pid: number): { rx: number; tx: number } | null {
  if (!inGuest(pid)) return null;
  try {
    const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find((l) => l.trim().startsWith('eth0:'));
    if (line === undefined) return null;
    // `eth0:` was matched, and a /proc/net/dev row has 16 counters after it
    const f = line.split(':')[1]!.trim().split(/\s+/).map(Number);
    return { rx: f[1]!, tx: f[9]! };
  } catch {
    return null;
  }
}

/** per thread id (a /proc/PID/task entry): its name and CPU seconds */
export type ThreadMap = Map<string, { comm: string; cpu: number }>;

/** CPU seconds of each thread (tid, name); the main thread's tid is the pid */
export function threadsOf(pid: number): ThreadMap {
  const out: ThreadMap = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      out.set(tid, { comm, cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      /* thread ended */
    }
  }
  return out;
}

/** Per-thread CPU between two threadsOf() readings: where a process's time went. */
export function threadDelta(pid: number, before: ThreadMap | null | undefined, after: ThreadMap | null | undefined): ThreadCpu[] | null {
  if (!before || !after) return null;
  const rows: ThreadCpu[] = [];
  for (const [tid, a] of after) {
    const d = a.cpu - (before.get(tid)?.cpu ?? 0);
    if (d > 0) rows.push({ tid: Number(tid), thread: Number(tid) === pid ? `${a.comm} (main)` : a.comm, cpu_seconds: Math.round(d * 100) / 100 });
  }
  return rows.sort((x, y) => y.cpu_seconds - x.cpu_seconds);
}

/** VmRSS and VmHWM, MB; null when gone */
export function rssOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function boundUdp(pid: number, port: number): boolean {
  if (!inGuest(pid)) return false;
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
    return readFileSync(`/proc/${pid}/net/udp`, 'utf8').includes(hex);
  } catch {
    return false;
  }
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** a tool started in a guest, with everything it wrote */
export interface Proc {
  child: ChildProcess;
  /** the tool's own pid (ip netns exec and taskset exec); 0 when the spawn failed (no /proc entry, never signalled) */
  pid: number;
  stdout: string;
  stderr: string;
  exited: boolean;
  argv: readonly string[];
  done: Promise<ExitStatus>;
  /** the per-thread reading waitIdle() last took */
  threads: ThreadMap | null;
}

/** Starts argv in a guest, pinned to cpu. `ip netns exec` and taskset exec: pid is the tool's. */
export function start(lab: Lab, guest: number, cpu: number, argv: readonly string[]): Proc {
  const child = lab.spawn(guest, ['taskset', '-c', String(cpu), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const p: Proc = {
    child,
    pid: child.pid ?? 0,
    stdout: '',
    stderr: '',
    exited: false,
    argv,
    threads: null,
    done: new Promise<ExitStatus>((res) => {
      child.on('error', (e) => {
        p.stderr += `spawn error: ${e.message}\n`;
      });
      child.on('close', (code, signal) => {
        p.exited = true;
        children.delete(child);
        res({ code, signal });
      });
    }),
  };
  child.stdout?.on('data', (d: Buffer) => (p.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (p.stderr += d.toString()));
  return p;
}

export async function waitExit(p: Proc, ms: number): Promise<ExitStatus> {
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    return await p.done;
  } finally {
    clearTimeout(t);
  }
}

/** The receiver is ready: its socket is bound in the guest and its CPU time has settled. */
export async function waitReady(p: Proc, port: number): Promise<void> {
  const deadline = Date.now() + 15000;
  while (!boundUdp(p.pid, port)) {
    checkAbort();
    if (p.exited) throw new Error(`receiver exited before binding: ${p.argv.join(' ')}\n${p.stderr}${p.stdout}`);
    if (Date.now() > deadline) throw new Error(`receiver did not bind port ${port} in 15 s: ${p.argv.join(' ')}`);
    await sleep(20);
  }
  await waitIdle(p, 200, 5000);
}

/**
 * Waits until the process's CPU time grows by at most one tick over quietMs (it has drained its
 * socket and sits idle); returns that CPU time, or the last one read when it exited meanwhile.
 * p.threads keeps the per-thread reading that goes with it.
 */
export async function waitIdle(p: Proc, quietMs = 300, capMs = 15000): Promise<number | null> {
  const hist: Array<{ t: number; c: number }> = [];
  const t0 = Date.now();
  for (;;) {
    checkAbort();
    const th = threadsOf(p.pid);
    const c = cpuOf(p.pid);
    const now = Date.now();
    if (c === null || p.exited) return hist.length ? hist[hist.length - 1]!.c : null;
    p.threads = th;
    hist.push({ t: now, c });
    const old = hist.find((h) => h.t >= now - quietMs - 5);
    if (now - hist[0]!.t >= quietMs && old && now - old.t >= quietMs - 30 && c - old.c <= 1.01 / CLK_TCK) return c;
    if (now - t0 > capMs) return c;
    await sleep(50);
  }
}

/** CPU seconds of all kernel threads (ksoftirqd carries part of the packet path's softirq work) */
function kthreadsCpu(): number {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (f[1] === '2' || d === '2') sum += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      /* gone */
    }
  }
  return sum;
}

export interface MachineCpu {
  /** performance.now(), seconds */
  t: number;
  busy: number;
  steal: number;
  self: number;
  kthreads: number;
}

/** Busy and steal time of all CPUs (/proc/stat, USER_HZ), kernel threads, the runner's own CPU, and the clock. */
export function machineCpu(): MachineCpu {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // The aggregate `cpu` line has at least these 8 fields (steal since Linux 2.6.11).
  const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const u = process.cpuUsage();
  return { t: performance.now() / 1000, busy: (user + nice + system + irq + softirq) / CLK_TCK, steal: steal / CLK_TCK, self: (u.user + u.system) / 1e6, kthreads: kthreadsCpu() };
}

/**
 * What ran on the machine besides the measured processes, this runner and kernel threads, in
 * CPUs (1.0 = one CPU busy all the time): other users' work disturbs a run and shows up here.
 * Tick-sampled, so a few hundredths either way are noise.
 */
export function otherLoad(m0: MachineCpu, m1: MachineCpu, oursSeconds: number): OtherLoad {
  const wall = m1.t - m0.t;
  const kthreads = m1.kthreads - m0.kthreads;
  const other = m1.busy - m0.busy - (m1.self - m0.self) - kthreads - oursSeconds;
  return { wall_seconds: wall, other_cpus: other / wall, kernel_threads_cpus: kthreads / wall, steal_cpus: (m1.steal - m0.steal) / wall };
}

/** Before a run: wait (up to capSeconds) for a 0.5 s stretch where other work used < 0.1 CPU. */
async function waitQuiet(capSeconds: number): Promise<{ waited: number; other_cpus: number }> {
  const t0 = performance.now();
  let last: number;
  for (;;) {
    checkAbort();
    const a = machineCpu();
    await sleep(500);
    last = otherLoad(a, machineCpu(), 0).other_cpus;
    const waited = (performance.now() - t0) / 1000;
    if (last < 0.1 || waited > capSeconds) return { waited: Math.round(waited * 10) / 10, other_cpus: Math.round(last * 1000) / 1000 };
  }
}

export interface SenderSample {
  t: number;
  cpu: number;
  tx: number;
  threads: ThreadMap | null;
  /** the receiver's, read in the same tick: its CPU, its guest's eth0 rx counter, its threads */
  rxCpu: number | null;
  rx: number | null;
  rxThreads: ThreadMap | null;
}

/** Samples a sender's CPU and its guest's eth0 tx counter every 50 ms, and the receiver's with it. */
function sampleSender(p: Proc, r: Proc | null): { samples: SenderSample[]; stop: () => void } {
  const samples: SenderSample[] = [];
  const tick = () => {
    const c = cpuOf(p.pid);
    const d = devOf(p.pid);
    if (c !== null && d !== null) {
      const th = threadsOf(p.pid);
      const rth = r ? threadsOf(r.pid) : null;
      samples.push({
        t: performance.now() / 1000, cpu: c, tx: d.tx, threads: th.size > 1 ? th : null,
        rxCpu: r ? cpuOf(r.pid) : null, rx: r ? (devOf(r.pid)?.rx ?? null) : null, rxThreads: rth && rth.size > 1 ? rth : null,
      });
    }
  };
  const timer = setInterval(tick, 50);
  tick();
  return { samples, stop: () => clearInterval(timer) };
}

/**
 * The steady window of a run, as sample indices: from 0.5 s (or 20% of the run) after the first
 * packet to the last sample where the sender's interface was still sending. Startup and teardown
 * (node's own start, the FINs, writing the result) stay out; the same window for every tool.
 */
function steadyWindow(samples: readonly SenderSample[], seconds: number): [number, number] | null {
  if (samples.length < 3) return null;
  const base = samples[0]!.tx;
  const a0 = samples.findIndex((s) => s.tx - base > 0);
  if (a0 < 0) return null;
  const warm = Math.min(0.5, seconds * 0.2);
  const first = samples[a0]!;
  let a = samples.findIndex((s, i) => i >= a0 && s.t >= first.t + warm);
  let b = -1;
  for (let i = samples.length - 1; i > 0; i--) {
    if (samples[i]!.tx > samples[i - 1]!.tx + 10) {
      b = i;
      break;
    }
  }
  if (a < 0 || b <= a) a = a0;
  return b > a ? [a, b] : null;
}

/** CPU per packet of a sender over the steady window (packets: its interface's tx counter). */
export function senderWindow(samples: readonly SenderSample[], seconds: number, pid: number): CpuWindow | null {
  const w = steadyWindow(samples, seconds);
  if (!w) return null;
  const sa = samples[w[0]]!;
  const sb = samples[w[1]]!;
  const pk = sb.tx - sa.tx;
  const cpu = sb.cpu - sa.cpu;
  return {
    seconds: sb.t - sa.t, packets: pk, cpu_seconds: cpu, cpu_per_packet_us: pk > 0 ? (cpu / pk) * 1e6 : null,
    threads: sb.threads ? threadDelta(pid, sa.threads, sb.threads) : null,
  };
}

/**
 * CPU per packet of the receiver over the sender's steady window. Packets: its guest's eth0 rx
 * counter times the share of the sent datagrams the receiver got (`delivered`: a lossy receiver
 * read fewer than arrived), or `pps` x the window when given (GSO: the counter counts one per
 * GSO skb; `pps` is the receiver's own rate). A C
 * receiver's whole-run figure is its window figure; a node receiver's run also holds its start,
 * its result's computation and its exit, which are per run, not per packet.
 */
export function receiverWindow(samples: readonly SenderSample[], seconds: number, pid: number, pps: number | null = null, delivered = 1): CpuWindow | null {
  const w = steadyWindow(samples, seconds);
  if (!w) return null;
  const sa = samples[w[0]]!;
  const sb = samples[w[1]]!;
  if (sa.rxCpu === null || sb.rxCpu === null || sa.rx === null || sb.rx === null) return null;
  // the interface counts what the socket then dropped too: only the share it delivered is read
  const pk = pps !== null ? Math.round(pps * (sb.t - sa.t)) : Math.round((sb.rx - sa.rx) * Math.min(1, delivered));
  const cpu = sb.rxCpu - sa.rxCpu;
  return {
    seconds: sb.t - sa.t, packets: pk, cpu_seconds: cpu, cpu_per_packet_us: pk > 0 ? (cpu / pk) * 1e6 : null,
    threads: sb.rxThreads ? threadDelta(pid, sa.rxThreads, sb.rxThreads) : null,
  };
}

// ---- one measurement --------------------------------------------------------------------------

/** what every measurement needs: the lab, its two guests and CPUs, the run's length */
export interface BenchCtx {
  lab: Lab;
  /** scratch folder for the tools' JSON and stamp files */
  tmp: string;
  seconds: number;
  memSeconds: number;
  /** each run gets a port of its own */
  nextPort: number;
  cpuTx: number;
  cpuRx: number;
  /** longest wait for a quiet machine before a run, seconds */
  quietCap: number;
  txGuest: number;
  rxGuest: number;
  txAddr: string;
  rxAddr: string;
}

export interface PairResult {
  rx: Proc;
  tx: Proc;
  txExit: ExitStatus;
  rxExit: ExitStatus;
  /** the receiver's CPU seconds from ready to idle after the sender ended */
  rcpu: number | null;
  rthreads: ThreadCpu[] | null;
  samples: SenderSample[];
  load: RunLoad;
}

/** A receiver, ready, then a sender to its end; the receiver's CPU until it is idle again. */
export async function runPair(ctx: BenchCtx, { recvArgv, sendArgv, selfExit, port }: { recvArgv: readonly string[]; sendArgv: readonly string[]; selfExit: boolean; port: number }): Promise<PairResult> {
  const quiet = await waitQuiet(ctx.quietCap);
  const rx = start(ctx.lab, ctx.rxGuest, ctx.cpuRx, recvArgv);
  let tx: Proc | null = null;
  let sampler: ReturnType<typeof sampleSender> | null = null;
  try {
    await waitReady(rx, port);
    const rth0 = threadsOf(rx.pid);
    const rcpu0 = cpuOf(rx.pid);
    const m0 = machineCpu();
    const txp = start(ctx.lab, ctx.txGuest, ctx.cpuTx, sendArgv);
    tx = txp;
    const smp = sampleSender(txp, rx);
    sampler = smp;
    const txExit = await waitExit(txp, (ctx.seconds + 30) * 1000);
    smp.stop();
    const rcpu1 = await waitIdle(rx);
    const m1 = machineCpu();
    if (!selfExit && !rx.exited) rx.child.kill('SIGINT');
    const rxExit = await waitExit(rx, selfExit ? 10000 : 5000);
    const rthreads = rth0.size > 1 ? threadDelta(rx.pid, rth0, rx.threads) : null;
    const rcpu = rcpu0 !== null && rcpu1 !== null ? rcpu1 - rcpu0 : null;
    const scpu = smp.samples.length ? smp.samples[smp.samples.length - 1]!.cpu : 0;
    const other = otherLoad(m0, m1, (rcpu ?? 0) + scpu);
    return { rx, tx: txp, txExit, rxExit, rcpu, rthreads, samples: smp.samples, load: { ...other, waited_for_quiet_seconds: quiet.waited, quiet_before: quiet.other_cpus } };
  } finally {
    sampler?.stop();
    for (const p of [tx, rx]) if (p && !p.exited) p.child.kill('SIGKILL');
  }
}

export interface GroupResult {
  rxs: Proc[];
  tx: Proc;
  txExit: ExitStatus;
  /** each receiver's CPU seconds from ready to idle after the sender ended (null: unreadable) */
  rcpu: Array<number | null>;
  load: RunLoad;
}

/**
 * Several receivers (each with its own port list entry: the port it binds, for waitReady), all
 * ready, then one sender to its end; each receiver's CPU until it is idle again. The receivers
 * share the receive guest and its CPU. Receivers that do not end by themselves get SIGINT.
 */
export async function runGroup(ctx: BenchCtx, { recvArgvs, sendArgv, selfExit, port, senderTimeoutSeconds }: { recvArgvs: ReadonlyArray<readonly string[]>; sendArgv: readonly string[]; selfExit: boolean; port: number; senderTimeoutSeconds: number }): Promise<GroupResult> {
  const quiet = await waitQuiet(ctx.quietCap);
  const rxs: Proc[] = [];
  let tx: Proc | null = null;
  try {
    for (const argv of recvArgvs) rxs.push(start(ctx.lab, ctx.rxGuest, ctx.cpuRx, argv));
    for (const rx of rxs) await waitReady(rx, port);
    const cpu0 = rxs.map((rx) => cpuOf(rx.pid));
    const m0 = machineCpu();
    const txp = start(ctx.lab, ctx.txGuest, ctx.cpuTx, sendArgv);
    tx = txp;
    const txExit = await waitExit(txp, (senderTimeoutSeconds + 30) * 1000);
    const scpu = cpuOf(txp.pid) ?? 0;
    const cpu1: Array<number | null> = [];
    for (const rx of rxs) cpu1.push(await waitIdle(rx));
    const m1 = machineCpu();
    for (const rx of rxs) if (!selfExit && !rx.exited) rx.child.kill('SIGINT');
    for (const rx of rxs) await waitExit(rx, selfExit ? 10000 : 5000);
    const rcpu = rxs.map((_, i) => (cpu0[i] != null && cpu1[i] != null ? cpu1[i] - cpu0[i] : null));
    const other = otherLoad(m0, m1, rcpu.reduce<number>((a, c) => a + (c ?? 0), 0) + scpu);
    return { rxs, tx: txp, txExit, rcpu, load: { ...other, waited_for_quiet_seconds: quiet.waited, quiet_before: quiet.other_cpus } };
  } finally {
    for (const p of [tx, ...rxs]) if (p && !p.exited) p.child.kill('SIGKILL');
  }
}

/** Runs argv n times (after one warm-up) on the host: wall-clock milliseconds. */
export function timeIt(argv: readonly [string, ...string[]], n: number): Timing {
  const ms: number[] = [];
  spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' }); // warm the page cache
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  }
  return { runs_ms: ms, median_ms: median(ms), min_ms: minOf(ms), max_ms: maxOf(ms) };
}

// ---- setup ------------------------------------------------------------------------------------

/** cc -O2 bench/reference.c to bench/build/reference, when missing or older than its source */
export function buildReference(): void {
  mkdirSync(dirname(REF_BIN), { recursive: true });
  if (existsSync(REF_BIN) && statSync(REF_BIN).mtimeMs >= statSync(REF_SRC).mtimeMs) return;
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', REF_BIN, REF_SRC], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -O2 bench/reference.c failed:\n${r.stderr}`);
}

export const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The peers come from Debian packages (iperf is iperf2); installed when missing, except in --smoke. */
export function ensurePeers(want: Set<Section>, mode: Mode, skipped: Skip[]): void {
  const missing = (['iperf', 'sockperf'] as const).filter((t) => (want.has(t) || (t === 'sockperf' && want.has('ndr'))) && !has(t));
  if (!missing.length) return;
  if (mode !== 'smoke' && has('apt-get')) {
    log(`bench: installing ${missing.join(' ')} (apt-get)`);
    let r = spawnSync('apt-get', ['install', '-y', ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
      r = spawnSync('apt-get', ['install', '-y', ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
  }
  for (const t of missing) {
    if (!has(t)) {
      want.delete(t);
      skipped.push({ tool: t, reason: `${t} is not installed${mode === 'smoke' ? ' (--smoke does not install)' : ' and apt-get could not install it'}` });
      log(`bench: skipping ${t}: not installed`);
    }
  }
}

/** the named network namespaces (ip netns) on the machine */
export function otherNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function machine(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const ver = (argv: readonly [string, ...string[]]): string | null => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    return r.error ? null : (r.stdout + r.stderr).trim().split('\n')[0]!;
  };
  return {
    nproc: cpus().length,
    cpu_model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? null,
    hypervisor: /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo),
    kernel: release(),
    node: process.version,
    cc: ver(['cc', '--version']),
    iperf: has('iperf') ? ver(['iperf', '-v']) : null,
    sockperf: has('sockperf') ? ver(['sockperf', '--version']) : null,
    bridge_nf_call_iptables: existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') ? readFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').trim() : null,
  };
}

/** write to FILE.PID.tmp, then rename: a reader never sees half a result */
export function writeAtomic(file: string, data: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
