#!/usr/bin/env node
// npm run bench: mcbench side by side with a C reference loop (bench/reference.c), iperf2 and
// sockperf, on an ephemeral lab (2 guests on a bridge, snooping off), sender pinned to CPU0 and
// receiver to CPU1. Ratios are to the reference measured in the same run. See BENCHMARKS.md.
//
//   node bench/run.js [--quick | --smoke] [--only ref,mcbench,...] [--out FILE] [--reps N] [--seconds S]
//
// Every packet stays inside the lab's namespaces. Everything made is removed on every exit path:
// the lab by withLab, child processes by pid, net.core.rmem_max restored (finally, signals, exit).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MCBENCH = join(ROOT, 'bin/mcbench.js');
const REF_SRC = join(ROOT, 'bench/reference.c');
const REF_BIN = join(ROOT, 'bench/build/reference');
const RCVBUF = 26214400; // 25 MiB, for every receiver
const GROUP = '239.255.77.1';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// ---- options ---------------------------------------------------------------------------------

const SECTIONS = ['ref', 'ref1', 'refc', 'mcbench', 'nolat', 'iperf', 'sockperf', 'paced', 'memory', 'help'];
const USAGE = `usage: node bench/run.js [--quick | --smoke] [--only LIST] [--out FILE] [--reps N] [--seconds S] [--mem-seconds S] [--lab-name NAME]
  --quick    2 s per run, 2 repetitions, 10 s memory run
  --smoke    1 s per run, 64 B only, 1 repetition, no memory run (CI: proves the harness runs)
  --only     comma list of ${SECTIONS.join(',')} (ref is always run when a throughput tool is)
  --out      result JSON (default bench/results/latest.json; --smoke: bench/results/smoke.json)`;

function parseArgs(argv) {
  const o = { mode: 'full', only: null, out: null, reps: null, seconds: null, memSeconds: null, labName: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
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
  for (const s of o.only ?? []) if (!SECTIONS.includes(s)) usage(`--only: '${s}' is not one of ${SECTIONS.join(',')}`);
  if (o.reps !== null && !(Number.isInteger(o.reps) && o.reps >= 1 && o.reps <= 50)) usage('--reps: 1-50');
  if (o.seconds !== null && !(o.seconds >= 0.5 && o.seconds <= 600)) usage('--seconds: 0.5-600');
  if (o.memSeconds !== null && !(o.memSeconds >= 5 && o.memSeconds <= 3600)) usage('--mem-seconds: 5-3600');
  const preset = { full: { seconds: 5, reps: 3, sizes: [64, 1400], memSeconds: 30 }, quick: { seconds: 2, reps: 2, sizes: [64, 1400], memSeconds: 10 }, smoke: { seconds: 1, reps: 1, sizes: [64], memSeconds: 0 } }[o.mode];
  const want = new Set(o.only ?? SECTIONS);
  if (o.mode === 'smoke') want.delete('memory');
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

function usage(msg) {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n, d = 0) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));

// ---- cleanup on every exit path ---------------------------------------------------------------

const children = new Set();
const restores = []; // synchronous undo actions, run once
function cleanupSync() {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  children.clear();
  while (restores.length) {
    try {
      restores.pop()();
    } catch (e) {
      process.stderr.write(`bench: restore failed: ${e.message}\n`);
    }
  }
}
let labActive = false;
const abort = new AbortController();
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`bench: ${sig}: stopping, killing children, restoring sysctls${labActive ? ', removing the lab' : ''}`);
    cleanupSync();
    abort.abort(sig);
    // With a lab up, withLab's own handler removes it and then exits the process.
    if (!labActive) process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[sig]);
  });
}


// ---- processes and /proc ----------------------------------------------------------------------

const hostNetns = readlinkSync('/proc/self/ns/net');
const inGuest = (pid) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) !== hostNetns;
  } catch {
    return false;
  }
};

/** utime + stime of the whole process (all threads, dead ones too), seconds; null when gone */
function cpuOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** eth0's packet counters in the pid's network namespace (only once it is in a guest) */
function devOf(pid) {
  if (!inGuest(pid)) return null;
  try {
    const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find((l) => l.trim().startsWith('eth0:'));
    const f = line.split(':')[1].trim().split(/\s+/).map(Number);
    return { rx: f[1], tx: f[9] };
  } catch {
    return null;
  }
}

/** CPU seconds of each thread (tid, name); the main thread's tid is the pid */
function threadsOf(pid) {
  const out = new Map();
  let tids = [];
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
function threadDelta(pid, before, after) {
  if (!before || !after) return null;
  const rows = [];
  for (const [tid, a] of after) {
    const d = a.cpu - (before.get(tid)?.cpu ?? 0);
    if (d > 0) rows.push({ tid: Number(tid), thread: Number(tid) === pid ? `${a.comm} (main)` : a.comm, cpu_seconds: Math.round(d * 100) / 100 });
  }
  return rows.sort((x, y) => y.cpu_seconds - x.cpu_seconds);
}

function rssOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function boundUdp(pid, port) {
  if (!inGuest(pid)) return false;
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
    return readFileSync(`/proc/${pid}/net/udp`, 'utf8').includes(hex);
  } catch {
    return false;
  }
}

