// `mcbench report` and `--html`: the data shaping checked against independent truth (histograms
// made here with hdr-histogram-js, hand-computed intervals), the documents of real short runs
// (run/ab/suite --local, as root) and a checked-in lab run with stalls (seed-002, made by
// `mcbench run --scenario seed-002-querier --json`) drawn as pages, each opened from file:// in
// a real Chromium (Debian's, driven by playwright-core): no console error, no request leaves the
// page, every chart drawn, a screenshot next to each page. Hostile inputs: foreign JSON, a
// truncated file, a field of the wrong type, HTML in host names.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/core/run-report.js';
import { emptyHistogram } from '../src/core/latency.js';
import { lossChart, meanInterval, percentileChart, percentOf, percentileGrid, type ChartSpec } from '../src/report/html-data.js';
import { htmlEscape, scriptJson } from '../src/report/html-page.js';
import { progressLine, progressWanted } from '../src/commands/progress.js';
import { abRunDescription } from '../src/commands/ab.js';
import { formatRate } from '../src/core/units.js';
import { tableRate } from '../src/report/run-table.js';
import { suiteJunit } from '../src/report/suite-junit.js';
import { MCBENCH, ROOT, Running } from './helpers/netns.js';

/** Pages, their screenshots and the documents of the runs: kept after the test to look at. */
const OUT = process.env.MCBENCH_TEST_OUTPUT ?? join(tmpdir(), 'mcbench-report-test');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const FIXTURE = join(ROOT, 'test', 'fixtures', 'report', 'seed-002-querier.run.json');
const CHROMIUM = '/usr/bin/chromium';
const isRoot = process.getuid?.() === 0;

function mcbench(args: string[], timeoutMs = 90000) {
  return new Running(spawn(process.execPath, [MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } }), timeoutMs).done;
}

// ------------------------------------------------------------------------------------ pure

function encoded(valuesMs: number[]): string {
  const h = emptyHistogram();
  for (const v of valuesMs) h.recordValue(Math.round(v * 1e6));
  return hdr.encodeIntoCompressedBase64(h);
}
const at = (c: ChartSpec, series: number, x: number) => c.series[series]!.values[c.x.findIndex((v) => Math.abs(v - x) < 1e-9 * x)]!;

