// Test aid: holds an ephemeral lab (withLab) until killed. argv: NAME GUESTS [GRACE_MS]
// Prints 'ready <subnet>' once the lab is up; on SIGINT/SIGTERM the lab goes and the process
// dies of the signal. With GRACE_MS it also listens to the AbortSignal and prints 'aborted'.
import { withLab } from '../../dist/lab/index.js';

const [name, guests, grace] = process.argv.slice(2);
await withLab({ name, guests: Number(guests) }, async (lab, signal) => {
  process.stdout.write(`ready ${lab.state.subnet}\n`);
  await new Promise((resolve) => {
    const keep = setInterval(() => {}, 1000);
    signal.addEventListener('abort', () => {
      process.stdout.write('aborted\n');
      clearInterval(keep);
      resolve();
    });
  });
}, { graceMs: grace ? Number(grace) : 0, log: (l) => process.stderr.write(`${l}\n`) });
process.stdout.write('returned\n');
