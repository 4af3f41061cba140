// The record `mcbench hosts install` keeps of where it put mcbench on each host, so later runs
// use that installation when the inventory names none. One JSON file on the orchestrating
// machine (src/where/ssh-install.ts writes it); keyed by the ssh destination as the inventory
// spells it, since host names are only the inventory's own labels. Pure.

export const INSTALLS_SCHEMA = 'mcbench/installs@1' as const;

export interface InstalledMcbench {
  /** the installed command, absolute on that host: PREFIX/bin/mcbench */
  mcbench: string;
  /** the npm prefix it went into */
  prefix: string;
  /** the version installed (the tarball's) */
  version: string;
  /** `node --version` on that host at install time */
  node: string;
  /** when, ISO 8601 UTC */
  installed: string;
}

export interface InstallsFile {
  schema: typeof INSTALLS_SCHEMA;
  /** ssh destination (e.g. 'root@10.0.0.11', an ssh_config alias, 'ssh://admin@[fd00::3]:2222') → its installation */
  hosts: Record<string, InstalledMcbench>;
}

/** Reads the file's text; a missing, foreign or damaged file reads as no record at all. */
export function parseInstalls(text: string | null): InstallsFile {
  const empty: InstallsFile = { schema: INSTALLS_SCHEMA, hosts: {} };
  if (!text) return empty;
  try {
    const v = JSON.parse(text) as { schema?: unknown; hosts?: unknown };
    if (v.schema !== INSTALLS_SCHEMA || typeof v.hosts !== 'object' || v.hosts === null) return empty;
    const hosts: Record<string, InstalledMcbench> = {};
    // A damaged entry is left out rather than trusted: the host then falls back to PATH.
    for (const [k, r] of Object.entries(v.hosts as Record<string, Partial<Record<keyof InstalledMcbench, unknown>>>)) {
      if (typeof r.mcbench === 'string' && r.mcbench.startsWith('/') && typeof r.prefix === 'string') hosts[k] = r as InstalledMcbench;
    }
    return { schema: INSTALLS_SCHEMA, hosts };
  } catch {
    return empty;
  }
}

/** The command to run on a host: the inventory's `mcbench:` wins, then the install record, else null (`mcbench` on PATH). */
export function installedMcbench(file: InstallsFile, sshDestination: string): string | null {
  return file.hosts[sshDestination]?.mcbench ?? null;
}
