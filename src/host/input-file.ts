// Input files (suite files, baselines, inventories) are read bounded: a regular file under a
// size cap, so `mcbench suite /dev/zero` or a FIFO named by mistake is refused at once instead of
// growing memory or hanging.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

/**
 * The text of `file`, or an InputFileError whose message follows `FILE: ` (`cannot read: ENOENT`,
 * `not a regular file`, `N bytes; at most M`). `what` names it in the size message.
 */
export function readInputFile(file: string, maxBytes: number, what = 'the file'): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw new InputFileError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputFileError(`not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : 'a special file'})`);
    if (st.size > maxBytes) throw new InputFileError(`${st.size} bytes; ${what} is at most ${maxBytes} bytes`);
    // Read at most the cap plus one byte, whatever the size said: a file that grows while read
    // is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let off = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, off, buf.length - off, null);
      } catch (e) {
        throw new InputFileError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (n === 0) break;
      off += n;
      if (off === buf.length) {
        if (off > maxBytes) throw new InputFileError(`more than ${maxBytes} bytes; ${what} is at most ${maxBytes} bytes`);
        break;
      }
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
