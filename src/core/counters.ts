// Kernel drop counters, and "where the loss happened" (DESIGN.md section 4).
//
// API (everything returns null for what it cannot read or parse: never a guess, never a throw)
//
//   Pure parsers, one per source, unit-tested on captured text (test/fixtures/counters):
//     parseUdpSnmp(text: string): UdpCounters | null            /proc/net/snmp, the Udp: lines
//     parseUdp6Snmp(text: string): UdpCounters | null           /proc/net/snmp6, the Udp6* lines (IPv6)
//     parseSoftnetStat(text: string): SoftnetCounters | null    /proc/net/softnet_stat
//     parseNetDev(text: string): Map<string, NetDevCounters> | null   /proc/net/dev
//     parseTcQdisc(json: string): QdiscCounters | null          `tc -s -j qdisc show dev IF`
//     parseRouteGet(json: string): string | null                `ip -j route get GROUP` -> dev
//     sysfsMatchesNetDev(before: SysfsNetStats, proc: NetDevCounters, after: SysfsNetStats): boolean
//
//   Readers (I/O):
//     readUdpCounters(family?: 'ipv4' | 'ipv6'): UdpCounters | null   Udp (snmp) or Udp6 (snmp6)
//     readSoftnet(): SoftnetCounters | null
//     readInterface(iface: string): NetDevCounters | null       with rx_missed_errors from sysfs
//                                                               when sysfs is this namespace's
//     readQdisc(iface: string): QdiscCounters | null            runs tc (1 s timeout): not per packet
//     routeDevice(group: string): string | null                 runs ip (1 s timeout)
//     receiveInterface(group: string, iface: string | null): string | null
//         the device name for --interface (a name or one of its IPv4 addresses), or the route's
//     readDropCounters(iface: string | null, opts?: { qdisc?: boolean, family?: 'ipv4' | 'ipv6' }): DropCounters
//         (an IPv6 group's UDP counters are /proc/net/snmp6's Udp6 ones: the kernel counts the families apart)
//         all of the above; call once before and once after a run, off the hot path
//     diffDropCounters(before: DropCounters, after: DropCounters): DropCounterDelta
//         after - before per field; null where either side is null, the interface changed, or a
//         counter went backwards (reset, 32-bit wrap) or the CPU count changed: such a delta is
//         not trusted. Gauges (qdisc backlog/qlen/qdiscs, softnet cpus) carry the after value.
//
//   Attribution (pure):
//     attributeLoss({ expected, lost, socketOverflow, delta }): LossAttribution
//     formatAttribution(a: LossAttribution): string
//         "lost 3.10% (31,002): socket buffer full 2.90% · backlog 0.00% · interface 0.00% · unaccounted 0.20%"
//         plus one footnote line per shared counter that contributed (after '\n')
//     attributeSendLoss({ enobufs, eagain, delta }): SendLossSummary
//     formatSendLoss(s: SendLossSummary): string
//
// Use: receiver:  const dev = receiveInterface(spec.group, spec.interface);
//                 const c0 = readDropCounters(dev, { qdisc: false });   // before the socket joins
//                 ... run ...;  const d = diffDropCounters(c0, readDropCounters(dev, { qdisc: false }));
//                 attributeLoss({ expected, lost, socketOverflow: end.socket_overflow_drops, delta: d })
//      sender:    same with readDropCounters(dev) (qdisc included), then attributeSendLoss.
// The parts of a LossAttribution add up to `lost`; percents are of `expected` (as lost_percent).
//
// Scopes, checked on this kernel (6.18) by reading each file inside `unshare -n` and outside:
//   /proc/net/snmp          per network namespace (a fresh namespace reads all zeros)
//   /proc/net/softnet_stat  HOST-WIDE: the same per-CPU rows inside and outside a namespace, and
//                           traffic sent on a namespace's lo raised the host's 'processed' sum by
//                           the same amount. Other namespaces' and processes' drops add to it.
//   /proc/net/dev           per namespace (inside `unshare -n` it lists only that namespace's lo)
//   /sys/class/net          the namespace of whoever MOUNTED /sys, not the reader's: inside
//                           `unshare -n` it still lists the host's eth0, ifb0, ifb1 and lo.
//   tc, ip route get        netlink, so per namespace.
import { formatCount } from './units.js';
/** Whose counter it is: this socket's, the network namespace's, the whole host's, or the interface's */
export type CounterScope = 'socket' | 'namespace' | 'host' | 'interface';

