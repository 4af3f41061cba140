// Issue 10 items 1, 4-7, met as an attacker or an unlucky user would meet them: symlinks planted
// by an unprivileged user where root writes, a full file system, /dev/null and /dev/stdout in a
// private /dev, suite files that are devices, and a table of bad input over every flag of every
// command (exit 2, one line, nothing made), and Ctrl-C of send and recv (exit 130, partial JSON).
// Needs root: it mounts tmpfs in private mount namespaces (unshare -m), makes device nodes there,
// and runs commands as nobody (setpriv) in a folder it made.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCBENCH, TestNetns, type RunOutput } from './helpers/netns.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
let base: string;

/** Runs a shell script (as root) and returns what it printed; the script fails the test on error. */
const sh = (script: string, opts: { input?: string } = {}) => execFileSync('sh', ['-ec', script], { encoding: 'utf8', ...opts });

/** mcbench with a cwd of its own; resolves on exit. */
function mcbench(args: string[], opts: { cwd?: string; asNobody?: boolean; timeoutMs?: number } = {}): Promise<RunOutput> {
  const argv = opts.asNobody ? ['setpriv', [...NOBODY, process.execPath, MCBENCH, ...args]] as const : [process.execPath, [MCBENCH, ...args]] as const;
  const child = spawn(argv[0], [...argv[1]], { cwd: opts.cwd ?? base, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    setImmediate(() => resolve({ code, signal, stdout, stderr }));
  }));
}

