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