/** /proc/net/snmp Udp: counters (RFC 4113 names), datagrams. Fields absent on older kernels are null. */
export interface UdpCounters {
  /** UDP datagrams delivered to sockets */
  InDatagrams: number;
  /** datagrams received for a port no socket listened on */
  NoPorts: number;
  /** every datagram dropped on receive, RcvbufErrors and checksum errors included */
  InErrors: number;
  /** UDP datagrams sent */
  OutDatagrams: number;
  /** receive buffer full: the namespace-wide sum of every UDP socket's overflow */
  RcvbufErrors: number;
  /** send buffer full (EAGAIN), and qdisc drops when the socket has no IP_RECVERR */
  SndbufErrors: number;
  /** datagrams dropped on receive for a bad UDP checksum */
  InCsumErrors: number | null;
  /** multicast/broadcast datagrams no socket wanted (not an error) */
  IgnoredMulti: number | null;
  /** datagrams dropped because the UDP memory limit (net.ipv4.udp_mem) was reached */
  MemErrors: number | null;
}

/** /proc/net/softnet_stat summed over CPUs */
export interface SoftnetCounters {
  /** frames the CPUs' receive processing handled (every device, host-wide) */
  processed: number;
  /** frames dropped because a CPU's input backlog was full (net.core.netdev_max_backlog) */
  dropped: number;
  /** times the NAPI budget or time ran out with work left (net.core.netdev_budget[_usecs]) */
  time_squeeze: number;
  /** CPUs (rows) summed; a level, not a counter: a delta carries the value after the run */
  cpus: number;
}

/** One /proc/net/dev row (dev_get_stats() of the device in this namespace) */
export interface NetDevCounters {
  /** bytes received by the device */
  rx_bytes: number;
  /** packets received by the device */
  rx_packets: number;
  /** packets received with errors (the device's total of receive errors) */
  rx_errors: number;
  /** the 'drop' column, packets: the kernel prints rx_dropped + rx_missed_errors here */
  rx_drop: number;
  /** receive FIFO (overrun) errors, packets */
  rx_fifo: number;
  /** multicast packets received */
  rx_multicast: number;
  /** bytes sent by the device */
  tx_bytes: number;
  /** packets sent by the device */
  tx_packets: number;
  /** packets that failed to send */
  tx_errors: number;
  /** packets dropped on the way out (e.g. no buffer space, qdisc full) */
  tx_dropped: number;
  /** packets lost because the NIC ran out of ring buffers; sysfs only, already inside rx_drop; null when sysfs is another namespace's */
  rx_missed_errors: number | null;
}

/** The device's root egress qdisc(s): a root qdisc's figures already include its children's */
export interface QdiscCounters {
  /** packets the qdisc dropped (queue full, shaping) */
  drops: number;
  /** times a packet found the qdisc over its limit or rate (delayed or dropped), events */
  overlimits: number;
  /** bytes queued at the time of reading; a level: a delta carries the value after the run */
  backlog: number;
  /** packets queued at the time of reading; a level: a delta carries the value after the run */
  qlen: number;
  /** root qdiscs found (0 for a device with none, e.g. ifb or a down lo); a delta carries the value after the run */
  qdiscs: number;
}

/** One source's counters and whose they are */
export interface CounterGroup<T, S extends CounterScope> {
  /** whose counter it is: namespace (udp), host (softnet, every namespace's traffic) or interface (interface, qdisc) */
  scope: S;
  /** the counters (each field's unit is in its description); null when unreadable, or in a delta when before and after do not compare (device or CPU count changed) */
  counters: T | null;
}

export interface DropCounters {
  /** the device the interface and qdisc groups describe */
  iface: string | null;
  udp: CounterGroup<UdpCounters, 'namespace'>;
  softnet: CounterGroup<SoftnetCounters, 'host'>;
  interface: CounterGroup<NetDevCounters, 'interface'>;
  qdisc: CounterGroup<QdiscCounters, 'interface'>;
}

