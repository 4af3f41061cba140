// The tools benchmarked: the C reference (bench/reference.c, three modes), mcbench (latency on
// and off), iperf2 and sockperf: their command lines and how to read their own figures. Then
// the runs made of them: one unlimited-rate cell, one paced run, the memory run.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { GROUP, MCBENCH, RCVBUF, REF_BIN, rssOf, receiverWindow, runPair, senderWindow, start, waitExit, waitReady, type BenchCtx, type Proc } from './harness.js';
import { maxOf, type MemoryResult, type MemorySample, type PacedConfig, type PacedGaps, type PacedRow, type RecvFigures, type RunRow, type SendFigures, type ToolId } from './result.js';

/** one cell's parameters, as the command lines need them */
export interface CellParams {
  port: number;
  len: number;
  seconds: number;
  rxAddr: string;
  txAddr: string;
  /** mcbench send --json FILE */
  sendJson: string;
  /** mcbench recv --json FILE */
  recvJson: string;
}

export interface Tool {
  label: string;
  /** the command (Debian package) it needs, when not part of this repository */
  needs?: string;
  recv(c: CellParams): string[];
  send(c: CellParams): string[];
  /** the receiver ends by itself (FIN, or its time limit); otherwise it gets SIGINT */
  selfExit: boolean;
  parseSend(p: Proc, c: CellParams): SendFigures;
  parseRecv(p: Proc, c: CellParams, sent: SendFigures): RecvFigures;
}

/** bench/reference.c's one-line JSON (the last one it prints) */
interface RefSendJson {
  packets: number;
  seconds: number;
  pps: number;
  cpu_seconds: number;
}
interface RefRecvJson {
  packets: number;
  seconds: number;
  pps: number;
  cpu_seconds_traffic: number;
  duplicates: number;
}

const num = (re: RegExp, s: string): number | null => {
  const m = re.exec(s);
  return m ? Number(m[1]!.replaceAll(',', '')) : null;
};
/** the last line of s that starts with '{', parsed (throws when there is none) */
// Both return unknown: the caller says which tool's document it expects (`as RefSendJson`).
const lastJson = (s: string): unknown => JSON.parse(String(s.trim().split('\n').filter((l) => l.startsWith('{')).pop()));
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

function lastSummarySeconds(s: string): number | null {
  const rows = [...s.matchAll(/\s0\.0+-\s*([\d.]+) sec/g)];
  return rows.length ? Number(rows[rows.length - 1]![1]) : null;
}

/**
 * One tool's sender and another's receiver (either with more flags), each read as its own tool
 * reads it. (Called while TOOLS is built; the closures read TOOLS only when a run starts.)
 */
function pairOf(label: string, sender: ToolId, receiver: ToolId, extra: { send?: readonly string[]; recv?: readonly string[] } = {}): Tool {
  return {
    label,
    recv: (c) => [...TOOLS[receiver].recv(c), ...(extra.recv ?? [])],
    send: (c) => [...TOOLS[sender].send(c), ...(extra.send ?? [])],
    selfExit: true,
    parseSend: (p, c) => TOOLS[sender].parseSend(p, c),
    parseRecv: (p, c, sent) => TOOLS[receiver].parseRecv(p, c, sent),
  };
}

