// RTT mode (issue 11 item 3): mcbench ping with reflectors (mcbench pong) in a lab's guests
// (veth + bridge). Checked against truth mcbench's ping did not produce: the reflectors' own
// counts of the probes they received and answered, a reflector killed midway, replies forged by a
// python3 script written from the wire format, and the namespaces' one shared clock (the true
// offset is 0, so every NTP estimate must lie within its RTT / 2).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyReflectorFromProbe0, reflectorLoss, type PongResult, type RttReflector, type RttResult } from '../src/core/rtt.js';
import { MCBENCH, ROOT, Running, mcbenchNoNet, type TestNetns } from './helpers/netns.js';
import { tcpdump } from './helpers/pcap.js';
import { SshLab } from './helpers/sshd.js';

const isRoot = process.getuid?.() === 0;
const LAB = 'rtt';
const netns = (k: number) => `mcb-${LAB}-g${k}`;
// a guest's IPv4 address (the lab picks its subnet)
const address = (k: number): string => {
  const rows = JSON.parse(spawnSync('ip', ['-n', netns(k), '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout) as Array<{ addr_info: Array<{ local: string }> }>;
  return rows[0]!.addr_info[0]!.local;
};
const inGuest = (k: number, cmd: string, args: string[], timeoutMs = 30000) =>
  new Running(spawn('ip', ['netns', 'exec', netns(k), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
const mcbenchIn = (k: number, args: string[], timeoutMs = 30000) => inGuest(k, process.execPath, [MCBENCH, ...args], timeoutMs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const reflectorId = (r: Running) => /reflector ([0-9a-f]{16})/.exec(r.stdout)![1]!;
// the capture helper only spawns in its namespace: a lab guest stands in for a TestNetns
const guestNs = (k: number) => ({ spawn: (cmd: string, args: string[]) => spawn('ip', ['netns', 'exec', netns(k), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) }) as unknown as TestNetns;

/** Probes and replies in a nanosecond pcap of Ethernet/IPv4/UDP, read by offsets from the wire format (wire.h). */
function capturedRtt(file: string) {
  const b = readFileSync(file);
  const probes = new Map<bigint, bigint>(); // seq -> capture ns
  const replies: Array<{ ns: bigint; seq: bigint; reflector: string }> = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const ns = BigInt(b.readUInt32LE(off)) * 1_000_000_000n + BigInt(b.readUInt32LE(off + 4));
    const frame = b.subarray(off + 16, off + 16 + b.readUInt32LE(off + 8));
    off += 16 + b.readUInt32LE(off + 8);
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const p = frame.subarray(14 + (frame[14]! & 0x0f) * 4 + 8);
    if (p.length < 32 || p.subarray(0, 4).toString('latin1') !== 'MCB1' || p[4] !== 1) continue;
    if (p[5] === 3) probes.set(p.readBigUInt64BE(16), ns);
    else if (p[5] === 4 && p.length >= 72) replies.push({ ns, seq: p.readBigUInt64BE(16), reflector: p.readBigUInt64BE(32).toString(16).padStart(16, '0') });
  }
  // per reflector: wire round trips (reply capture - probe capture), ms, sorted
  const rtts = new Map<string, number[]>();
  for (const r of replies) {
    const sent = probes.get(r.seq);
    if (sent === undefined) continue;
    const list = rtts.get(r.reflector) ?? [];
    list.push(Number(r.ns - sent) / 1e6);
    rtts.set(r.reflector, list);
  }
  for (const l of rtts.values()) l.sort((x, y) => x - y);
  return { probes: probes.size, rtts };
}

describe.skipIf(!isRoot)('mcbench ping / pong in a lab', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcbench-rtt-'));
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]);
    const up = spawnSync(process.execPath, [MCBENCH, 'lab', 'up', '--name', LAB, '--guests', '3'], { encoding: 'utf8' });
    expect(up.status, up.stderr).toBe(0);
  }, 60000);
  afterAll(() => {
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('three reflectors (two on one address), one killed midway, forged replies: RTT per reflector, loss for the killed one only, the forgeries counted and ignored', async () => {
    const G = '239.255.41.1';
    const pong = (k: number, name: string) => mcbenchIn(k, ['pong', '-g', G, '-I', 'eth0', '-t', '30', '--json', join(dir, `${name}.json`)]);
    // A and C share g2's address and port: only their ids tell them apart
    const a = pong(2, 'a');
    const b = pong(3, 'b');
    const c = pong(2, 'c');
    for (const p of [a, b, c]) await p.waitFor('reflector ');
    const forger = inGuest(3, 'python3', [join(ROOT, 'test/helpers/forge_rtt_replies.py'), G, '5001', address(3), reflectorId(a)]);
    await forger.waitFor('joined');
    // the truth on the wire: g1's eth0, where the probes leave and the replies arrive
    const cap = await tcpdump(guestNs(1), 'eth0', 5001, dir);
    const pingJson = join(dir, 'ping.json');
    const ping = mcbenchIn(1, ['ping', '-g', G, '-I', 'eth0', '--rate', '100', '-t', '2.5', '--wait', '0.5', '--json', pingJson]);
    await sleep(1200);
    c.child.kill('SIGKILL');
    const done = await ping.done;
    expect(done.code, done.stderr).toBe(0);
    expect((await forger.done).stdout).toContain('forged 7');
    await cap.stop();
    a.child.kill('SIGINT');
    b.child.kill('SIGINT');
    for (const p of [a, b]) expect((await p.done).code).toBe(130);
    const r = JSON.parse(readFileSync(pingJson, 'utf8')) as RttResult;
    const pa = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as PongResult;
    const pb = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as PongResult;

    expect(r.schema).toBe('mcbench/rtt@1');
    for (const [type, doc] of [['RttResult', r], ['PongResult', pa]] as const) {
      const validate = new Ajv({ strict: false }).compile(rttSchema(type));
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    }
    const byId = new Map(r.reflectors.map((x) => [x.reflector_id, x]));
    expect([...byId.keys()].sort()).toEqual([reflectorId(a), reflectorId(b), reflectorId(c)].sort());
    const ra = byId.get(reflectorId(a))!;
    const rb = byId.get(reflectorId(b))!;
    const rc = byId.get(reflectorId(c))!;
    expect(ra.address).toBe(`${address(2)}:5001`);
    expect(rc.address).toBe(`${address(2)}:5001`);
    expect(rb.address).toBe(`${address(3)}:5001`);

    // 2.5 s at 100/s; the reflectors' own counts: every probe reached them, every reply came back
    const sent = r.probes.sent;
    const captured = capturedRtt(cap.file);
    expect(captured.probes).toBe(sent);
    expect(sent).toBeGreaterThanOrEqual(240);
    expect(sent).toBeLessThanOrEqual(251);
    for (const [x, own] of [[ra, pa], [rb, pb]] as Array<[RttReflector, PongResult]>) {
      expect(own.probes).toBe(sent);
      expect(own.replies).toBe(sent);
      expect(x.first_seq).toBe(0);
      expect(x.expected).toBe(sent);
      expect(x.replies).toBe(sent);
      expect([x.lost, x.lost_forward, x.lost_return, x.lost_unknown_direction]).toEqual([0, 0, 0, 0]);
      // plausible on veth + bridge, and the reflector's processing time taken out
      const rtt = x.rtt!;
      const round = x.round_trip!;
      const proc = x.processing!;
      expect(rtt.count).toBe(sent);
      expect(rtt.min_ms).toBeGreaterThan(0);
      expect(rtt.max_ms).toBeLessThan(50);
      expect(proc.min_ms).toBeGreaterThanOrEqual(0);
      expect(rtt.min_ms).toBeLessThanOrEqual(round.min_ms);
      expect(rtt.max_ms).toBeLessThanOrEqual(round.max_ms);
      expect(rtt.mean_ms).toBeLessThan(round.mean_ms); // t3 - t2 > 0 on average: a thread wakes up between
      expect(round.mean_ms - rtt.mean_ms).toBeCloseTo(proc.mean_ms, 6);
      // against the capture: the same replies, and t4 - t1 is the wire round trip plus the ping's
      // own send path (t1 is read before sendto, t4 is the receive stamp the capture shares)
      const wire = captured.rtts.get(x.reflector_id)!;
      expect(wire).toHaveLength(x.replies);
      const median = wire[Math.floor(wire.length / 2)]!;
      expect(round.min_ms).toBeGreaterThanOrEqual(wire[0]! - 0.001);
      expect(round.p50_ms).toBeGreaterThanOrEqual(median * 0.999 - 0.001);
      expect(round.p50_ms - median).toBeLessThan(1);
      // one clock for every namespace: the true offset is 0, and each estimate is within RTT / 2
      const off = x.clock_offset!;
      expect(Math.abs(off.best_ms)).toBeLessThanOrEqual(off.error_ms + 1e-6);
      expect(Math.max(Math.abs(off.min_ms), Math.abs(off.max_ms))).toBeLessThanOrEqual(rtt.max_ms / 2 + 1e-6);
    }
    // C answered until it was killed (~1.2 s in): the rest is lost, its direction unknown
    expect(rc.replies).toBeGreaterThan(50);
    expect(rc.replies).toBeLessThan(sent - 50);
    expect(rc.lost).toBe(rc.expected - rc.replies);
    expect(rc.lost_unknown_direction).toBe(rc.lost);
    expect(rc.lost_forward + rc.lost_return).toBe(0);
    expect(rc.loss_percent).toBeGreaterThan(20);

    // the forgeries: counted, never a reflector, never a sample (A's and B's counts are exact above)
    expect(r.replies).toMatchObject({ malformed: 2, other_session: 1, unknown_probe: 2, implausible: 1, source_mismatch: 1, duplicates: 0, late: 0 });
    expect(r.replies.recorded).toBe(ra.replies + rb.replies + rc.replies);
    expect(r.replies.datagrams).toBe(r.replies.recorded + 7);
    // the table names every reflector and the ignored replies
    expect(done.stdout).toContain(`${address(2)}:5001 ${reflectorId(c).slice(0, 8)}`);
    expect(done.stdout).toMatch(/ignored replies: 2 malformed, 1 another ping's session, 2 no such probe sent \(forged\), 1 impossible stamps, 1 a reflector's id from another address/);
  }, 60000);

  it('over IPv6 (a ULA-scoped group ff15::): the same exchange, RTT per reflector', async () => {
    const G = 'ff15::41:2';
    const p2 = mcbenchIn(2, ['pong', '-g', G, '-I', 'eth0', '-t', '30']);
    const p3 = mcbenchIn(3, ['pong', '-g', G, '-I', 'eth0', '-t', '30']);
    for (const p of [p2, p3]) await p.waitFor('reflector ');
    const ping = await mcbenchIn(1, ['ping', '-g', G, '-I', 'eth0', '--rate', '100', '-n', '50', '--wait', '0.5', '--json', '-']).done;
    p2.child.kill('SIGINT');
    p3.child.kill('SIGINT');
    await Promise.all([p2.done, p3.done]);
    expect(ping.code, ping.stderr).toBe(0);
    const r = JSON.parse(ping.stdout) as RttResult;
    expect(r.config.family).toBe('ipv6');
    expect(r.probes.sent).toBe(50);
    expect(r.reflectors).toHaveLength(2);
    for (const x of r.reflectors) {
      expect(x.address).toMatch(/^\[fd[0-9a-f:]+\]:5001$/);
      expect(x.replies).toBe(50);
      expect(x.rtt!.min_ms).toBeGreaterThan(0);
      expect(x.rtt!.max_ms).toBeLessThan(50);
    }
  }, 30000);

  it('no reflector: exit 1 with the table saying so, the result still written', async () => {
    const file = join(dir, 'none.json');
    const r = await mcbenchIn(1, ['ping', '-g', '239.255.41.3', '-I', 'eth0', '--rate', '50', '-n', '5', '--wait', '0.2', '--json', file]).done;
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('(no reflector answered the 5 probes to 239.255.41.3 port 5001)');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as RttResult;
    expect(doc.reflectors).toEqual([]);
    expect(doc.probes.sent).toBe(5);
  }, 30000);

  it('a send the kernel refuses is not a probe: no sequence, not lost, reported apart (RFC 7680)', async () => {
    // g1's eth0 goes down for 0.4 s of a 1 s ping: those sends fail (ENETDOWN); the pong's own
    // count of what it received is the truth for what was on the wire
    const G = '239.255.41.7';
    const pongJson = join(dir, 'send-errors-pong.json');
    const p = mcbenchIn(2, ['pong', '-g', G, '-I', 'eth0', '-t', '30', '--json', pongJson]);
    await p.waitFor('reflector ');
    const file = join(dir, 'send-errors.json');
    const ping = mcbenchIn(1, ['ping', '-g', G, '-I', 'eth0', '--rate', '50', '-n', '50', '--wait', '0.5', '--json', file]);
    try {
      await sleep(300);
      spawnSync('ip', ['-n', netns(1), 'link', 'set', 'eth0', 'down']);
      await sleep(400);
    } finally {
      spawnSync('ip', ['-n', netns(1), 'link', 'set', 'eth0', 'up']);
    }
    const done = await ping.done;
    p.child.kill('SIGINT');
    await p.done;
    expect(done.code, done.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as RttResult;
    const own = JSON.parse(readFileSync(pongJson, 'utf8')) as PongResult;
    expect(doc.probes.send_errors).toBeGreaterThan(5);
    expect(doc.probes.sent + doc.probes.send_errors).toBe(50);
    expect(own.probes).toBe(doc.probes.sent);
    expect(doc.reflectors).toHaveLength(1);
    expect(doc.reflectors[0]).toMatchObject({ first_seq: 0, last_seq: doc.probes.sent - 1, expected: doc.probes.sent, replies: doc.probes.sent, lost: 0 });
  }, 30000);
});

describe.skipIf(!isRoot)('run --mode rtt', () => {
  it('--local: g1 pings, g2 and g3 reflect; every reflector named by its guest', async () => {
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '--mode', 'rtt', '--local', '--receivers', '2', '--rate', '50', '-t', '1', '-g', '239.255.41.4', '--json', '-'], { stdio: ['ignore', 'pipe', 'pipe'] }), 30000).done;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RttResult;
    expect(doc.schema).toBe('mcbench/rtt@1');
    expect(doc.reflectors.map((x) => x.guest).sort()).toEqual(['g2', 'g3']);
    for (const x of doc.reflectors) {
      expect(x.replies).toBe(doc.probes.sent);
      expect(x.lost).toBe(0);
      expect(x.rtt!.min_ms).toBeGreaterThan(0);
    }
    expect(r.stderr).toMatch(/^g2 127\.0\.0\.1:5001 [0-9a-f]{8} +50\/50 /m);
  }, 30000);
});

describe.skipIf(!isRoot)('run --mode rtt --hosts over OpenSSH', () => {
  let s: SshLab | undefined;
  beforeAll(async () => {
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'rttssh', '--force']);
    s = await SshLab.up('rttssh', 3);
  }, 60000);
  afterAll(async () => {
    await s?.down();
  });

  it("the inventory's sender pings over ssh, its receiver reflects: named by its host", async () => {
    const host = (name: string) => `  ${name}: { ssh: ${name}, interface: eth0, mcbench: ${MCBENCH} }\n`;
    const inv = s!.file('hosts.yaml', `hosts:\n${host('g2')}${host('g3')}sender: g2\nreceivers: [g3]\n`);
    const file = join(s!.dir, 'rtt.json');
    const r = await s!.mcbench(['run', '--mode', 'rtt', '--hosts', inv, '--rate', '50', '-t', '1', '-g', '239.255.41.5', '--json', file]).done;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as RttResult;
    expect(doc.reflectors).toHaveLength(1);
    const x = doc.reflectors[0]!;
    expect(x.guest).toBe('g3');
    expect(x.address).toBe(`${s!.address(3)}:5001`);
    expect(x.replies).toBe(doc.probes.sent);
    expect(doc.probes.sent).toBe(50);
    expect(x.rtt!.min_ms).toBeGreaterThan(0);
    expect(x.rtt!.max_ms).toBeLessThan(50);
  }, 60000);

  it('a reflector that receives nothing is in the result with all its probes lost forward, and fails the run', async () => {
    // g3 throws away what comes from g2 (the pinger): a blackhole route to g2's address and strict
    // rp_filter fail the probes' reverse-path check on input, so its pong receives none (ssh from
    // g1 is untouched). The return direction's split is the pure test's (the pong's own count).
    const inv = s!.file('hosts-silent.yaml', `hosts:\n  g2: { ssh: g2, interface: eth0, mcbench: ${MCBENCH} }\n  g3: { ssh: g3, interface: eth0, mcbench: ${MCBENCH} }\nsender: g2\nreceivers: [g3]\n`);
    const g3 = s!.netns[2]!;
    const ip = (...args: string[]) => expect(spawnSync('ip', ['-n', g3, ...args], { encoding: 'utf8' }).stderr).toBe('');
    const sysctl = (key: string, v?: string) => spawnSync('ip', ['netns', 'exec', g3, 'sysctl', '-n', ...(v === undefined ? [key] : ['-w', `${key}=${v}`])], { encoding: 'utf8' }).stdout.trim();
    const keys = ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.eth0.rp_filter'];
    const saved = keys.map((k) => sysctl(k));
    ip('route', 'add', 'blackhole', `${s!.address(2)}/32`);
    try {
      for (const k of keys) sysctl(k, '1');
      const r = await s!.mcbench(['run', '--mode', 'rtt', '--hosts', inv, '--rate', '50', '-t', '1', '-g', '239.255.41.6', '--json', '-']).done;
      expect([r.code, r.stdout === '' ? r.stderr : '']).toEqual([1, '']);
      const doc = JSON.parse(r.stdout) as RttResult;
      expect(doc.loss_counted_from).toBe('first_probe');
      expect(doc.probes.sent).toBe(50);
      expect(doc.reflectors).toHaveLength(1);
      const x = doc.reflectors[0]!;
      expect(x).toMatchObject({ guest: 'g3', address: null, replies: 0, expected: 50, lost: 50, loss_percent: 100, lost_unknown_direction: 0, rtt: null });
      expect([x.lost_forward, x.lost_return]).toEqual([50, 0]);
      expect(r.stderr).toMatch(/^g3 \(no reply\) [0-9a-f]{8} +0\/50 +50 \(100\.00%\)/m);
    } finally {
      spawnSync('ip', ['-n', g3, 'route', 'del', 'blackhole', `${s!.address(2)}/32`]);
      keys.forEach((k, i) => sysctl(k, saved[i]));
    }
  }, 60000);
});