describe('shaping (pure)', () => {
  it('the percentile axis is 1/(1-p) from p50 to p99.999', () => {
    const g = percentileGrid();
    expect(g[0]).toBe(2);
    expect(g.at(-1)).toBe(1e5);
    expect(percentOf(2)).toBe(50);
    expect(percentOf(1e5)).toBeCloseTo(99.999, 9);
    for (let i = 1; i < g.length; i++) expect(g[i]!).toBeGreaterThan(g[i - 1]!);
  });

  it('delay percentiles come from the histograms, each and merged (3 significant digits)', () => {
    // 1..10000 ms in 1 ms steps: p50 = 5000 ms, p90 = 9000 ms, p99 = 9900 ms, p99.99 = 9999 ms
    const uniform = Array.from({ length: 10000 }, (_, i) => i + 1);
    const c = percentileChart('t', [{ label: 'u', base64: encoded(uniform) }])!;
    expect(c.series).toHaveLength(1);
    for (const [x, want] of [[2, 5000], [10, 9000], [100, 9900], [1e4, 9999]] as const) {
      expect(Math.abs(at(c, 0, x)! - want) / want).toBeLessThan(0.001);
    }
    // two receivers, one at 1 ms and one at 3 ms, 900 and 100 packets: merged p50 is 1 ms, p99 3 ms
    const m = percentileChart('t', [{ label: 'g2', base64: encoded(Array(900).fill(1)) }, { label: 'g3', base64: encoded(Array(100).fill(3)) }])!;
    expect(m.series.map((s) => s.label)).toEqual(['g2 (900 packets)', 'g3 (100 packets)', 'merged (1,000 packets)']);
    expect(at(m, 2, 2)).toBeCloseTo(1, 2);
    expect(at(m, 2, 100)).toBeCloseTo(3, 2);
    expect(at(m, 0, 1e5)).toBeCloseTo(1, 2);
    expect(at(m, 1, 2)).toBeCloseTo(3, 2);
  });

  it('the loss bars stack to each receiver\'s lost percent; the legend shows each part', () => {
    const part = (count: number | null, percent: number | null) => ({ count, percent, scope: null, shared: false });
    const rx = (name: string, parts: Array<[number | null, number | null]>) => ({
      name,
      r: { end: { loss_attribution: { socket_buffer: part(...parts[0]!), backlog: part(...parts[1]!), interface: part(...parts[2]!), unaccounted: part(...parts[3]!) } } },
    });
    const c = lossChart([rx('g2', [[30, 3], [0, 0], [0, 0], [10, 1]]), rx('g3', [[0, 0], [null, null], [5, 0.5], [0, 0]])] as unknown as Parameters<typeof lossChart>[0], '')!;
    // drawn top part first: unaccounted's bar is the whole loss
    expect(c.series.map((s) => s.label)).toEqual(['unaccounted', 'interface', 'backlog', 'socket buffer full']);
    expect(c.series[0]!.values).toEqual([4, 0.5]);
    expect(c.series[3]!.values).toEqual([3, 0]);
    expect(c.series[2]!.shown).toEqual(['0.000% (0)', 'unreadable']);
  });

  it('mean and 95% interval (Student t, n-1)', () => {
    const ci = meanInterval([1, 2, 3])!;
    expect(ci.mean).toBe(2);
    expect(ci.hi - ci.mean).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 9);
    expect(meanInterval([5])).toEqual({ mean: 5, lo: 5, hi: 5 });
    expect(meanInterval([])).toBeNull();
  });

  it('escaping: text and embedded JSON cannot open or close an element', () => {
    expect(htmlEscape('<b a="1">&\'</b>')).toBe('&lt;b a=&quot;1&quot;&gt;&amp;&#39;&lt;/b&gt;');
    const j = scriptJson({ h: '</script><script>x()</script><!--' });
    expect(j).not.toMatch(/</);
    expect(JSON.parse(j)).toEqual({ h: '</script><script>x()</script><!--' });
  });
});

// ------------------------------------------------------------------------------------ hostile input

