// mcbench command line: the commands are one module each, registered as an explicit list.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { abCommand } from './commands/ab.js';
import { clockProbeCommand, clockServeCommand } from './commands/clock.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { hostsCommand } from './commands/hosts.js';
import { igmpQueryCommand } from './commands/igmp-query.js';
import { ssmRouterCommand } from './commands/ssm-router.js';
import { labCommand } from './commands/lab.js';
import { ndrCommand } from './commands/ndr.js';
import { pingCommand } from './commands/ping.js';
import { pongCommand } from './commands/pong.js';
import { recvCommand } from './commands/recv.js';
import { reportCommand } from './commands/report.js';
import { runCommandModule } from './commands/run.js';
import { sendCommand } from './commands/send.js';
import { settingsCommand } from './commands/settings.js';
import { suiteCommand } from './commands/suite.js';
import { VERSION } from './host/version.js';

const commands = [sendCommand, recvCommand, runCommandModule, ndrCommand, abCommand, suiteCommand, reportCommand, demoCommand, settingsCommand, doctorCommand, labCommand, hostsCommand, igmpQueryCommand, clockServeCommand, clockProbeCommand, pingCommand, pongCommand, ssmRouterCommand];

/**
 * `-b -5M` would read as flags -5 and -M, and `--json -` as a stray positional; joined as `-b=-5M`, the flag's own validation names it
 * and its range. Before `--`, mcbench takes no positional arguments, so a negative-number-looking
 * token after an option is always meant as that option's value.
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      // What follows `--` is another program's command line (lab exec): leave it as it is.
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (/^--?[a-zA-Z][\w-]*$/.test(a) && next !== undefined && (next === '-' || /^-[\d.]/.test(next))) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * One rule for every string flag of every command, in one place: given twice (yargs would hand
 * the command an array) or given without a value (`--json` at the end, `--json=`) is bad input,
 * exit 2. Flags declared as arrays (--set, --a, --ssh-option) are meant to repeat.
 */
function singleStringValues(argv: Record<string, unknown>, y: { getOptions(): { string: string[]; array: string[] } }): void {
  const o = y.getOptions();
  const command = (argv._ as unknown[]).map(String).join(' ');
  const flag = (k: string) => (k.length === 1 ? `-${k}` : `--${k}`);
  // the long name first, so `-p 1 --port 2` is reported as --port
  for (const k of [...o.string].sort((a, b) => b.length - a.length)) {
    if (o.array.includes(k) || !(k in argv)) continue;
    const v = argv[k];
    const problem = Array.isArray(v) ? 'given more than once; give it once' : v === '' ? 'needs a value' : null;
    if (problem) {
      process.stderr.write(`mcbench${command ? ` ${command}` : ''}: ${flag(k)}: ${problem}\n`);
      process.exit(2);
    }
  }
}

await yargs(joinNegativeValues(hideBin(process.argv)))
  .scriptName('mcbench')
  .usage('$0 <command> [options]\n\nMulticast UDP benchmark: measures loss, throughput and why multicast drops.')
  .command(commands)
  .demandCommand(1, 'give a command: ' + commands.filter((c) => c.describe !== false).map((c) => String(c.command).split(' ')[0]).join(', '))
  .middleware(singleStringValues as unknown as Parameters<ReturnType<typeof yargs>['middleware']>[0])
  .strict()
  .version(VERSION)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns || 110))
  // yargs passes no err for its own validation failures, though its types say Error.
  .fail((msg, err: Error | undefined) => {
    // yargs' own parse errors (unknown flag, missing value): one line, exit 2, no stack.
    const text = msg || (err ? err.message : 'invalid arguments');
    process.stderr.write(`mcbench: ${text} (see mcbench --help)\n`);
    process.exit(2);
  })
  .parseAsync();
