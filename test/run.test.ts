// `mcbench demo` and `mcbench run` end to end on real labs (root), and the promise that nothing
// outlives them: no namespace, no link, net.core.rmem_max as it was, also after SIGINT and SIGKILL.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AbReport } from '../src/core/ab.js';
import type { RunReport } from '../src/core/run-report.js';
import { MCBENCH, Running } from './helpers/netns.js';

const RMEM_MAX = '/proc/sys/net/core/rmem_max';
const readRmemMax = () => readFileSync(RMEM_MAX, 'utf8').trim();
const dir = mkdtempSync(join(tmpdir(), 'mcbench-run-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const started: Running[] = [];

function mcbench(args: string[], timeoutMs = 60000): Running {
  const r = new Running(spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  started.push(r);
  return r;
}
function hostState(prefix: string) {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith(prefix));
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(prefix));
  return { netns, links, stateFile: existsSync(`/run/mcbench/labs/${prefix.slice(4, -1)}.json`) };
}
const restoreRecords = () => (existsSync('/run/mcbench/restore') ? readdirSync('/run/mcbench/restore') : []);

afterEach(async () => {
  for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  // Whatever a failed test left: lab down removes it and restores any recorded sysctl.
  for (const name of ['demo', 'sig', 'kill', 'q', 'cus', 'run']) spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', name]);
});

describe('mcbench demo', () => {
  it('default vs tuned rmem_max: the clamped buffer drops, the raised limit does not; nothing left behind', async () => {
    const before = readRmemMax();
    const file = join(dir, 'demo.json');
    const r = await mcbench(['demo', '--lab-name', 'demo', '--json', file]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(readRmemMax()).toBe(before);
    expect(hostState('mcb-demo-')).toEqual({ netns: [], links: [], stateFile: false });
    expect(restoreRecords()).toEqual([]);
    // The table: a row per receiver per variant, then the conclusion.
    expect(r.stdout).toMatch(/^default\s+g2\s/m);
    expect(r.stdout).toMatch(/^default\s+g3\s/m);
    expect(r.stdout).toMatch(/^tuned\s+g2\s/m);
    expect(r.stdout).toMatch(/^tuned\s+g3\s/m);
    expect(r.stdout).toMatch(/^tuned fixed it: net\.core\.rmem_max=26214400/m);

    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    expect(report.schema).toBe('mcbench/run@1');
    const [def, tuned] = report.variants;
    expect(def!.settings_applied).toEqual([{ id: 'net.core.rmem_max', before, after: '212992' }]);
    for (const v of [def!, tuned!]) {
      expect(v.receivers).toHaveLength(2);
      for (const rx of v.receivers) {
        const e = rx.result!.end;
        const s = e.sessions[0]!;
        // Truth from the sender's own count (FIN), not from anything the receiver derived.
        expect(s.sender_packets).toBe(v.sender!.end.packets);
        expect(s.lost_packets).toBe(v.sender!.end.packets - s.packets);
        // Every lost packet is accounted for by this socket's kernel drop counter (plus lost FINs).
        expect(e.socket_overflow_drops).toBeGreaterThanOrEqual(s.lost_packets);
        expect(e.socket_overflow_drops).toBeLessThanOrEqual(s.lost_packets + 5);
        expect(e.loss_attribution.socket_buffer.count).toBe(s.lost_packets);
        expect(rx.result!.start.settings!.entries.find((x) => x.id === 'net.core.rmem_max')!.value).toBe(v === def ? 212992 : 26214400);
      }
    }
    for (const rx of def!.receivers) {
      expect(rx.result!.end.socket).toMatchObject({ rcvbuf_actual: 2 * 212992, rcvbuf_clamped: true, rmem_max: 212992 });
      expect(rx.result!.end.warnings.join('\n')).toContain('sysctl -w net.core.rmem_max=26214400');
    }
    expect(Math.max(...def!.receivers.map((rx) => rx.result!.end.sum.lost_packets))).toBeGreaterThan(0);
    for (const rx of tuned!.receivers) {
      expect(rx.result!.end.socket).toMatchObject({ rcvbuf_actual: 2 * 26214400, rcvbuf_clamped: false });
      expect(rx.result!.end.sum.lost_packets).toBe(0);
    }
  });
});

describe('mcbench run --scenario seed-002-querier', () => {
  it('a snooping bridge without querier stalls once the upstream querier is quiet; the bridge querier keeps it flowing', async () => {
    const file = join(dir, 'q.json');
    const r = await mcbench(['run', '--scenario', 'seed-002-querier', '--lab-name', 'q', '--json', file], 90000).done;
    expect(r.code, r.stderr).toBe(0);
    expect(hostState('mcb-q-')).toEqual({ netns: [], links: [], stateFile: false });
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const [def, tuned] = report.variants;
    // The knobs really were on the bridge (read back from sysfs by the run).
    expect(def!.bridge).toMatchObject({ multicast_snooping: 1, multicast_querier: 0, multicast_membership_interval: 400 });
    expect(tuned!.bridge).toMatchObject({ multicast_snooping: 1, multicast_querier: 1 });
    for (const rx of def!.receivers) {
      const e = rx.result!.end;
      // A stall of seconds in the middle of the run, then traffic back (flooding resumes).
      expect(e.stalls.length, rx.guest).toBeGreaterThanOrEqual(1);
      expect(e.stalls[0]!.seconds).toBeGreaterThanOrEqual(3);
      expect(e.stalls[0]!.resumed).toBe(true);
      // The lost packets are the stall's, not the socket's: 10 pps for the stall's length.
      expect(e.socket_overflow_drops).toBe(0);
      expect(e.sum.lost_packets).toBeGreaterThanOrEqual(25);
      expect(e.sessions[0]!.sender_packets).toBe(def!.sender!.end.packets);
    }
    for (const rx of tuned!.receivers) expect(rx.result!.end.stalls, rx.guest).toEqual([]);
    expect(r.stdout).toMatch(/^tuned \(multicast_querier 1: .*\) kept traffic flowing: \d+ stall\(s\) with default, none with tuned/m);
    expect(r.stdout).toContain('Fix: echo 1 > /sys/class/net/mcb-q-br/bridge/multicast_querier');
  }, 90000);
});

describe('mcbench run with your own flags', () => {
  it('one scenario from flags: every receiver counted against the sender, the sysctl set for the run and restored', async () => {
    const before = readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim();
    const file = join(dir, 'custom.json');
    const r = await mcbench(['run', '--pps', '4000', '-l', '300', '-t', '1.5', '--receivers', '3', '--lab-name', 'cus',
      '--set', 'net.core.rmem_default=262144', '--json', file]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim()).toBe(before);
    expect(hostState('mcb-cus-')).toEqual({ netns: [], links: [], stateFile: false });
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const v = report.variants[0]!;
    expect(v.settings_applied).toEqual([{ id: 'net.core.rmem_default', before, after: '262144' }]);
    expect(v.sender!.end.packets).toBe(6000);
    expect(v.receivers.map((x) => x.guest)).toEqual(['g2', 'g3', 'g4']);
    for (const rx of v.receivers) {
      expect(rx.result!.end.sessions[0]!.packets).toBe(6000);
      expect(rx.result!.end.socket.rcvbuf_actual).toBe(262144); // the default the run set
    }
  });

  it('bad flags fail once, before any lab is made', async () => {
    for (const [args, msg] of [
      [['run', '--set', 'no.such.knob=1'], 'mcbench run: --set: no.such.knob is not a sysctl on this host (no /proc/sys/no/such/knob)'],
      [['run', '--set', 'rmem'], "mcbench run: --set: 'rmem' is not KEY=VALUE (e.g. --set net.core.rmem_max=26214400)"],
      [['run', '--receivers', '16'], 'mcbench run: --receivers: 16 is out of range (1 to 15)'],
      [['run', '-g', '10.1.1.1'], 'mcbench run: -g/--group: 10.1.1.1 is not a multicast address (valid range 224.0.0.0 to 239.255.255.255, or an IPv6 group in ff00::/8)'],
      [['run', '--scenario', 'seed-999'], "mcbench run: --scenario: 'seed-999' is not a scenario (one of: seed-001-rmem, seed-002-querier, seed-002-querier-ipv6, burst-rmem, ssm-igmpv2)"],
    ] as Array<[string[], string]>) {
      const r = await mcbench(args).done;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(msg);
    }
    expect(hostState('mcb-run-')).toEqual({ netns: [], links: [], stateFile: false });
  });
});

describe('mcbench ab', () => {
  it('interleaves A and B after a warm-up, applies each side\'s settings per run, restores them, and summarises what it measured', async () => {
    const before = readRmemMax();
    const file = join(dir, 'ab.json');
    const r = await mcbench(['ab', '--local', '--a', 'net.core.rmem_max=212992', '--b', 'net.core.rmem_max=26214400', '--a-name', 'small', '--b-name', 'big',
      '--rcvbuf', '25M', '--bandwidth', '0', '-t', '1', '--reps', '3', '--warmup', '1', '--receivers', '1', '--json', file], 120000).done;
    expect(readRmemMax()).toBe(before);
    expect(restoreRecords()).toEqual([]);
    expect([0, 1]).toContain(r.code); // 1 only if a run came back partial
    const report = JSON.parse(readFileSync(file, 'utf8')) as AbReport;
    expect(report.schema).toBe('mcbench/ab@1');
    expect(report.runs.map((x) => `${x.side}${x.warmup ? 'w' : x.rep}`)).toEqual(['aw', 'bw', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
    for (const run of report.runs) {
      const want = run.side === 'a' ? '212992' : '26214400';
      expect(run.outcome.settings_applied).toEqual([{ id: 'net.core.rmem_max', before, after: want }]);
      const rx = run.outcome.receivers[0]!.result!;
      expect(rx.end.socket.rcvbuf_clamped).toBe(run.side === 'a');
      // The per-run metric is the receiver's own figure, and the summary is built from exactly those.
      expect(run.metrics!.lost_percent).toBe(rx.end.sum.lost_percent);
    }
    const measured = (side: 'a' | 'b') => report.runs.filter((x) => x.side === side && !x.warmup).map((x) => x.outcome.receivers[0]!.result!.end.sum.lost_percent);
    const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
    expect(report.summary.a.lost_percent.n).toBe(3);
    expect(report.summary.a.lost_percent.mean).toBeCloseTo(mean(measured('a')), 12);
    expect(report.summary.b.lost_percent.mean).toBeCloseTo(mean(measured('b')), 12);
    expect(r.stdout).toMatch(/^small\s+3\s/m);
    expect(r.stdout).toMatch(/^big\s+3\s/m);
    expect(r.stdout).toMatch(/^loss: /m);
  }, 120000);

  it('bad input: one line, exit 2, nothing made', async () => {
    for (const [args, msg] of [
      [['ab'], 'mcbench ab: --a/--b: give the settings to compare, e.g. --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400'],
      [['ab', '--a', 'no.such=1'], 'mcbench ab: --a: no.such is not a sysctl on this host (no /proc/sys/no/such)'],
      [['ab', '--a', 'net.core.rmem_max=212992', '--reps', '0'], 'mcbench ab: --reps: 0 is out of range (1 to 100)'],
    ] as Array<[string[], string]>) {
      const res = await mcbench(args).done;
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr.trim()).toBe(msg);
    }
  });
});

describe('without a lab', () => {
  it('run --local: seed-001 on lo in a private namespace, the same story without a bridge', async () => {
    const before = readRmemMax();
    const file = join(dir, 'local.json');
    const r = await mcbench(['run', '--scenario', 'seed-001-rmem', '--local', '--json', file]).done;
    expect(r.code, r.stderr).toBe(0);
    expect(readRmemMax()).toBe(before);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const [def, tuned] = report.variants;
    expect(def!.bridge).toBeNull();
    for (const v of [def!, tuned!]) {
      for (const rx of v.receivers) {
        expect(rx.result!.start.config.interface).toBe('lo');
        expect(rx.result!.end.sessions[0]!.sender_packets).toBe(v.sender!.end.packets);
        expect(rx.result!.end.loss_attribution.socket_buffer.count).toBe(rx.result!.end.sum.lost_packets);
      }
    }
    expect(def!.receivers.every((rx) => rx.result!.end.socket.rcvbuf_clamped)).toBe(true);
    expect(tuned!.receivers.every((rx) => !rx.result!.end.socket.rcvbuf_clamped)).toBe(true);
  });

  it('--local refuses a scenario that needs the bridge, naming the flag', async () => {
    const r = await mcbench(['run', '--scenario', 'seed-002-querier', '--local']).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("mcbench run: --local: seed-002-querier needs the lab's bridge; run it without --local (as root)");
  });

  it('demo without root: says what it needs, then falls back to loopback in a user namespace', async () => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MCBENCH, 'demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: '/',
    });
    const r = await new Running(child, 60000).done;
    expect(r.stderr).toContain('the full demo needs root');
    expect(r.stderr).toContain('unshare -rn');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^host\s+g2\s/m);
    expect(r.stdout).toMatch(/^host\s+g3\s/m);
    expect(r.stdout).toContain('run the demo as root');
  });
});

