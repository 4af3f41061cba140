// `mcbench demo`: the README's first command. A throwaway lab (1 sender, 2 receivers), the
// seed-001 story run twice (kernel default net.core.rmem_max, then raised), one table, one
// conclusion, lab removed and the setting restored.
import type { CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { labSpec, MIN_GUESTS } from '../core/lab-spec.js';
import { readNumber } from '../host/system.js';
import type { Output } from '../report/output.js';
import { checkOutputTarget } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { emitRunReport } from '../report/run-table.js';
import { runScenario } from '../run/orchestrate.js';
import { findScenario } from '../run/scenarios.js';
import { abortOnSignals } from '../run/signals.js';
import { placeFor } from '../where/index.js';
import { runCommand } from './common.js';
import { checkStdoutOnce, emitHtml, htmlOption } from './report.js';

export const demoCommand: CommandModule = {
  command: 'demo',
  describe: 'built-in lab: guests on a bridge, default vs tuned net.core.rmem_max, one table (root, under a minute)',
  builder: (y) =>
    htmlOption(y)
      .option('json', { type: 'string', describe: 'also write the mcbench/run@1 report to FILE; - for stdout' })
      .option('lab-name', { type: 'string', describe: 'the throwaway lab\'s name (1-8 of a-z, 0-9) [default: d<pid>, one per process]' }),
  handler: (argv) =>
    runCommand('demo', async () => {
      const root = process.getuid?.() === 0;
      const json = checkOutputTarget('--json', argv.json);
      const html = checkOutputTarget('--html', argv.html);
      checkStdoutOnce({ '--json': json, '--html': html });
      const labName = demoLabName(argv['lab-name']);
      const out = makeOutput({ jsonToStdout: json === '-' || html === '-', quiet: false });
      if (!root) {
        out.warn(
          'mcbench demo: the full demo needs root: it builds a throwaway lab (network namespaces, veth pairs, a Linux bridge) and ' +
            'changes net.core.rmem_max for one run (restored after): sudo npx mcbench demo',
        );
        out.warn('mcbench demo: falling back to loopback in a private user+network namespace (unshare -rn), with this host\'s settings as they are');
        return hostOnlyDemo(out, json, html);
      }
      const scenario = findScenario('seed-001-rmem')!;
      const signals = abortOnSignals();
      const t0 = Date.now();
      try {
        out.info('mcbench demo: 3 guests on a Linux bridge (network namespaces, like KVM guests on br0); g1 sends to g2 and g3');
        out.info(`scenario ${scenario.name}: ${scenario.title}`);
        out.info('receivers ask for a 25 MiB SO_RCVBUF; the sender runs as fast as it can for 3 s');
        const report = await runScenario(scenario, { place: placeFor({ local: false, labName, log: out.info }), log: out.info, signal: signals.signal });
        out.info(`lab removed, net.core.rmem_max restored; ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        const code = emitRunReport(report, out, json);
        emitHtml(html, 'demo', report);
        return signals.exitCode() ?? code;
      } finally {
        signals.dispose();
      }
    }),
};

/**
 * Without root: the seed-001 sender and receivers on lo in a private user+network namespace,
 * under this host's own net.core.rmem_max (only root may change it): the clamp, the loss and
 * where it happened, and the sysctl that would lift the limit.
 */
async function hostOnlyDemo(out: Output, json: string | null, html: string | null): Promise<number> {
  const base = findScenario('seed-001-rmem')!;
  const rmemMax = readNumber('/proc/sys/net/core/rmem_max');
  const scenario = {
    ...base,
    variants: [{
      name: 'host',
      describe: `this host's net.core.rmem_max=${rmemMax ?? '?'} (unchanged: changing it needs root)`,
      sysctls: {},
      lab: {},
      recvArgs: [],
    }],
  };
  const signals = abortOnSignals();
  try {
    const report = await runScenario(scenario, { place: placeFor({ local: true, labName: 'demo', log: out.info }), log: out.info, signal: signals.signal });
    const code = emitRunReport(report, out, json, ['to compare with a raised net.core.rmem_max side by side, run the demo as root']);
    emitHtml(html, 'demo', report);
    return signals.exitCode() ?? code;
  } finally {
    signals.dispose();
  }
}

/** Two demos at once (CI jobs on one runner) must not share, or remove, each other's lab. */
function demoLabName(raw: unknown): string {
  const name = raw === undefined ? `d${process.pid}` : raw; // pids have at most 7 digits: d + 7 fits the 8
  try {
    return labSpec({ name, guests: MIN_GUESTS }).name;
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.message.replace(/^--name:/, '--lab-name:'));
    throw e;
  }
}
