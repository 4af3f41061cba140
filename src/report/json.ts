import { writeFileAtomic } from './files.js';

/** `--json FILE` writes atomically; `--json -` prints to stdout. */
export function emitJson(target: string, result: unknown): void {
  const text = JSON.stringify(result, null, 2) + '\n';
  if (target === '-') process.stdout.write(text);
  else writeFileAtomic(target, text);
}
