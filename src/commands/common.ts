// Shared by the command modules: the flags send and recv have in common, and the one place
// that turns errors into a single line and an exit code.
import type { Argv } from 'yargs';
import { RunError, UsageError } from '../core/errors.js';
import { labSpec } from '../core/lab-spec.js';
import type { RunResult } from '../core/result.js';
import { DEFAULT_COALESCE_US } from '../core/spec.js';
import { checkOutputTarget } from '../report/files.js';
import { emitJson } from '../report/json.js';
import { makeOutput, type Output } from '../report/output.js';
import { abortOnSignals, stdinLifeline } from '../run/signals.js';
import { Progress, progressWanted } from './progress.js';
import { withProgress } from './stream.js';

export function commonOptions<T>(y: Argv<T>) {
  return y
    .option('group', { alias: 'g', type: 'string', array: true, demandOption: true, describe: 'multicast group: IPv4 224.0.0.0-239.255.255.255 or IPv6 ff00::/8 (ff02:: needs -I); repeatable, or a range 239.1.1.1-239.1.1.100 (IPv4, up to 1024 groups, sent round robin)' })
    .option('port', { alias: 'p', type: 'string', default: '5001', describe: 'UDP port (1-65535)' })
    .option('interface', { alias: 'I', type: 'string', describe: 'interface name or one of its IPv4/IPv6 addresses, fe80::1%eth0 (default: routing table)' })
    .option('batch', { type: 'string', describe: 'datagrams per sendmmsg/recvmmsg call (1-1024) [default: send 32; recv 256, or 64 with --coalesce 0, --verify-payload or --gro]' })
    .option('interval', { alias: 'i', type: 'string', default: '1', describe: 'seconds between interval reports (0: none)' })
    .option('json', { type: 'string', describe: 'write the result as JSON to FILE (atomically); - for stdout' })
    .option('json-stream', { type: 'boolean', default: false, describe: 'NDJSON events on stdout as they happen: {"event":"start"|"interval"|"end"|"error","data":…}; end = the --json document' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no interval lines, only the summary' });
}

/** Runs a command body; errors become one line on stderr and exit code 2 (bad input) or 1. */
export async function runCommand(name: string, body: () => Promise<number | undefined> | Promise<void> | number): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number') process.exitCode = code;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunError) {
      process.stderr.write(`mcbench ${name}: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`mcbench ${name}: internal error: ${msg}\n`);
    if (process.env.MCBENCH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}

/**
 * The body of send and recv: human output where --json does not take stdout, Ctrl-C turned into
 * a partial result, the JSON written; exit 130/143 after SIGINT/SIGTERM, 1 when the socket
 * failed mid-run.
 */
export async function measure<S extends { json: string | null; hgrm?: string | null; quiet: boolean; timeSeconds?: number | null }, R extends { end: { end_reason: string } } = RunResult>(
  spec: S,
  run: (spec: S, out: Output, signal: AbortSignal) => Promise<R>,
  opts: {
    jsonStream?: unknown;
    /** send and recv show elapsed/ETA on a terminal; ping and pong print their own lines */
    progress?: boolean;
    /** lines after the run, before the JSON (ping's per-reflector table, pong's summary) */
    summarize?: (result: R, out: Output) => void;
    /** the exit code of a run that ended by itself (default: 1 when it ended on an error) */
    exitCode?: (result: R) => number;
  } = {},
): Promise<number> {
  const jsonStream = opts.jsonStream === true;
  if (jsonStream && spec.json === '-') throw new UsageError('--json-stream: stdout carries the events; give --json a FILE, not -');
  checkOutputTarget('--json', spec.json);
  checkOutputTarget('--hgrm', spec.hgrm ?? null);
  // A run of more than a few seconds (or of no set length: a receiver) shows elapsed and ETA on a terminal.
  const seconds = spec.timeSeconds ?? null;
  const progress = opts.progress !== false && progressWanted() && (seconds === null || seconds > 3) ? new Progress({ total: 0, unit: '', ...(seconds === null ? {} : { totalSeconds: seconds }) }) : null;
  progress?.begin(0, 'hgrm' in spec ? 'recv' : 'send'); // only a receiver's spec has hgrm
  const out = withProgress(makeOutput({ jsonToStdout: spec.json === '-', quiet: spec.quiet, jsonStream }), progress);
  const signals = abortOnSignals();
  const lifeline = stdinLifeline();
  try {
    const result = await run(spec, out, AbortSignal.any([signals.signal, lifeline.signal]));
    progress?.dispose();
    opts.summarize?.(result, out);
    if (spec.json) emitJson(spec.json, result);
    out.event('end', result);
    // Ctrl-C still wrote the partial result; the exit code says it was cut short (130/143).
    return signals.exitCode() ?? (opts.exitCode ? opts.exitCode(result) : result.end.end_reason === 'error' ? 1 : 0);
  } catch (e) {
    // the stream says why it ends without a result; runCommand still prints the one line
    out.event('error', { message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    progress?.dispose();
    lifeline.dispose();
    signals.dispose();
  }
}

/**
 * The flags of an ad-hoc scenario (what customScenario reads), shared by `run`, `ab` and, through
 * the suite file's `run` object, `suite`. In `ab`, --b names side B, so the rate has no -b there,
 * and --set belongs to the sides (--a/--b), not to the scenario.
 */
/** the receivers' --coalesce and --gro, as run, ab, suites and ndr pass them to recv */
export const COALESCE_OPTION = { type: 'string', describe: `receivers wait up to MICROSECONDS (0-1000; 0 = off) after a dense read for a fuller batch (recv --coalesce) [default: ${DEFAULT_COALESCE_US}]` } as const;
export const GRO_OPTION = { type: 'boolean', describe: 'receivers set UDP_GRO: GSO sends read whole (recv --gro)' } as const;

export function scenarioOptions<T>(y: Argv<T>, opts: { bandwidthAlias: boolean; set: boolean }) {
  const withFlags = y
    .option('group', { alias: 'g', type: 'string', describe: 'multicast group [default: 239.255.0.1]' })
    .option('port', { alias: 'p', type: 'string', describe: 'UDP port [default: 5001]' })
    .option('bandwidth', {
      ...(opts.bandwidthAlias ? { alias: 'b' } : {}),
      type: 'string',
      describe: `sender payload rate, bit/s, 0 = unlimited [default: 100M]${opts.bandwidthAlias ? '' : ' (no -b here: --b is side B)'}`,
    })
    .option('pps', { type: 'string', describe: 'sender rate in packets/s instead of --bandwidth' })
    .option('length', { alias: 'l', type: 'string', describe: 'datagram payload bytes [default: 1400]' })
    .option('time', { alias: 't', type: 'string', describe: 'seconds the sender runs [default: 5]' })
    .option('rcvbuf', { type: 'string', describe: 'receivers\' SO_RCVBUF' })
    .option('rcvbuf-force', { type: 'boolean', describe: 'receivers use SO_RCVBUFFORCE' })
    .option('verify-payload', { type: 'boolean', describe: 'receivers copy each datagram whole and check the sender\'s payload pattern (recv --verify-payload)' })
    .option('coalesce', COALESCE_OPTION)
    .option('gro', GRO_OPTION)
    .option('receivers', { type: 'string', describe: 'receiving guests (1-15) [default: 2]; with --hosts: the receiving hosts, g2,g3' })
    .option('snooping', { type: 'string', describe: 'the lab bridge\'s IGMP snooping, 0|1' })
    .option('querier', { type: 'string', describe: 'the lab bridge\'s IGMP querier, 0|1' })
    .option('gso', { describe: 'the sender uses UDP GSO: N datagrams per send (1-64; bare: as many as fit 64 KiB; auto: fall back when refused)' })
    .option('burst', { type: 'string', describe: 'the sender sends bursts of N datagrams back to back (1-65536), every --burst-interval' })
    .option('burst-interval', { type: 'string', describe: 'seconds from one burst\'s start to the next (0.0001-3600), with --burst' })
    .option('isochronous', { describe: 'the sender sends frames, like iperf2: FPS:MEAN[,STDDEV] (mean load bit/s, log-normal sizes)' })
    .option('seed', { type: 'string', describe: 'seed of the --isochronous frame sizes [default: 1]' })
    .option('source', { type: 'string', array: true, describe: 'receivers join (S,G) for this sender address only (SSM; repeatable; an SSM group 232/8 or ff3x:: needs it)' });
  return opts.set
    ? withFlags.option('set', { type: 'string', array: true, describe: 'a sysctl for the run, KEY=VALUE (repeatable; restored after)' })
    : withFlags;
}

/**
 * The lab of every variant of a scenario, checked before the root check and before anything is
 * made (a bad --lab-name, or a name too long for the guests): named as the command's flag.
 */
export function checkLabFor(labName: unknown, scenario: { guests: number; variants: Array<{ lab: object }> }): void {
  for (const v of scenario.variants) {
    try {
      labSpec({ name: labName, guests: scenario.guests, ...v.lab });
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(e.message.replace(/^--name:/, '--lab-name:'));
      throw e;
    }
  }
}
