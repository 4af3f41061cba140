// The one registry of kernel settings mcbench knows (DESIGN.md section 5): how each is read, its
// scope, its unit and why it matters for multicast between VM guests, citing the field reports in
// /work/shared/seeds (000 KVM multicast tuning, 001 rmem_max and corosync, 002 bridge snooping
// without a querier, 003 LVS kernel tuning, 004 emulated NIC collisions).
//
// Scope, as checked on kernel 6.18 (6.18.44-fc-v669):
//   $ unshare -n sh -c 'ls /proc/sys/net/core /proc/sys/net/ipv4'   # what a child netns sees
//   $ unshare -n stat -c %A /proc/sys/net/core/rmem_max               # -r--r--r-- in the child
//   $ unshare -n sh -c 'echo 65536 > /proc/sys/net/core/optmem_max'   # then read the host's: unchanged
// - net.core.{r,w}mem_{max,default}: global. A child netns sees the host's value read-only
//   (mode 0444 there; writing it fails with EACCES even for root). Older kernels hide them there.
// - net.core.netdev_max_backlog, net.ipv4.udp_mem: global, registered for the initial netns
//   only: the files do not exist in a child netns (so a snapshot there marks them unavailable).
// - net.core.optmem_max, net.ipv4.udp_rmem_min, net.ipv4.igmp_max_memberships,
//   net.ipv4.conf.*, net.bridge.bridge-nf-call-*: per network namespace. Writable in a child
//   netns, the write does not change the host's value, and a new netns starts from the defaults
//   (bridge-nf-call-* = 1 in a fresh netns while br_netfilter is loaded).
// - Interface and bridge facts belong to the netns the link lives in (see settings.ts for how
//   the snapshot reads them when /sys shows another namespace).

export type SettingScope = 'global' | 'namespace' | 'interface' | 'bridge';

/**
 * bytes; packets; pages (of the kernel page size); count; flag (0 off, 1 on); mode (an enum, see
 * labels); centiseconds (USER_HZ clock ticks, as sysfs and netlink report bridge timers; the
 * kernel keeps them in jiffies, so a value written may read back rounded: 12345 -> 12344 at HZ=250);
 * text.
 */
export type SettingUnit = 'bytes' | 'packets' | 'pages' | 'count' | 'flag' | 'mode' | 'centiseconds' | 'text';

export type SettingValue = number | string | number[] | null;

export interface SettingDef {
  /**
   * Stable id. Sysctls use their sysctl name; `<iface>` and `<bridge>` stand for the interface
   * and the bridge and are filled in per snapshot ('net.ipv4.conf.<iface>.rp_filter').
   */
  readonly id: string;
  /** The file it is read from (root writes the settable ones there too); same placeholders. */
  readonly path: string;
  /**
   * The same fact in `ip -d -j link show` output, used when /sys shows another network
   * namespace: a top-level key of the link ('mtu'), or 'info_data.KEY' of a bridge's linkinfo.
   * 'driver' is special: see settings.ts.
   */
  readonly netlink?: string;
  readonly scope: SettingScope;
  readonly unit: SettingUnit;
  /** int: one integer; ints: whitespace-separated integers; text: trimmed; driver: symlink basename */
  readonly parse: 'int' | 'ints' | 'text' | 'driver';
  /** whether writing `path` (as root) changes it: A/B runs set and restore these */
  readonly settable: boolean;
  /** global sysctls seen from a child network namespace on the kernel checked (see above) */
  readonly outsideInitialNetns?: 'read-only' | 'absent';
  /** names of the values of a mode or flag */
  readonly labels?: Readonly<Record<number, string>>;
  /** one sentence: why it matters for multicast, citing the seed */
  readonly why: string;
  /** the same, short enough for the table */
  readonly short: string;
}

const ON_OFF = { 0: 'off', 1: 'on' } as const;
const IGMP_FORCE = { 0: 'auto', 1: 'v1', 2: 'v2', 3: 'v3' } as const;
const MLD_FORCE = { 0: 'auto', 1: 'v1', 2: 'v2' } as const;
const RP_FILTER = { 0: 'off', 1: 'strict', 2: 'loose' } as const;

