// `mcbench clock-serve` and `mcbench clock-probe` (hidden: the orchestrator starts them on the
// sender and on each receiver to measure how far their clocks are apart, see src/core/clock.ts).
// Unicast IPv4 on the interface the run uses.
import { fstatSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { estimateOffset, type ClockProbeReport } from '../core/clock.js';
import { RunError, UsageError } from '../core/errors.js';
import { inRange, parseCount, parseSeconds } from '../core/units.js';
import { interfaceAddress, probeClock, readClockSync, serveClock } from '../host/clock.js';
import { checkOutputTarget } from '../report/files.js';
import { emitJson } from '../report/json.js';
import { abortOnSignals } from '../run/signals.js';
import { runCommand } from './common.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parsePort(flag: string, raw: unknown, min: number): number {
  return inRange(flag, parseCount(flag, raw), min, 65535);
}

export function parseEndpoint(flag: string, raw: unknown): { address: string; port: number } {
  const text = typeof raw === 'string' ? raw : '';
  const i = text.lastIndexOf(':');
  const address = i < 0 ? '' : text.slice(0, i);
  if (!IPV4.test(address)) throw new UsageError(`${flag}: '${String(raw)}' is not ADDR:PORT (an IPv4 address, a port 1-65535)`);
  const first = Number(address.split('.')[0]);
  if (first >= 224) throw new UsageError(`${flag}: ${address} is not a unicast address (the clock exchange is unicast)`);
  return { address, port: parsePort(flag, text.slice(i + 1), 1) };
}

/** Resolves when stdin ends, if it is a pipe or socket (ssh's channel); never for /dev/null or a terminal. */
function stdinClosed(): Promise<void> | null {
  try {
    const st = fstatSync(0);
    if (!st.isFIFO() && !st.isSocket()) return null;
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    process.stdin.on('end', resolve).on('error', () => resolve()).resume();
  });
}

export const clockServeCommand: CommandModule = {
  command: 'clock-serve',
  describe: false,
  builder: (y: Argv) =>
    y
      .option('interface', { alias: 'I', type: 'string', demandOption: true, describe: 'interface (or one of its IPv4 addresses) to answer on' })
      .option('port', { type: 'string', default: '0', describe: 'UDP port (0: any free one; the one taken is printed)' })
      .option('timeout', { type: 'string', default: '120', describe: 'seconds until it stops answering (1-86400)' }),
  handler: (argv) =>
    runCommand('clock-serve', async () => {
      const a = argv as Record<string, unknown>;
      const port = parsePort('--port', a.port, 0);
      const timeout = inRange('--timeout', parseSeconds('--timeout', a.timeout), 1, 86400, ' s');
      const address = interfaceAddress(String(a.interface));
      const server = await serveClock(address, port);
      const signals = abortOnSignals();
      try {
        // One JSON line: where to probe, and this host's clock discipline.
        process.stdout.write(JSON.stringify({ event: 'listening', address: server.address, port: server.port, sync: readClockSync() }) + '\n');
        const ends: Array<Promise<unknown>> = [
          new Promise((r) => setTimeout(r, timeout * 1000).unref()),
          new Promise((r) => signals.signal.addEventListener('abort', r, { once: true })),
        ];
        const eof = stdinClosed();
        if (eof) ends.push(eof);
        await Promise.race(ends);
        process.stdout.write(JSON.stringify({ event: 'end', answered: server.answered() }) + '\n');
        return signals.exitCode() ?? 0;
      } finally {
        signals.dispose();
        await server.close();
        process.stdin.destroy();
      }
    }),
};

export const clockProbeCommand: CommandModule = {
  command: 'clock-probe',
  describe: false,
  builder: (y: Argv) =>
    y
      .option('to', { type: 'string', demandOption: true, describe: 'ADDR:PORT of a clock-serve' })
      .option('count', { alias: 'n', type: 'string', default: '16', describe: 'probes (1-1000)' })
      .option('spacing', { type: 'string', default: '0.01', describe: 'seconds between probes (0-1)' })
      .option('wait', { type: 'string', default: '0.5', describe: 'seconds to wait for answers after the last probe (0.01-10)' })
      .option('json', { type: 'string', describe: 'write the report as JSON to FILE; - for stdout' }),
  handler: (argv) =>
    runCommand('clock-probe', async () => {
      const a = argv as Record<string, unknown>;
      const to = parseEndpoint('--to', a.to);
      const n = inRange('-n/--count', parseCount('-n/--count', a.count), 1, 1000);
      const spacing = inRange('--spacing', parseSeconds('--spacing', a.spacing), 0, 1, ' s');
      const wait = inRange('--wait', parseSeconds('--wait', a.wait), 0.01, 10, ' s');
      const json = typeof a.json === 'string' ? a.json : null;
      checkOutputTarget('--json', json);
      const samples = await probeClock(to.address, to.port, n, spacing * 1000, wait * 1000);
      const report: ClockProbeReport = { schema: 'mcbench/clock@1', to: `${to.address}:${to.port}`, estimate: estimateOffset(samples), sent: n, sync: readClockSync() };
      if (json) emitJson(json, report);
      if (json !== '-') {
        const e = report.estimate;
        process.stdout.write(e
          ? `offset ${e.offset_ms >= 0 ? '+' : ''}${e.offset_ms.toFixed(3)} ms ± ${e.error_ms.toFixed(3)} ms (best round trip ${e.rtt_ms.toFixed(3)} ms, ${e.samples}/${n} answered)\n`
          : `no answer from ${report.to}\n`);
      }
      if (!report.estimate) throw new RunError(`no answer from ${report.to} to ${n} probes`);
      return 0;
    }),
};
