import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { pongSpec } from '../core/rtt.js';
import { checkOutputTarget } from '../report/files.js';
import { emitJson } from '../report/json.js';
import { makeOutput } from '../report/output.js';
import { runPong } from '../run/rtt.js';
import { abortOnSignals, stdinLifeline } from '../run/signals.js';
import { runCommand } from './common.js';

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
    runCommand('pong', async () => {
      const a = argv as Record<string, unknown>;
      const spec = pongSpec(a);
      const jsonStream = a['json-stream'] === true;
      if (jsonStream && spec.json === '-') throw new UsageError('--json-stream: stdout carries the events; give --json a FILE, not -');
      checkOutputTarget('--json', spec.json);
      const out = makeOutput({ jsonToStdout: spec.json === '-', quiet: spec.quiet, jsonStream });
      const signals = abortOnSignals();
      const lifeline = stdinLifeline();
      try {
        const r = await runPong(spec, out, AbortSignal.any([signals.signal, lifeline.signal]));
        out.summary(`mcbench pong: answered ${r.replies} of ${r.probes} probes from ${r.sessions} ping session${r.sessions === 1 ? '' : 's'} in ${r.seconds.toFixed(1)} s` +
          `${r.reply_errors ? `, ${r.reply_errors} replies failed` : ''}${r.malformed ? `, ${r.malformed} datagrams ignored (not probes)` : ''}`);
        if (spec.json) emitJson(spec.json, r);
        out.event('end', r);
        return signals.exitCode() ?? (r.end.end_reason === 'error' ? 1 : 0);
      } catch (e) {
        out.event('error', { message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        lifeline.dispose();
        signals.dispose();
      }
    }),
};
