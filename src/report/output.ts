// Where human output goes: stdout normally, stderr when `--json -` takes stdout (hyperfine's
// and iperf3's convention), nothing but warnings and the summary with --quiet.
export interface Output {
  /** interval lines and progress */
  info(line: string): void;
  /** the final summary */
  summary(line: string): void;
  /** always shown */
  warn(line: string): void;
}

export function makeOutput(opts: { jsonToStdout: boolean; quiet: boolean }): Output {
  const stream = opts.jsonToStdout ? process.stderr : process.stdout;
  const write = (line: string) => void stream.write(line + '\n');
  return {
    info: opts.quiet ? () => {} : write,
    summary: write,
    warn: (line) => void process.stderr.write(line + '\n'),
  };
}
