// `mcbench doctor`: checks the seeds' pitfalls on this host and names each fix. The I/O half:
// the kernel-settings snapshot, the namespace's links, the drop counters sampled over --sample
// seconds (host/doctor-probes.ts); the checks themselves are pure (core/doctor.ts). Exit 0 with no problem, 1 with one
// (like a linter), 2 on bad input.
import type { Argv, CommandModule } from 'yargs';
import { diagnose, doctorExitCode, doctorReport, formatDoctor, type DoctorGroup } from '../core/doctor.js';
import { parseGroupList } from '../core/groups.js';
import { parseGroupAddress } from '../core/multicast-address.js';
import { readBridgeQuerier, readLinks, sampleDropCounters } from '../host/doctor-probes.js';
import { inRange, parseSeconds } from '../core/units.js';
import { emitJson } from '../report/json.js';
import { makeOutput } from '../report/output.js';
import { runCommand } from './common.js';
import { snapshotFromFlags } from './settings.js';

/** The longest --sample window: an hour (a diagnosis, not a monitor). */
const MAX_SAMPLE_SECONDS = 3600;

function parseSample(raw: unknown): number {
  if (raw === undefined) return 1;
  return inRange('--sample', parseSeconds('--sample', raw), 0, MAX_SAMPLE_SECONDS, ' s');
}

/**
 * -g, repeatable, each a group or an IPv4 range FIRST-LAST (as send and recv take them): the
 * groups the receivers will join, for the membership and SSM checks. Unlike one socket's list,
 * both families may be asked about at once; a group given twice counts once.
 */
function parseGroups(raw: unknown): DoctorGroup[] {
  if (raw === undefined) return [];
  const groups = new Set((Array.isArray(raw) ? raw : [raw]).flatMap((item) => parseGroupList(item)));
  return [...groups].map((g) => {
    const { address, family, ssm } = parseGroupAddress(g);
    return { address, family, ssm };
  });
}

export const doctorCommand: CommandModule = {
  command: 'doctor',
  describe: 'check this host for the known causes of multicast loss between VM guests, and name each fix',
  builder: (y: Argv) =>
    y
      .option('interface', { alias: 'I', type: 'string', describe: 'interface name or one of its IPv4 addresses (default: the multicast or default route\'s)' })
      .option('bridge', { type: 'string', describe: 'bridge to check (default: the interface if it is one, or the bridge it is enslaved to)' })
      .option('json', { type: 'string', describe: 'write the findings as JSON to FILE (atomically); - for stdout' })
      .option('group', { alias: 'g', type: 'string', array: true, describe: 'a group the receivers join, repeatable, or an IPv4 range FIRST-LAST: checked against net.ipv4.igmp_max_memberships and for SSM (232.0.0.0/8, ff3x::/32); an IPv6 group also samples the Udp6 counters' })
      .option('sample', { type: 'string', describe: `seconds to watch the UDP and softnet drop counters (0: do not; at most ${MAX_SAMPLE_SECONDS})`, default: '1' })
      .example('$0 doctor --bridge br0', 'the host bridge the guests share')
      .example('$0 doctor -I eth1 --sample 10 --json doctor.json', 'in a guest, while the multicast load runs'),
  handler: (argv) =>
    runCommand('doctor', async () => {
      const a = argv as Record<string, unknown>;
      const seconds = parseSample(a.sample);
      const groups = parseGroups(a.group);
      const { snapshot, json } = snapshotFromFlags(a);
      const links = readLinks(snapshot);
      const ctx = { groups, querier: readBridgeQuerier(snapshot) };
      const sample = seconds > 0 ? await sampleDropCounters(snapshot.interface?.name ?? null, seconds, { udp6: groups.some((g) => g.family === 'ipv6') }) : null;
      const findings = diagnose(snapshot, sample, links, ctx);
      const out = makeOutput({ jsonToStdout: json === '-', quiet: false });
      for (const line of formatDoctor(snapshot, sample, findings)) out.summary(line);
      if (json) emitJson(json, doctorReport(snapshot, sample, findings, undefined, ctx));
      return doctorExitCode(findings);
    }),
};
