import type { Argv, CommandModule } from 'yargs';
import { pongSpec } from '../core/rtt.js';
import { runPong } from '../run/rtt.js';
import { measure, runCommand } from './common.js';

export const pongCommand: CommandModule = {
  command: 'pong',
  describe: 'a reflector for mcbench ping: join a group and answer each probe by unicast with its receive and send stamps',
  builder: (y: Argv) =>
    y
      .option('group', { alias: 'g', type: 'string', demandOption: true, describe: 'multicast group (IPv4 224.0.0.0/4, or IPv6 ff00::/8)' })
      .option('port', { alias: 'p', type: 'string', default: '5001', describe: 'UDP port (1-65535)' })
      .option('interface', { alias: 'I', type: 'string', describe: 'interface name or one of its addresses (default: routing table)' })
      .option('time', { alias: 't', type: 'string', describe: 'stop after this many seconds [default: until Ctrl-C]' })
      .option('json', { type: 'string', describe: 'write what it answered (mcbench/pong@1) to FILE (atomically); - for stdout' })
      .option('json-stream', { type: 'boolean', default: false, describe: 'NDJSON events on stdout: start once joined, then end = the --json document' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only the summary' })
      .example('$0 pong -g 239.255.0.9 -I eth1', 'answer probes until Ctrl-C'),
  handler: (argv) =>
    runCommand('pong', () => {
      const a = argv as Record<string, unknown>;
      return measure(pongSpec(a), runPong, {
        jsonStream: a['json-stream'],
        progress: false,
        summarize: (r, out) => {
          out.summary(`mcbench pong: answered ${r.replies} of ${r.probes} probes from ${r.sessions} ping session${r.sessions === 1 ? '' : 's'} in ${r.seconds.toFixed(1)} s` +
            `${r.reply_errors ? `, ${r.reply_errors} replies failed` : ''}${r.malformed ? `, ${r.malformed} datagrams ignored (not probes)` : ''}`);
        },
      });
    }),
};
