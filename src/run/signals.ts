import { LIFELINE_ENV } from '../core/remote.js';

// Ctrl-C and SIGTERM end a run early but let it print and write what it measured (partial).
// A second Ctrl-C exits at once.
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    ac.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
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
