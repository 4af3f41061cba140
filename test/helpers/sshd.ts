// Real OpenSSH for the --hosts tests: a lab of namespaces, one `sshd -D` per guest listening on
// that guest's lab address only, keys and known_hosts generated per test run in a temp folder.
// Each sshd runs in its own mount namespace with a fresh tmpfs on /run, so every guest is a host
// of its own as far as /run goes (sshd's privsep dir /run/sshd, mcbench's /run/mcbench restore
// records and locks), and nothing is created in the machine's /run.
// The orchestrator runs in guest 1 (the root namespace cannot reach the lab by design) with the
// temp folder bind-mounted over root's home in its own mount namespace: OpenSSH reads
// ~/.ssh/config from the passwd entry's home, not $HOME, so this is the user's own config path.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/index.js';
import { MCBENCH, Running } from './netns.js';

const SSHD = '/usr/sbin/sshd';

export class SshLab {
  private readonly sshds: ChildProcess[] = [];

  private constructor(readonly lab: Lab, readonly dir: string, readonly home: string) {}

  /** the guest's lab address, without the prefix length */
  address(k: number): string {
    return this.lab.guest(k).address.split('/')[0]!;
  }

  get netns(): string[] {
    return this.lab.guests.map((g) => g.netns);
  }

  /**
   * Makes the lab and starts one sshd in each guest but guest 1 (the orchestrator's) and those
   * in `without`. ssh aliases: gK for each guest, `nosshd` for guest `without[0]`, else guest 1 (nothing listens).
   */
  static async up(name: string, guests: number, opts: { without?: number[]; homes?: boolean } = {}): Promise<SshLab> {
    if (process.getuid?.() !== 0) throw new Error('the ssh tests need root (namespaces, sshd)');
    const lab = await Lab.up({ name, guests }, { persistent: false });
    const dir = mkdtempSync(join(tmpdir(), 'mcb-sshtest-'));
    const home = join(dir, 'home');
    const s = new SshLab(lab, dir, home);
    try {
      mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
      chmodSync(home, 0o700);
      const keygen = (file: string) => {
        const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mcbench-test', '-f', file], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
      };
      keygen(join(dir, 'client'));
      keygen(join(dir, 'hostkey'));
      const hostPub = readFileSync(join(dir, 'hostkey.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
      const known: string[] = [];
      const config: string[] = [];
      const without = opts.without ?? [];
      for (let k = 2; k <= guests; k++) {
        known.push(`${s.address(k)} ${hostPub}`);
        config.push(`Host g${k}`, `  HostName ${s.address(k)}`, '  User root', `  IdentityFile ${join(dir, 'client')}`, '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${join(dir, 'known_hosts')}`, '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', '');
      }
      {
        // guest 1 (the orchestrator's) runs no sshd: nothing listens there
        config.push('Host nosshd', `  HostName ${s.address(without[0] ?? 1)}`, '  User root', `  IdentityFile ${join(dir, 'client')}`, '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${join(dir, 'known_hosts')}`, '  StrictHostKeyChecking yes', '');
      }
      writeFileSync(join(dir, 'known_hosts'), known.join('\n') + '\n', { mode: 0o600 });
      writeFileSync(join(home, '.ssh', 'config'), config.join('\n'), { mode: 0o600 });
      for (let k = 2; k <= guests; k++) if (!without.includes(k)) await s.startSshd(k, opts.homes === true);
    } catch (e) {
      await s.down();
      throw e;
    }
    return s;
  }

  /** guest k's own home folder (with `homes: true`): its sessions' $HOME, as on a host of its own */
  guestHome(k: number): string {
    return join(this.dir, `home-g${k}`);
  }

  private async startSshd(k: number, home: boolean): Promise<void> {
    const conf = join(this.dir, `sshd-g${k}.conf`);
    if (home) mkdirSync(this.guestHome(k), { mode: 0o700 });
    writeFileSync(conf, [
      // the guests share this machine's files: a $HOME of each guest's own keeps what one
      // guest's session puts there (an install under ~/.local) apart from the others' and the machine's
      ...(home ? [`SetEnv HOME=${this.guestHome(k)}`] : []),
      `ListenAddress ${this.address(k)}`,
      'Port 22',
      `HostKey ${join(this.dir, 'hostkey')}`,
      `AuthorizedKeysFile ${join(this.dir, 'client.pub')}`,
      `PidFile ${join(this.dir, `sshd-g${k}.pid`)}`,
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      // the test's many short sessions come in bursts: no throttling of unauthenticated ones
      'MaxStartups 100',
      'MaxSessions 50',
      '',
    ].join('\n'));
    const sh = 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && exec "$0" -D -e -f "$1"';
    const p = spawn('ip', ['netns', 'exec', this.lab.guest(k).netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', sh, SSHD, conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.sshds.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 10000;
    while (!err.includes('Server listening')) {
      if (p.exitCode !== null || Date.now() > deadline) throw new Error(`sshd in g${k} did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Writes a file into the temp folder and returns its path. */
  file(name: string, text: string, mode = 0o644): string {
    const p = join(this.dir, name);
    writeFileSync(p, text, { mode });
    return p;
  }

  /** argv run in guest 1 with the temp home over root's home (ssh's ~/.ssh/config). */
  spawnInOrchestrator(argv: readonly string[]): ChildProcess {
    const sh = 'mount --bind "$0" /root && exec "$@"';
    return this.lab.spawn(1, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', sh, this.home, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: '/root', XDG_STATE_HOME: join(this.dir, 'state') },
    });
  }

  /** mcbench ARGS as the orchestrator in guest 1 */
  mcbench(args: readonly string[], timeoutMs = 60000): Running {
    return new Running(this.spawnInOrchestrator([process.execPath, MCBENCH, ...args]), timeoutMs);
  }

  /** the pids of mcbench processes (node …/mcbench.js) in guest k's namespace */
  mcbenchPids(k: number): number[] {
    const pids = spawnSync('ip', ['netns', 'pids', this.lab.guest(k).netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    return pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('mcbench.js');
      } catch {
        return false;
      }
    });
  }

  /** a sysctl read in guest k's namespace */
  sysctl(k: number, key: string): string {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.guest(k).netns, 'cat', `/proc/sys/${key.replace(/\./g, '/')}`], { encoding: 'utf8' });
    return r.stdout.trim();
  }

  async down(): Promise<void> {
    for (const p of this.sshds) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(this.sshds.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.on('close', r)))));
    try {
      await this.lab.down({ force: true });
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
