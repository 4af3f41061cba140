// `mcbench ssm-router` (hidden, a lab aid): the smallest honest SSM router (RFC 4607/4604) in a
// network namespace, between an upstream interface (the sources) and a downstream one (the
// receivers). It forwards (S,G) for G in 232/8 only when an IGMPv3 report downstream names S;
// IGMPv1/v2 reports for 232/8 carry no source and are ignored and counted, which is what makes
// force_igmp_version=2 on a receiver fail silently on a real SSM network. Runs until SIGINT or
// SIGTERM; prints one JSON line of its counters whenever they change and a last one on exit.
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { inRange, parseSeconds } from '../core/units.js';
import { loadBinding, type NativeSsmRouterSnapshot } from '../native.js';
import { explainSocketError } from '../run/native-errors.js';
import { abortOnSignals } from '../run/signals.js';
import { runCommand } from './common.js';

const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function parseIfname(flag: string, raw: unknown): string {
  const s = typeof raw === 'string' ? raw : '';
  if (!IFNAME.test(s)) throw new UsageError(`${flag}: '${String(raw)}' is not an interface name (1-15 characters)`);
  return s;
}

export const ssmRouterCommand: CommandModule = {
  command: 'ssm-router',
  describe: false,
  builder: (y: Argv) =>
    y
      .option('up', { type: 'string', demandOption: true, describe: 'upstream interface (where the sources are)' })
      .option('down', { type: 'string', demandOption: true, describe: 'downstream interface (where the receivers report)' })
      .option('query-interval', { type: 'string', default: '10', describe: 'seconds between IGMPv3 general queries downstream (1-125)' }),
  handler: (argv) =>
    runCommand('ssm-router', async () => {
      const a = argv as Record<string, unknown>;
      const up = parseIfname('--up', a.up);
      const down = parseIfname('--down', a.down);
      if (up === down) throw new UsageError(`--down: '${down}' is the upstream interface too (two interfaces are needed)`);
      const queryInterval = inRange('--query-interval', parseSeconds('--query-interval', a['query-interval']), 1, 125, ' s');
      if (process.getuid?.() !== 0) throw new UsageError('needs root (a raw IGMP socket and MRT_INIT)');
      const binding = loadBinding();
      let router;
      try {
        router = new binding.SsmRouter({ upstream: up, downstream: down, queryInterval });
      } catch (e) {
        throw explainSocketError(e, { interface: down, group: '224.0.0.22', port: 0 });
      }
      const signals = abortOnSignals();
      let last = '';
      const emit = (s: NativeSsmRouterSnapshot | null) => {
        const line = JSON.stringify(s);
        if (line !== last) process.stdout.write(`${line}\n`);
        last = line;
      };
      try {
        process.stdout.write(`${JSON.stringify({ ready: true, upstream: up, downstream: down })}\n`);
        while (!signals.signal.aborted) {
          const s = router.snapshot();
          emit(s);
          if (s && !s.running) return 1; // the thread stopped on an error (in the line above)
          await new Promise<void>((r) => {
            const onAbort = () => { clearTimeout(t); r(); };
            const t = setTimeout(() => { signals.signal.removeEventListener('abort', onAbort); r(); }, 200);
            signals.signal.addEventListener('abort', onAbort, { once: true });
          });
        }
        emit(router.snapshot());
        return signals.exitCode() ?? 0;
      } finally {
        router.close();
        signals.dispose();
      }
    }),
};
