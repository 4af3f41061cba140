// What `lab status` reports: the bridge's and each guest's state read back from sysfs, netlink
// and the guests' namespaces, and the problems that follow from it.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { GUEST_IF, guestName, guestNetns, hostLinkName, INTERVAL_KNOBS, routerLinkName, toCentiseconds, type IntervalKnob, type LabSpec } from '../core/lab-spec.js';
import { BRIDGE_IPV4_CONF, ip, ipJson, readSys, readSysNumber, sysNet } from './sys.js';

export interface BridgeStatus {
  name: string;
  exists: boolean;
  operstate: string | null;
  mtu: number | null;
  /** IPv4 addresses on the bridge: must be none */
  ipv4: string[];
  ipv6_disabled: boolean | null;
  /** /proc/sys/net/ipv4/conf/BR/{forwarding,arp_ignore,rp_filter}: 0, 8, 1 as the lab sets them */
  ipv4_conf: Record<string, number | null>;
  /** the ports enslaved to it: the lab's host veth ends and nothing else */
  ports: string[];
  /** read back from /sys/class/net/BR/bridge/*; intervals in seconds */
  multicast: {
    snooping: number | null;
    querier: number | null;
    membership_interval: number | null;
    querier_interval: number | null;
    query_interval: number | null;
    query_response_interval: number | null;
    startup_query_interval: number | null;
    last_member_interval: number | null;
    last_member_count: number | null;
    startup_query_count: number | null;
    igmp_version: number | null;
    mld_version: number | null;
    router: number | null;
  };
  stp: { stp_state: number | null; forward_delay: number | null };
  /** this bridge's own nf_call_iptables (the global sysctl below wins when it is 1) */
  nf_call_iptables: number | null;
}

export interface GuestStatus {
  name: string;
  index: number;
  netns: string;
  netns_exists: boolean;
  address: string | null;
  host_link: {
    name: string;
    exists: boolean;
    master: string | null;
    /** the bridge port state: disabled, listening, learning, forwarding, blocking */
    port_state: string | null;
    operstate: string | null;
    mtu: number | null;
    tx_queue_len: number | null;
  };
  eth0: {
    exists: boolean;
    addresses: string[];
    operstate: string | null;
    mtu: number | null;
    tx_queue_len: number | null;
    multicast_route: boolean;
  };
  /** processes running inside the guest */
  processes: number;
}

export interface LabStatus {
  schema: 'mcbench/lab-status@1';
  name: string;
  /** up; creating (its maker is still at it); stale (its owner died); orphaned (pieces without a state file) */
  state: 'up' | 'creating' | 'stale' | 'orphaned';
  persistent: boolean | null;
  owner: { pid: number; alive: boolean } | null;
  created_at: string | null;
  state_file: string | null;
  subnet: string | null;
  spec: LabSpec | null;
  bridge: BridgeStatus;
  /** /proc/sys/net/bridge/bridge-nf-call-*: read, never changed; null when br_netfilter is not loaded */
  bridge_nf: { 'bridge-nf-call-iptables': number | null; 'bridge-nf-call-ip6tables': number | null; 'bridge-nf-call-arptables': number | null } | null;
  guests: GuestStatus[];
  /** things that are not as the lab made them */
  problems: string[];
}

const PORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];
const cs = (v: number | null) => (v === null ? null : v / 100);