/** Starts argv in a guest, pinned to cpu. `ip netns exec` and taskset exec: pid is the tool's. */
function start(lab, guest, cpu, argv) {
  const child = lab.spawn(guest, ['taskset', '-c', String(cpu), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const p = { child, pid: child.pid, stdout: '', stderr: '', exited: false, argv };
  child.stdout.on('data', (d) => (p.stdout += d));
  child.stderr.on('data', (d) => (p.stderr += d));
  p.done = new Promise((res) => {
    child.on('error', (e) => {
      p.stderr += `spawn error: ${e.message}\n`;
    });
    child.on('close', (code, signal) => {
      p.exited = true;
      children.delete(child);
      res({ code, signal });
    });
  });
  return p;
}

async function waitExit(p, ms) {
  const t = setTimeout(() => p.child.kill('SIGKILL'), ms);
  try {
    return await p.done;
  } finally {
    clearTimeout(t);
  }
}

function checkAbort() {
  if (abort.signal.aborted) throw new Error(`interrupted (${abort.signal.reason})`);
}

/** The receiver is ready: its socket is bound in the guest and its CPU time has settled. */
async function waitReady(p, port) {
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
async function waitIdle(p, quietMs = 300, capMs = 15000) {
  const hist = [];
  const t0 = Date.now();
  for (;;) {
    checkAbort();
    const th = threadsOf(p.pid);
    const c = cpuOf(p.pid);
    const now = Date.now();
    if (c === null || p.exited) return hist.length ? hist[hist.length - 1].c : null;
    p.threads = th;
    hist.push({ t: now, c });
    const old = hist.find((h) => h.t >= now - quietMs - 5);
    if (now - hist[0].t >= quietMs && old && now - old.t >= quietMs - 30 && c - old.c <= 1.01 / CLK_TCK) return c;
    if (now - t0 > capMs) return c;
    await sleep(50);
  }
}

/** CPU seconds of all kernel threads (ksoftirqd carries part of the packet path's softirq work) */
function kthreadsCpu() {
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

/** Busy and steal time of all CPUs (/proc/stat, USER_HZ), kernel threads, the runner's own CPU, and the clock. */
function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  const u = process.cpuUsage();
  return { t: performance.now() / 1000, busy: (user + nice + system + irq + softirq) / CLK_TCK, steal: steal / CLK_TCK, self: (u.user + u.system) / 1e6, kthreads: kthreadsCpu() };
}

/**
 * What ran on the machine besides the measured processes, this runner and kernel threads, in
 * CPUs (1.0 = one CPU busy all the time): other users' work disturbs a run and shows up here.
 * Tick-sampled, so a few hundredths either way are noise.
 */
function otherLoad(m0, m1, oursSeconds) {
  const wall = m1.t - m0.t;
  const kthreads = m1.kthreads - m0.kthreads;
  const other = m1.busy - m0.busy - (m1.self - m0.self) - kthreads - oursSeconds;
  return { wall_seconds: wall, other_cpus: other / wall, kernel_threads_cpus: kthreads / wall, steal_cpus: (m1.steal - m0.steal) / wall };
}

/** Before a run: wait (up to capSeconds) for a 0.5 s stretch where other work used < 0.1 CPU. */
async function waitQuiet(capSeconds) {
  const t0 = performance.now();
  let last = null;
  for (;;) {
    checkAbort();
    const a = machineCpu();
    await sleep(500);
    last = otherLoad(a, machineCpu(), 0).other_cpus;
    const waited = (performance.now() - t0) / 1000;
    if (last < 0.1 || waited > capSeconds) return { waited: Math.round(waited * 10) / 10, other_cpus: Math.round(last * 1000) / 1000 };
  }
}

/** Samples a sender's CPU and its guest's eth0 tx counter every 50 ms. */
function sampleSender(p) {
  const samples = [];
  const tick = () => {
    const c = cpuOf(p.pid);
    const d = devOf(p.pid);
    if (c !== null && d !== null) {
      const th = threadsOf(p.pid);
      samples.push({ t: performance.now() / 1000, cpu: c, tx: d.tx, threads: th.size > 1 ? th : null });
    }
  };
  const timer = setInterval(tick, 50);
  tick();
  return { samples, stop: () => clearInterval(timer) };
}

/**
 * CPU per packet of a sender over its steady window: from 0.5 s (or 20% of the run) after the
 * first packet to the last sample where its interface was still sending. Startup and teardown
 * (node's own start, the FINs) stay out; the same window for every tool.
 */
function senderWindow(samples, seconds, pid) {
  if (samples.length < 3) return null;
  const base = samples[0].tx;
  const a0 = samples.findIndex((s) => s.tx - base > 0);
  if (a0 < 0) return null;
  const warm = Math.min(0.5, seconds * 0.2);
  let a = samples.findIndex((s, i) => i >= a0 && s.t >= samples[a0].t + warm);
  let b = -1;
  for (let i = samples.length - 1; i > 0; i--) {
    if (samples[i].tx > samples[i - 1].tx + 10) {
      b = i;
      break;
    }
  }
  if (a < 0 || b <= a) a = a0;
  if (b <= a) return null;
  const pk = samples[b].tx - samples[a].tx;
  const cpu = samples[b].cpu - samples[a].cpu;
  return {
    seconds: samples[b].t - samples[a].t, packets: pk, cpu_seconds: cpu, cpu_per_packet_us: pk > 0 ? (cpu / pk) * 1e6 : null,
    threads: samples[b].threads ? threadDelta(pid, samples[a].threads, samples[b].threads) : null,
  };
}

// ---- the tools --------------------------------------------------------------------------------

const num = (re, s) => {
  const m = re.exec(s);
  return m ? Number(m[1].replaceAll(',', '')) : null;
};
const lastJson = (s) => JSON.parse(s.trim().split('\n').filter((l) => l.startsWith('{')).pop());

/** Each tool: the receiver and sender command lines and how to read their own figures. */
const TOOLS = {
  ref: {
    label: 'C reference (sendmmsg/recvmmsg x32)',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'mmsg', String(RCVBUF)],
    send: (c) => [REF_BIN, 'send', GROUP, String(c.port), c.txAddr, String(c.len), String(c.seconds), 'mmsg'],
    selfExit: true,
    parseSend: (p) => {
      const j = lastJson(p.stdout);
      return { packets: j.packets, seconds: j.seconds, pps: j.pps, own_cpu_seconds: j.cpu_seconds };
    },
    parseRecv: (p) => {
      const j = lastJson(p.stdout);
      return { packets: j.packets, seconds: j.seconds, pps: j.pps, own_cpu_seconds_traffic: j.cpu_seconds_traffic, duplicates: j.duplicates };
    },
  },
  ref1: {
    label: 'C, one syscall per packet (sendto/recv)',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'single', String(RCVBUF)],
    send: (c) => [REF_BIN, 'send', GROUP, String(c.port), c.txAddr, String(c.len), String(c.seconds), 'single'],
    selfExit: true,
    parseSend: (p) => TOOLS.ref.parseSend(p),
    parseRecv: (p) => TOOLS.ref.parseRecv(p),
  },
  refc: {
    label: 'C ref recv + SO_TIMESTAMPNS/RXQ_OVFL',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'cmsg', String(RCVBUF)],
    send: (c) => TOOLS.ref.send(c),
    selfExit: true,
    parseSend: (p) => TOOLS.ref.parseSend(p),
    parseRecv: (p) => TOOLS.ref.parseRecv(p),
  },
  mcbench: {
    label: 'mcbench (latency on)',
    recv: (c) => ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(c.port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(c.seconds + 30), '-q', '--json', c.recvJson],
    send: (c) => ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(c.port), '-I', 'eth0', '-b', '0', '-l', String(c.len), '-t', String(c.seconds), '-q', '--json', c.sendJson],
    selfExit: true,
    parseSend: (p, c) => {
      const e = JSON.parse(readFileSync(c.sendJson, 'utf8')).end;
      return { packets: e.packets, seconds: e.seconds, pps: e.packets_per_second, send_calls: e.send_calls, enobufs: e.enobufs };
    },
    parseRecv: (p, c) => {
      const e = JSON.parse(readFileSync(c.recvJson, 'utf8')).end;
      return {
        packets: e.sum.packets, seconds: e.sum.seconds, pps: e.sum.packets_per_second, lost: e.sum.lost_packets,
        socket_overflow_drops: e.socket_overflow_drops, recv_calls: e.recv_calls, recv_full_batches: e.recv_full_batches, end_reason: e.end_reason,
      };
    },
  },
  nolat: {
    label: 'mcbench recv --no-latency',
    recv: (c) => [...TOOLS.mcbench.recv(c), '--no-latency'],
    send: (c) => TOOLS.mcbench.send(c),
    selfExit: true,
    parseSend: (p, c) => TOOLS.mcbench.parseSend(p, c),
    parseRecv: (p, c) => TOOLS.mcbench.parseRecv(p, c),
  },
  iperf: {
    label: 'iperf2 (write/recvmsg per datagram)',
    needs: 'iperf',
    recv: (c) => ['iperf', '-s', '-u', '-B', GROUP, '-p', String(c.port), '-i', '1', '-w', '25M'],
    send: (c) => ['iperf', '-c', GROUP, '-p', String(c.port), '-u', '-b', '100g', '-l', String(c.len), '-t', String(c.seconds), '-T', '1'],
    selfExit: false,
    parseSend: (p) => {
      const packets = num(/Sent (\d+) datagrams/, p.stdout);
      const seconds = lastSummarySeconds(p.stdout);
      return { packets, seconds, pps: packets !== null && seconds ? packets / seconds : null };
    },
    parseRecv: (p) => {
      // the run's summary: the last "0.0000-T sec ... lost/total (x%)" line
      const rows = [...p.stdout.matchAll(/\s0\.0+-\s*([\d.]+) sec.*?\s(\d+)\/\s*(\d+)\s+\(/g)];
      const m = rows.pop();
      if (!m) return { packets: null, seconds: null, pps: null };
      const seconds = Number(m[1]);
      const lost = Number(m[2]);
      const total = Number(m[3]);
      return { packets: total - lost, seconds, pps: (total - lost) / seconds, lost };
    },
  },
  sockperf: {
    label: 'sockperf (sendto/recvfrom per message)',
    needs: 'sockperf',
    recv: (c) => ['sockperf', 'server', '-i', GROUP, '-p', String(c.port), '--mc-rx-if', c.rxAddr, '--buffer-size', String(RCVBUF)],
    send: (c) => ['sockperf', 'throughput', '-i', GROUP, '-p', String(c.port), '--mc-tx-if', c.txAddr, '--mc-ttl', '1', '-m', String(c.len), '-t', String(c.seconds)],
    selfExit: false,
    parseSend: (p) => {
      const m = /Total of (\d+) messages sent in ([\d.]+) sec/.exec(p.stdout + p.stderr);
      return m ? { packets: Number(m[1]), seconds: Number(m[2]), pps: Number(m[1]) / Number(m[2]) } : { packets: null, seconds: null, pps: null };
    },
    parseRecv: (p, c, sent) => {
      // sockperf server reports only a count: its rate is taken over the sender's time
      const packets = num(/Total (\d+) messages received/, p.stdout + p.stderr);
      return { packets, seconds: sent?.seconds ?? null, pps: packets !== null && sent?.seconds ? packets / sent.seconds : null };
    },
  },
};