describe('mcbench report: bad input is exit 2 naming the file, nothing written', () => {
  const bad = join(OUT, 'bad');
  mkdirSync(bad, { recursive: true });
  const out = join(bad, 'out.html');
  const fixture = readFileSync(FIXTURE, 'utf8');
  const withHistogram = (b64: string) => {
    const d = JSON.parse(fixture) as RunReport;
    d.variants[0]!.receivers[0]!.result!.end.latency.one_way_kernel!.hdr_base64 = b64;
    return JSON.stringify(d);
  };
  const withLoss = (v: unknown) => {
    const d = JSON.parse(fixture) as RunReport;
    (d.variants[0]!.receivers[0]!.result!.end.sum as unknown as Record<string, unknown>).lost_percent = v;
    return JSON.stringify(d);
  };

  it.each([
    ['foreign.json', '{"start":{"version":"iperf 3.12"},"intervals":[],"end":{}}', /foreign\.json: not a mcbench document \(it has no "schema"/],
    ['other-schema.json', '{"schema":"mcbench/settings@1"}', /other-schema\.json: not a mcbench document \(its schema 'mcbench\/settings@1' is not one the report draws/],
    ['truncated.json', fixture.slice(0, Math.floor(fixture.length / 2)), /truncated\.json: not valid JSON/],
    ['array.json', '[1,2]', /array\.json: not a mcbench document/],
    ['bad-histogram.json', withHistogram('AAAA not base64'), /bad-histogram\.json: not a valid mcbench\/run@1 document: variants\[0\]\.receivers\[0\]\.result\.end\.latency\.one_way_kernel\.hdr_base64 is not an HdrHistogram/],
    ['wrong-type.json', withLoss('lots'), /wrong-type\.json: not a valid mcbench\/run@1 document: variants\[0\]\.receivers\[0\]\.result\.end\.sum\.lost_percent is not a number/],
  ])('%s', async (name, text, message) => {
    const file = join(bad, name);
    writeFileSync(file, text);
    const r = await mcbench(['report', FIXTURE, file, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing file, a folder as output, no files', async () => {
    const r1 = await mcbench(['report', join(bad, 'nope.json'), '-o', out]);
    expect([r1.code, r1.stderr]).toEqual([2, expect.stringMatching(/nope\.json: cannot read: ENOENT/)]);
    const r2 = await mcbench(['report', FIXTURE, '-o', bad]);
    expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/--output: cannot write .* it is a folder/)]);
    const r3 = await mcbench(['report', '-o', out]);
    expect(r3.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

// ------------------------------------------------------------------------------------ real runs, real browser

interface PageCheck {
  errors: string[];
  requests: string[];
  charts: Array<{ kind: string; title: string; drawn: boolean; error: string | null; inked: number; colored: number; hasData: boolean }>;
  text: string;
}

let browser: Browser | null = null;
let context: BrowserContext | null = null;

/**
 * Opens a page from file:// and reports what happened: console errors, every request the page
 * tried (any but the page itself is aborted and reported), and per chart whether uPlot drew it
 * and how many of its canvas pixels are inked and coloured (the series; axes and grid are grey).
 */
async function openPage(file: string): Promise<PageCheck> {
  const page = await context!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  const self = pathToFileURL(file).href;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== self) requests.push(r.url()); });
  await page.route('**/*', (route) => (route.request().url() === self ? route.continue() : route.abort()));
  await page.goto(self);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-chart]')].every((e) => e.hasAttribute('data-drawn') || e.hasAttribute('data-error')), null, { timeout: 15000 });
  const charts = await page.evaluate(() => {
    const data = JSON.parse(document.getElementById('mcbench-data')!.textContent!) as { charts: Array<{ title: string; series: Array<{ values: Array<number | null> }> }> };
    return [...document.querySelectorAll<HTMLElement>('[data-chart]')].map((el) => {
      const spec = data.charts[Number(el.dataset.chart)]!;
      const canvas = el.querySelector('canvas');
      let inked = 0;
      let colored = 0;
      if (canvas) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < px.length; i += 4) {
          if (px[i + 3]! < 40) continue;
          inked++;
          if (Math.max(px[i]!, px[i + 1]!, px[i + 2]!) - Math.min(px[i]!, px[i + 1]!, px[i + 2]!) > 60) colored++;
        }
      }
      return {
        kind: el.dataset.kind ?? '', title: spec.title, drawn: el.hasAttribute('data-drawn'), error: el.getAttribute('data-error'), inked, colored,
        hasData: spec.series.some((s) => s.values.some((v) => v !== null && v > 0)),
      };
    });
  });
  const text = await page.evaluate(() => document.body.innerText);
  await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
  await page.close();
  return { errors, requests, charts, text };
}

function expectAllDrawn(p: PageCheck, kinds: string[]): void {
  expect(p.errors).toEqual([]);
  expect(p.requests).toEqual([]);
  for (const k of kinds) expect(p.charts.map((c) => c.kind), `a ${k} chart`).toContain(k);
  for (const c of p.charts) {
    expect(c.error, c.title).toBeNull();
    expect(c.drawn, c.title).toBe(true);
    expect(c.inked, c.title).toBeGreaterThan(500);
    if (c.hasData) expect(c.colored, `${c.title}: its series are drawn`).toBeGreaterThan(30);
  }
}

const hasChromium = existsSync(CHROMIUM);

/**
 * --json-stream: every stdout line one event, start first, one interval per step, end last with
 * exactly the document --json wrote.
 */
function expectStream(stdout: string, jsonFile: string, steps: number): void {
  const lines = stdout.split('\n').filter(Boolean);
  const events = lines.map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
  expect(events.map((e) => e.event)).toEqual(['start', ...Array<string>(steps).fill('interval'), 'end']);
  events.slice(1, -1).forEach((e, i) => expect(e.data).toMatchObject({ step: i + 1, steps, elapsed_seconds: expect.any(Number) }));
  expect(events.at(-1)!.data).toEqual(JSON.parse(readFileSync(jsonFile, 'utf8')));
}

