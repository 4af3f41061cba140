// doctor's probes of the live host: the namespace's links with their drivers, and the drop
// counters sampled over a window. What they find is judged by core/doctor.ts (pure).
import { lstatSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diffDropCounters } from '../core/counters.js';
import type { BridgeQuerierFact, CounterSample, LinkFact, QuerierFamilyFact } from '../core/doctor.js';
import type { KernelSettingsSnapshot } from '../core/settings.js';
import { readDropCounters } from './counters.js';
import { loadBinding, type NativeQuerierFamily } from '../native.js';
import { readLinkView } from './settings.js';

/** The NIC driver from /sys (only when /sys shows this namespace): 'virtual' without a device. */
function sysfsDriver(name: string): string | null {
  try {
    lstatSync(`/sys/class/net/${name}/device`);
  } catch {
    return 'virtual';
  }
  try {
    return basename(readlinkSync(`/sys/class/net/${name}/device/driver`));
  } catch {
    return null;
  }
}

/** The namespace's links from netlink; the driver only for the chosen bridge's ports. Null when `ip` failed. */
export function readLinks(snapshot: KernelSettingsSnapshot): LinkFact[] | null {
  const view = readLinkView();
  if (!view.netlink) return null;
  const bridge = snapshot.bridge?.name ?? null;
  return [...view.netlink.values()].map((l) => {
    const kind = l.linkinfo?.info_kind ?? (l.link_type === 'loopback' ? 'loopback' : null);
    const isPort = bridge !== null && l.master === bridge;
    return {
      name: l.ifname,
      kind,
      master: l.master ?? null,
      txqlen: typeof l.txqlen === 'number' ? l.txqlen : null,
      qdisc: typeof l.qdisc === 'string' ? l.qdisc : null,
      driver: kind ? 'virtual' : isPort && view.sysfsMatches ? sysfsDriver(l.ifname) : null,
    };
  });
}

/**
 * The UDP and softnet drop counters' change over `seconds` (and the interface's, when known);
 * with `udp6` also IPv6's UDP counters (/proc/net/snmp6), which IPv4's do not include.
 */
export async function sampleDropCounters(dev: string | null, seconds: number, opts: { udp6?: boolean } = {}): Promise<CounterSample> {
  const readUdp6 = () => (opts.udp6 === true ? readDropCounters(null, { qdisc: false, family: 'ipv6' }) : null);
  const before = readDropCounters(dev, { qdisc: false });
  const before6 = readUdp6();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const after = readDropCounters(dev, { qdisc: false });
  const after6 = readUdp6();
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    seconds: Math.round(elapsed * 100) / 100,
    delta: diffDropCounters(before, after),
    ...(before6 && after6 ? { udp6: diffDropCounters(before6, after6).udp } : {}),
  };
}

/** Linux 5.16 added IFLA_BR_MCAST_QUERIER_STATE: from then on a family left out means no querier. */
function kernelReportsQuerierState(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 16));
}

/**
 * The chosen bridge's IGMP and MLD querier as the kernel reports it (rtnetlink, this network
 * namespace), and whether the bridge has an IPv6 link-local address to send MLD queries from.
 * Null without a bridge.
 */
export function readBridgeQuerier(snapshot: KernelSettingsSnapshot): BridgeQuerierFact | null {
  const br = snapshot.bridge?.name;
  if (!br) return null;
  const addrs = networkInterfaces()[br];
  const fact: BridgeQuerierFact = {
    bridge: br,
    kernel_reports: kernelReportsQuerierState(snapshot.host.kernel),
    ipv4: null,
    ipv6: null,
    // os.networkInterfaces() lists only links with an address: a bridge missing there has none
    ipv6_link_local: (addrs ?? []).some((a) => a.family === 'IPv6' && /^fe[89ab][0-9a-f]:/i.test(a.address)),
    error: null,
  };
  try {
    const st = loadBinding().bridgeQuerierState(br);
    const names = new Map([...(readLinkView().netlink?.values() ?? [])].map((l) => [l.ifindex, l.ifname]));
    const family = (f: NativeQuerierFamily | null): QuerierFamilyFact | null => f && {
      address: f.address,
      port: f.port_ifindex === null ? null : names.get(f.port_ifindex) ?? `ifindex ${f.port_ifindex}`,
      other_querier_seconds: f.other_querier_timer_cs === null ? null : f.other_querier_timer_cs / 100,
    };
    fact.ipv4 = family(st.ipv4);
    fact.ipv6 = family(st.ipv6);
  } catch (e) {
    fact.error = e instanceof Error ? e.message : String(e);
  }
  return fact;
}
