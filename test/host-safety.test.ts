// Issue 10, items 2 and 3: root's mcbench cannot be turned against its host through
// /run/mcbench (folders and restore records only root could have made are trusted), a restore
// never undoes someone else's later change and is attempted once, and two processes changing
// one global setting take turns (each report states the value it measured under; the setting
// ends as it began). Everything that touches /run/mcbench runs in a private mount namespace with
// a tmpfs on /run (the host's /run/mcbench is never touched), and the per-namespace sysctls
// (net.core.somaxconn, net.ipv4.tcp_fin_timeout) in a private network namespace, so a bug here
// changes nothing on the host. The one global setting (net.core.rmem_max) is saved and put back
// by the test itself.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/core/run-report.js';
import { MCBENCH, Running, type RunOutput } from './helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'mcbench-safety-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const started: Running[] = [];
afterEach(() => {
  for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});

// Shell helpers for the scripts below. A run is started with setsid so that `kill -9 -- -PID`
// takes its whole process group (receivers, sender, the private namespace's anchor) at once.
const PRELUDE = `
set -u
MCB="${process.execPath} ${MCBENCH}"
T=${dir}
sc() { cat /proc/sys/net/core/somaxconn; }
sh -c true & wait $!; DEAD=$!   # a pid that has just exited
rec() { printf '{"pid":%s,"start_ticks":null,"changes":[{"id":"%s","before":"%s","after":"%s"}]}' "$DEAD" "$1" "$2" "$3"; }
waitfor() { for i in $(seq 200); do eval "$1" && return 0; sleep 0.05; done; echo "timed out: $1"; return 1; }
LOCAL="run --local --pps 1000 -l 100 --receivers 1"
`;

/** bash script in a private mount namespace whose /run is a fresh tmpfs (and a private network namespace with net). */
function inPrivate(script: string, opts: { net: boolean; timeoutMs?: number }): Promise<RunOutput> {
  const args = ['-m', ...(opts.net ? ['-n'] : []), '--propagation', 'private', 'bash', '-c',
    `mount -t tmpfs -o mode=0755 mcbtest /run || exit 99\n${PRELUDE}\n${script}`];
  const r = new Running(spawn('unshare', args, { stdio: ['ignore', 'pipe', 'pipe'] }), opts.timeoutMs ?? 30000);
  started.push(r);
  return r.done;
}

/** the value after `KEY ` on its own line of the script's output */
const field = (out: string, key: string) => new RegExp(`^${key} (.*)$`, 'm').exec(out)?.[1];
const lines = (s: string, re: RegExp) => s.split('\n').filter((l) => re.test(l));