let profile: string | null = null;

describe('real runs and pages in a real browser', () => {
  beforeAll(async () => {
    if (!hasChromium) return;
    // a fresh profile per run, removed afterwards (the pages and screenshots stay in OUT)
    profile = mkdtempSync(join(tmpdir(), 'mcbench-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...(isRoot ? ['--no-sandbox'] : []), '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-default-apps'],
      viewport: { width: 1100, height: 900 },
    });
    browser = context.browser();
  });
  afterAll(async () => {
    await context?.close();
    void browser;
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)('the checked-in seed-002 lab run: stalls shaded, delay percentiles, loss attribution, settings per variant', async () => {
    const html = join(OUT, 'seed-002.html');
    const r = await mcbench(['report', FIXTURE, '-o', html]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const page = await openPage(html);
    expectAllDrawn(page, ['percentile', 'time', 'stacked']);
    // the stalls are in the legend with their start and length, as the document has them
    const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunReport;
    const s = doc.variants[0]!.receivers[0]!.result!.end.stalls[0]!;
    expect(page.text).toContain(`g2 stall at ${s.start_seconds.toFixed(2)} s for ${s.seconds.toFixed(2)} s`);
    expect(page.text).toContain('the kernel settings the run happened under');
    expect(page.charts.filter((c) => c.kind === 'time').length).toBe(4); // throughput and loss, two variants
  }, 60000);

  describe.skipIf(!isRoot)('real runs (root: --local with sysctls)', () => {
    it('run --local --json-stream --html, and report of its result@1 documents and of the run@1', async () => {
      const json = join(OUT, 'run.json');
      const html = join(OUT, 'run.html');
      // a clamped buffer at full speed: the receivers' socket buffers overflow (a loss to attribute)
      const t0 = Date.now();
      const r = await mcbench(['run', '--local', '-b', '0', '-t', '1', '--receivers', '2', '--rcvbuf', '4M', '--set', 'net.core.rmem_max=212992', '--json', json, '--html', html, '--json-stream']);
      expect(r.code, r.stderr).toBe(0);
      const runSeconds = (Date.now() - t0) / 1000;
      expectStream(r.stdout, json, 1);
      if (!hasChromium) return;
      const page = await openPage(html);
      expectAllDrawn(page, ['percentile', 'time', 'stacked']);
      const doc = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
      const v = doc.variants[0]!;
      // the receivers' and the sender's own result@1 documents, as send/recv --json write them
      writeFileSync(join(OUT, 'g2.json'), JSON.stringify(v.receivers[0]!.result));
      writeFileSync(join(OUT, 'g1-sender.json'), JSON.stringify(v.sender));
      const both = join(OUT, 'results.html');
      const r2 = await mcbench(['report', join(OUT, 'g2.json'), join(OUT, 'g1-sender.json'), '-o', both]);
      expect([r2.code, r2.stderr]).toEqual([0, '']);
      const p2 = await openPage(both);
      expectAllDrawn(p2, ['percentile', 'time', 'stacked']);
      expect(p2.text).toContain('receiver result');
      expect(p2.text).toContain('sender result');
      console.log(`run --local -t 1: ${runSeconds.toFixed(1)} s; run.html ${statSync(html).size} bytes`);
    }, 90000);

    it('ab --local --json-stream --html: every run a point, mean and interval, the verdict in words, A\'s and B\'s settings differ', async () => {
      const json = join(OUT, 'ab.json');
      const html = join(OUT, 'ab.html');
      const r = await mcbench(['ab', '--local', '--a', 'net.core.rmem_max=212992', '--b', 'net.core.rmem_max=26214400', '--rcvbuf', '25M', '--bandwidth', '0', '-t', '1', '--reps', '2', '--warmup', '0', '--json', json, '--html', html, '--json-stream'], 120000);
      expect(r.code, r.stderr).toBe(0);
      expectStream(r.stdout, json, 4);
      // stderr is a pipe here: no progress line
      expect(r.stderr).not.toMatch(/\r|\[1\/4\] run/);
      if (!hasChromium) return;
      const page = await openPage(html);
      expectAllDrawn(page, ['ab', 'percentile']);
      const doc = JSON.parse(readFileSync(json, 'utf8')) as { verdict: string[] };
      for (const line of doc.verdict) expect(page.text).toContain(line);
      expect(page.text).toMatch(/net\.core\.rmem_max\s+212992\s+26214400\s+changed/);
    }, 150000);

    it('suite --local --json-stream --html: the scenarios with their verdicts; a typical suite page stays well under 2 MB', async () => {
      const json = join(OUT, 'suite.json');
      const html = join(OUT, 'suite.html');
      const r = await mcbench(['suite', join(ROOT, 'bench', 'suites', 'smoke.json'), '--local', '--json', json, '--html', html, '--json-stream'], 120000);
      expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
      expectStream(r.stdout, json, 2);
      if (!hasChromium) return;
      const page = await openPage(html);
      expectAllDrawn(page, ['percentile', 'time', 'stacked']);
      expect(page.text).toMatch(/paced-2k\s+custom\s+(pass|FAIL)/);
      expect(page.text).toMatch(/scenario rmem-tuned: (pass|FAIL)/);
      const size = statSync(html).size;
      console.log(`suite.html (smoke, 2 scenarios): ${size} bytes; suite.json ${statSync(json).size} bytes`);
      expect(size).toBeLessThan(2 * 1024 * 1024);
      // the same page from the file, through report
      const again = join(OUT, 'suite-report.html');
      expect((await mcbench(['report', json, '-o', again])).code).toBe(0);
    }, 150000);
  });

  it.skipIf(!hasChromium)('HTML in host names and guest names is shown as text, never run or fetched', async () => {
    const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunReport;
    const evil = '<img src="http://127.0.0.1:9/x.png" onerror="window.__pwned=1"></script><script>window.__pwned=2</script><!--';
    doc.scenario.title = evil;
    doc.variants[0]!.name = `v${evil}`;
    const rx = doc.variants[0]!.receivers[0]!;
    rx.guest = `g2${evil}`;
    rx.result!.start.hostname = evil;
    rx.result!.end.warnings.push(evil);
    if (rx.result!.start.settings) rx.result!.start.settings.entries[0]!.id = evil;
    const file = join(OUT, 'evil.json');
    writeFileSync(file, JSON.stringify(doc));
    const html = join(OUT, 'evil.html');
    const r = await mcbench(['report', file, '-o', html]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toContain('<img src="http');
    const page = await context!.newPage();
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-chart]')].every((e) => e.hasAttribute('data-drawn')));
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll('img').length)).toBe(0);
    expect(await page.evaluate(() => document.body.innerText)).toContain(evil);
    expect(requests).toEqual([pathToFileURL(html).href]);
    await page.close();
  }, 60000);
});