/**
 * A counter set's change over the run, after minus before, per field (in that field's unit);
 * null where either side was unreadable or the counter went backwards (reset, 32-bit wrap).
 * Levels (qdisc backlog / qlen / qdiscs, softnet cpus) carry their value after the run.
 * (The schema generator cannot see T's field comments through this mapped type:
 * test/helpers/result-schema.mjs copies them in.)
 */
export type Delta<T> = { [K in keyof T]: number | null };

export interface DropCounterDelta {
  /** the device the interface and qdisc groups describe (-I's, or the group's route); null when none was found */
  iface: string | null;
  /** /proc/net/snmp Udp: counters of this network namespace (for an IPv6 group /proc/net/snmp6's Udp6 ones, same names), datagrams */
  udp: CounterGroup<Delta<UdpCounters>, 'namespace'>;
  /** /proc/net/softnet_stat summed over CPUs, host-wide; counters null when the CPU count changed */
  softnet: CounterGroup<Delta<SoftnetCounters>, 'host'>;
  /** the device's /proc/net/dev row; counters null when the device changed during the run */
  interface: CounterGroup<Delta<NetDevCounters>, 'interface'>;
  /** the device's root egress qdisc(s) (`tc -s qdisc`); a receiver does not read them (counters null) */
  qdisc: CounterGroup<Delta<QdiscCounters>, 'interface'>;
}

// ---------------------------------------------------------------- parsers (pure)

export const count = (tok: string | undefined): number | null => (tok !== undefined && /^\d+$/.test(tok) ? Number(tok) : null);

const UDP_REQUIRED = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors'] as const;

/** Pairs the first two "Udp:" lines by header name; extra columns are ignored, missing optional ones are null. */
export function parseUdpSnmp(text: string): UdpCounters | null {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return null;
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1);
  const field = (n: string) => {
    const i = names.indexOf(n);
    return i < 0 ? null : count(values[i]);
  };
  const req = UDP_REQUIRED.map(field);
  if (req.some((v) => v === null)) return null;
  const [InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors] = req as number[];
  return {
    InDatagrams: InDatagrams!, NoPorts: NoPorts!, InErrors: InErrors!, OutDatagrams: OutDatagrams!,
    RcvbufErrors: RcvbufErrors!, SndbufErrors: SndbufErrors!,
    InCsumErrors: field('InCsumErrors'), IgnoredMulti: field('IgnoredMulti'), MemErrors: field('MemErrors'),
  };
}

/** /proc/net/snmp6's "Udp6InDatagrams 5" lines (one name and value a line), as the Udp: fields of the same names. */
export function parseUdp6Snmp(text: string): UdpCounters | null {
  const values = new Map<string, number | null>();
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name?.startsWith('Udp6') === true) values.set(name.slice(4), count(value));
  }
  const field = (n: string) => values.get(n) ?? null;
  const req = UDP_REQUIRED.map(field);
  if (req.some((v) => v === null)) return null;
  const [InDatagrams, NoPorts, InErrors, OutDatagrams, RcvbufErrors, SndbufErrors] = req as number[];
  return {
    InDatagrams: InDatagrams!, NoPorts: NoPorts!, InErrors: InErrors!, OutDatagrams: OutDatagrams!,
    RcvbufErrors: RcvbufErrors!, SndbufErrors: SndbufErrors!,
    InCsumErrors: field('InCsumErrors'), IgnoredMulti: field('IgnoredMulti'), MemErrors: field('MemErrors'),
  };
}

/** One row per CPU, hex columns: processed, dropped, time_squeeze, ... (newer kernels append more). */
export function parseSoftnetStat(text: string): SoftnetCounters | null {
  const rows = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (rows.length === 0) return null;
  const sum: SoftnetCounters = { processed: 0, dropped: 0, time_squeeze: 0, cpus: rows.length };
  for (const row of rows) {
    const cols = row.split(/\s+/);
    if (cols.length < 3 || !cols.every((c) => /^[0-9a-f]+$/i.test(c))) return null;
    sum.processed += parseInt(cols[0]!, 16);
    sum.dropped += parseInt(cols[1]!, 16);
    sum.time_squeeze += parseInt(cols[2]!, 16);
  }
  return sum;
}

