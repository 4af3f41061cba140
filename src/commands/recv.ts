import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_COALESCE_US, recvSpec } from '../core/spec.js';
import { runReceiver } from '../run/receiver.js';
import { commonOptions, measure, runCommand } from './common.js';

export const recvCommand: CommandModule = {
  command: 'recv',
  describe: 'join a multicast group and measure what arrives (like iperf -s -u -B GROUP)',
  builder: (y: Argv) =>
    commonOptions(y)
      .option('rcvbuf', { type: 'string', describe: 'SO_RCVBUF bytes with K/M/G (default: net.core.rmem_default)' })
      .option('rcvbuf-force', { type: 'boolean', default: false, describe: 'set it with SO_RCVBUFFORCE, past net.core.rmem_max (needs root)' })
      .option('idle-timeout', { type: 'string', default: '3', describe: 'seconds without packets, once traffic started, before giving up (partial result)' })
      .option('time', { alias: 't', type: 'string', describe: 'stop after this many seconds at the latest' })
      .option('sessions', { type: 'string', describe: 'stop once this many senders have finished (1-32) [default: when all seen have, after 1 s quiet]' })
      .option('expect-session', { type: 'string', describe: 'measure only this session (1-16 hex digits, send --session) and stop at its FIN; other sessions\' packets are counted and ignored' })
      .option('latency', { type: 'boolean', default: true, describe: 'record one-way delay histograms (--no-latency: off)' })
      .option('hgrm', { type: 'string', describe: 'write the one-way delay percentile distribution (HdrHistogram .hgrm text, ms) to FILE' })
      .option('source', { type: 'string', array: true, describe: 'SSM: receive only from this sender address, (S,G) join (repeatable, up to 10); 232.0.0.0/8 and ff3x::/32 need it' })
      .option('verify-payload', { type: 'boolean', default: false, describe: 'copy each datagram whole and check the pattern mcbench send writes after the header (payload_errors in the result; costs a copy per datagram)' })
      .option('gro', { type: 'boolean', default: false, describe: 'UDP_GRO: a GSO send (send --gso) arrives as one buffer of datagrams instead of being cut at the socket: one wakeup, copy and stamp for all of them; every datagram is then copied whole, and the socket\'s drop count counts buffers' })
      .option('coalesce', { type: 'string', describe: `after a read that shows dense traffic, wait up to MICROSECONDS (0-1000) before the next, within what the socket buffer holds: fewer wakeups per packet, at most that much added to socket_queue and one_way_app delay; 0 = off [default: ${DEFAULT_COALESCE_US}]` })
      .option('stall', { type: 'string', describe: 'a silence between packets longer than SECONDS is a stall [default: max(50 ms, 20x the median inter-arrival)]' })
      .option('test-read-pause', { type: 'string', hidden: true, describe: 'test aid: do not read for SECONDS after joining (a stalled reader)' })
      .example('$0 recv -g 239.255.0.1 -I eth1 --rcvbuf 8M -i 1 --json out.json', 'receive with an 8 MiB socket buffer')
      .example('$0 recv -g ff3e::1:2 -I eth1 --source fd00::2', 'IPv6 SSM: only what fd00::2 sends to the group'),
  handler: (argv) => runCommand('recv', () => measure(recvSpec(argv as Record<string, unknown>), runReceiver, { jsonStream: argv['json-stream'] })),
};
