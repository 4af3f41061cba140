// Guests without a compiler: `npm pack` of this tree ships the prebuilt addon and bundles the
// runtime dependencies; installMcbench puts it into a fresh prefix where no compiler can run
// (every cc/gcc/g++/make bind-mounted over with a script that fails loudly, in a private mount
// namespace) and no registry is reachable; the installed mcbench then sends and receives on lo
// in a private network namespace, which only works if the prebuilt addon loaded.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { writeFileAtomic } from '../src/report/files.js';
import { installMcbench, recordInstall, readInstalls, type RemoteResult, type RemoteShell } from '../src/where/ssh-install.js';
import type { RunReport } from '../src/core/run-report.js';
import { ROOT, Running, TestNetns } from './helpers/netns.js';
import { SshLab } from './helpers/sshd.js';

const dir = mkdtempSync(join(tmpdir(), 'mcbench-install-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** the tarball the first test packs; the ssh test installs it on the guests */
let packed: string | null = null;

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Every compiler and make this machine has, as paths to mask. */
function compilers(): string[] {
  const names = /^(cc|c\+\+|gcc|g\+\+|cpp|make|gmake|clang|clang\+\+)(-[\d.]+)?$|^x86_64-linux-gnu-(gcc|g\+\+|cpp)(-[\d.]+)?$/;
  const out: string[] = [];
  for (const d of ['/usr/bin', '/usr/local/bin', '/bin']) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (names.test(f)) out.push(join(d, f));
  }
  return out;
}

/** A shell on "a guest without a compiler": this machine, compilers masked, no registry, its own HOME. */
function noCompilerShell(home: string, trap: string, masked: string[]): RemoteShell {
  const mounts = masked.map((p) => `mount --bind ${trap} ${p}`).join(' && ');
  return {
    run: (argv) =>
      new Promise<RemoteResult>((resolve) => {
        const child = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && exec "$@"`, 'sh', ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { PATH: process.env.PATH, HOME: home, npm_config_registry: 'http://127.0.0.1:9/', npm_config_cache: join(home, '.npm') },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      }),
    copy: (from, to) => {
      cpSync(from, to);
      return Promise.resolve();
    },
  };
}

describe('npm pack + install on a host without a compiler', () => {
  it('the tarball carries the prebuilt addon and its dependencies; installed offline, it sends and receives', async () => {
    // Pack a copy of this tree, so the shared build/ and dist/ are left alone.
    const src = join(dir, 'src-tree');
    mkdirSync(src);
    for (const f of readdirSync(ROOT)) {
      if (['node_modules', 'build', 'dist', 'prebuilds', '.git', 'bench'].includes(f) || f.startsWith('build-')) continue;
      cpSync(join(ROOT, f), join(src, f), { recursive: true });
    }
    // A copy, not a symlink: npm pack resolves bundleDependencies' own dependencies through the real
    // tree, and through a symlinked node_modules it left yargs-parser out on a fresh `npm ci`.
    cpSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    const pack = spawnSync('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: src, encoding: 'utf8', timeout: 90000 });
    expect(pack.status, pack.stderr.slice(-2000)).toBe(0);
    const tarball = join(dir, `mcbench-${VERSION}.tgz`);
    packed = tarball;
    const listing = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
    expect(listing).toContain('package/prebuilds/linux-x64/mcbench.node');
    expect(listing).toContain('package/dist/cli.js');
    for (const dep of ['hdr-histogram-js', 'yargs', 'yaml', 'node-gyp-build']) expect(listing, dep).toContain(`package/node_modules/${dep}/package.json`);
    expect(listing.some((l) => l.startsWith('package/build/'))).toBe(false);

    const masked = compilers();
    expect(masked.length).toBeGreaterThan(0);
    const trap = join(dir, 'no-compiler.sh');
    writeFileSync(trap, '#!/bin/sh\necho "compiler used: $0 $*" >&2\nexit 127\n', { mode: 0o755 });
    const home = join(dir, 'home');
    mkdirSync(home);
    const shell = noCompilerShell(home, trap, masked);
    // The masking works: cc is there but fails, saying so.
    const cc = await shell.run(['cc', '--version']);
    expect(cc.code).toBe(127);
    expect(cc.stderr).toContain('compiler used');

    const prefix = join(dir, 'prefix');
    const rec = await installMcbench('test-guest', shell, tarball, prefix);
    expect(rec).toMatchObject({ mcbench: `${prefix}/bin/mcbench`, prefix, version: VERSION, node: process.version });
    const pkg = join(prefix, 'lib', 'node_modules', 'mcbench');
    // Nothing was compiled: no build/ folder, the prebuilt addon is the one there is.
    expect(existsSync(join(pkg, 'build'))).toBe(false);
    expect(existsSync(join(pkg, 'prebuilds', 'linux-x64', 'mcbench.node'))).toBe(true);
    const v = await shell.run([rec.mcbench, '--version']);
    expect(v.stdout.trim()).toBe(VERSION);

    // The record the inventory reads.
    const file = join(dir, 'state', 'mcbench', 'installs.json');
    recordInstall(file, 'root@10.0.0.11', rec, writeFileAtomic);
    expect(readInstalls(file).hosts['root@10.0.0.11']!.mcbench).toBe(rec.mcbench);

    // A short send/recv on lo in a private namespace, with the installed mcbench (and its addon).
    const ns = await TestNetns.create();
    try {
      const recv = new Running(ns.spawn(rec.mcbench, ['recv', '-g', '239.9.9.9', '-p', '5990', '-I', 'lo', '--sessions', '1', '-t', '10', '-i', '0', '--json', '-']), 20000);
      const deadline = Date.now() + 10000;
      while (!recv.stderr.includes('listening on') && !recv.stdout.includes('listening on') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const send = await new Running(ns.spawn(rec.mcbench, ['send', '-g', '239.9.9.9', '-p', '5990', '-I', 'lo', '--pps', '2000', '-n', '1000', '-i', '0', '--json', '-']), 20000).done;
      expect(send.code, send.stderr).toBe(0);
      const r = await recv.done;
      expect(r.code, r.stderr).toBe(0);
      const sent = JSON.parse(send.stdout) as SenderResult;
      const got = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as ReceiverResult;
      expect(sent.end.packets).toBe(1000);
      expect(got.end.sessions[0]!.sender_packets).toBe(1000);
      expect(got.end.sum.packets + got.end.sum.lost_packets).toBe(1000);
      expect(got.start.version).toBe(`mcbench ${VERSION}`);
    } finally {
      await ns.close();
    }
  }, 120000);

  it('hosts install over ssh: scp and npm install into each guest\'s own $HOME, recorded; hosts check and a run then use that install', async () => {
    expect(packed, 'the packing test ran first').not.toBeNull();
    const tarball = packed!;
    spawnSync(process.execPath, [join(ROOT, 'bin', 'mcbench.js'), 'lab', 'down', '--name', 'insttest', '--force']);
    const s = await SshLab.up('insttest', 3, { homes: true });
    try {
      // No `mcbench:` keys: before the install there is no mcbench on the guests' PATH.
      const inv = s.file('hosts.yaml', 'hosts:\n  g2: { ssh: g2, interface: eth0 }\n  g3: { ssh: g3, interface: eth0 }\nsender: g2\nreceivers: [g3]\n');
      const state = join(s.dir, 'state', 'mcbench', 'installs.json');
      const cmd = (k: number) => join(s.guestHome(k), '.local', 'mcbench', 'bin', 'mcbench');
      if (spawnSync('sh', ['-c', 'command -v mcbench'], { encoding: 'utf8' }).status !== 0) {
        const pre = await s.mcbench(['hosts', 'check', inv]).done;
        expect(pre.code).toBe(1);
        expect(pre.stderr).toMatch(/g2: mcbench not found on g2: .*mcbench hosts install/);
      }

      const ins = await s.mcbench(['hosts', 'install', inv, '--tarball', tarball], 120000).done;
      expect(ins.code, ins.stderr).toBe(0);
      expect(ins.stdout).toContain(`g2: mcbench ${VERSION} installed as ${cmd(2)} (node ${process.version}); recorded for later runs`);
      expect(ins.stdout).toContain(`g3: mcbench ${VERSION} installed as ${cmd(3)}`);
      // Each guest's copy is its own, with the prebuilt addon; the record is private and names both.
      for (const k of [2, 3]) expect(existsSync(join(s.guestHome(k), '.local', 'mcbench', 'lib', 'node_modules', 'mcbench', 'prebuilds', 'linux-x64', 'mcbench.node'))).toBe(true);
      expect(statSync(dirname(state)).mode & 0o777).toBe(0o700);
      expect(statSync(state).isFile()).toBe(true);
      const rec = readInstalls(state);
      expect(Object.keys(rec.hosts).sort()).toEqual(['g2', 'g3']);
      expect(rec.hosts.g3!.mcbench).toBe(cmd(3));
      // scp's temp folder on the guest is gone.
      expect(readdirSync(tmpdir()).filter((f) => /^mcbench-install-[A-Za-z0-9]{6}$/.test(f))).toEqual([]);

      const check = await s.mcbench(['hosts', 'check', inv, '--json', '-']).done;
      expect(check.code, check.stderr).toBe(0);
      const hc = JSON.parse(check.stdout) as { hosts: Array<{ name: string; mcbench: string; mcbench_command: string }> };
      expect(hc.hosts.map((h) => [h.name, h.mcbench, h.mcbench_command])).toEqual([['g2', VERSION, cmd(2)], ['g3', VERSION, cmd(3)]]);

      // A run: the processes on each guest are the installed mcbench (their command lines say so).
      const file = join(s.dir, 'run.json');
      const run = s.mcbench(['run', '--hosts', inv, '-t', '2', '--pps', '2000', '-l', '200', '--json', file]);
      const seen = new Set<string>();
      const sampler = setInterval(() => {
        for (const k of [2, 3]) {
          const pids = spawnSync('ip', ['netns', 'pids', s.lab.guest(k).netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
          for (const pid of pids) {
            try {
              const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
              if (argv.includes('send') || argv.includes('recv')) seen.add(`g${k} ${argv.find((a) => a.includes('mcbench')) ?? '?'} ${argv.includes('send') ? 'send' : 'recv'}`);
            } catch {
              // gone meanwhile
            }
          }
        }
      }, 50);
      const r = await run.done;
      clearInterval(sampler);
      expect(r.code, r.stderr).toBe(0);
      expect([...seen].sort()).toEqual([`g2 ${cmd(2)} send`, `g3 ${cmd(3)} recv`]);
      const rep = JSON.parse(readFileSync(file, 'utf8')) as RunReport;
      const v = rep.variants[0]!;
      expect(v.hosts!.map((h) => [h.name, h.mcbench_version, h.mcbench_command])).toEqual([['g2', VERSION, cmd(2)], ['g3', VERSION, cmd(3)]]);
      const sent = v.sender!.end.packets;
      expect(sent).toBeGreaterThan(3000);
      const e = v.receivers[0]!.result!.end;
      expect(e.sum.packets).toBe(sent);
      expect(e.sum.lost_packets).toBe(0);
      expect(v.receivers[0]!.result!.start.version).toBe(`mcbench ${VERSION}`);
    } finally {
      await s.down();
    }
  }, 240000);
});
