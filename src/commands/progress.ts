// Progress of long work (ab, suite, run with several variants, long send/recv): on a terminal,
// one line on stderr rewritten in place — step i/N, elapsed, ETA — and nothing at all when stderr
// is not a terminal or CI is set (logs and CI output stay clean). Lines the command prints
// meanwhile clear the progress line first and redraw it after, so the two never mix.

export interface ProgressOptions {
  /** how many steps (variants, runs, scenarios); 0: a duration only (send/recv) */
  total: number;
  /** what a step is called: 'variant', 'run', 'scenario' */
  unit: string;
  /** seconds a step is expected to take before any has finished (the ETA until then) */
  stepSeconds?: number;
  /** seconds the whole work takes at most, when known (send/recv -t) */
  totalSeconds?: number;
}

/** Progress is shown only to a person: stderr is a terminal and CI is not set. */
export function progressWanted(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY && !env.CI;
}

const clock = (s: number) => {
  const t = Math.max(0, Math.round(s));
  const m = Math.floor(t / 60);
  return m > 0 ? `${m}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
};

/** The progress line's text (pure: unit-tested). */
export function progressLine(o: ProgressOptions, state: { step: number; label: string; elapsed: number; stepElapsed: number; done: number; doneSeconds: number }): string {
  if (o.total === 0) {
    const eta = o.totalSeconds === undefined ? '' : ` of ${clock(o.totalSeconds)}, ETA ${clock(o.totalSeconds - state.elapsed)}`;
    return `${state.label}: elapsed ${clock(state.elapsed)}${eta}`;
  }
  const perStep = state.done > 0 ? state.doneSeconds / state.done : o.stepSeconds;
  const left = perStep === undefined ? null : Math.max(0, perStep * (o.total - state.done) - state.stepElapsed);
  return `[${state.step}/${o.total}] ${o.unit} ${state.label} · elapsed ${clock(state.elapsed)} · ETA ${left === null ? '?' : clock(left)}`;
}

export class Progress {
  private readonly t0 = Date.now();
  private stepT0 = Date.now();
  private step = 0;
  private label = '';
  private done = 0;
  private doneSeconds = 0;
  private shown = false;
  private disposed = false;
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly o: ProgressOptions, private readonly enabled = progressWanted(), private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.timer = enabled ? setInterval(() => { this.draw(); }, 1000) : null;
    this.timer?.unref();
  }

  /** Step `step` (1-based) starts. */
  begin(step: number, label: string): void {
    this.step = step;
    this.label = label;
    this.stepT0 = Date.now();
    this.draw();
  }

  /** The current step finished. */
  end(): void {
    this.done++;
    this.doneSeconds += (Date.now() - this.stepT0) / 1000;
    this.stepT0 = Date.now();
    this.draw();
  }

  /** A line printer that keeps the progress line out of the way. */
  around(print: (line: string) => void): (line: string) => void {
    return (line) => {
      this.clear();
      print(line);
      this.draw();
    };
  }

  /** The work is over: the line goes and is not drawn again (the summary follows). */
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  private draw(): void {
    if (!this.enabled || this.disposed || (this.o.total > 0 && this.step === 0)) return;
    const now = Date.now();
    const line = progressLine(this.o, {
      step: this.step, label: this.label, elapsed: (now - this.t0) / 1000, stepElapsed: (now - this.stepT0) / 1000, done: this.done, doneSeconds: this.doneSeconds,
    });
    const width = this.stream.columns > 10 ? this.stream.columns - 1 : 79;
    this.stream.write(`\r${line.slice(0, width)}\x1b[K`);
    this.shown = true;
  }
}
