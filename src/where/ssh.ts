// The user's own hosts as a place, reached with the system's OpenSSH client (their ~/.ssh/config,
// keys, agent, ProxyJump and known_hosts apply). Per host and per piece of work, one master
// connection (ControlMaster, its socket in a private 0700 temp folder) carries every process;
// BatchMode means never a password prompt. The master's own session runs `cat` on its stdin:
// when this process dies, however it dies, the pipe closes, the master's session ends, and every
// multiplexed process gets EOF on its stdin, which the remote mcbench watches (LIFELINE_ENV):
// receivers and senders stop, held settings are restored, and the master exits by itself.
// Hosts with `local: true` run here, without ssh, with the same lifeline.
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { RunError } from '../core/errors.js';
import { isEvent, NdjsonReader, type StreamEvent } from '../core/ndjson.js';
import type { Inventory, InventoryHost } from '../core/inventory.js';
import { compatibleVersion, LIFELINE_ENV, parseVersion } from '../core/remote.js';
import type { HostFacts, SettingChange } from '../core/run-report.js';
import type { KernelSettingsSnapshot } from '../core/settings.js';
import { VERSION } from '../host/version.js';
import { MCBENCH_JS } from './here.js';
import type { AppliedChanges, Hosts, Place } from './hosts.js';
import { installedMcbench, readInstalls, type RemoteResult, type RemoteShell } from './ssh-install.js';

export interface SshOptions {
  /** extra `-o KEY=VALUE` (--ssh-option) */
  sshOptions: readonly string[];
  /** seconds for ssh's ConnectTimeout */
  connectTimeout?: number;
  /** where lines for the user go (waiting, warnings) */
  log: (line: string) => void;
}

/** Quotes one word for a POSIX shell: the remote side of ssh is always a shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The argv that starts `mcbench ARGS` on a host (sudo -n and the lifeline variable included). */
export function mcbenchArgv(host: InventoryHost, args: readonly string[], installed: string | null = null): string[] {
  const cmd = host.mcbench ?? installed ?? 'mcbench';
  const run = cmd.endsWith('.js') ? ['node', cmd] : [cmd];
  // sudo resets the environment, so the variable is set after it, with env(1).
  return [...(host.sudo ? ['sudo', '-n'] : []), 'env', `${LIFELINE_ENV}=1`, ...run, ...args];
}

const sshError = (stderr: string): string => {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(-2).join('; ') || 'no reason given';
};

interface Ran extends RemoteResult {
  signal: NodeJS.Signals | null;
}

