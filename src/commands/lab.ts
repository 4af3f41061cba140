// mcbench lab up|down|status|exec: guests in network namespaces on one Linux bridge (DESIGN §6).
import { describeStale, restoreStaleSettings } from '../host/apply.js';
import { removeDeadTemps } from '../host/state-dir.js';
import { constants } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { RunError, UsageError } from '../core/errors.js';
import { Lab, requireRoot } from '../lab/lab.js';
import type { LabStatus } from '../lab/lab.js';
import { isStale, listStates } from '../lab/state.js';
import { findLabSync } from '../lab/teardown.js';
import { DEFAULT_LAB_NAME, INTERVAL_KNOBS, labSpec, MAX_GUESTS, MIN_GUESTS, MTU_MAX, MTU_MIN, type LabSpec } from '../core/lab-spec.js';
import { runCommand } from './common.js';

const log = (line: string) => process.stderr.write(`mcbench lab: ${line}\n`);

const nameOption = <T>(y: Argv<T>) =>
  y.option('name', { alias: 'n', type: 'string', default: DEFAULT_LAB_NAME, describe: 'lab name (1-8 of a-z, 0-9); everything it makes is named mcb-NAME-*' });

/** Validates the name before the root check, so a typo gets its own message. */
/** The lab of --name, checked first (exit 2), then root; its state file is read only as root (another user could not read it anyway). */
const openLab = (raw: unknown, check: () => void = () => {}) => {
  const name = labSpec({ name: raw, guests: MIN_GUESTS }).name;
  check();
  requireRoot();
  return Lab.open(name, log);
};

/** The guests' pinned IGMP/MLD versions, e.g. 'g2 force_igmp_version 2'; '' when none (or a state file from before they existed). */
function pinnedVersions(spec: LabSpec): string {
  const list = (vals: ReadonlyArray<number | null> | undefined, what: string) =>
    (vals ?? []).flatMap((v, i) => (v === null ? [] : [`g${i + 1} ${what} ${v}`]));
  return [...list(spec.forceIgmpVersion, 'force_igmp_version'), ...list(spec.forceMldVersion, 'force_mld_version')].join(', ');
}

