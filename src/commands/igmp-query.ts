// `mcbench igmp-query`: play the upstream switch's IGMP querier on a lab guest. A snooping
// bridge that has seen a querier trusts its membership table; when the querier goes quiet the
// receivers' entries expire and traffic to them stops (seed 002). --count 1 reproduces that.
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { inRange, parseCount, parseSeconds } from '../core/units.js';
import { loadBinding } from '../native.js';
import { explainSocketError } from '../run/native-errors.js';
import { abortOnSignals } from '../run/signals.js';
import { runCommand } from './common.js';

export const igmpQueryCommand: CommandModule = {
  command: 'igmp-query',
  describe: 'send IGMPv2 general queries on an interface, like an upstream switch\'s querier (root)',
  builder: (y: Argv) =>
    y
      .option('interface', { alias: 'I', type: 'string', demandOption: true, describe: 'interface name or one of its IPv4 addresses' })
      .option('count', { alias: 'n', type: 'string', default: '1', describe: 'queries to send (1: once, then quiet)' })
      .option('interval', { type: 'string', default: '125', describe: 'seconds between queries (RFC 2236 default 125)' })
      .option('max-resp', { type: 'string', default: '1', describe: 'Max Resp Time in the query, seconds (0.1-25.5)' }),
  handler: (argv) =>
    runCommand('igmp-query', async () => {
      const a = argv as Record<string, unknown>;
      const iface = String(a.interface);
      const count = inRange('-n/--count', parseCount('-n/--count', a.count), 1, 1e9);
      const interval = inRange('--interval', parseSeconds('--interval', a.interval), 0.1, 3600, ' s');
      const maxResp = inRange('--max-resp', parseSeconds('--max-resp', a['max-resp']), 0.1, 25.5, ' s');
      if (process.getuid?.() !== 0) throw new UsageError('needs root (a raw IGMP socket)');
      const binding = loadBinding();
      const signals = abortOnSignals();
      try {
        for (let i = 0; i < count && !signals.signal.aborted; i++) {
          try {
            binding.sendIgmpQuery(iface, Math.round(maxResp * 10));
          } catch (e) {
            throw explainSocketError(e, { interface: iface, group: '224.0.0.1', port: 0 });
          }
          process.stdout.write(`${new Date().toISOString()} IGMPv2 general query sent on ${iface} (max resp ${maxResp} s)\n`);
          if (i + 1 < count) await new Promise<void>((r) => {
            const t = setTimeout(r, interval * 1000);
            signals.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
          });
        }
        return signals.exitCode() ?? 0;
      } finally {
        signals.dispose();
      }
    }),
};