function lastSummarySeconds(s) {
  const rows = [...s.matchAll(/\s0\.0+-\s*([\d.]+) sec/g)];
  return rows.length ? Number(rows.pop()[1]) : null;
}

// ---- one measurement --------------------------------------------------------------------------

async function runPair(ctx, { recvArgv, sendArgv, selfExit, port }) {
  const quiet = await waitQuiet(ctx.quietCap);
  const rx = start(ctx.lab, ctx.rxGuest, ctx.cpuRx, recvArgv);
  let tx = null;
  let sampler = null;
  try {
    await waitReady(rx, port);
    const rth0 = threadsOf(rx.pid);
    const rcpu0 = cpuOf(rx.pid);
    const m0 = machineCpu();
    tx = start(ctx.lab, ctx.txGuest, ctx.cpuTx, sendArgv);
    sampler = sampleSender(tx);
    const txExit = await waitExit(tx, (ctx.seconds + 30) * 1000);
    sampler.stop();
    const rcpu1 = await waitIdle(rx);
    const m1 = machineCpu();
    if (!selfExit && !rx.exited) rx.child.kill('SIGINT');
    const rxExit = await waitExit(rx, selfExit ? 10000 : 5000);
    const rthreads = rth0.size > 1 ? threadDelta(rx.pid, rth0, rx.threads) : null;
    const rcpu = rcpu0 !== null && rcpu1 !== null ? rcpu1 - rcpu0 : null;
    const scpu = sampler.samples.length ? sampler.samples[sampler.samples.length - 1].cpu : 0;
    const other = otherLoad(m0, m1, (rcpu ?? 0) + scpu);
    return { rx, tx, txExit, rxExit, rcpu, rthreads, samples: sampler.samples, load: { ...other, waited_for_quiet_seconds: quiet.waited, quiet_before: quiet.other_cpus } };
  } finally {
    sampler?.stop();
    for (const p of [tx, rx]) if (p && !p.exited) p.child.kill('SIGKILL');
  }
}

