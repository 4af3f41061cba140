// Orchestrated runs pick their session: the sender sends under it (send --session) and every
// receiver measures only it (recv --expect-session), so a crafted session on the group, with a
// gap and a plausible FIN, neither ends a receiver early nor adds its loss. The crafted packets
// are test/helpers/craft_v2.py's, sent into the run's own namespace while it runs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/core/run-report.js';
import { parseSessionId } from '../src/core/spec.js';
import { MCBENCH, mcbenchNoNet, Running } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const ROOT = join(import.meta.dirname, '..');
const CRAFT = join(ROOT, 'test', 'helpers', 'craft_v2.py');
const dir = mkdtempSync(join(tmpdir(), 'mcbench-expect-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('session ids (pure and bad input)', () => {
  it('1-16 hex digits, padded to 16, lower case; 0 and the rest refused naming the flag', () => {
    expect(parseSessionId('--session', 'ABC')).toBe('0000000000000abc');
    expect(parseSessionId('--session', 'ffffffffffffffff')).toBe('ffffffffffffffff');
    expect(parseSessionId('--session', undefined)).toBeNull();
    for (const bad of ['0', '000', 'xyz', '1ffffffffffffffff', '', '-1', '0x10']) {
      expect(() => parseSessionId('--expect-session', bad)).toThrow(/^--expect-session: '.*' is not a session id \(1 to 16 hex digits, not 0\)$/);
    }
  });

  const cases: Array<[string[], RegExp]> = [
    [['send', '-g', '239.1.1.1', '--session', 'nothex'], /^mcbench send: --session: 'nothex' is not a session id/],
    [['recv', '-g', '239.1.1.1', '--expect-session', '0'], /^mcbench recv: --expect-session: '0' is not a session id/],
    [['recv', '-g', '239.1.1.1', '--expect-session', 'ab', '--sessions', '2'], /^mcbench recv: --expect-session: not with --sessions/],
  ];
  for (const [args, want] of cases) {
    it(args.join(' '), async () => {
      const r = await mcbenchNoNet(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }
});

/** The pids of a process's children (Linux: /proc/PID/task/PID/children). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The --local run's namespace holder: mcbench's child in another network namespace than ours. */
async function namespaceOf(pid: number, timeoutMs: number): Promise<number> {
  const ours = readlinkSync('/proc/self/ns/net');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const c of children(pid)) {
      try {
        if (readlinkSync(`/proc/${c}/ns/net`) !== ours) return c;
      } catch { /* gone meanwhile */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run\'s namespace did not appear');
}

describe.skipIf(!isRoot)('run --local with a crafted session on the group', () => {
  it('the crafted DATA gap and FIN neither end the receiver nor change its loss; its packets are counted as another session\'s', async () => {
    const file = join(dir, 'run.json');
    const run = new Running(spawn(process.execPath, [MCBENCH, 'run', '--local', '--receivers', '1', '--pps', '1000', '-l', '200', '-t', '3', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] }), 60000);
    let holder: number;
    try {
      holder = await namespaceOf(run.child.pid!, 15000);
    } catch (e) {
      run.child.kill('SIGKILL');
      throw e;
    }
    // the receiver joins and the sender starts within a second or so; the sender runs 3 s
    await new Promise((r) => setTimeout(r, 1800));
    // a session of its own: seq 0, then 500 (499 missing), then a FIN saying 501 were sent
    const session = 'c0ffee00c0ffee00';
    const packets = [{ kind: 'data', session, seq: 0 }, { kind: 'data', session, seq: 500 }, { kind: 'fin', session, seq: 501 }];
    execFileSync('nsenter', ['-t', String(holder), '-n', 'python3', CRAFT, '239.255.0.1', '5001', JSON.stringify(packets)], { timeout: 10000 });
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
    const v = report.variants[0]!;
    const sender = v.sender!;
    const rx = v.receivers[0]!.result!;
    // the run's own session, chosen by the orchestrator, is the one measured
    expect(rx.start.config.expect_session).toBe(sender.end.session_id);
    expect(rx.end.sessions.map((s) => s.session_id)).toEqual([sender.end.session_id]);
    // it ended at the real sender's FIN, with everything the sender sent and no loss
    expect(rx.end.end_reason).toBe('fin');
    expect(rx.end.sum.packets).toBe(sender.end.packets);
    expect(rx.end.sum.lost_packets).toBe(0);
    expect(sender.end.packets).toBeGreaterThan(2500);
    // the crafted session's two DATA and its FIN: counted, ignored
    expect(rx.end.other_session_packets).toBe(3);
    expect(rx.end.warnings.some((w) => w.includes('packets of sessions other than the expected'))).toBe(true);
  }, 90000);
});