export function readBridge(br: string): BridgeStatus {
  const b = (f: string) => readSysNumber(sysNet(br, `bridge/${f}`));
  const exists = existsSync(sysNet(br, 'bridge'));
  let ports: string[] = [];
  try {
    ports = readdirSync(sysNet(br, 'brif')).sort();
  } catch {
    /* no bridge */
  }
  const v6 = readSys(`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`);
  return {
    name: br,
    exists,
    operstate: readSys(sysNet(br, 'operstate')),
    mtu: readSysNumber(sysNet(br, 'mtu')),
    ipv4: [],
    ipv6_disabled: v6 === null ? null : v6 === '1',
    ipv4_conf: Object.fromEntries(BRIDGE_IPV4_CONF.map(([k]) => [k, readSysNumber(`/proc/sys/net/ipv4/conf/${br}/${k}`)])),
    ports,
    multicast: {
      snooping: b('multicast_snooping'),
      querier: b('multicast_querier'),
      membership_interval: cs(b('multicast_membership_interval')),
      querier_interval: cs(b('multicast_querier_interval')),
      query_interval: cs(b('multicast_query_interval')),
      query_response_interval: cs(b('multicast_query_response_interval')),
      startup_query_interval: cs(b('multicast_startup_query_interval')),
      last_member_interval: cs(b('multicast_last_member_interval')),
      last_member_count: b('multicast_last_member_count'),
      startup_query_count: b('multicast_startup_query_count'),
      igmp_version: b('multicast_igmp_version'),
      mld_version: b('multicast_mld_version'),
      router: b('multicast_router'),
    },
    stp: { stp_state: b('stp_state'), forward_delay: cs(b('forward_delay')) },
    nf_call_iptables: b('nf_call_iptables'),
  };
}

export function readBridgeNf(): LabStatus['bridge_nf'] {
  if (!existsSync('/proc/sys/net/bridge')) return null;
  const r = (f: string) => readSysNumber(`/proc/sys/net/bridge/${f}`);
  return {
    'bridge-nf-call-iptables': r('bridge-nf-call-iptables'),
    'bridge-nf-call-ip6tables': r('bridge-nf-call-ip6tables'),
    'bridge-nf-call-arptables': r('bridge-nf-call-arptables'),
  };
}

