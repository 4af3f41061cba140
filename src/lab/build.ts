// Making a lab's devices: the bridge (isolated from the host), a namespace and a veth per guest,
// waiting until every port forwards, and the optional upstream querier in g1.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RunError } from '../core/errors.js';
import { GUEST_IF, INTERVAL_KNOBS, routerLinkName, routerNetns, toCentiseconds, type IntervalKnob, type LabSpec } from '../core/lab-spec.js';
import type { LabLog } from './lab.js';
import { isStale, readState, statePath, type LabState } from './state.js';
import { BRIDGE_IPV4_CONF, BRIDGE_IPV6_QUERIER_CONF, ip, readSys, readSysNumber, sysNet, writeSys } from './sys.js';
import { findLab, isEmpty, teardown } from './teardown.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function clearStale(name: string, log: LabLog): Promise<void> {
  const s = readState(name);
  if (s === 'corrupt') {
    log(`lab '${name}': the state file ${statePath(name)} is unreadable; removing the lab by name`);
    await teardown(name);
    return;
  }
  if (s) {
    if (!isStale(s)) {
      if (s.phase === 'creating') throw new RunError(`lab '${name}' is being made by pid ${s.owner?.pid} right now`);
      const who = s.owner ? `, owned by running pid ${s.owner.pid}` : '';
      throw new RunError(`lab '${name}' is already up (since ${s.created_at}${who}); remove it first: mcbench lab down --name ${name}`);
    }
    log(`lab '${name}': removing a stale lab (its owner, pid ${s.owner!.pid}, is gone)`);
    await teardown(name);
    return;
  }
  const found = await findLab(name);
  if (!isEmpty(found)) {
    log(`lab '${name}': removing leftovers without a state file: ${[...found.netns, ...found.links].join(', ')}`);
    await teardown(name);
  }
}

