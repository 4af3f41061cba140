// doctor's probes of the live host: the namespace's links with their drivers, and the drop
// counters sampled over a window. What they find is judged by core/doctor.ts (pure).
import { lstatSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { diffDropCounters } from '../core/counters.js';
import type { CounterSample, LinkFact } from '../core/doctor.js';
import type { KernelSettingsSnapshot } from '../core/settings.js';
import { readDropCounters } from './counters.js';
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

/** The UDP and softnet drop counters' change over `seconds` (and the interface's, when known). */
export async function sampleDropCounters(dev: string | null, seconds: number): Promise<CounterSample> {
  const before = readDropCounters(dev, { qdisc: false });
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const after = readDropCounters(dev, { qdisc: false });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds: Math.round(elapsed * 100) / 100, delta: diffDropCounters(before, after) };
}