const upCommand: CommandModule = {
  command: 'up',
  describe: 'make a lab that stays until `lab down`',
  builder: (y: Argv) => {
    let b = nameOption(y)
      .option('guests', { alias: 'N', type: 'string', default: '2', describe: `guest namespaces (${MIN_GUESTS}-${MAX_GUESTS})` })
      .option('snooping', { type: 'string', describe: 'bridge IGMP snooping, 0|1 [kernel default: 1]' })
      .option('querier', { type: 'string', describe: 'the bridge sends IGMP queries, 0|1 [kernel default: 0]' });
    for (const k of Object.values(INTERVAL_KNOBS)) {
      b = b.option(k.flag.slice(2), { type: 'string', describe: `${k.describe} (${k.min}-${k.max})` });
    }
    return b
      .option('stp', { type: 'string', describe: 'spanning tree on the bridge, 0|1 [default: 0]; with 1 the ports forward after 4 s' })
      .option('txqueuelen', { type: 'string', describe: 'txqueuelen of both ends of every veth [kernel default: 1000]' })
      .option('mtu', { type: 'string', describe: `MTU of the bridge and every veth (${MTU_MIN}-${MTU_MAX}) [default: 1500]` })
      .option('upstream-querier', { type: 'string', describe: 'g1 plays the upstream switch\'s IGMP querier: once (one query, then quiet: seed 002), periodic, off [default: off]' })
      .option('upstream-query-interval', { type: 'string', describe: 'seconds between the upstream querier\'s queries when periodic (1-3600) [default: 125]' })
      .option('upstream-query-protocol', { type: 'string', describe: 'what the upstream querier sends: igmp (IGMPv2), mld (MLDv2, from g1\'s link-local address), both [default: igmp]' })
      .option('igmp-version', { type: 'string', describe: 'IGMP version of the bridge\'s own queries, 2|3 [kernel default: 2]' })
      .option('mld-version', { type: 'string', describe: 'MLD version of the bridge\'s own queries, 1|2 [kernel default: 1]; with --querier 1 the bridge keeps a link-local IPv6 address to send them from' })
      .option('force-igmp-version', { type: 'string', array: true, describe: 'pin the guests\' IGMP version (net.ipv4.conf.eth0.force_igmp_version): V for every guest or gK=V, repeatable; V 0 (follow the querier) to 3' })
      .option('force-mld-version', { type: 'string', array: true, describe: 'pin the guests\' MLD version (net.ipv6.conf.eth0.force_mld_version): V or gK=V, repeatable; V 0 (follow the querier), 1 or 2' })
      .option('ssm-router', { type: 'string', describe: 'the last guest behind an SSM router (mcbench ssm-router in namespace mcb-NAME-r; IGMPv3 (S,G) only), 0|1 [default: 0]' })
      .example('$0 lab up --guests 3 --snooping 1 --querier 0 --membership-interval 10', 'seed 002: snooping without a querier');
  },
  handler: (argv) =>
    runCommand('lab', async () => {
      const a = argv as Record<string, unknown>;
      const spec = labSpec({
        name: a.name, guests: a.guests, snooping: a.snooping, querier: a.querier,
        membershipInterval: a['membership-interval'], querierInterval: a['querier-interval'], queryInterval: a['query-interval'],
        responseInterval: a['response-interval'], startupQueryInterval: a['startup-query-interval'],
        stp: a.stp, txqueuelen: a.txqueuelen, mtu: a.mtu,
        upstreamQuerier: a['upstream-querier'], upstreamQueryInterval: a['upstream-query-interval'],
        upstreamQueryProtocol: a['upstream-query-protocol'], igmpVersion: a['igmp-version'], mldVersion: a['mld-version'],
        forceIgmpVersion: a['force-igmp-version'], forceMldVersion: a['force-mld-version'], ssmRouter: a['ssm-router'],
      });
      requireRoot();
      const lab = await Lab.up(spec, { persistent: true, log });
      const st = await lab.status();
      if (st) process.stdout.write(formatStatus(st));
      process.stdout.write(`remove it with: mcbench lab down --name ${spec.name}\n`);
      return 0;
    }),
};

const downCommand: CommandModule = {
  command: 'down',
  describe: 'remove a lab (also a stale one, or pieces of one without a state file), and what killed runs left: their labs, their sysctl changes',
  builder: (y: Argv) =>
    nameOption(y).option('force', { type: 'boolean', default: false, describe: 'also remove a lab whose maker is still running (it is measuring on it)' }),
  handler: (argv) =>
    runCommand('lab', async () => {
      const a = argv as Record<string, unknown>;
      const lab = openLab(a.name);
      // Ctrl-C: the removal takes a second or two, so it is finished (a half-removed lab helps
      // no one), then exit 130; a second one stops at once and says what is left.
      const st: { interrupted: NodeJS.Signals | null } = { interrupted: null };
      const onSignal = (sig: NodeJS.Signals) => {
        if (st.interrupted) {
          const f = findLabSync(lab.name);
          const left = [...f.netns, ...f.links];
          log(`${sig} again: stopped; ${left.length ? `left of lab '${lab.name}': ${left.join(', ')} (mcbench lab down --name ${lab.name})` : `nothing of lab '${lab.name}' is left`}`);
          process.exit(128 + constants.signals[sig]);
        }
        st.interrupted = sig;
        log(`${sig}: finishing the removal of lab '${lab.name}' (${sig} again stops at once and says what is left)`);
      };
      const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      sigs.forEach((s) => process.on(s, onSignal));
      try {
        const r = await lab.down({ force: a.force === true });
        if (!r.existed) {
          process.stdout.write(`no lab '${lab.name}': nothing to remove\n`);
        } else {
          const procs = r.processes ? `; stopped ${r.processes} process${r.processes === 1 ? '' : 'es'} in the guests` : '';
          process.stdout.write(`lab '${lab.name}' removed: ${r.netns} namespace${r.netns === 1 ? '' : 's'}, ${r.links} link${r.links === 1 ? '' : 's'}${procs}\n`);
        }
        // What runs killed with SIGKILL left that is ours: their labs (any name), their sysctl
        // changes, their half-written state files.
        for (const s of listStates()) {
          if (s.name === lab.name || !isStale(s)) continue;
          await Lab.open(s.name, log).down();
          process.stdout.write(`removed lab '${s.name}' (left by pid ${s.owner?.pid ?? '?'}, which died)\n`);
        }
        for (const o of restoreStaleSettings({ log: (l) => process.stderr.write(`${l}\n`) })) {
          if (o.outcome === 'restored') process.stdout.write(`${describeStale(o)}\n`);
          else log(`warning: ${describeStale(o)}`);
        }
        removeDeadTemps('labs');
        removeDeadTemps('restore');
        return st.interrupted ? 128 + constants.signals[st.interrupted] : 0;
      } finally {
        sigs.forEach((s) => process.off(s, onSignal));
      }
    }),
};