function collect(proc: ChildProcess, timeoutMs: number): Promise<Ran> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(no answer within ${timeoutMs / 1000} s)`;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: stderr + e.message });
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** One host's master connection (or nothing, for a local host). */
class Connection {
  master: ChildProcess | null = null;
  masterErr = '';
  /** why the connection ended before close(); null while it is up */
  lost: string | null = null;
  private closing = false;
  readonly installed: string | null;

  constructor(readonly host: InventoryHost, private readonly socket: string, private readonly opts: SshOptions) {
    this.installed = host.ssh && !host.mcbench ? installedMcbench(readInstalls(), host.ssh) : null;
  }

  /** ssh's options for every process of this host */
  private base(): string[] {
    const o = [
      'BatchMode=yes',
      `ConnectTimeout=${this.opts.connectTimeout ?? 10}`,
      'ServerAliveInterval=5',
      'ServerAliveCountMax=3',
      `ControlPath=${this.socket}`,
      ...this.opts.sshOptions,
    ];
    return o.flatMap((x) => ['-o', x]);
  }

  async open(onLost: (c: Connection) => void): Promise<void> {
    if (this.host.local) return;
    const dest = this.host.ssh!;
    const master = spawn('ssh', ['-M', '-T', '-o', 'ControlPersist=no', ...this.base(), '--', dest, 'exec cat >/dev/null'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.master = master;
    master.stderr.on('data', (d: Buffer) => (this.masterErr += d.toString()));
    const exited = new Promise<void>((r) => master.on('close', () => r()));
    master.on('error', (e) => (this.masterErr += e.message));
    void exited.then(() => {
      if (!this.closing && this.lost === null) {
        this.lost = sshError(this.masterErr);
        onLost(this);
      }
    });
    const deadline = Date.now() + ((this.opts.connectTimeout ?? 10) + 10) * 1000;
    for (;;) {
      if (this.lost !== null || master.exitCode !== null || master.signalCode !== null) {
        await exited;
        throw new RunError(`${this.host.name}: cannot connect to ${dest}: ${sshError(this.masterErr)}`);
      }
      const check = await collect(spawn('ssh', [...this.base(), '-O', 'check', '--', dest], { stdio: ['ignore', 'pipe', 'pipe'] }), 5000);
      if (check.code === 0) return;
      if (Date.now() > deadline) throw new RunError(`${this.host.name}: cannot connect to ${dest}: no connection within ${Math.round((deadline - Date.now()) / 1000 + (this.opts.connectTimeout ?? 10) + 10)} s${this.masterErr ? `: ${sshError(this.masterErr)}` : ''}`);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
    }
  }

  /** Starts argv on the host (mux session over the master; no pty, stdin piped: the lifeline). */
  spawnArgv(argv: readonly string[]): ChildProcess {
    if (this.host.local) {
      const [cmd, ...rest] = argv;
      return spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, [LIFELINE_ENV]: '1' } });
    }
    return spawn('ssh', ['-T', '-o', 'ControlMaster=no', ...this.base(), '--', this.host.ssh!, argv.map(shellQuote).join(' ')], { stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** The mcbench this host runs: the inventory's `mcbench:`, else the install record, else `mcbench` on PATH (here: this one). */
  get command(): string {
    if (this.host.local) return this.host.mcbench ?? MCBENCH_JS;
    return this.host.mcbench ?? this.installed ?? 'mcbench';
  }

  spawnMcbench(args: readonly string[]): ChildProcess {
    if (this.host.local) {
      const cmd = this.host.mcbench ?? MCBENCH_JS;
      return this.spawnArgv(cmd.endsWith('.js') ? [process.execPath, cmd, ...args] : [cmd, ...args]);
    }
    return this.spawnArgv(mcbenchArgv(this.host, args, this.installed));
  }

  async run(argv: readonly string[], timeoutMs = 30000): Promise<Ran> {
    const p = this.spawnArgv(argv);
    p.stdin?.end();
    return collect(p, timeoutMs);
  }

  async runMcbench(args: readonly string[], timeoutMs = 30000): Promise<Ran> {
    const p = this.spawnMcbench(args);
    p.stdin?.end();
    return collect(p, timeoutMs);
  }

  /** scp over the master connection */
  async copy(local: string, remote: string): Promise<void> {
    if (this.host.local) {
      const r = await collect(spawn('cp', ['--', local, remote], { stdio: ['ignore', 'pipe', 'pipe'] }), 60000);
      if (r.code !== 0) throw new RunError(`${this.host.name}: cp failed: ${sshError(r.stderr)}`);
      return;
    }
    const r = await collect(spawn('scp', ['-q', ...this.base(), '--', local, scpTarget(this.host.ssh!, remote)], { stdio: ['ignore', 'pipe', 'pipe'] }), 300000);
    if (r.code !== 0) throw new RunError(`${this.host.name}: scp failed: ${sshError(r.stderr)}`);
  }

  async close(): Promise<void> {
    this.closing = true;
    const m = this.master;
    if (!m || m.exitCode !== null || m.signalCode !== null) return;
    const exited = new Promise<void>((r) => m.on('close', () => r()));
    await collect(spawn('ssh', [...this.base(), '-O', 'exit', '--', this.host.ssh!], { stdio: ['ignore', 'pipe', 'pipe'] }), 5000);
    m.stdin?.end();
    const t = setTimeout(() => m.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** scp's spelling of a destination and path (ssh:// URIs become scp:// ones). */
export function scpTarget(dest: string, path: string): string {
  if (dest.startsWith('ssh://')) return `scp://${dest.slice('ssh://'.length).replace(/\/$/, '')}/${path.replace(/^\//, '/')}`;
  return `${dest}:${path}`;
}

/**
 * A SIGKILLed run cannot remove its ControlPath folder (its masters still remove their sockets
 * when they exit): the next run removes the empty folders of dead processes, ours only.
 */
function sweepDeadFolders(): void {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^mcb-ssh-(\d+)-[A-Za-z0-9]{6}$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    const path = join(os.tmpdir(), n);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== uid) continue;
      process.kill(Number(m[1]), 0);
    } catch (e) {
      // ESRCH: its process is gone; rmdirSync removes the folder only when it is empty
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') {
        try {
          rmdirSync(path);
        } catch {
          /* not empty (a live master's socket) or already gone: left alone */
        }
      }
    }
  }
}

/** What a host told us before the work started. */
export interface HostProbe {
  version: string;
  settings: KernelSettingsSnapshot | null;
}

