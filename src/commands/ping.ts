import type { Argv, CommandModule } from 'yargs';
import { pingSpec } from '../core/rtt.js';
import { rttTableLines } from '../report/rtt-table.js';
import { runPing } from '../run/rtt.js';
import { measure, runCommand } from './common.js';

export const pingCommand: CommandModule = {
  command: 'ping',
  describe: 'probe a multicast group and measure the round trip to every reflector (mcbench pong) that answers, like omping',
  builder: (y: Argv) =>
    y
      .option('group', { alias: 'g', type: 'string', demandOption: true, describe: 'multicast group (IPv4 224.0.0.0/4, or IPv6 ff00::/8)' })
      .option('port', { alias: 'p', type: 'string', default: '5001', describe: 'UDP port the reflectors listen on (1-65535)' })
      .option('interface', { alias: 'I', type: 'string', describe: 'interface name or one of its addresses (default: routing table)' })
      .option('rate', { type: 'string', default: '10', describe: 'probes per second (0.1-100000)' })
      .option('time', { alias: 't', type: 'string', describe: 'seconds of probing (0.1-86400) [default: 5, or as long as -n takes]' })
      .option('count', { alias: 'n', type: 'string', describe: 'probes to send (1-1000000000)' })
      .option('wait', { type: 'string', default: '1', describe: 'seconds to wait for late replies after the last probe (0-60)' })
      .option('length', { alias: 'l', type: 'string', describe: 'probe size, UDP payload bytes (32-65507) [default: 32]' })
      .option('ttl', { type: 'string', default: '1', describe: 'multicast TTL / hop limit (1-255)' })
      .option('json', { type: 'string', describe: 'write the mcbench/rtt@1 result to FILE (atomically); - for stdout' })
      .option('json-stream', { type: 'boolean', default: false, describe: 'NDJSON events on stdout: start, then end = the --json document' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'only the table' })
      .example('$0 ping -g 239.255.0.9 -I eth1 --rate 100 -t 10', 'RTT to every reflector on the group, 1000 probes'),
  handler: (argv) =>
    runCommand('ping', () => {
      const a = argv as Record<string, unknown>;
      return measure(pingSpec(a), runPing, {
        jsonStream: a['json-stream'],
        progress: false,
        summarize: (result, out) => {
          for (const line of rttTableLines(result)) out.summary(line);
        },
        // like ping(8): no reply at all is exit 1
        exitCode: (result) => (result.end.end_reason === 'error' || result.reflectors.length === 0 ? 1 : 0),
      });
    }),
};
