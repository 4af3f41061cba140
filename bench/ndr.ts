// Two measurements beyond one unlimited run (issue 13 item 4):
//  - the receivers' max lossless rate (RFC 2544 26.1 / RFC 3918 throughput): mcbench recv, the C
//    reference receiver and sockperf's server, each searched with mcbench's own NdrSearch (binary
//    search, every pass confirmed by a repeat) against the sender's own count;
//  - scaling: 1, 2, 4, 8 mcbench receivers on one group behind one unlimited sender, per-receiver
//    packet rate, loss and CPU per packet.
// The load for mcbench and the C receiver is `mcbench send --gso --pps R` (paced UDP GSO: one
// datagram per call cannot make a receiver lose on this topology, see BENCHMARKS.md). sockperf's
// server takes only sockperf's own messages, so its load is `sockperf throughput --mps R`, one
// sendto per message: when that sender cannot reach the rate, the trial is sender-limited and the
// result a lower bound, said so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as NdrLib from '../src/core/ndr.js';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { GROUP, MCBENCH, RCVBUF, REF_BIN, runGroup, type BenchCtx } from './harness.js';
import type { NdrBenchRow, NdrBenchTrial, NdrReceiverId, ScalingRow } from './result.js';

type Ndr = typeof NdrLib;

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const lastJson = (s: string): unknown => JSON.parse(String(s.trim().split('\n').filter((l) => l.startsWith('{')).pop()));

interface TrialCounts {
  sent: number;
  achievedPps: number;
  received: number;
}

interface NdrReceiverDef {
  label: string;
  sender: string;
  /** the receiver ends by itself (FIN or its time limit) */
  selfExit: boolean;
  recv(port: number, ctx: BenchCtx, recvJson: string, seconds: number): string[];
  /** pps 0: unlimited (the probe) */
  send(port: number, ctx: BenchCtx, len: number, pps: number, seconds: number, sendJson: string): string[];
  counts(sendOut: string, recvOut: string, sendJson: string, recvJson: string): TrialCounts;
}

const mcbenchSend = (port: number, len: number, pps: number, seconds: number, sendJson: string): string[] => [
  'node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', ...(pps > 0 ? ['--pps', String(pps)] : ['-b', '0']), '-l', String(len), '-t', String(seconds), '--gso', '-q', '--json', sendJson,
];
const mcbenchSent = (sendJson: string): { sent: number; achievedPps: number } => {
  const e = (readJson(sendJson) as SenderResult).end;
  return { sent: e.packets, achievedPps: e.packets_per_second };
};

const MCBENCH_NDR_RECEIVER: NdrReceiverDef = {
  label: 'mcbench recv (latency on)',
  sender: 'mcbench send --gso --pps R',
  selfExit: true,
  recv: (port, _ctx, recvJson, seconds) => ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(seconds + 30), '-q', '--json', recvJson],
  send: (port, _ctx, len, pps, seconds, sendJson) => mcbenchSend(port, len, pps, seconds, sendJson),
  counts: (_so, _ro, sendJson, recvJson) => ({ ...mcbenchSent(sendJson), received: (readJson(recvJson) as ReceiverResult).end.sum.packets }),
};

/** mcbench's receiver with more recv flags: the same load and counts */
const mcbenchReceiverWith = (label: string, flags: readonly string[]): NdrReceiverDef => ({
  ...MCBENCH_NDR_RECEIVER,
  label,
  recv: (port, ctx, recvJson, seconds) => [...MCBENCH_NDR_RECEIVER.recv(port, ctx, recvJson, seconds), ...flags],
});

/** the C reference receiver in one of its modes, behind mcbench's GSO load */
const referenceReceiver = (label: string, mode: 'mmsg' | 'cmsg'): NdrReceiverDef => ({
  label,
  sender: 'mcbench send --gso --pps R',
  selfExit: true,
  recv: (port, ctx, _recvJson, seconds) => [REF_BIN, 'recv', GROUP, String(port), ctx.rxAddr, String(seconds + 30), mode, String(RCVBUF)],
  send: (port, _ctx, len, pps, seconds, sendJson) => mcbenchSend(port, len, pps, seconds, sendJson),
  counts: (_so, recvOut, sendJson) => ({ ...mcbenchSent(sendJson), received: (lastJson(recvOut) as { packets: number }).packets }),
});