describe('state folders and restore records', () => {
  it('under umask 000 every folder is root-owned 0700 and the record 0600; a SIGKILLed run\'s record is restored by lab down, once', async () => {
    const r = await inPrivate(`
      umask 000
      echo "orig $(sc)"
      setsid $MCB $LOCAL -t 4 --set net.core.somaxconn=1234 >$T/k.out 2>$T/k.err & P=$!
      waitfor '[ "$(sc)" = 1234 ]'
      echo "modes"; stat -c '%n %U %a %F' /run/mcbench /run/mcbench/restore /run/mcbench/locks /run/mcbench/restore/* /run/mcbench/locks/*
      echo "end-modes"
      kill -9 -- -$P; wait $P 2>/dev/null
      echo "after-kill $(sc)"
      $MCB lab down --name zz; echo "rc $?"
      echo "after-down $(sc)"
      echo "records $(ls -A /run/mcbench/restore | wc -l)"
      $MCB lab down --name zz; echo "rc2 $?"
    `, { net: true });
    expect(r.code, r.stderr).toBe(0);
    const orig = field(r.stdout, 'orig')!;
    expect(orig).not.toBe('1234');
    const modes = r.stdout.slice(r.stdout.indexOf('modes\n') + 6, r.stdout.indexOf('end-modes')).trim().split('\n');
    expect(modes.slice(0, 3)).toEqual(['/run/mcbench root 700 directory', '/run/mcbench/restore root 700 directory', '/run/mcbench/locks root 700 directory']);
    expect(modes.slice(3)).toEqual([
      expect.stringMatching(/^\/run\/mcbench\/restore\/\d+-\d+-[0-9a-f]+\.json root 600 regular file$/),
      '/run/mcbench/locks/net.core.somaxconn.lock root 600 regular file',
    ]);
    expect(field(r.stdout, 'after-kill')).toBe('1234');
    expect(r.stdout).toMatch(new RegExp(`^restored net\\.core\\.somaxconn=${orig} \\(left at 1234 by pid \\d+, which died\\)$`, 'm'));
    expect(field(r.stdout, 'rc')).toBe('0');
    expect(field(r.stdout, 'after-down')).toBe(orig);
    expect(field(r.stdout, 'records')).toBe('0');
    expect(lines(r.stdout, /restored/)).toHaveLength(1); // the second lab down has nothing to replay
  });

  it('a record planted by another user, a group-writable one and a symlink are ignored with one warning each; the sysctl is untouched', async () => {
    const r = await inPrivate(`
      echo 1111 > /proc/sys/net/core/somaxconn
      install -d -m 0700 /run/mcbench /run/mcbench/restore
      U=$(mktemp -d); chmod 1777 $U
      # planted by nobody (uid 65534) in a folder it may write, then moved in as is (rename keeps the owner)
      setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "printf '%s' '$(rec net.core.somaxconn 2222 1111)' > $U/a.json"
      mv $U/a.json /run/mcbench/restore/a.json
      rec net.core.somaxconn 2222 1111 > /run/mcbench/restore/b.json; chmod 0620 /run/mcbench/restore/b.json
      rec net.core.somaxconn 2222 1111 > $U/valid.json; chmod 0600 $U/valid.json
      ln -s $U/valid.json /run/mcbench/restore/c.json
      $MCB lab down --name zz; echo "rc $?"
      echo "after $(sc)"
      echo "left $(ls /run/mcbench/restore | tr '\\n' ' ')"
      rm -rf $U
    `, { net: true });
    expect(r.code, r.stderr).toBe(0);
    expect(field(r.stdout, 'rc')).toBe('0');
    expect(field(r.stdout, 'after')).toBe('1111');
    expect(field(r.stdout, 'left')).toBe('a.json b.json c.json ');
    expect(lines(r.stderr, /warning/).sort()).toEqual([
      'mcbench: warning: ignoring restore record /run/mcbench/restore/a.json: it is owned by uid 65534, not root',
      'mcbench: warning: ignoring restore record /run/mcbench/restore/b.json: it is writable by its group (mode 0620)',
      'mcbench: warning: ignoring restore record /run/mcbench/restore/c.json: it is a symlink',
    ]);
    expect(r.stdout).not.toContain('restored');
  });

  it('a state folder others could write, own or swap is refused: one warning, nothing restored, no setting changed', async () => {
    const r = await inPrivate(`
      echo 1111 > /proc/sys/net/core/somaxconn
      mkdir -m 0777 /run/mcbench; chmod 0777 /run/mcbench; install -d -m 0700 /run/mcbench/restore
      rec net.core.somaxconn 2222 1111 > /run/mcbench/restore/a.json; chmod 0600 /run/mcbench/restore/a.json
      $MCB lab down --name zz 2>$T/w1.err; echo "down1 $?"
      $MCB $LOCAL -t 1 --set net.core.somaxconn=1234 >/dev/null 2>$T/w2.err; echo "run $?"
      echo "after1 $(sc)"
      chmod 0700 /run/mcbench; chown 65534 /run/mcbench/restore
      $MCB lab down --name zz 2>$T/w3.err; echo "down3 $?"
      chown 0 /run/mcbench/restore; mv /run/mcbench/restore $T/r; ln -s $T/r /run/mcbench/restore
      $MCB lab down --name zz 2>$T/w4.err; echo "down4 $?"
      echo "after2 $(sc)"
      rm -rf $T/r
      for f in w1 w2 w3 w4; do echo "$f $(cat $T/$f.err | tr '\\n' '|')"; done
    `, { net: true });
    expect(r.code, r.stderr).toBe(0);
    expect(field(r.stdout, 'after1')).toBe('1111');
    expect(field(r.stdout, 'after2')).toBe('1111');
    expect(field(r.stdout, 'down1')).toBe('0');
    expect(field(r.stdout, 'w1')).toBe('mcbench: warning: /run/mcbench is writable by others (mode 0777): not trusted, mcbench will not use it (as root: rm -rf /run/mcbench)|');
    expect(field(r.stdout, 'run')).toBe('1');
    expect(field(r.stdout, 'w2')).toContain('/run/mcbench is writable by others (mode 0777): not trusted');
    expect(field(r.stdout, 'w3')).toBe('mcbench: warning: /run/mcbench/restore is owned by uid 65534, not root: not trusted, mcbench will not use it (as root: rm -rf /run/mcbench)|');
    expect(field(r.stdout, 'w4')).toBe('mcbench: warning: /run/mcbench/restore is a symlink: not trusted, mcbench will not use it (as root: rm -rf /run/mcbench)|');
  });

  it('a restore that fails is reported naming the setting and its record removed; a setting changed since is left to whoever changed it', async () => {
    const r = await inPrivate(`
      echo 1111 > /proc/sys/net/core/somaxconn
      echo 33 > /proc/sys/net/ipv4/tcp_fin_timeout
      install -d -m 0700 /run/mcbench /run/mcbench/restore
      (umask 077; rec net.core.somaxconn notanumber 1111 > /run/mcbench/restore/f.json; rec net.ipv4.tcp_fin_timeout 60 44 > /run/mcbench/restore/t.json)
      $MCB lab down --name zz; echo "rc $?"
      echo "somaxconn $(sc)"; echo "fin $(cat /proc/sys/net/ipv4/tcp_fin_timeout)"
      echo "records $(ls -A /run/mcbench/restore | wc -l)"
      $MCB lab down --name zz 2>$T/again.err; echo "again $(cat $T/again.err | wc -l)"
      # and a live run: someone sets the value while it measures
      $MCB $LOCAL -t 2 --set net.core.somaxconn=1234 >/dev/null 2>$T/live.err & P=$!
      waitfor '[ "$(sc)" = 1234 ]'; echo 3333 > /proc/sys/net/core/somaxconn
      wait $P; echo "live-rc $?"; echo "live $(sc)"; echo "live-records $(ls -A /run/mcbench/restore | wc -l)"
      echo "live-err $(grep warning $T/live.err)"
    `, { net: true });
    expect(r.code, r.stderr).toBe(0);
    expect(field(r.stdout, 'rc')).toBe('0');
    expect(lines(r.stderr, /warning/).sort()).toEqual([
      expect.stringMatching(/^mcbench lab: warning: could not restore net\.core\.somaxconn=notanumber: .*invalid argument.*\(left at 1111 by pid \d+, which died\); its record is removed$/i),
      expect.stringMatching(/^mcbench lab: warning: left net\.ipv4\.tcp_fin_timeout as it is \(pid \d+ died with it at 44; changed by someone since\)$/),
    ]);
    expect(field(r.stdout, 'somaxconn')).toBe('1111');
    expect(field(r.stdout, 'fin')).toBe('33');
    expect(field(r.stdout, 'records')).toBe('0');
    expect(field(r.stdout, 'again')).toBe('0');
    expect(field(r.stdout, 'live-rc')).toBe('0');
    expect(field(r.stdout, 'live')).toBe('3333');
    expect(field(r.stdout, 'live-records')).toBe('0');
    expect(field(r.stdout, 'live-err')).toBe('mcbench: warning: net.core.somaxconn is 3333 now, not the 1234 mcbench set: someone changed it since; left as it is (it was 1111)');
  });
});