export interface AddrRow {
  ifname: string;
  operstate?: string;
  mtu?: number;
  txqlen?: number;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

export async function readGuest(lab: string, k: number, address: string | null, netnsExists: boolean): Promise<GuestStatus> {
  const ns = guestNetns(lab, k);
  const h = hostLinkName(lab, k);
  let master: string | null = null;
  try {
    master = basename(readlinkSync(sysNet(h, 'master')));
  } catch {
    /* not enslaved */
  }
  const portState = readSysNumber(sysNet(h, 'brport/state'));
  const g: GuestStatus = {
    name: guestName(k),
    index: k,
    netns: ns,
    netns_exists: netnsExists,
    address,
    host_link: {
      name: h,
      exists: existsSync(sysNet(h, 'ifindex')),
      master,
      port_state: portState === null ? null : PORT_STATES[portState] ?? String(portState),
      operstate: readSys(sysNet(h, 'operstate')),
      mtu: readSysNumber(sysNet(h, 'mtu')),
      tx_queue_len: readSysNumber(sysNet(h, 'tx_queue_len')),
    },
    eth0: { exists: false, addresses: [], operstate: null, mtu: null, tx_queue_len: null, multicast_route: false },
    processes: 0,
  };
  if (!netnsExists) return g;
  try {
    const [row] = await ipJson<AddrRow>(['-n', ns, 'addr', 'show', 'dev', GUEST_IF]);
    if (row) {
      g.eth0.exists = true;
      g.eth0.addresses = (row.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
      g.eth0.operstate = row.operstate?.toLowerCase() ?? null;
      g.eth0.mtu = row.mtu ?? null;
      g.eth0.tx_queue_len = row.txqlen ?? null;
    }
    const routes = await ipJson<{ dst?: string }>(['-n', ns, '-4', 'route', 'show', 'dev', GUEST_IF]);
    g.eth0.multicast_route = routes.some((r) => r.dst === '224.0.0.0/4');
  } catch {
    /* eth0 gone: reported as missing */
  }
  try {
    g.processes = (await ip(['netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean).length;
  } catch {
    /* gone meanwhile */
  }
  return g;
}

export function problemsOf(st: LabStatus, spec: LabSpec | null): string[] {
  const p: string[] = [];
  const br = st.bridge;
  if (!br.exists) p.push(`bridge ${br.name} is missing`);
  else {
    if (br.ipv4.length) p.push(`bridge ${br.name} has an IPv4 address (${br.ipv4.join(', ')}): the host takes part`);
    for (const [k, v] of BRIDGE_IPV4_CONF) {
      if (br.ipv4_conf[k] !== v) p.push(`bridge ${br.name}: net.ipv4.conf.${br.name}.${k} is ${br.ipv4_conf[k]}, the lab sets ${v}`);
    }
    // A querier bridge keeps its link-local address to send MLD queries from (build.ts).
    const mldQuerier = spec?.querier === 1;
    if (br.ipv6_disabled === false && !mldQuerier) p.push(`bridge ${br.name} has IPv6 on: the host takes part`);
    if (br.ipv6_disabled === true && mldQuerier) p.push(`bridge ${br.name} has IPv6 off: as querier it sends IGMP queries but no MLD queries`);
    // spec.ssmRouter: the router's upstream port is the lab's too (build.ts)
    const ours = new Set([...st.guests.map((g) => g.host_link.name), ...(spec?.ssmRouter ? [routerLinkName(spec.name)] : [])]);
    const foreign = br.ports.filter((x) => !ours.has(x));
    if (foreign.length) p.push(`bridge ${br.name} has ports that are not the lab's: ${foreign.join(', ')}`);
  }
  // behind the SSM router the last guest's host end is the router's downstream port, not a bridge port
  const behindRouter = spec?.ssmRouter ? st.guests[st.guests.length - 1] : undefined;
  for (const g of st.guests) {
    if (!g.netns_exists) p.push(`${g.name}: namespace ${g.netns} is missing`);
    if (g === behindRouter) {
      // its link is down0 in the router's namespace
    } else if (!g.host_link.exists) p.push(`${g.name}: link ${g.host_link.name} is missing`);
    else if (g.host_link.port_state !== 'forwarding') p.push(`${g.name}: bridge port ${g.host_link.name} is ${g.host_link.port_state ?? 'not a port'}`);
    if (g.netns_exists && !g.eth0.exists) p.push(`${g.name}: ${GUEST_IF} is missing in ${g.netns}`);
    else if (g.netns_exists && g.address && !g.eth0.addresses.includes(g.address)) p.push(`${g.name}: ${GUEST_IF} lacks ${g.address}`);
  }
  if (spec && br.exists) p.push(...readbackProblems(spec, br));
  return p;
}

/** Knobs the kernel did not take as asked (it clamps some intervals); 0.01 s of jiffy rounding is fine. */
export function readbackProblems(spec: LabSpec, br: BridgeStatus): string[] {
  const p: string[] = [];
  const bit = (asked: 0 | 1 | null, got: number | null, what: string) => {
    if (asked !== null && got !== asked) p.push(`bridge ${what} reads ${got}, asked ${asked}`);
  };
  bit(spec.snooping, br.multicast.snooping, 'multicast_snooping');
  bit(spec.querier, br.multicast.querier, 'multicast_querier');
  bit(spec.stp, br.stp.stp_state, 'stp_state');
  if (spec.igmpVersion !== null && br.multicast.igmp_version !== spec.igmpVersion) p.push(`bridge multicast_igmp_version reads ${br.multicast.igmp_version}, asked ${spec.igmpVersion}`);
  if (spec.mldVersion !== null && br.multicast.mld_version !== spec.mldVersion) p.push(`bridge multicast_mld_version reads ${br.multicast.mld_version}, asked ${spec.mldVersion}`);
  const got: Record<IntervalKnob, number | null> = {
    membershipInterval: br.multicast.membership_interval,
    querierInterval: br.multicast.querier_interval,
    queryInterval: br.multicast.query_interval,
    responseInterval: br.multicast.query_response_interval,
    startupQueryInterval: br.multicast.startup_query_interval,
  };
  for (const k of Object.keys(INTERVAL_KNOBS) as IntervalKnob[]) {
    const asked = spec[k];
    const have = got[k];
    if (asked !== null && (have === null || Math.abs(toCentiseconds(asked) - Math.round(have * 100)) > 1)) {
      p.push(`bridge ${INTERVAL_KNOBS[k].sysfs} reads ${have} s, asked ${asked} s`);
    }
  }
  if (spec.mtu !== null && br.mtu !== spec.mtu) p.push(`bridge mtu reads ${br.mtu}, asked ${spec.mtu}`);
  return p;
}

// ---- the lab -------------------------------------------------------------------------------