/** Rows "  name: 16 numbers"; the name ends at the first ':' (device names cannot contain one). */
export function parseNetDev(text: string): Map<string, NetDevCounters> | null {
  const lines = text.split('\n');
  if (!/\|\s*bytes\s+packets\s+errs\s+drop\s+fifo/.test(lines[1] ?? '')) return null;
  const devs = new Map<string, NetDevCounters>();
  for (const line of lines.slice(2)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    const v = line.slice(colon + 1).trim().split(/\s+/).map(count);
    if (colon < 0 || v.length < 16 || v.some((x) => x === null)) return null;
    const n = v as number[];
    devs.set(line.slice(0, colon).trim(), {
      rx_bytes: n[0]!, rx_packets: n[1]!, rx_errors: n[2]!, rx_drop: n[3]!, rx_fifo: n[4]!, rx_multicast: n[7]!,
      tx_bytes: n[8]!, tx_packets: n[9]!, tx_errors: n[10]!, tx_dropped: n[11]!, rx_missed_errors: null,
    });
  }
  return devs;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Sums the root qdiscs only: a classful root (htb, mq, prio) counts its children's drops too, so
 * summing every qdisc of the device would count each drop twice (seen: htb 994 + pfifo 994).
 * The ingress/clsact qdisc (parent ffff:fff1) is not on the send path and is left out.
 */
export function parseTcQdisc(json: string): QdiscCounters | null {
  const list = parseJson(json);
  if (!Array.isArray(list)) return null;
  const sum: QdiscCounters = { drops: 0, overlimits: 0, backlog: 0, qlen: 0, qdiscs: 0 };
  for (const q of list) {
    if (!isRecord(q)) return null;
    if (q.root !== true) continue;
    const { drops, overlimits, backlog, qlen } = q;
    if (typeof drops !== 'number' || typeof overlimits !== 'number' || typeof backlog !== 'number' || typeof qlen !== 'number') return null;
    sum.drops += drops;
    sum.overlimits += overlimits;
    sum.backlog += backlog;
    sum.qlen += qlen;
    sum.qdiscs += 1;
  }
  return sum;
}

export function parseRouteGet(json: string): string | null {
  const list = parseJson(json);
  const first: unknown = Array.isArray(list) ? list[0] : undefined;
  return isRecord(first) && typeof first.dev === 'string' && first.dev !== '' ? first.dev : null;
}

/** /sys/class/net/IF/statistics/* of the counters that /proc/net/dev also shows */
export interface SysfsNetStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; rx_missed_errors: number;
  rx_fifo_errors: number; multicast: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}
export const SYSFS_FIELDS: Array<keyof SysfsNetStats> = [
  'rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped', 'rx_missed_errors', 'rx_fifo_errors', 'multicast',
  'tx_bytes', 'tx_packets', 'tx_errors', 'tx_dropped',
];

/**
 * Is the sysfs device the one /proc/net/dev shows? sysfs shows the namespace that mounted /sys,
 * so after `unshare -n` a same-named device there is someone else's. Both files come from the
 * same dev_get_stats(), so for the same device every /proc/net/dev column lies between two sysfs
 * reads taken before and after it (counters only grow). Another device would have to match ten
 * counters at once, rx_dropped + rx_missed_errors included, so a match is taken as identity.
 */
export function sysfsMatchesNetDev(before: SysfsNetStats, proc: NetDevCounters, after: SysfsNetStats): boolean {
  const pairs: Array<[number, (s: SysfsNetStats) => number]> = [
    [proc.rx_bytes, (s) => s.rx_bytes], [proc.rx_packets, (s) => s.rx_packets], [proc.rx_errors, (s) => s.rx_errors],
    [proc.rx_drop, (s) => s.rx_dropped + s.rx_missed_errors], [proc.rx_fifo, (s) => s.rx_fifo_errors],
    [proc.rx_multicast, (s) => s.multicast], [proc.tx_bytes, (s) => s.tx_bytes], [proc.tx_packets, (s) => s.tx_packets],
    [proc.tx_errors, (s) => s.tx_errors], [proc.tx_dropped, (s) => s.tx_dropped],
  ];
  return pairs.every(([p, f]) => f(before) <= p && p <= f(after));
}

const GAUGES = new Set(['backlog', 'qlen', 'qdiscs', 'cpus']);

