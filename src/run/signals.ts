import { LIFELINE_ENV } from '../core/remote.js';

/** The shell's convention, 128 + the signal's number, for every command. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

// Ctrl-C and SIGTERM end a run early but let it print and write what it measured (partial);
// the command then exits with exitCode() (130 for SIGINT, 143 for SIGTERM), whatever it measured.
// A second Ctrl-C exits at once.
export function abortOnSignals(): { signal: AbortSignal; exitCode(): number | null; dispose(): void } {
  const ac = new AbortController();
  let caught: keyof typeof SIGNAL_EXIT | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    const name = sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    if (ac.signal.aborted) process.exit(SIGNAL_EXIT[name]);
    caught = name;
    ac.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    exitCode: () => (caught === null ? null : SIGNAL_EXIT[caught]),
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}


/**
 * Over ssh there is no terminal, so a dropped connection sends no SIGHUP: the remote process
 * learns of it only as EOF on its stdin (the orchestrator holds the other end and never writes).
 * When LIFELINE_ENV is set, that EOF (or SIGHUP) aborts like Ctrl-C; otherwise the signal never
 * fires. dispose() stops reading, so the process can exit.
 */
export function stdinLifeline(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  if (process.env[LIFELINE_ENV] !== '1') return { signal: ac.signal, dispose() {} };
  const onEnd = () => ac.abort('stdin closed');
  const onHup = () => ac.abort('SIGHUP');
  process.stdin.on('end', onEnd);
  process.stdin.on('close', onEnd);
  process.stdin.on('error', onEnd);
  process.on('SIGHUP', onHup);
  process.stdin.resume();
  return {
    signal: ac.signal,
    dispose() {
      process.stdin.off('end', onEnd);
      process.stdin.off('close', onEnd);
      process.off('SIGHUP', onHup);
      process.stdin.pause();
      process.stdin.destroy();
    },
  };
}