/** The JSON Schema of a document type in src/core/rtt.ts, generated from its types and their JSDoc. */
let generator: ReturnType<typeof createGenerator> | null = null; // one TypeScript program build for both types
function rttSchema(type: 'RttResult' | 'PongResult'): Record<string, unknown> {
  generator ??= createGenerator({ path: join(ROOT, 'src/core/rtt.ts'), tsconfig: join(ROOT, 'tsconfig.json'), topRef: false, jsDoc: 'extended', skipTypeCheck: true });
  return generator.createSchema(type) as Record<string, unknown>;
}
/** Properties without a description, anywhere in a schema. */
function undocumented(node: unknown, path = '#'): string[] {
  if (node === null || typeof node !== 'object') return [];
  if (Array.isArray(node)) return node.flatMap((n, i) => undocumented(n, `${path}/${i}`));
  const o = node as Record<string, unknown>;
  const out: string[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, prop] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        if (typeof prop.description !== 'string' || prop.description.trim() === '') out.push(`${path}/properties/${name}`);
        out.push(...undocumented(prop, `${path}/properties/${name}`));
      }
    } else {
      out.push(...undocumented(value, `${path}/${key}`));
    }
  }
  return out;
}

describe('mcbench/rtt@1 and mcbench/pong@1: every field documented', () => {
  it.each(['RttResult', 'PongResult'] as const)('%s', (type) => {
    expect(undocumented(rttSchema(type))).toEqual([]);
  }, 60000);
});