function diff<T extends object>(a: T | null, b: T | null): Delta<T> | null {
  if (a === null || b === null) return null;
  const out: Record<string, number | null> = {};
  for (const [k, y] of Object.entries(b)) {
    const x: unknown = (a as Record<string, unknown>)[k];
    if (typeof x !== 'number' || typeof y !== 'number') out[k] = null;
    else if (GAUGES.has(k)) out[k] = y;
    else out[k] = y >= x ? y - x : null;
  }
  return out as Delta<T>;
}

export function diffDropCounters(before: DropCounters, after: DropCounters): DropCounterDelta {
  const same = before.iface === after.iface;
  return {
    iface: after.iface,
    udp: { scope: 'namespace', counters: diff(before.udp.counters, after.udp.counters) },
    // A CPU going on- or offline changes which rows are summed: the sums no longer compare.
    softnet: { scope: 'host', counters: before.softnet.counters?.cpus === after.softnet.counters?.cpus ? diff(before.softnet.counters, after.softnet.counters) : null },
    interface: { scope: 'interface', counters: same ? diff(before.interface.counters, after.interface.counters) : null },
    qdisc: { scope: 'interface', counters: same ? diff(before.qdisc.counters, after.qdisc.counters) : null },
  };
}

// ---------------------------------------------------------------- attribution (pure)

export interface LossPart {
  /** packets put down to this cause; null when its counter could not be read */
  count: number | null;
  /** 100 * count / expected, percent 0-100 (0 when nothing was expected); null with count */
  percent: number | null;
  /** whose counter it is; null for 'unaccounted' */
  scope: CounterScope | null;
  /** the counter also counts other sockets' / processes' / flows' drops */
  shared: boolean;
}

export interface LossAttribution {
  /** packets the receiver expected, all sessions (end.sum.expected_packets) */
  expected: number;
  /** packets lost, all sessions (end.sum.lost_packets): the parts below add up to it */
  lost: number;
  /** 100 * lost / expected, percent 0-100 */
  lost_percent: number;
  /** the receive device whose counters the interface part reads; null when none was found */
  iface: string | null;
  /** socket receive buffer full: this socket's SO_RXQ_OVFL (or the namespace's RcvbufErrors, shared) */
  socket_buffer: LossPart;
  /** a CPU's input backlog full: softnet_stat dropped (host-wide, shared) */
  backlog: LossPart;
  /** dropped by the receive device: rx_drop + rx_fifo minus the backlog part (shared) */
  interface: LossPart;
  /** lost minus the parts above: dropped in the network, a bridge, the sender's host, or uncounted */
  unaccounted: LossPart;
}

const pct = (n: number, whole: number) => (whole > 0 ? (100 * n) / whole : 0);
const sum = (...xs: Array<number | null | undefined>): number | null =>
  xs.some((x) => x === null || x === undefined) ? null : (xs as number[]).reduce((a, b) => a + b, 0);

/**
 * Splits `lost` in this order, each part capped at what the earlier ones left:
 *  1. socket buffer full: SO_RXQ_OVFL delta of this socket (`socketOverflow`); when the caller
 *     has none, the namespace's UDP RcvbufErrors delta, marked shared.
 *  2. backlog: softnet_stat 'dropped' delta (host-wide, shared).
 *  3. interface: the receive device's rx_drop (rx_dropped + rx_missed_errors) + rx_fifo delta,
 *     minus the backlog delta: the kernel counts a backlog drop in the device's rx_dropped too,
 *     so without this it would be counted twice. The subtraction can only under-count (the
 *     backlog figure may hold other devices' drops): the rest then shows as unaccounted.
 *  4. unaccounted: what is left.
 * The caps make the parts add up to `lost` exactly; a part whose counter was unreadable is null
 * and its share falls into 'unaccounted'.
 */
export function attributeLoss(input: {
  expected: number;
  lost: number;
  socketOverflow: number | null;
  delta: DropCounterDelta;
}): LossAttribution {
  const { expected, lost, delta } = input;
  let left = Math.max(0, lost);
  const part = (raw: number | null, scope: CounterScope | null, shared: boolean): LossPart => {
    if (raw === null) return { count: null, percent: null, scope, shared };
    const n = Math.min(left, Math.max(0, raw));
    left -= n;
    return { count: n, percent: pct(n, expected), scope, shared };
  };
  const rcvbuf = delta.udp.counters?.RcvbufErrors ?? null;
  const socket_buffer = input.socketOverflow !== null ? part(input.socketOverflow, 'socket', false) : part(rcvbuf, 'namespace', true);
  const backlogRaw = delta.softnet.counters?.dropped ?? null;
  const backlog = part(backlogRaw, 'host', true);
  const dev = delta.interface.counters;
  const ifaceRaw = sum(dev?.rx_drop, dev?.rx_fifo);
  const iface = part(ifaceRaw === null ? null : ifaceRaw - (backlogRaw ?? 0), 'interface', true);
  return {
    expected,
    lost,
    lost_percent: pct(lost, expected),
    iface: delta.iface,
    socket_buffer,
    backlog,
    interface: iface,
    unaccounted: { count: left, percent: pct(left, expected), scope: null, shared: false },
  };
}

