// Where human output goes: stdout normally, stderr when `--json -` takes stdout (hyperfine's
// and iperf3's convention), nothing but warnings and the summary with --quiet. With
// --json-stream, stdout carries NDJSON events (core/ndjson.ts) and the human lines go to stderr.
import { frameEvent, type StreamEventName } from '../core/ndjson.js';

export interface Output {
  /** interval lines and progress */
  info: (line: string) => void;
  /** the final summary */
  summary: (line: string) => void;
  /** always shown */
  warn: (line: string) => void;
  /** a --json-stream event on stdout (one flushed line); nothing without --json-stream */
  event: (name: StreamEventName, data: unknown) => void;
}

export function makeOutput(opts: { jsonToStdout: boolean; quiet: boolean; jsonStream?: boolean }): Output {
  const stream = opts.jsonToStdout || opts.jsonStream ? process.stderr : process.stdout;
  const write = (line: string) => void stream.write(line + '\n');
  return {
    info: opts.quiet ? () => {} : write,
    summary: write,
    warn: (line) => void process.stderr.write(line + '\n'),
    event: opts.jsonStream ? (name, data) => void process.stdout.write(frameEvent(name, data)) : () => {},
  };
}