export const NDR_RECEIVERS: Record<NdrReceiverId, NdrReceiverDef> = {
  mcbench: MCBENCH_NDR_RECEIVER,
  mcplain: mcbenchReceiverWith('mcbench recv --coalesce 0 (latency on, batch 64: no waits)', ['--coalesce', '0']),
  mcgro: mcbenchReceiverWith('mcbench recv --gro (latency on)', ['--gro']),
  ref: referenceReceiver('C reference recv (recvmmsg x32)', 'mmsg'),
  // what the kernel's half of a timestamping receiver costs at the limit, mcbench's own work apart
  // (an upper bound: it also reads SO_RXQ_OVFL, which mcbench sets only without SO_MEMINFO)
  refc: referenceReceiver('C reference recv + SO_TIMESTAMPNS/SO_RXQ_OVFL (the cmsgs read)', 'cmsg'),
  sockperf: {
    label: 'sockperf server',
    sender: 'sockperf throughput --mps R (one sendto per message)',
    selfExit: false,
    recv: (port, ctx) => ['sockperf', 'server', '-i', GROUP, '-p', String(port), '--mc-rx-if', ctx.rxAddr, '--buffer-size', String(RCVBUF)],
    send: (port, ctx, len, pps, seconds) => [
      'sockperf', 'throughput', '-i', GROUP, '-p', String(port), '--mc-tx-if', ctx.txAddr, '--mc-ttl', '1', '-m', String(len), '-t', String(seconds), ...(pps > 0 ? [`--mps=${pps}`] : ['--mps=max']),
    ],
    counts: (sendOut, recvOut) => {
      const m = /Total of (\d+) messages sent in ([\d.]+) sec/.exec(sendOut);
      const r = /Total (\d+) messages received/.exec(recvOut);
      if (!m) throw new Error(`sockperf sent no summary: ${sendOut.slice(-300)}`);
      // "No messages were received" prints no total: 0
      return { sent: Number(m[1]), achievedPps: Number(m[1]) / Number(m[2]), received: r ? Number(r[1]) : 0 };
    },
  },
};

/** One trial: the receiver ready, the sender at `pps` (0: unlimited) for `seconds`, counted. */
async function ndrTrial(ctx: BenchCtx, id: NdrReceiverId, len: number, pps: number, seconds: number, repeat: boolean, ndr: Ndr): Promise<NdrBenchTrial> {
  const def = NDR_RECEIVERS[id];
  const port = ctx.nextPort++;
  const sendJson = join(ctx.tmp, `ns-${port}.json`);
  const recvJson = join(ctx.tmp, `nr-${port}.json`);
  const g = await runGroup(ctx, { recvArgvs: [def.recv(port, ctx, recvJson, seconds)], sendArgv: def.send(port, ctx, len, pps, seconds, sendJson), selfExit: def.selfExit, port, senderTimeoutSeconds: seconds });
  const rx = g.rxs[0]!;
  if (g.txExit.code !== 0) throw new Error(`sender exited ${g.txExit.code ?? g.txExit.signal}: ${g.tx.stderr.slice(-300)}`);
  const c = def.counts(g.tx.stdout + g.tx.stderr, rx.stdout + rx.stderr, sendJson, recvJson);
  const rt = ndr.receiverTrial('g2', c.sent, { expected_packets: c.sent, packets: c.received, lost_packets: 0 }, null);
  const limited = pps > 0 && ndr.senderLimited(pps, c.achievedPps);
  const cpu = g.rcpu[0] ?? null;
  return {
    pps,
    repeat,
    sent: c.sent,
    achieved_pps: c.achievedPps,
    received: c.received,
    lost: rt.lost_packets,
    loss_percent: rt.lost_percent,
    sender_limited: limited,
    passed: pps > 0 && !limited && ndr.trialPassed([rt], 0),
    receiver_cpu_per_packet_us: cpu !== null && c.received > 0 ? (cpu / c.received) * 1e6 : null,
    other_load_cpus: g.load.other_cpus,
  };
}

/**
 * The max lossless rate of one receiver at one size: an unlimited probe of the sender gives the
 * start; then NdrSearch (RFC 2544: loss 0, every pass repeated) down to `resolution`.
 */
