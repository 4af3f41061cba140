// The clocks of a run: the sender's host answers clock probes (`mcbench clock-serve`) for the
// whole variant; before the receivers start and after everything ended, each receiver's host
// probes it (`mcbench clock-probe`), all receivers at once so a run waits for one exchange, not
// one per receiver (16 probes 10 ms apart: about half a second with the processes' start).
// A clock that cannot be measured is recorded as such and never fails the run.
import type { ChildProcess } from 'node:child_process';
import type { ClockOffset, ClockProbeReport, ClockSync, ReceiverClock, RunClocks } from '../core/clock.js';
import type { Hosts } from '../where/hosts.js';

const PROBES = '16';
const SPACING_S = '0.01';

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function collect(proc: ChildProcess, onLine?: (line: string) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const r: Ran = { code: null, out: '', err: '' };
    let pending = '';
    proc.stdout!.on('data', (d: Buffer) => {
      r.out += d.toString();
      if (!onLine) return;
      pending += d.toString();
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (r.err += d.toString()));
    proc.on('error', (e) => {
      r.err += e.message;
      resolve(r);
    });
    proc.on('exit', (code) => setImmediate(() => resolve({ ...r, code })));
  });
}

const why = (r: Ran) => r.err.split('\n').map((l) => l.trim()).filter(Boolean).slice(-1)[0] ?? `exit ${r.code}`;

export class RunClockWatch {
  private readonly receivers: ReceiverClock[];

  private constructor(
    private readonly hosts: Hosts,
    private readonly server: { proc: ChildProcess; done: Promise<Ran>; to: string | null; sync: ClockSync | null; error: string | null },
  ) {
    this.receivers = [];
    for (let k = 2; k <= hosts.count; k++) this.receivers.push({ guest: hosts.name(k), before: null, after: null, sync: null, error: null });
  }

  /** Starts the sender's clock server (it stops by itself after lifetimeSeconds) and measures the "before" offsets. */
  static async start(hosts: Hosts, lifetimeSeconds: number, signal: AbortSignal): Promise<RunClockWatch> {
    const proc = hosts.spawnMcbench(1, ['clock-serve', '-I', hosts.iface(1), '--port', '0', '--timeout', String(Math.ceil(lifetimeSeconds))]);
    let resolveListening: () => void = () => undefined;
    const listening = new Promise<void>((r) => (resolveListening = r));
    const server = { proc, done: Promise.resolve<Ran>({ code: null, out: '', err: '' }), to: null as string | null, sync: null as ClockSync | null, error: null as string | null };
    server.done = collect(proc, (line) => {
      try {
        const m = JSON.parse(line) as { event?: string; address?: string; port?: number; sync?: ClockSync | null };
        if (m.event === 'listening' && m.address && m.port) {
          server.to = `${m.address}:${m.port}`;
          server.sync = m.sync ?? null;
          resolveListening();
        }
      } catch {
        // not one of its JSON lines
      }
    });
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10000).unref());
    const aborted = new Promise<'aborted'>((r) => signal.addEventListener('abort', () => r('aborted'), { once: true }));
    const got = await Promise.race([listening.then(() => 'ok' as const), server.done.then(() => 'exited' as const), timer, aborted]);
    if (got !== 'ok') {
      server.error = got === 'exited' ? `the clock server on ${hosts.name(1)} failed: ${why(await server.done)}` : `the clock server on ${hosts.name(1)} did not start (${got})`;
    }
    const watch = new RunClockWatch(hosts, server);
    await watch.measure('before', signal);
    return watch;
  }

  /** Probes from every receiver at once; fills in `before` or `after`. */
  async measure(which: 'before' | 'after', signal: AbortSignal): Promise<void> {
    const to = this.server.to;
    if (!to) {
      for (const r of this.receivers) r.error ??= this.server.error;
      return;
    }
    if (signal.aborted) return;
    await Promise.all(this.receivers.map(async (rc, i) => {
      const ran = await collect(this.hosts.spawnMcbench(i + 2, ['clock-probe', '--to', to, '-n', PROBES, '--spacing', SPACING_S, '--json', '-']));
      let report: ClockProbeReport | null = null;
      try {
        report = JSON.parse(ran.out) as ClockProbeReport;
      } catch {
        report = null;
      }
      const estimate: ClockOffset | null = report?.estimate ?? null;
      rc[which] = estimate;
      if (report) rc.sync = report.sync;
      if (!estimate) rc.error ??= `${which} the run: ${why(ran)}`;
    }));
  }

  /** Measures "after", stops the server; the figures for the report. */
  async finish(signal: AbortSignal): Promise<RunClocks> {
    await this.measure('after', signal);
    await this.close();
    return { reference: this.hosts.name(1), reference_sync: this.server.sync, shared_clock: this.hosts.sharedClock === true, receivers: this.receivers };
  }

  /** Stops the server (idempotent; on every path). */
  async close(): Promise<void> {
    if (this.server.proc.exitCode === null && this.server.proc.signalCode === null) this.server.proc.kill('SIGTERM');
    const killer = setTimeout(() => this.server.proc.kill('SIGKILL'), 2000);
    await this.server.done;
    clearTimeout(killer);
  }
}