/**
 * The connections to some hosts of an inventory for one piece of work. open() connects to every
 * host at once and fails (naming the host, with ssh's reason) before anything runs; close()
 * ends the masters and removes the private folder, on every path.
 */
export class SshSession {
  private readonly conns = new Map<string, Connection>();
  private readonly lostAc = new AbortController();
  private lostWhy: string | null = null;

  private constructor(private readonly dir: string) {}

  /** aborted when a host's connection drops mid-work (reason: the line naming it) */
  get lostSignal(): AbortSignal {
    return this.lostAc.signal;
  }

  get lost(): string | null {
    return this.lostWhy;
  }

  static async open(hosts: readonly InventoryHost[], opts: SshOptions): Promise<SshSession> {
    sweepDeadFolders();
    const dir = mkdtempSync(join(os.tmpdir(), `mcb-ssh-${process.pid}-`));
    const s = new SshSession(dir);
    hosts.forEach((h, i) => s.conns.set(h.name, new Connection(h, join(dir, `c${i}`), opts)));
    const onLost = (c: Connection) => {
      if (s.lostWhy !== null) return;
      s.lostWhy = `${c.host.name}: connection lost: ${c.lost ?? 'no reason given'}`;
      s.lostAc.abort(s.lostWhy);
    };
    try {
      const results = await Promise.allSettled([...s.conns.values()].map((c) => c.open(onLost)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  conn(name: string): Connection {
    const c = this.conns.get(name);
    if (!c) throw new RunError(`${name}: not a connected host`);
    return c;
  }

  /** helper-5's install code drives a host through this */
  shell(name: string): RemoteShell {
    const c = this.conn(name);
    return { run: (argv) => c.run(argv, 600000), copy: (l, r) => c.copy(l, r) };
  }

  /** mcbench's version on each host, refused when incompatible with ours (naming the host). */
  async checkVersion(name: string): Promise<string> {
    const c = this.conn(name);
    const r = await c.runMcbench(['--version'], 20000);
    const where = c.host.local ? 'here' : `on ${c.host.ssh!}`;
    if (r.code !== 0) {
      const why = sshError(r.stderr || r.stdout);
      const missing = r.code === 127 || /not found|No such file/i.test(r.stderr);
      throw new RunError(`${name}: ${missing ? 'mcbench not found' : 'mcbench --version failed'} ${where}: ${why}${missing ? ' (give its path as mcbench: in the inventory, or mcbench hosts install)' : ''}`);
    }
    const v = parseVersion(r.stdout.trim());
    if (!v) throw new RunError(`${name}: '${r.stdout.trim().slice(0, 80)}' ${where} is not an mcbench version`);
    if (!compatibleVersion(VERSION, v)) throw new RunError(`${name}: mcbench ${v} ${where} does not work with this mcbench ${VERSION} (install the same version: mcbench hosts install)`);
    return v;
  }

  /** The host's settings snapshot for its interface; an interface that is not there is refused. */
  async snapshot(name: string): Promise<KernelSettingsSnapshot> {
    const c = this.conn(name);
    const r = await c.runMcbench(['settings', '-I', c.host.interface, '--json', '-'], 20000);
    if (r.code !== 0) throw new RunError(`${name}: interface ${c.host.interface}: ${sshError(r.stderr).replace(/^mcbench settings: (-I\/--interface: )?/, '')}`);
    try {
      return JSON.parse(r.stdout) as KernelSettingsSnapshot;
    } catch {
      throw new RunError(`${name}: mcbench settings printed no snapshot`);
    }
  }

  /**
   * Holds sysctls on each named host (`settings apply --hold`) until restore(); a host that
   * refuses fails the call, the hosts already set being restored first.
   */
  async holdSettings(names: readonly string[], values: Record<string, number | string>, signal?: AbortSignal): Promise<AppliedChanges> {
    const args = ['settings', 'apply', '--hold', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)];
    const held: Array<{ name: string; proc: ChildProcess; hold: Hold }> = [];
    const changes: SettingChange[] = [];
    const restore = async (): Promise<string[]> => {
      const failed: string[] = [];
      for (const h of held) h.proc.stdin?.end();
      for (const h of held) {
        const r = await h.hold.done;
        if (r.end === null) failed.push(`${h.name}: ${r.why}`);
        else failed.push(...r.end.map((f) => `${h.name}: ${f}`));
      }
      held.length = 0;
      return failed;
    };
    // local: true hosts are all this machine: one kernel, so its settings are held once
    const firstLocal = names.find((n) => this.conn(n).host.local);
    const targets = names.filter((n) => !this.conn(n).host.local || n === firstLocal);
    try {
      for (const name of targets) {
        const proc = this.conn(name).spawnMcbench(args);
        held.push({ name, proc, hold: watchHold(proc) });
      }
      const aborted = new Promise<'aborted'>((r) => {
        if (signal?.aborted) r('aborted');
        signal?.addEventListener('abort', () => r('aborted'), { once: true });
      });
      for (const h of held) {
        const start = await Promise.race([h.hold.started, aborted]);
        if (start === 'aborted') throw new RunError('interrupted');
        if (start === null) throw new RunError(`${h.name}: cannot set ${Object.keys(values).join(', ')}: ${(await h.hold.done).why}`);
        for (const c of start) changes.push({ ...c, host: h.name });
      }
    } catch (e) {
      const failed = await restore();
      if (failed.length) this.log?.(`warning: could not restore ${failed.join('; ')}`);
      throw e;
    }
    return { changes, restore };
  }

  log: ((line: string) => void) | undefined;

  async close(): Promise<void> {
    try {
      await Promise.all([...this.conns.values()].map((c) => c.close()));
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

interface Held {
  /** what could not be restored; null when no end event came */
  end: string[] | null;
  why: string;
}

type Changes = Array<{ id: string; before: string; after: string }>;

interface Hold {
  /** the changes once the start event came; null when the process ended without one */
  started: Promise<Changes | null>;
  done: Promise<Held>;
}

/** Reads a `settings apply --hold` process: its start event (the changes) and its end event. */
function watchHold(proc: ChildProcess): Hold {
  const reader = new NdjsonReader();
  const held: Held = { end: null, why: '' };
  let err = '';
  let onStart: (s: Changes | null) => void = () => {};
  const started = new Promise<Changes | null>((r) => (onStart = r));
  const take = (e: StreamEvent) => {
    if (e.event === 'start') onStart((e.data as { changes: Changes }).changes);
    else if (e.event === 'end') held.end = (e.data as { failed: string[] }).failed;
    else {
      const m = (e.data as { message?: unknown } | null)?.message;
      held.why = typeof m === 'string' ? m : '';
    }
  };
  proc.stdout!.on('data', (d: Buffer) => reader.push(d.toString()).filter(isEvent).forEach(take));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<Held>((resolve) => {
    proc.on('error', (e) => (err += e.message));
    proc.on('close', () => {
      reader.end().filter(isEvent).forEach(take);
      if (!held.why) held.why = sshError(err);
      onStart(null);
      resolve(held);
    });
  });
  return { started, done };
}

/** The hosts of a run, from the inventory: the sender is host 1, the receivers 2..N. */
export function sshPlace(inv: Inventory, opts: SshOptions & { settingsOn: readonly string[] }): Place {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  const order = [inv.sender, ...inv.receivers].map((n) => byName.get(n)!);
  return {
    kind: 'ssh',
    refuse: (need) => {
      const knobs = Object.keys(need.lab);
      if (knobs.length) return `needs the lab's bridge (${knobs.join(', ')}); the hosts' own network is as it is`;
      return null;
    },
    withHosts: async (_need, signal, fn) => {
      const session = await SshSession.open(order, opts);
      session.log = opts.log;
      try {
        const facts: HostFacts[] = [];
        for (const [i, h] of order.entries()) {
          const version = await session.checkVersion(h.name);
          const settings = await session.snapshot(h.name);
          facts.push({ name: h.name, role: i === 0 ? 'sender' : 'receiver', ssh: h.ssh, local: h.local, interface: h.interface, mcbench_version: version, mcbench_command: session.conn(h.name).command, settings });
        }
        const hosts: Hosts = {
          count: order.length,
          name: (k) => order[k - 1]!.name,
          iface: (k) => order[k - 1]!.interface,
          spawnMcbench: (k, args) => session.conn(order[k - 1]!.name).spawnMcbench(args),
          applySettings: (values, sig) => (Object.keys(values).length ? session.holdSettings(opts.settingsOn, values, sig) : Promise.resolve({ changes: [], restore: () => Promise.resolve([]) })),
          bridge: () => null,
          sharedClock: order.every((h) => h.local),
          facts: () => facts,
        };
        let result: Awaited<ReturnType<typeof fn>>;
        try {
          result = await fn(hosts, AbortSignal.any([signal, session.lostSignal]));
        } catch (e) {
          // whatever the work said ("interrupted", a receiver that exited), the cause is the lost host
          if (session.lost) throw new RunError(session.lost);
          throw e;
        }
        if (session.lost) throw new RunError(session.lost);
        return result;
      } finally {
        await session.close();
      }
    },
  };
}
