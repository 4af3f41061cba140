// The one way the lab touches the system: ip(8) and a few /proc and /sys files. Commands run
// through execFile with an argument vector (never a shell string), and every failure becomes a
// RunError that names the command and quotes its stderr.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { RunError } from '../core/errors.js';

export interface CmdResult {
  stdout: string;
  stderr: string;
}

export interface CmdOptions {
  /** kill the command after this long; default 15 s */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15000;

function describeCmd(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function failure(cmd: string, args: readonly string[], e: unknown, stderr: string): RunError {
  const err = e as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
  if (err.code === 'ENOENT') return new RunError(`'${cmd}' not found (install iproute2)`);
  const why = stderr.trim().split('\n').filter(Boolean).join('; ') ||
    (err.killed ? `timed out (${err.signal ?? 'killed'})` : err.message);
  return new RunError(`'${describeCmd(cmd, args)}' failed: ${why}`);
}

/** Runs a command; resolves with its output, rejects with a RunError naming it. */
export function run(cmd: string, args: readonly string[], opts: CmdOptions = {}): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: 16 << 20, encoding: 'utf8' },
      (e, stdout, stderr) => {
        if (e) reject(failure(cmd, args, e, stderr));
        else resolve({ stdout, stderr });
      });
  });
}

/** The synchronous form, for process 'exit' handlers (the only place that cannot await). */
export function runSync(cmd: string, args: readonly string[], opts: CmdOptions = {}): CmdResult {
  try {
    const stdout = execFileSync(cmd, args, {
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, maxBuffer: 16 << 20, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { stdout, stderr: '' };
  } catch (e) {
    // with encoding 'utf8' the error carries the child's stderr as a string (none when it did not start)
    throw failure(cmd, args, e, String((e as { stderr?: string | Buffer | null }).stderr ?? ''));
  }
}

export const ip = (args: readonly string[], opts?: CmdOptions) => run('ip', args, opts);
export const ipSync = (args: readonly string[], opts?: CmdOptions) => runSync('ip', args, opts);

/** `ip -j ...` parsed; iproute2 prints nothing at all for some empty lists. */
export async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  return parseJsonList<T>((await ip(['-j', ...args])).stdout, args);
}
export function ipJsonSync<T>(args: readonly string[]): T[] {
  return parseJsonList<T>(ipSync(['-j', ...args]).stdout, args);
}
function parseJsonList<T>(text: string, args: readonly string[]): T[] {
  if (!text.trim()) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    throw new RunError(`'ip -j ${args.join(' ')}' printed something that is not JSON`);
  }
}

/** A /proc or /sys value, trimmed; null when the file does not exist or cannot be read. */
export function readSys(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

export function readSysNumber(path: string): number | null {
  const t = readSys(path);
  if (t === null || t === '') return null;
  const v = Number(t.split(/\s+/)[0]);
  return Number.isFinite(v) ? v : null;
}

/** Writes a /proc or /sys value; a RunError names the file on failure. */
export function writeSys(path: string, value: string | number): void {
  try {
    writeFileSync(path, `${value}\n`);
  } catch (e) {
    throw new RunError(`cannot write ${value} to ${path}: ${(e as Error).message}`);
  }
}

export const sysNet = (dev: string, file: string) => `/sys/class/net/${dev}/${file}`;

/**
 * The bridge's own IPv4 settings (they go with the device): never route what comes in from the
 * lab, even where the host forwards between its own interfaces (net.ipv4.ip_forward is left as it
 * is); answer no ARP (so no guest learns a MAC to send the host IP packets to); drop what claims a
 * source the host would not route back this way.
 */
export const BRIDGE_IPV4_CONF: ReadonlyArray<[string, number]> = [['forwarding', 0], ['arp_ignore', 8], ['rp_filter', 1]];

/**
 * A querier bridge's IPv6 settings (mldQuerierBridge in build.ts): a link-local address to send
 * MLD queries from and nothing else; IPv6 on (disable_ipv6 last, once the rest is set).
 */
export const BRIDGE_IPV6_QUERIER_CONF: ReadonlyArray<[string, number]> = [
  ['forwarding', 0], ['accept_ra', 0], ['autoconf', 0], ['router_solicitations', 0], ['accept_dad', 0], ['disable_ipv6', 0],
];
