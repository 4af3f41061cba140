// A private network namespace per test, made and owned by the test through the product's own
// PrivateNetns (src/where/local.ts): an `unshare -n` anchor that takes the namespace with it
// when the test process dies for any reason. Nothing touches the host's interfaces.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrivateNetns } from '../../src/where/local.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MCBENCH = join(ROOT, 'bin', 'mcbench.js');

export interface RunOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A private namespace for one test: the product's own PrivateNetns (as root, no user namespace). */
export class TestNetns {
  /** what it started that may still run: killed by close(), also when a test failed midway (a tcpdump left behind outlives the namespace) */
  private readonly children = new Set<ChildProcess>();

  private constructor(private readonly ns: PrivateNetns) {}

  static async create(): Promise<TestNetns> {
    if (process.getuid?.() !== 0) throw new Error('these tests need root: they make private network namespaces (unshare -n)');
    return new TestNetns(await PrivateNetns.create({ userNamespace: false }));
  }

  /** A namespace whose lo is up and carries the multicast route (224.0.0.0/4): a one-host group. */
  static async withMulticastLo(): Promise<TestNetns> {
    const ns = await TestNetns.create();
    await ns.run('ip', ['link', 'set', 'lo', 'up']);
    // (the route may be there already: an error here is harmless)
    await ns.run('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    return ns;
  }

  get pid(): number {
    return this.ns.pid;
  }

  /** Starts a command inside the namespace. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = this.ns.spawn([cmd, ...args], opts);
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs mcbench inside the namespace; resolves when it exits. */
  mcbench(args: string[], timeoutMs = 30000): Running {
    return new Running(this.spawn(process.execPath, [MCBENCH, ...args]), timeoutMs);
  }

  node(script: string, args: string[], timeoutMs = 30000): Running {
    return new Running(this.spawn(process.execPath, [script, ...args]), timeoutMs);
  }

  run(cmd: string, args: string[], timeoutMs = 30000): Promise<RunOutput> {
    return new Running(this.spawn(cmd, args), timeoutMs).done;
  }

  async close(): Promise<void> {
    const left = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of left) c.kill('SIGKILL');
    await Promise.all(left.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.on('exit', r)))));
    return this.ns.close();
  }
}

export class Running {
  stdout = '';
  stderr = '';
  readonly done: Promise<RunOutput>;
  constructor(readonly child: ChildProcess, timeoutMs: number) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    this.done = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        // 'exit' can come before the pipes are drained.
        setImmediate(() => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
      });
    });
  }
  /** Waits until the output contains `text` (the receiver printing that it listens). */
  async waitFor(text: string, timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.stdout + this.stderr).includes(text)) {
      if (this.child.exitCode !== null) throw new Error(`exited before printing '${text}': ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for '${text}'; output so far: ${this.stdout}${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Runs mcbench on the host without any traffic (validation tests: they fail before a socket). */
export function mcbenchNoNet(args: string[], timeoutMs = 15000): Promise<RunOutput> {
  return new Running(spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs).done;
}

/** The Udp: rows of a /proc/net/snmp text as name -> value (InDatagrams, RcvbufErrors, ...). */
export function udpCounters(text: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}
