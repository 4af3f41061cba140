// Finding and removing a lab by its name. Everything a lab makes is named mcb-<name>-*: the
// namespaces mcb-<name>-gK, the bridge mcb-<name>-br and the host veth ends mcb-<name>-hK in
// the root namespace. Removal goes by these names alone, so a lab whose state file was lost
// goes as well as any other. Only veths and bridges with the lab's prefix are ever deleted.
import { readFileSync } from 'node:fs';
import { RunError } from '../core/errors.js';
import { bridgeName, labPrefix } from '../core/lab-spec.js';
import { removeState } from './state.js';
import { ip, ipJson, ipJsonSync, ipSync } from './sys.js';

export interface Found {
  netns: string[];
  /** host veth ends first, the bridge last */
  links: string[];
}

interface NetnsRow {
  name: string;
}
interface LinkRow {
  ifname: string;
  linkinfo?: { info_kind?: string };
}

function pick(name: string, nsRows: NetnsRow[], linkRows: LinkRow[]): Found {
  const prefix = labPrefix(name);
  const nsRe = new RegExp(`^${prefix}(?:g\\d+|r)$`); // r: the SSM router (LabSpec.ssmRouter)
  const netns = new Set(nsRows.map((r) => r.name).filter((n) => nsRe.test(n)));
  const links = linkRows
    .filter((r) => r.ifname.startsWith(prefix) && (r.linkinfo?.info_kind === 'veth' || r.linkinfo?.info_kind === 'bridge'))
    .map((r) => r.ifname);
  const br = bridgeName(name);
  return {
    netns: [...netns].sort(byIndex),
    links: [...links.filter((l) => l !== br).sort(byIndex), ...links.filter((l) => l === br)],
  };
}

const byIndex = (a: string, b: string) => Number(/\d+$/.exec(a)?.[0] ?? 0) - Number(/\d+$/.exec(b)?.[0] ?? 0) || a.localeCompare(b);

export async function findLab(name: string): Promise<Found> {
  const [nsRows, linkRows] = await Promise.all([ipJson<NetnsRow>(['netns', 'list']), ipJson<LinkRow>(['-d', 'link', 'show'])]);
  return pick(name, nsRows, linkRows);
}

export function findLabSync(name: string): Found {
  return pick(name, ipJsonSync<NetnsRow>(['netns', 'list']), ipJsonSync<LinkRow>(['-d', 'link', 'show']));
}

export const isEmpty = (f: Found) => f.netns.length === 0 && f.links.length === 0;

/** alive and not a zombie (a zombie has left its namespaces already) */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function netnsPids(ns: string): Promise<number[]> {
  try {
    const out = (await ip(['netns', 'pids', ns])).stdout;
    return out.split(/\s+/).filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
  } catch {
    return [];
  }
}

function netnsPidsSync(ns: string): number[] {
  try {
    return ipSync(['netns', 'pids', ns]).stdout.split(/\s+/).filter(Boolean).map(Number)
      .filter((p) => Number.isInteger(p) && p > 0 && p !== process.pid);
  } catch {
    return [];
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone already */
  }
}

export interface TeardownReport {
  netns: number;
  links: number;
  /** processes that were still running inside the guests */
  processes: number;
}

const gone = (e: unknown) => e instanceof RunError && /Cannot find device|No such file|does not exist|not found/i.test(e.message);

/**
 * Removes everything of lab `name`: the processes left in its guests (SIGTERM, then SIGKILL after
 * `graceMs`), the host veth ends (which takes the guests' eth0 with them), the bridge, the
 * namespaces, and last the state file. Idempotent; throws a RunError naming what it could not remove.
 */
export async function teardown(name: string, graceMs = 1000): Promise<TeardownReport> {
  const found = await findLab(name);
  const pids = (await Promise.all(found.netns.map(netnsPids))).flat();
  pids.forEach((p) => kill(p, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  while (pids.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  pids.filter(running).forEach((p) => kill(p, 'SIGKILL'));

  const errors: string[] = [];
  const attempt = async (args: string[]) => {
    try {
      await ip(args);
    } catch (e) {
      if (!gone(e)) errors.push((e as Error).message);
    }
  };
  for (const l of found.links) await attempt(['link', 'del', 'dev', l]);
  for (const ns of found.netns) await attempt(['netns', 'del', ns]);
  const left = await findLab(name);
  if (!isEmpty(left)) {
    throw new RunError(`lab '${name}': could not remove ${[...left.netns, ...left.links].join(', ')}${errors.length ? ` (${errors.join('; ')})` : ''}`);
  }
  removeState(name);
  return { netns: found.netns.length, links: found.links.length, processes: pids.length };
}

/** The same for a process 'exit' handler: synchronous, SIGKILL at once, never throws. */
export function teardownSync(name: string): void {
  try {
    const found = findLabSync(name);
    for (const ns of found.netns) netnsPidsSync(ns).forEach((p) => kill(p, 'SIGKILL'));
    for (const l of found.links) {
      try {
        ipSync(['link', 'del', 'dev', l]);
      } catch {
        /* best effort: the next `lab down` or `lab up` finds what is left by name */
      }
    }
    for (const ns of found.netns) {
      try {
        ipSync(['netns', 'del', ns]);
      } catch {
        /* as above */
      }
    }
    if (isEmpty(findLabSync(name))) removeState(name);
  } catch {
    /* an exit handler must not throw */
  }
}