async function runCell(ctx, tool, len, rep) {
  const t = TOOLS[tool];
  const port = ctx.nextPort++;
  const c = { port, len, seconds: ctx.seconds, rxAddr: ctx.rxAddr, txAddr: ctx.txAddr, sendJson: join(ctx.tmp, `s-${port}.json`), recvJson: join(ctx.tmp, `r-${port}.json`) };
  const r = await runPair(ctx, { recvArgv: t.recv(c), sendArgv: t.send(c), selfExit: t.selfExit, port });
  const row = { tool, length: len, rep, port, ok: false, sender: null, receiver: null, load: r.load, error: null };
  try {
    if (r.txExit.code !== 0) throw new Error(`sender exited ${r.txExit.code ?? r.txExit.signal}: ${r.tx.stderr.slice(-400)}`);
    const s = t.parseSend(r.tx, c);
    const win = senderWindow(r.samples, ctx.seconds, r.tx.pid);
    row.sender = { ...s, cpu_window: win, cpu_per_packet_us: win?.cpu_per_packet_us ?? null };
    const rv = t.parseRecv(r.rx, c, s);
    const lost = rv.lost ?? (s.packets !== null && rv.packets !== null ? Math.max(0, s.packets - rv.packets) : null);
    row.receiver = {
      ...rv,
      lost,
      loss_percent: lost !== null && s.packets ? (100 * lost) / s.packets : null,
      cpu_seconds: r.rcpu,
      cpu_per_packet_us: r.rcpu !== null && rv.packets ? (r.rcpu / rv.packets) * 1e6 : null,
      threads: r.rthreads,
    };
    if (!(s.pps > 0) || !(rv.pps > 0)) throw new Error(`no packets measured (sender ${s.pps}, receiver ${rv.pps}); receiver said: ${(r.rx.stderr + r.rx.stdout).slice(-400)}`);
    row.ok = true;
  } catch (e) {
    row.error = e.message;
  }
  return row;
}

// ---- statistics -------------------------------------------------------------------------------

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
const minOf = (xs) => (xs.filter(Number.isFinite).length ? Math.min(...xs.filter(Number.isFinite)) : null);
const maxOf = (xs) => (xs.filter(Number.isFinite).length ? Math.max(...xs.filter(Number.isFinite)) : null);
const ratio = (a, b) => (a !== null && b ? a / b : null);
/** a run during which other work took more than 0.15 CPU, or the hypervisor stole more than 5% */
const disturbed = (r) => (r.load?.other_cpus ?? 0) > 0.15 || (r.load?.steal_cpus ?? 0) > 0.05;

