// Multicast group and SSM source addresses of both families: parsing and the checks the kernel
// would otherwise answer with a bare EINVAL or, worse, silence. Pure.
//
// IPv4: 224.0.0.0/4 (RFC 5771); 232.0.0.0/8 is source-specific (RFC 4607).
// IPv6: ff00::/8 (RFC 4291 2.7): ff<flags><scope>:...; the scope nibble (RFC 7346) decides where a
// datagram may go: 1 interface-local (never leaves the host's one interface: refused), 2 link-local
// (needs -I: the kernel needs the interface as the scope id), 0 and f reserved (refused);
// ff3x::/32 (flags P and T, prefix length 0) is source-specific (RFC 4607, RFC 3306).
import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from './errors.js';

export type AddressFamily = 'ipv4' | 'ipv6';

export interface GroupAddress {
  /** the address as given (trimmed) */
  address: string;
  family: AddressFamily;
  /** in an SSM range (232.0.0.0/8, ff3x::/32): a receiver must name its sources */
  ssm: boolean;
  /** an IPv6 link-local group (ff02::/16 and the like): -I is needed */
  linkLocal: boolean;
}

/** The kernel's default per-socket source filter limit (net.ipv4.igmp_max_msf). */
export const MAX_SOURCES = 10;

const IPV4_RANGE = '224.0.0.0 to 239.255.255.255, or an IPv6 group in ff00::/8';

/** The 16 bytes of an IPv6 address node:net accepted (no zone). */
function ipv6Bytes(text: string): number[] {
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const parts = s.split(':');
    const last = parts[parts.length - 1]!;
    const out: number[] = [];
    for (const p of parts.slice(0, -1)) out.push(parseInt(p, 16));
    if (last.includes('.')) {
      const q = last.split('.').map(Number);
      out.push(q[0]! * 256 + q[1]!, q[2]! * 256 + q[3]!);
    } else {
      out.push(parseInt(last, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 255]);
}

const SCOPE_NAMES: Record<number, string> = {
  1: 'interface-local', 2: 'link-local', 3: 'realm-local', 4: 'admin-local', 5: 'site-local', 8: 'organization-local', 14: 'global',
};

/** -g: an IPv4 or IPv6 multicast group, with the scope checks above. */
export function parseGroupAddress(raw: unknown): GroupAddress {
  const g = typeof raw === 'string' ? raw.trim() : String(raw);
  if (isIPv4(g)) {
    const first = Number(g.split('.')[0]);
    if (first < 224 || first > 239) throw new UsageError(`-g/--group: ${g} is not a multicast address (valid range ${IPV4_RANGE})`);
    return { address: g, family: 'ipv4', ssm: first === 232, linkLocal: false };
  }
  if (g.includes('%')) throw new UsageError(`-g/--group: '${g}': give the interface with -I, not as a zone in the group`);
  if (!isIPv6(g)) throw new UsageError(`-g/--group: '${g}' is not an IP address (multicast range ${IPV4_RANGE})`);
  const b = ipv6Bytes(g);
  if (b[0] !== 0xff) throw new UsageError(`-g/--group: ${g} is not an IPv6 multicast address (valid range ff00::/8)`);
  const flags = b[1]! >> 4;
  const scope = b[1]! & 15;
  if (scope === 0 || scope === 15) throw new UsageError(`-g/--group: ${g} has the reserved scope ${scope.toString(16)} (RFC 7346): use a scope from 2 (link-local) to e (global), e.g. ff15::1`);
  if (scope === 1) throw new UsageError(`-g/--group: ${g} is interface-local (scope 1): its datagrams never leave the host's interface (RFC 4291); use a link-local (ff02::) or wider group`);
  const ssm = flags === 3 && b[2] === 0 && b[3] === 0;
  return { address: g, family: 'ipv6', ssm, linkLocal: scope === 2 };
}

export function scopeName(group: GroupAddress): string | null {
  if (group.family !== 'ipv6') return null;
  return SCOPE_NAMES[ipv6Bytes(group.address)[1]! & 15] ?? null;
}

/** --source (repeatable): unicast addresses of the group's family, each once, at most MAX_SOURCES. */
export function parseSources(raw: unknown, group: GroupAddress): string[] {
  if (raw === undefined || raw === null || raw === false) return [];
  const list = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v.trim() : String(v)));
  const family = group.family === 'ipv4' ? 'IPv4' : 'IPv6';
  for (const s of list) {
    const v4 = isIPv4(s);
    if (!v4 && !isIPv6(s)) throw new UsageError(`--source: '${s}' is not an IP address (give the sender's unicast ${family} address)`);
    if (v4 !== (group.family === 'ipv4')) throw new UsageError(`--source: ${s} is not an ${family} address like the group ${group.address}`);
    if (v4 ? Number(s.split('.')[0]) >= 224 || s === '0.0.0.0' : ipv6Bytes(s)[0] === 0xff || ipv6Bytes(s).every((x) => x === 0)) {
      throw new UsageError(`--source: ${s} is not a unicast address (give the sender's ${family} address)`);
    }
  }
  if (new Set(list).size !== list.length) throw new UsageError('--source: an address is given twice; give each source once');
  if (list.length > MAX_SOURCES) throw new UsageError(`--source: ${list.length} sources; at most ${MAX_SOURCES} (net.ipv4.igmp_max_msf, the kernel's per-socket source limit)`);
  return list;
}

/** The receiver's group and sources together: an SSM group needs sources (RFC 4607); a note when an ASM group has some. */
export function checkSsm(group: GroupAddress, sources: readonly string[]): string | null {
  if (group.ssm && sources.length === 0) {
    const range = group.family === 'ipv4' ? '232.0.0.0/8' : 'ff3x::/32';
    throw new UsageError(`--source: ${group.address} is a source-specific group (${range}, RFC 4607): give the sender's address with --source ADDR`);
  }
  if (!group.ssm && sources.length > 0) {
    return `note: ${group.address} is not in an SSM range; joining it for the given source${sources.length > 1 ? 's' : ''} only (IGMPv3/MLDv2 source filter)`;
  }
  return null;
}