/** Each tool: the receiver and sender command lines and how to read their own figures. */
export const TOOLS: Record<ToolId, Tool> = {
  ref: {
    label: 'C reference (sendmmsg/recvmmsg x32)',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'mmsg', String(RCVBUF)],
    send: (c) => [REF_BIN, 'send', GROUP, String(c.port), c.txAddr, String(c.len), String(c.seconds), 'mmsg'],
    selfExit: true,
    parseSend: (p) => {
      const j = lastJson(p.stdout) as RefSendJson;
      return { packets: j.packets, seconds: j.seconds, pps: j.pps, own_cpu_seconds: j.cpu_seconds };
    },
    parseRecv: (p) => {
      const j = lastJson(p.stdout) as RefRecvJson;
      return { packets: j.packets, seconds: j.seconds, pps: j.pps, own_cpu_seconds_traffic: j.cpu_seconds_traffic, duplicates: j.duplicates };
    },
  },
  ref1: {
    label: 'C, one syscall per packet (sendto/recv)',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'single', String(RCVBUF)],
    send: (c) => [REF_BIN, 'send', GROUP, String(c.port), c.txAddr, String(c.len), String(c.seconds), 'single'],
    selfExit: true,
    parseSend: (p, c) => TOOLS.ref.parseSend(p, c),
    parseRecv: (p, c, sent) => TOOLS.ref.parseRecv(p, c, sent),
  },
  refc: {
    label: 'C ref recv + SO_TIMESTAMPNS/RXQ_OVFL',
    recv: (c) => [REF_BIN, 'recv', GROUP, String(c.port), c.rxAddr, String(c.seconds + 30), 'cmsg', String(RCVBUF)],
    send: (c) => TOOLS.ref.send(c),
    selfExit: true,
    parseSend: (p, c) => TOOLS.ref.parseSend(p, c),
    parseRecv: (p, c, sent) => TOOLS.ref.parseRecv(p, c, sent),
  },
  mcbench: {
    label: 'mcbench (latency on)',
    recv: (c) => ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(c.port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(c.seconds + 30), '-q', '--json', c.recvJson],
    send: (c) => ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(c.port), '-I', 'eth0', '-b', '0', '-l', String(c.len), '-t', String(c.seconds), '-q', '--json', c.sendJson],
    selfExit: true,
    parseSend: (_p, c) => {
      const e = (readJson(c.sendJson) as SenderResult).end;
      return { packets: e.packets, seconds: e.seconds, pps: e.packets_per_second, send_calls: e.send_calls, enobufs: e.enobufs };
    },
    parseRecv: (_p, c) => {
      const e = (readJson(c.recvJson) as ReceiverResult).end;
      return {
        packets: e.sum.packets, seconds: e.sum.seconds, pps: e.sum.packets_per_second, lost: e.sum.lost_packets,
        socket_overflow_drops: e.socket_overflow_drops, recv_calls: e.recv_calls, recv_full_batches: e.recv_full_batches, end_reason: e.end_reason,
      };
    },
  },
  // One side each against the other's C reference: a sender's rate and CPU include the delivery
  // to the receiver and its wakeups (softirq in the sender's context over veth), and a receiver's
  // CPU per packet depends on how fast datagrams come: pairs of mixed tools compare one side only.
  mcsend: pairOf('mcbench send -> C ref recv', 'mcbench', 'ref'),
  // the C sender sends no FIN: the receiver ends 1 s after the traffic (its result says partial)
  mcrecv: pairOf('C ref send -> mcbench recv (latency on, coalescing 500 us by default)', 'ref', 'mcbench', { recv: ['--idle-timeout', '1'] }),
  mcplain: pairOf('C ref send -> mcbench recv --coalesce 0', 'ref', 'mcbench', { recv: ['--idle-timeout', '1', '--coalesce', '0'] }),
  nolat: pairOf('mcbench recv --no-latency', 'mcbench', 'mcbench', { recv: ['--no-latency'] }),
  // UDP GSO senders, both into the C reference receiver (recvmmsg x32): the sender's rate is the row
  refgso: {
    label: 'C GSO reference sender (UDP_SEGMENT, 64 KiB sends) -> C ref recv',
    recv: (c) => TOOLS.ref.recv(c),
    send: (c) => [REF_BIN, 'send', GROUP, String(c.port), c.txAddr, String(c.len), String(c.seconds), 'gso'],
    selfExit: true,
    parseSend: (p, c) => TOOLS.ref.parseSend(p, c),
    parseRecv: (p, c, sent) => TOOLS.ref.parseRecv(p, c, sent),
  },
  mcgso: pairOf('mcbench send --gso -> C ref recv', 'mcbench', 'ref', { send: ['--gso'] }),
  // GSO sender into the receiver that keeps GSO sends whole (UDP_GRO): how far the pair goes
  gsogro: pairOf('mcbench send --gso -> mcbench recv --gro', 'mcbench', 'mcbench', { send: ['--gso'], recv: ['--gro'] }),
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
    parseRecv: (p, _c, sent) => {
      // sockperf server reports only a count: its rate is taken over the sender's time
      const packets = num(/Total (\d+) messages received/, p.stdout + p.stderr);
      return { packets, seconds: sent.seconds ?? null, pps: packets !== null && sent.seconds ? packets / sent.seconds : null };
    },
  },
};

// ---- one measurement --------------------------------------------------------------------------

