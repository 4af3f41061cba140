// The kernel's drop counters, read from this host (procfs, sysfs, `tc`, `ip route`): the I/O half of
// core/counters.ts, whose parsers, deltas and attribution are pure.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import os from 'node:os';
import {
  count, parseNetDev, parseRouteGet, parseSoftnetStat, parseTcQdisc, parseUdp6Snmp, parseUdpSnmp, sysfsMatchesNetDev, SYSFS_FIELDS,
  type DropCounters, type NetDevCounters, type QdiscCounters, type SoftnetCounters, type SysfsNetStats, type UdpCounters,
} from '../core/counters.js';

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** The namespace's UDP counters of one family: IPv4's from /proc/net/snmp, IPv6's from /proc/net/snmp6. */
export function readUdpCounters(family: 'ipv4' | 'ipv6' = 'ipv4'): UdpCounters | null {
  const t = readText(family === 'ipv6' ? '/proc/net/snmp6' : '/proc/net/snmp');
  if (t === null) return null;
  return family === 'ipv6' ? parseUdp6Snmp(t) : parseUdpSnmp(t);
}

export function readSoftnet(): SoftnetCounters | null {
  const t = readText('/proc/net/softnet_stat');
  return t === null ? null : parseSoftnetStat(t);
}

function readSysfsStats(iface: string): SysfsNetStats | null {
  if (iface.includes('/') || iface.startsWith('.')) return null;
  const out: Partial<SysfsNetStats> = {};
  for (const f of SYSFS_FIELDS) {
    const v = count(readText(`/sys/class/net/${iface}/statistics/${f}`)?.trim());
    if (v === null) return null;
    out[f] = v;
  }
  return out as SysfsNetStats;
}

/** The device's /proc/net/dev row; rx_missed_errors filled in when sysfs proves to be this namespace's. */
export function readInterface(iface: string): NetDevCounters | null {
  const before = readSysfsStats(iface);
  const t = readText('/proc/net/dev');
  const row = t === null ? undefined : parseNetDev(t)?.get(iface);
  if (!row) return null;
  const after = before && readSysfsStats(iface);
  if (before && after && sysfsMatchesNetDev(before, row, after)) row.rx_missed_errors = after.rx_missed_errors;
  return row;
}

const CHILD_TIMEOUT_MS = 1000;

function runJson(cmd: string, args: string[]): string | null {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 && !r.error ? r.stdout : null;
  } catch {
    return null;
  }
}

export function readQdisc(iface: string): QdiscCounters | null {
  const out = runJson('tc', ['-s', '-j', 'qdisc', 'show', 'dev', iface]);
  return out === null ? null : parseTcQdisc(out);
}

export function routeDevice(group: string): string | null {
  if (isIP(group) === 0) return null;
  const out = runJson('ip', ['-j', ...(isIPv4(group) ? [] : ['-6']), 'route', 'get', group]);
  return out === null ? null : parseRouteGet(out);
}

/** --interface as given (a device name, one of its addresses, fe80::1%eth0's zone), or the route to the group. */
export function receiveInterface(group: string, iface: string | null): string | null {
  if (iface === null) return routeDevice(group);
  const zone = iface.indexOf('%');
  if (zone >= 0 && isIP(iface.slice(0, zone)) === 6) return iface.slice(zone + 1);
  if (isIP(iface) === 0) return iface;
  const match = Object.entries(os.networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.address === iface));
  return match ? match[0] : null;
}

export function readDropCounters(iface: string | null, opts: { qdisc?: boolean; family?: 'ipv4' | 'ipv6' } = {}): DropCounters {
  return {
    iface,
    udp: { scope: 'namespace', counters: readUdpCounters(opts.family) },
    softnet: { scope: 'host', counters: readSoftnet() },
    interface: { scope: 'interface', counters: iface === null ? null : readInterface(iface) },
    qdisc: { scope: 'interface', counters: iface === null || opts.qdisc === false ? null : readQdisc(iface) },
  };
}

/** Levels, not counters: a delta carries their value after the run. */
