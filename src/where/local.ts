// A private network namespace with only `lo`, for runs without a lab (`mcbench run --local`,
// the demo's fallback without root). An anchor process (`unshare -n`, or `unshare -rn` in a user
// namespace when not root) holds it; commands join it with nsenter. The anchor reads its stdin:
// when the process that made it dies, the pipe closes, the anchor exits, and the kernel removes
// the namespace with everything in it. Traffic on its lo never reaches the host's interfaces.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { RunError } from '../core/errors.js';
import type { Hosts, Place } from './hosts.js';
import { applyHere, MCBENCH_JS } from './here.js';

const SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';

export class PrivateNetns {
  private constructor(private readonly anchor: ChildProcess, readonly userNamespace: boolean) {}

  /** userNamespace: also a user namespace (`unshare -r`), for callers that are not root. */
  static async create(opts: { userNamespace?: boolean } = {}): Promise<PrivateNetns> {
    const user = opts.userNamespace ?? process.getuid?.() !== 0;
    const anchor = spawn('unshare', [...(user ? ['-r'] : []), '-n', '--', 'sh', '-c', `${SETUP} && echo ready && read _`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    anchor.stdout.on('data', (d: Buffer) => (out += d.toString()));
    anchor.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const failed = new Promise<Error>((resolve) => anchor.on('error', resolve));
    const deadline = Date.now() + 5000;
    while (!out.includes('ready')) {
      const e = await Promise.race([failed, new Promise<null>((r) => setTimeout(() => r(null), 10))]);
      if (e || anchor.exitCode !== null || Date.now() > deadline) {
        anchor.kill('SIGKILL');
        const why = e ? e.message : err.trim() || 'no answer';
        throw new RunError(`cannot make a private network namespace (unshare ${user ? '-rn' : '-n'}): ${why}` +
          (user ? ' (user namespaces may be disabled: sysctl user.max_user_namespaces / kernel.unprivileged_userns_clone)' : ''));
      }
    }
    return new PrivateNetns(anchor, user);
  }

  get pid(): number {
    return this.anchor.pid!;
  }

  /** Starts argv inside the namespace. */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const join = this.userNamespace ? ['-U', '--preserve-credentials', '-n'] : ['-n'];
    return spawn('nsenter', ['-t', String(this.pid), ...join, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }

  async close(): Promise<void> {
    if (this.anchor.exitCode !== null || this.anchor.signalCode !== null) return;
    this.anchor.stdin!.end();
    await once(this.anchor, 'exit');
  }
}

/** --local: every "guest" is a process in one private namespace on lo, made for the work. */
export function localPlace(): Place {
  return {
    kind: 'local',
    // Global sysctls can only be set by root, and from the initial namespace.
    refuse: (need) => {
      const keys = Object.keys(need.sysctls);
      return keys.length > 0 && process.getuid?.() !== 0 ? `needs root to set ${keys.join(', ')}` : null;
    },
    withHosts: async (need, signal, fn) => {
      const ns = await PrivateNetns.create();
      try {
        const hosts: Hosts = {
          count: need.guests,
          name: (k) => `g${k}`,
          iface: () => 'lo',
          // none to name: a datagram sent on lo to a group leaves from 0.0.0.0 (lo's 127.0.0.1 is host scope)
          address: () => null,
          spawnMcbench: (_k, args) => ns.spawn([process.execPath, MCBENCH_JS, ...args]),
          applySettings: applyHere,
          bridge: () => null,
          sharedClock: true,
        };
        return await fn(hosts, signal);
      } finally {
        await ns.close();
      }
    },
  };
}