// ------------------------------------------------------------------------------------ progress

describe('progress of long work', () => {
  it('the line: step i/N, elapsed, ETA from the finished steps (or the estimate before any)', () => {
    const o = { total: 4, unit: 'run', stepSeconds: 5 };
    expect(progressLine(o, { step: 1, label: 'rep 1/2: A', elapsed: 2, stepElapsed: 2, done: 0, doneSeconds: 0 })).toBe('[1/4] run rep 1/2: A · elapsed 2s · ETA 18s');
    // two steps took 10 s each: two more left, 4 s into the third
    expect(progressLine(o, { step: 3, label: 'x', elapsed: 24, stepElapsed: 4, done: 2, doneSeconds: 20 })).toBe('[3/4] run x · elapsed 24s · ETA 16s');
    expect(progressLine({ total: 2, unit: 'scenario' }, { step: 1, label: 'a', elapsed: 65, stepElapsed: 65, done: 0, doneSeconds: 0 })).toBe('[1/2] scenario a · elapsed 1m05s · ETA ?');
    expect(progressLine({ total: 0, unit: '', totalSeconds: 30 }, { step: 0, label: 'send', elapsed: 12, stepElapsed: 12, done: 0, doneSeconds: 0 })).toBe('send: elapsed 12s of 30s, ETA 18s');
    expect(progressLine({ total: 0, unit: '' }, { step: 0, label: 'recv', elapsed: 12, stepElapsed: 12, done: 0, doneSeconds: 0 })).toBe('recv: elapsed 12s');
  });

  it('shown only to a terminal, never with CI set', () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
    expect(progressWanted(tty, {})).toBe(true);
    expect(progressWanted(tty, { CI: 'true' })).toBe(false);
    expect(progressWanted(pipe, {})).toBe(false);
  });

  it.skipIf(!isRoot || !existsSync('/usr/bin/script'))('ab on a terminal rewrites one line per run in place; with CI set, no progress (piped: see the ab test above)', async () => {
    const ab = `${process.execPath} ${MCBENCH} ab --local --a net.core.rmem_max=212992 --b net.core.rmem_max=26214400 --bandwidth 10M -t 1 --reps 1 --warmup 0`;
    const underPty = (env: NodeJS.ProcessEnv) => new Running(spawn('script', ['-qfec', ab, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env }), 90000).done;
    const { CI: _ci, ...noCi } = process.env;
    const tty = await underPty(noCi);
    expect(tty.code, tty.stdout + tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/\r\[1\/2\] run rep 1\/1: A · elapsed \d+s · ETA (\d+s|\d+m\d\ds)\x1b\[K/);
    expect(tty.stdout).toMatch(/\r\[2\/2\] run rep 1\/1: B · elapsed/);
    // the last thing on the terminal is the verdict, not a progress line
    expect(tty.stdout.trimEnd()).toMatch(/\nloss: [^\n\r\x1b]*$/);
    const ci = await underPty({ ...noCi, CI: '1' });
    expect(ci.code).toBe(0);
    expect(ci.stdout).not.toMatch(/\[1\/2\] run/);
  }, 120000);
});