const netnsNames = () => (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
const mcbLinks = () => (spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(/[\s@]/)[0]!).filter((n) => n.startsWith('mcb-sg'));

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (unshare -m, mknod, setpriv)');
  base = mkdtempSync(join(tmpdir(), 'mcb-safety-'));
  chmodSync(base, 0o755); // nobody must reach the shared folder inside
});
afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('output files', () => {
  it('symlinks planted by another user do not redirect root\'s write', async () => {
    // A folder anyone may write to, like /tmp: sticky, 1777.
    const shared = join(base, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const victim = join(base, 'victim');
    writeFileSync(victim, 'precious\n');
    chmodSync(victim, 0o644);
    // As nobody: a link at the target itself, and links at every temp name the old writer would
    // have used (.NAME.PID.tmp) for the next 300 pids.
    const next = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    const plant = `ln -s ${victim} ${shared}/out.json; i=${next}; while [ $i -lt ${next + 300} ]; do ln -s ${victim} ${shared}/.out.json.$i.tmp; i=$((i+1)); done`;
    const p = spawnSync('setpriv', [...NOBODY, 'sh', '-ec', plant], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    const planted = readdirSync(shared).filter((n) => n.endsWith('.tmp'));
    expect(planted).toHaveLength(300);

    const r = await mcbench(['settings', '--json', join(shared, 'out.json')]);
    expect(r.code, r.stderr).toBe(0);
    // The victim is untouched; out.json is now root's own regular file with the snapshot; the
    // planted temp links are still links to the victim, and no temp file of ours is left.
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    const st = lstatSync(join(shared, 'out.json'));
    expect(st.isFile()).toBe(true);
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o644 & ~0); // umask 022 of the test runner: 0666 & ~022
    expect(JSON.parse(readFileSync(join(shared, 'out.json'), 'utf8'))).toHaveProperty('schema');
    const after = readdirSync(shared).filter((n) => n.endsWith('.tmp'));
    expect(after.sort()).toEqual(planted.sort());
    for (const n of after) expect(readlinkSync(join(shared, n))).toBe(victim);
  });

  it('a new file gets 0666 & ~umask once complete (umask 077: 0600)', () => {
    const f = join(base, 'umask.json');
    sh(`umask 077; "${process.execPath}" "${MCBENCH}" settings --json ${f} >/dev/null`);
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('a full file system: one line, exit 1, the old file intact, no temp file left', () => {
    const dir = join(base, 'tiny');
    mkdirSync(dir);
    // In a private mount namespace: the tmpfs is gone with the shell, whatever happens.
    const out = sh(`unshare -m --propagation private sh -ec '
      mount -t tmpfs -o size=64k tmpfs ${dir}
      echo "{\\"old\\": true}" > ${dir}/out.json
      dd if=/dev/zero of=${dir}/fill bs=4k 2>/dev/null || true
      set +e
      "${process.execPath}" "${MCBENCH}" settings --json ${dir}/out.json >/dev/null 2>${dir}/../tiny.err
      echo "rc=$?"
      cat ${dir}/out.json
      ls -a ${dir} | tr "\\n" " "
    '`);
    const err = readFileSync(join(base, 'tiny.err'), 'utf8');
    expect(out).toMatch(/^rc=1\n/);
    expect(err).toBe(`mcbench settings: cannot write ${dir}/out.json: no space left on device\n`);
    expect(out).toContain('{"old": true}');
    expect(out.trim().split('\n').pop()!.trim().split(/\s+/).sort()).toEqual(['.', '..', 'fill', 'out.json']);
    expect(existsSync(join(dir, 'fill'))).toBe(false); // the mount did not leak
  });

  it('/dev/null and /dev/stdout in a private /dev stay what they are', () => {
    const out = sh(`unshare -m --propagation private sh -ec '
      mount -t tmpfs tmpfs /dev
      mknod -m 666 /dev/null c 1 3
      ln -s /proc/self/fd/1 /dev/stdout
      "${process.execPath}" "${MCBENCH}" settings --json /dev/null >/dev/null
      echo "null: $(stat -c %F /dev/null) $(stat -c %t,%T /dev/null)"
      "${process.execPath}" "${MCBENCH}" settings --json /dev/stdout > /dev/shm.out 2>&1 || true
      echo "stdout: $(stat -c %F /dev/stdout)"
      grep -c "\\"schema\\"" /dev/shm.out
    '`);
    expect(out).toContain('null: character special file 1,3');
    expect(out).toContain('stdout: symbolic link');
    expect(out.trim().split('\n').pop()).toBe('1'); // the JSON went through the link to stdout
  });

  it('a FIFO is written in place; with no reader: exit 1 at once', async () => {
    const fifo = join(base, 'fifo');
    sh(`mkfifo ${fifo}`);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const readerDone = new Promise((res) => reader.on('exit', res));
    let got = '';
    reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
    // cat must be in its open() (a reader of the FIFO) before mcbench opens it for writing
    for (let i = 0; i < 500; i++) {
      const stat = (() => { try { return readFileSync(`/proc/${reader.pid}/stat`, 'utf8'); } catch { return ''; } })();
      if (/^\d+ \(cat\) S /.test(stat)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await mcbench(['settings', '--json', fifo]);
    await readerDone;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(got)).toHaveProperty('schema');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    const lonely = await mcbench(['settings', '--json', fifo], { timeoutMs: 5000 });
    expect(lonely.code).toBe(1);
    expect(lonely.stderr).toBe(`mcbench settings: cannot write ${fifo}: no process has the FIFO open for reading\n`);
  });
});

// ---- the bad-input grid ----------------------------------------------------------------------

type Case = [name: string, args: string[], flag: string];
const G = ['-g', '239.1.1.1'];
const cases: Case[] = [];
/** what the message names: the long form (`-n/--count: …`, `--count: given more than once`) */
const LONG: Record<string, string> = { '-p': '--port', '-l': '--length', '-n': '--count', '-b': '--bandwidth', '-t': '--time', '-i': '--interval', '-I': '--interface', '-g': '--group', '-N': '--guests' };
const named = (flag: string) => LONG[flag] ?? flag;
const add = (cmd: string[], flag: string, value: string, name = value) => cases.push([`${cmd.join(' ')} ${flag} ${name}`, [...cmd, flag, value], named(flag)]);
/**
 * The forms no numeric flag takes: hex, exponent, sign, words; a fraction where it must be whole;
 * given twice or empty. One of the first five per flag, in turn, so every form meets every kind of flag
 * and the grid stays at a few seconds.
 */
const FORMS = ['0x10', '1e2', '-1', 'lots', '+3'];
let turn = 0;
function numeric(cmd: string[], flag: string, kind: 'whole' | 'fraction') {
  add(cmd, flag, FORMS[turn % FORMS.length]!);
  if (kind === 'whole') add(cmd, flag, '2.5');
  if (turn % 2 === 0) twice(cmd, flag, '1');
  else add(cmd, flag, '', '(empty)');
  turn++;
}
function twice(cmd: string[], flag: string, v: string) {
  cases.push([`${cmd.join(' ')} ${flag} twice`, [...cmd, flag, v, flag, v], named(flag)]);
}

const send = ['send', ...G];
const recv = ['recv', ...G];
for (const f of ['-p', '--batch', '-l', '-n', '--ttl']) numeric(send, f, 'whole');
for (const f of ['-b', '--pps', '-t', '-i']) numeric(send, f, 'fraction');
for (const f of ['--rcvbuf', '--sessions']) numeric(recv, f, 'whole');
for (const f of ['--idle-timeout', '-t', '--test-read-pause']) numeric(recv, f, 'fraction');
add(recv, '--rcvbuf', '2G');
add(send, '-l', '32.4');
add(send, '-p', '6.2e3');
add(send, '-I', '', '(empty)');
add(send, '-g', '0xef010101');
add(recv, '-I', '10.1.2');
add(recv, '--hgrm', '-');
for (const c of [send]) {
  add(c, '--json', '', '(empty)');
  twice(c, '--json', 'a.json');
  add(c, '--json', '/proc/mcbench.json');
  add(c, '--json', '/sys/mcbench.json');
  add(c, '--json', '.');
  add(c, '--json', 'sub/');
}
add(recv, '--hgrm', '/proc/x.hgrm');
add(send, '--session', 'xyz');
add(send, '--session', '0');
twice(send, '--session', 'ab');
add(recv, '--expect-session', '1ffffffffffffffff');
add([...recv, '--sessions', '2'], '--expect-session', 'ab');
add(recv, '--hgrm', '/tmp');

const run = ['run', '--local'];
for (const f of ['-p', '-l', '--receivers']) numeric(run, f, 'whole');
for (const f of ['-b', '--pps', '-t']) numeric(run, f, 'fraction');
add(run, '--rcvbuf', '1e6');
add(['run'], '--snooping', '2');
add(['run'], '--querier', 'yes');
add(['run'], '--lab-name', 'Bad_Name');
add(['run'], '--lab-name', '', '(empty)');
add(run, '--scenario', 'nosuch');
add(['run', '--scenario', 'seed-001-rmem', '--local'], '--variant', 'nosuch');
add(run, '--json', '/proc/run.json');
twice(run, '--json', 'r.json');
for (const v of ['net.core=1', 'net.core.rmem_max=abc', 'net.core.rmem_max=0x100', 'net.core.rmem_max=1e6', 'net.core.rmem_max=-1', 'net.core.rmem_max=99999999999',
  'net.ipv4.route.flush=1', 'net.core.nosuch=1', '../../etc/passwd=1', 'net..core=1', 'rmem_max', 'net.ipv4.conf.all.rp_filter=7', 'net.bridge.bridge-nf-call-iptables=2', 'net.ipv4.udp_mem=1,x,3']) {
  add(run, '--set', v);
}
add(run, '--hosts', '/dev/zero');
add(run, '--sender', 'g1');

const ab = ['ab', '--local', '--a', 'net.core.rmem_max=212992', '--b', 'net.core.rmem_max=4194304'];
for (const f of ['--reps', '--warmup', '-l', '--receivers']) numeric(ab, f, 'whole');
for (const f of ['--bandwidth', '-t']) numeric(ab, f, 'fraction');
add(['ab', '--local', '--a', 'net.core.rmem_max=212992'], '--b', 'net.core=1');
add(['ab', '--local', '--b', 'net.core.rmem_max=212992'], '--a', 'net.core.rmem_max=lots');
add(ab, '--reps', '0');
add(ab, '--warmup', '11');
add(ab, '--json', '/sys/ab.json');
twice(ab, '--a-name', 'x');
const abNdr = [...ab, '--metric', 'ndr'];
add(ab, '--metric', 'fastest');
add(ab, '--trial', '1');
numeric(abNdr, '--max-trials', 'whole');
for (const f of ['--trial', '--loss-tolerance', '--resolution']) numeric(abNdr, f, 'fraction');
add(abNdr, '--bandwidth', '10M');
add(abNdr, '--gso', '8');
add(abNdr, '--max-pps', '50');

let suiteFile = ''; // made in beforeAll of the grid (a valid suite)
const suiteCases: Array<[string, () => string[], string]> = [];
const suite = (name: string, args: () => string[], flag: string) => suiteCases.push([name, args, flag]);
suite('suite /dev/zero', () => ['suite', '/dev/zero', '--local'], '/dev/zero');
suite('suite a folder', () => ['suite', base, '--local'], 'not a regular file (a folder)');
suite('suite a 17 MiB file', () => ['suite', join(base, 'big.json'), '--local'], 'at most 16777216 bytes');
suite('suite a FIFO', () => ['suite', join(base, 'suite.fifo'), '--local'], 'a FIFO');
suite('suite --baseline /dev/zero', () => ['suite', suiteFile, '--local', '--baseline', '/dev/zero'], '--baseline');
for (const v of ['1e1', '0x10', '-1', 'ten', '1001']) suite(`suite --tolerance ${v}`, () => ['suite', suiteFile, '--local', `--tolerance=${v}`], '--tolerance');
for (const f of ['--json', '--markdown', '--junit', '--benchmark-json', '--benchmark-bigger-json']) {
  suite(`suite ${f} a folder`, () => ['suite', suiteFile, '--local', f, base], f);
  suite(`suite ${f} twice`, () => ['suite', suiteFile, '--local', f, 'a', f, 'b'], f);
  suite(`suite ${f} /proc`, () => ['suite', suiteFile, '--local', f, '/proc/s'], f);
}
suite('suite --lab-name', () => ['suite', suiteFile, '--lab-name', 'UPPER'], '--lab-name');
suite('suite --receivers without --hosts', () => ['suite', suiteFile, '--receivers', 'g2'], '--receivers');
for (const [i, set] of ['net.core=1', 'net.core.rmem_max=abc', 'net.ipv4.route.flush=1', 'net.core.nosuch=2'].entries()) {
  suite(`suite file set ${set}`, () => ['suite', join(base, `set${i}.json`), '--local'], "scenarios[1] 'b': run.set");
}

const lab = ['lab', 'up', '--name', 'sg1'];
numeric(lab, '--guests', 'whole');
for (const f of ['--txqueuelen', '--mtu']) numeric(lab, f, 'whole');
for (const f of ['--membership-interval', '--querier-interval', '--query-interval', '--response-interval', '--startup-query-interval', '--upstream-query-interval']) numeric(lab, f, 'fraction');
add(lab, '--guests', '99');
add(lab, '--mtu', '67');
add(lab, '--stp', '2');
add(lab, '--snooping', 'on');
add(lab, '--querier', '-1');
add(lab, '--upstream-querier', 'sometimes');
add(lab, '--response-interval', '30');
add(['lab', 'up'], '--name', 'UPPER');
add(['lab', 'up'], '--name', 'waytoolongname');
add(['lab', 'down'], '--name', 'a/b');
twice(['lab', 'down'], '--name', 'sg2');
add(['lab', 'status'], '--name', 'x y');
add(['lab', 'status'], '--name', '', '(empty)');
cases.push(['lab exec bad guest', ['lab', 'exec', '--name', 'sg3', 'g99', '--', 'true'], 'g99']);
add(['lab', 'exec', 'g1'], '--name', 'UP');

add(['doctor', '--sample', '0'], '-I', 'nosuch9');
add(['doctor', '--sample', '0'], '--json', '/proc/d.json');
add(['doctor', '--sample', '0'], '--json', 'dir/');
twice(['doctor', '--sample', '0'], '--json', 'x.json');
for (const c of [['settings']]) {
  add(c, '-I', 'nosuch9');
  add(c, '-I', '10.1.2');
  add(c, '--bridge', 'a b');
  add(c, '--json', '', '(empty)');
  twice(c, '--json', 'x.json');
  add(c, '--json', '/proc/s.json');
  add(c, '--json', '/sys/kernel/s.json');
  add(c, '--json', '/tmp');
  add(c, '--json', 'dir/');
  add(c, '--json', '/nonexistent-mcb/x.json');
}
numeric(['doctor'], '--sample', 'fraction');
add(['doctor'], '--sample', '3601');

const igmp = ['igmp-query', '-I', 'lo'];
numeric(igmp, '-n', 'whole');
for (const f of ['--interval', '--max-resp']) numeric(igmp, f, 'fraction');
add(igmp, '--max-resp', '26');
add(['demo'], '--json', '/proc/demo.json');
add(['demo'], '--json', '', '(empty)');
twice(['demo'], '--json', 'd.json');
add(['demo'], '--lab-name', 'TooLongName9');

describe('bad input over every flag of every command: exit 2, one line, nothing made', () => {
  let netnsBefore: string[];
  beforeAll(() => {
    netnsBefore = netnsNames();
    suiteFile = join(base, 'ok.json');
    const scenario = (name: string, set?: string) => ({ name, run: { time: '1', bandwidth: '1M', ...(set ? { set: [set] } : {}) } });
    writeFileSync(suiteFile, JSON.stringify({ suite: 'ok', scenarios: [scenario('a')] }));
    for (const [i, set] of ['net.core=1', 'net.core.rmem_max=abc', 'net.ipv4.route.flush=1', 'net.core.nosuch=2'].entries()) {
      // scenario a is good, b is not: the file is refused before a runs
      writeFileSync(join(base, `set${i}.json`), JSON.stringify({ suite: 's', scenarios: [scenario('a'), scenario('b', set)] }));
    }
    sh(`truncate -s 17M ${join(base, 'big.json')}; mkfifo ${join(base, 'suite.fifo')}`);
  });
  afterAll(() => {
    expect(netnsNames().filter((n) => !netnsBefore.includes(n) && n.startsWith('mcb-sg'))).toEqual([]); // this grid's lab names; others' tests may run meanwhile
    expect(mcbLinks()).toEqual([]);
  });

  it('has 150+ cases', () => {
    expect(cases.length + suiteCases.length).toBeGreaterThanOrEqual(150);
  });

  const check = async (args: string[], flag: string) => {
    // each case in a folder of its own, which must stay empty
    const cwd = mkdtempSync(join(base, 'case-'));
    const r = await mcbench(args, { cwd, timeoutMs: 15000 });
    const lines = r.stderr.trim().split('\n');
    expect(r.code, r.stderr).toBe(2);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^mcbench[ :]/);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(readdirSync(cwd)).toEqual([]);
    rmSync(cwd, { recursive: true });
  };
  it.concurrent.each(cases)('%s', async (_name, args, flag) => check(args, flag));
  it.concurrent.each(suiteCases)('%s', async (_name, args, flag) => check(args(), flag));

  it('non-root run --local --set: exit 2, root is needed', async () => {
    const r = await mcbench(['run', '--local', '--set', 'net.core.rmem_max=4194304', '-t', '1'], { asNobody: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mcbench run: --set: needs root to set net.core.rmem_max\n');
  });
});

// ---- signals -----------------------------------------------------------------------------------

describe('Ctrl-C of send and recv: exit 130 (SIGTERM 143), the partial result written', () => {
  it('SIGINT to both mid-run', async () => {
    const ns = await TestNetns.create();
    try {
      const dir = mkdtempSync(join(base, 'sig-'));
      const rj = join(dir, 'recv.json');
      const sj = join(dir, 'send.json');
      const recv = ns.mcbench(['recv', '-g', '239.255.10.10', '-I', 'lo', '-p', '5910', '-t', '60', '--idle-timeout', '60', '--json', rj]);
      await recv.waitFor('listening', 5000);
      const send = ns.mcbench(['send', '-g', '239.255.10.10', '-I', 'lo', '-p', '5910', '--pps', '200', '-l', '200', '-t', '60', '--json', sj, '-q']);
      await new Promise((r) => setTimeout(r, 1500));
      send.child.kill('SIGINT');
      const s = await send.done;
      await new Promise((r) => setTimeout(r, 300));
      recv.child.kill('SIGINT');
      const r = await recv.done;
      expect(s.code, s.stderr).toBe(130);
      expect(r.code, r.stderr).toBe(130);
      // SIGTERM: 143, the result written too
      const tj = join(dir, 'term.json');
      const lone = ns.mcbench(['recv', '-g', '239.255.10.11', '-I', 'lo', '-p', '5911', '-t', '60', '--json', tj]);
      await lone.waitFor('listening', 5000);
      lone.child.kill('SIGTERM');
      const t = await lone.done;
      expect(t.code, t.stderr).toBe(143);
      expect((JSON.parse(readFileSync(tj, 'utf8')) as { end: { partial: boolean } }).end.partial).toBe(true);
      const sent = JSON.parse(readFileSync(sj, 'utf8')) as { end: { partial: boolean; packets?: number; end_reason: string } };
      const got = JSON.parse(readFileSync(rj, 'utf8')) as { end: { partial: boolean; end_reason: string } };
      expect(sent.end.partial).toBe(true);
      expect(got.end.partial).toBe(true);
      expect(JSON.stringify(got)).toMatch(/"packets":\s*[1-9]/); // it received something before the signal
    } finally {
      await ns.close();
    }
  }, 20000);
});