describe('loss by direction (pure, worked by hand)', () => {
  it('splits round-trip loss into forward, return and unknown direction', () => {
    // 100 probes sent; the reflector first saw probe 10, answered up to 79, had seen 65 probes by
    // then and 60 replies arrived: 90 expected, 30 lost = 5 forward (70 - 65) + 5 return (65 - 60) + 20 after 79
    expect(reflectorLoss(100, { replies: 60, firstSeen: 10, maxSeq: 79, probesSeenAtMax: 65 })).toEqual({
      first_seq: 10, last_seq: 79, expected: 90, lost: 30, loss_percent: (30 / 90) * 100, lost_forward: 5, lost_return: 5, lost_unknown_direction: 20,
    });
  });
  it("clamps a reflector's own claims to what the ping knows", () => {
    // a first sequence past the last answered one, and more probes seen than could have been
    const r = reflectorLoss(10, { replies: 3, firstSeen: '18446744073709551615', maxSeq: 9, probesSeenAtMax: 1000 });
    expect(r).toMatchObject({ first_seq: 9, expected: 1, lost: 0, lost_forward: 0, lost_unknown_direction: 0 });
    expect(r.lost_return).toBe(0);
  });
});

describe('run --mode rtt: every reflector, loss from probe 0 (pure, worked by hand)', () => {
  it('a late first probe is forward loss, a silent pong an entry with all probes lost', () => {
    // 100 probes; A first saw probe 10, answered up to 79 with 60 replies, had seen 65 by then:
    // from probe 0, 40 lost = 15 forward (10 before its first + 5) + 5 return + 20 after 79.
    const ping = { replies: 60, firstSeen: 10, maxSeq: 79, probesSeenAtMax: 65 };
    const a: RttReflector = { reflector_id: 'aa', address: '10.0.0.2:5001', replies: 60, duplicates: 0, ...reflectorLoss(100, ping), rtt: null, round_trip: null, processing: null, clock_offset: null };
    const pong = (id: string, probes: number) => ({ reflector_id: id, probes }) as PongResult;
    const doc = { loss_counted_from: 'first_seen', probes: { sent: 100, send_errors: 3, span_seconds: 1 }, reflectors: [a] } as unknown as RttResult;
    const r = everyReflectorFromProbe0(doc, [{ guest: 'g2', pong: pong('aa', 65) }, { guest: 'g3', pong: pong('bb', 0) }, { guest: 'g4', pong: pong('cc', 30) }]);
    expect(r.loss_counted_from).toBe('first_probe');
    expect(r.reflectors.map((x) => [x.guest, x.expected, x.lost, x.loss_percent, x.lost_forward, x.lost_return, x.lost_unknown_direction])).toEqual([
      ['g2', 100, 40, 40, 15, 5, 20],
      ['g3', 100, 100, 100, 100, 0, 0], // received nothing: every probe lost on the way there
      ['g4', 100, 100, 100, 70, 30, 0], // received 30 (its own count), answered none that arrived
    ]);
    expect(r.reflectors[1]).toMatchObject({ address: null, replies: 0, first_seq: null, last_seq: null, rtt: null, clock_offset: null });
  });
});