const statusCommand: CommandModule = {
  command: 'status',
  describe: 'what a lab has: guests, addresses, bridge settings read back from sysfs (exit 1 when absent or not as made)',
  builder: (y: Argv) => nameOption(y).option('json', { type: 'boolean', default: false, describe: 'print it as JSON (mcbench/lab-status@1)' }),
  handler: (argv) =>
    runCommand('lab', async () => {
      const a = argv as Record<string, unknown>;
      const lab = openLab(a.name);
      const st = await lab.status();
      if (!st) {
        const others = listStates().map((x) => x.name).filter((n) => n !== lab.name);
        throw new RunError(`no lab '${lab.name}' (mcbench lab up --name ${lab.name})${others.length ? `; labs here: ${others.join(', ')}` : ''}`);
      }
      process.stdout.write(a.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st));
      return st.state === 'up' && st.problems.length === 0 ? 0 : 1;
    }),
};

const execCommand: CommandModule = {
  command: 'exec <guest> [cmd..]',
  describe: 'run a command inside a guest: mcbench lab exec g1 -- CMD ARGS... (its exit code is passed through)',
  builder: (y: Argv) =>
    nameOption(y)
      .positional('guest', { type: 'string', describe: 'g1, 1 or mcb-NAME-g1' })
      .positional('cmd', { type: 'string', array: true, describe: 'the command, after --' })
      .example('$0 lab exec g2 -- ip -br addr', 'the addresses of guest 2'),
  handler: (argv) =>
    runCommand('lab', async () => {
      const a = argv as Record<string, unknown>;
      // The words after `--` exactly as typed (the CLI front end rewrites `-x -1`-like pairs).
      const dd = process.argv.indexOf('--');
      const cmd = dd >= 0 ? process.argv.slice(dd + 1) : ((a.cmd as unknown[] | undefined) ?? []).map(String);
      const lab = openLab(a.name, () => {
        if (cmd.length === 0) throw new UsageError('give the command after --: mcbench lab exec g1 -- CMD ARGS...');
      });
      lab.guest(String(a.guest)); // a clear error before spawning
      return await runInGuest(lab, String(a.guest), cmd);
    }),
};

/** Runs the command with our stdio; signals go to it; its exit status becomes ours. */
function runInGuest(lab: Lab, guest: string, cmd: string[]): Promise<number> {
  const child = lab.spawn(guest, cmd, { stdio: 'inherit' });
  // Ctrl-C reaches the whole foreground process group; SIGTERM/SIGHUP sent to us go on to it.
  const forward = (sig: NodeJS.Signals) => {
    if (sig !== 'SIGINT') child.kill(sig);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  sigs.forEach((s) => process.on(s, forward));
  return new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new RunError(`cannot run ip netns exec: ${e.message}`)));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  }).finally(() => sigs.forEach((s) => process.off(s, forward)));
}

const sec = (v: number | null) => (v === null ? '?' : `${+v.toFixed(2)} s`);
const val = (v: number | string | null) => (v === null ? '?' : String(v));

