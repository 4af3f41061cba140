// mcbench doctor. diagnose() is pure: each check is driven with synthetic snapshots (a real
// snapshot of this host with entries overridden), so checks that depend on global sysctls
// (net.core.*) never need them changed. The CLI runs on this host read-only (bad flags, --json)
// and inside a private network namespace with a bridge the test makes (test/helpers/netns.ts).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DropCounterDelta, SoftnetCounters, UdpCounters } from '../src/core/counters.js';
import {
  DOCTOR_SCHEMA,
  EMULATED_NIC_DRIVERS,
  RMEM_MAX_MIN,
  diagnose,
  doctorExitCode,
  doctorReport,
  formatDoctor,
  type CounterSample,
  type DoctorReport,
  type Finding,
  type LinkFact,
} from '../src/core/doctor.js';
import { findSettingDef, type SettingValue } from '../src/core/settings-registry.js';
import type { KernelSettingsSnapshot, SettingEntry } from '../src/core/settings.js';
import { snapshotKernelSettings } from '../src/host/settings.js';
import { MCBENCH, Running, TestNetns, mcbenchNoNet, type RunOutput } from './helpers/netns.js';

// ------------------------------------------------------------------------------------------------
// Synthetic snapshots: this host's, with entries overridden.

let real: KernelSettingsSnapshot;
beforeAll(() => {
  real = snapshotKernelSettings({ interface: 'lo' });
});

/** A value, or `{ error }` for an entry that could not be read. */
type Override = SettingValue | { error: string };

