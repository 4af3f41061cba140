// Several groups at once: `-g` repeatable and as an IPv4 range (`-g 239.1.1.1-239.1.1.100`). The
// sender sends datagram seq to group seq % N (round robin, in -g order), so a receiver of the same
// list knows each group's expected share from the sequence; it counts what arrived by the
// datagram's destination. Pure.
import { isIPv4 } from 'node:net';
import { UsageError } from './errors.js';
import { parseGroupAddress } from './multicast-address.js';
import type { ReceiverGroup, SenderGroup } from './result.js';

/** The most groups one run sends to or joins (one socket; net.ipv4.igmp_max_memberships must allow them). */
export const MAX_GROUPS = 1024;

function ipv4ToNumber(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * The -g values in order: each a group or a range FIRST-LAST of IPv4 groups (both ends included).
 * One value is the usual single group (IPv4 or IPv6). Several: IPv4 only, each once, at most
 * MAX_GROUPS in all.
 */
export function parseGroupList(raw: unknown): string[] {
  const items = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v.trim() : String(v)));
  const out: string[] = [];
  for (const item of items) {
    const dash = item.indexOf('-');
    if (dash < 0) {
      out.push(parseGroupAddress(item).address);
      continue;
    }
    const first = item.slice(0, dash).trim();
    const last = item.slice(dash + 1).trim();
    if (!isIPv4(first) || !isIPv4(last)) throw new UsageError(`-g/--group: '${item}' is not a range of IPv4 groups (FIRST-LAST, e.g. 239.1.1.1-239.1.1.100)`);
    parseGroupAddress(first);
    parseGroupAddress(last);
    const a = ipv4ToNumber(first);
    const b = ipv4ToNumber(last);
    if (b < a) throw new UsageError(`-g/--group: '${item}': the range ends before it starts (FIRST-LAST, FIRST <= LAST)`);
    if (b - a + 1 > MAX_GROUPS) throw new UsageError(`-g/--group: '${item}' is ${b - a + 1} groups; at most ${MAX_GROUPS} in all`);
    for (let n = a; n <= b; n++) out.push(numberToIpv4(n));
  }
  if (out.length > MAX_GROUPS) throw new UsageError(`-g/--group: ${out.length} groups; at most ${MAX_GROUPS} in all`);
  if (out.length > 1) {
    const v6 = out.find((g) => !isIPv4(g));
    if (v6 !== undefined) throw new UsageError(`-g/--group: several groups are IPv4 only (${v6} is IPv6); give one IPv6 group`);
    const seen = new Set<string>();
    for (const g of out) {
      if (seen.has(g)) throw new UsageError(`-g/--group: ${g} is given twice; give each group once`);
      seen.add(g);
    }
  }
  return out;
}

/** Of `total` datagrams sent round robin over `groups` groups, how many went to group `index` (from 0). */
export function roundRobinShare(total: number, groups: number, index: number): number {
  return total > index ? Math.floor((total - index - 1) / groups) + 1 : 0;
}

/** Of the sequences [from, to) sent round robin over `groups` groups, how many belong to group `index`. */
export function roundRobinRange(from: number, to: number, groups: number, index: number): number {
  return to > from ? roundRobinShare(to, groups, index) - roundRobinShare(from, groups, index) : 0;
}

/** A session's expected sequences as a range [from, to): from 0 when its head counts, else its first sequence. */
export interface SequenceRange {
  from: number;
  to: number;
}

/**
 * Per group: what the receiver counted (by the datagram's destination) against what each session
 * sent it (the sender's round robin over this list). With `listDiffers` (datagrams arrived on
 * another group than their sequence names in this list: the sender's -g list is another one, in
 * order or members) the expected share is unknown: expected and loss are null, not a guess.
 */
export function receiverGroups(groups: string[], received: number[], ranges: SequenceRange[], listDiffers = false): ReceiverGroup[] {
  return groups.map((group, i) => {
    const packets = received[i] ?? 0;
    if (listDiffers) return { group, packets, expected_packets: null, lost_packets: null, lost_percent: null };
    const expected = ranges.reduce((n, r) => n + roundRobinRange(r.from, r.to, groups.length, i), 0);
    const lost = Math.max(0, expected - packets);
    return { group, packets, expected_packets: expected, lost_packets: lost, lost_percent: expected > 0 ? (100 * lost) / expected : 0 };
  });
}

/** Per group: the datagrams a sender sent it, round robin from sequence 0. */
export function senderGroups(groups: string[], sent: number): SenderGroup[] {
  return groups.map((group, i) => ({ group, packets: roundRobinShare(sent, groups.length, i) }));
}