export async function runNdr(ctx: BenchCtx, id: NdrReceiverId, len: number, opts: { seconds: number; resolution: number; maxTrials: number }, ndr: Ndr, log: (l: string) => void): Promise<NdrBenchRow> {
  const def = NDR_RECEIVERS[id];
  const row: NdrBenchRow = { receiver: id, label: def.label, sender: def.sender, length: len, trial_seconds: opts.seconds, probe: null, lossless_pps: null, lossless_mbps: null, lowest_lossy_pps: null, limited_by: null, unresolved: false, trials: [], error: null };
  try {
    const probe = await ndrTrial(ctx, id, len, 0, opts.seconds, false, ndr);
    row.probe = probe;
    log(`ndr ${id} ${len} B: unlimited probe sent ${probe.achieved_pps.toFixed(0)} pps, lost ${probe.loss_percent?.toFixed(3) ?? '-'}%`);
    const start = ndr.searchStart({ sent: probe.sent, achieved_pps: probe.achieved_pps }, null, 1000);
    if (start.skipped !== null) throw new Error(start.skipped);
    const search = new ndr.NdrSearch(start.start, { lossTolerancePercent: 0, resolution: opts.resolution, maxTrials: opts.maxTrials, minPps: 1000 });
    for (let next = search.next(); next; next = search.next()) {
      const t = await ndrTrial(ctx, id, len, next.pps, opts.seconds, next.repeat, ndr);
      row.trials.push(t);
      search.record(next.pps, t.passed);
      log(`ndr ${id} ${len} B: ${next.pps} pps${next.repeat ? ' (repeat)' : ''}: sent ${t.achieved_pps.toFixed(0)} pps, lost ${t.lost ?? '-'} (${t.loss_percent?.toFixed(3) ?? '-'}%)${t.sender_limited ? ', sender-limited' : ''} -> ${t.passed ? 'pass' : 'fail'}`);
    }
    row.lossless_pps = search.pass > 0 ? search.pass : null;
    row.lossless_mbps = search.pass > 0 ? (search.pass * len * 8) / 1e6 : null;
    // the lowest offered rate at which the receiver lost anything (a sender-limited trial that
    // lost counts: the receiver lost below the offered rate)
    const lossy = row.trials.filter((t) => (t.lost ?? 0) > 0).map((t) => t.pps);
    row.lowest_lossy_pps = lossy.length ? Math.min(...lossy) : null;
    // nothing lost anywhere, or the sender's most passed twice: the sender bounded the search
    row.limited_by = row.lowest_lossy_pps !== null && search.pass < search.start ? 'receiver' : 'sender';
    row.unresolved = search.unresolved;
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

/** n mcbench receivers (latency on) behind one unlimited mcbench sender (one datagram per call). */
export async function runScaling(ctx: BenchCtx, n: number, len: number, rep: number): Promise<ScalingRow> {
  const port = ctx.nextPort++;
  const sendJson = join(ctx.tmp, `ss-${port}.json`);
  const recvJsons = Array.from({ length: n }, (_, i) => join(ctx.tmp, `sr-${port}-${i}.json`));
  const row: ScalingRow = { receivers: n, length: len, rep, ok: false, sender_pps: null, sent: null, per_receiver: [], receiver_pps_median: null, receiver_cpu_us_per_packet_median: null, lost_max: null, other_load_cpus: null, error: null };
  try {
    const g = await runGroup(ctx, {
      recvArgvs: recvJsons.map((f) => ['node', MCBENCH, 'recv', '-g', GROUP, '-p', String(port), '-I', 'eth0', '--rcvbuf', '25M', '--rcvbuf-force', '-t', String(ctx.seconds + 30), '-q', '--json', f]),
      sendArgv: ['node', MCBENCH, 'send', '-g', GROUP, '-p', String(port), '-I', 'eth0', '-b', '0', '-l', String(len), '-t', String(ctx.seconds), '-q', '--json', sendJson],
      selfExit: true,
      port,
      senderTimeoutSeconds: ctx.seconds,
    });
    if (g.txExit.code !== 0) throw new Error(`sender exited ${g.txExit.code ?? g.txExit.signal}: ${g.tx.stderr.slice(-300)}`);
    const s = (readJson(sendJson) as SenderResult).end;
    row.sender_pps = s.packets_per_second;
    row.sent = s.packets;
    recvJsons.forEach((f, i) => {
      const e = (readJson(f) as ReceiverResult).end;
      const cpu = g.rcpu[i] ?? null;
      row.per_receiver.push({ pps: e.sum.packets_per_second, packets: e.sum.packets, lost: Math.max(0, s.packets - e.sum.packets), cpu_seconds: cpu, cpu_per_packet_us: cpu !== null && e.sum.packets > 0 ? (cpu / e.sum.packets) * 1e6 : null });
    });
    const med = (xs: number[]): number | null => {
      const v = [...xs].sort((a, b) => a - b);
      return v.length ? (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2) : null;
    };
    row.receiver_pps_median = med(row.per_receiver.map((r) => r.pps));
    row.receiver_cpu_us_per_packet_median = med(row.per_receiver.flatMap((r) => (r.cpu_per_packet_us === null ? [] : [r.cpu_per_packet_us])));
    row.lost_max = Math.max(...row.per_receiver.map((r) => r.lost));
    row.other_load_cpus = g.load.other_cpus;
    row.ok = true;
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}