// ------------------------------------------------------------------------------------ small things

describe('small things a new user hit', () => {
  it('a 16 kbit/s probe reads 16.0 kbit/s in the run table, not 0.0 Mbit/s', () => {
    expect(tableRate(16000)).toBe('16.0 kbit/s');
    expect(tableRate(1155.4e6)).toBe('1155.4 Mbit/s');
    expect(tableRate(800)).toBe('800 bit/s');
    expect(formatRate(16000)).toBe('16.00 kbit/s');
  });

  it('ab describes its runs with its own flags: --bandwidth, never -b (side B)', () => {
    expect(abRunDescription(['-l', '1400', '-t', '1', '-b', '0'], ['--rcvbuf', '25M'])).toBe('--length 1400 --time 1 --bandwidth 0 (unlimited), receivers --rcvbuf 25M');
    expect(abRunDescription(['-l', '200', '-t', '3', '--pps', '10'], [])).toBe('--length 200 --time 3 --pps 10');
  });

  it('JUnit time is the measured duration of each scenario and of the suite, not the configured -t', () => {
    const base = JSON.parse(readFileSync(FIXTURE, 'utf8')) as RunReport;
    const scenario = { name: 's', scenario: 'custom', thresholds: {}, metrics: [], baseline: null, failures: [], passed: true, report: base, seconds: 21.25 };
    const xml = suiteJunit({ schema: 'mcbench/suite@1', suite: 'x', file: 'x.yaml', started: '2026-01-01T00:00:00.000Z', finished: '2026-01-01T00:00:30.500Z', local: false, tolerance_percent: 10, baseline_file: null, scenarios: [scenario], passed: true, partial: false });
    expect(xml).toContain('<testcase classname="mcbench.suite.x" name="s" time="21.250"/>');
    expect(xml).toMatch(/<testsuite name="x" [^>]*time="30\.500"/);
  });
});
