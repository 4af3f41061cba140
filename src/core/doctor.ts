// `mcbench doctor`, the pure part (DESIGN.md section 9): diagnose() turns a kernel-settings
// snapshot (settings.ts), optionally a drop-counter delta sampled over a few seconds
// (counters.ts) and the namespace's links (`ip -d -j link show`), into findings: what was seen,
// with the values; why it matters, citing the field reports in /work/shared/seeds (000 KVM
// multicast tuning, 001 rmem_max and corosync, 002 bridge snooping without a querier, 003 LVS
// kernel tuning, 004 emulated NIC collisions); and the exact command that fixes it. Checks that
// passed are findings too ('ok'), so the user sees what was looked at; a check that could not
// run or does not apply here is 'skipped', with the reason. No I/O in this file.
import type { CounterGroup, Delta, DropCounterDelta, UdpCounters } from './counters.js';
import type { KernelSettingsSnapshot, SettingEntry } from './settings.js';
import { formatSettingValue } from './settings-table.js';

export const DOCTOR_SCHEMA = 'mcbench/doctor@1' as const;

// ---------------------------------------------------------------------------------------------
// Thresholds (each with where its number comes from)

/**
 * net.core.rmem_max below this is a problem. 4 MiB holds about 20 ms of a 1 Gbit/s stream of
 * full-size datagrams (the kernel charges each datagram's truesize, roughly 2 KiB or more for a
 * 1500-byte frame, not its payload); any SO_RCVBUF a receiver asks for above rmem_max is
 * silently clamped to it, which is how seed 001's corosync lost its bursts.
 */
export const RMEM_MAX_MIN = 4 * 1024 * 1024;
/** The value seed 001 set (`sysctl -w net.core.rmem_max=26214400`), after which the drops stopped. */
export const RMEM_MAX_SUGGESTED = 26214400;
/**
 * net.core.rmem_default below this is worth knowing (info only): it is the buffer of every socket
 * that does not set SO_RCVBUF; the stock 212992 bytes hold about a hundred full-size datagrams,
 * a millisecond at 1 Gbit/s. Raising it costs memory in every UDP socket that fills up, so the
 * better fix is the receiver asking for its own buffer.
 */
export const RMEM_DEFAULT_MIN = 1024 * 1024;
/** What to raise rmem_default to when an untuned receiver cannot set SO_RCVBUF itself. */
export const RMEM_DEFAULT_SUGGESTED = 4 * 1024 * 1024;
/** Seed 000: "Set txqueuelen to 5000" on the physical interface and the bridge (the default is 1000). */
export const TXQUEUELEN_SUGGESTED = 5000;
/** The kernel's default net.ipv4.igmp_max_memberships: below it, someone lowered it. */
export const IGMP_MAX_MEMBERSHIPS_MIN = 20;
/**
 * NIC models a hypervisor emulates, by the Linux guest driver that binds to them: seed 000 names
 * Realtek and e1000, seed 004 tried e1000, ne2k_pci, pcnet and rtl8139 (8139cp or 8139too in a
 * Linux guest). On bare metal the same drivers run real NICs, so they only count inside a VM.
 */
export const EMULATED_NIC_DRIVERS: readonly string[] = ['e1000', 'e1000e', 'rtl8139', '8139cp', '8139too', 'ne2k_pci', 'pcnet32'];
/** What seed 000 wants a KVM guest to use instead. */
export const PARAVIRTUAL_NIC_DRIVER = 'virtio_net';

// ---------------------------------------------------------------------------------------------
// Types

/** problem: loses or stops multicast (exit 1); warning: likely to; info: worth knowing; ok: checked, fine; skipped: could not check or does not apply. */
export type Severity = 'problem' | 'warning' | 'info' | 'ok' | 'skipped';

export const SEVERITIES: readonly Severity[] = ['problem', 'warning', 'info', 'ok', 'skipped'];

export interface Finding {
  /** the check, stable: 'rmem-max', 'bridge-querier', ... */
  id: string;
  severity: Severity;
  /** the interface or bridge it is about; null for settings of the whole host or namespace */
  target: string | null;
  /** what was seen, with the values */
  seen: string;
  /** why it matters, citing the seed; empty for ok and skipped */
  why: string;
  /** the command that fixes it (a `#` comment carries a caveat or an alternative); null for ok and skipped */
  fix: string | null;
  /** the snapshot entry ids (or counter names) the finding rests on */
  evidence: string[];
}

/** Drop counters sampled over a window: after minus before (counters.ts diffDropCounters). */
export interface CounterSample {
  /** the window, seconds */
  seconds: number;
  delta: DropCounterDelta;
  /** /proc/net/snmp6's Udp6 counters over the same window: sampled when an IPv6 group is asked for (-g); the kernel counts the families apart */
  udp6?: CounterGroup<Delta<UdpCounters>, 'namespace'>;
}

/** One link of the namespace, as `ip -d -j link show` (and /sys for the driver) reports it. */
export interface LinkFact {
  name: string;
  /** linkinfo.info_kind: 'bridge', 'veth', 'tun', ...; null for a physical NIC (or unknown) */
  kind: string | null;
  /** the bridge (or bond) it is enslaved to */
  master: string | null;
  /** tx_queue_len, packets */
  txqlen: number | null;
  /** its root qdisc: 'noqueue' means no queue, so txqueuelen is not used (bridge, veth, lo) */
  qdisc: string | null;
  /** NIC driver ('virtual' for software links); null when unknown */
  driver: string | null;
}

/** One family's querier as the bridge reports it (IFLA_BR_MCAST_QUERIER_STATE). */
export interface QuerierFamilyFact {
  /** its address; null (or '0.0.0.0', '::') when the bridge knows none */
  address: string | null;
  /** the port it was heard on; null: the bridge itself, or unknown */
  port: string | null;
  /** seconds before the bridge stops believing in this other querier; null: it heard none */
  other_querier_seconds: number | null;
}

/** What the bridge knows of its queriers, read over rtnetlink (host/doctor-probes.ts). */
export interface BridgeQuerierFact {
  bridge: string;
  /** whether this kernel reports querier state (Linux 5.16+): if so, a family left out means no querier */
  kernel_reports: boolean;
  /** null: the bridge neither queries in this family nor heard a querier (when kernel_reports) */
  ipv4: QuerierFamilyFact | null;
  ipv6: QuerierFamilyFact | null;
  /** the bridge has an IPv6 link-local address to send MLD queries from; null: unknown */
  ipv6_link_local: boolean | null;
  /** set when the state could not be read (then ipv4 and ipv6 say nothing) */
  error: string | null;
}

/** A group doctor was asked about (-g). */
export interface DoctorGroup {
  address: string;
  family: 'ipv4' | 'ipv6';
  /** in a source-specific range (232.0.0.0/8, ff3x::/32): receivers join it with --source */
  ssm: boolean;
}

