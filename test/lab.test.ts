// The lab for real, as root: namespaces, veths and a bridge made by `mcbench lab`, traffic between
// guests, knobs read back from sysfs, and every way out (down, SIGINT, SIGKILL + down) leaving
// nothing behind. Each test has its own lab name; everything is removed after each test, pass or fail.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withLab } from '../src/lab/index.js';
import type { LabStatus } from '../src/lab/index.js';
import { teardown } from '../src/lab/teardown.js';
import { MCBENCH, ROOT, Running, type RunOutput } from './helpers/netns.js';

const PROBE = join(ROOT, 'test', 'helpers', 'lab-probe.mjs');
const WITH = join(ROOT, 'test', 'helpers', 'lab-with.mjs');
const NAMES = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];
const STATE_DIR = '/run/mcbench/labs';
const children: Running[] = [];

function start(cmd: string, args: string[], timeoutMs = 20000): Running {
  const r = new Running(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  children.push(r);
  return r;
}
const mcbench = (args: string[], timeoutMs?: number): Promise<RunOutput> => start(process.execPath, [MCBENCH, ...args], timeoutMs).done;
const lab = (name: string, args: string[]) => mcbench(['lab', ...args, '--name', name]);
const exec = (name: string, guest: string, argv: string[]) => mcbench(['lab', 'exec', '--name', name, guest, '--', ...argv]);

const sys = (path: string) => readFileSync(path, 'utf8').trim();
const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const ipJson = <T>(args: string[]): T[] => {
  const out = sh('ip', ['-j', ...args]);
  return out.trim() ? (JSON.parse(out) as T[]) : [];
};

/** What exists now: named namespaces and root-namespace links. */
function snapshot() {
  return {
    netns: ipJson<{ name: string }>(['netns', 'list']).map((n) => n.name).sort(),
    links: ipJson<{ ifname: string }>(['link', 'show']).map((l) => l.ifname).sort(),
  };
}
/** Everything of lab `name` that exists, plus its state file. */
function leftovers(name: string): string[] {
  const s = snapshot();
  const p = `mcb-${name}-`;
  return [...s.netns, ...s.links].filter((x) => x.startsWith(p)).concat(existsSync(join(STATE_DIR, `${name}.json`)) ? ['state file'] : []);
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** g1 reaches g2's address: ping when there is one, else a UDP round trip (node dgram) via lab exec. */
async function reach(name: string, from: string, to: string, toAddr: string, port: number) {
  const hasPing = spawnSync('sh', ['-c', 'command -v ping']).status === 0;
  if (hasPing) {
    const r = await exec(name, from, ['ping', '-c1', '-W1', toAddr]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  const rx = start(process.execPath, [MCBENCH, 'lab', 'exec', '--name', name, to, '--', process.execPath, PROBE, 'listen', String(port)]);
  await rx.waitFor('ready');
  const tx = await exec(name, from, [process.execPath, PROBE, 'send', toAddr, String(port)]);
  expect(tx.code, tx.stderr).toBe(0);
  expect(tx.stdout).toContain(`pong:ping from ${toAddr}`);
  expect((await rx.done).code).toBe(0);
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the lab tests need root');
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const n of NAMES) await teardown(n, 0);
});
afterAll(() => {
  for (const n of NAMES) expect(leftovers(n)).toEqual([]);
});

describe('lab up / status / exec / down', () => {
  it('3 guests on one bridge: names, addresses, knobs read back, traffic, exec codes, down twice', async () => {
    const up = await lab('t1', ['up', '--guests', '3', '--snooping', '1', '--querier', '1', '--membership-interval', '12',
      '--querier-interval', '30', '--query-interval', '5', '--response-interval', '2.5', '--startup-query-interval', '3',
      '--txqueuelen', '500', '--mtu', '1400']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain("lab 't1': up, persistent");

    // Namespaces and links, with the names the design gives them.
    const snap = snapshot();
    expect(snap.netns.filter((n) => n.startsWith('mcb-t1-'))).toEqual(['mcb-t1-g1', 'mcb-t1-g2', 'mcb-t1-g3']);
    expect(snap.links.filter((n) => n.startsWith('mcb-t1-'))).toEqual(['mcb-t1-br', 'mcb-t1-h1', 'mcb-t1-h2', 'mcb-t1-h3']);
    const br = '/sys/class/net/mcb-t1-br';
    // Only the lab's veths are bridge ports; the bridge has no address but, as the querier, an
    // IPv6 link-local one to send MLD queries from (nothing routed, no RA, no solicitations).
    expect(readdirSync(`${br}/brif`).sort()).toEqual(['mcb-t1-h1', 'mcb-t1-h2', 'mcb-t1-h3']);
    const brAddrs = ipJson<{ addr_info: Array<{ family: string; scope: string; local: string }> }>(['addr', 'show', 'dev', 'mcb-t1-br'])[0]!.addr_info;
    expect(brAddrs.map((a) => [a.family, a.scope])).toEqual([['inet6', 'link']]);
    expect(brAddrs[0]!.local).toMatch(/^fe80:/);
    expect(['disable_ipv6', 'forwarding', 'accept_ra', 'autoconf', 'router_solicitations'].map((k) => sys(`/proc/sys/net/ipv6/conf/mcb-t1-br/${k}`)))
      .toEqual(['0', '0', '0', '0', '0']);
    // Nothing from the lab is routed by the host or answered by its ARP.
    expect(['forwarding', 'arp_ignore', 'rp_filter'].map((k) => sys(`/proc/sys/net/ipv4/conf/mcb-t1-br/${k}`))).toEqual(['0', '8', '1']);
    expect([1, 2, 3].map((k) => sys(`/proc/sys/net/ipv6/conf/mcb-t1-h${k}/disable_ipv6`))).toEqual(['1', '1', '1']);

    // The knobs, in the bridge's centiseconds.
    expect(sys(`${br}/bridge/multicast_snooping`)).toBe('1');
    expect(sys(`${br}/bridge/multicast_querier`)).toBe('1');
    expect(sys(`${br}/bridge/multicast_membership_interval`)).toBe('1200');
    expect(sys(`${br}/bridge/multicast_querier_interval`)).toBe('3000');
    expect(sys(`${br}/bridge/multicast_query_interval`)).toBe('500');
    expect(sys(`${br}/bridge/multicast_query_response_interval`)).toBe('250');
    expect(sys(`${br}/bridge/multicast_startup_query_interval`)).toBe('300');
    expect(sys(`${br}/bridge/stp_state`)).toBe('0');
    expect(sys(`${br}/mtu`)).toBe('1400');
    for (const k of [1, 2, 3]) {
      const h = `/sys/class/net/mcb-t1-h${k}`;
      expect(basename(readlinkSync(`${h}/master`))).toBe('mcb-t1-br');
      expect(sys(`${h}/brport/state`)).toBe('3'); // forwarding
      expect(sys(`${h}/tx_queue_len`)).toBe('500');
      expect(sys(`${h}/mtu`)).toBe('1400');
    }

    // Addresses: one free /24, guest K = .K, lo and eth0 up, a multicast route; no collision with the host.
    const st = JSON.parse((await lab('t1', ['status', '--json'])).stdout) as LabStatus;
    expect(st.state).toBe('up');
    expect(st.problems).toEqual([]);
    const net = /^(10\.(\d+)\.\d+)\.0\/24$/.exec(st.subnet!)!;
    expect(Number(net[2])).toBeGreaterThanOrEqual(200);
    for (const r of ipJson<{ dst: string }>(['-4', 'route', 'show', 'table', 'all'])) expect(r.dst.startsWith(`${net[1]}.`)).toBe(false);
    for (const k of [1, 2, 3]) {
      const [eth0] = ipJson<{ operstate: string; mtu: number; txqlen: number; addr_info: Array<{ local: string; prefixlen: number }> }>(
        ['-n', `mcb-t1-g${k}`, '-4', 'addr', 'show', 'dev', 'eth0']);
      expect(eth0!.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${net[1]}.${k}/24`]);
      expect(eth0!.operstate).toBe('UP');
      expect(eth0!.mtu).toBe(1400);
      expect(eth0!.txqlen).toBe(500);
      expect(ipJson<{ dst: string }>(['-n', `mcb-t1-g${k}`, '-4', 'route', 'show', 'dev', 'eth0']).map((r) => r.dst)).toContain('224.0.0.0/4');
      expect(ipJson<{ flags: string[] }>(['-n', `mcb-t1-g${k}`, 'link', 'show', 'dev', 'lo'])[0]!.flags).toContain('UP');
    }
    // Status read back the same values.
    expect(st.bridge.multicast).toMatchObject({ snooping: 1, querier: 1, membership_interval: 12, querier_interval: 30, query_interval: 5,
      query_response_interval: 2.5, startup_query_interval: 3 });
    expect(st.guests.map((g) => [g.name, g.address, g.host_link.port_state, g.eth0.tx_queue_len])).toEqual([1, 2, 3].map((k) =>
      [`g${k}`, `${net[1]}.${k}/24`, 'forwarding', 500]));
    const nf = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables') ? Number(sys('/proc/sys/net/bridge/bridge-nf-call-iptables')) : null;
    expect(st.bridge_nf?.['bridge-nf-call-iptables'] ?? null).toBe(nf);
    const human = await lab('t1', ['status']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/multicast: snooping 1, querier 1, IGMPv2, MLDv1, membership interval 12 s/);
    expect(human.stdout).toMatch(new RegExp(`g2 +mcb-t1-g2 +eth0 ${net[1]}\\.2/24 up mtu 1400 qlen 500`));
    expect(human.stdout).toContain('problems: none');

    // Guests reach each other across the bridge, both ways round.
    await reach('t1', 'g1', 'g2', `${net[1]}.2`, 7101);
    await reach('t1', '3', 'mcb-t1-g1', `${net[1]}.1`, 7102);

    // exec: the command's exit code, inside the guest's own /sys; bad guests are usage errors.
    expect((await exec('t1', 'g2', ['sh', '-c', 'exit 7'])).code).toBe(7);
    const q = await exec('t1', 'g3', ['cat', '/sys/class/net/eth0/tx_queue_len', '/sys/class/net/eth0/mtu']);
    expect([q.code, q.stdout.split('\n').slice(0, 2)]).toEqual([0, ['500', '1400']]);
    const g9 = await exec('t1', 'g9', ['true']);
    expect([g9.code, g9.stderr.trim()]).toEqual([2, "mcbench lab: lab 't1' has no guest g9 (g1 to g3)"]);
    expect((await mcbench(['lab', 'exec', '--name', 't1', 'g1'])).code).toBe(2);

    // A second up of a live lab is refused; down removes all; down again is fine.
    const again = await lab('t1', ['up']);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/lab 't1' is already up .*mcbench lab down --name t1/)]);
    const down = await lab('t1', ['down']);
    expect([down.code, down.stdout.trim()]).toEqual([0, "lab 't1' removed: 3 namespaces, 4 links"]);
    expect(leftovers('t1')).toEqual([]);
    const down2 = await lab('t1', ['down']);
    expect([down2.code, down2.stdout.trim()]).toEqual([0, "no lab 't1': nothing to remove"]);
    const gone = await lab('t1', ['status']);
    expect([gone.code, gone.stderr.trim()]).toEqual([1, expect.stringMatching(/^mcbench lab: no lab 't1' \(mcbench lab up --name t1\)/)]);
  });

  it('stp 1: the ports forward before up returns', async () => {
    const up = await lab('t2', ['up', '--stp', '1', '--snooping', '0']);
    expect(up.code, up.stderr).toBe(0);
    expect(sys('/sys/class/net/mcb-t2-br/bridge/stp_state')).toBe('1');
    expect(sys('/sys/class/net/mcb-t2-br/bridge/multicast_snooping')).toBe('0');
    expect(['h1', 'h2'].map((h) => sys(`/sys/class/net/mcb-t2-${h}/brport/state`))).toEqual(['3', '3']);
    expect((await lab('t2', ['down'])).code).toBe(0);
    expect(leftovers('t2')).toEqual([]);
  });

  it('processes left in a guest are stopped by down', async () => {
    expect((await lab('t3', ['up'])).code).toBe(0);
    const sleeper = start(process.execPath, [MCBENCH, 'lab', 'exec', '--name', 't3', 'g2', '--', 'sleep', '30']);
    await waitFor('the sleeper', () => sh('ip', ['netns', 'pids', 'mcb-t3-g2']).trim() !== '');
    const down = await lab('t3', ['down']);
    expect(down.stdout).toContain('stopped 1 process in the guests');
    expect((await sleeper.done).code).toBe(128 + 15);
    expect(leftovers('t3')).toEqual([]);
  });
});

describe('the upstream querier (g1 plays the switch)', () => {
  const querierPids = (name: string) =>
    spawnSync('ip', ['netns', 'pids', `mcb-${name}-g1`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('igmp-query');
        } catch {
          return false;
        }
      });

  it('periodic: a querier process runs in g1 for the lab\'s life and goes with lab down; once: none stays', async () => {
    const up = await lab('t7', ['up', '--guests', '2', '--snooping', '1', '--upstream-querier', 'periodic', '--upstream-query-interval', '2']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('upstream querier: g1, an IGMPv2 general query every 2 s');
    expect(querierPids('t7')).toHaveLength(1);
    const down = await lab('t7', ['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(leftovers('t7')).toEqual([]);

    const once = await lab('t8', ['up', '--guests', '2', '--upstream-querier', 'once']);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toContain('upstream querier: g1, one IGMPv2 general query at lab up, then quiet');
    expect(querierPids('t8')).toEqual([]);
    expect((await lab('t8', ['down'])).code).toBe(0);
  });
});

describe('every way out leaves nothing', () => {
  it('an ephemeral lab (withLab) killed with SIGINT removes itself and dies of the signal', async () => {
    const before = snapshot();
    const p = start(process.execPath, [WITH, 't4', '3']);
    await p.waitFor('ready');
    expect(leftovers('t4')).toHaveLength(8); // 3 namespaces, bridge, 3 veths, state file
    p.child.kill('SIGINT');
    const r = await p.done;
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code} signal ${r.signal}`).toBe(true);
    expect(r.stdout).toContain('aborted'); // fn saw the AbortSignal
    const after = snapshot();
    // Other labs on this host (someone's `lab up`) may come and go meanwhile; they are not ours.
    const notOtherLabs = (x: string) => !x.startsWith('mcb-') || x.startsWith('mcb-t4-');
    expect(after.netns.filter(notOtherLabs)).toEqual(before.netns.filter(notOtherLabs));
    // Other work may add links of its own meanwhile: compare the lab-named ones.
    expect(after.links.filter((l) => l.startsWith('mcb-t4-'))).toEqual(before.links.filter((l) => l.startsWith('mcb-t4-')));
    expect(before.links.filter((l) => l.startsWith('mcb-t4-'))).toEqual([]);
    expect(leftovers('t4')).toEqual([]);
  });

  it('SIGTERM while `lab up` is still making its guests removes the half-made lab', async () => {
    // With STP the ports take 4 s to forward, and up waits for that: a window that is always there.
    const p = start(process.execPath, [MCBENCH, 'lab', 'up', '--name', 't5', '--guests', '16', '--stp', '1']);
    await waitFor('the bridge', () => existsSync('/sys/class/net/mcb-t5-br'));
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code === 143 || r.signal === 'SIGTERM', `code ${r.code} signal ${r.signal} ${r.stderr}`).toBe(true);
    expect(r.stderr).toContain("SIGTERM: removed lab 't5' (it was being made)");
    expect(leftovers('t5')).toEqual([]);
  });

  it('a SIGKILLed owner leaves a stale lab: status says so, lab down removes it', async () => {
    const p = start(process.execPath, [WITH, 't6', '2']);
    await p.waitFor('ready');
    p.child.kill('SIGKILL');
    await p.done;
    expect(leftovers('t6').length).toBeGreaterThan(0);
    const st = await lab('t6', ['status', '--json']);
    expect(st.code).toBe(1);
    expect((JSON.parse(st.stdout) as LabStatus).state).toBe('stale');
    const down = await lab('t6', ['down']);
    expect([down.code, down.stdout.trim()]).toEqual([0, "lab 't6' removed: 2 namespaces, 3 links"]);
    expect(leftovers('t6')).toEqual([]);
  });

  it('a SIGKILLed `lab up` is cleared by the next `lab up`; pieces without a state file by `lab down`', async () => {
    const p = start(process.execPath, [MCBENCH, 'lab', 'up', '--name', 't7', '--guests', '16', '--stp', '1']);
    await waitFor('all 16 guests', () => existsSync('/sys/class/net/mcb-t7-h16'));
    p.child.kill('SIGKILL');
    await p.done;
    expect(leftovers('t7').length).toBeGreaterThan(30);
    const up = await lab('t7', ['up', '--guests', '2']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/lab 't7': removing a stale lab \(its owner, pid \d+, is gone\)/);
    expect(leftovers('t7').sort()).toEqual(['mcb-t7-br', 'mcb-t7-g1', 'mcb-t7-g2', 'mcb-t7-h1', 'mcb-t7-h2', 'state file'].sort());

    // Lost state file: the names are enough.
    unlinkSync(join(STATE_DIR, 't7.json'));
    const st = await lab('t7', ['status']);
    expect(st.stdout).toContain("lab 't7': orphaned");
    const down = await lab('t7', ['down']);
    expect([down.code, down.stdout.trim()]).toEqual([0, "lab 't7' removed: 2 namespaces, 3 links"]);
    expect(leftovers('t7')).toEqual([]);
  });

  it('withLab in this process: removed after fn returns and after fn throws', async () => {
    const out = await withLab({ name: 't8', guests: 2 }, async (l) => {
      expect(leftovers('t8')).toHaveLength(6);
      const r = await l.exec('g1', ['ip', '-4', '-br', 'addr', 'show', 'dev', 'eth0']);
      return r.stdout;
    });
    expect(out).toMatch(/^eth0@if\d+ +UP +10\.\d+\.\d+\.1\/24/);
    expect(leftovers('t8')).toEqual([]);
    await expect(withLab({ name: 't8', guests: 2 }, () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(leftovers('t8')).toEqual([]);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});

describe('bad input and no root: one line, exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['up', '--guests', '1'], /^mcbench lab: --guests: 1 is out of range \(2 to 16\)$/],
    [['up', '--guests', '17'], /^mcbench lab: --guests: 17 is out of range \(2 to 16\)$/],
    [['up', '--name', 'Lab_1'], /^mcbench lab: --name: 'Lab_1' is not a lab name \(1 to 8 characters of a-z and 0-9\)$/],
    [['up', '--name', 'abcdefgh', '--guests', '10'], /^mcbench lab: --name: 'abcdefgh' with --guests 10 makes the link name mcb-abcdefgh-h10 \(16 characters, the kernel takes 15\)/],
    [['up', '--snooping', '2'], /^mcbench lab: --snooping: '2' is out of range \(0 or 1\)$/],
    [['up', '--querier', 'on'], /^mcbench lab: --querier: 'on' is out of range \(0 or 1\)$/],
    [['up', '--stp', '-1'], /^mcbench lab: --stp: '-1' is out of range \(0 or 1\)$/],
    [['up', '--membership-interval', '0'], /^mcbench lab: --membership-interval: 0 s is out of range \(0\.1 s to 86400 s\)$/],
    [['up', '--query-interval', '0.5'], /^mcbench lab: --query-interval: 0\.5 s is out of range \(1 s to 86400 s\)$/],
    [['up', '--response-interval', '30'], /^mcbench lab: --response-interval: 30 s is out of range \(0\.1 s to 25\.5 s\)$/],
    [['up', '--startup-query-interval', 'soon'], /^mcbench lab: --startup-query-interval: 'soon' is not a duration/],
    [['up', '--querier-interval', '1.001'], /^mcbench lab: --querier-interval: 1\.001 s is finer than the bridge's resolution \(0\.01 s\)$/],
    [['up', '--mtu', '67'], /^mcbench lab: --mtu: 67 is out of range \(68 to 65535\)$/],
    [['up', '--txqueuelen', 'big'], /^mcbench lab: --txqueuelen: 'big' is not a count/],
    [['down', '--name', 'x-y'], /^mcbench lab: --name: 'x-y' is not a lab name/],
    [['exec', 'guest1', '--', 'true'], /^mcbench lab: 'guest1' is not a guest \(g1, 1 or mcb-lab-g1\)$/],
    [[], /^mcbench: give a lab command: up, down, status, exec/],
  ];
  it.each(cases)('lab %j', async (args, message) => {
    const r = await mcbench(['lab', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('not root: one line naming what is needed', async () => {
    for (const sub of [['up', '--guests', '3'], ['down'], ['status'], ['exec', 'g1', '--', 'true']]) {
      const r = await start('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MCBENCH, 'lab', ...sub]).done;
      expect([r.code, r.stderr]).toEqual([2, 'mcbench lab: needs root (CAP_NET_ADMIN) to create network namespaces\n']);
    }
  });
});
