import type { Argv, CommandModule } from 'yargs';
import { shown, UsageError } from '../core/errors.js';
import { parseSearchFlags, type NdrReport } from '../core/ndr.js';
import { inRange, parseCount, parseSize, formatCount } from '../core/units.js';
import { requireRoot } from '../lab/index.js';
import { checkOutputTarget, writeFileAtomic } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { runNdr, trialFlags, type NdrPlan } from '../run/ndr.js';
import { customScenario } from '../run/scenarios.js';
import { abortOnSignals } from '../run/signals.js';
import { placeFor } from '../where/index.js';
import { checkLabFor, COALESCE_OPTION, GRO_OPTION, runCommand } from './common.js';
import { hostsFromFlags, hostsOptions } from './hosts-flags.js';

export const ndrCommand: CommandModule = {
  command: 'ndr',
  describe: 'the highest lossless rate (RFC 2544 26.1 / RFC 3918 throughput): a binary search of the sender\'s rate, each pass confirmed by a repeat',
  builder: (y: Argv) =>
    searchOptions(hostsOptions(y))
      .option('group', { alias: 'g', type: 'string', describe: 'multicast group [default: 239.255.0.1]' })
      .option('port', { alias: 'p', type: 'string', describe: 'UDP port [default: 5001]' })
      .option('length', { alias: 'l', type: 'string', describe: 'datagram payload bytes, a list sweeps sizes: 64,512,1400 [default: 1400]' })
            .option('gso', { type: 'string', describe: 'the sender\'s UDP GSO: auto (when one datagram per call cannot make a receiver lose), on, off [default: auto]' })
      .option('receivers', { type: 'string', describe: 'receiving guests (1-15) [default: 2]; with --hosts: the receiving hosts, g2,g3' })
      .option('rcvbuf', { type: 'string', describe: 'receivers\' SO_RCVBUF' })
      .option('rcvbuf-force', { type: 'boolean', describe: 'receivers use SO_RCVBUFFORCE' })
      .option('coalesce', COALESCE_OPTION)
      .option('gro', GRO_OPTION)
      .option('source', { type: 'string', array: true, describe: 'receivers join (S,G) for this sender address only (SSM; repeatable; sender: the sending host\'s; an SSM group 232/8 or ff3x:: needs it)' })
      .option('local', { type: 'boolean', default: false, describe: 'no lab: every process in one private network namespace on lo' })
      .option('lab-name', { type: 'string', default: 'ndr', describe: 'name of the ephemeral lab ([a-z0-9], up to 8)' })
      .option('json', { type: 'string', describe: 'write the mcbench/ndr@1 report to FILE (atomically); - for stdout' })
      .example('$0 ndr -l 64,512,1400 --trial 5', 'the lossless rate of each size on a throwaway lab')
      .example('$0 ndr --local --rcvbuf 64K --trial 1', 'in a private namespace on lo'),
  handler: (argv) =>
    runCommand('ndr', async () => {
      const a = argv as Record<string, unknown>;
      const own = hostsFromFlags(a);
      const plan = ndrPlan(a, own ? own.inventory.receivers.length : null);
      // every size's trial, checked as `run` checks its flags, before anything is made
      for (const length of plan.lengths) {
        customScenario(trialFlags(plan, length));
      }
      const local = a.local === true;
      if (local && plan.group.includes(':')) throw new UsageError(`--local: ${plan.group} is IPv6, which lo does not loop back to group members; drop --local (as root)`);
      const scenarioShape = { guests: plan.receivers + 1, variants: [{ lab: {} }] };
      if (!local && !own) {
        checkLabFor(a['lab-name'], scenarioShape);
        requireRoot();
      }
      const json = checkOutputTarget('--json', a.json);
      const out = makeOutput({ jsonToStdout: json === '-', quiet: false });
      const place = placeFor({ local, labName: String(a['lab-name']), log: out.info, hosts: own });
      const why = place.refuse({ guests: plan.receivers + 1, lab: {}, sysctls: {} });
      if (why) throw new UsageError(`${local ? '--local' : '--hosts'}: ${why}`);
      const signals = abortOnSignals();
      try {
        out.info(`mcbench ndr: sizes ${plan.lengths.join(', ')} B, ${plan.trialSeconds} s trials, loss tolerance ${plan.search.lossTolerancePercent}%, ${plan.receivers} receivers (${place.kind})`);
        const report = await runNdr(plan, { place, log: out.info, signal: signals.signal });
        for (const line of ndrTable(report)) out.summary(line);
        if (json === '-') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else if (json !== null) writeFileAtomic(json, JSON.stringify(report, null, 2) + '\n');
        return signals.exitCode() ?? (report.partial ? 1 : 0);
      } finally {
        signals.dispose();
      }
    }),
};