/** What doctor knows besides the settings: the groups asked for, the bridge's querier state. */
export interface DoctorContext {
  groups?: readonly DoctorGroup[];
  querier?: BridgeQuerierFact | null;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const byKey = (s: KernelSettingsSnapshot, key: string): SettingEntry | undefined => s.entries.find((e) => e.key === key);
const num = (e: SettingEntry | undefined): number | null => (e && e.available && typeof e.value === 'number' ? e.value : null);
const show = (s: KernelSettingsSnapshot, e: SettingEntry): string => `${e.id} = ${formatSettingValue(e, s.host.page_size)}`;
const secs = (cs: number): string => `${+(cs / 100).toFixed(2)} s`;
const rate = (n: number, seconds: number): string => (seconds > 0 ? `${+(n / seconds).toFixed(1)}/s` : 'n/a');
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const mib = (b: number): string => `${+(b / 1048576).toFixed(2)} MiB`;
const unreadable = (e: SettingEntry | undefined, key: string): string =>
  e ? `${e.id} could not be read: ${e.error ?? 'unavailable'}` : `${key} is not in the snapshot`;

function finding(id: string, severity: Severity, target: string | null, seen: string, why: string, fix: string | null, evidence: string[]): Finding {
  return { id, severity, target, seen, why, fix, evidence };
}
const ok = (id: string, target: string | null, seen: string, evidence: string[]): Finding => finding(id, 'ok', target, seen, '', null, evidence);
const skipped = (id: string, target: string | null, seen: string, evidence: string[] = []): Finding => finding(id, 'skipped', target, seen, '', null, evidence);

/** true in a VM, false on bare metal, null when nothing says. */
function inVm(s: KernelSettingsSnapshot): boolean | null {
  const v = s.virtualization;
  if (v.vm !== null) return v.vm !== 'none';
  return v.hypervisor_flag;
}
const inContainer = (s: KernelSettingsSnapshot): boolean => s.virtualization.container !== null && s.virtualization.container !== 'none';

/** Writing a bridge knob: the seed's sysfs echo when /sys is this namespace's, else `ip link` (netlink follows the namespace). */
function bridgeSet(s: KernelSettingsSnapshot, br: string, sysfsName: string, ipName: string, value: number): string {
  return s.netns.sysfs_matches ? `echo ${value} > /sys/class/net/${br}/bridge/${sysfsName}` : `ip link set ${br} type bridge ${ipName} ${value}`;
}

// ---------------------------------------------------------------------------------------------
// The checks

function checkRmemMax(s: KernelSettingsSnapshot): Finding {
  const e = byKey(s, 'net.core.rmem_max');
  const v = num(e);
  if (v === null) return skipped('rmem-max', null, unreadable(e, 'net.core.rmem_max'), e ? [e.id] : []);
  if (v >= RMEM_MAX_MIN) return ok('rmem-max', null, `${show(s, e!)}: at least ${mib(RMEM_MAX_MIN)}`, [e!.id]);
  return finding('rmem-max', 'problem', null,
    `${show(s, e!)}, below ${mib(RMEM_MAX_MIN)}: no receiver can get a bigger socket buffer than this`,
    'seed 001: SO_RCVBUF requests are silently clamped to rmem_max, so a receiver asking for more (corosync did) gets this much, ' +
      `and a multicast burst overflows it (UDP RcvbufErrors); corosync's drops stopped when it was raised to ${RMEM_MAX_SUGGESTED}` +
      (s.netns.initial ? '' : '. A global sysctl: read-only in this network namespace, set it on the host'),
    `sysctl -w net.core.rmem_max=${RMEM_MAX_SUGGESTED} && echo 'net.core.rmem_max = ${RMEM_MAX_SUGGESTED}' > /etc/sysctl.d/90-multicast-rmem.conf`,
    [e!.id]);
}

function checkRmemDefault(s: KernelSettingsSnapshot): Finding {
  const e = byKey(s, 'net.core.rmem_default');
  const v = num(e);
  if (v === null) return skipped('rmem-default', null, unreadable(e, 'net.core.rmem_default'), e ? [e.id] : []);
  if (v >= RMEM_DEFAULT_MIN) return ok('rmem-default', null, `${show(s, e!)}: at least ${mib(RMEM_DEFAULT_MIN)}`, [e!.id]);
  return finding('rmem-default', 'info', null,
    `${show(s, e!)}: the buffer of every socket that does not set SO_RCVBUF, about ${Math.max(1, Math.round(v / 2048))} full-size datagrams`,
    'seed 001: a receiver that does not ask for a buffer gets this one, so untuned multicast applications drop their bursts; ' +
      'seed 001 raised it with rmem_max "just in case". Better: the receiver asks for its own buffer (SO_RCVBUF, up to rmem_max)',
    `sysctl -w net.core.rmem_default=${RMEM_DEFAULT_SUGGESTED}  # only for receivers that cannot set SO_RCVBUF; persist in /etc/sysctl.d`,
    [e!.id]);
}

function bridgesHere(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): string[] {
  const names = new Set<string>();
  if (s.bridge) names.add(s.bridge.name);
  for (const l of links ?? []) if (l.kind === 'bridge') names.add(l.name);
  return [...names];
}

function noBridge(id: string, s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const others = bridgesHere(s, links);
  return skipped(id, null, others.length
    ? `no bridge chosen; bridges in this namespace: ${others.join(', ')} (give --bridge BR)`
    : links ? 'no bridge in this network namespace' : 'no bridge chosen (give --bridge BR)');
}

function checkQuerier(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'bridge-querier';
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const snoop = byKey(s, 'bridge.<bridge>.multicast_snooping');
  const querier = byKey(s, 'bridge.<bridge>.multicast_querier');
  const sv = num(snoop);
  const qv = num(querier);
  if (sv === null) return skipped(id, br, unreadable(snoop, 'multicast_snooping'));
  const ev = [snoop!.id, ...(querier ? [querier.id] : [])];
  if (sv === 0) return ok(id, br, `${br}: multicast_snooping=0: every group is flooded to every port, no membership can expire`, ev);
  if (qv === null) return skipped(id, br, unreadable(querier, 'multicast_querier'), ev);
  const mem = num(byKey(s, 'bridge.<bridge>.multicast_membership_interval'));
  const qi = num(byKey(s, 'bridge.<bridge>.multicast_query_interval'));
  if (qv !== 0) {
    return ok(id, br, `${br}: multicast_snooping=1 with multicast_querier=1: the bridge queries` +
      (qi !== null ? ` every ${secs(qi)}` : '') + ', so guests re-report and memberships are refreshed', ev);
  }
  const memText = mem !== null ? `${secs(mem)} (multicast_membership_interval)` : 'multicast_membership_interval';
  return finding(id, 'problem', br,
    `${br}: multicast_snooping=1 but multicast_querier=0: the bridge forwards a group only to ports that reported it, and nothing on ${br} asks the guests to report again`,
    `seed 002: a membership lives ${memText} after the guest's last report, and guests report again only when a query asks them. ` +
      'Kernels without the upstream fix b00589a (RHEL 6.5\'s 2.6.32-431) then stop forwarding the group: multicast between guests quits after that fixed time. ' +
      'Newer kernels flood while they hear no querier at all, so there delivery hangs on whatever querier is on the LAN: memberships live only as long as it keeps asking',
    `${bridgeSet(s, br, 'multicast_querier', 'mcast_querier', 1)}  # or run an IGMP querier on the LAN (seed 002); persist with BRIDGING_OPTS="multicast_querier=1" or your network manager's bridge option`,
    ev);
}

function checkMembershipInterval(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'bridge-membership-interval';
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const keys = ['multicast_snooping', 'multicast_querier', 'multicast_membership_interval', 'multicast_querier_interval',
    'multicast_query_interval', 'multicast_query_response_interval'] as const;
  const entries = keys.map((k) => byKey(s, `bridge.<bridge>.${k}`));
  const ev = entries.filter((e): e is SettingEntry => e !== undefined).map((e) => e.id);
  const [snoop, querier, mem, qIntvl, query, resp] = entries.map(num);
  if (snoop === 0) return ok(id, br, `${br}: snooping off: the membership timers are not used`, ev);
  const missing = keys.find((_k, i) => num(entries[i]) === null);
  if (missing) return skipped(id, br, unreadable(entries[keys.indexOf(missing)], missing), ev);
  const M = mem!, Qi = qIntvl!, Q = query!, R = resp!;
  // The RFC 3376 relation (membership = robustness x query + response, other-querier-present =
  // robustness x query + response / 2): with the defaults 26000 cs and 25500 cs.
  const suggested = Math.max(Qi + Math.ceil(R / 2), 2 * Q + R);
  const fix = `ip link set ${br} type bridge mcast_membership_interval ${suggested}  # centiseconds (${secs(suggested)})`;
  if (M < Qi) {
    return finding(id, 'warning', br,
      `${br}: multicast_membership_interval ${secs(M)} is shorter than multicast_querier_interval ${secs(Qi)}`,
      'seed 002: when the querier goes quiet (stops, moves, loses the election to a dead one), the bridge still believes in it for ' +
        `${secs(Qi)} after its last query, but the memberships expire ${secs(M)} after the guests' answers (sent within ${secs(R)} of that query). ` +
        `In between, up to ${secs(Qi - M)}, the groups are unregistered while a querier is presumed, so ${br} forwards them only to multicast-router ports: ` +
        'traffic between guests stops, then resumes when the bridge floods (or queries itself). With the membership interval at least the querier interval there is no gap',
      fix, ev);
  }
  if (querier !== 0 && M <= Q + R) {
    return finding(id, 'warning', br,
      `${br}: multicast_membership_interval ${secs(M)} is not longer than multicast_query_interval ${secs(Q)} + multicast_query_response_interval ${secs(R)}`,
      `seed 002: ${br} is the querier and refreshes memberships once per query; a guest may answer a query at once and the next one ${secs(Q + R)} later, ` +
        'so its membership can expire between the two answers and the group stop reaching it until it reports again',
      fix, ev);
  }
  return ok(id, br, `${br}: membership ${secs(M)} ≥ querier presence ${secs(Qi)}` + (querier !== 0 ? ` and > query ${secs(Q)} + response ${secs(R)}` : ''), ev);
}

function checkBridgeNf(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'bridge-nf-call';
  const tables = ['iptables', 'ip6tables', 'arptables'] as const;
  const sysctls = tables.map((t) => byKey(s, `net.bridge.bridge-nf-call-${t}`));
  const perBridge = s.bridge ? tables.map((t) => byKey(s, `bridge.<bridge>.nf_call_${t}`)) : [];
  const ev = [...sysctls, ...perBridge].filter((e): e is SettingEntry => e !== undefined).map((e) => e.id);
  const onSysctls = sysctls.filter((e) => num(e) === 1) as SettingEntry[];
  const onBridge = perBridge.filter((e) => num(e) === 1) as SettingEntry[];
  if (sysctls.every((e) => !e?.available)) {
    // Without br_netfilter its hooks are not registered: a bridge's own nf_call_* do nothing either.
    if (sysctls.some((e) => /br_netfilter is not loaded/.test(e?.error ?? ''))) {
      return ok(id, null, 'br_netfilter is not loaded: bridged frames do not pass through iptables' +
        (onBridge.length ? ` (${onBridge.map((e) => `${e.id}=1`).join(', ')} would take effect once it is)` : ''), ev);
    }
    if (onBridge.length === 0) return skipped(id, null, unreadable(sysctls[0], 'net.bridge.bridge-nf-call-iptables'), ev);
  }
  if (onSysctls.length === 0 && onBridge.length === 0) {
    return ok(id, s.bridge?.name ?? null, 'net.bridge.bridge-nf-call-* are 0' + (s.bridge ? ` and ${s.bridge.name} does not switch them on itself` : ''), ev);
  }
  const bridges = bridgesHere(s, links);
  const seenList = [...onSysctls, ...onBridge].map((e) => `${e.id}=1`).join(', ');
  const fixParts: string[] = [];
  if (onSysctls.length) fixParts.push(`sysctl -w ${onSysctls.map((e) => `${e.id}=0`).join(' ')}`);
  if (onBridge.length) fixParts.push(`ip link set ${s.bridge!.name} type bridge ${onBridge.map((e) => `${e.id.split('.').pop()} 0`).join(' ')}`);
  const fix = `${fixParts.join(' && ')}  # unless a firewall between guests, Docker or Kubernetes needs bridged traffic filtered; persist in /etc/sysctl.d (they exist while br_netfilter is loaded)`;
  const why = 'seed 000: "Bridge netfilter should be disabled": with it every frame bridged between guests also goes through iptables/ip6tables/arptables ' +
    '(and conntrack), extra work per packet; if the FORWARD chain drops (Docker sets its policy to DROP), bridged multicast between guests is dropped outright (`iptables -S FORWARD`)';
  if (bridges.length === 0) {
    return finding(id, 'info', null, `${seenList}, but ${links ? 'there is no bridge in this network namespace' : 'no bridge was chosen (give --bridge BR)'}: nothing is bridged through it now`,
      why, fix, ev);
  }
  return finding(id, 'warning', s.bridge?.name ?? null, `${seenList} with ${plural(bridges.length, 'bridge')} in this namespace (${bridges.join(', ')})`, why, fix, ev);
}

function checkStp(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'bridge-stp';
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const e = byKey(s, 'bridge.<bridge>.stp_state');
  const v = num(e);
  if (v === null) return skipped(id, br, unreadable(e, 'stp_state'), e ? [e.id] : []);
  if (v === 0) return ok(id, br, `${br}: stp_state=0 (STP off): new ports forward at once`, [e!.id]);
  return finding(id, 'warning', br,
    `${br}: ${show(s, e!)}`,
    'seed 000: "Spanning Tree Protocol (STP) should be disabled on all software bridges": a port that comes up (a guest starting or migrating in) ' +
      'spends the bridge\'s forward_delay listening and again learning (2 x 15 s by default) before it forwards, so the new guest misses multicast, cluster heartbeats included',
    `ip link set ${br} type bridge stp_state 0  # only if ${br} cannot be part of a loop (one uplink, no second path between switches); otherwise keep STP and lower forward_delay`,
    [e!.id]);
}

interface QueueCandidate { name: string; txqlen: number; qdisc: string | null; kind: string | null; entry: string | null }

/**
 * Software links the kernel makes IFF_NO_QUEUE: they get the noqueue qdisc when up, so their
 * txqueuelen sizes nothing (a down link shows 'noop', no qdisc yet). A tap ('tun') is not here:
 * it sizes its own ring toward the guest by tx_queue_len whatever its qdisc.
 */
const NOQUEUE_KINDS = new Set(['bridge', 'veth', 'loopback', 'vlan', 'macvlan', 'bond', 'dummy']);

/** Whether tx_queue_len sizes a queue on this link. */
function queueUsed(c: QueueCandidate): boolean {
  if (c.kind === 'tun') return true;
  if (c.qdisc === 'noqueue') return false;
  if (c.qdisc !== null && c.qdisc !== 'noop') return true; // a qdisc is attached: it uses the length
  return !(c.kind !== null && NOQUEUE_KINDS.has(c.kind));
}

function checkTxqueuelen(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'txqueuelen';
  const link = (name: string) => links?.find((l) => l.name === name) ?? null;
  const cands: QueueCandidate[] = [];
  const add = (name: string, txqlen: number | null, entry: string | null, kind: string | null = null) => {
    if (txqlen === null || cands.some((c) => c.name === name)) return;
    const l = link(name);
    cands.push({ name, txqlen, qdisc: l?.qdisc ?? null, kind: l?.kind ?? kind, entry });
  };
  const ie = byKey(s, 'link.<iface>.tx_queue_len');
  if (s.interface && ie) add(s.interface.name, num(ie), ie.id);
  const be = byKey(s, 'bridge.<bridge>.tx_queue_len');
  if (s.bridge && be) add(s.bridge.name, num(be), be.id, 'bridge');
  if (s.bridge) for (const l of links ?? []) if (l.master === s.bridge.name) add(l.name, l.txqlen, null);
  const ev = cands.map((c) => c.entry ?? `link ${c.name}`);
  if (cands.length === 0) return skipped(id, null, s.interface || s.bridge ? 'tx_queue_len could not be read' : 'no interface or bridge to check (give -I IFACE or --bridge BR)');
  const unused = cands.filter((c) => !queueUsed(c));
  const used = cands.filter((c) => !unused.includes(c));
  const low = used.filter((c) => c.txqlen < TXQUEUELEN_SUGGESTED);
  const unusedText = unused.length ? `; ${unused.map((c) => c.name).join(', ')} ${unused.length === 1 ? 'has' : 'have'} no queue (noqueue device), so txqueuelen does not apply` : '';
  if (low.length === 0) {
    if (used.length === 0) return skipped(id, null, `${cands.map((c) => c.name).join(', ')}: no queue (noqueue device), so txqueuelen does not apply`, ev);
    return ok(id, null, `${used.map((c) => `${c.name} ${c.txqlen}`).join(', ')}: at least ${TXQUEUELEN_SUGGESTED}${unusedText}`, ev);
  }
  const tap = low.some((c) => c.kind === 'tun');
  return finding(id, 'info', low.length === 1 ? low[0]!.name : null,
    `txqueuelen ${low.map((c) => `${c.name} ${c.txqlen}`).join(', ')} packets, below seed 000's ${TXQUEUELEN_SUGGESTED}${unusedText}`,
    `seed 000: "Setting txqueuelen to 5000 can improve performance in some situations", on both the physical interface and the bridge: ` +
      'room for cyclic multicast with occasional spikes; it costs memory and latency, and if the guests cannot keep up it only delays the drops' +
      (tap ? '. On a tap (a VM\'s port) it is the queue toward the guest' : ''),
    low.map((c) => `ip link set dev ${c.name} txqueuelen ${TXQUEUELEN_SUGGESTED}`).join(' && '),
    ev);
}

function checkNicDriver(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'nic-driver';
  const nics: Array<{ name: string; driver: string; entry: string | null }> = [];
  if (s.interface?.driver) nics.push({ name: s.interface.name, driver: s.interface.driver, entry: byKey(s, 'link.<iface>.driver')?.id ?? null });
  if (s.bridge) {
    for (const l of links ?? []) {
      if (l.master === s.bridge.name && l.driver && !nics.some((n) => n.name === l.name)) nics.push({ name: l.name, driver: l.driver, entry: null });
    }
  }
  if (nics.length === 0) {
    return skipped(id, null, s.interface ? `${s.interface.name}: NIC driver unknown (${byKey(s, 'link.<iface>.driver')?.error ?? 'not read'})` : 'no interface (give -I IFACE)');
  }
  const ev = nics.map((n) => n.entry ?? `link ${n.name}`);
  const list = nics.map((n) => `${n.name} ${n.driver}`).join(', ');
  const emulated = nics.filter((n) => EMULATED_NIC_DRIVERS.includes(n.driver));
  if (emulated.length === 0) return ok(id, nics.length === 1 ? nics[0]!.name : null, `${list}: no emulated NIC`, ev);
  const vm = inVm(s);
  if (vm === false) return ok(id, null, `${list}: ${emulated.map((n) => n.driver).join(', ')} on bare metal is a real NIC, not an emulated one`, ev);
  return finding(id, 'warning', emulated.length === 1 ? emulated[0]!.name : null,
    `${emulated.map((n) => `${n.name} uses ${n.driver}`).join(', ')}, a NIC the hypervisor emulates` +
      (vm === null ? ' (if this is a VM: nothing here says whether it is)' : ` (this is a ${s.virtualization.vm ?? 'VM'} guest)`),
    'seeds 000 and 004: KVM guests "should always be configured to use the para-virtualized network driver (virtio-net)"; emulated cards cost extra copies per packet (seed 000), ' +
      'and seed 004\'s emulated rtl8139 reported a collision for nearly every packet sent while the 10 Mbit/s models dropped "impossible" packets',
    `virsh edit <guest>  # on the host: <model type='virtio'/> in this interface's definition (qemu: -device virtio-net-pci), then restart the guest; it then uses ${PARAVIRTUAL_NIC_DRIVER}`,
    ev);
}

function checkKvm(s: KernelSettingsSnapshot): Finding {
  const id = 'kvm-acceleration';
  const v = s.virtualization;
  if (v.kvm_device) return ok(id, null, '/dev/kvm is present: guests started here can use KVM acceleration', ['/dev/kvm']);
  if (inContainer(s)) return skipped(id, null, `in a container (${v.container}): /dev/kvm is often not passed in; check on the host`, ['/dev/kvm']);
  const vm = inVm(s);
  if (vm === true) return skipped(id, null, `this is a ${v.vm ?? 'VM'} guest without /dev/kvm: only guests nested inside it would be emulated`, ['/dev/kvm']);
  if (vm === null) return skipped(id, null, 'no /dev/kvm, and nothing says whether this is bare metal or a VM', ['/dev/kvm']);
  return finding(id, 'info', null,
    'no /dev/kvm on this bare-metal host: if it runs VMs, they run without KVM acceleration',
    'seed 000: "If the KVM kernel modules are not being used, the guest will run fully emulated, drastically reducing performance" (lsmod | grep kvm shows kvm_intel or kvm_amd when they are)',
    'modprobe kvm_intel || modprobe kvm_amd  # if both fail, enable VT-x / AMD-V in the firmware',
    ['/dev/kvm']);
}

/** IPv4's UDP counters (/proc/net/snmp Udp:), or IPv6's (/proc/net/snmp6 Udp6*, the same names): separate findings. */
function checkUdpErrors(s: KernelSettingsSnapshot, sample: CounterSample | null, family: 'ipv4' | 'ipv6' = 'ipv4'): Finding[] {
  const v6 = family === 'ipv6';
  const id = v6 ? 'udp6-receive-errors' : 'udp-receive-errors';
  const UDP = v6 ? 'UDPv6' : 'UDP';
  const src = v6 ? '/proc/net/snmp6 Udp6' : '/proc/net/snmp Udp: ';
  if (!sample) return [skipped(id, null, 'counters not sampled (--sample 0)')];
  const u = (v6 ? sample.udp6 : sample.delta.udp)?.counters;
  if (!u || u.RcvbufErrors === null || u.InErrors === null) return [skipped(id, null, `${UDP} counters (${v6 ? '/proc/net/snmp6' : '/proc/net/snmp'}) could not be read or went backwards`)];
  const T = sample.seconds;
  const ev = [`${src}RcvbufErrors`, 'InErrors', 'MemErrors'];
  const out: Finding[] = [];
  const rmem = num(byKey(s, 'net.core.rmem_max'));
  const other = u.InErrors - u.RcvbufErrors - (u.MemErrors ?? 0) - (u.InCsumErrors ?? 0);
  const extra = [
    `InErrors +${u.InErrors}`,
    u.InCsumErrors ? `InCsumErrors +${u.InCsumErrors}` : null,
    other > 0 ? `${other} other receive errors` : null,
  ].filter(Boolean).join(', ');
  if (u.RcvbufErrors > 0) {
    out.push(finding(id, 'problem', null,
      `${UDP} RcvbufErrors +${u.RcvbufErrors} in ${T} s (${rate(u.RcvbufErrors, T)}), ${extra}: sockets in this namespace found their receive buffer full`,
      'seed 001: the datagrams arrived and were dropped because the receiving socket\'s buffer was full (netstat -su "receive buffer errors"); ' +
        'corosync\'s drops stopped when rmem_max let its socket have a larger buffer. The counter is namespace-wide: it does not say which socket',
      (rmem !== null && rmem < RMEM_MAX_SUGGESTED ? `sysctl -w net.core.rmem_max=${RMEM_MAX_SUGGESTED}  # then ` : '# ') +
        `restart the receiver with a larger SO_RCVBUF (e.g. mcbench recv --rcvbuf 16M; at most rmem_max${rmem !== null ? ` = ${rmem}` : ''}), or make it read faster`,
      ev));
  }
  if ((u.MemErrors ?? 0) > 0) {
    const mem = byKey(s, 'net.ipv4.udp_mem');
    const v = mem?.available && Array.isArray(mem.value) && mem.value.length === 3 ? mem.value : null;
    out.push(finding(v6 ? 'udp6-mem-errors' : 'udp-mem-errors', 'problem', null,
      `${UDP} MemErrors +${u.MemErrors} in ${T} s (${rate(u.MemErrors!, T)})` + (mem ? `; ${show(s, mem)}` : ''),
      'seed 003 ("tune /proc/sys/net/ipv4/*mem*"): all UDP sockets together reached net.ipv4.udp_mem\'s maximum, so every UDP receive was dropped whatever rmem_max allows',
      v ? `sysctl -w net.ipv4.udp_mem="${v[0]} ${v[1]! * 2} ${v[2]! * 2}"  # pages; on the host (a global sysctl)` : 'sysctl -w net.ipv4.udp_mem="MIN PRESSURE MAX"  # pages: double the last two on the host',
      [`${src}MemErrors`, ...(mem ? [mem.id] : [])]));
  }
  if (out.length === 0 && u.InErrors > 0) {
    out.push(finding(id, 'warning', null,
      `${UDP} ${extra} in ${T} s (${rate(u.InErrors, T)}), RcvbufErrors unchanged`,
      'datagrams dropped on receive for another reason than a full buffer (checksum errors count here): not a buffer-size problem (seed 001\'s were)',
      `# look at ${v6 ? 'Udp6InCsumErrors in /proc/net/snmp6' : 'the InCsumErrors column of /proc/net/snmp'} and at the sender's NIC offloads (ethtool -k IFACE)`,
      ev));
  }
  if (out.length === 0) {
    out.push(ok(id, null, `${UDP} RcvbufErrors and InErrors unchanged over ${T} s (run the multicast load meanwhile for this to mean something)`, ev));
  }
  return out;
}

function checkSoftnet(s: KernelSettingsSnapshot, sample: CounterSample | null): Finding {
  const id = 'softnet-backlog-drops';
  if (!sample) return skipped(id, null, 'counters not sampled (--sample 0)');
  const c = sample.delta.softnet.counters;
  if (!c || c.dropped === null) return skipped(id, null, '/proc/net/softnet_stat could not be read, or the CPU count changed during the sample');
  const T = sample.seconds;
  const e = byKey(s, 'net.core.netdev_max_backlog');
  const backlog = num(e);
  const ev = ['/proc/net/softnet_stat dropped', ...(e ? [e.id] : [])];
  const squeeze = c.time_squeeze ? `; time_squeeze +${c.time_squeeze} (the per-poll budget ran out with packets left)` : '';
  if (c.dropped === 0) return ok(id, null, `softnet_stat dropped unchanged over ${T} s (host-wide)${squeeze}`, ev);
  return finding(id, 'problem', null,
    `softnet_stat dropped +${c.dropped} in ${T} s (${rate(c.dropped, T)}, host-wide); ` + (e ? show(s, e) : 'net.core.netdev_max_backlog not read') + squeeze,
    'seed 003 (tune /proc/sys/net/core/*): a CPU\'s input backlog, net.core.netdev_max_backlog packets, was full, so frames from the NIC (or a veth/tap) ' +
      'were dropped before any socket saw them; bigger socket buffers do not help here',
    backlog !== null
      ? `sysctl -w net.core.netdev_max_backlog=${backlog * 2}  # double it until softnet drops stop; persist in /etc/sysctl.d`
      : 'sysctl -w net.core.netdev_max_backlog=$(( $(sysctl -n net.core.netdev_max_backlog) * 2 ))  # on the host (a global sysctl); persist in /etc/sysctl.d',
    ev);
}

const IGMP_NAME: Record<number, string> = { 1: 'IGMPv1', 2: 'IGMPv2', 3: 'IGMPv3' };

function checkIgmpVersion(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'igmp-version';
  const all = byKey(s, 'net.ipv4.conf.all.force_igmp_version');
  const dev = byKey(s, 'net.ipv4.conf.<iface>.force_igmp_version');
  const av = num(all);
  const dv = num(dev);
  if (av === null && dv === null) return skipped(id, null, unreadable(all, 'net.ipv4.conf.all.force_igmp_version'));
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const be = byKey(s, 'bridge.<bridge>.multicast_igmp_version');
  const bv = num(be);
  const ev = [all, dev, be].filter((e): e is SettingEntry => e?.available === true).map((e) => e.id);
  if (bv === null) return skipped(id, br, unreadable(be, 'multicast_igmp_version'), ev);
  // The kernel reports in v1 when all or the interface says 1, else v2 when either says 2
  // (IGMP_V1_SEEN / IGMP_V2_SEEN in net/ipv4/igmp.c); 0 and 3 follow the querier.
  const forcing = [all, dev].filter((e): e is SettingEntry => num(e) === 1 || num(e) === 2);
  const forced = av === 1 || dv === 1 ? 1 : av === 2 || dv === 2 ? 2 : null;
  if (forced === null || forced === bv) {
    return ok(id, br, forced === null
      ? `force_igmp_version ${[all, dev].filter((e) => num(e) !== null).map((e) => `${e!.target ?? 'all'}=${num(e)}`).join(', ')}: reports follow the querier; ${br} queries in ${IGMP_NAME[bv] ?? `v${bv}`}`
      : `reports forced to ${IGMP_NAME[forced]}, the version ${br} queries in`, ev);
  }
  const consequence = forced === 1
    ? 'IGMPv1 has no leave message, so after a guest leaves the bridge keeps forwarding the group to it until the membership expires'
    : 'v2 reports answer the v3 queries and the bridge snoops them, but source-specific (IGMPv3 INCLUDE) joins become any-source joins';
  return finding(id, 'warning', br,
    `${forcing.map((e) => show(s, e)).join(', ')} but ${br} queries in ${IGMP_NAME[bv] ?? `v${bv}`} (${show(s, be!)})`,
    `seed 001: the guests' IGMP version has to be one the snooping switch or bridge handles; there ESX and the guests were set to the same version (v2) - ` +
      `that was not the cause of the drops (the buffers were), and here neither is likely to be: ${consequence}`,
    `sysctl -w ${forcing.map((e) => `${e.id}=0`).join(' ')}  # follow the querier; or match it: ip link set ${br} type bridge mcast_igmp_version ${forced === 1 ? 2 : forced}` +
      (forced === 1 ? ' (the bridge cannot query in v1)' : ''),
    ev);
}

function checkIgmpMemberships(s: KernelSettingsSnapshot, ctx: DoctorContext): Finding {
  const id = 'igmp-max-memberships';
  const e = byKey(s, 'net.ipv4.igmp_max_memberships');
  const v = num(e);
  if (v === null) return skipped(id, null, unreadable(e, 'net.ipv4.igmp_max_memberships'));
  const groups = ctx.groups ?? [];
  const v4 = groups.filter((g) => g.family === 'ipv4').length;
  const v6 = groups.length - v4;
  const msf = (key: string, fam: 'ipv4' | 'ipv6') => {
    const m = byKey(s, key);
    return groups.some((g) => g.family === fam && g.ssm) && num(m) !== null ? [m!] : [];
  };
  const msfs = [...msf('net.ipv4.igmp_max_msf', 'ipv4'), ...msf('net.ipv6.mld_max_msf', 'ipv6')];
  const optmem = byKey(s, 'net.core.optmem_max');
  const extra = [
    ...msfs.map((m) => `${show(s, m)}: at most that many --source per group and socket`),
    ...(v6 && num(optmem) !== null ? [`${plural(v6, 'IPv6 group')}: no count limit, each join is charged to ${show(s, optmem!)} per socket`] : []),
  ];
  const ev = [e!.id, ...msfs.map((m) => m.id), ...(v6 && optmem ? [optmem.id] : [])];
  const tail = extra.length ? `; ${extra.join('; ')}` : '';
  if (v4 > v) {
    return finding(id, 'problem', null,
      `${plural(v4, 'IPv4 group')} asked for, ${show(s, e!)}: one socket joins at most ${v}; the join of group ${v + 1} fails with ENOBUFS${tail}`,
      'seed 001 (corosync joins its groups on one socket): the kernel refuses a socket\'s membership past net.ipv4.igmp_max_memberships with ENOBUFS, ' +
        'which reads like a memory error (smcroute#46 is this)',
      `sysctl -w net.ipv4.igmp_max_memberships=${Math.max(v4, IGMP_MAX_MEMBERSHIPS_MIN)}  # per network namespace; persist in /etc/sysctl.d`,
      ev);
  }
  if (v < IGMP_MAX_MEMBERSHIPS_MIN) {
    return finding(id, 'info', null,
      `${show(s, e!)}, below the kernel default ${IGMP_MAX_MEMBERSHIPS_MIN}` + (v4 ? ` (${plural(v4, 'IPv4 group')} asked for fit)` : '') + tail,
      'seed 001 (corosync joins its groups on one socket): a socket may join at most this many groups; the join past it fails with ENOBUFS',
      `sysctl -w net.ipv4.igmp_max_memberships=${IGMP_MAX_MEMBERSHIPS_MIN}  # per network namespace; persist in /etc/sysctl.d`,
      ev);
  }
  return ok(id, null, v4
    ? `${plural(v4, 'IPv4 group')} asked for, ${show(s, e!)}: ${v4 === 1 ? 'it fits' : 'they fit'} on one socket${tail}`
    : `${show(s, e!)}: at least the kernel default ${IGMP_MAX_MEMBERSHIPS_MIN}${tail}`, ev);
}

/** A querier as the bridge reports it, for a finding's text. */
function querierText(f: QuerierFamilyFact): string {
  const addr = f.address && f.address !== '::' && f.address !== '0.0.0.0' ? f.address : 'an unknown address';
  return `${addr}${f.port ? ` on port ${f.port}` : ''}` +
    (f.other_querier_seconds !== null ? `, believed for another ${+f.other_querier_seconds.toFixed(2)} s` : '');
}

/**
 * MLD snooping without an MLD querier: seed 002's trap for IPv6 groups. The bridge snoops MLD
 * with the same multicast_snooping flag, and its own querier serves MLD only when it has an IPv6
 * link-local address to send from (the kernel skips the MLD query otherwise).
 */
function checkMldQuerier(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null, ctx: DoctorContext): Finding {
  const id = 'bridge-mld-querier';
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const snoop = byKey(s, 'bridge.<bridge>.multicast_snooping');
  const querier = byKey(s, 'bridge.<bridge>.multicast_querier');
  const v6off = byKey(s, 'net.ipv6.conf.<bridge>.disable_ipv6');
  const mldv = num(byKey(s, 'bridge.<bridge>.multicast_mld_version'));
  const sv = num(snoop);
  const qv = num(querier);
  const ev = [snoop, querier, v6off, byKey(s, 'bridge.<bridge>.multicast_mld_version')]
    .filter((e): e is SettingEntry => e?.available === true).map((e) => e.id);
  const q = ctx.querier?.bridge === br ? ctx.querier : null;
  if (q) ev.push('IFLA_BR_MCAST_QUERIER_STATE');
  if (sv === null) return skipped(id, br, unreadable(snoop, 'multicast_snooping'), ev);
  if (sv === 0) return ok(id, br, `${br}: multicast_snooping=0: IPv6 groups are flooded to every port too, no MLD membership can expire`, ev);
  if (qv === null) return skipped(id, br, unreadable(querier, 'multicast_querier'), ev);
  const seen = q && !q.error ? q.ipv6 : null;
  const heard = seen && seen.other_querier_seconds !== null ? seen : null;
  if (heard) return ok(id, br, `${br}: an MLD querier was heard: ${querierText(heard)}`, ev);
  const linkLocal = q?.ipv6_link_local ?? null;
  const noAddress = num(v6off) === 1 || linkLocal === false;
  const v6groups = (ctx.groups ?? []).filter((g) => g.family === 'ipv6');
  const severity: Severity = v6groups.length ? 'problem' : 'warning';
  const asked = v6groups.length ? ` (asked for ${v6groups.map((g) => g.address).join(', ')})` : ' (no IPv6 group asked for with -g: a problem once IPv6 multicast crosses it)';
  const why = 'seed 002, for IPv6: the bridge forwards an IPv6 group only to ports that reported it in MLD, and a membership lives multicast_membership_interval after the last report; ' +
    'hosts report again only when a query asks them. Kernels without the upstream fix stop forwarding then; newer ones flood while they know no MLD querier, so delivery hangs on whatever querier is on the LAN';
  if (qv !== 0) {
    if (!noAddress) {
      return ok(id, br, `${br}: multicast_querier=1 and ${br} has IPv6 (a link-local address to query from): it sends MLD${mldv !== null ? `v${mldv}` : ''} queries` +
        (seen ? `; the bridge reports the MLD querier ${querierText(seen)}` : ''), ev);
    }
    return finding(id, severity, br,
      `${br}: multicast_querier=1 but ${br} has no IPv6 link-local address (${num(v6off) === 1 ? `net.ipv6.conf.${br}.disable_ipv6=1` : 'none configured'}): it sends IGMP queries and no MLD query, and no other MLD querier was heard${asked}`,
      `${why}. The kernel sends a bridge's MLD queries from its link-local address and skips them without one`,
      `sysctl -w net.ipv6.conf.${br}.disable_ipv6=0 net.ipv6.conf.${br}.accept_ra=0  # a link-local address for the bridge's MLD queries (nothing routed); or run an MLD querier on the LAN`,
      ev);
  }
  const unknown = !q || q.error !== null || !q.kernel_reports;
  const state = unknown
    ? (q?.error ? `the bridge's querier state could not be read (${q.error})` : 'this kernel does not say whether an MLD querier was heard (Linux 5.16+ does)')
    : 'and the bridge has heard no MLD querier within multicast_querier_interval';
  return finding(id, severity, br,
    `${br}: multicast_snooping=1, multicast_querier=0, ${state}${asked}`,
    why,
    bridgeSet(s, br, 'multicast_querier', 'mcast_querier', 1) + (noAddress ? ` && sysctl -w net.ipv6.conf.${br}.disable_ipv6=0` : '') +
      '  # the bridge then queries MLD from its link-local address; or run an MLD querier on the LAN (seed 002)',
    ev);
}

const MLD_NAME: Record<number, string> = { 1: 'MLDv1', 2: 'MLDv2' };

/** force_mld_version: the kernel takes the all value when it is not 0, else the interface's (mld_force_mld_version). */
function forcedMld(s: KernelSettingsSnapshot): { forced: 1 | 2 | null; by: SettingEntry | null; all: SettingEntry | undefined; dev: SettingEntry | undefined } {
  const all = byKey(s, 'net.ipv6.conf.all.force_mld_version');
  const dev = byKey(s, 'net.ipv6.conf.<iface>.force_mld_version');
  const av = num(all);
  const by = av !== null && av !== 0 ? all! : num(dev) !== null && num(dev) !== 0 ? dev! : null;
  const v = num(by ?? undefined);
  return { forced: v === 1 || v === 2 ? v : null, by, all, dev };
}

function checkMldVersion(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null): Finding {
  const id = 'mld-version';
  const { forced, by, all, dev } = forcedMld(s);
  if (num(all) === null && num(dev) === null) return skipped(id, null, unreadable(all, 'net.ipv6.conf.all.force_mld_version'));
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const be = byKey(s, 'bridge.<bridge>.multicast_mld_version');
  const bv = num(be);
  const ev = [all, dev, be].filter((e): e is SettingEntry => e?.available === true).map((e) => e.id);
  if (bv === null) return skipped(id, br, unreadable(be, 'multicast_mld_version'), ev);
  if (forced === null || forced === bv) {
    return ok(id, br, forced === null
      ? `force_mld_version ${[all, dev].filter((e) => num(e) !== null).map((e) => `${e!.target ?? 'all'}=${num(e)}`).join(', ')}: reports follow the querier; ${br} queries in ${MLD_NAME[bv] ?? `v${bv}`}`
      : `MLD reports forced to ${MLD_NAME[forced]}, the version ${br} queries in`, ev);
  }
  return finding(id, forced === 1 ? 'warning' : 'info', br,
    `${show(s, by!)} but ${br} queries in ${MLD_NAME[bv] ?? `v${bv}`} (${show(s, be!)})`,
    'seed 001, for IPv6: the hosts\' MLD version has to be one the snooping switch or bridge handles. ' + (forced === 1
      ? 'MLDv1 reports answer the v2 queries and the bridge snoops them, but MLDv1 has no source lists: source-specific (ff3x::) joins go out as any-source reports'
      : 'the Linux bridge snoops MLDv2 reports whatever version it queries in, an MLDv1-only snooping switch does not'),
    `sysctl -w ${by!.id}=0  # follow the querier; or match it: ip link set ${br} type bridge mcast_mld_version ${forced}`,
    ev);
}

/**
 * force_igmp_version 1 or 2 (or force_mld_version 1) on the receiver's interface: a source-
 * specific join still succeeds, the kernel filters by source locally, but the report on the wire
 * is an IGMPv2/MLDv1 any-source report that cannot carry the source list.
 */
function checkSsmReportVersion(s: KernelSettingsSnapshot, ctx: DoctorContext): Finding {
  const id = 'ssm-report-version';
  const iall = byKey(s, 'net.ipv4.conf.all.force_igmp_version');
  const idev = byKey(s, 'net.ipv4.conf.<iface>.force_igmp_version');
  const mld = forcedMld(s);
  const ev = [iall, idev, mld.all, mld.dev].filter((e): e is SettingEntry => e?.available === true).map((e) => e.id);
  if (ev.length === 0) return skipped(id, null, unreadable(iall, 'net.ipv4.conf.all.force_igmp_version'));
  const igmpForcing = [iall, idev].filter((e): e is SettingEntry => num(e) === 1 || num(e) === 2);
  const mldForcing = mld.forced === 1 ? [mld.by!] : [];
  const target = s.interface?.name ?? null;
  if (igmpForcing.length === 0 && mldForcing.length === 0) {
    return ok(id, target, `no IGMPv1/v2 or MLDv1 pinned${target ? ` on ${target}` : ''}: source-specific joins go out as IGMPv3/MLDv2 reports with their sources`, ev);
  }
  const ssm = (ctx.groups ?? []).filter((g) => g.ssm && (g.family === 'ipv4' ? igmpForcing.length > 0 : mldForcing.length > 0));
  const forcing = [...igmpForcing, ...mldForcing];
  return finding(id, ssm.length ? 'problem' : 'warning', target,
    `${forcing.map((e) => show(s, e)).join(', ')}: source-specific joins (recv --source) on ${target ?? 'this host'} leave as ` +
      `${[igmpForcing.length ? 'IGMPv2' : null, mldForcing.length ? 'MLDv1' : null].filter(Boolean).join(' and ')} reports, which carry no source list` +
      (ssm.length ? `; the SSM group${ssm.length > 1 ? 's' : ''} asked for (${ssm.map((g) => g.address).join(', ')}) cannot be received through a router` : ''),
    'seed 001 pinned the guests to IGMPv2 to match ESX; with SSM that fails silently: the join call succeeds and the kernel filters by source on the host, ' +
      'but IGMPv2 (RFC 2236) and MLDv1 (RFC 2710) reports name only the group, and an SSM-aware router ignores them for 232.0.0.0/8 and ff3x::/32 (RFC 4604 section 2.2: "the application will receive no indication other than a failure to receive the traffic"), ' +
      'so (S,G) traffic never arrives and nothing reports an error. On one Linux bridge it still flows, as any-source traffic',
    `sysctl -w ${forcing.map((e) => `${e.id}=0`).join(' ')}  # follow the querier (IGMPv3/MLDv2 by default); persist in /etc/sysctl.d`,
    ev);
}

/**
 * The bridge as querier in an old version: hosts that hear an IGMPv2 (MLDv1) query fall back to
 * that version for their reports (RFC 3376 section 7.2.1, RFC 3810 section 8.2.1), so their
 * source-specific joins lose the source list as with force_igmp_version=2. The Linux bridge's
 * defaults are exactly these: mcast_igmp_version 2, mcast_mld_version 1.
 */
function checkSsmQuerierVersion(s: KernelSettingsSnapshot, links: readonly LinkFact[] | null, ctx: DoctorContext): Finding {
  const id = 'ssm-querier-version';
  if (!s.bridge) return noBridge(id, s, links);
  const br = s.bridge.name;
  const entries = ['multicast_snooping', 'multicast_querier', 'multicast_igmp_version', 'multicast_mld_version'].map((k) => byKey(s, `bridge.<bridge>.${k}`));
  const ev = entries.filter((e): e is SettingEntry => e?.available === true).map((e) => e.id);
  const [snoop, querier, igmp, mld] = entries.map(num);
  if (snoop === null || querier === null) return skipped(id, br, unreadable(entries[snoop === null ? 0 : 1], snoop === null ? 'multicast_snooping' : 'multicast_querier'), ev);
  if (snoop === 0 || querier === 0) return ok(id, br, `${br} does not query (multicast_${snoop === 0 ? 'snooping' : 'querier'}=0): the hosts' report version follows the LAN's querier`, ev);
  // Without an IPv6 link-local address the bridge sends no MLD query at all (bridge-mld-querier).
  const sendsMld = num(byKey(s, 'net.ipv6.conf.<bridge>.disable_ipv6')) !== 1 && ctx.querier?.ipv6_link_local !== false;
  const oldMld = mld === 1 && sendsMld;
  const old = [igmp === 2 ? 'IGMPv2' : null, oldMld ? 'MLDv1' : null].filter((x): x is string => x !== null);
  if (old.length === 0) {
    return ok(id, br, `${br} queries in ${igmp !== null ? `IGMPv${igmp}` : 'IGMP (version unread)'} and ${mld !== null ? `MLDv${mld}` : 'MLD (version unread)'}: hosts keep source lists in their reports`, ev);
  }
  const ssm = (ctx.groups ?? []).filter((g) => g.ssm && ((g.family === 'ipv4' && igmp === 2) || (g.family === 'ipv6' && oldMld)));
  return finding(id, ssm.length ? 'warning' : 'info', br,
    `${br} is the querier and queries in ${old.join(' and ')} (the kernel's default${old.length > 1 ? 's' : ''}): hosts that hear it report in that version, without source lists` +
      (ssm.length ? `; the SSM group${ssm.length > 1 ? 's' : ''} asked for (${ssm.map((g) => g.address).join(', ')}) then reach routers as any-source reports` : ''),
    'seed 001 pinned the report version by hand; a querier does it for the whole LAN: a host that hears an older-version query falls back to that version (RFC 3376 section 7.2.1, RFC 3810 section 8.2.1), ' +
      'so its source-specific joins go out as IGMPv2/MLDv1 reports, which an SSM-aware router ignores (RFC 4604 section 2.2). The bridge itself still forwards them, as any-source memberships',
    `ip link set ${br} type bridge${igmp === 2 ? ' mcast_igmp_version 3' : ''}${oldMld ? ' mcast_mld_version 2' : ''}  # hosts then report in IGMPv3/MLDv2 with their sources`,
    ev);
}

/**
 * Every check, in a fixed order (settings first, then what the counters showed). `sample`:
 * drop counters over a window (null or absent: those checks are skipped). `links`: the
 * namespace's links, for bridge ports, other bridges and queue disciplines (null: unknown).
 * `ctx`: the groups asked for (-g) and the bridge's querier state (absent: not known).
 */
export function diagnose(snapshot: KernelSettingsSnapshot, sample: CounterSample | null = null, links: readonly LinkFact[] | null = null,
  ctx: DoctorContext = {}): Finding[] {
  return [
    checkRmemMax(snapshot),
    checkRmemDefault(snapshot),
    checkQuerier(snapshot, links),
    checkMldQuerier(snapshot, links, ctx),
    checkMembershipInterval(snapshot, links),
    checkBridgeNf(snapshot, links),
    checkStp(snapshot, links),
    checkTxqueuelen(snapshot, links),
    checkNicDriver(snapshot, links),
    checkKvm(snapshot),
    ...checkUdpErrors(snapshot, sample),
    // only when an IPv6 group was asked for (the probe samples Udp6 then)
    ...(sample?.udp6 ? checkUdpErrors(snapshot, sample, 'ipv6') : []),
    checkSoftnet(snapshot, sample),
    checkIgmpVersion(snapshot, links),
    checkMldVersion(snapshot, links),
    checkSsmReportVersion(snapshot, ctx),
    checkSsmQuerierVersion(snapshot, links, ctx),
    checkIgmpMemberships(snapshot, ctx),
  ];
}

/** 0 when nothing is a problem, 1 when something is (like a linter). */
export function doctorExitCode(findings: readonly Finding[]): 0 | 1 {
  return findings.some((f) => f.severity === 'problem') ? 1 : 0;
}

export function countFindings(findings: readonly Finding[]): Record<Severity, number> {
  const counts = { problem: 0, warning: 0, info: 0, ok: 0, skipped: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Output

export interface DoctorReport {
  schema: typeof DOCTOR_SCHEMA;
  time: string;
  /** what the findings were drawn from; the whole snapshot is `mcbench settings --json` */
  snapshot: {
    schema: KernelSettingsSnapshot['schema'];
    time: string;
    host: KernelSettingsSnapshot['host'];
    virtualization: KernelSettingsSnapshot['virtualization'];
    netns: KernelSettingsSnapshot['netns'];
    interface: KernelSettingsSnapshot['interface'];
    bridge: KernelSettingsSnapshot['bridge'];
    notes: string[];
    /** every entry's value by id (null: unavailable) */
    settings: Record<string, SettingEntry['value']>;
  };
  /** the counter window, or null with --sample 0 */
  sample: { seconds: number; delta: DropCounterDelta; udp6?: CounterGroup<Delta<UdpCounters>, 'namespace'> } | null;
  /** the groups asked for with -g (empty: none) */
  groups: DoctorGroup[];
  /** what the bridge reported of its IGMP and MLD queriers; null: no bridge, or not read */
  querier: BridgeQuerierFact | null;
  counts: Record<Severity, number>;
  exit_code: 0 | 1;
  findings: Finding[];
}

export function doctorReport(snapshot: KernelSettingsSnapshot, sample: CounterSample | null, findings: Finding[], time = new Date().toISOString(),
  ctx: DoctorContext = {}): DoctorReport {
  const { schema, time: snapTime, host, virtualization, netns, interface: iface, bridge, notes } = snapshot;
  return {
    schema: DOCTOR_SCHEMA,
    time,
    snapshot: {
      schema, time: snapTime, host, virtualization, netns, interface: iface, bridge, notes,
      settings: Object.fromEntries(snapshot.entries.map((e) => [e.id, e.available ? e.value : null])),
    },
    sample: sample ? { seconds: sample.seconds, delta: sample.delta, ...(sample.udp6 ? { udp6: sample.udp6 } : {}) } : null,
    groups: [...(ctx.groups ?? [])],
    querier: ctx.querier ?? null,
    counts: countFindings(findings),
    exit_code: doctorExitCode(findings),
    findings,
  };
}

const HEADINGS: Record<Severity, string> = { problem: 'problems', warning: 'warnings', info: 'info', ok: 'ok', skipped: 'not checked' };

/** The human form: a header, then one line per finding grouped by severity, each fix on its own indented line. */
export function formatDoctor(snapshot: KernelSettingsSnapshot, sample: CounterSample | null, findings: readonly Finding[]): string[] {
  const v = snapshot.virtualization;
  const where = [
    v.vm && v.vm !== 'none' ? `VM ${v.vm}` : v.vm === 'none' ? 'bare metal' : null,
    inContainer(snapshot) ? `container ${v.container}` : null,
  ].filter(Boolean).join(', ');
  const lines = [
    `mcbench doctor: kernel ${snapshot.host.kernel}, ${snapshot.host.cpus} CPUs${where ? `, ${where}` : ''}; ` +
      `network namespace ${snapshot.netns.initial ? 'initial' : snapshot.netns.id ?? '?'}; ` +
      `interface ${snapshot.interface ? `${snapshot.interface.name} (${snapshot.interface.driver ?? 'driver unknown'})` : 'none'}; ` +
      `bridge ${snapshot.bridge?.name ?? 'none'}; ` +
      (sample ? `counters sampled over ${sample.seconds} s` : 'counters not sampled'),
  ];
  for (const sev of SEVERITIES) {
    const group = findings.filter((f) => f.severity === sev);
    if (group.length === 0) continue;
    lines.push('', `${HEADINGS[sev]} (${group.length}):`);
    for (const f of group) {
      lines.push(`  ${f.id}: ${f.seen}` + (f.why ? `. Why: ${f.why}` : ''));
      if (f.fix) lines.push(`      fix: ${f.fix}`);
    }
  }
  if (snapshot.notes.length) lines.push('', ...snapshot.notes.map((n) => `note: ${n}`));
  const c = countFindings(findings);
  lines.push('', `${plural(c.problem, 'problem')}, ${plural(c.warning, 'warning')}, ${c.info} info, ${c.ok} ok, ${c.skipped} not checked`);
  return lines;
}
