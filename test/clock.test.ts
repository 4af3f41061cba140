// The clock offset estimate: the four-stamp formula on synthetic exchanges with a known offset and
// asymmetric delays, then the real exchange (clock-serve / clock-probe) where the truth is known:
// every process in a private namespace or a lab guest reads the one kernel clock, so the true
// offset is 0 and must lie within the reported bound.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clockBound, estimateOffset, type ClockProbeReport, type ClockSample } from '../src/core/clock.js';
import type { RunReport } from '../src/core/run-report.js';
import { runTableRows } from '../src/report/run-table.js';
import { MCBENCH, Running, TestNetns } from './helpers/netns.js';

const NS = 1_000_000n; // ns per ms

/** An exchange as the wire would make it: the server's clock is `offset` ahead of the client's. */
function exchange(t1: bigint, offset: bigint, forward: bigint, serverTime: bigint, back: bigint): ClockSample {
  const t2 = t1 + forward + offset;
  const t3 = t2 + serverTime;
  return { t1, t2, t3, t4: t3 - offset + back };
}

describe('estimateOffset (synthetic stamps)', () => {
  it('picks the smallest round trip; the true offset lies within ± half of it, however asymmetric the paths', () => {
    const offset = 3_200_000n; // the server 3.2 ms ahead
    const samples = [
      exchange(1_000_000_000n, offset, 900_000n, 50_000n, 100_000n), // rtt 1.0 ms, asymmetric: estimate off by +0.4 ms
      exchange(1_010_000_000n, offset, 150_000n, 70_000n, 250_000n), // rtt 0.4 ms, the best: estimate off by -0.05 ms
      exchange(1_020_000_000n, offset, 2_000_000n, 10_000n, 2_000_000n), // rtt 4 ms, symmetric
    ];
    const e = estimateOffset(samples)!;
    expect(e.samples).toBe(3);
    expect(e.rtt_ms).toBe(0.4);
    expect(e.error_ms).toBe(0.2);
    expect(e.offset_ms).toBe(3.15); // 3.2 + (0.15 - 0.25) / 2
    expect(Math.abs(e.offset_ms - 3.2)).toBeLessThanOrEqual(e.error_ms);
  });

  it('the bound holds for random asymmetric delays and negative offsets', () => {
    let x = 42;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 200; trial++) {
      const offset = BigInt(Math.round((rnd() - 0.5) * 2e9)); // ±1 s
      const samples = Array.from({ length: 16 }, (_, i) =>
        exchange(5_000_000_000n + BigInt(i) * 10n * NS, offset, BigInt(Math.round(rnd() * 5e6)), BigInt(Math.round(rnd() * 1e5)), BigInt(Math.round(rnd() * 5e6))));
      const e = estimateOffset(samples)!;
      expect(Math.abs(e.offset_ms - Number(offset) / 1e6)).toBeLessThanOrEqual(e.error_ms + 1e-9);
    }
  });

  it('a sample with a negative round trip (a clock stepped mid-exchange) is not a measurement', () => {
    const stepped: ClockSample = { t1: 100n * NS, t2: 50n * NS, t3: 50n * NS, t4: 90n * NS };
    expect(estimateOffset([stepped])).toBeNull();
    expect(estimateOffset([])).toBeNull();
    const good = exchange(200n * NS, 0n, 100_000n, 0n, 100_000n);
    expect(estimateOffset([stepped, good])!.rtt_ms).toBe(0.2);
  });

  it('clockBound: |offset| + error, the wider of before and after, plus the drift between them', () => {
    const c = { guest: 'g2', before: { offset_ms: 0.5, error_ms: 0.1, rtt_ms: 0.2, samples: 16 }, after: { offset_ms: -0.2, error_ms: 0.3, rtt_ms: 0.6, samples: 16 }, sync: null, error: null };
    expect(clockBound(c)).toBeCloseTo(0.6 + 0.7, 12);
    expect(clockBound({ ...c, before: null, after: null })).toBeNull();
  });
});

