// The guests' /24: private, from 10.200.0.0/24 upwards, skipping every prefix the host has a route
// or an address for (in any table) and every subnet another lab already uses. The bridge gets no
// address, so the host never routes into it; the check only keeps the lab's addresses unambiguous.
import { RunError } from '../core/errors.js';
import { ipJson } from './sys.js';

interface Prefix {
  net: number;
  len: number;
}

function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    v = v * 256 + Number(p);
  }
  return v;
}

export function parsePrefix(s: string): Prefix | null {
  const [addr, lenText] = s.split('/');
  const a = parseIPv4(addr ?? '');
  const len = lenText === undefined ? 32 : Number(lenText);
  if (a === null || !Number.isInteger(len) || len < 0 || len > 32) return null;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { net: (a & mask) >>> 0, len };
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  const len = Math.min(a.len, b.len);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((a.net & mask) >>> 0) === ((b.net & mask) >>> 0);
}

export const formatIPv4 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');

/** The prefixes in use on the host: every route (all tables, default excluded) and address. */
export async function hostPrefixes(): Promise<Prefix[]> {
  const routes = await ipJson<{ dst?: string }>(['-4', 'route', 'show', 'table', 'all']);
  const addrs = await ipJson<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>(['-4', 'addr', 'show']);
  const out: Prefix[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const p = parsePrefix(r.dst);
    if (p && p.len > 0) out.push(p);
  }
  for (const a of addrs) {
    for (const i of a.addr_info ?? []) {
      const p = i.local ? parsePrefix(`${i.local}/${i.prefixlen ?? 32}`) : null;
      if (p && p.len > 0) out.push(p);
    }
  }
  return out;
}

/** The first free 10.X.Y.0/24 from 10.200.0.0 on, as 'a.b.c.0/24'. */
export function pickSubnet(used: Prefix[]): string {
  const start = parseIPv4('10.200.0.0')!;
  const end = parseIPv4('10.255.255.0')!;
  for (let net = start; net <= end; net += 256) {
    const cand: Prefix = { net, len: 24 };
    if (!used.some((u) => overlaps(u, cand))) return `${formatIPv4(net)}/24`;
  }
  throw new RunError('no free /24 between 10.200.0.0 and 10.255.255.0 for the lab');
}

/**
 * Guest K's IPv6 address: a ULA /64 (RFC 4193) derived from the lab's IPv4 /24 10.X.Y.0, so two
 * labs never share one: fd6d:6362:X:Y::K/64 (X, Y in hex; "6d6362" is "mcb").
 */
export function guestAddress6(subnet: string, k: number): string {
  const p = parsePrefix(subnet)!;
  const hex = (v: number) => v.toString(16);
  return `fd6d:6362:${hex((p.net >>> 16) & 255)}:${hex((p.net >>> 8) & 255)}::${hex(k)}/64`;
}

/** The address of guest K in a subnet 'a.b.c.0/24': a.b.c.K/24. */
export function guestAddress(subnet: string, k: number): string {
  const p = parsePrefix(subnet)!;
  return `${formatIPv4(p.net + k)}/24`;
}
