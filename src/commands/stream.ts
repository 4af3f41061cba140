// `--json-stream` of run, ab and suite (send and recv have their own, in common.ts measure()):
// NDJSON on stdout in iperf3's shape, one flushed line per event — `start` (what will run),
// `interval` (one per finished step: a variant, an A/B run, a scenario, with its figures),
// `end` (the very document --json writes) or `error` (why it ended without one). The human
// lines move to stderr. Also the progress line of long work (progress.ts) around the same steps.
import type { Argv } from 'yargs';
import { UsageError } from '../core/errors.js';
import type { Output } from '../report/output.js';
import type { StepWatch } from '../run/orchestrate.js';
import { Progress, type ProgressOptions } from './progress.js';

export const jsonStreamOption = <T>(y: Argv<T>) =>
  y.option('json-stream', {
    type: 'boolean',
    default: false,
    describe: 'NDJSON progress on stdout as it happens: {"event":"start"|"interval"|"end"|"error","data":…}, one line each; end = the --json document',
  });

/** With --json-stream, stdout is the events': no other output may be `-`. */
export function checkStreamTargets(jsonStream: boolean, outs: Record<string, string | null>): void {
  if (!jsonStream) return;
  const toStdout = Object.entries(outs).filter(([, v]) => v === '-').map(([k]) => k);
  if (toStdout.length) throw new UsageError(`--json-stream: stdout carries the events; give ${toStdout.join(' and ')} a FILE, not -`);
}

/** The command's output with the progress line kept out of the way of its lines. */
export function withProgress(out: Output, progress: Progress | null): Output {
  if (!progress) return out;
  return { ...out, info: progress.around(out.info), summary: progress.around(out.summary), warn: progress.around(out.warn) };
}

/**
 * Progress (when there is more than one step, on a terminal) and `interval` events for the steps
 * of long work; `figures` says what an interval event tells of a finished step.
 */
export function watchSteps<T>(base: Output, o: ProgressOptions & { show: boolean }, figures: (outcome: T) => Record<string, unknown>): { out: Output; steps: StepWatch<T>; dispose: () => void } {
  const t0 = Date.now();
  const progress = o.show ? new Progress(o) : null;
  const out = withProgress(base, progress);
  return {
    out,
    steps: {
      begin: (step, _total, label) => progress?.begin(step, label),
      end: (step, total, outcome) => {
        progress?.end();
        out.event('interval', { step, steps: total, elapsed_seconds: (Date.now() - t0) / 1000, ...figures(outcome) });
      },
    },
    dispose: () => progress?.dispose(),
  };
}
