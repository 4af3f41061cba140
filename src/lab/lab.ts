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
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { RunError, UsageError } from '../core/errors.js';
import {
  bridgeName, DEFAULT_LAB_NAME, guestName, guestNetns, hostLinkName, labSpec, parseGuestRef, type LabSpecInput,
} from '../core/lab-spec.js';
import {
  claimState, isStale, listStates, ownerAlive, readState, selfOwner, statePath, STATE_SCHEMA, writeState, type GuestRecord, type LabState,
} from './state.js';
import { guestAddress, guestAddress6, hostPrefixes, parsePrefix, pickSubnet } from './subnet.js';
import { ipJson, readSys } from './sys.js';
import { findLab, isEmpty, teardown, teardownSync, type TeardownReport } from './teardown.js';
import { build, clearStale } from './build.js';
import { problemsOf, readBridge, readBridgeNf, readGuest, readbackProblems, type AddrRow, type LabStatus } from './status.js';

export type { BridgeStatus, GuestStatus, LabStatus } from './status.js';

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
    if (process.listenerCount(sig) > 0) process.exit(128 + constants.signals[sig]);
    process.kill(process.pid, sig);
  })();
}

function onExit(): void {
  for (const name of new Set([...building.keys(), ...owned.keys()])) teardownSync(name);
}

// ---- status ---------------------------------------------------------------------------------

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
        address6: guestAddress6(subnet, i + 1),
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

  /**
   * Removes the lab (by name). A lab whose maker is alive (another process's ephemeral lab, or
   * one being made) is refused unless force: that process is measuring on it. Idempotent:
   * existed is false when there was nothing.
   */
  down(opts: { force?: boolean } = {}): Promise<DownReport> {
    this.downing ??= (async () => {
      requireRoot();
      const s = readState(this.name);
      if (s && s !== 'corrupt' && s.owner && s.owner.pid !== process.pid && ownerAlive(s.owner)) {
        if (!opts.force) {
          throw new RunError(`lab '${this.name}' belongs to running pid ${s.owner.pid} (${s.phase === 'creating' ? 'being made' : 'in use'}); ` +
            `it goes when that process ends (or remove it anyway: mcbench lab down --name ${this.name} --force)`);
        }
        this.log(`lab '${this.name}' belongs to running pid ${s.owner.pid}; removing it anyway (--force)`);
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
  let result: T;
  try {
    const p = Promise.resolve().then(() => fn(lab, ac.signal));
    settled = p.catch(() => undefined);
    result = await p;
  } catch (e) {
    // fn's own error matters more than one from taking the lab down; the exit handler tries again
    await lab.down().catch((de: unknown) => (opts.log ?? noop)(`lab '${lab.name}': ${(de as Error).message}`));
    throw e;
  }
  // fn succeeded: a failure to take the lab down is the error
  await lab.down();
  return result;
}
