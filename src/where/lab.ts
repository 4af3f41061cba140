// The lab as a place: a fresh ephemeral lab for each piece of work (the variant's bridge knobs
// are fixed when the bridge is made), g1 … gN its guests, removed on every path.
import type { BridgeMulticast } from '../core/run-report.js';
import { readNumber } from '../host/system.js';
import { bridgeName, GUEST_IF, withLab, type Lab } from '../lab/index.js';
import { applyHere, MCBENCH_JS } from './here.js';
import type { Hosts, Place } from './hosts.js';

function readBridgeMulticast(lab: Lab): BridgeMulticast {
  const name = bridgeName(lab.name);
  const read = (knob: string) => readNumber(`/sys/class/net/${name}/bridge/${knob}`);
  return {
    name,
    multicast_snooping: read('multicast_snooping'),
    multicast_querier: read('multicast_querier'),
    multicast_membership_interval: read('multicast_membership_interval'),
    multicast_querier_interval: read('multicast_querier_interval'),
    multicast_query_interval: read('multicast_query_interval'),
  };
}

export function labHosts(lab: Lab, count: number): Hosts {
  return {
    count,
    name: (k) => `g${k}`,
    iface: () => GUEST_IF,
    address: (k, family) => {
      const g = lab.state?.guests[k - 1];
      return (family === 'ipv6' ? g?.address6 : g?.address)?.split('/')[0] ?? null;
    },
    spawnMcbench: (k, args) => lab.spawn(k, [process.execPath, MCBENCH_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    applySettings: applyHere,
    bridge: () => readBridgeMulticast(lab),
    sharedClock: true,
  };
}

export function labPlace(opts: { name: string; log: (line: string) => void }): Place {
  return {
    kind: 'lab',
    refuse: () => null,
    withHosts: (need, signal, fn) =>
      withLab(
        { name: opts.name, guests: need.guests, ...need.lab },
        (lab, labSignal) => fn(labHosts(lab, need.guests), AbortSignal.any([signal, labSignal])),
        { log: opts.log, graceMs: 4000, callerHandlesSignals: true },
      ),
  };
}