const MARK: Record<CounterScope, string> = { socket: '', host: '*', namespace: '†', interface: '‡' };

function footnote(scope: CounterScope, iface: string | null): string {
  if (scope === 'host') return '* host-wide counter: other traffic may add to it';
  if (scope === 'namespace') return '† namespace-wide counter (UDP RcvbufErrors): other sockets may add to it';
  return `‡ interface counter${iface ? ` (${iface})` : ''}: other traffic on the interface may add to it`;
}

const fmtPct = (p: number) => `${p.toFixed(2)}%`;

/**
 * One line in the style users asked for; a shared counter that contributed (count > 0) gets a
 * mark and a footnote line after '\n'. Unreadable parts show as "n/a".
 */
export function formatAttribution(a: LossAttribution): string {
  const notes: string[] = [];
  const show = (name: string, p: LossPart) => {
    if (p.count === null || p.percent === null) return `${name} n/a`;
    let mark = '';
    if (p.shared && p.scope !== null && p.count > 0) {
      mark = MARK[p.scope];
      const note = footnote(p.scope, a.iface);
      if (!notes.includes(note)) notes.push(note);
    }
    return `${name}${mark} ${fmtPct(p.percent)}`;
  };
  const parts = [
    show('socket buffer full', a.socket_buffer),
    show('backlog', a.backlog),
    show('interface', a.interface),
    show('unaccounted', a.unaccounted),
  ];
  return [`lost ${fmtPct(a.lost_percent)} (${formatCount(a.lost)}): ${parts.join(' · ')}`, ...notes].join('\n');
}

export interface SendLossSummary {
  /** sendmmsg calls refused with ENOBUFS, counted by the sender itself */
  enobufs: number;
  /** sendmmsg calls refused with EAGAIN, counted by the sender itself */
  eagain: number;
  /** UDP SndbufErrors delta, datagrams, namespace-wide: socket send buffer full, and qdisc drops of sockets without IP_RECVERR; null when unreadable */
  sndbuf_errors: number | null;
  /** the send device's root qdisc drops (txqueuelen, shaping), packets; null when unreadable */
  qdisc_drops: number | null;
  /** the send device's tx_dropped delta, packets; null when unreadable */
  tx_dropped: number | null;
  /** the send device (-I's, or the group's route); null when none was found */
  iface: string | null;
}

export function attributeSendLoss(input: { enobufs: number; eagain: number; delta: DropCounterDelta }): SendLossSummary {
  const { delta } = input;
  return {
    enobufs: input.enobufs,
    eagain: input.eagain,
    sndbuf_errors: delta.udp.counters?.SndbufErrors ?? null,
    qdisc_drops: delta.qdisc.counters?.drops ?? null,
    tx_dropped: delta.interface.counters?.tx_dropped ?? null,
    iface: delta.iface,
  };
}

/** "send side: ENOBUFS 0 · EAGAIN 0 · UDP SndbufErrors 994 (namespace-wide) · qdisc drops 994 (lo) · tx_dropped 0 (lo)" */
export function formatSendLoss(s: SendLossSummary): string {
  const n = (v: number | null) => (v === null ? 'n/a' : formatCount(v));
  const dev = s.iface ? ` (${s.iface})` : '';
  return (
    `send side: ENOBUFS ${n(s.enobufs)} · EAGAIN ${n(s.eagain)} · UDP SndbufErrors ${n(s.sndbuf_errors)} (namespace-wide)` +
    ` · qdisc drops ${n(s.qdisc_drops)}${dev} · tx_dropped ${n(s.tx_dropped)}${dev}`
  );
}