function ndrPlan(a: Record<string, unknown>, hostReceivers: number | null): NdrPlan {
  const lengths = (a.length === undefined ? '1400' : shown(a.length)).split(',').map((s) => s.trim());
  if (lengths.some((s) => s === '')) throw new UsageError('-l/--length: give sizes separated by commas, e.g. 64,512,1400');
  const sizes = lengths.map((s) => inRange('-l/--length', parseSize('-l/--length', s), 32, 65507, ' bytes'));
  if (new Set(sizes).size !== sizes.length) throw new UsageError('-l/--length: a size is given twice');
  const gsoRaw = a.gso === undefined ? 'auto' : shown(a.gso);
  if (gsoRaw !== 'auto' && gsoRaw !== 'on' && gsoRaw !== 'off') throw new UsageError(`--gso: '${gsoRaw}' is not one of auto, on, off`);
  if (gsoRaw === 'on') {
    const big = sizes.find((l) => Math.floor(65507 / l) < 2);
    if (big !== undefined) throw new UsageError(`--gso on: ${big}-byte datagrams leave no room for two in one 65507-byte GSO send (-l up to 32753)`);
  }
  const receivers = hostReceivers ?? (a.receivers === undefined ? 2 : inRange('--receivers', parseCount('--receivers', a.receivers), 1, 15));
  return {
    group: a.group === undefined ? '239.255.0.1' : shown(a.group),
    port: a.port === undefined ? 5001 : Number(shown(a.port)),
    lengths: sizes,
    receivers,
    rcvbuf: a.rcvbuf === undefined ? null : shown(a.rcvbuf),
    rcvbufForce: a['rcvbuf-force'] === true,
    coalesce: a.coalesce === undefined ? null : shown(a.coalesce),
    gro: a.gro === true,
    sources: a.source === undefined ? [] : (Array.isArray(a.source) ? a.source : [a.source]).map(shown),
    gso: gsoRaw,
    ...searchFlags(a),
  };
}

/** The search's own flags, shared by `ndr` and `ab --metric ndr`. */
export function searchOptions<T>(y: Argv<T>) {
  return y
    .option('trial', { type: 'string', describe: 'seconds each trial sends (0.1-600) [default: 2]' })
    .option('loss-tolerance', { type: 'string', describe: 'the most loss a passing trial may have, percent (0-100) [default: 0]' })
    .option('resolution', { type: 'string', describe: 'stop when passing and failing rates are this close, percent of the failing one (0.1-50) [default: 2]' })
    .option('max-trials', { type: 'string', describe: 'most trials per size, repeats included (2-100) [default: 16]' })
    .option('max-pps', { type: 'string', describe: 'start the search here when it is below the sender\'s most (pps)' })
    .option('min-pps', { type: 'string', describe: 'the lowest rate tried (pps) [default: 100]' });
}

/** The search's flags checked: trial seconds, where it may start, its rules. */
export function searchFlags(a: Record<string, unknown>): Pick<NdrPlan, 'trialSeconds' | 'maxPps' | 'search'> {
  return parseSearchFlags(a);
}

function ndrTable(r: NdrReport): string[] {
  const rows = r.sizes.map((s) => [
    String(s.length),
    s.gso ? 'yes' : 'no',
    formatCount(s.lossless_pps),
    (s.lossless_bits_per_second / 1e6).toFixed(1),
    s.limited_by === null ? '-' : s.limited_by.kind === 'sender' ? 'the sender' : s.limited_by.guest,
    s.first_loss ? `${formatCount(s.first_loss.offered_pps)} pps: ${s.first_loss.guest} ${s.first_loss.lost_percent.toFixed(3)}% (${s.first_loss.where ?? '?'})` : 'none',
  ]);
  const head = ['size B', 'GSO', 'lossless pps', 'Mbit/s', 'limited by', 'first loss'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const notes = r.sizes.flatMap((s) => [
    ...(s.unresolved ? [`-l ${s.length}: --max-trials ran out before the resolution: the lossless rate is between ${formatCount(s.lossless_pps)} and ${formatCount(s.first_loss?.offered_pps ?? 0)} pps`] : []),
    ...(s.skipped !== null ? [`-l ${s.length}: skipped: ${s.skipped}`] : []),
    ...(s.lossless_pps === 0 && !s.unresolved && s.skipped === null ? [`-l ${s.length}: no rate down to --min-pps was lossless twice in a row`] : []),
    ...(s.trials.some((t) => t.sender_limited)
      ? [`-l ${s.length}: the sender fell short of the offered rate (below 99%) in ${s.trials.filter((t) => t.sender_limited).length} trial(s): those did not pass`]
      : []),
  ]);
  return [line(head), ...rows.map(line), ...notes, ...(r.partial ? ['partial: the search was interrupted'] : [])];
}