describe('clock-serve / clock-probe on one kernel clock', () => {
  let ns: TestNetns;
  const started: Running[] = [];
  beforeAll(async () => {
    ns = await TestNetns.create();
  });
  afterEach(() => {
    for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });
  afterAll(async () => {
    await ns.close();
  });

  it('the true offset (0) lies within the bound, and the bound is under 1 ms', async () => {
    const server = ns.mcbench(['clock-serve', '-I', 'lo', '--port', '0', '--timeout', '20']);
    started.push(server);
    const deadline = Date.now() + 10000;
    while (!server.stdout.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const listening = JSON.parse(server.stdout.split('\n')[0]!) as { event: string; address: string; port: number };
    expect(listening).toMatchObject({ event: 'listening', address: '127.0.0.1' });
    for (let i = 0; i < 3; i++) {
      const p = await ns.mcbench(['clock-probe', '--to', `127.0.0.1:${listening.port}`, '-n', '16', '--json', '-']).done;
      expect(p.code, p.stderr).toBe(0);
      const report = JSON.parse(p.stdout) as ClockProbeReport;
      const e = report.estimate!;
      expect(e.samples).toBe(16);
      expect(Math.abs(e.offset_ms)).toBeLessThanOrEqual(e.error_ms);
      expect(e.error_ms).toBeLessThan(1);
      expect(e.error_ms).toBeGreaterThan(0);
    }
    server.child.kill('SIGTERM');
    const s = await server.done;
    expect(s.code).toBe(143); // SIGTERM: every command's convention (issue 10)
    // It answered every probe of the three runs (on lo nothing is lost).
    expect(JSON.parse(s.stdout.trim().split('\n').pop()!)).toEqual({ event: 'end', answered: 48 });
  });

  it('no server: exit 1 naming it; a multicast or malformed --to: exit 2', async () => {
    const none = await ns.mcbench(['clock-probe', '--to', '127.0.0.1:9', '-n', '2', '--wait', '0.1']).done;
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mcbench clock-probe: .*127\.0\.0\.1:9/m);
    const mc = await ns.mcbench(['clock-probe', '--to', '239.1.2.3:5000']).done;
    expect(mc.code).toBe(2);
    expect(mc.stderr.trim()).toBe('mcbench clock-probe: --to: 239.1.2.3 is not a unicast address (the clock exchange is unicast)');
    const bad = await ns.mcbench(['clock-probe', '--to', 'host:70000']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^mcbench clock-probe: --to: 'host:70000' is not ADDR:PORT/m);
  });
});

describe('mcbench run: clocks before and after, in the lab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcbench-clock-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each receiver against the sender: |offset| within the bound, bound under 1 ms; no caveat on a shared clock', async () => {
    const file = join(dir, 'clk.json');
    const r = await new Running(spawn(process.execPath, [MCBENCH, 'run', '--pps', '1000', '-l', '200', '-t', '1', '--receivers', '2', '--lab-name', 'clk',
      '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 60000).done;
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'clk']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const clocks = report.variants[0]!.clocks!;
    expect(clocks.reference).toBe('g1');
    expect(clocks.shared_clock).toBe(true);
    expect(clocks.receivers.map((c) => c.guest)).toEqual(['g2', 'g3']);
    for (const c of clocks.receivers) {
      expect(c.error).toBeNull();
      for (const m of [c.before!, c.after!]) {
        expect(m.samples).toBe(16);
        expect(Math.abs(m.offset_ms), c.guest).toBeLessThanOrEqual(m.error_ms);
        expect(m.error_ms).toBeLessThan(1);
      }
    }
    expect(r.stdout).not.toContain('clocks');
    // The same report as if the hosts were separate machines: the caveat appears beside each delay.
    const apart: RunReport = { ...report, variants: report.variants.map((v) => ({ ...v, clocks: { ...v.clocks!, shared_clock: false } })) };
    const rows = runTableRows(apart);
    for (const row of rows) {
      const bound = clockBound(clocks.receivers.find((c) => c.guest === row[1]) ?? clocks.receivers[0]!)!;
      expect(row[9]).toMatch(/ \(clocks (not synchronised enough: )?±\d+\.\d\d ms\)$/);
      const p99 = Number(row[9]!.split(' ')[0]);
      if (row[1] !== 'group') expect(row[9]!.includes('not synchronised enough')).toBe(bound > p99);
    }
    // One receiver far off: the warning, with its bound.
    const far: RunReport = { ...apart, variants: apart.variants.map((v) => ({ ...v, clocks: { ...v.clocks!, receivers: v.clocks!.receivers.map((c) => ({ ...c, before: { ...c.before!, offset_ms: 40 }, after: { ...c.after!, offset_ms: 40 } })) } })) };
    const g2 = runTableRows(far).find((row) => row[1] === 'g2')!;
    const expectedBound = 40 + Math.max(clocks.receivers[0]!.before!.error_ms, clocks.receivers[0]!.after!.error_ms);
    expect(g2[9]).toContain(`(clocks not synchronised enough: ±${expectedBound.toFixed(2)} ms)`);
  }, 60000);
});
