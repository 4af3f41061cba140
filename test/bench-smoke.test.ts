// The benchmark harness still runs (issue 5, "Not a test"): the TypeScript bench (bench/*.ts,
// compiled here by `tsc -p bench/tsconfig.json` to bench/build-ts/) with `--smoke --only
// ref,mcbench,scaling` makes its lab, runs the C reference and mcbench for 1 s at 64 B, then 1
// and 2 mcbench receivers behind one sender (issue 13's scaling rows), and writes a result of the
// expected shape with packets measured. No timing is asserted: rates on a shared machine
// are the benchmark's business, not CI's. iperf2 and sockperf are left out (no apt needed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult, ToolSummary } from '../bench/result.js';

const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
// A lab name of this process's own: two test runs on one machine must not meet (1-8 of a-z0-9).
const LAB = `b${process.pid.toString(36)}`.slice(0, 8);
const canRun = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v taskset && command -v cc'], { stdio: 'ignore' }).status === 0;

const ENTRY = join(ROOT, 'bench/build-ts/bench/run.js');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!canRun)('bench harness smoke (root, taskset, cc)', () => {
  beforeAll(() => {
    // What `npm run bench` runs: the bench compiled from its TypeScript (dist/ is built by the test script).
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'bench/tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    expect(tsc.status, `tsc -p bench/tsconfig.json failed:\n${tsc.stdout}${tsc.stderr}`).toBe(0);
  });

  it('runs ref and mcbench for 1 s, then 1 and 2 receivers, and writes a result with packets for each', { timeout: 50000 }, () => {
    const out = join(dir, 'smoke.json');
    const r = spawnSync(process.execPath, [ENTRY, '--smoke', '--only', 'ref,mcbench,scaling', '--out', out, '--lab-name', LAB], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 48000,
    });
    expect(r.status, `bench --smoke failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(res.schema).toBe('mcbench/bench@1');
    expect(res.mode).toBe('smoke');
    expect(res.settings).toMatchObject({ seconds: 1, reps: 1, sizes: [64], tools: ['ref', 'mcbench'] });
    expect(res.machine.nproc).toBeGreaterThan(0);
    expect(res.runs).toHaveLength(2);
    for (const run of res.runs) expect(run.ok, run.error ?? '').toBe(true);
    const s = res.summary['64'] as Record<'ref' | 'mcbench', ToolSummary>;
    expect(Object.keys(s).sort()).toEqual(['mcbench', 'ref']);
    for (const tool of ['ref', 'mcbench'] as const) {
      expect(s[tool].reps).toBe(1);
      expect(s[tool].sender_pps_median).toBeGreaterThan(0);
      expect(s[tool].receiver_pps_median).toBeGreaterThan(0);
      expect(typeof s[tool].lost_packets_max).toBe('number');
      expect(s[tool].ratio_to_ref?.sender_pps).toBeGreaterThan(0);
    }
    expect(s.ref.ratio_to_ref?.sender_pps).toBe(1);
    // scaling: every receiver's packets and loss add up to the sender's own count
    expect(res.scaling?.runs.map((r) => [r.receivers, r.ok, r.error])).toEqual([
      [1, true, null],
      [2, true, null],
    ]);
    for (const run of res.scaling?.runs ?? []) {
      expect(run.per_receiver).toHaveLength(run.receivers);
      for (const rx of run.per_receiver) {
        expect(rx.packets).toBeGreaterThan(0);
        expect(rx.packets + rx.lost).toBe(run.sent);
      }
    }
    expect(res.ndr).toBeNull();
    expect(res.paced).toBeNull();
    expect(res.memory).toBeNull();
    expect(Array.isArray(res.targets)).toBe(true);
    // The lab went with the run.
    const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(ns).not.toContain(`mcb-${LAB}-`);
    expect(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout).not.toContain(`mcb-${LAB}-`);
  });
});