function summarize(rows, tools, sizes) {
  const out = {};
  for (const len of sizes) {
    out[len] = {};
    for (const tool of tools) {
      const rs = rows.filter((r) => r.tool === tool && r.length === len && r.ok);
      if (!rs.length) continue;
      const g = (f) => rs.map(f);
      out[len][tool] = {
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
        other_load_cpus_max: maxOf(g((r) => r.load?.other_cpus)),
        disturbed_runs: rs.filter(disturbed).length,
      };
    }
    const ref = out[len].ref;
    for (const s of Object.values(out[len])) {
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

// ---- paced sending ----------------------------------------------------------------------------

/**
 * Gaps between arrivals at a C listener, from its kernel receive stamps (SO_TIMESTAMPNS): no
 * capture. Arrivals closer than half the nominal packet period belong to one sendmmsg batch;
 * the inter-batch gap runs from one batch's first arrival to the next's.
 */
function gapStats(file, pps) {
  const b = readFileSync(file);
  const n = Math.floor(b.length / 8);
  if (n < 3) return null;
  const t0 = b.readBigUInt64LE(0);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = Number(b.readBigUInt64LE(i * 8) - t0);
  const period = 1e9 / pps;
  const starts = [0];
  for (let i = 1; i < n; i++) if (t[i] - t[i - 1] > period / 2) starts.push(t[i]);
  const gaps = [];
  for (let i = 1; i < starts.length; i++) gaps.push(starts[i] - starts[i - 1]);
  const st = (xs) => {
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    const s = [...xs].sort((a, b2) => a - b2);
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { mean_us: mean / 1e3, cv: sd / mean, p50_us: q(0.5) / 1e3, p99_us: q(0.99) / 1e3, p999_us: q(0.999) / 1e3, max_us: s[s.length - 1] / 1e3 };
  };
  // Packets per 1 ms bin (whole bins only): how even the rate is at a 1 ms scale.
  const bins = new Array(Math.floor(t[n - 1] / 1e6)).fill(0);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(t[i] / 1e6);
    if (k < bins.length) bins[k]++;
  }
  const binMean = bins.reduce((a, x) => a + x, 0) / (bins.length || 1);
  const binSd = Math.sqrt(bins.reduce((a, x) => a + (x - binMean) ** 2, 0) / (bins.length || 1));
  return {
    arrivals: n,
    batches: starts.length,
    mean_batch_size: n / starts.length,
    inter_batch_gap: gaps.length ? st(gaps) : null,
    per_ms_count_cv: bins.length ? binSd / binMean : null,
    arrival_span_seconds: t[n - 1] / 1e9,
  };
}

async function runPaced(ctx, cfg, rep) {
  const port = ctx.nextPort++;
  const sendJson = join(ctx.tmp, `ps-${port}.json`);
  const stamps = join(ctx.tmp, `st-${port}.bin`);
  const rate = cfg.bps ? ['-b', String(cfg.bps)] : ['--pps', String(Math.round(cfg.pps))];
  const r = await runPair(ctx, {
    recvArgv: [REF_BIN, 'recv', GROUP, String(port), ctx.rxAddr, String(ctx.seconds + 30), 'mmsg', String(RCVBUF), stamps],
    sendArgv: ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', ...rate, '-l', String(cfg.len), '-t', String(ctx.seconds), '-q', '--json', sendJson],
    selfExit: true,
    port,
  });
  const row = { config: cfg.id, length: cfg.len, rep, ok: false, load: r.load, error: null };
  try {
    if (r.txExit.code !== 0) throw new Error(`sender exited ${r.txExit.code}: ${r.tx.stderr.slice(-300)}`);
    const res = JSON.parse(readFileSync(sendJson, 'utf8'));
    const e = res.end;
    const targetPps = res.start.config.target_packets_per_second;
    const rcv = lastJson(r.rx.stdout);
    row.target_pps = targetPps;
    row.target_bits_per_second = res.start.config.target_bits_per_second;
    row.sender = { packets: e.packets, seconds: e.seconds, pps: e.packets_per_second, rate_ratio: e.rate_ratio, send_calls: e.send_calls, late_mean_ms: e.late_mean_ms, late_max_ms: e.late_max_ms };
    row.receiver = { packets: rcv.packets, seconds: rcv.seconds, pps: rcv.pps, rate_ratio: rcv.pps / targetPps, lost: Math.max(0, e.packets - rcv.packets) };
    row.gaps = gapStats(stamps, targetPps);
    row.ok = true;
  } catch (err) {
    row.error = err.message;
  }
  rmSync(stamps, { force: true });
  return row;
}

// ---- memory and start-up ----------------------------------------------------------------------

async function runMemory(ctx) {
  const port = ctx.nextPort++;
  const secs = ctx.memSeconds;
  const recvJson = join(ctx.tmp, `mr-${port}.json`);
  const rx = start(ctx.lab, ctx.rxGuest, ctx.cpuRx, ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(secs + 30), '-q', '--json', recvJson]);
  let tx = null;
  const samples = [];
  try {
    await waitReady(rx, port);
    const t0 = performance.now();
    tx = start(ctx.lab, ctx.txGuest, ctx.cpuTx, ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', '-b', '0', '-l', '64', '-t', String(secs), '-q']);
    const sample = () => {
      const m = rssOf(rx.pid);
      if (m && !tx.exited) samples.push({ t: (performance.now() - t0) / 1000, rss_mb: m.rss, hwm_mb: m.hwm });
    };
    sample();
    const timer = setInterval(sample, 1000);
    await waitExit(tx, (secs + 30) * 1000);
    clearInterval(timer);
    await waitExit(rx, 15000);
  } finally {
    for (const p of [tx, rx]) if (p && !p.exited) p.child.kill('SIGKILL');
  }
  let received = null;
  try {
    received = JSON.parse(readFileSync(recvJson, 'utf8')).end.sum;
  } catch {
    /* reported as null */
  }
  // Least-squares slope over the steady part (from 5 s on, or the second half of a short run).
  const from = Math.min(5, secs / 2);
  const w = samples.filter((s) => s.t >= from);
  let slope = null;
  if (w.length >= 3) {
    const mt = w.reduce((a, s) => a + s.t, 0) / w.length;
    const mr = w.reduce((a, s) => a + s.rss_mb, 0) / w.length;
    slope = w.reduce((a, s) => a + (s.t - mt) * (s.rss_mb - mr), 0) / w.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  }
  const growth = slope !== null && w.length ? slope * (w[w.length - 1].t - w[0].t) : null;
  return {
    seconds: secs,
    length: 64,
    samples,
    max_rss_mb: maxOf(samples.map((s) => s.rss_mb)),
    max_hwm_mb: maxOf(samples.map((s) => s.hwm_mb)),
    slope_mb_per_min: slope !== null ? slope * 60 : null,
    fitted_growth_mb: growth,
    window_from_seconds: from,
    // no growth: the fitted trend adds less than 2 MB over the window (a GC may drop RSS at any time)
    flat: growth !== null ? growth < 2 : null,
    received: received ? { packets: received.packets, pps: received.packets_per_second, lost_packets: received.lost_packets } : null,
  };
}

function timeIt(argv, n) {
  const ms = [];
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

function buildReference() {
  mkdirSync(dirname(REF_BIN), { recursive: true });
  if (existsSync(REF_BIN) && statSync(REF_BIN).mtimeMs >= statSync(REF_SRC).mtimeMs) return;
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', REF_BIN, REF_SRC], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -O2 bench/reference.c failed:\n${r.stderr}`);
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** The peers come from Debian packages (iperf is iperf2); installed when missing, except in --smoke. */
function ensurePeers(want, mode, skipped) {
  const missing = ['iperf', 'sockperf'].filter((t) => want.has(t) && !has(t));
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

function otherNetns() {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const ver = (argv) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    return r.error ? null : (r.stdout + r.stderr).trim().split('\n')[0];
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

// ---- report -----------------------------------------------------------------------------------

function pad(s, n, right = true) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}
const x = (r) => (r === null || r === undefined ? '' : `${r.toFixed(2)}x`);

function table(result) {
  const L = [];
  const { summary, settings } = result;
  for (const len of settings.sizes) {
    const rows = summary[len];
    if (!rows || !Object.keys(rows).length) continue;
    L.push(`${len} B payload, ${settings.seconds} s per run, medians of ${settings.reps} interleaved repetitions; x = ratio to the C reference of this run; disturbed = runs during which other work took > 0.15 CPU`);
    L.push(`${pad('tool', 40, false)} ${pad('send pps', 9)} ${pad('x', 6)} ${pad('recv pps', 9)} ${pad('loss% max', 9)} ${pad('send us/pkt', 11)} ${pad('x', 6)} ${pad('recv us/pkt', 11)} ${pad('x', 6)} ${pad('disturbed', 9)}`);
    for (const [tool, s] of Object.entries(rows)) {
      const r = s.ratio_to_ref ?? {};
      L.push(
        `${pad(TOOLS[tool].label, 40, false)} ${pad(fmt(s.sender_pps_median), 9)} ${pad(x(r.sender_pps), 6)} ${pad(fmt(s.receiver_pps_median), 9)} ${pad(fmt(s.loss_percent_max, 3), 9)} ` +
          `${pad(fmt(s.sender_cpu_us_per_packet, 2), 11)} ${pad(x(r.sender_cpu_per_packet), 6)} ${pad(fmt(s.receiver_cpu_us_per_packet, 3), 11)} ${pad(x(r.receiver_cpu_per_packet), 6)} ${pad(`${s.disturbed_runs}/${s.reps}`, 9)}`,
      );
    }
    L.push('');
  }
  if (result.latency_cost?.length) {
    for (const l of result.latency_cost) {
      L.push(`latency recording cost, ${l.length} B: receiver ${fmt(l.cpu_us_latency_on, 3)} vs ${fmt(l.cpu_us_latency_off, 3)} us/pkt CPU -> ${fmt(l.cost_percent, 1)}% of its packet rate at saturation; received ${fmt(l.pps_latency_on)} vs ${fmt(l.pps_latency_off)} pps behind an unlimited sender`);
    }
    L.push('');
  }
  if (result.paced?.summary?.length) {
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
  if (result.memory) {
    const m = result.memory;
    L.push(`mcbench recv memory, ${m.seconds} s at full rate (64 B): VmRSS max ${fmt(m.max_rss_mb, 1)} MB, slope ${fmt(m.slope_mb_per_min, 2)} MB/min (fitted growth ${fmt(m.fitted_growth_mb, 2)} MB from ${m.window_from_seconds} s to the end: ${m.flat ? 'no growth' : 'GROWING'})`);
  }
  if (result.help) L.push(`mcbench --help: median ${fmt(result.help.median_ms, 1)} ms over ${result.help.runs_ms.length} runs (node -e 0: ${fmt(result.node_floor?.median_ms, 1)} ms)`);
  if (result.targets?.length) {
    L.push('', 'issue 5 targets (and issue 3 latency cost):');
    for (const t of result.targets) L.push(`  ${t.pass === null ? 'n/a ' : t.pass ? 'MET ' : 'MISS'} ${t.what}: ${t.value}`);
  }
  if (result.skipped.length) L.push('', ...result.skipped.map((s) => `skipped ${s.tool}: ${s.reason}`));
  return L.join('\n');
}

function targets(result) {
  const T = [];
  const S = result.summary;
  for (const len of result.settings.sizes) {
    const m = S[len]?.mcbench;
    if (!m?.ratio_to_ref) continue;
    const r = m.ratio_to_ref.sender_pps;
    T.push({ id: `sender_pps_${len}`, what: `mcbench sender pps >= 0.95x reference at ${len} B`, value: `${x(r)} (${fmt(m.sender_pps_median)} vs ${fmt(S[len].ref.sender_pps_median)} pps)`, ratio: r, pass: r !== null ? r >= 0.95 : null });
    const rc = m.ratio_to_ref.receiver_cpu_per_packet;
    T.push({ id: `receiver_loss_${len}`, what: `mcbench receiver (latency on, 25 MB) no loss behind an unlimited sender at ${len} B`, value: `max ${fmt(m.lost_packets_max)} lost in ${m.reps} runs`, pass: m.lost_packets_max === 0 });
    T.push({ id: `receiver_cpu_${len}`, what: `mcbench receiver CPU/packet <= 1.15x reference at ${len} B`, value: `${x(rc)} (${fmt(m.receiver_cpu_us_per_packet, 3)} vs ${fmt(S[len].ref.receiver_cpu_us_per_packet, 3)} us)`, ratio: rc, pass: rc !== null ? rc <= 1.15 : null });
  }
  for (const p of result.paced?.summary ?? []) {
    T.push({ id: `paced_${p.id}`, what: `paced ${p.label} within 1% of target`, value: `rate_ratio median ${fmt(p.rate_ratio_median, 4)}, worst ${fmt(p.rate_ratio_worst, 4)}; gap CV ${fmt(p.gap_cv, 3)}`, pass: p.rate_ratio_worst !== null ? Math.abs(p.rate_ratio_worst - 1) <= 0.01 : null });
  }
  if (result.memory) {
    const m = result.memory;
    T.push({ id: 'rss', what: `mcbench recv RSS < 120 MB and flat over ${m.seconds} s`, value: `max ${fmt(m.max_rss_mb, 1)} MB, ${fmt(m.slope_mb_per_min, 2)} MB/min`, pass: m.max_rss_mb !== null ? m.max_rss_mb < 120 && m.flat === true : null });
  }
  if (result.help) T.push({ id: 'help', what: 'mcbench --help < 250 ms', value: `median ${fmt(result.help.median_ms, 1)} ms`, pass: result.help.median_ms < 250 });
  for (const l of result.latency_cost ?? []) {
    T.push({ id: `latency_cost_${l.length}`, what: `latency recording costs < 10% of the receiver's packet rate at ${l.length} B (issue 3)`, value: `${fmt(l.cost_percent, 1)}% (CPU/packet ${fmt(l.cpu_us_latency_on, 3)} vs ${fmt(l.cpu_us_latency_off, 3)} us)`, pass: l.cost_percent !== null ? l.cost_percent < 10 : null });
  }
  return T;
}

function writeAtomic(file, data) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

// ---- main -------------------------------------------------------------------------------------

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage('needs root (network namespaces, SO_RCVBUFFORCE)');
  if (!existsSync(join(ROOT, 'dist/lab/index.js')) || !existsSync(join(ROOT, 'dist/cli.js'))) {
    log('bench: dist/ is not built: run `npm run build` (npm run bench does it)');
    process.exit(1);
  }
  if (!has('taskset')) usage('taskset (util-linux) is missing');
  const { withLab } = await import('../dist/lab/index.js');
  // The product's own save/set/restore: restored in finally, on signals and at exit, and by the
  // next `mcbench lab down` if this process is SIGKILLed.
  const { applyKernelSettings } = await import('../dist/core/apply.js');
  const skipped = [];
  ensurePeers(opt.want, opt.mode, skipped);
  buildReference();

  const throughputTools = ['ref', 'ref1', 'refc', 'mcbench', 'nolat', 'iperf', 'sockperf'].filter((t) => opt.want.has(t));
  if (throughputTools.length && !throughputTools.includes('ref')) throughputTools.unshift('ref');
  const nproc = cpus().length;
  const cpuTx = 0;
  const cpuRx = nproc >= 2 ? 1 : 0;
  if (nproc < 2) skipped.push({ tool: 'pinning', reason: 'one CPU: sender and receiver share CPU0' });
  // This runner samples /proc every 50 ms: keep it off the sender's CPU, which the sender saturates.
  spawnSync('taskset', ['-a', '-p', '-c', String(cpuRx), String(process.pid)], { stdio: 'ignore' });

  const result = {
    schema: 'mcbench/bench@1',
    created: new Date().toISOString(),
    command: `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
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
    memory: null,
    help: null,
    node_floor: null,
    targets: [],
    skipped,
  };

  // iperf -w and sockperf --buffer-size go through SO_RCVBUF: lift rmem_max for them (restored).
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  result.sysctl['net.core.rmem_max'] = { before: rmemMax, during: rmemMax };
  const tmp = mkdtempSync(join(tmpdir(), 'mcbench-bench-'));
  restores.unshift(() => rmSync(tmp, { recursive: true, force: true }));
  try {
    if (rmemMax < RCVBUF && (opt.want.has('iperf') || opt.want.has('sockperf'))) {
      const applied = applyKernelSettings({ 'net.core.rmem_max': RCVBUF });
      restores.push(() => {
        applied.restore();
        log(`bench: restored net.core.rmem_max=${rmemMax}`);
      });
      result.sysctl['net.core.rmem_max'].during = RCVBUF;
    }
    labActive = true;
    await withLab({ name: opt.labName, guests: 2, snooping: 0 }, async (lab, signal) => {
      signal.addEventListener('abort', () => abort.abort(signal.reason));
      const [g1, g2] = lab.guests;
      result.lab = { name: lab.name, subnet: lab.state?.subnet ?? null, sender: g1.netns, receiver: g2.netns, snooping: 0 };
      const ctx = {
        lab, tmp, seconds: opt.seconds, memSeconds: opt.memSeconds, nextPort: 5001, cpuTx, cpuRx, quietCap: opt.mode === 'smoke' ? 2 : 20,
        txGuest: g1.index, rxGuest: g2.index, txAddr: g1.address.split('/')[0], rxAddr: g2.address.split('/')[0],
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
              ? `[${k}/${total}] ${len} B ${tool} rep ${rep}: send ${fmt(row.sender.pps)} pps (${fmt(row.sender.cpu_per_packet_us, 2)} us/pkt), recv ${fmt(row.receiver.pps)} pps, lost ${fmt(row.receiver.lost)} (${fmt(row.receiver.cpu_per_packet_us, 3)} us/pkt); other load ${fmt(row.load?.other_cpus, 2)} CPU`
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

      if (opt.want.has('paced')) {
        const configs = [];
        if (opt.sizes.includes(1400)) configs.push({ id: '100M_1400', label: '100 Mbit/s, 1400 B', len: 1400, bps: 100e6 });
        for (const len of opt.sizes) {
          const u = result.summary[len]?.mcbench?.sender_pps_median ?? result.summary[len]?.ref?.sender_pps_median;
          if (u) configs.push({ id: `half_${len}`, label: `50% of unlimited, ${len} B`, len, pps: u / 2, from: result.summary[len]?.mcbench ? 'mcbench' : 'ref' });
          else skipped.push({ tool: `paced ${len} B at 50%`, reason: 'no unlimited rate measured for this size' });
        }
        const rows = [];
        for (let rep = 1; rep <= opt.reps; rep++) {
          for (const cfg of configs) {
            checkAbort();
            const row = await runPaced(ctx, cfg, rep);
            rows.push(row);
            log(row.ok
              ? `paced ${cfg.label} rep ${rep}: rate_ratio ${fmt(row.sender.rate_ratio, 4)}, receiver ${fmt(row.receiver.rate_ratio, 4)}, batch ${fmt(row.gaps?.mean_batch_size, 2)}, gap CV ${fmt(row.gaps?.inter_batch_gap?.cv, 3)}`
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
            const worst = rs.length ? rs.map((r) => r.sender.rate_ratio).reduce((a, b) => (Math.abs(b - 1) > Math.abs(a - 1) ? b : a)) : null;
            return {
              id: cfg.id,
              label: cfg.label,
              reps: rs.length,
              target_pps: median(rs.map((r) => r.target_pps)),
              rate_ratio_median: median(rs.map((r) => r.sender.rate_ratio)),
              rate_ratio_worst: worst,
              receiver_rate_ratio_median: median(rs.map((r) => r.receiver.rate_ratio)),
              mean_batch_size: median(rs.map((r) => r.gaps?.mean_batch_size)),
              gap_mean_us: median(rs.map((r) => r.gaps?.inter_batch_gap?.mean_us)),
              gap_cv: median(rs.map((r) => r.gaps?.inter_batch_gap?.cv)),
              gap_p99_us: median(rs.map((r) => r.gaps?.inter_batch_gap?.p99_us)),
              gap_max_us: maxOf(rs.map((r) => r.gaps?.inter_batch_gap?.max_us)),
              per_ms_count_cv: median(rs.map((r) => r.gaps?.per_ms_count_cv)),
              late_max_ms: maxOf(rs.map((r) => r.sender.late_max_ms)),
              late_mean_ms: median(rs.map((r) => r.sender.late_mean_ms)),
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
    labActive = false;

    if (opt.want.has('help')) {
      // Start-up needs no network: it runs on the host, like a user's first command.
      result.help = timeIt(['node', MCBENCH, '--help'], 10);
      result.node_floor = timeIt(['node', '-e', '0'], 10);
    }
  } finally {
    labActive = false;
    cleanupSync();
  }

  result.load.loadavg_after = loadavg();
  result.load.other_netns_after = otherNetns();
  result.targets = targets(result);
  writeAtomic(opt.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${table(result)}\n\nwritten: ${opt.out}\n`);
  const failed = result.runs.filter((r) => !r.ok).length + (result.paced?.runs.filter((r) => !r.ok).length ?? 0);
  if (failed) {
    log(`bench: ${failed} run(s) failed (see "error" in the JSON)`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  log(`bench: ${abort.signal.aborted ? e.message : (e.stack ?? e.message)}`);
  cleanupSync();
  process.exitCode = 1;
});
