// `run`/`ab --hosts` on real OpenSSH (issue 8): one sshd per lab guest (test/helpers/sshd.ts), the
// orchestrator in guest 1 reaching the others only through `ssh` with the user's own
// ~/.ssh/config. Truth is taken from the kernel (UDP counters, sysctls, the processes in each
// guest's namespace), not from mcbench's own figures alone.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AbReport } from '../src/core/ab.js';
import type { RunReport } from '../src/core/run-report.js';
import { mcbenchNoNet, ROOT } from './helpers/netns.js';
import { SshLab } from './helpers/sshd.js';

const MCB = join(ROOT, 'bin', 'mcbench.js');
const KEY = 'net.ipv4.conf.eth0.force_igmp_version';
const host = (name: string, extra = '') => `  ${name}: { ssh: ${name}, interface: eth0, mcbench: ${MCB}${extra} }\n`;
const inventory = (hosts: string, sender: string, receivers: string[]) => `hosts:\n${hosts}sender: ${sender}\nreceivers: [${receivers.join(', ')}]\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const controlDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('mcb-ssh-'));

let s: SshLab;
let inv: string;
let controlBefore: string[];

/** Udp InDatagrams of a guest's namespace (/proc/net/snmp), the kernel's count of delivered datagrams */
function udpIn(k: number): number {
  const r = spawnSync('ip', ['netns', 'exec', s.lab.guest(k).netns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf('InDatagrams')]);
}

/** ssh processes in guest 1 (the orchestrator's side: masters and sessions) */
function sshPids(): number[] {
  const pids = spawnSync('ip', ['netns', 'pids', s.lab.guest(1).netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === 'ssh';
    } catch {
      return false;
    }
  });
}

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(100);
  }
}

const nothingLeft = () => {
  for (const k of [2, 3, 4]) expect(s.mcbenchPids(k), `mcbench left in g${k}`).toEqual([]);
  expect(sshPids(), 'ssh processes left in g1').toEqual([]);
  expect(controlDirs().filter((d) => !controlBefore.includes(d)), 'ControlPath folders left').toEqual([]);
};

beforeAll(async () => {
  spawnSync(process.execPath, [MCB, 'lab', 'down', '--name', 'sshtest', '--force']);
  controlBefore = controlDirs();
  s = await SshLab.up('sshtest', 4);
  inv = s.file('hosts.yaml', inventory(host('g2') + host('g3') + host('g4'), 'g2', ['g3', 'g4']));
}, 60000);

afterAll(async () => {
  await s?.down();
  expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain('mcb-sshtest-');
});

describe('--hosts over OpenSSH', () => {
  it('a bad inventory is one line naming the key, exit 2, before anything connects', async () => {
    const bad = s.file('bad.yaml', inventory(host('g2') + '  g3: { ssh: g3, interface: eth0, colour: red }\n', 'g2', ['g3']));
    const r = await mcbenchNoNet(['run', '--hosts', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`mcbench run: --hosts: ${bad}: hosts.g3.colour: unknown key (one of: ssh, local, interface, mcbench, sudo)`);
    const r2 = await mcbenchNoNet(['run', '--hosts', inv, '--receivers', 'g3,g9']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("--receivers: 'g9' is not a host of the inventory");
  });

  it('hosts check: every guest ready', async () => {
    const r = await s.mcbench(['hosts', 'check', inv, '--json', '-']).done;
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { hosts: Array<{ name: string; address: string; route_device: string; root: string; missing: string[] }> };
    expect(j.hosts.map((h) => [h.name, h.address, h.route_device, h.root, h.missing.length])).toEqual([2, 3, 4].map((k) => [`g${k}`, s.address(k), 'eth0', 'root', 0]));
  });

  it('run: one sender, two receivers over ssh; counts agree with the sender and the kernel', async () => {
    const before = [udpIn(3), udpIn(4)];
    const file = join(s.dir, 'run.json');
    const r = await s.mcbench(['run', '--hosts', inv, '-t', '2', '--pps', '2000', '-l', '200', '--json', file]).done;
    expect(r.code, r.stderr).toBe(0);
    const delta = [udpIn(3) - before[0]!, udpIn(4) - before[1]!];
    // interval lines arrived per host, as they happened
    expect(r.stdout).toMatch(/^ {2}g3: \[ {2}1\] 0\.00-/m);
    expect(r.stdout).toMatch(/^ {2}g4: \[ {2}1\] 0\.00-/m);
    const rep = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const v = rep.variants[0]!;
    const sent = v.sender!.end.packets;
    expect(sent).toBeGreaterThan(3000);
    expect(v.receivers.map((x) => x.guest)).toEqual(['g3', 'g4']);
    for (const [i, x] of v.receivers.entries()) {
      const e = x.result!.end;
      expect(e.sum.packets + e.sum.lost_packets).toBe(sent);
      expect(e.sum.lost_packets).toBe(0);
      // the kernel delivered at least every datagram counted (plus FINs and the clock exchange's replies)
      expect(delta[i]!).toBeGreaterThanOrEqual(e.sum.packets);
      expect(delta[i]! - e.sum.packets).toBeLessThan(200);
      expect(x.result!.start.hostname).toBeTruthy();
    }
    expect(v.hosts!.map((h) => [h.name, h.role, h.interface, h.settings?.schema])).toEqual([
      ['g2', 'sender', 'eth0', 'mcbench/settings@1'], ['g3', 'receiver', 'eth0', 'mcbench/settings@1'], ['g4', 'receiver', 'eth0', 'mcbench/settings@1'],
    ]);
    nothingLeft();
  });

  it('ab: a setting changed on the receivers only, seen there during the runs, restored after', async () => {
    const orig = [2, 3, 4].map((k) => s.sysctl(k, KEY));
    const other = orig[1] === '2' ? '3' : '2';
    const seen = new Set<string>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        seen.add(`g3=${s.sysctl(3, KEY)}`).add(`g4=${s.sysctl(4, KEY)}`).add(`g2=${s.sysctl(2, KEY)}`);
        await sleep(50);
      }
    })();
    const file = join(s.dir, 'ab.json');
    const r = await s.mcbench(['ab', '--hosts', inv, '--a', `${KEY}=${orig[1]}`, '--b', `${KEY}=${other}`, '--reps', '1', '--warmup', '0', '-t', '1', '--pps', '1000', '--json', file], 90000).done;
    polling = false;
    await poll;
    expect(r.code, r.stderr).toBe(0);
    expect(seen.has(`g3=${other}`) && seen.has(`g4=${other}`)).toBe(true);
    expect(seen.has(`g2=${other}`)).toBe(false);
    const rep = JSON.parse(readFileSync(file, 'utf8')) as AbReport;
    const bRun = rep.runs.find((x) => x.side === 'b')!;
    expect(bRun.outcome.settings_applied.map((c) => [c.host, c.id, c.after])).toEqual([['g3', KEY, other], ['g4', KEY, other]]);
    expect([2, 3, 4].map((k) => s.sysctl(k, KEY))).toEqual(orig);
    nothingLeft();
  }, 90000);

  it('the orchestrator SIGKILLed mid-run: the remote setting is restored and no remote mcbench is left within 10 s', async () => {
    const orig = s.sysctl(3, KEY);
    const other = orig === '2' ? '3' : '2';
    const run = s.mcbench(['run', '--hosts', inv, '-t', '20', '--pps', '1000', '--set', `${KEY}=${other}`], 60000);
    await until('the setting applied on g3 and the receivers running', () => s.sysctl(3, KEY) === other && s.mcbenchPids(4).length > 0 && s.mcbenchPids(2).length > 0, 20000);
    await sleep(500);
    run.child.kill('SIGKILL');
    const killed = Date.now();
    await until('g3 and g4 restored, no mcbench left on g2..g4', () =>
      s.sysctl(3, KEY) === orig && s.sysctl(4, KEY) === orig && [2, 3, 4].every((k) => s.mcbenchPids(k).length === 0), 10000);
    expect(Date.now() - killed).toBeLessThan(10000);
    // the masters end by themselves once their session's stdin is gone
    await until('no ssh left in g1', () => sshPids().length === 0, 5000);
    await run.done;
    // its ControlPath folder (empty: each master removed its socket) goes with the next run's sweep
    const left = controlDirs().filter((d) => !controlBefore.includes(d));
    expect(left).toHaveLength(1);
    expect(readdirSync(join(tmpdir(), left[0]!))).toEqual([]);
  }, 60000);

  it('a host lost mid-run: one line naming it with ssh\'s reason, exit 1; the others stopped and restored', async () => {
    const orig = s.sysctl(3, KEY);
    const other = orig === '2' ? '3' : '2';
    const run = s.mcbench(['run', '--hosts', inv, '-t', '20', '--pps', '1000', '--set', `${KEY}=${other}`], 60000);
    const base = udpIn(4);
    // mid-traffic: g4's kernel has delivered a second of the sender's datagrams
    await until('g4 receiving traffic', () => s.sysctl(3, KEY) === other && udpIn(4) - base > 1000, 20000);
    // everything in g4 but its sshd listener: the connection's sshd and the remote mcbench
    const listener = Number(readFileSync(join(s.dir, 'sshd-g4.pid'), 'utf8').trim());
    const pids = spawnSync('ip', ['netns', 'pids', s.lab.guest(4).netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) if (pid !== listener) process.kill(pid, 'SIGKILL');
    const r = await run.done;
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('mcbench run:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^mcbench run: g4: connection lost: .*(closed|reset|broken)/i);
    expect(s.sysctl(3, KEY)).toBe(orig);
    nothingLeft();
    // g4's holder died with the connection (SIGKILL): its restore record there is repaired by hosts restore
    expect(s.sysctl(4, KEY)).toBe(other);
    const fix = await s.mcbench(['hosts', 'restore', inv]).done;
    expect(fix.code, fix.stderr).toBe(0);
    expect(fix.stdout).toContain(`g4: restored ${KEY}=${orig}`);
    expect(s.sysctl(4, KEY)).toBe(orig);
  }, 60000);

  it('an unreachable host: exit 1 naming it with ssh\'s reason, nothing left running or changed', async () => {
    const orig = s.sysctl(3, KEY);
    const file = s.file('gone.yaml', inventory(host('g2') + host('g3') + `  gone: { ssh: nosshd, interface: eth0, mcbench: ${MCB} }\n`, 'g2', ['g3', 'gone']));
    const r = await s.mcbench(['run', '--hosts', file, '-t', '1', '--set', `${KEY}=2`]).done;
    expect(r.code).toBe(1);
    const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('mcbench run:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^mcbench run: gone: cannot connect to nosshd: ssh: connect to host \S+ port 22: Connection refused/);
    expect(s.sysctl(3, KEY)).toBe(orig);
    nothingLeft();
  });

  it('a version mismatch on a host is refused, naming the host', async () => {
    const fake = s.file('fake-mcbench', '#!/bin/sh\necho 9.9.9\n', 0o755);
    const file = s.file('old.yaml', inventory(host('g2') + `  g3: { ssh: g3, interface: eth0, mcbench: ${fake} }\n`, 'g2', ['g3']));
    const r = await s.mcbench(['run', '--hosts', file, '-t', '1']).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mcbench run: g3: mcbench 9\.9\.9 on g3 does not work with this mcbench \d+\.\d+\.\d+/m);
    const c = await s.mcbench(['hosts', 'check', file]).done;
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/mcbench hosts check: missing: g3: mcbench 9\.9\.9 on g3/);
    nothingLeft();
  });

  it('hosts restore: what a SIGKILLed holder left on a host is put back', async () => {
    const orig = s.sysctl(3, KEY);
    const other = orig === '2' ? '3' : '2';
    // a `settings apply --hold` on g3 killed with SIGKILL leaves its restore record in g3's /run
    const js = `const c=require('child_process').spawn(process.execPath,['${MCB}','settings','apply','--hold','${KEY}=${other}'],{stdio:['pipe','ignore','inherit']});setTimeout(()=>{c.kill('SIGKILL');process.exit(0)},2000)`;
    const kill = `node -e "${js}"`;
    const k = await new Promise<number | null>((resolve) => s.spawnInOrchestrator(['ssh', 'g3', kill]).on('exit', resolve));
    expect(k).toBe(0);
    expect(s.sysctl(3, KEY)).toBe(other);
    const r = await s.mcbench(['hosts', 'restore', inv]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`g3: restored ${KEY}=${orig}`);
    expect(r.stdout).toContain('g2: nothing to restore');
    expect(s.sysctl(3, KEY)).toBe(orig);
    nothingLeft();
  });
});
