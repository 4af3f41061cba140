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
      .option('session', { type: 'string', describe: 'the session id to send under, 1-16 hex digits [default: random] (an orchestrator tells its receivers to expect it)' })
      .option('gso', { describe: 'UDP GSO (UDP_SEGMENT): N datagrams per send, each with its own header (1-64; bare: as many as fit 64 KiB); auto: fall back with a warning when refused' })
      .option('burst', { type: 'string', describe: 'send bursts of N datagrams back to back (1-65536; one sendmmsg up to 1024), every --burst-interval' })
      .option('burst-interval', { type: 'string', describe: 'seconds from one burst\'s start to the next (0.0001-3600), with --burst' })
      .option('isochronous', { describe: 'frames at a frame rate, like iperf2: FPS:MEAN[,STDDEV] (mean load bit/s, log-normal sizes; bare: 60:20M,0), each cut into -l datagrams' })
      .option('seed', { type: 'string', describe: 'seed of the --isochronous frame sizes (the same seed, the same sizes) [default: 1]' })
      .option('loop', { type: 'boolean', default: true, describe: 'IP_MULTICAST_LOOP: deliver to receivers on this host too (--no-loop to turn off)' })
      .example('$0 send -g 239.255.0.1 -I eth1 -b 800M -l 1400 -t 30', 'send 800 Mbit/s of 1400-byte datagrams for 30 s')
      .example('$0 send -g 239.255.0.1 -I eth1 -b 0 -l 1400 --gso -t 5', 'as fast as UDP GSO goes: 46 datagrams per send')
      .example('$0 send -g 239.255.0.1 --burst 500 --burst-interval 0.1', '500 datagrams back to back every 100 ms (7 Mbit/s on average)')
      .example('$0 send -g 239.255.0.1 --isochronous 60:2M,0.5M', 'video-like: 60 frames/s, 2 Mbit/s on average'),
  handler: (argv) => runCommand('send', () => measure(sendSpec(argv as Record<string, unknown>), runSender, { jsonStream: argv['json-stream'] })),
};
