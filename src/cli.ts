// mcbench command line: the commands are one module each, registered as an explicit list.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { recvCommand } from './commands/recv.js';
import { sendCommand } from './commands/send.js';
import { VERSION } from './core/version.js';

const commands = [sendCommand, recvCommand];

await yargs(hideBin(process.argv))
  .scriptName('mcbench')
  .usage('$0 <command> [options]\n\nMulticast UDP benchmark: measures loss, throughput and why multicast drops.')
  .command(commands)
  .demandCommand(1, 'give a command: ' + commands.map((c) => String(c.command).split(' ')[0]).join(', '))
  .strict()
  .version(VERSION)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns || 110))
  .fail((msg, err) => {
    // yargs' own parse errors (unknown flag, missing value): one line, exit 2, no stack.
    const text = msg || (err ? err.message : 'invalid arguments');
    process.stderr.write(`mcbench: ${text} (see mcbench --help)\n`);
    process.exit(2);
  })
  .parseAsync();
