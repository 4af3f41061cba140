// One state file per lab, /run/mcbench/labs/<name>.json: what was made, by whom. /run is a
// tmpfs, so it goes away on reboot together with the namespaces and links it describes.
// The file is claimed with link(2) (atomic and exclusive: two `lab up` of one name cannot both
// win) and rewritten with rename(2), so a reader never sees half a file. The folder and the
// files are root's alone (host/state-dir.ts): a state file anyone else could have written is
// not read (it names namespaces that `lab exec` enters and the pid `lab down` respects).
import { linkSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../core/errors.js';
import type { LabSpec } from '../core/lab-spec.js';
import { ensureStateDir, listStateDir, processAlive, processStartTicks, readTrustedFile, STATE_ROOT, writeTemp } from '../host/state-dir.js';

const LABS_SUBDIR = 'labs';
export const STATE_DIR = join(STATE_ROOT, LABS_SUBDIR);
export const STATE_SCHEMA = 'mcbench/lab-state@1';

export interface GuestRecord {
  index: number;
  /** g1, g2, ... */
  name: string;
  netns: string;
  host_link: string;
  /** 10.200.X.K/24 */
  address: string;
  /** fd6d:6362:X:Y::K/64, the lab's ULA (absent in state files of labs made before IPv6) */
  address6?: string;
  /** what this guest is for; 'guest' now, later e.g. 'querier' (an upstream IGMP querier) */
  role: 'guest';
}

export interface LabOwner {
  pid: number;
  /** /proc/PID/stat field 22, so a reused pid does not pass for the owner */
  start_ticks: number | null;
}

export interface LabState {
  schema: typeof STATE_SCHEMA;
  name: string;
  /** creating: being built (or its builder died); up: complete */
  phase: 'creating' | 'up';
  /** made by `lab up`: stays until `lab down`. Otherwise it lives as long as its owner process. */
  persistent: boolean;
  /** the process the lab dies with; null for a complete persistent lab */
  owner: LabOwner | null;
  created_at: string;
  spec: LabSpec;
  subnet: string;
  bridge: string;
  guests: GuestRecord[];
}

export const statePath = (name: string) => join(STATE_DIR, `${name}.json`);

/** one warning per untrusted path and process */
const warned = new Set<string>();
const warnOnce = (key: string, line: string) => {
  if (warned.has(key)) return;
  warned.add(key);
  process.stderr.write(`mcbench: warning: ${line}\n`);
};

/** The state, null when there is none; 'corrupt' when the file is there but unreadable or not trustworthy. */
export function readState(name: string): LabState | null | 'corrupt' {
  const path = statePath(name);
  const r = readTrustedFile(path);
  if ('absent' in r) return null;
  if ('problem' in r) {
    warnOnce(path, `ignoring the lab state file ${path}: it is ${r.problem}`);
    return 'corrupt';
  }
  const text = r.text;
  try {
    const s = JSON.parse(text) as Partial<LabState> | null;
    return s !== null && typeof s === 'object' && s.schema === STATE_SCHEMA && s.name === name ? (s as LabState) : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

function writeStateTemp(state: LabState): string {
  return writeTemp(ensureStateDir(LABS_SUBDIR), `${state.name}.json`, JSON.stringify(state, null, 2) + '\n');
}

/** Creates the state file only when none exists; false when another one is already there. */
export function claimState(state: LabState): boolean {
  const tmp = writeStateTemp(state);
  try {
    linkSync(tmp, statePath(state.name));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RunError(`cannot write ${statePath(state.name)}: ${(e as Error).message}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

/** Replaces the state file atomically. */
export function writeState(state: LabState): void {
  const tmp = writeStateTemp(state);
  try {
    renameSync(tmp, statePath(state.name));
  } catch (e) {
    throw new RunError(`cannot write ${statePath(state.name)}: ${(e as Error).message}`);
  }
}

export function removeState(name: string): void {
  try {
    unlinkSync(statePath(name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new RunError(`cannot remove ${statePath(name)}: ${(e as Error).message}`);
  }
}

/** Every readable lab state on this host. */
export function listStates(): LabState[] {
  const files = listStateDir(LABS_SUBDIR, (line) => process.stderr.write(`${line}\n`));
  const out: LabState[] = [];
  for (const f of files) {
    const m = /^([a-z0-9]{1,8})\.json$/.exec(f);
    if (!m) continue;
    const s = readState(m[1]!);
    if (s && s !== 'corrupt') out.push(s);
  }
  return out;
}

export function selfOwner(): LabOwner {
  return { pid: process.pid, start_ticks: processStartTicks(process.pid) };
}

export function ownerAlive(owner: LabOwner): boolean {
  return processAlive(owner.pid, owner.start_ticks);
}

/** A lab whose owner process is gone: nobody will remove it but `lab down` or the next `lab up`. */
export function isStale(state: LabState): boolean {
  return state.owner !== null && !ownerAlive(state.owner);
}