describe('one owner per global setting', () => {
  it('two runs setting net.core.rmem_max take turns: each report states the value its sockets got, and the value ends as it began', async () => {
    const RMEM = '/proc/sys/net/core/rmem_max';
    const orig = readFileSync(RMEM, 'utf8').trim();
    // What the kernel held, sampled independently of mcbench, every 10 ms.
    const seen: string[] = [];
    const sampler = setInterval(() => {
      const v = readFileSync(RMEM, 'utf8').trim();
      if (seen[seen.length - 1] !== v) seen.push(v);
    }, 10);
    try {
      const r = await inPrivate(`
        $MCB $LOCAL -t 2 --rcvbuf 64M --set net.core.rmem_max=3000000 --json $T/a.json >/dev/null 2>$T/a.err & A=$!
        echo "A $A"
        waitfor '[ "$(cat /proc/sys/net/core/rmem_max)" = 3000000 ]'
        $MCB $LOCAL -t 1 --rcvbuf 64M --set net.core.rmem_max=5000000 --json $T/b.json >/dev/null 2>$T/b.err & B=$!
        wait $A; echo "rcA $?"; wait $B; echo "rcB $?"
      `, { net: false, timeoutMs: 40000 });
      clearInterval(sampler);
      expect(r.code, r.stderr).toBe(0);
      expect(field(r.stdout, 'rcA')).toBe('0');
      expect(field(r.stdout, 'rcB')).toBe('0');
      const a = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as RunReport;
      const b = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as RunReport;
      expect(a.variants[0]!.settings_applied).toEqual([{ id: 'net.core.rmem_max', before: orig, after: '3000000' }]);
      expect(b.variants[0]!.settings_applied).toEqual([{ id: 'net.core.rmem_max', before: orig, after: '5000000' }]);
      // The kernel's witness: SO_RCVBUF is clamped to rmem_max (and doubled) when the socket is made.
      expect(a.variants[0]!.receivers[0]!.result!.end.socket.rcvbuf_actual).toBe(6000000);
      expect(b.variants[0]!.receivers[0]!.result!.end.socket.rcvbuf_actual).toBe(10000000);
      expect(readFileSync(join(dir, 'b.err'), 'utf8')).toContain(`mcbench: waiting for pid ${field(r.stdout, 'A')}, which holds net.core.rmem_max`);
      expect(seen).toEqual([orig, '3000000', orig, '5000000', orig]);
      expect(readFileSync(RMEM, 'utf8').trim()).toBe(orig);
    } finally {
      clearInterval(sampler);
      writeFileSync(RMEM, orig);
    }
  });

  it('the second gives up after MCBENCH_LOCK_TIMEOUT (exit 1); when the holder is SIGKILLed the waiter goes on and first restores what it left', async () => {
    const r = await inPrivate(`
      echo "orig $(sc)"
      setsid $MCB $LOCAL -t 60 --set net.core.somaxconn=1234 >/dev/null 2>&1 & A=$!
      echo "A $A"
      waitfor '[ "$(sc)" = 1234 ]'
      S=$(date +%s%N)
      MCBENCH_LOCK_TIMEOUT=1 $MCB $LOCAL -t 1 --set net.core.somaxconn=2345 >/dev/null 2>$T/b.err; echo "rcB $?"
      echo "waitedB $(( ($(date +%s%N) - S) / 1000000 ))"
      $MCB $LOCAL -t 1 --set net.core.somaxconn=2345 --json $T/c.json >/dev/null 2>$T/c.err & C=$!
      waitfor 'grep -q waiting $T/c.err'
      kill -9 -- -$A; wait $A 2>/dev/null
      wait $C; echo "rcC $?"
      echo "after $(sc)"
      echo "records $(ls -A /run/mcbench/restore | wc -l)"
    `, { net: true });
    expect(r.code, r.stderr).toBe(0);
    const orig = field(r.stdout, 'orig')!;
    const A = field(r.stdout, 'A')!;
    const bErr = readFileSync(join(dir, 'b.err'), 'utf8');
    expect(field(r.stdout, 'rcB')).toBe('1');
    expect(bErr).toContain(`mcbench: waiting for pid ${A}, which holds net.core.somaxconn`);
    expect(bErr).toMatch(new RegExp(`gave up after 1 s waiting for pid ${A}, which holds net\\.core\\.somaxconn`));
    expect(Number(field(r.stdout, 'waitedB'))).toBeLessThan(4000);
    expect(field(r.stdout, 'rcC')).toBe('0');
    const cErr = readFileSync(join(dir, 'c.err'), 'utf8');
    expect(cErr).toContain(`mcbench: restored net.core.somaxconn=${orig} (left at 1234 by pid ${A}, which died)`);
    const c = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as RunReport;
    expect(c.variants[0]!.settings_applied).toEqual([{ id: 'net.core.somaxconn', before: orig, after: '2345' }]);
    expect(field(r.stdout, 'after')).toBe(orig);
    expect(field(r.stdout, 'records')).toBe('0');
  });
});

