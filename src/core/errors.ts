/** Bad input from the user: printed as one line, exit code 2 (like a usage error). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** A run that could not start or went wrong at run time: one line, exit code 1. */
export class RunError extends Error {
  override readonly name = 'RunError';
  readonly exitCode = 1;
}

/** The shape of the system errors the addon throws (Node-style: code, errno, syscall). */
export interface SystemErrorLike extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSystemError(e: unknown): e is SystemErrorLike {
  return e instanceof Error && typeof (e as Partial<SystemErrorLike>).code === 'string' &&
    typeof (e as Partial<SystemErrorLike>).syscall === 'string';
}

/**
 * A raw value from the user (a flag, a spec or inventory file) as an error message echoes it:
 * primitives as String() shows them, objects and arrays as JSON, so a message never says
 * `[object Object]`.
 */
export function shown(raw: unknown): string {
  if (typeof raw === 'object' && raw !== null) {
    try {
      return JSON.stringify(raw);
    } catch {
      return Object.prototype.toString.call(raw); // a cycle or a BigInt inside
    }
  }
  return String(raw);
}