describe('cleanup under signals', () => {
  it('SIGKILL of a receiver and SIGINT of the orchestrator: partial, lab gone, rmem_max restored', async () => {
    const before = readRmemMax();
    const run = mcbench(['run', '--scenario', 'seed-001-rmem', '--variant', 'default', '--lab-name', 'sig', '--json', join(dir, 'sig.json')]);
    await run.waitFor('sending for', 20000);
    const pids = spawnSync('ip', ['netns', 'pids', 'mcb-sig-g2'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    expect(pids.length).toBeGreaterThan(0);
    for (const p of pids) process.kill(Number(p), 'SIGKILL');
    expect(readRmemMax()).toBe('212992'); // the run's setting is in force while it runs
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130); // partial, cut short by SIGINT (one convention for every command)
    expect(readRmemMax()).toBe(before);
    expect(hostState('mcb-sig-')).toEqual({ netns: [], links: [], stateFile: false });
    const report = JSON.parse(readFileSync(join(dir, 'sig.json'), 'utf8')) as RunReport;
    expect(report.partial).toBe(true);
    expect(report.variants[0]!.receivers.find((x) => x.guest === 'g2')!.result).toBeNull();
    expect(restoreRecords()).toEqual([]);
  });

  it('SIGKILL of the orchestrator itself: `lab down` removes the lab and restores rmem_max', async () => {
    const before = readRmemMax();
    const run = mcbench(['run', '--scenario', 'seed-001-rmem', '--variant', 'tuned', '--lab-name', 'kill']);
    await run.waitFor('sending for', 20000);
    run.child.kill('SIGKILL');
    await run.done;
    expect(readRmemMax()).toBe('26214400'); // nobody could restore it: SIGKILL cannot be caught
    const down = await mcbench(['lab', 'down', '--name', 'kill']).done;
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain(`restored net.core.rmem_max=${before}`);
    expect(readRmemMax()).toBe(before);
    expect(hostState('mcb-kill-')).toEqual({ netns: [], links: [], stateFile: false });
    expect(restoreRecords()).toEqual([]);
  });
});