describe('labs have one owner too', () => {
  it('lab down refuses a lab whose maker is alive (without --force); the maker removes it when done', async () => {
    const run = new Running(spawn(process.execPath, [MCBENCH, 'run', '--pps', '1000', '-l', '100', '-t', '3', '--receivers', '1', '--lab-name', 'h10r'],
      { stdio: ['ignore', 'pipe', 'pipe'] }), 30000);
    started.push(run);
    try {
      await run.waitFor('sending for', 15000);
      const down = spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'h10r'], { encoding: 'utf8' });
      expect(down.status).toBe(1);
      expect(down.stderr.trim()).toBe(`mcbench lab: lab 'h10r' belongs to running pid ${run.child.pid} (in use); it goes when that process ends (or remove it anyway: mcbench lab down --name h10r --force)`);
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain('mcb-h10r-g1');
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain('mcb-h10r-');
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await run.done;
      spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'h10r']);
    }
  });

  it('demo --lab-name is checked before anything is made', () => {
    const r = spawnSync(process.execPath, [MCBENCH, 'demo', '--lab-name', 'No!'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("mcbench demo: --lab-name: 'No!' is not a lab name (1 to 8 characters of a-z and 0-9)\n");
  });

  it('Ctrl-C during lab down finishes the removal, then exit 130', async () => {
    const up = spawnSync(process.execPath, [MCBENCH, 'lab', 'up', '--name', 'h10s', '--guests', '8'], { encoding: 'utf8' });
    expect(up.status, up.stderr).toBe(0);
    const down = new Running(spawn(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'h10s'], { stdio: ['ignore', 'pipe', 'pipe'] }), 30000);
    started.push(down);
    try {
      // once it is removing (the first namespace is gone), Ctrl-C
      const deadline = Date.now() + 10000;
      while (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('mcb-h10s-')).length === 8 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      down.child.kill('SIGINT');
      const r = await down.done;
      expect(r.stderr).toContain("mcbench lab: SIGINT: finishing the removal of lab 'h10s'");
      expect(r.stdout).toMatch(/^lab 'h10s' removed: 8 namespaces, 9 links/m);
      expect(r.code).toBe(130);
      expect(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout).not.toContain('mcb-h10s-');
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain('mcb-h10s-');
    } finally {
      spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', 'h10s', '--force']);
    }
  });
});