function disableIPv6(dev: string): void {
  // No link-local address, no MLD, no router solicitations: the host stays off the lab's wire.
  const p = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`;
  if (existsSync(p)) writeSys(p, 1);
}

function isolateBridge(br: string): void {
  for (const [k, v] of BRIDGE_IPV4_CONF) writeSys(`/proc/sys/net/ipv4/conf/${br}/${k}`, v);
}

/**
 * A querier bridge keeps IPv6 so it can serve MLD too: the kernel sends its MLD queries from
 * the bridge's link-local address and sends none without one. Only the link-local: no router
 * advertisements taken, no solicitations or autoconfigured addresses, never forwarded, no DAD
 * (so the address is there for the first startup query). Set before the link goes up.
 */
function mldQuerierBridge(br: string): void {
  for (const [k, v] of BRIDGE_IPV6_QUERIER_CONF) writeSys(`/proc/sys/net/ipv6/conf/${br}/${k}`, v);
}

/** The guest's pinned IGMP/MLD versions (spec.forceIgmpVersion, forceMldVersion), in its namespace. */
async function pinGuestVersions(spec: LabSpec, netns: string, index: number, step: (args: string[]) => Promise<void>): Promise<void> {
  const igmp = spec.forceIgmpVersion[index - 1] ?? null;
  const mld = spec.forceMldVersion[index - 1] ?? null;
  const sets = [
    ...(igmp !== null ? [`net.ipv4.conf.${GUEST_IF}.force_igmp_version=${igmp}`] : []),
    ...(mld !== null ? [`net.ipv6.conf.${GUEST_IF}.force_mld_version=${mld}`] : []),
  ];
  // sysctl in the guest's namespace: the files under /proc/sys/net follow the writer's namespace
  if (sets.length) await step(['netns', 'exec', netns, 'sysctl', '-q', '-w', ...sets]);
}

/**
 * The guest's IPv6: its ULA address without duplicate address detection (nodad, accept_dad=0),
 * so the address, its link-local and the MLD reports sent from it are there the moment the link
 * is up (DAD would hold them back for a second). IPv6 multicast needs no route: the kernel adds
 * ff00::/8 to the local table of every IPv6 interface.
 */
async function guestIPv6(netns: string, address6: string, step: (args: string[]) => Promise<void>): Promise<void> {
  await step(['netns', 'exec', netns, 'sysctl', '-q', '-w', `net.ipv6.conf.${GUEST_IF}.disable_ipv6=0`, `net.ipv6.conf.${GUEST_IF}.accept_dad=0`]);
  await step(['-n', netns, 'addr', 'add', address6, 'dev', GUEST_IF, 'nodad']);
}

export async function build(spec: LabSpec, state: LabState, check: () => void): Promise<void> {
  const step = async (args: string[]) => {
    check();
    await ip(args);
  };
  const br = state.bridge;
  const brArgs = ['link', 'add', 'name', br, 'type', 'bridge'];
  if (spec.stp !== null) brArgs.push('stp_state', String(spec.stp));
  // With STP a port listens and learns for 2 x forward_delay before it forwards; 2 s is the
  // kernel's minimum (libvirt's delay='0' ends up there too) instead of its 15 s default.
  if (spec.stp === 1) brArgs.push('forward_delay', '200');
  if (spec.snooping !== null) brArgs.push('mcast_snooping', String(spec.snooping));
  if (spec.querier !== null) brArgs.push('mcast_querier', String(spec.querier));
  if (spec.igmpVersion !== null) brArgs.push('mcast_igmp_version', String(spec.igmpVersion));
  if (spec.mldVersion !== null) brArgs.push('mcast_mld_version', String(spec.mldVersion));
  for (const k of Object.keys(INTERVAL_KNOBS) as IntervalKnob[]) {
    const v = spec[k];
    if (v !== null) brArgs.push(INTERVAL_KNOBS[k].ipName, String(toCentiseconds(v)));
  }
  await step(brArgs);
  if (spec.querier === 1) mldQuerierBridge(br);
  else disableIPv6(br);
  isolateBridge(br);
  if (spec.mtu !== null) await step(['link', 'set', 'dev', br, 'mtu', String(spec.mtu)]);
  await step(['link', 'set', 'dev', br, 'up']);

  // One at a time: the first `ip netns add` sets up the /run/netns mount.
  for (const g of state.guests) await step(['netns', 'add', g.netns]);
  const behindRouter = spec.ssmRouter ? state.guests[state.guests.length - 1] : undefined;
  if (behindRouter) await step(['netns', 'add', routerNetns(spec.name)]);
  const linkOpts = [...(spec.mtu !== null ? ['mtu', String(spec.mtu)] : []), ...(spec.txqueuelen !== null ? ['txqueuelen', String(spec.txqueuelen)] : [])];
  const results = await Promise.allSettled(state.guests.map(async (g) => {
    // The guest end is made inside its namespace as eth0: it never exists in the root namespace.
    await step(['link', 'add', 'name', g.host_link, 'type', 'veth', 'peer', 'name', GUEST_IF, 'netns', g.netns]);
    disableIPv6(g.host_link);
    if (g === behindRouter) {
      // its host end becomes the router's downstream port instead of a bridge port
      await step(['link', 'set', 'dev', g.host_link, 'netns', routerNetns(spec.name), 'name', SSM_DOWN_IF]);
      await step(['-n', routerNetns(spec.name), 'link', 'set', 'dev', SSM_DOWN_IF, ...linkOpts, 'up']);
    } else {
      await step(['link', 'set', 'dev', g.host_link, ...linkOpts, 'master', br, 'up']);
    }
    await step(['-n', g.netns, 'link', 'set', 'dev', 'lo', 'up']);
    if (linkOpts.length) await step(['-n', g.netns, 'link', 'set', 'dev', GUEST_IF, ...linkOpts]);
    await step(['-n', g.netns, 'addr', 'add', g.address, 'dev', GUEST_IF]);
    if (g.address6 !== undefined) await guestIPv6(g.netns, g.address6, step);
    await pinGuestVersions(spec, g.netns, g.index, (args) => step(args));
    await step(['-n', g.netns, 'link', 'set', 'dev', GUEST_IF, 'up']);
    await step(['-n', g.netns, 'route', 'add', '224.0.0.0/4', 'dev', GUEST_IF]);
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;

  // Ready when every port forwards (at once without STP; after 2 x forward_delay with it).
  const deadline = Date.now() + (spec.stp === 1 ? 15000 : 5000);
  for (;;) {
    check();
    const waiting = state.guests.filter((g) => g !== behindRouter).filter((g) => readSysNumber(sysNet(g.host_link, 'brport/state')) !== 3 || readSys(sysNet(g.host_link, 'operstate')) !== 'up');
    if (waiting.length === 0) break;
    if (Date.now() > deadline) throw new RunError(`bridge ports not forwarding after ${spec.stp === 1 ? 15 : 5} s: ${waiting.map((g) => g.host_link).join(', ')}`);
    await sleep(50);
  }
  if (behindRouter) await startSsmRouter(spec, state, step, check);
  await startUpstreamQuerier(spec, state);
}

const SSM_UP_IF = 'up0';
const SSM_DOWN_IF = 'down0';

/**
 * The SSM router (spec.ssmRouter) between the bridge and the last guest. Its two ports share one
 * address, the lab subnet's .254 (unnumbered, as a point-to-point link often is), and the guest
 * keeps its /24 address: the router has a /32 route to it and answers ARP for the rest of the
 * subnet on both sides (proxy_arp), so no guest needs a route. rp_filter off: the sources' packets
 * come in on up0 (the connected /24) and must not be judged by the /32. `mcbench ssm-router` runs
 * in the router's namespace (lab down stops it with the namespace); ready when the kernel lists
 * its two VIFs in /proc/net/ip_mr_vif.
 */
async function startSsmRouter(spec: LabSpec, state: LabState, step: (args: string[]) => Promise<void>, check: () => void): Promise<void> {
  const ns = routerNetns(spec.name);
  const downstream = state.guests[state.guests.length - 1]!;
  const routerAddress = downstream.address.replace(/\.\d+\/24$/, '.254');
  const up = routerLinkName(spec.name);
  await step(['link', 'add', 'name', up, 'type', 'veth', 'peer', 'name', SSM_UP_IF, 'netns', ns]);
  disableIPv6(up);
  await step(['link', 'set', 'dev', up, 'master', state.bridge, 'up']);
  await step(['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
    'net.ipv6.conf.all.disable_ipv6=1', `net.ipv4.conf.${SSM_UP_IF}.proxy_arp=1`, `net.ipv4.conf.${SSM_DOWN_IF}.proxy_arp=1`]);
  await step(['-n', ns, 'link', 'set', 'dev', 'lo', 'up']);
  await step(['-n', ns, 'addr', 'add', `${routerAddress}/24`, 'dev', SSM_UP_IF]);
  await step(['-n', ns, 'addr', 'add', `${routerAddress}/32`, 'dev', SSM_DOWN_IF]);
  await step(['-n', ns, 'link', 'set', 'dev', SSM_UP_IF, 'up']);
  await step(['-n', ns, 'route', 'add', downstream.address.replace(/\/24$/, '/32'), 'dev', SSM_DOWN_IF]);
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, MCBENCH_BIN, 'ssm-router', '--up', SSM_UP_IF, '--down', SSM_DOWN_IF, '--query-interval', '10'], { stdio: 'ignore', detached: true });
  p.unref();
  const deadline = Date.now() + 10000;
  for (;;) {
    check();
    const vifs = (await ip(['netns', 'exec', ns, 'cat', '/proc/net/ip_mr_vif'])).stdout.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    if (vifs.length === 2) return;
    if (p.exitCode !== null || Date.now() > deadline) throw new RunError(`the SSM router in ${ns} did not start (${vifs.length} of 2 VIFs after ${p.exitCode !== null ? `its exit ${p.exitCode}` : '10 s'})`);
    await sleep(50);
  }
}

const MCBENCH_BIN = fileURLToPath(new URL('../../bin/mcbench.js', import.meta.url));

/**
 * g1 plays the upstream switch's querier (spec.upstreamQuerier). 'periodic' leaves a process in
 * g1's namespace: `lab down` stops every process in the guests, so it ends with the lab.
 */
async function startUpstreamQuerier(spec: LabSpec, state: LabState): Promise<void> {
  if (spec.upstreamQuerier === 'off') return;
  const g1 = state.guests[0]!;
  const argv = ['netns', 'exec', g1.netns, process.execPath, MCBENCH_BIN, 'igmp-query', '-I', GUEST_IF, '--protocol', spec.upstreamQueryProtocol];
  if (spec.upstreamQuerier === 'once') {
    await new Promise<void>((resolve, reject) => {
      const p = spawn('ip', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new RunError(`the upstream querier's query failed: ${err.trim()}`))));
    });
    return;
  }
  const p = spawn('ip', [...argv, '--count', '1000000000', '--interval', String(spec.upstreamQueryInterval)], { stdio: 'ignore', detached: true });
  p.unref();
}

