// YAML suite files: read as JSON ones are (the same checks, before anything is made), each
// problem naming the line it is on; JSON files read as before.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSuiteText } from '../src/core/suite-file.js';
import { parseSuite } from '../src/run/suite.js';
import { MCBENCH, ROOT, Running } from './helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'mcbench-suite-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SMOKE_YAML = join(ROOT, 'bench', 'suites', 'smoke.yaml');
const SMOKE_JSON = join(ROOT, 'bench', 'suites', 'smoke.json');
const yaml = readFileSync(SMOKE_YAML, 'utf8');

function load(text: string, name = 'nightly.yaml') {
  const t = parseSuiteText(text, name);
  return parseSuite(t.doc, name, { local: false, ...(t.locate ? { locate: t.locate } : {}) });
}
const mcbench = (args: string[], timeoutMs = 60000) => new Running(spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs).done;

describe('YAML suite files', () => {
  it('the YAML smoke suite is the JSON one', () => {
    const y = load(yaml, 'smoke.yaml');
    const j = load(readFileSync(SMOKE_JSON, 'utf8'), 'smoke.json');
    expect(y.suite).toBe(j.suite);
    expect(y.entries.map((e) => [e.name, e.thresholds, e.scenario.sendArgs, e.scenario.recvArgs, e.scenario.variants.map((v) => v.sysctls)]))
      .toEqual(j.entries.map((e) => [e.name, e.thresholds, e.scenario.sendArgs, e.scenario.recvArgs, e.scenario.variants.map((v) => v.sysctls)]));
  });

  it.each([
    ['a bad value', (s: string) => s.replace('      rcvbuf: 25M', '      rcvbuf: lots'), "nightly.yaml: line 13: scenarios[1] 'rmem-tuned': run.rcvbuf: 'lots' is not a size"],
    ['an unknown flag', (s: string) => s.replace('      time: 1\n', '      tme: 1\n'), "nightly.yaml: line 11: scenarios[1] 'rmem-tuned': run.tme: unknown flag"],
    ['a threshold out of range', (s: string) => s.replace('max_lost_percent: 5', 'max_lost_percent: 500'), "nightly.yaml: line 15: scenarios[1] 'rmem-tuned': thresholds.max_lost_percent: 500 is out of range (0 to 100)"],
    ['a scenario without a name', (s: string) => s.replace('  - name: paced-2k\n', '  - nome: paced-2k\n'), "nightly.yaml: line 4: scenarios[0]: name: 'undefined' is not a name"],
    ['a key given twice', (s: string) => s.replace('      receivers: 2\n', '      receivers: 2\n      receivers: 3\n'), 'nightly.yaml: not valid YAML: Map keys must be unique at line 13, column 7'],
    ['broken YAML', (s: string) => s.replace('  - name: rmem-tuned', '  - name: rmem-tuned\n   bad: [ unclosed'), 'nightly.yaml: not valid YAML: Sequence item without - indicator at line 8, column 1'],
    ['yes is not a boolean (YAML 1.2)', (s: string) => s.replace('      rcvbuf: 25M', '      rcvbuf: 25M\n      rcvbuf-force: yes'), "nightly.yaml: line 14: scenarios[1] 'rmem-tuned': run.rcvbuf-force: '\"yes\"' is not true or false"],
  ])('%s: one line naming the file and the line', (_what, change, message) => {
    expect(() => load(change(yaml))).toThrow(message);
  });

  it('JSON files read as before (no line, JSON\'s own message); a file of another name may be either', () => {
    expect(() => load('{"suite": "x", "scenarios": [{"name": "a", "run": {"rcvbuf": "lots"}}]}', 'n.json')).toThrow(/^n\.json: scenarios\[0\] 'a': run\.rcvbuf: 'lots' is not a size/);
    expect(() => load('{"suite": ', 'n.json')).toThrow(/^n\.json: not valid JSON: /);
    expect(load(yaml, 'suite.txt').entries).toHaveLength(2);
    expect(() => load('{"suite": ', 'suite.txt')).toThrow(/^suite\.txt: not valid JSON \(.*\) or YAML$/);
  });

  it('mcbench suite FILE.yaml: bad input is exit 2 before anything is made', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, yaml.replace('      time: 1\n', '      time: -1\n'));
    const r = await mcbench(['suite', bad, '--local', '--json', join(dir, 'out.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml: line 11: scenarios\[1\] 'rmem-tuned': run\.time: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it.skipIf(process.getuid?.() !== 0)('mcbench suite bench/suites/smoke.yaml --local runs both scenarios', async () => {
    const out = join(dir, 'suite.json');
    const junit = join(dir, 'junit.xml');
    const t0 = Date.now();
    const r = await mcbench(['suite', SMOKE_YAML, '--local', '--json', out, '--junit', junit], 120000);
    const wall = (Date.now() - t0) / 1000;
    expect([0, 1]).toContain(r.code);
    // JUnit: each testcase's time is the scenario's measured duration (lab or namespace, both
    // processes, teardown): more than the 1 s the sender was configured for, and together no more
    // than the whole command took
    const times = [...readFileSync(junit, 'utf8').matchAll(/<testcase [^>]*name="([\w-]+)" time="([\d.]+)"/g)].map((m) => [m[1], Number(m[2])] as const);
    expect(times.map(([n]) => n)).toEqual(['paced-2k', 'rmem-tuned']);
    for (const [, t] of times) expect(t).toBeGreaterThan(1.2);
    expect(times.reduce((n, [, t]) => n + t, 0)).toBeLessThan(wall);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { suite: string; file: string; scenarios: Array<{ name: string; metrics: unknown[] }> };
    expect(doc.suite).toBe('smoke');
    expect(doc.file).toBe(SMOKE_YAML);
    expect(doc.scenarios.map((s) => [s.name, s.metrics.length])).toEqual([['paced-2k', 1], ['rmem-tuned', 1]]);
  }, 150000);
});