export const SETTINGS: readonly SettingDef[] = [
  // --- net.core: socket buffers and the input backlog ------------------------------------------
  {
    id: 'net.core.rmem_max', path: '/proc/sys/net/core/rmem_max', scope: 'global', unit: 'bytes', parse: 'int',
    settable: true, outsideInitialNetns: 'read-only',
    why: 'seed 001: SO_RCVBUF requests are silently clamped to it, and the clamped receive buffers dropped corosync\'s multicast bursts until it was raised to 26214400.',
    short: 'seed 001: caps SO_RCVBUF; small = bursts dropped',
  },
  {
    id: 'net.core.rmem_default', path: '/proc/sys/net/core/rmem_default', scope: 'global', unit: 'bytes', parse: 'int',
    settable: true, outsideInitialNetns: 'read-only',
    why: 'seed 001: the receive buffer of every socket that does not set SO_RCVBUF itself, so it decides the drops of untuned applications.',
    short: 'seed 001: buffer of sockets without SO_RCVBUF',
  },
  {
    id: 'net.core.wmem_max', path: '/proc/sys/net/core/wmem_max', scope: 'global', unit: 'bytes', parse: 'int',
    settable: true, outsideInitialNetns: 'read-only',
    why: 'seed 001: caps SO_SNDBUF; a small send buffer makes a bursty sender see ENOBUFS/EAGAIN before anything reaches the wire.',
    short: 'seed 001: caps SO_SNDBUF',
  },
  {
    id: 'net.core.wmem_default', path: '/proc/sys/net/core/wmem_default', scope: 'global', unit: 'bytes', parse: 'int',
    settable: true, outsideInitialNetns: 'read-only',
    why: 'seed 001: the send buffer of sockets that do not set SO_SNDBUF (raised together with rmem in the fix).',
    short: 'seed 001: buffer of sockets without SO_SNDBUF',
  },
  {
    id: 'net.core.netdev_max_backlog', path: '/proc/sys/net/core/netdev_max_backlog', scope: 'global', unit: 'packets', parse: 'int',
    settable: true, outsideInitialNetns: 'absent',
    why: 'seed 003: the per-CPU queue between the NIC (or veth/tap) and the protocol stack; a burst beyond it is dropped before any socket sees it (softnet_stat column 2).',
    short: 'seed 003: per-CPU input queue; drops in softnet_stat',
  },
  {
    id: 'net.core.optmem_max', path: '/proc/sys/net/core/optmem_max', scope: 'namespace', unit: 'bytes', parse: 'int',
    settable: true,
    why: 'seed 003 (tune /proc/sys/net/core/*mem*): per-socket option memory; every multicast join and source filter is charged to it, so joins past it fail with ENOBUFS.',
    short: 'seed 003: per-socket memory for group joins',
  },
  // --- net.ipv4: UDP memory, IGMP, reverse-path filter -----------------------------------------
  {
    id: 'net.ipv4.udp_mem', path: '/proc/sys/net/ipv4/udp_mem', scope: 'global', unit: 'pages', parse: 'ints',
    settable: true, outsideInitialNetns: 'absent',
    why: 'seed 003 (tune /proc/sys/net/ipv4/*mem*): min, pressure and max pages for all UDP sockets together; above max every UDP receive is dropped whatever rmem_max says.',
    short: 'seed 003: memory of all UDP sockets (min pressure max)',
  },
  {
    id: 'net.ipv4.udp_rmem_min', path: '/proc/sys/net/ipv4/udp_rmem_min', scope: 'namespace', unit: 'bytes', parse: 'int',
    settable: true,
    why: 'seed 003: the receive memory each UDP socket may still use when udp_mem is under pressure.',
    short: 'seed 003: per-socket floor under udp_mem pressure',
  },
  {
    id: 'net.ipv4.igmp_max_memberships', path: '/proc/sys/net/ipv4/igmp_max_memberships', scope: 'namespace', unit: 'count', parse: 'int',
    settable: true,
    why: 'seed 001: how many groups one socket may join; the join past it fails with ENOBUFS.',
    short: 'seed 001: group joins per socket',
  },
  {
    id: 'net.ipv4.conf.all.force_igmp_version', path: '/proc/sys/net/ipv4/conf/all/force_igmp_version', scope: 'namespace', unit: 'mode', parse: 'int',
    settable: true, labels: IGMP_FORCE,
    why: 'seed 001: the guests\' IGMP version (v3, then v2 to match ESX) must be one the switch or bridge snoops; 0 follows the querier, 1 or 2 here forces it on every interface.',
    short: 'seed 001: forces the IGMP version everywhere',
  },
  {
    id: 'net.ipv4.conf.<iface>.force_igmp_version', path: '/proc/sys/net/ipv4/conf/<iface>/force_igmp_version', scope: 'interface', unit: 'mode', parse: 'int',
    settable: true, labels: IGMP_FORCE,
    why: 'seed 001: the IGMP version the guest reports with on this interface (0 follows the querier); a mismatch with the snooping switch or bridge loses memberships.',
    short: 'seed 001: IGMP version on this interface',
  },
  {
    id: 'net.ipv4.igmp_max_msf', path: '/proc/sys/net/ipv4/igmp_max_msf', scope: 'namespace', unit: 'count', parse: 'int',
    settable: true,
    why: 'seed 001 (joins per socket): how many sources one socket may name for one IPv4 group (SSM --source, MCAST_JOIN_SOURCE_GROUP); the source past it fails with ENOBUFS.',
    short: 'seed 001: SSM sources per group and socket',
  },
  {
    id: 'net.ipv6.mld_max_msf', path: '/proc/sys/net/ipv6/mld_max_msf', scope: 'namespace', unit: 'count', parse: 'int',
    settable: true,
    why: 'seed 001 (joins per socket): how many sources one socket may name for one IPv6 group (SSM, MLDv2); the source past it fails with ENOBUFS.',
    short: 'seed 001: IPv6 SSM sources per group and socket',
  },
  {
    id: 'net.ipv6.conf.all.force_mld_version', path: '/proc/sys/net/ipv6/conf/all/force_mld_version', scope: 'namespace', unit: 'mode', parse: 'int',
    settable: true, labels: MLD_FORCE,
    why: 'seed 001 (the IGMP version pinned to match the switch), for IPv6: 0 follows the querier; 1 or 2 here pins the MLD version on every interface (it wins over the interface value), and MLDv1 cannot carry SSM sources.',
    short: 'seed 001: forces the MLD version everywhere',
  },
  {
    id: 'net.ipv6.conf.<iface>.force_mld_version', path: '/proc/sys/net/ipv6/conf/<iface>/force_mld_version', scope: 'interface', unit: 'mode', parse: 'int',
    settable: true, labels: MLD_FORCE,
    why: 'seed 001, for IPv6: the MLD version the host reports with on this interface (0 follows the querier) when the all value is 0.',
    short: 'seed 001: MLD version on this interface',
  },
  {
    id: 'net.ipv4.conf.all.rp_filter', path: '/proc/sys/net/ipv4/conf/all/rp_filter', scope: 'namespace', unit: 'mode', parse: 'int',
    settable: true, labels: RP_FILTER,
    why: 'seed 000 (cluster multicast on a dedicated NIC and bridge): strict reverse-path filtering drops multicast whose source is not routed back through the receiving interface; the higher of all and the interface value applies.',
    short: 'seed 000: strict drops mcast from sources routed elsewhere',
  },
  {
    id: 'net.ipv4.conf.<iface>.rp_filter', path: '/proc/sys/net/ipv4/conf/<iface>/rp_filter', scope: 'interface', unit: 'mode', parse: 'int',
    settable: true, labels: RP_FILTER,
    why: 'seed 000: reverse-path filter on this interface; with the all value, the higher one applies.',
    short: 'seed 000: rp_filter here (max with all applies)',
  },
  // --- bridge netfilter (br_netfilter) -------------------------------------------------------
  {
    id: 'net.bridge.bridge-nf-call-iptables', path: '/proc/sys/net/bridge/bridge-nf-call-iptables', scope: 'namespace', unit: 'flag', parse: 'int',
    settable: true, labels: ON_OFF,
    why: 'seed 000: bridged frames between guests pass through iptables when 1; the guide wants every bridge-nf-call-* at 0.',
    short: 'seed 000: bridged frames through iptables (want 0)',
  },
  {
    id: 'net.bridge.bridge-nf-call-ip6tables', path: '/proc/sys/net/bridge/bridge-nf-call-ip6tables', scope: 'namespace', unit: 'flag', parse: 'int',
    settable: true, labels: ON_OFF,
    why: 'seed 000: bridged frames pass through ip6tables when 1; the guide wants every bridge-nf-call-* at 0.',
    short: 'seed 000: bridged frames through ip6tables (want 0)',
  },
  {
    id: 'net.bridge.bridge-nf-call-arptables', path: '/proc/sys/net/bridge/bridge-nf-call-arptables', scope: 'namespace', unit: 'flag', parse: 'int',
    settable: true, labels: ON_OFF,
    why: 'seed 000: bridged ARP passes through arptables when 1; the guide wants every bridge-nf-call-* at 0.',
    short: 'seed 000: bridged ARP through arptables (want 0)',
  },
  // --- the interface used ----------------------------------------------------------------------
  {
    id: 'link.<iface>.mtu', path: '/sys/class/net/<iface>/mtu', netlink: 'mtu', scope: 'interface', unit: 'bytes', parse: 'int',
    settable: true,
    why: 'seed 003: datagrams above the MTU are fragmented and losing one fragment loses the datagram; the MTU also sets the packet rate a bit rate needs.',
    short: 'seed 003: bigger datagrams fragment',
  },
  {
    id: 'link.<iface>.tx_queue_len', path: '/sys/class/net/<iface>/tx_queue_len', netlink: 'txqlen', scope: 'interface', unit: 'packets', parse: 'int',
    settable: true,
    why: 'seed 000: the qdisc queue in front of the interface; the guide raises txqueuelen to 5000 on the NIC and the bridge so bursts queue instead of dropping.',
    short: 'seed 000: burst room; guide says 5000',
  },
  {
    id: 'link.<iface>.driver', path: '/sys/class/net/<iface>/device/driver', netlink: 'driver', scope: 'interface', unit: 'text', parse: 'driver',
    settable: false,
    why: 'seeds 000 and 004: guests should use para-virtual virtio_net; emulated e1000 and rtl8139 cost extra copies and showed collisions (\'virtual\': veth, bridge, tap, lo).',
    short: 'seeds 000/004: virtio_net, not e1000/rtl8139',
  },
  {
    id: 'link.<iface>.operstate', path: '/sys/class/net/<iface>/operstate', netlink: 'operstate', scope: 'interface', unit: 'text', parse: 'text',
    settable: false,
    why: 'seed 004 (netstat -i per interface): a link that is not up (lo says unknown) moves nothing; check it before blaming buffers.',
    short: 'seed 004: must be up (lo: unknown)',
  },
  // --- the bridge (given, or the one the interface is enslaved to) ---------------------------
  {
    id: 'bridge.<bridge>.multicast_snooping', path: '/sys/class/net/<bridge>/bridge/multicast_snooping', netlink: 'info_data.mcast_snooping',
    scope: 'bridge', unit: 'flag', parse: 'int', settable: true, labels: ON_OFF,
    why: 'seed 002: with snooping on the bridge forwards a group only to ports that reported membership, so without a querier the memberships expire and traffic stops.',
    short: 'seed 002: forward only to joined ports',
  },
  {
    id: 'bridge.<bridge>.multicast_querier', path: '/sys/class/net/<bridge>/bridge/multicast_querier', netlink: 'info_data.mcast_querier',
    scope: 'bridge', unit: 'flag', parse: 'int', settable: true, labels: ON_OFF,
    why: 'seed 002: the workaround: the bridge sends IGMP queries so guests re-report and memberships do not expire (off by default since the upstream change that reached RHEL 6.5).',
    short: 'seed 002: 0 with snooping on = traffic stops',
  },
  {
    id: 'bridge.<bridge>.multicast_membership_interval', path: '/sys/class/net/<bridge>/bridge/multicast_membership_interval', netlink: 'info_data.mcast_membership_intvl',
    scope: 'bridge', unit: 'centiseconds', parse: 'int', settable: true,
    why: 'seed 002: how long a membership lives without a new report: the "fixed amount of time" after which multicast between guests stopped.',
    short: 'seed 002: traffic stops this long after a report',
  },
  {
    id: 'bridge.<bridge>.multicast_querier_interval', path: '/sys/class/net/<bridge>/bridge/multicast_querier_interval', netlink: 'info_data.mcast_querier_intvl',
    scope: 'bridge', unit: 'centiseconds', parse: 'int', settable: true,
    why: 'seed 002: how long the bridge believes another querier is present after hearing its last query.',
    short: 'seed 002: other querier presumed gone after',
  },
  {
    id: 'bridge.<bridge>.multicast_query_interval', path: '/sys/class/net/<bridge>/bridge/multicast_query_interval', netlink: 'info_data.mcast_query_intvl',
    scope: 'bridge', unit: 'centiseconds', parse: 'int', settable: true,
    why: 'seed 002: how often the bridge queries when it is the querier; it must stay well below the membership interval.',
    short: 'seed 002: query period when querier',
  },
  {
    id: 'bridge.<bridge>.multicast_query_response_interval', path: '/sys/class/net/<bridge>/bridge/multicast_query_response_interval', netlink: 'info_data.mcast_query_response_intvl',
    scope: 'bridge', unit: 'centiseconds', parse: 'int', settable: true,
    why: 'seed 002: the maximum response time the bridge puts in its queries.',
    short: 'seed 002: max response time in queries',
  },
  {
    id: 'bridge.<bridge>.multicast_startup_query_interval', path: '/sys/class/net/<bridge>/bridge/multicast_startup_query_interval', netlink: 'info_data.mcast_startup_query_intvl',
    scope: 'bridge', unit: 'centiseconds', parse: 'int', settable: true,
    why: 'seed 002: the spacing of the first queries after the bridge becomes querier.',
    short: 'seed 002: query spacing at startup',
  },
  {
    id: 'bridge.<bridge>.multicast_igmp_version', path: '/sys/class/net/<bridge>/bridge/multicast_igmp_version', netlink: 'info_data.mcast_igmp_version',
    scope: 'bridge', unit: 'mode', parse: 'int', settable: true, labels: { 2: 'v2', 3: 'v3' },
    why: 'seed 001: the IGMP version of the bridge\'s own queries; v2 queries make v3 guests fall back to v2 reports.',
    short: 'seed 001: IGMP version of its queries',
  },
  {
    id: 'bridge.<bridge>.multicast_mld_version', path: '/sys/class/net/<bridge>/bridge/multicast_mld_version', netlink: 'info_data.mcast_mld_version',
    scope: 'bridge', unit: 'mode', parse: 'int', settable: true, labels: { 1: 'v1', 2: 'v2' },
    why: 'seed 002 over IPv6: the MLD version of the bridge\'s own queries (MLD snooping is the same trap as IGMP\'s); v1 queries make v2 hosts fall back to v1 reports.',
    short: 'seed 002: MLD version of its queries',
  },
  {
    id: 'net.ipv6.conf.<bridge>.disable_ipv6', path: '/proc/sys/net/ipv6/conf/<bridge>/disable_ipv6', scope: 'bridge', unit: 'flag', parse: 'int',
    settable: true, labels: ON_OFF,
    why: 'seed 002 over IPv6: a querier bridge sends its MLD queries from its IPv6 link-local address; with IPv6 disabled on it, multicast_querier=1 serves IGMP only.',
    short: 'seed 002: 1 = bridge cannot query MLD',
  },
  {
    id: 'bridge.<bridge>.stp_state', path: '/sys/class/net/<bridge>/bridge/stp_state', netlink: 'info_data.stp_state',
    scope: 'bridge', unit: 'mode', parse: 'int', settable: true, labels: { 0: 'off', 1: 'kernel STP', 2: 'user STP' },
    why: 'seed 000: STP should be off on software bridges for VMs: its listening and learning states hold back forwarding on new ports.',
    short: 'seed 000: want off on VM bridges',
  },
  {
    id: 'bridge.<bridge>.tx_queue_len', path: '/sys/class/net/<bridge>/tx_queue_len', netlink: 'txqlen',
    scope: 'bridge', unit: 'packets', parse: 'int', settable: true,
    why: 'seed 000: the guide raises txqueuelen to 5000 on the bridge as well as on the NIC.',
    short: 'seed 000: raise with the NIC (5000)',
  },
  {
    id: 'bridge.<bridge>.nf_call_iptables', path: '/sys/class/net/<bridge>/bridge/nf_call_iptables', netlink: 'info_data.nf_call_iptables',
    scope: 'bridge', unit: 'flag', parse: 'int', settable: true, labels: ON_OFF,
    why: 'seed 000: bridge netfilter switched on for this bridge alone (on if this or net.bridge.bridge-nf-call-iptables is 1).',
    short: 'seed 000: this bridge through iptables (want 0)',
  },
  {
    id: 'bridge.<bridge>.nf_call_ip6tables', path: '/sys/class/net/<bridge>/bridge/nf_call_ip6tables', netlink: 'info_data.nf_call_ip6tables',
    scope: 'bridge', unit: 'flag', parse: 'int', settable: true, labels: ON_OFF,
    why: 'seed 000: bridge netfilter for ip6tables on this bridge alone (on if this or the global sysctl is 1).',
    short: 'seed 000: this bridge through ip6tables (want 0)',
  },
  {
    id: 'bridge.<bridge>.nf_call_arptables', path: '/sys/class/net/<bridge>/bridge/nf_call_arptables', netlink: 'info_data.nf_call_arptables',
    scope: 'bridge', unit: 'flag', parse: 'int', settable: true, labels: ON_OFF,
    why: 'seed 000: bridge netfilter for arptables on this bridge alone (on if this or the global sysctl is 1).',
    short: 'seed 000: this bridge through arptables (want 0)',
  },
];

/** The registry entry for an id, either the template or a concrete one ('net.ipv4.conf.eth1.rp_filter'). */
export function findSettingDef(id: string, registry: readonly SettingDef[] = SETTINGS): SettingDef | undefined {
  const exact = registry.find((d) => d.id === id);
  if (exact) return exact;
  return registry.find((d) => {
    if (!/<(iface|bridge)>/.test(d.id)) return false;
    const re = new RegExp('^' + d.id.split(/<(?:iface|bridge)>/).map(escapeRe).join('[^/\\s]{1,15}') + '$');
    return re.test(id);
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