/** One unlimited-rate run of one tool at one payload length. */
export async function runCell(ctx: BenchCtx, tool: ToolId, len: number, rep: number): Promise<RunRow> {
  const t = TOOLS[tool];
  const port = ctx.nextPort++;
  const c: CellParams = { port, len, seconds: ctx.seconds, rxAddr: ctx.rxAddr, txAddr: ctx.txAddr, sendJson: join(ctx.tmp, `s-${port}.json`), recvJson: join(ctx.tmp, `r-${port}.json`) };
  const r = await runPair(ctx, { recvArgv: t.recv(c), sendArgv: t.send(c), selfExit: t.selfExit, port });
  const row: RunRow = { tool, length: len, rep, port, ok: false, sender: null, receiver: null, load: r.load, error: null };
  try {
    if (r.txExit.code !== 0) throw new Error(`sender exited ${r.txExit.code ?? r.txExit.signal}: ${r.tx.stderr.slice(-400)}`);
    const s = t.parseSend(r.tx, c);
    const win = senderWindow(r.samples, ctx.seconds, r.tx.pid);
    // The window counts the interface's tx packets: with GSO one per send (veth passes the GSO
    // skb whole; it is cut at the receiving socket), so per datagram it is the sender's own rate.
    const gso = tool === 'refgso' || tool === 'mcgso' || tool === 'gsogro';
    const perPacket = gso ? (win && s.pps ? (win.cpu_seconds / (win.seconds * s.pps)) * 1e6 : null) : (win?.cpu_per_packet_us ?? null);
    row.sender = { ...s, cpu_window: win, cpu_per_packet_us: perPacket };
    const rv = t.parseRecv(r.rx, c, s);
    const runPerPacket = r.rcpu !== null && rv.packets ? (r.rcpu / rv.packets) * 1e6 : null;
    // GSO: the receiver's interface counts one per GSO skb; its datagrams come at its own rate
    const delivered = s.packets && rv.packets !== null ? rv.packets / s.packets : 1;
    const rwin = receiverWindow(r.samples, ctx.seconds, r.rx.pid, gso ? (rv.pps ?? null) : null, delivered);
    const lost = rv.lost ?? (s.packets !== null && rv.packets !== null ? Math.max(0, s.packets - rv.packets) : null);
    row.receiver = {
      ...rv,
      lost,
      loss_percent: lost !== null && s.packets ? (100 * lost) / s.packets : null,
      cpu_seconds: r.rcpu,
      // per packet over the sender's steady window, like the sender's; the whole run's beside it
      cpu_window: rwin,
      cpu_per_packet_us: rwin?.cpu_per_packet_us ?? null,
      cpu_per_packet_us_run: runPerPacket,
      threads: r.rthreads,
    };
    if (!((s.pps ?? 0) > 0) || !((rv.pps ?? 0) > 0)) throw new Error(`no packets measured (sender ${s.pps}, receiver ${rv.pps}); receiver said: ${(r.rx.stderr + r.rx.stdout).slice(-400)}`);
    row.ok = true;
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

// ---- paced sending ----------------------------------------------------------------------------

/**
 * Gaps between arrivals at a C listener, from its kernel receive stamps (SO_TIMESTAMPNS): no
 * capture. Arrivals closer than half the nominal packet period belong to one sendmmsg batch;
 * the inter-batch gap runs from one batch's first arrival to the next's.
 */
function gapStats(file: string, pps: number): PacedGaps | null {
  const b = readFileSync(file);
  const n = Math.floor(b.length / 8);
  if (n < 3) return null;
  const t0 = b.readBigUInt64LE(0);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = Number(b.readBigUInt64LE(i * 8) - t0);
  const period = 1e9 / pps;
  const starts = [0];
  for (let i = 1; i < n; i++) if (t[i]! - t[i - 1]! > period / 2) starts.push(t[i]!);
  const gaps: number[] = [];
  for (let i = 1; i < starts.length; i++) gaps.push(starts[i]! - starts[i - 1]!);
  const st = (xs: readonly number[]) => {
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    const s = [...xs].sort((a, b2) => a - b2);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
    return { mean_us: mean / 1e3, cv: sd / mean, p50_us: q(0.5) / 1e3, p99_us: q(0.99) / 1e3, p999_us: q(0.999) / 1e3, max_us: s[s.length - 1]! / 1e3 };
  };
  // Packets per 1 ms bin (whole bins only): how even the rate is at a 1 ms scale.
  const bins = new Array<number>(Math.floor(t[n - 1]! / 1e6)).fill(0);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(t[i]! / 1e6);
    if (k < bins.length) bins[k]!++;
  }
  const binMean = bins.reduce((a, x) => a + x, 0) / (bins.length || 1);
  const binSd = Math.sqrt(bins.reduce((a, x) => a + (x - binMean) ** 2, 0) / (bins.length || 1));
  return {
    arrivals: n,
    batches: starts.length,
    mean_batch_size: n / starts.length,
    inter_batch_gap: gaps.length ? st(gaps) : null,
    per_ms_count_cv: bins.length ? binSd / binMean : null,
    arrival_span_seconds: t[n - 1]! / 1e9,
  };
}

/** mcbench send, paced (-b or --pps), into the C reference receiver writing receive stamps. */
export async function runPaced(ctx: BenchCtx, cfg: PacedConfig, rep: number): Promise<PacedRow> {
  const port = ctx.nextPort++;
  const sendJson = join(ctx.tmp, `ps-${port}.json`);
  const stamps = join(ctx.tmp, `st-${port}.bin`);
  const rate = cfg.bps ? ['-b', String(cfg.bps)] : ['--pps', String(Math.round(cfg.pps ?? NaN))];
  const r = await runPair(ctx, {
    recvArgv: [REF_BIN, 'recv', GROUP, String(port), ctx.rxAddr, String(ctx.seconds + 30), 'mmsg', String(RCVBUF), stamps],
    sendArgv: ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', ...rate, '-l', String(cfg.len), '-t', String(ctx.seconds), '-q', '--json', sendJson],
    selfExit: true,
    port,
  });
  const row: PacedRow = { config: cfg.id, length: cfg.len, rep, ok: false, load: r.load, error: null };
  try {
    if (r.txExit.code !== 0) throw new Error(`sender exited ${r.txExit.code}: ${r.tx.stderr.slice(-300)}`);
    const res = readJson(sendJson) as SenderResult;
    const e = res.end;
    const targetPps = res.start.config.target_packets_per_second;
    const rcv = lastJson(r.rx.stdout) as RefRecvJson;
    row.target_pps = targetPps;
    row.target_bits_per_second = res.start.config.target_bits_per_second;
    row.sender = { packets: e.packets, seconds: e.seconds, pps: e.packets_per_second, rate_ratio: e.rate_ratio, send_calls: e.send_calls, late_mean_ms: e.late_mean_ms, late_max_ms: e.late_max_ms };
    row.receiver = { packets: rcv.packets, seconds: rcv.seconds, pps: rcv.pps, rate_ratio: rcv.pps / targetPps, lost: Math.max(0, e.packets - rcv.packets) };
    row.gaps = gapStats(stamps, targetPps);
    row.ok = true;
  } catch (err) {
    row.error = (err as Error).message;
  }
  rmSync(stamps, { force: true });
  return row;
}

// ---- memory -----------------------------------------------------------------------------------

/** mcbench recv behind an unlimited 64 B sender for ctx.memSeconds: its RSS once a second. */
export async function runMemory(ctx: BenchCtx): Promise<MemoryResult> {
  const port = ctx.nextPort++;
  const secs = ctx.memSeconds;
  const recvJson = join(ctx.tmp, `mr-${port}.json`);
  const rx = start(ctx.lab, ctx.rxGuest, ctx.cpuRx, ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(secs + 30), '-q', '--json', recvJson]);
  let tx: Proc | null = null;
  const samples: MemorySample[] = [];
  try {
    await waitReady(rx, port);
    const t0 = performance.now();
    const txp = start(ctx.lab, ctx.txGuest, ctx.cpuTx, ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', '-b', '0', '-l', '64', '-t', String(secs), '-q']);
    tx = txp;
    const sample = () => {
      const m = rssOf(rx.pid);
      if (m && !txp.exited) samples.push({ t: (performance.now() - t0) / 1000, rss_mb: m.rss, hwm_mb: m.hwm });
    };
    sample();
    const timer = setInterval(sample, 1000);
    await waitExit(txp, (secs + 30) * 1000);
    clearInterval(timer);
    await waitExit(rx, 15000);
  } finally {
    for (const p of [tx, rx]) if (p && !p.exited) p.child.kill('SIGKILL');
  }
  let received: ReceiverResult['end']['sum'] | null = null;
  try {
    received = (readJson(recvJson) as ReceiverResult).end.sum;
  } catch {
    /* reported as null */
  }
  // Least-squares slope over the steady part (from 5 s on, or the second half of a short run).
  const from = Math.min(5, secs / 2);
  const w = samples.filter((s) => s.t >= from);
  let slope: number | null = null;
  if (w.length >= 3) {
    const mt = w.reduce((a, s) => a + s.t, 0) / w.length;
    const mr = w.reduce((a, s) => a + s.rss_mb, 0) / w.length;
    slope = w.reduce((a, s) => a + (s.t - mt) * (s.rss_mb - mr), 0) / w.reduce((a, s) => a + (s.t - mt) ** 2, 0);
  }
  const growth = slope !== null && w.length ? slope * (w[w.length - 1]!.t - w[0]!.t) : null;
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
