// `mcbench igmp-query`: play the upstream switch's IGMP (and MLD) querier on a lab guest. A
// snooping bridge that has seen a querier trusts its membership table; when the querier goes
// quiet the receivers' entries expire and traffic to them stops (seed 002). --count 1 reproduces
// that. --protocol mld does the same for IPv6 groups: MLD general queries (RFC 2710 / RFC 3810)
// to ff02::1, which a bridge snoops as it does IGMP.
import type { Argv, CommandModule } from 'yargs';
import { RunError, UsageError, isSystemError, shown } from '../core/errors.js';
import { inRange, parseCount, parseSeconds } from '../core/units.js';
import { loadBinding, type Binding } from '../native.js';
import { explainSocketError } from '../run/native-errors.js';
import { abortOnSignals } from '../run/signals.js';
import { runCommand } from './common.js';

type QueryProtocol = 'igmp' | 'mld' | 'both';
const PROTOCOLS: readonly QueryProtocol[] = ['igmp', 'mld', 'both'];

function parseProtocol(raw: unknown): QueryProtocol {
  const p = PROTOCOLS.find((x) => x === raw);
  if (!p) throw new UsageError(`--protocol: '${shown(raw)}' is not one of ${PROTOCOLS.join(', ')}`);
  return p;
}

function parseMldVersion(raw: unknown): 1 | 2 {
  if (raw === 1 || raw === '1') return 1;
  if (raw === 2 || raw === '2') return 2;
  throw new UsageError(`--mld-version: '${shown(raw)}' is out of range (1 or 2)`);
}

function sendMld(binding: Binding, iface: string, version: 1 | 2, maxRespMs: number): void {
  try {
    binding.sendMldQuery(iface, version, maxRespMs);
  } catch (e) {
    // the core's own refusal (no link-local address to send from) says what to do
    if (isSystemError(e) && e.syscall === 'mld') throw new RunError(e.message);
    throw explainSocketError(e, { interface: iface, group: 'ff02::1', port: 0 });
  }
}

export const igmpQueryCommand: CommandModule = {
  command: 'igmp-query',
  describe: 'send IGMPv2 and/or MLD general queries on an interface, like an upstream switch\'s querier (root)',
  builder: (y: Argv) =>
    y
      .option('interface', { alias: 'I', type: 'string', demandOption: true, describe: 'interface name or one of its addresses' })
      .option('count', { alias: 'n', type: 'string', default: '1', describe: 'queries to send (1: once, then quiet)' })
      .option('interval', { type: 'string', default: '125', describe: 'seconds between queries (RFC 2236 and RFC 3810 default 125)' })
      .option('max-resp', { type: 'string', default: '1', describe: 'Max Resp Time in the query, seconds (IGMP 0.1-25.5; MLD alone 0.001-32.767)' })
      .option('protocol', { type: 'string', default: 'igmp', describe: 'igmp: IGMPv2 to 224.0.0.1; mld: MLD to ff02::1; both' })
      .option('mld-version', { type: 'string', default: '2', describe: 'MLD query version: 1 (RFC 2710, 24 bytes) or 2 (RFC 3810, 28 bytes)' }),
  handler: (argv) =>
    runCommand('igmp-query', async () => {
      const a = argv as Record<string, unknown>;
      const iface = String(a.interface);
      const count = inRange('-n/--count', parseCount('-n/--count', a.count), 1, 1e9);
      const interval = inRange('--interval', parseSeconds('--interval', a.interval), 0.1, 3600, ' s');
      const protocol = parseProtocol(a.protocol);
      const mldVersion = parseMldVersion(a['mld-version']);
      // IGMPv2 says Max Resp Time in tenths of a second in one byte; MLD in milliseconds (v1: 16
      // bits; v2 as is below 32768, above that a floating-point code this command does not write).
      const maxResp = protocol === 'mld'
        ? inRange('--max-resp', parseSeconds('--max-resp', a['max-resp']), 0.001, 32.767, ' s')
        : inRange('--max-resp', parseSeconds('--max-resp', a['max-resp']), 0.1, 25.5, ' s');
      if (process.getuid?.() !== 0) throw new UsageError(`needs root (a raw ${protocol === 'igmp' ? 'IGMP' : protocol === 'mld' ? 'ICMPv6' : 'IGMP and ICMPv6'} socket)`);
      const binding = loadBinding();
      const signals = abortOnSignals();
      try {
        for (let i = 0; i < count && !signals.signal.aborted; i++) {
          if (protocol !== 'mld') {
            try {
              binding.sendIgmpQuery(iface, Math.round(maxResp * 10));
            } catch (e) {
              throw explainSocketError(e, { interface: iface, group: '224.0.0.1', port: 0 });
            }
            process.stdout.write(`${new Date().toISOString()} IGMPv2 general query sent on ${iface} (max resp ${maxResp} s)\n`);
          }
          if (protocol !== 'igmp') {
            sendMld(binding, iface, mldVersion, Math.round(maxResp * 1000));
            process.stdout.write(`${new Date().toISOString()} MLDv${mldVersion} general query sent on ${iface} (max resp ${maxResp} s)\n`);
          }
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
