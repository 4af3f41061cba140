// The lab: N network namespaces ("guests") on one Linux bridge in the root namespace, like the
// tap devices of KVM guests on a host's br0. Each guest has a veth pair: mcb-<lab>-hK on the
// bridge, eth0 inside mcb-<lab>-gK with 10.X.Y.K/24 and a route for 224.0.0.0/4. The bridge and
// the host ends carry no address (IPv4 or IPv6): the host does not take part, nothing is routed
// or forwarded out of the lab, and only the lab's own veths are bridge ports.
//
// A lab made by `lab up` (persistent) stays until `lab down`. Any other lab (withLab, or a lab
// being made) belongs to its process: it goes on a normal end, an error, SIGINT/SIGTERM/SIGHUP
// and process.exit(); after a SIGKILL its state file names a dead owner, and the next `lab down`
// or `lab up` of that name removes it.
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { constants } from 'node:os';
import { RunError, UsageError } from '../core/errors.js';
import {
  bridgeName, DEFAULT_LAB_NAME, GUEST_IF, guestName, guestNetns, hostLinkName, INTERVAL_KNOBS, labSpec, parseGuestRef, toCentiseconds,
  type IntervalKnob, type LabSpec, type LabSpecInput,
} from './spec.js';
import {
  claimState, isStale, listStates, ownerAlive, readState, selfOwner, statePath, STATE_SCHEMA, writeState, type GuestRecord, type LabState,
} from './state.js';
import { guestAddress, hostPrefixes, parsePrefix, pickSubnet } from './subnet.js';
import { ip, ipJson, readSys, readSysNumber, writeSys } from './sys.js';
import { findLab, isEmpty, teardown, teardownSync, type TeardownReport } from './teardown.js';

export type LabLog = (line: string) => void;
const noop: LabLog = () => {};

/** ip netns needs CAP_SYS_ADMIN (mounts), links and bridges CAP_NET_ADMIN. */
export function requireRoot(): void {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readSys('/proc/self/status') ?? '');
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const need = (1n << 12n) | (1n << 21n); // CAP_NET_ADMIN, CAP_SYS_ADMIN
  if ((caps & need) !== need) throw new UsageError('needs root (CAP_NET_ADMIN) to create network namespaces');
}

// ---- cleanup on every exit path ------------------------------------------------------------

/** labs being made by this process: a signal aborts them at their next step */
const building = new Map<string, { abort(sig: NodeJS.Signals): void; settled: Promise<unknown>; log: LabLog }>();
/** complete labs this process must remove before it ends (withLab) */
const owned = new Map<string, Lab>();
let handling: NodeJS.Signals | null = null;
let installed = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function syncHandlers(): void {
  const need = building.size + owned.size > 0 || handling !== null;
  if (need && !installed) {
    SIGNALS.forEach((s) => process.on(s, onSignal));
    process.on('exit', onExit);
    installed = true;
  } else if (!need && installed) {
    SIGNALS.forEach((s) => process.off(s, onSignal));
    process.off('exit', onExit);
    installed = false;
  }
}

function onSignal(sig: NodeJS.Signals): void {
  if (handling) {
    process.stderr.write(`mcbench: removing the lab, one moment (${sig} again ignored)\n`);
    return;
  }
  handling = sig;
  // When every lab here belongs to a caller that handles the signal itself (it stops its work,
  // writes a partial result and exits on its own), removing the labs is all this handler does.
  const callerFinishes = building.size === 0 && owned.size > 0 && [...owned.values()].every((l) => l.callerHandlesSignals);
  void (async () => {
    for (const b of building.values()) b.abort(sig);
    await Promise.allSettled([
      ...[...building.entries()].map(([name, b]) => b.settled.then(() => b.log(`${sig}: removed lab '${name}' (it was being made)`))),
      ...[...owned.values()].map((lab) => lab.shutdown(sig)),
    ]);
    handling = null;
    syncHandlers();
    if (callerFinishes) return;
    // Die of the signal as if the lab had not been there; when someone else also listens
    // (a run's own abort handler) the default action would not happen, so exit outright.
    if (process.listenerCount(sig) > 0) process.exit(128 + (constants.signals[sig] ?? 0));
    process.kill(process.pid, sig);
  })();
}

