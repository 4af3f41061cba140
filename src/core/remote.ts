// What the orchestrator and a remote mcbench agree on: how the remote process learns that its
// connection dropped, and which versions can work together. Pure.

/** Set by the ssh place on every remote mcbench: its stdin is its lifeline (EOF = the orchestrator is gone). */
export const LIFELINE_ENV = 'MCBENCH_STDIN_LIFELINE';

/** `mcbench --version` output → the version, or null when it is not one. */
export function parseVersion(text: string): string | null {
  const m = /^\s*(?:mcbench\s+)?v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)\s*$/.exec(text);
  return m ? m[1]! : null;
}

/**
 * The NDJSON events, the hidden commands and the result documents may change between minor
 * versions (0.x: between any two minors), so a remote mcbench must have our major.minor.
 */
export function compatibleVersion(ours: string, theirs: string): boolean {
  const mm = (v: string) => v.split(/[-+]/)[0]!.split('.').slice(0, 2).join('.');
  return mm(ours) === mm(theirs);
}