export function formatStatus(st: LabStatus): string {
  const L: string[] = [];
  const kind = st.persistent === null ? '' : st.persistent ? ', persistent' : `, ephemeral`;
  const owner = st.owner ? `, owner pid ${st.owner.pid}${st.owner.alive ? '' : ' (gone)'}` : '';
  L.push(`lab '${st.name}': ${st.state}${kind}${owner}${st.created_at ? `, made ${st.created_at}` : ''}`);
  const b = st.bridge;
  const ip4 = b.ipv4.length ? `IPv4 ${b.ipv4.join(' ')}` : 'no IP address';
  const ip6 = b.ipv6_disabled === null ? '' : b.ipv6_disabled ? ', IPv6 off' : ', IPv6 on';
  const fwd = b.ipv4_conf.forwarding === 0 ? ', never routed' : b.ipv4_conf.forwarding === 1 ? ', ROUTED by the host' : '';
  L.push(`  subnet ${st.subnet ?? '?'}; bridge ${b.name}${b.exists ? ` (${b.operstate}, mtu ${val(b.mtu)}, ${ip4}${ip6}${fwd})` : ' (missing)'}`);
  if (b.exists) {
    const m = b.multicast;
    L.push(`  multicast: snooping ${val(m.snooping)}, querier ${val(m.querier)}, IGMPv${val(m.igmp_version)}, MLDv${val(m.mld_version)}, membership interval ${sec(m.membership_interval)}, ` +
      `querier interval ${sec(m.querier_interval)}, query interval ${sec(m.query_interval)}, response interval ${sec(m.query_response_interval)}, ` +
      `startup query interval ${sec(m.startup_query_interval)}, last member interval ${sec(m.last_member_interval)}`);
    L.push(`  stp ${b.stp.stp_state ? 'on' : 'off'} (forward delay ${sec(b.stp.forward_delay)}); ports: ${b.ports.join(' ') || 'none'}`);
  }
  if (st.spec && st.spec.upstreamQuerier !== 'off') {
    // a state file from before the protocol was a knob: IGMP
    const q = { igmp: 'IGMPv2', mld: 'MLDv2', both: 'IGMPv2 and MLDv2' }[(st.spec as Partial<LabSpec>).upstreamQueryProtocol ?? 'igmp'];
    L.push(`  upstream querier: g1, ${st.spec.upstreamQuerier === 'once' ? `one ${q} general query at lab up, then quiet` : `an ${q} general query every ${st.spec.upstreamQueryInterval} s`}`);
  }
  const pins = st.spec ? pinnedVersions(st.spec) : '';
  if (pins) L.push(`  pinned: ${pins}`);
  if (st.bridge_nf) {
    const nf = Object.entries(st.bridge_nf).map(([k, v]) => `${k} ${val(v)}`).join(', ');
    const note = st.bridge_nf['bridge-nf-call-iptables'] === 1 ? ' (bridged IPv4 passes the host\'s iptables; left as is)' : ' (left as is)';
    L.push(`  ${nf}${note}`);
  } else {
    L.push('  br_netfilter not loaded: bridged traffic bypasses iptables');
  }
  L.push('  guests:');
  for (const g of st.guests) {
    const e = g.eth0;
    const h = g.host_link;
    const eth = g.netns_exists && e.exists ? `eth0 ${e.addresses.join(' ') || 'no address'} ${e.operstate} mtu ${val(e.mtu)} qlen ${val(e.tx_queue_len)}` : 'eth0 missing';
    const host = h.exists ? `${h.name} ${h.port_state ?? 'not a port'} mtu ${val(h.mtu)} qlen ${val(h.tx_queue_len)}` : `${h.name} missing`;
    L.push(`    ${g.name.padEnd(3)} ${g.netns}  ${eth}  |  ${host}  |  ${g.processes} process${g.processes === 1 ? '' : 'es'}`);
  }
  L.push(st.problems.length ? `  problems:\n${st.problems.map((p) => `    - ${p}`).join('\n')}` : '  problems: none');
  return L.join('\n') + '\n';
}

export const labCommand: CommandModule = {
  command: 'lab',
  describe: 'guests in network namespaces on one Linux bridge, like KVM guests on br0 (needs root)',
  builder: (y: Argv) =>
    y.command([upCommand, downCommand, statusCommand, execCommand]).demandCommand(1, 'give a lab command: up, down, status, exec'),
  handler: () => {},
};