function onExit(): void {
  for (const name of new Set([...building.keys(), ...owned.keys()])) teardownSync(name);
}

// ---- status ---------------------------------------------------------------------------------

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
const sysNet = (dev: string, file: string) => `/sys/class/net/${dev}/${file}`;
const cs = (v: number | null) => (v === null ? null : v / 100);

function readBridge(br: string): BridgeStatus {
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
      router: b('multicast_router'),
    },
    stp: { stp_state: b('stp_state'), forward_delay: cs(b('forward_delay')) },
    nf_call_iptables: b('nf_call_iptables'),
  };
}

function readBridgeNf(): LabStatus['bridge_nf'] {
  if (!existsSync('/proc/sys/net/bridge')) return null;
  const r = (f: string) => readSysNumber(`/proc/sys/net/bridge/${f}`);
  return {
    'bridge-nf-call-iptables': r('bridge-nf-call-iptables'),
    'bridge-nf-call-ip6tables': r('bridge-nf-call-ip6tables'),
    'bridge-nf-call-arptables': r('bridge-nf-call-arptables'),
  };
}

interface AddrRow {
  ifname: string;
  operstate?: string;
  mtu?: number;
  txqlen?: number;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

async function readGuest(lab: string, k: number, address: string | null, netnsExists: boolean): Promise<GuestStatus> {
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

function problemsOf(st: LabStatus, spec: LabSpec | null): string[] {
  const p: string[] = [];
  const br = st.bridge;
  if (!br.exists) p.push(`bridge ${br.name} is missing`);
  else {
    if (br.ipv4.length) p.push(`bridge ${br.name} has an IPv4 address (${br.ipv4.join(', ')}): the host takes part`);
    for (const [k, v] of BRIDGE_IPV4_CONF) {
      if (br.ipv4_conf[k] !== v) p.push(`bridge ${br.name}: net.ipv4.conf.${br.name}.${k} is ${br.ipv4_conf[k]}, the lab sets ${v}`);
    }
    if (br.ipv6_disabled === false) p.push(`bridge ${br.name} has IPv6 on: the host takes part`);
    const ours = new Set(st.guests.map((g) => g.host_link.name));
    const foreign = br.ports.filter((x) => !ours.has(x));
    if (foreign.length) p.push(`bridge ${br.name} has ports that are not the lab's: ${foreign.join(', ')}`);
  }
  for (const g of st.guests) {
    if (!g.netns_exists) p.push(`${g.name}: namespace ${g.netns} is missing`);
    if (!g.host_link.exists) p.push(`${g.name}: link ${g.host_link.name} is missing`);
    else if (g.host_link.port_state !== 'forwarding') p.push(`${g.name}: bridge port ${g.host_link.name} is ${g.host_link.port_state ?? 'not a port'}`);
    if (g.netns_exists && !g.eth0.exists) p.push(`${g.name}: ${GUEST_IF} is missing in ${g.netns}`);
    else if (g.netns_exists && g.address && !g.eth0.addresses.includes(g.address)) p.push(`${g.name}: ${GUEST_IF} lacks ${g.address}`);
  }
  if (spec && br.exists) p.push(...readbackProblems(spec, br));
  return p;
}

/** Knobs the kernel did not take as asked (it clamps some intervals); 0.01 s of jiffy rounding is fine. */
function readbackProblems(spec: LabSpec, br: BridgeStatus): string[] {
  const p: string[] = [];
  const bit = (asked: 0 | 1 | null, got: number | null, what: string) => {
    if (asked !== null && got !== asked) p.push(`bridge ${what} reads ${got}, asked ${asked}`);
  };
  bit(spec.snooping, br.multicast.snooping, 'multicast_snooping');
  bit(spec.querier, br.multicast.querier, 'multicast_querier');
  bit(spec.stp, br.stp.stp_state, 'stp_state');
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

export interface LabUpOptions {
  /** true (`lab up`): the lab stays after this process ends. false (default): it goes with it. */
  persistent?: boolean;
  /** progress and warnings, one line each */
  log?: LabLog;
}

export interface DownReport extends TeardownReport {
  /** false when there was nothing of the lab to remove */
  existed: boolean;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** a wait that does not keep the process alive by itself */
const sleepUnref = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class Lab {
  private downing: Promise<DownReport> | null = null;
  /** withLab's hook: runs on SIGINT/SIGTERM/SIGHUP before the lab is removed */
  onSignal: ((sig: NodeJS.Signals) => Promise<void>) | null = null;
  /** withLab's callerHandlesSignals: on a signal, remove the lab but do not end the process */
  callerHandlesSignals = false;

  private constructor(readonly name: string, private st: LabState | null, private readonly log: LabLog) {}

  /** A handle on lab `name`, up or not (for down, status and exec). */
  static open(name: string = DEFAULT_LAB_NAME, log: LabLog = noop): Lab {
    const n = labSpec({ name, guests: 2 }).name;
    const s = readState(n);
    return new Lab(n, s === 'corrupt' ? null : s, log);
  }

  /**
   * Makes a lab. A stale lab of the same name (its owner died) is removed first; a live one is
   * an error. On any failure, or a signal while it is being made, everything made is removed.
   */
  static async up(input: LabSpecInput, opts: LabUpOptions = {}): Promise<Lab> {
    const spec = labSpec(input);
    requireRoot();
    const log = opts.log ?? noop;
    const persistent = opts.persistent ?? false;
    if (building.has(spec.name) || owned.has(spec.name)) throw new RunError(`lab '${spec.name}' is already up in this process`);
    await clearStale(spec.name, log);

    const taken = listStates().map((s) => parsePrefix(s.subnet)).filter((p) => p !== null);
    const subnet = pickSubnet([...(await hostPrefixes()), ...taken]);
    const state: LabState = {
      schema: STATE_SCHEMA,
      name: spec.name,
      phase: 'creating',
      persistent,
      owner: selfOwner(),
      created_at: new Date().toISOString(),
      spec,
      subnet,
      bridge: bridgeName(spec.name),
      guests: Array.from({ length: spec.guests }, (_, i) => ({
        index: i + 1,
        name: guestName(i + 1),
        netns: guestNetns(spec.name, i + 1),
        host_link: hostLinkName(spec.name, i + 1),
        address: guestAddress(subnet, i + 1),
        role: 'guest' as const,
      })),
    };
    if (!claimState(state)) throw new RunError(`lab '${spec.name}' is being made by another process right now`);
    const lab = new Lab(spec.name, state, log);

    let abortedBy: NodeJS.Signals | null = null;
    const check = () => {
      if (abortedBy) throw new RunError(`interrupted by ${abortedBy}; removed what was made of lab '${spec.name}'`);
    };
    const task = (async () => {
      try {
        await build(spec, state, check);
        check();
        state.phase = 'up';
        if (persistent) state.owner = null;
        writeState(state);
      } catch (e) {
        try {
          await teardown(spec.name, 0);
        } catch (e2) {
          log(`lab '${spec.name}': cleanup after a failure left something: ${(e2 as Error).message} (mcbench lab down --name ${spec.name})`);
        }
        throw e;
      }
    })();
    building.set(spec.name, { abort: (sig) => (abortedBy = sig), settled: task.catch(() => undefined), log });
    syncHandlers();
    try {
      await task;
      if (!persistent) owned.set(spec.name, lab);
    } finally {
      building.delete(spec.name);
      syncHandlers();
    }
    const br = readBridge(state.bridge);
    for (const p of readbackProblems(spec, br)) log(`lab '${spec.name}': warning: ${p}`);
    return lab;
  }

  /** what the lab was made with; null when it has no (readable) state file */
  get state(): LabState | null {
    return this.st;
  }

  get guests(): GuestRecord[] {
    return this.st?.guests ?? [];
  }

  /** A guest by g2, 2, mcb-<lab>-g2 or index. */
  guest(ref: string | number): GuestRecord {
    const k = typeof ref === 'number' ? ref : parseGuestRef(this.name, ref);
    if (k === null) throw new UsageError(`'${ref}' is not a guest (g1, 1 or ${guestNetns(this.name, 1)})`);
    const found = this.guests.find((g) => g.index === k);
    if (found) return found;
    if (!this.st && existsSync(`/run/netns/${guestNetns(this.name, k)}`)) {
      // A lab without a state file: the namespace is what there is.
      return { index: k, name: guestName(k), netns: guestNetns(this.name, k), host_link: hostLinkName(this.name, k), address: '', role: 'guest' };
    }
    if (!this.st) throw new RunError(`no lab '${this.name}' (mcbench lab up --name ${this.name})`);
    throw new UsageError(`lab '${this.name}' has no guest ${guestName(k)} (g1 to g${this.guests.length})`);
  }

  /** Starts argv inside a guest (`ip netns exec`); no shell. */
  spawn(guest: string | number, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    if (argv.length === 0) throw new UsageError('give the command to run in the guest');
    const g = this.guest(guest);
    return spawn('ip', ['netns', 'exec', g.netns, ...argv], opts);
  }

  /** Runs argv inside a guest to its end and collects its output. */
  exec(guest: string | number, argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const child = this.spawn(guest, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    return new Promise((resolve, reject) => {
      child.on('error', (e) => reject(new RunError(`cannot run ${argv[0]} in ${this.name}/${guest}: ${e.message}`)));
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Removes the lab (by name, whoever made it). Idempotent: existed is false when there was nothing. */
  down(): Promise<DownReport> {
    this.downing ??= (async () => {
      requireRoot();
      const s = readState(this.name);
      if (s && s !== 'corrupt' && s.owner && s.owner.pid !== process.pid && ownerAlive(s.owner)) {
        this.log(`lab '${this.name}' belongs to running pid ${s.owner.pid}; removing it anyway`);
      }
      const existed = s !== null || !isEmpty(await findLab(this.name));
      const report = existed ? await teardown(this.name) : { netns: 0, links: 0, processes: 0 };
      this.st = null;
      if (owned.get(this.name) === this) owned.delete(this.name);
      syncHandlers();
      return { existed, ...report };
    })().catch((e: unknown) => {
      this.downing = null;
      throw e;
    });
    return this.downing;
  }

  /** @internal the signal path: give withLab's function its grace, then remove the lab */
  async shutdown(sig: NodeJS.Signals): Promise<void> {
    try {
      await this.onSignal?.(sig);
    } finally {
      try {
        await this.down();
        this.log(`${sig}: removed lab '${this.name}'`);
      } catch (e) {
        process.stderr.write(`mcbench: ${(e as Error).message}\n`);
      }
    }
  }

  /** What is there, read back from the system; null when nothing of the lab exists. */
  async status(): Promise<LabStatus | null> {
    requireRoot();
    const raw = readState(this.name);
    const s = raw === 'corrupt' ? null : raw;
    if (s) this.st = s;
    const found = await findLab(this.name);
    if (!s && raw !== 'corrupt' && isEmpty(found)) return null;
    const indexes = s ? s.guests.map((g) => g.index) : found.netns.map((n) => Number(/\d+$/.exec(n)![0]));
    const guests = await Promise.all(indexes.map((k) =>
      readGuest(this.name, k, s?.guests.find((g) => g.index === k)?.address ?? null, found.netns.includes(guestNetns(this.name, k)))));
    const bridge = readBridge(bridgeName(this.name));
    if (bridge.exists) {
      const rows = await ipJson<AddrRow>(['-4', 'addr', 'show', 'dev', bridge.name]).catch(() => []);
      bridge.ipv4 = rows.flatMap((r) => (r.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
    }
    const st: LabStatus = {
      schema: 'mcbench/lab-status@1',
      name: this.name,
      state: !s ? 'orphaned' : isStale(s) ? 'stale' : s.phase,
      persistent: s?.persistent ?? null,
      owner: s?.owner ? { pid: s.owner.pid, alive: ownerAlive(s.owner) } : null,
      created_at: s?.created_at ?? null,
      state_file: s || raw === 'corrupt' ? statePath(this.name) : null,
      subnet: s?.subnet ?? null,
      spec: s?.spec ?? null,
      bridge,
      bridge_nf: readBridgeNf(),
      guests,
      problems: [],
    };
    st.problems = problemsOf(st, s?.spec ?? null);
    if (raw === 'corrupt') st.problems.unshift(`state file ${statePath(this.name)} is unreadable`);
    if (st.state === 'stale') st.problems.unshift(`its owner (pid ${s!.owner!.pid}) is gone: mcbench lab down --name ${this.name} removes it`);
    if (st.state === 'orphaned') st.problems.unshift(`no state file: leftovers, mcbench lab down --name ${this.name} removes them`);
    return st;
  }
}

async function clearStale(name: string, log: LabLog): Promise<void> {
  const s = readState(name);
  if (s === 'corrupt') {
    log(`lab '${name}': the state file ${statePath(name)} is unreadable; removing the lab by name`);
    await teardown(name);
    return;
  }
  if (s) {
    if (!isStale(s)) {
      if (s.phase === 'creating') throw new RunError(`lab '${name}' is being made by pid ${s.owner?.pid} right now`);
      const who = s.owner ? `, owned by running pid ${s.owner.pid}` : '';
      throw new RunError(`lab '${name}' is already up (since ${s.created_at}${who}); remove it first: mcbench lab down --name ${name}`);
    }
    log(`lab '${name}': removing a stale lab (its owner, pid ${s.owner!.pid}, is gone)`);
    await teardown(name);
    return;
  }
  const found = await findLab(name);
  if (!isEmpty(found)) {
    log(`lab '${name}': removing leftovers without a state file: ${[...found.netns, ...found.links].join(', ')}`);
    await teardown(name);
  }
}

function disableIPv6(dev: string): void {
  // No link-local address, no MLD, no router solicitations: the host stays off the lab's wire.
  const p = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`;
  if (existsSync(p)) writeSys(p, 1);
}

/**
 * The bridge's own IPv4 settings (they go with the device): never route what comes in from the
 * lab, even where the host forwards between its own interfaces (net.ipv4.ip_forward is left as it
 * is); answer no ARP (so no guest learns a MAC to send the host IP packets to); drop what claims a
 * source the host would not route back this way.
 */
export const BRIDGE_IPV4_CONF: ReadonlyArray<[string, number]> = [['forwarding', 0], ['arp_ignore', 8], ['rp_filter', 1]];

function isolateBridge(br: string): void {
  for (const [k, v] of BRIDGE_IPV4_CONF) writeSys(`/proc/sys/net/ipv4/conf/${br}/${k}`, v);
}

async function build(spec: LabSpec, state: LabState, check: () => void): Promise<void> {
  const step = async (args: string[]) => {
    check();
    await ip(args);
  };
  const br = state.bridge;
  const brArgs = ['link', 'add', 'name', br, 'type', 'bridge'];
  if (spec.stp !== null) brArgs.push('stp_state', String(spec.stp));
  // With STP a port listens and learns for 2 x forward_delay before it forwards; 2 s is the
  // kernel's minimum (libvirt's delay='0' ends up there too) instead of its 15 s default.
  if (spec.stp === 1) brArgs.push('forward_delay', '200');
  if (spec.snooping !== null) brArgs.push('mcast_snooping', String(spec.snooping));
  if (spec.querier !== null) brArgs.push('mcast_querier', String(spec.querier));
  for (const k of Object.keys(INTERVAL_KNOBS) as IntervalKnob[]) {
    const v = spec[k];
    if (v !== null) brArgs.push(INTERVAL_KNOBS[k].ipName, String(toCentiseconds(v)));
  }
  await step(brArgs);
  disableIPv6(br);
  isolateBridge(br);
  if (spec.mtu !== null) await step(['link', 'set', 'dev', br, 'mtu', String(spec.mtu)]);
  await step(['link', 'set', 'dev', br, 'up']);

  // One at a time: the first `ip netns add` sets up the /run/netns mount.
  for (const g of state.guests) await step(['netns', 'add', g.netns]);
  const linkOpts = [...(spec.mtu !== null ? ['mtu', String(spec.mtu)] : []), ...(spec.txqueuelen !== null ? ['txqueuelen', String(spec.txqueuelen)] : [])];
  const results = await Promise.allSettled(state.guests.map(async (g) => {
    // The guest end is made inside its namespace as eth0: it never exists in the root namespace.
    await step(['link', 'add', 'name', g.host_link, 'type', 'veth', 'peer', 'name', GUEST_IF, 'netns', g.netns]);
    disableIPv6(g.host_link);
    await step(['link', 'set', 'dev', g.host_link, ...linkOpts, 'master', br, 'up']);
    await step(['-n', g.netns, 'link', 'set', 'dev', 'lo', 'up']);
    if (linkOpts.length) await step(['-n', g.netns, 'link', 'set', 'dev', GUEST_IF, ...linkOpts]);
    await step(['-n', g.netns, 'addr', 'add', g.address, 'dev', GUEST_IF]);
    await step(['-n', g.netns, 'link', 'set', 'dev', GUEST_IF, 'up']);
    await step(['-n', g.netns, 'route', 'add', '224.0.0.0/4', 'dev', GUEST_IF]);
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  // Ready when every port forwards (at once without STP; after 2 x forward_delay with it).
  const deadline = Date.now() + (spec.stp === 1 ? 15000 : 5000);
  for (;;) {
    check();
    const waiting = state.guests.filter((g) => readSysNumber(sysNet(g.host_link, 'brport/state')) !== 3 || readSys(sysNet(g.host_link, 'operstate')) !== 'up');
    if (waiting.length === 0) break;
    if (Date.now() > deadline) throw new RunError(`bridge ports not forwarding after ${spec.stp === 1 ? 15 : 5} s: ${waiting.map((g) => g.host_link).join(', ')}`);
    await sleep(50);
  }
  await startUpstreamQuerier(spec, state);
}

const MCBENCH_BIN = fileURLToPath(new URL('../../bin/mcbench.js', import.meta.url));

/**
 * g1 plays the upstream switch's querier (spec.upstreamQuerier). 'periodic' leaves a process in
 * g1's namespace: `lab down` stops every process in the guests, so it ends with the lab.
 */
async function startUpstreamQuerier(spec: LabSpec, state: LabState): Promise<void> {
  if (spec.upstreamQuerier === 'off') return;
  const g1 = state.guests[0]!;
  const argv = ['netns', 'exec', g1.netns, process.execPath, MCBENCH_BIN, 'igmp-query', '-I', GUEST_IF];
  if (spec.upstreamQuerier === 'once') {
    await new Promise<void>((resolve, reject) => {
      const p = spawn('ip', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new RunError(`the upstream querier's query failed: ${err.trim()}`))));
    });
    return;
  }
  const p = spawn('ip', [...argv, '--count', '1000000000', '--interval', String(spec.upstreamQueryInterval)], { stdio: 'ignore', detached: true });
  p.unref();
}

export interface WithLabOptions {
  log?: LabLog;
  /** on a signal: how long fn may take to wind down (after its AbortSignal fires) before the lab goes; default 0 */
  graceMs?: number;
  /**
   * The caller handles SIGINT/SIGTERM itself (and writes a partial result): after fn's grace the
   * lab is removed, but the process is not ended; withLab returns (or throws) as fn does.
   */
  callerHandlesSignals?: boolean;
}

/**
 * Runs fn with an ephemeral lab, removed when fn settles, and on SIGINT/SIGTERM/SIGHUP (then the
 * process dies of that signal) or process exit. fn gets an AbortSignal that fires on those signals.
 */
export async function withLab<T>(input: LabSpecInput, fn: (lab: Lab, signal: AbortSignal) => Promise<T> | T, opts: WithLabOptions = {}): Promise<T> {
  const lab = await Lab.up(input, { persistent: false, log: opts.log ?? noop });
  const ac = new AbortController();
  lab.callerHandlesSignals = opts.callerHandlesSignals ?? false;
  let settled: Promise<unknown> = Promise.resolve();
  lab.onSignal = async (sig) => {
    ac.abort(sig);
    if (opts.graceMs) await Promise.race([settled, sleepUnref(opts.graceMs)]);
  };
  let failed = false;
  try {
    const p = Promise.resolve().then(() => fn(lab, ac.signal));
    settled = p.catch(() => undefined);
    return await p;
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    try {
      await lab.down();
    } catch (e) {
      if (!failed) throw e; // fn's own error matters more; the exit handler tries again
      (opts.log ?? noop)(`lab '${lab.name}': ${(e as Error).message}`);
    }
  }
}
