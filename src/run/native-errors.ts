// Turns the addon's system errors into what the user should read: bad input exits 2 naming the
// flag, a socket that cannot bind or join exits 1 saying why.
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { RunError, UsageError, isSystemError, type SystemErrorLike } from '../core/errors.js';

const hasLocalAddress = (address: string) => Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.address === address));

export function explainSocketError(e: unknown, ctx: { interface: string | null; group: string; port: number }): Error {
  if (!isSystemError(e)) return e instanceof Error ? e : new RunError(String(e));
  const iface = ctx.interface;
  if (e.syscall === 'if_nametoindex') {
    return new UsageError(`-I/--interface: unknown interface '${iface}' (see \`ip -br link\` for the names on this host)`);
  }
  if (e.message.includes('SO_RCVBUFFORCE') && (e.code === 'EPERM' || e.code === 'EACCES')) {
    return new UsageError('--rcvbuf-force: needs CAP_NET_ADMIN (run as root), or drop it and raise net.core.rmem_max instead');
  }
  if (e.code === 'EADDRNOTAVAIL' && iface !== null) {
    // An address with its zone ("fe80::1%eth0") must be on the zone's interface.
    const [address, zone] = iface.split('%');
    if (zone !== undefined) return new UsageError(`-I/--interface: interface ${zone} has no address ${address ?? ''} (see \`ip -6 addr show dev ${zone}\`)`);
    return new UsageError(`-I/--interface: no interface on this host has the address ${iface}`);
  }
  // An -I address no interface here has: the sender's bind says EADDRNOTAVAIL, the receiver's
  // join ENODEV (the kernel finds no device by that address). Both are bad input.
  const join = /MCAST_JOIN|IP_ADD_MEMBERSHIP/.test(e.message);
  if (e.code === 'ENODEV' && join && iface !== null && isIPv4(iface) && !hasLocalAddress(iface)) {
    return new UsageError(`-I/--interface: no interface on this host has the address ${iface}`);
  }
  if (e.code === 'ENODEV' && join) {
    const hint = iface === null
      ? `no route for the group: give the interface with -I, or add one (${noRouteFix(ctx.group)})`
      : `interface ${iface} cannot join multicast groups (is it up, with multicast on?)`;
    return new RunError(`cannot join ${ctx.group}: ${hint}`);
  }
  // A socket joins at most net.ipv4.igmp_max_memberships groups (default 20): the next join is ENOBUFS.
  if (e.code === 'ENOBUFS' && e.message.includes('MCAST_JOIN_GROUP')) {
    const limit = readIgmpMaxMemberships();
    const want = /of (\d+)/.exec(e.message)?.[1];
    return new RunError(
      `${e.message}: net.ipv4.igmp_max_memberships${limit === null ? '' : ` (${limit})`} limits the groups one socket joins; ` +
        `raise it for this many groups: sysctl -w net.ipv4.igmp_max_memberships=${want ?? 'N'} (per network namespace)`,
    );
  }
  if (e.code === 'EADDRINUSE') {
    return new RunError(`cannot bind ${ctx.group}:${ctx.port}: ${e.message}`);
  }
  return new RunError(e.message);
}

/** The route a group needs: IPv4's 224.0.0.0/4, or IPv6's ff00::/8 (in the local table, as the kernel adds it per interface). */
const noRouteFix = (group: string) => (group.includes(':') ? 'ip -6 route add multicast ff00::/8 dev IFACE table local' : 'ip route add 224.0.0.0/4 dev IFACE');

/** The send thread failed before a single packet went out: say why as a run error. */
export function explainSendError(e: SystemErrorLike, ctx: { interface: string | null; group: string }): Error {
  if (e.code === 'ENETUNREACH' && ctx.interface === null) {
    return new RunError(`cannot send to ${ctx.group}: no route for the group: give the interface with -I, or add one (${noRouteFix(ctx.group)})`);
  }
  if (e.syscall.includes('UDP_SEGMENT')) return new RunError(`--gso: the kernel refused UDP GSO on ${ctx.interface ?? `the route to ${ctx.group}`}: ${gsoRefusal(e.code)} (--gso auto falls back to one datagram per call)`);
  return new RunError(`cannot send to ${ctx.group}${ctx.interface ? ` via ${ctx.interface}` : ''}: ${e.message}`);
}

/** Why the kernel refuses a UDP_SEGMENT send, by its errno (udp_send_skb). */
export function gsoRefusal(code: string): string {
  if (code === 'EIO') return 'EIO: the device has no UDP checksum offload (see ethtool -k DEV tx-checksumming)';
  if (code === 'EMSGSIZE') return 'EMSGSIZE: a segment is larger than the device\'s MTU allows (GSO segments are never IP-fragmented; lower -l)';
  if (code === 'EINVAL') return 'EINVAL: a segment is larger than the path MTU allows, or the send holds too many segments';
  return code;
}

function readIgmpMaxMemberships(): number | null {
  try {
    const v = Number(readFileSync('/proc/sys/net/ipv4/igmp_max_memberships', 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}
