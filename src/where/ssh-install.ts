// Puts mcbench on a host that has node but maybe no compiler: the packed tarball (prebuilt
// addon in prebuilds/, runtime dependencies bundled, so no registry is needed) is copied over
// and installed with `npm install -g --offline` into a prefix the ssh user can write; the result
// is checked there (version, and the addon loads the way the CLI loads it) and recorded here.
// The transport is whatever runs commands on the host: ssh (src/where/ssh.ts) or a local shell.
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RunError } from '../core/errors.js';
import { parseInstalls, type InstalledMcbench } from '../core/installs.js';

export { installedMcbench, type InstalledMcbench, type InstallsFile } from '../core/installs.js';

export interface RemoteResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs commands on one host and copies files to it. */
export interface RemoteShell {
  /** argv run as is on the host (no shell in between) */
  run(argv: readonly string[]): Promise<RemoteResult>;
  copy(localPath: string, remotePath: string): Promise<void>;
}

/** engines.node of package.json */
const NODE_MIN: [number, number] = [20, 19];

/** `mcbench-0.1.0.tgz` → '0.1.0' (what `npm pack` names it). */
export function tarballVersion(tarball: string): string {
  const m = /^mcbench-(\d+\.\d+\.\d+(?:-[\w.]+)?)\.tgz$/.exec(basename(tarball));
  if (!m) throw new RunError(`${tarball}: not an mcbench tarball (mcbench-VERSION.tgz from npm pack)`);
  return m[1]!;
}

/** The telling line of a failure: the last one that is not npm's pointer to its log file. */
function lastLine(r: RemoteResult): string {
  const lines = (r.stderr.trim() || r.stdout.trim()).split('\n').map((l) => l.trim()).filter((l) => l && !/complete log of this run/.test(l));
  const npmCommand = lines.filter((l) => /^npm error (command|code|syscall|errno|path)\b/.test(l)).map((l) => l.replace(/^npm error /, ''));
  return (npmCommand.length ? npmCommand.join(', ') : lines.slice(-1)[0]) ?? `exit ${String(r.code)}`;
}

async function must(host: string, shell: RemoteShell, what: string, argv: readonly string[]): Promise<string> {
  const r = await shell.run(argv);
  if (r.code !== 0) throw new RunError(`${host}: ${what} failed: ${lastLine(r)}`);
  return r.stdout.trim();
}

/**
 * Installs the tarball into prefix (absolute, on the host) and returns what to record. Needs
 * node ≥ 20.19 and npm on the host's PATH; never the network or a compiler (npm would compile
 * only when the prebuilt addon does not load, e.g. on another architecture).
 */
export async function installMcbench(host: string, shell: RemoteShell, tarball: string, prefix: string): Promise<InstalledMcbench> {
  if (!prefix.startsWith('/')) throw new RunError(`${host}: the install prefix must be an absolute path (got ${prefix})`);
  const version = tarballVersion(tarball);
  const node = await must(host, shell, 'node --version', ['node', '--version']);
  const m = /^v(\d+)\.(\d+)/.exec(node);
  if (!m || Number(m[1]) < NODE_MIN[0] || (Number(m[1]) === NODE_MIN[0] && Number(m[2]) < NODE_MIN[1])) {
    throw new RunError(`${host}: node ${node} is too old: mcbench needs node >= ${NODE_MIN.join('.')}`);
  }
  const tmp = await must(host, shell, 'mktemp', ['mktemp', '-d', '/tmp/mcbench-install-XXXXXX']);
  try {
    const remoteTarball = `${tmp}/${basename(tarball)}`;
    await shell.copy(tarball, remoteTarball);
    await must(host, shell, 'mkdir', ['mkdir', '-p', prefix]);
    // --offline: everything the package needs is in the tarball (bundleDependencies); a
    // registry it could not reach would only make npm wait.
    await must(host, shell, 'npm install', ['npm', 'install', '-g', '--offline', '--no-audit', '--no-fund', '--no-update-notifier', '--prefix', prefix, remoteTarball]);
  } finally {
    await shell.run(['rm', '-rf', tmp]);
  }
  const mcbench = `${prefix}/bin/mcbench`;
  const got = await must(host, shell, `${mcbench} --version`, [mcbench, '--version']);
  if (got !== version) throw new RunError(`${host}: ${mcbench} says version ${got}, the tarball was ${version}`);
  // The addon is loaded only by send/recv: load it now, the way src/native.ts does, so a host
  // where it cannot load fails here and not in the middle of a run.
  const pkg = `${prefix}/lib/node_modules/mcbench`;
  const probe = `const b=require(${JSON.stringify(`${pkg}/node_modules/node-gyp-build`)})(${JSON.stringify(pkg)});if(typeof b.Receiver!=='function')process.exit(3)`;
  await must(host, shell, 'loading the native addon', ['node', '-e', probe]);
  return { mcbench, prefix, version, node, installed: new Date().toISOString() };
}

/** Where the install records live on this machine: $XDG_STATE_HOME/mcbench/installs.json (default ~/.local/state/…). */
export function installsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(os.homedir(), '.local', 'state');
  return join(base, 'mcbench', 'installs.json');
}

/**
 * Adds or replaces one host's record. `write` is the atomic writer of the output layer (a random
 * O_EXCL temp name, fsync, rename: a reader sees the old file or the new one, never a part).
 */
export function recordInstall(file: string, sshDestination: string, rec: InstalledMcbench, write: (path: string, text: string) => void): void {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = null;
  }
  const all = parseInstalls(text);
  all.hosts[sshDestination] = rec;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  write(file, JSON.stringify(all, null, 2) + '\n');
}

/** The records as they are on disk (none when the file is missing or damaged). */
export function readInstalls(file: string = installsPath()): ReturnType<typeof parseInstalls> {
  try {
    return parseInstalls(readFileSync(file, 'utf8'));
  } catch {
    return parseInstalls(null);
  }
}
