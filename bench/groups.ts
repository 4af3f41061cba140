// Many groups (issue 11 item 5): the per-packet cost of one mcbench send spreading its datagrams
// round robin over 1, 10 and 100 groups, and of one mcbench recv joining them all on one socket
// (per-group accounting by sequence, IP_PKTINFO checked per datagram). The sender is paced (a rate
// both sides keep up with, so the cost per packet is not a queue's), and each side's cost is its
// own thread's CPU per datagram from its result, plus the receiver process's CPU per packet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { MCBENCH, runGroup, type BenchCtx } from './harness.js';

/** The groups of a run: 239.255.78.1 onwards. */
const FIRST = [239, 255, 78, 1] as const;

export interface GroupsBenchRow {
  groups: number;
  length: number;
  rep: number;
  ok: boolean;
  /** datagrams per second asked of the sender (all groups together) */
  pps: number;
  sent: number | null;
  received: number | null;
  lost: number | null;
  /** the send thread's CPU per datagram, ns (its own result) */
  sender_thread_ns_per_packet: number | null;
  /** the receive thread's CPU per datagram, ns (its own result) */
  receiver_thread_ns_per_packet: number | null;
  /** the receiver process's CPU (all threads, node included) over its packets, us */
  receiver_process_us_per_packet: number | null;
  /** per group: the fewest and most packets received */
  per_group_min: number | null;
  per_group_max: number | null;
  other_load_cpus: number | null;
  error: string | null;
}

export interface GroupsBenchResult {
  method: string;
  rows: GroupsBenchRow[];
}

/** -g for n groups from FIRST: one group, or a range. */
export function groupRange(n: number): string {
  const first = FIRST.join('.');
  return n === 1 ? first : `${first}-${FIRST.slice(0, 3).join('.')}.${FIRST[3] + n - 1}`;
}

export async function runGroups(ctx: BenchCtx, n: number, len: number, pps: number, rep: number): Promise<GroupsBenchRow> {
  const port = ctx.nextPort++;
  const sendJson = join(ctx.tmp, `gs-${port}.json`);
  const recvJson = join(ctx.tmp, `gr-${port}.json`);
  const row: GroupsBenchRow = {
    groups: n, length: len, rep, ok: false, pps, sent: null, received: null, lost: null, sender_thread_ns_per_packet: null, receiver_thread_ns_per_packet: null,
    receiver_process_us_per_packet: null, per_group_min: null, per_group_max: null, other_load_cpus: null, error: null,
  };
  const g = groupRange(n);
  try {
    // one socket joins them all: the guest's namespace allows it (net.ipv4.igmp_max_memberships is
    // per namespace and goes with the lab); exec keeps the pid the harness measures
    const recv = `sysctl -qw net.ipv4.igmp_max_memberships=1024 && exec node ${MCBENCH} recv -g ${g} -p ${port} -I eth0 --rcvbuf 25M --rcvbuf-force -t ${ctx.seconds + 30} -q --json ${recvJson}`;
    const r = await runGroup(ctx, {
      recvArgvs: [['sh', '-c', recv]],
      sendArgv: ['node', MCBENCH, 'send', '-g', g, '-p', String(port), '-I', 'eth0', '--pps', String(pps), '-l', String(len), '-t', String(ctx.seconds), '-q', '--json', sendJson],
      selfExit: true,
      port,
      senderTimeoutSeconds: ctx.seconds,
    });
    if (r.txExit.code !== 0) throw new Error(`sender exited ${r.txExit.code ?? r.txExit.signal}: ${r.tx.stderr.slice(-300)}`);
    const s = (JSON.parse(readFileSync(sendJson, 'utf8')) as SenderResult).end;
    const e = (JSON.parse(readFileSync(recvJson, 'utf8')) as ReceiverResult).end;
    row.sent = s.packets;
    row.received = e.sum.packets;
    row.lost = e.sum.lost_packets;
    row.sender_thread_ns_per_packet = s.sender_thread.cpu_ns_per_packet;
    row.receiver_thread_ns_per_packet = e.receiver_thread.cpu_ns_per_packet;
    const cpu = r.rcpu[0] ?? null;
    row.receiver_process_us_per_packet = cpu !== null && e.sum.packets > 0 ? (cpu / e.sum.packets) * 1e6 : null;
    const per = e.groups?.map((x) => x.packets) ?? [e.sum.packets];
    row.per_group_min = Math.min(...per);
    row.per_group_max = Math.max(...per);
    row.other_load_cpus = r.load.other_cpus;
    row.ok = true;
  } catch (err) {
    row.error = (err as Error).message;
  }
  return row;
}
