import type { Argv, CommandModule } from 'yargs';
import { sendSpec } from '../core/spec.js';
import { runSender } from '../run/sender.js';
import { commonOptions, measure, runCommand } from './common.js';

export const sendCommand: CommandModule = {
  command: 'send',
  describe: 'send mcbench datagrams to a multicast group (like iperf -u -c GROUP)',
  builder: (y: Argv) =>
    commonOptions(y)
      .option('bandwidth', { alias: 'b', type: 'string', describe: 'target payload rate, bit/s with K/M/G (0: unlimited) [default: 1M]' })
      .option('pps', { type: 'string', describe: 'target rate in packets/s instead of -b' })
      .option('length', { alias: 'l', type: 'string', describe: 'UDP payload bytes per datagram, header included (32-65507) [default: 1400]' })
      .option('time', { alias: 't', type: 'string', describe: 'seconds to send [default: 10 unless -n]' })
      .option('count', { alias: 'n', type: 'string', describe: 'packets to send' })
      .option('ttl', { type: 'string', describe: 'multicast TTL (0-255) [default: 1]' })
      .option('gso', { describe: 'UDP GSO (UDP_SEGMENT): N datagrams per send, each with its own header (1-64; bare: as many as fit 64 KiB); auto: fall back with a warning when refused' })
      .option('loop', { type: 'boolean', default: true, describe: 'IP_MULTICAST_LOOP: deliver to receivers on this host too (--no-loop to turn off)' })
      .example('$0 send -g 239.255.0.1 -I eth1 -b 800M -l 1400 -t 30', 'send 800 Mbit/s of 1400-byte datagrams for 30 s')
      .example('$0 send -g 239.255.0.1 -I eth1 -b 0 -l 1400 --gso -t 5', 'as fast as UDP GSO goes: 46 datagrams per send'),
  handler: (argv) => runCommand('send', () => measure(sendSpec(argv as Record<string, unknown>), runSender, { jsonStream: argv['json-stream'] })),
};
