// Issue 11 item 2: force_igmp_version=2 on a receiver makes SSM fail silently behind an SSM
// router. Three namespaces made here: a sender, `mcbench ssm-router` (kernel multicast routing,
// MRT_INIT) with an upstream veth to the sender and a downstream veth to the receiver, and the
// receiver. Variant A: the receiver pinned to IGMPv2 joins (S,G); its report leaves without a
// source, the router ignores it (RFC 4604 2.2.1; counted), no route is made and the receiver gets
// nothing, with no error. Variant B: the kernel's default (IGMPv3) report names S, the router adds
// (S,G) and the receiver gets every datagram the sender says it sent. Everything removed after.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import type { RunReport } from '../src/core/run-report.js';
import type { NativeSsmRouterSnapshot } from '../src/native.js';
import { MCBENCH, Running } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const NS = { sender: 'mcbg-ssm-s', router: 'mcbg-ssm-r', receiver: 'mcbg-ssm-x' } as const;
const SENDER = '10.77.1.2';
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ssm-router-'));

const ipq = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
function ip(args: string[]): void {
  const r = ipq(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}
const exec = (ns: string, args: string[]) => ip(['netns', 'exec', ns, ...args]);
const mcbench = (ns: string, args: string[], timeoutMs = 20000) =>
  new Running(spawn('ip', ['netns', 'exec', ns, process.execPath, MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
const removeAll = () => { for (const ns of Object.values(NS)) ipq(['netns', 'del', ns]); };

function lastSnapshot(router: Running): NativeSsmRouterSnapshot {
  const lines = router.stdout.trim().split('\n').filter((l) => l.startsWith('{"igmpPackets"'));
  const last = lines[lines.length - 1];
  if (last === undefined) throw new Error(`the router printed no counters: ${router.stdout}${router.stderr}`);
  return JSON.parse(last) as NativeSsmRouterSnapshot;
}
async function until(what: string, f: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!isRoot)('ssm-router: force_igmp_version=2 behind an SSM router', () => {
  let router: Running;
  beforeAll(async () => {
    removeAll();
    for (const ns of Object.values(NS)) ip(['netns', 'add', ns]);
    // both veths made inside the router's namespace, their peers moved straight into the guests
    ip(['-n', NS.router, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.sender]);
    ip(['-n', NS.router, 'link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.receiver]);
    exec(NS.router, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    // pinned before the link goes up (variant A runs first): measured, a pin written just after
    // link-up still lets the kernel's pending IGMPv3 state-change timer (armed at link-up) send
    // one v3 report naming S when the join comes, and the router then forwards
    exec(NS.receiver, ['sysctl', '-q', '-w', 'net.ipv4.conf.eth0.force_igmp_version=2']);
    for (const [ns, dev, addr] of [[NS.router, 'up0', '10.77.1.1/24'], [NS.router, 'down0', '10.77.2.1/24'], [NS.sender, 'eth0', `${SENDER}/24`], [NS.receiver, 'eth0', '10.77.2.2/24']] as const) {
      ip(['-n', ns, 'link', 'set', 'dev', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', addr, 'dev', dev]);
      ip(['-n', ns, 'link', 'set', 'dev', dev, 'up']);
    }
    ip(['-n', NS.sender, 'route', 'add', 'default', 'via', '10.77.1.1']);
    ip(['-n', NS.sender, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    ip(['-n', NS.receiver, 'route', 'add', 'default', 'via', '10.77.2.1']);
    ip(['-n', NS.receiver, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    router = mcbench(NS.router, ['ssm-router', '--up', 'up0', '--down', 'down0', '--query-interval', '5'], 60000);
    await router.waitFor('"igmpPackets"'); // its first counters line: VIFs made, the loop running
  }, 30000);
  afterAll(async () => {
    if (router.child.exitCode === null) router.child.kill('SIGTERM');
    await router.done;
    removeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const variant = async (force: 0 | 2, group: string) => {
    exec(NS.receiver, ['sysctl', '-q', '-w', `net.ipv4.conf.eth0.force_igmp_version=${force}`]);
    const before = lastSnapshot(router);
    const rxFile = join(dir, `recv-${force}.json`);
    const txFile = join(dir, `send-${force}.json`);
    const rx = mcbench(NS.receiver, ['recv', '-g', group, '-I', 'eth0', '--source', SENDER, '-t', '3', '-i', '0', '--json', rxFile]);
    await rx.waitFor('listening on');
    // the join's unsolicited report has reached the router: ignored (v2) or routed (v3)
    await until('the router to hear the report', () => {
      const s = lastSnapshot(router);
      return force === 2 ? s.ignoredV1V2Ssm > before.ignoredV1V2Ssm : s.routes.some((r) => r.group === group && r.source === SENDER);
    });
    const tx = await mcbench(NS.sender, ['send', '-g', group, '-I', 'eth0', '--ttl', '8', '--pps', '2000', '-n', '2000', '-l', '200', '-i', '0', '-q', '--json', txFile]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const r = await rx.done;
    const sent = (JSON.parse(readFileSync(txFile, 'utf8')) as SenderResult).end.packets;
    const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
    return { sent, got, code: r.code, stderr: r.stderr, snap: lastSnapshot(router), before };
  };

  it('A: force_igmp_version=2, the (S,G) join leaves as an IGMPv2 report: ignored, nothing forwarded', async () => {
    const { sent, got, code, stderr, snap, before } = await variant(2, '232.1.1.1');
    console.log(`ssm-router A (v2): sent ${sent}, received ${got.end.datagrams}, receiver exit ${code}; router ignoredV1V2Ssm ${before.ignoredV1V2Ssm} -> ${snap.ignoredV1V2Ssm}, routes ${JSON.stringify(snap.routes)}`);
    expect(sent).toBe(2000);
    expect(got.end.datagrams).toBe(0);
    expect(snap.ignoredV1V2Ssm).toBeGreaterThan(before.ignoredV1V2Ssm);
    expect(snap.routes.filter((x) => x.group === '232.1.1.1')).toEqual([]);
    expect(stderr).not.toMatch(/error/i); // silent: the join itself succeeded
  }, 25000);

  it('B: force_igmp_version=0 (IGMPv3), the report names S: (S,G) routed, everything received', async () => {
    const { sent, got, snap } = await variant(0, '232.1.1.2');
    console.log(`ssm-router B (v3): sent ${sent}, received ${got.end.sum.packets} (lost ${got.end.sum.lost_packets}); router v3Reports ${snap.v3Reports}, routes ${JSON.stringify(snap.routes)}`);
    expect(got.end.sum).toMatchObject({ packets: sent, lost_packets: 0 });
    expect(snap.routes).toContainEqual({ source: SENDER, group: '232.1.1.2' });
  }, 25000);
});

// The same story through the lab and `mcbench run` (the lab's spec ssmRouter puts g2 behind the
// router): the table, the conclusion and the diagnosis name what happened, and the lab, its
// router namespace and the router process are gone afterwards.
describe.skipIf(!isRoot)('run --scenario ssm-igmpv2', () => {
  const LAB = 'ssmrt';
  const runDir = mkdtempSync(join(tmpdir(), 'mcbench-ssm-run-'));
  afterAll(() => {
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]);
    rmSync(runDir, { recursive: true, force: true });
  });

  it('default (g2 pinned to IGMPv2) receives 0 with no error, tuned (IGMPv3) all that g1 sent; the diagnosis names force_igmp_version', async () => {
    const file = join(runDir, 'run.json');
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '--scenario', 'ssm-igmpv2', '--lab-name', LAB, '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 60000).done;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const [a, b] = report.variants;
    const sentA = a!.sender!.end.packets;
    const sentB = b!.sender!.end.packets;
    const gotA = a!.receivers[0]!.result!.end;
    const gotB = b!.receivers[0]!.result!.end;
    console.log(`run ssm-igmpv2: default sent ${sentA}, g2 received ${gotA.datagrams} (exit ${a!.receivers[0]!.exit_code}); tuned sent ${sentB}, g2 received ${gotB.sum.packets} lost ${gotB.sum.lost_packets}`);
    expect(sentA).toBeGreaterThan(1000);
    expect(gotA.datagrams).toBe(0);
    expect(a!.receivers[0]!.exit_code).toBe(0);
    expect(gotB.sum).toMatchObject({ packets: sentB, lost_packets: 0 });
    expect(r.stdout).toMatch(/default: g2 received nothing of the [\d,]+ sent, with no error: it is pinned to IGMPv2 \(net\.ipv4\.conf\.eth0\.force_igmp_version=2\)/);
    expect(r.stdout).toMatch(/tuned fixed it/);
    // nothing of the lab left: namespaces (guests and the router), links, the router process
    expect(ipq(['netns', 'list']).stdout).not.toMatch(new RegExp(`mcb-${LAB}-`));
    expect(ipq(['link', 'show']).stdout).not.toMatch(new RegExp(`mcb-${LAB}-`));
    expect(spawnSync('pgrep', ['-f', 'ssm-router --up up0 --down down0 --query-interval 10'], { encoding: 'utf8' }).stdout.trim()).toBe('');
  }, 60000);
});