/** The entry's target: the name standing where the registry id has <iface> or <bridge>. */
function targetOf(template: string, id: string): string | undefined {
  if (!/<(iface|bridge)>/.test(template)) return undefined;
  const re = new RegExp('^' + template.split(/<(?:iface|bridge)>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.+)') + '$');
  return re.exec(id)?.[1];
}

/**
 * A copy of `base` with `values` set by concrete id (entries that are not there are made from the
 * registry) and the top-level fields in `over` replaced. The interface is renamed first when
 * `over.interface` names another one, so its entries follow.
 */
function tweak(base: KernelSettingsSnapshot, values: Record<string, Override> = {}, over: Partial<KernelSettingsSnapshot> = {}): KernelSettingsSnapshot {
  const s = structuredClone(base);
  const oldIface = s.interface?.name;
  Object.assign(s, structuredClone(over));
  if (oldIface && s.interface && s.interface.name !== oldIface) {
    const rename = (x: string) => x.split(`.${oldIface}.`).join(`.${s.interface!.name}.`);
    for (const e of s.entries) {
      if (e.target === oldIface) {
        e.id = rename(e.id);
        e.target = s.interface.name;
      }
    }
  }
  for (const [id, v] of Object.entries(values)) {
    let e = s.entries.find((x) => x.id === id);
    if (!e) {
      const def = findSettingDef(id);
      if (!def) throw new Error(`no registry entry for ${id}`);
      const target = targetOf(def.id, id);
      e = { id, key: def.id, ...(target ? { target } : {}), value: null, unit: def.unit, scope: def.scope, available: true, source: def.path.startsWith('/proc/') ? 'procfs' : 'sysfs' } as SettingEntry;
      s.entries.push(e);
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      Object.assign(e, { value: null, available: false, error: v.error });
    } else {
      Object.assign(e, { value: v, available: true });
      delete e.error;
    }
  }
  return s;
}

/** A host with a bridge br0 at the kernel's defaults (snooping on, querier on so nothing fires). */
const BRIDGE_DEFAULTS: Record<string, Override> = {
  'bridge.br0.multicast_snooping': 1,
  'bridge.br0.multicast_querier': 1,
  'bridge.br0.multicast_membership_interval': 26000,
  'bridge.br0.multicast_querier_interval': 25500,
  'bridge.br0.multicast_query_interval': 12500,
  'bridge.br0.multicast_query_response_interval': 1000,
  'bridge.br0.multicast_startup_query_interval': 3125,
  'bridge.br0.multicast_igmp_version': 2,
  'bridge.br0.stp_state': 0,
  'bridge.br0.tx_queue_len': 1000,
  'bridge.br0.nf_call_iptables': 0,
  'bridge.br0.nf_call_ip6tables': 0,
  'bridge.br0.nf_call_arptables': 0,
};
const withBridge = (values: Record<string, Override> = {}, over: Partial<KernelSettingsSnapshot> = {}) =>
  tweak(real, { ...BRIDGE_DEFAULTS, ...values }, { bridge: { name: 'br0', source: 'option' }, netns: { ...real.netns, sysfs_matches: true }, ...over });

const one = (findings: Finding[], id: string): Finding => {
  const f = findings.filter((x) => x.id === id);
  if (f.length !== 1) throw new Error(`${f.length} findings '${id}' (have: ${findings.map((x) => x.id).join(', ')})`);
  return f[0]!;
};
const check = (s: KernelSettingsSnapshot, id: string, sample: CounterSample | null = null, links: LinkFact[] | null = null) => one(diagnose(s, sample, links), id);

const UDP0: UdpCounters = { InDatagrams: 0, NoPorts: 0, InErrors: 0, OutDatagrams: 0, RcvbufErrors: 0, SndbufErrors: 0, InCsumErrors: 0, IgnoredMulti: 0, MemErrors: 0 };
function sampleOf(seconds: number, udp: Partial<UdpCounters> | null, softnet: Partial<SoftnetCounters> | null = {}): CounterSample {
  const delta: DropCounterDelta = {
    iface: null,
    udp: { scope: 'namespace', counters: udp ? { ...UDP0, ...udp } : null },
    softnet: { scope: 'host', counters: softnet ? { processed: 0, dropped: 0, time_squeeze: 0, cpus: 2, ...softnet } : null },
    interface: { scope: 'interface', counters: null },
    qdisc: { scope: 'interface', counters: null },
  };
  return { seconds, delta };
}
const link = (l: Partial<LinkFact> & { name: string }): LinkFact => ({ kind: null, master: null, txqlen: 1000, qdisc: 'fq_codel', driver: null, ...l });

// ------------------------------------------------------------------------------------------------

describe('diagnose (pure, synthetic snapshots)', () => {
  it('runs every check once, each finding complete; fixes and seed citations on everything that is not ok', () => {
    const findings = diagnose(withBridge(), sampleOf(1, {}), []);
    const ids = findings.map((f) => f.id);
    expect(ids).toEqual(['rmem-max', 'rmem-default', 'bridge-querier', 'bridge-mld-querier', 'bridge-membership-interval', 'bridge-nf-call', 'bridge-stp',
      'txqueuelen', 'nic-driver', 'kvm-acceleration', 'udp-receive-errors', 'softnet-backlog-drops', 'igmp-version', 'mld-version', 'ssm-report-version', 'ssm-querier-version',
      'igmp-max-memberships']);
    for (const f of findings) {
      expect(f.seen.length, f.id).toBeGreaterThan(10);
      if (f.severity === 'ok' || f.severity === 'skipped') {
        expect(f.fix, f.id).toBeNull();
      } else {
        expect(f.why, f.id).toMatch(/seeds? 00\d/);
        expect(f.fix, f.id).toBeTruthy();
      }
    }
    // The input is not changed.
    expect(diagnose(Object.freeze(withBridge()), null, null).length).toBeGreaterThan(0);
  });

  it('rmem-max: a problem below 4 MiB with the seed 001 value as the fix, ok at or above', () => {
    const bad = check(tweak(real, { 'net.core.rmem_max': 212992 }), 'rmem-max');
    expect(bad.severity).toBe('problem');
    expect(bad.seen).toContain('net.core.rmem_max = 212992 (208 KiB)');
    expect(bad.why).toMatch(/seed 001.*clamped/);
    expect(bad.fix).toMatch(/^sysctl -w net\.core\.rmem_max=26214400 && echo 'net\.core\.rmem_max = 26214400' > \/etc\/sysctl\.d\/\S+\.conf$/);
    expect(check(tweak(real, { 'net.core.rmem_max': RMEM_MAX_MIN - 1 }), 'rmem-max').severity).toBe('problem');
    expect(check(tweak(real, { 'net.core.rmem_max': RMEM_MAX_MIN }), 'rmem-max').severity).toBe('ok');
    expect(check(tweak(real, { 'net.core.rmem_max': 26214400 }), 'rmem-max')).toMatchObject({ severity: 'ok', fix: null });
    expect(check(tweak(real, { 'net.core.rmem_max': { error: 'permission denied' } }), 'rmem-max')).toMatchObject({ severity: 'skipped', seen: expect.stringMatching(/permission denied/) });
    // In a child namespace the fix has to be run on the host.
    expect(check(tweak(real, { 'net.core.rmem_max': 212992 }, { netns: { ...real.netns, initial: false } }), 'rmem-max').why).toMatch(/set it on the host/);
  });

  it('rmem-default: info when small, ok when large', () => {
    const bad = check(tweak(real, { 'net.core.rmem_default': 212992 }), 'rmem-default');
    expect(bad).toMatchObject({ severity: 'info', fix: expect.stringMatching(/^sysctl -w net\.core\.rmem_default=4194304/) });
    expect(check(tweak(real, { 'net.core.rmem_default': 4194304 }), 'rmem-default').severity).toBe('ok');
  });

  it('bridge-querier: a problem with snooping on and the querier off, fixed on that bridge; not with the querier on or snooping off', () => {
    const bad = check(withBridge({ 'bridge.br0.multicast_querier': 0 }), 'bridge-querier');
    expect(bad).toMatchObject({ severity: 'problem', target: 'br0' });
    expect(bad.seen).toMatch(/multicast_snooping=1 but multicast_querier=0/);
    expect(bad.why).toMatch(/seed 002/);
    expect(bad.why).toMatch(/260 s \(multicast_membership_interval\)/);
    expect(bad.fix).toMatch(/^echo 1 > \/sys\/class\/net\/br0\/bridge\/multicast_querier {2}# or run an IGMP querier on the LAN/);
    // /sys of another namespace: the netlink form, which follows the namespace.
    const viaNetlink = check(withBridge({ 'bridge.br0.multicast_querier': 0 }, { netns: { ...real.netns, sysfs_matches: false } }), 'bridge-querier');
    expect(viaNetlink.fix).toMatch(/^ip link set br0 type bridge mcast_querier 1 /);
    expect(check(withBridge({ 'bridge.br0.multicast_querier': 1 }), 'bridge-querier')).toMatchObject({ severity: 'ok', fix: null });
    expect(check(withBridge({ 'bridge.br0.multicast_snooping': 0, 'bridge.br0.multicast_querier': 0 }), 'bridge-querier').severity).toBe('ok');
    expect(doctorExitCode(diagnose(withBridge({ 'bridge.br0.multicast_querier': 0 })))).toBe(1);
  });

  it('bridge checks without a bridge: skipped, naming the bridges that are there', () => {
    const none = check(real, 'bridge-querier', null, [link({ name: 'virbr0', kind: 'bridge', qdisc: 'noqueue' })]);
    expect(none).toMatchObject({ severity: 'skipped', seen: expect.stringMatching(/virbr0 \(give --bridge BR\)/) });
    expect(check(real, 'bridge-stp', null, []).seen).toMatch(/no bridge in this network namespace/);
  });

  it('bridge-membership-interval: a warning when memberships can expire while a querier is presumed, ok at the defaults', () => {
    const gap = check(withBridge({ 'bridge.br0.multicast_membership_interval': 12000 }), 'bridge-membership-interval');
    expect(gap.severity).toBe('warning');
    expect(gap.seen).toMatch(/membership_interval 120 s is shorter than multicast_querier_interval 255 s/);
    expect(gap.why).toMatch(/up to 135 s/);
    expect(gap.fix).toMatch(/^ip link set br0 type bridge mcast_membership_interval 26000 /);
    // The bridge is the querier and memberships last less than a query period plus the response time.
    const between = check(withBridge({ 'bridge.br0.multicast_membership_interval': 13000, 'bridge.br0.multicast_querier_interval': 10000 }), 'bridge-membership-interval');
    expect(between.severity).toBe('warning');
    expect(between.seen).toMatch(/not longer than multicast_query_interval 125 s \+ multicast_query_response_interval 10 s/);
    expect(check(withBridge(), 'bridge-membership-interval').severity).toBe('ok');
    expect(check(withBridge({ 'bridge.br0.multicast_snooping': 0, 'bridge.br0.multicast_membership_interval': 100 }), 'bridge-membership-interval').severity).toBe('ok');
  });

  it('bridge-nf-call: a warning for each table on with a bridge, info without one, ok when off or not loaded', () => {
    const on = { 'net.bridge.bridge-nf-call-iptables': 1, 'net.bridge.bridge-nf-call-ip6tables': 0, 'net.bridge.bridge-nf-call-arptables': 1 };
    const bad = check(withBridge(on), 'bridge-nf-call');
    expect(bad.severity).toBe('warning');
    expect(bad.seen).toMatch(/net\.bridge\.bridge-nf-call-iptables=1, net\.bridge\.bridge-nf-call-arptables=1 with 1 bridge .*\(br0\)/);
    expect(bad.why).toMatch(/seed 000/);
    expect(bad.fix).toMatch(/^sysctl -w net\.bridge\.bridge-nf-call-iptables=0 net\.bridge\.bridge-nf-call-arptables=0 {2}# unless .*Kubernetes/);
    // Switched on by the bridge alone.
    const own = check(withBridge({ 'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-ip6tables': 0, 'net.bridge.bridge-nf-call-arptables': 0, 'bridge.br0.nf_call_iptables': 1 }), 'bridge-nf-call');
    expect(own).toMatchObject({ severity: 'warning', fix: expect.stringMatching(/^ip link set br0 type bridge nf_call_iptables 0 /) });
    const off = { 'net.bridge.bridge-nf-call-iptables': 0, 'net.bridge.bridge-nf-call-ip6tables': 0, 'net.bridge.bridge-nf-call-arptables': 0 };
    expect(check(withBridge(off), 'bridge-nf-call').severity).toBe('ok');
    expect(check(tweak(real, on), 'bridge-nf-call', null, [link({ name: 'eth0' })]).severity).toBe('info');
    expect(check(tweak(real, on), 'bridge-nf-call', null, [link({ name: 'virbr0', kind: 'bridge' })])).toMatchObject({ severity: 'warning', seen: expect.stringMatching(/virbr0/) });
    const unloaded = Object.fromEntries(Object.keys(off).map((k) => [k, { error: 'br_netfilter is not loaded (no /proc/sys/net/bridge): bridged frames skip iptables' }]));
    expect(check(withBridge(unloaded), 'bridge-nf-call')).toMatchObject({ severity: 'ok', seen: expect.stringMatching(/br_netfilter is not loaded/) });
    expect(check(withBridge({ ...unloaded, 'bridge.br0.nf_call_iptables': 1 }), 'bridge-nf-call')).toMatchObject({ severity: 'ok', seen: expect.stringMatching(/would take effect once it is/) });
  });

  it('bridge-stp: a warning when on, with the no-loop caveat in the fix; ok when off', () => {
    const bad = check(withBridge({ 'bridge.br0.stp_state': 1 }), 'bridge-stp');
    expect(bad).toMatchObject({ severity: 'warning', target: 'br0' });
    expect(bad.seen).toContain('bridge.br0.stp_state = 1 (kernel STP)');
    expect(bad.why).toMatch(/seed 000.*forward_delay/);
    expect(bad.fix).toMatch(/^ip link set br0 type bridge stp_state 0 {2}# only if br0 cannot be part of a loop/);
    expect(check(withBridge({ 'bridge.br0.stp_state': 0 }), 'bridge-stp').severity).toBe('ok');
  });

  it('txqueuelen: info below the seed\'s 5000 where a queue uses it (NIC, taps); not for noqueue devices', () => {
    const eth = tweak(real, { 'link.eth9.tx_queue_len': 1000 }, { interface: { name: 'eth9', source: 'option', driver: 'virtio_net' } });
    const bad = check(eth, 'txqueuelen');
    expect(bad).toMatchObject({ severity: 'info', fix: 'ip link set dev eth9 txqueuelen 5000' });
    expect(bad.why).toMatch(/seed 000: "Setting txqueuelen to 5000/);
    expect(check(tweak(eth, { 'link.eth9.tx_queue_len': 5000 }), 'txqueuelen').severity).toBe('ok');
    // A bridge (noqueue) with a veth port (noqueue) and a tap (its ring toward the guest): only the tap counts.
    const links = [
      link({ name: 'eth9', qdisc: 'fq_codel', txqlen: 5000 }),
      link({ name: 'br0', kind: 'bridge', qdisc: 'noqueue' }),
      link({ name: 'veth1', kind: 'veth', qdisc: 'noqueue', master: 'br0' }),
      link({ name: 'vnet0', kind: 'tun', qdisc: 'noqueue', master: 'br0', txqlen: 500 }),
    ];
    const tap = check(withBridge({}, { interface: eth.interface, entries: tweak(eth, { 'link.eth9.tx_queue_len': 5000 }).entries.concat(withBridge().entries.filter((e) => e.scope === 'bridge')) }), 'txqueuelen', null, links);
    expect(tap).toMatchObject({ severity: 'info', fix: 'ip link set dev vnet0 txqueuelen 5000' });
    expect(tap.seen).toMatch(/vnet0 500 packets.*br0, veth1 have no queue/);
    // Down, a bridge shows 'noop' (no qdisc yet): its kind still says it will have none.
    expect(check(withBridge(), 'txqueuelen', null, [link({ name: 'br0', kind: 'bridge', qdisc: 'noop' })]).seen).toMatch(/br0 has no queue/);
    expect(tap.why).toMatch(/toward the guest/);
    expect(check(real, 'txqueuelen', null, [link({ name: 'lo', kind: 'loopback', qdisc: 'noqueue' })]).severity).toBe('skipped');
  });

  it('nic-driver: a warning for an emulated NIC inside a VM, fix virtio; ok for virtio_net and for real NICs on bare metal', () => {
    const vm = { ...real.virtualization, vm: 'kvm', container: 'none', hypervisor_flag: true };
    const metal = { ...real.virtualization, vm: 'none', container: 'none', hypervisor_flag: false };
    for (const driver of EMULATED_NIC_DRIVERS) {
      const s = tweak(real, { 'link.eth9.driver': driver }, { interface: { name: 'eth9', source: 'option', driver }, virtualization: vm });
      const f = check(s, 'nic-driver');
      expect(f.severity, driver).toBe('warning');
      expect(f.seen, driver).toContain(`eth9 uses ${driver}`);
      expect(f.why).toMatch(/seeds 000 and 004/);
      expect(f.fix).toMatch(/^virsh edit <guest> {2}# .*<model type='virtio'\/>/);
    }
    const virtio = tweak(real, { 'link.eth9.driver': 'virtio_net' }, { interface: { name: 'eth9', source: 'option', driver: 'virtio_net' }, virtualization: vm });
    expect(check(virtio, 'nic-driver').severity).toBe('ok');
    const realNic = tweak(real, { 'link.eth9.driver': 'e1000e' }, { interface: { name: 'eth9', source: 'option', driver: 'e1000e' }, virtualization: metal });
    expect(check(realNic, 'nic-driver')).toMatchObject({ severity: 'ok', seen: expect.stringMatching(/bare metal is a real NIC/) });
    // An emulated NIC as a bridge port, known from the links.
    const port = check(withBridge({}, { virtualization: vm }), 'nic-driver', null, [link({ name: 'ens4', master: 'br0', driver: '8139cp' })]);
    expect(port).toMatchObject({ severity: 'warning', seen: expect.stringMatching(/ens4 uses 8139cp/) });
  });

  it('kvm-acceleration: info only on bare metal without /dev/kvm; never a problem', () => {
    const v = (o: Partial<KernelSettingsSnapshot['virtualization']>) => ({ virtualization: { ...real.virtualization, ...o } });
    const metal = check(tweak(real, {}, v({ kvm_device: false, vm: 'none', container: 'none', hypervisor_flag: false })), 'kvm-acceleration');
    expect(metal).toMatchObject({ severity: 'info', fix: expect.stringMatching(/^modprobe kvm_intel \|\| modprobe kvm_amd/) });
    expect(metal.why).toMatch(/seed 000: "If the KVM kernel modules are not being used/);
    expect(check(tweak(real, {}, v({ kvm_device: true })), 'kvm-acceleration').severity).toBe('ok');
    expect(check(tweak(real, {}, v({ kvm_device: false, vm: 'kvm', container: 'none' })), 'kvm-acceleration').severity).toBe('skipped');
    expect(check(tweak(real, {}, v({ kvm_device: false, vm: 'none', container: 'docker' })), 'kvm-acceleration').severity).toBe('skipped');
  });

  it('udp-receive-errors: a problem when RcvbufErrors grew, per second, the fix pointing at rmem_max and the reader', () => {
    const small = tweak(real, { 'net.core.rmem_max': 212992 });
    const bad = check(small, 'udp-receive-errors', sampleOf(2, { RcvbufErrors: 50, InErrors: 50 }));
    expect(bad.severity).toBe('problem');
    expect(bad.seen).toMatch(/^UDP RcvbufErrors \+50 in 2 s \(25\/s\), InErrors \+50/);
    expect(bad.why).toMatch(/seed 001/);
    expect(bad.fix).toMatch(/^sysctl -w net\.core\.rmem_max=26214400 {2}# then restart the receiver with a larger SO_RCVBUF .* or make it read faster/);
    const bigRmem = check(tweak(real, { 'net.core.rmem_max': 26214400 }), 'udp-receive-errors', sampleOf(1, { RcvbufErrors: 5, InErrors: 5 }));
    expect(bigRmem.fix).toMatch(/^# restart the receiver with a larger SO_RCVBUF/);
    expect(check(small, 'udp-receive-errors', sampleOf(1, {})).severity).toBe('ok');
    expect(check(small, 'udp-receive-errors', null).seen).toMatch(/--sample 0/);
    expect(check(small, 'udp-receive-errors', sampleOf(1, null)).severity).toBe('skipped');
    // Checksum errors: InErrors without RcvbufErrors.
    expect(check(small, 'udp-receive-errors', sampleOf(1, { InErrors: 3, InCsumErrors: 3 }))).toMatchObject({ severity: 'warning', seen: expect.stringMatching(/InCsumErrors \+3/) });
  });

  it('udp6-receive-errors: IPv6\'s Udp6 counters judged apart, only when they were sampled (an IPv6 group asked for)', () => {
    const small = tweak(real, { 'net.core.rmem_max': 212992 });
    const v6 = (udp6: Partial<UdpCounters> | null, udp: Partial<UdpCounters> = {}): CounterSample =>
      ({ ...sampleOf(2, udp), udp6: { scope: 'namespace', counters: udp6 ? { ...UDP0, ...udp6 } : null } });
    const findings = diagnose(small, v6({ RcvbufErrors: 40, InErrors: 40 }));
    expect(one(findings, 'udp6-receive-errors')).toMatchObject({ severity: 'problem', evidence: ['/proc/net/snmp6 Udp6RcvbufErrors', 'InErrors', 'MemErrors'] });
    expect(one(findings, 'udp6-receive-errors').seen).toMatch(/^UDPv6 RcvbufErrors \+40 in 2 s \(20\/s\), InErrors \+40/);
    expect(one(findings, 'udp-receive-errors').severity).toBe('ok');  // IPv4's did not move
    expect(one(diagnose(small, v6({}, { RcvbufErrors: 3, InErrors: 3 })), 'udp6-receive-errors').severity).toBe('ok');
    expect(one(diagnose(small, v6(null)), 'udp6-receive-errors').severity).toBe('skipped');
    expect(one(diagnose(small, v6({ MemErrors: 2, InErrors: 2 })), 'udp6-mem-errors').seen).toMatch(/^UDPv6 MemErrors \+2/);
    // Not sampled: no IPv6 finding at all.
    expect(diagnose(small, sampleOf(1, {})).some((f) => f.id.startsWith('udp6'))).toBe(false);
    expect(diagnose(small, null).some((f) => f.id.startsWith('udp6'))).toBe(false);
  });

  it('udp-mem-errors: a problem when MemErrors grew, the fix doubling udp_mem\'s pressure and max', () => {
    const s = tweak(real, { 'net.ipv4.udp_mem': [1000, 2000, 3000] });
    const findings = diagnose(s, sampleOf(1, { MemErrors: 7, InErrors: 7 }));
    expect(one(findings, 'udp-mem-errors')).toMatchObject({ severity: 'problem', fix: expect.stringMatching(/^sysctl -w net\.ipv4\.udp_mem="1000 4000 6000"/) });
    expect(one(findings, 'udp-mem-errors').why).toMatch(/seed 003/);
    expect(findings.some((f) => f.id === 'udp-receive-errors')).toBe(false);
  });

  it('softnet-backlog-drops: a problem when softnet drops grew, fix doubling netdev_max_backlog', () => {
    const s = tweak(real, { 'net.core.netdev_max_backlog': 1000 });
    const bad = check(s, 'softnet-backlog-drops', sampleOf(2, {}, { dropped: 10, time_squeeze: 3 }));
    expect(bad.severity).toBe('problem');
    expect(bad.seen).toMatch(/^softnet_stat dropped \+10 in 2 s \(5\/s, host-wide\); net\.core\.netdev_max_backlog = 1000 packets; time_squeeze \+3/);
    expect(bad.why).toMatch(/seed 003/);
    expect(bad.fix).toMatch(/^sysctl -w net\.core\.netdev_max_backlog=2000 /);
    // Not readable in a child namespace: the fix reads it on the host.
    const hidden = tweak(real, { 'net.core.netdev_max_backlog': { error: 'not visible outside the initial network namespace' } });
    expect(check(hidden, 'softnet-backlog-drops', sampleOf(1, {}, { dropped: 1 })).fix).toMatch(/^sysctl -w net\.core\.netdev_max_backlog=\$\(\( \$\(sysctl -n net\.core\.netdev_max_backlog\) \* 2 \)\)/);
    expect(check(s, 'softnet-backlog-drops', sampleOf(1, {}, { dropped: 0 })).severity).toBe('ok');
    expect(check(s, 'softnet-backlog-drops', sampleOf(1, {}, null)).severity).toBe('skipped');
  });

  it('igmp-version: a warning when a forced version differs from the bridge\'s, ok when it follows the querier or matches', () => {
    const v2 = check(withBridge({ 'net.ipv4.conf.all.force_igmp_version': 2, 'bridge.br0.multicast_igmp_version': 3 }), 'igmp-version');
    expect(v2.severity).toBe('warning');
    expect(v2.seen).toMatch(/net\.ipv4\.conf\.all\.force_igmp_version = 2 \(v2\) but br0 queries in IGMPv3/);
    expect(v2.why).toMatch(/seed 001.*source-specific/);
    expect(v2.fix).toMatch(/^sysctl -w net\.ipv4\.conf\.all\.force_igmp_version=0 {2}# follow the querier; or match it: ip link set br0 type bridge mcast_igmp_version 2/);
    const v1 = check(withBridge({ 'net.ipv4.conf.all.force_igmp_version': 0, 'net.ipv4.conf.lo.force_igmp_version': 1, 'bridge.br0.multicast_igmp_version': 2 }), 'igmp-version');
    expect(v1).toMatchObject({ severity: 'warning', fix: expect.stringMatching(/^sysctl -w net\.ipv4\.conf\.lo\.force_igmp_version=0 /) });
    expect(v1.why).toMatch(/no leave message/);
    expect(check(withBridge({ 'net.ipv4.conf.all.force_igmp_version': 0, 'net.ipv4.conf.lo.force_igmp_version': 0 }), 'igmp-version').severity).toBe('ok');
    expect(check(withBridge({ 'net.ipv4.conf.all.force_igmp_version': 2, 'bridge.br0.multicast_igmp_version': 2 }), 'igmp-version').severity).toBe('ok');
    expect(check(withBridge({ 'net.ipv4.conf.all.force_igmp_version': 3, 'bridge.br0.multicast_igmp_version': 2 }), 'igmp-version').severity).toBe('ok');
    expect(check(tweak(real, { 'net.ipv4.conf.all.force_igmp_version': 2 }), 'igmp-version').severity).toBe('skipped');
  });

  it('igmp-max-memberships: info below 20, ok at 20', () => {
    expect(check(tweak(real, { 'net.ipv4.igmp_max_memberships': 10 }), 'igmp-max-memberships')).toMatchObject({ severity: 'info', fix: expect.stringMatching(/^sysctl -w net\.ipv4\.igmp_max_memberships=20 /) });
    expect(check(tweak(real, { 'net.ipv4.igmp_max_memberships': 20 }), 'igmp-max-memberships').severity).toBe('ok');
  });

  it('formats one line per finding grouped by severity, each fix on its own indented line; the JSON report counts them', () => {
    const s = withBridge({ 'bridge.br0.multicast_querier': 0, 'bridge.br0.stp_state': 1, 'net.core.rmem_max': 26214400 });
    const sample = sampleOf(1, {});
    const findings = diagnose(s, sample, []);
    const lines = formatDoctor(s, sample, findings);
    expect(lines[0]).toMatch(/^mcbench doctor: kernel \S+, \d+ CPUs.*bridge br0; counters sampled over 1 s$/);
    const heads = lines.filter((l) => /^\S.* \(\d+\):$/.test(l)).map((l) => l.replace(/ \(\d+\):$/, ''));
    expect(heads.slice(0, 2)).toEqual(['problems', 'warnings']);
    const q = lines.findIndex((l) => l.startsWith('  bridge-querier: br0: multicast_snooping=1'));
    expect(q).toBeGreaterThan(lines.indexOf(lines.find((l) => l.startsWith('problems ('))!));
    expect(lines[q + 1]).toMatch(/^ {6}fix: echo 1 > \/sys\/class\/net\/br0\/bridge\/multicast_querier/);
    expect(lines.find((l) => l.startsWith('  rmem-max: '))).toMatch(/26214400/);
    expect(lines.at(-1)).toMatch(/^\d+ problems?, \d+ warnings?, \d+ info, \d+ ok, \d+ not checked$/);

    const report = doctorReport(s, sample, findings);
    expect(report.schema).toBe(DOCTOR_SCHEMA);
    expect(report.exit_code).toBe(1);
    expect(report.counts.problem).toBe(findings.filter((f) => f.severity === 'problem').length);
    expect(report.snapshot.settings['bridge.br0.multicast_querier']).toBe(0);
    expect(report.snapshot.bridge).toEqual({ name: 'br0', source: 'option' });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

// ------------------------------------------------------------------------------------------------
// The CLI on this host: read-only.

describe('mcbench doctor (host)', () => {
  it('--json - prints the report, the human form goes to stderr; the exit code follows the problems', async () => {
    const r = await mcbenchNoNet(['doctor', '-I', 'lo', '--sample', '0.2', '--json', '-']);
    const report = JSON.parse(r.stdout) as DoctorReport;
    expect(report.schema).toBe('mcbench/doctor@1');
    expect(r.code).toBe(report.exit_code);
    expect(report.exit_code).toBe(report.findings.some((f) => f.severity === 'problem') ? 1 : 0);
    expect(report.snapshot.interface?.name).toBe('lo');
    expect(report.sample?.seconds).toBeGreaterThanOrEqual(0.2);
    expect(report.findings.find((f) => f.id === 'udp-receive-errors')?.severity).not.toBe('skipped');
    expect(report.snapshot.settings['net.core.rmem_max']).toBe(Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8')));
    expect(r.stderr).toMatch(/^mcbench doctor: kernel /);
    expect(r.stderr).toMatch(/^ok \(\d+\):$/m);

    const dir = mkdtempSync(join(tmpdir(), 'mcbench-doctor-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const w = await mcbenchNoNet(['doctor', '-I', 'lo', '--sample', '0', '--json', join(dir, 'd.json')]);
    expect(w.stdout).toMatch(/^mcbench doctor: .*counters not sampled$/m);
    expect((JSON.parse(readFileSync(join(dir, 'd.json'), 'utf8')) as DoctorReport).sample).toBeNull();
    expect(readdirSync(dir)).toEqual(['d.json']);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['negative sample', ['doctor', '--sample', '-1'], /^mcbench doctor: --sample: '-1' is not a duration/],
    ['sample not a number', ['doctor', '--sample', 'soon'], /^mcbench doctor: --sample: 'soon' is not a duration/],
    ['sample too long', ['doctor', '--sample', '99999'], /^mcbench doctor: --sample: 99999 s is out of range \(0 s to 3600 s\)/],
    ['unknown bridge', ['doctor', '--bridge', 'nosuchbr', '--sample', '0'], /^mcbench doctor: --bridge: unknown bridge 'nosuchbr'/],
    ['not a bridge', ['doctor', '--bridge', 'lo', '--sample', '0'], /^mcbench doctor: --bridge: 'lo' is not a bridge/],
    ['bad interface name', ['doctor', '-I', 'a/b'], /^mcbench doctor: -I\/--interface: 'a\/b' is not a valid interface name/],
    ['unknown flag', ['doctor', '--frobnicate'], /^mcbench: Unknown argument: frobnicate/],
  ];
  it.each(bad)('%s: one line, exit 2', async (_n, args, message) => {
    const r = await mcbenchNoNet(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

// ------------------------------------------------------------------------------------------------
// A bridge inside a private network namespace.

describe('mcbench doctor in a private network namespace with a bridge', () => {
  let ns: TestNetns;
  const sh = async (script: string) => {
    const r = await ns.run('sh', ['-c', script]);
    if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
  };
  const report = (r: RunOutput): DoctorReport => {
    expect(r.stderr, r.stderr).toMatch(/^mcbench doctor: /);
    const rep = JSON.parse(r.stdout) as DoctorReport;
    expect(r.code).toBe(rep.exit_code);
    return rep;
  };
  /** Like `ip netns exec`: /sys remounted for the namespace, in a private mount namespace. */
  const withOwnSysfs = (args: string[]) =>
    ns.run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t sysfs sysfs /sys && exec "$0" "$@"', process.execPath, MCBENCH, ...args]);

  beforeAll(async () => {
    ns = await TestNetns.create();
    await sh([
      'ip link add mcbd0 type bridge mcast_snooping 1 mcast_querier 0 stp_state 0',
      'ip link add mcbd-v0 type veth peer name mcbd-v1',
      'ip link set mcbd-v0 master mcbd0',
    ].join(' && '));
  });
  afterAll(async () => {
    await ns?.close();
  });

  it('snooping without a querier: the querier problem, the fix naming the bridge, exit 1', async () => {
    const r = await ns.mcbench(['doctor', '--bridge', 'mcbd0', '--sample', '0', '--json', '-']).done;
    const rep = report(r);
    expect(r.code).toBe(1);
    const q = rep.findings.find((f) => f.id === 'bridge-querier')!;
    expect(q).toMatchObject({ severity: 'problem', target: 'mcbd0' });
    // nsenter leaves the host's /sys: the fix goes through netlink, which follows the namespace.
    expect(q.fix).toMatch(/^ip link set mcbd0 type bridge mcast_querier 1 /);
    expect(rep.snapshot.settings['bridge.mcbd0.multicast_querier']).toBe(0);
    expect(rep.sample).toBeNull();
    expect(r.stderr).toMatch(/^problems \(\d+\):\n(.*\n)*? {2}bridge-querier: mcbd0: multicast_snooping=1 but multicast_querier=0.*\n {6}fix: ip link set mcbd0 type bridge mcast_querier 1 /m);

    // With /sys remounted as `ip netns exec` does, the fix is the seed's own sysfs write.
    const own = report(await withOwnSysfs(['doctor', '--bridge', 'mcbd0', '--sample', '0', '--json', '-']));
    expect(own.snapshot.netns.sysfs_matches).toBe(true);
    expect(own.findings.find((f) => f.id === 'bridge-querier')?.fix).toMatch(/^echo 1 > \/sys\/class\/net\/mcbd0\/bridge\/multicast_querier /);
    expect(own.exit_code).toBe(1);
  });

  it('-g with an IPv6 group samples Udp6 too: a full IPv6 socket\'s drops are udp6-receive-errors, checked against /proc/net/snmp6', async () => {
    const snmp6 = async () => {
      const text = (await ns.run('cat', ['/proc/net/snmp6'])).stdout;
      return Number(/^Udp6RcvbufErrors\s+(\d+)$/m.exec(text)![1]);
    };
    // A socket on [::1] with the smallest buffer that never reads, flooded for 3 s from another.
    const flood = [
      'import socket, time',
      'r = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); r.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1); r.bind(("::1", 5399))',
      's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
      'print("flooding", flush=True)',
      'end = time.time() + 3',
      'while time.time() < end:',
      '    for _ in range(100): s.sendto(b"x" * 200, ("::1", 5399))',
      '    time.sleep(0.001)',
    ].join('\n');
    const before = await snmp6();
    const tx = new Running(ns.spawn('python3', ['-c', flood]), 15000);
    await tx.waitFor('flooding');
    const r = await ns.mcbench(['doctor', '-I', 'lo', '-g', 'ff15::1', '--sample', '1', '--json', '-']).done;
    expect((await tx.done).code).toBe(0);
    const dropped = (await snmp6()) - before;
    const rep = report(r);
    const got = rep.sample?.udp6?.counters?.RcvbufErrors;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThanOrEqual(dropped);  // the sample is a window of the flood
    console.log(`doctor -g ff15::1: Udp6RcvbufErrors +${got} in its ${rep.sample?.seconds} s sample, +${dropped} over the 3 s flood (/proc/net/snmp6)`);
    expect(rep.sample?.delta.udp.counters?.RcvbufErrors).toBe(0);  // IPv4's counters do not see it
    expect(rep.findings.find((f) => f.id === 'udp6-receive-errors')).toMatchObject({ severity: 'problem', seen: expect.stringMatching(new RegExp(`^UDPv6 RcvbufErrors \\+${got} in `)) });
    expect(rep.findings.find((f) => f.id === 'udp-receive-errors')?.severity).toBe('ok');
    // Without an IPv6 group, no Udp6 sample.
    const plain = report(await ns.mcbench(['doctor', '-I', 'lo', '--sample', '0.2', '--json', '-']).done);
    expect(plain.sample?.udp6).toBeUndefined();
    expect(plain.findings.some((f) => f.id.startsWith('udp6'))).toBe(false);
  });

  it('with the querier on, no querier problem (exit 1 only if something else is one)', async () => {
    await sh('ip link set mcbd0 type bridge mcast_querier 1');
    try {
      const rep = report(await ns.mcbench(['doctor', '--bridge', 'mcbd0', '--sample', '0', '--json', '-']).done);
      expect(rep.findings.find((f) => f.id === 'bridge-querier')?.severity).toBe('ok');
      expect(rep.exit_code).toBe(rep.findings.some((f) => f.severity === 'problem') ? 1 : 0);
      expect(rep.findings.filter((f) => f.severity === 'problem').map((f) => f.id)).not.toContain('bridge-querier');
      // The bridge's port was seen through netlink (noqueue veth: txqueuelen does not apply).
      expect(rep.findings.find((f) => f.id === 'txqueuelen')?.seen).toMatch(/mcbd0, mcbd-v0: no queue \(noqueue device\)/);
    } finally {
      await sh('ip link set mcbd0 type bridge mcast_querier 0');
    }
  });
});