describe('ping / pong bad input: one line naming the flag, exit 2', () => {
  // each is a short process that fails before any socket: run them side by side
  it.concurrent.each([
    [['ping', '-g', '10.0.0.1'], /^mcbench ping: -g\/--group: 10\.0\.0\.1 is not a multicast address/],
    [['ping', '-g', '239.1.1.1', '--rate', '0'], /^mcbench ping: --rate: '0' is not a probe rate \(probes\/s\) from 0\.1 to 100000$/],
    [['ping', '-g', '239.1.1.1', '--rate', 'fast'], /^mcbench ping: --rate: 'fast' is not/],
    [['ping', '-g', '239.1.1.1', '-l', '31'], /^mcbench ping: -l\/--length: '31' is not a probe size \(bytes\) from 32 to 65507$/],
    [['ping', '-g', '239.1.1.1', '-n', '0'], /^mcbench ping: -n\/--count: '0' is not a probe count from 1/],
    [['ping', '-g', '239.1.1.1', '--wait', '61'], /^mcbench ping: --wait: '61' is not seconds from 0 to 60$/],
    [['ping', '-g', '239.1.1.1', '--ttl', '256'], /^mcbench ping: --ttl: '256' is not a TTL from 1 to 255$/],
    [['ping', '-g', '239.1.1.1', '-p', '70000'], /^mcbench ping: -p\/--port: '70000' is out of range/],
    [['pong', '-g', 'ff02::1:9'], /^mcbench pong: -I\/--interface: ff02::1:9 is a link-local group: name the interface with -I$/],
    [['pong', '-g', '239.1.1.1', '-t', '-1'], /^mcbench pong: -t\/--time: '-1' is not seconds/],
    [['run', '--mode', 'rtt', '-b', '10M'], /^mcbench run: --bandwidth: does not apply to --mode rtt/],
    [['run', '--mode', 'rtt', '--receivers', '16'], /^mcbench run: --receivers: '16' is out of range \(1 to 15 reflectors\)$/],
    [['run', '--mode', 'ping'], /^mcbench run: --mode: 'ping' is not a mode \(data or rtt\)$/],
    [['run', '--rate', '5'], /^mcbench run: --rate: only with --mode rtt/],
    // an SSM group: refused before any socket or lab (a pong's any-source join would get nothing)
    [['ping', '-g', '232.1.1.1'], /^mcbench ping: -g\/--group: 232\.1\.1\.1 is a source-specific group \(232\.0\.0\.0\/8, RFC 4607\); RTT mode takes an any-source group/],
    [['pong', '-g', 'ff35::1:9', '-I', 'lo'], /^mcbench pong: -g\/--group: ff35::1:9 is a source-specific group \(ff3x::\/32, RFC 4607\)/],
    [['run', '--mode', 'rtt', '-g', '232.1.1.1'], /^mcbench run: -g\/--group: 232\.1\.1\.1 is a source-specific group/],
  ])('%j', async (args, message) => {
    const r = await mcbenchNoNet(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
