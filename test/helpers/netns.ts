// A private network namespace per test, made and owned by the test: `unshare -n` runs an anchor
// process that holds the namespace; every command joins it with nsenter. The anchor reads its
// stdin, so when the test process dies for any reason the pipe closes, the anchor exits and the
// kernel removes the namespace with everything in it. Nothing touches the host's interfaces.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MCBENCH = join(ROOT, 'bin', 'mcbench.js');

export interface RunOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const SETUP = [
  'ip link set lo up',
  'ip link set lo multicast on',
  // Multicast needs a route; in this namespace lo is the only way out.
  'ip route add 224.0.0.0/4 dev lo',
].join(' && ');

export class TestNetns {
  private constructor(private readonly anchor: ChildProcess) {}

  static async create(): Promise<TestNetns> {
    if (process.getuid?.() !== 0) throw new Error('these tests need root: they make private network namespaces (unshare -n)');
    const anchor = spawn('unshare', ['-n', '--', 'sh', '-c', `${SETUP} && echo ready && read _`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    anchor.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    anchor.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 5000;
    while (!out.includes('ready')) {
      if (anchor.exitCode !== null || Date.now() > deadline) throw new Error(`cannot make a test namespace: ${err.trim()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return new TestNetns(anchor);
  }

  get pid(): number {
    return this.anchor.pid!;
  }

  /** Starts a command inside the namespace. */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn('nsenter', ['-t', String(this.pid), '-n', '--', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
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
    if (this.anchor.exitCode !== null) return;
    this.anchor.stdin!.end();
    await once(this.anchor, 'exit');
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
