// The kernel settings snapshot's document types and diffSettings() (pure). Reading a snapshot from
// the live host is host/settings.ts.
import type { SettingScope, SettingUnit, SettingValue } from './settings-registry.js';

export { SETTINGS, findSettingDef } from './settings-registry.js';
export type { SettingDef, SettingScope, SettingUnit, SettingValue } from './settings-registry.js';

export const SETTINGS_SCHEMA = 'mcbench/settings@1' as const;

export interface SettingEntry {
  /** concrete id: the registry id with the interface or bridge filled in */
  id: string;
  /** the registry id (template): what diffSettings matches on, across interface names */
  key: string;
  /** the interface or bridge the entry is about; absent for sysctls of the whole namespace */
  target?: string;
  /** the value read, in `unit`: one number, several (e.g. net.ipv4.udp_mem's three), text; null when unavailable */
  value: SettingValue;
  /** the value's unit: bytes, packets, pages (of page_size), count, flag (0/1), mode (an enum), centiseconds, text */
  unit: SettingUnit;
  /** whose setting it is: the whole host (global), this network namespace, the interface, or the bridge */
  scope: SettingScope;
  /** it could be read (false: value is null and error says why) */
  available: boolean;
  /** why it is unavailable */
  error?: string;
  /** where it was read (or looked for): the registry path under /proc or /sys, or netlink (`ip -d -j link show`) */
  source: 'procfs' | 'sysfs' | 'netlink' | null;
}

export type InterfaceSource = 'option' | 'multicast-route' | 'default-route';
export type BridgeSource = 'option' | 'interface' | 'master';

export interface KernelSettingsSnapshot {
  /** the snapshot's format and version: always 'mcbench/settings@1' */
  schema: typeof SETTINGS_SCHEMA;
  /** ISO time the snapshot was taken */
  time: string;
  /** the machine: kernel, architecture, CPUs */
  host: {
    /** this host's name (os.hostname()) */
    hostname: string;
    /** uname -r */
    kernel: string;
    /** uname -v */
    kernel_version: string;
    /** uname -m, e.g. 'x86_64' */
    machine: string;
    /** logical CPUs (os.cpus()) */
    cpus: number;
    /** CPUs this process may use (os.availableParallelism()) */
    cpus_available: number;
    /** the kernel page size, bytes (the unit of 'pages' settings); null when unreadable */
    page_size: number | null;
  };
  /** whether this runs in a VM or a container */
  virtualization: {
    /** the x86 'hypervisor' CPU flag in /proc/cpuinfo; null when the CPU has no flags line */
    hypervisor_flag: boolean | null;
    /** what plain `systemd-detect-virt` prints (a container wins over a VM); null without the binary */
    systemd_detect_virt: string | null;
    /** `systemd-detect-virt --vm` ('kvm', 'qemu', 'none', ...); null without the binary */
    vm: string | null;
    /** `systemd-detect-virt --container` ('docker', 'none', ...); null without the binary */
    container: string | null;
    /** /dev/kvm exists: this machine could run KVM-accelerated guests (seed 000: use KVM modules) */
    kvm_device: boolean;
  };
  /** the network namespace the snapshot was taken in */
  netns: {
    /** readlink /proc/self/ns/net, e.g. 'net:[4026531840]' */
    id: string | null;
    /** the initial namespace: init-only sysctls (net.core.netdev_max_backlog) are visible */
    initial: boolean;
    /** /sys/class/net shows this namespace (false inside `unshare -n` without a sysfs remount) */
    sysfs_matches: boolean;
    /** where interface and bridge facts were read from */
    link_source: 'sysfs' | 'netlink' | null;
  };
  /** the interface the interface entries are about; null when there is none (see notes) */
  interface: {
    /** interface name, e.g. 'eth0' */
    name: string;
    /** how it was chosen: given (-I), the multicast route's, or the default route's */
    source: InterfaceSource;
    /** its NIC driver, e.g. 'virtio_net' ('virtual' for veth, bridge, lo...); null when unavailable */
    driver: string | null;
  } | null;
  /** the bridge the bridge entries are about; null when there is none (see notes) */
  bridge: {
    /** bridge name, e.g. 'br0' */
    name: string;
    /** how it was found: given (--bridge), the interface itself, or the interface's master chain */
    source: BridgeSource;
  } | null;
  /** one entry per registry setting (settings-registry.ts), read or marked unavailable */
  entries: SettingEntry[];
  /** things a reader should know (why a source was chosen, why there is no interface) */
  notes: string[];
  /** how long taking the snapshot took, ms */
  elapsed_ms: number;
}

// ---------------------------------------------------------------------------------------------
// Diff

export interface SettingChange {
  /** registry id (template), or 'host.kernel' / 'host.cpus' / 'virtualization' / 'interface' / 'bridge' */
  key: string;
  /** concrete ids on each side (differ when the interface or bridge names differ) */
  id_a: string | null;
  id_b: string | null;
  a: SettingValue | undefined;
  b: SettingValue | undefined;
  /** changed: both read, values differ; added/removed: only in b / only in a; availability: read on one side only */
  kind: 'changed' | 'added' | 'removed' | 'availability';
  unit: SettingUnit | null;
  scope: SettingScope | null;
}

function sameValue(x: SettingValue | undefined, y: SettingValue | undefined): boolean {
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => v === y[i]);
  return x === y;
}

/**
 * The differences between two snapshots (a: before / baseline, b: after / candidate), in
 * registry order, then host facts. Entries are matched by registry id, so two runs on different
 * interface names compare; values both unavailable count as equal. Pure: reads nothing.
 */
export function diffSettings(a: KernelSettingsSnapshot, b: KernelSettingsSnapshot): SettingChange[] {
  const changes: SettingChange[] = [];
  const bByKey = new Map(b.entries.map((e) => [e.key, e]));
  const seen = new Set<string>();
  for (const ea of a.entries) {
    seen.add(ea.key);
    const eb = bByKey.get(ea.key);
    const common = { key: ea.key, id_a: ea.id, unit: ea.unit, scope: ea.scope };
    if (!eb) {
      changes.push({ ...common, id_b: null, a: ea.available ? ea.value : null, b: undefined, kind: 'removed' });
    } else if (ea.available !== eb.available) {
      changes.push({ ...common, id_b: eb.id, a: ea.value, b: eb.value, kind: 'availability' });
    } else if (ea.available && !sameValue(ea.value, eb.value)) {
      changes.push({ ...common, id_b: eb.id, a: ea.value, b: eb.value, kind: 'changed' });
    }
  }
  for (const eb of b.entries) {
    if (seen.has(eb.key)) continue;
    changes.push({ key: eb.key, id_a: null, id_b: eb.id, a: undefined, b: eb.available ? eb.value : null, kind: 'added', unit: eb.unit, scope: eb.scope });
  }
  const fact = (key: string, x: SettingValue, y: SettingValue, unit: SettingUnit) => {
    if (!sameValue(x, y)) changes.push({ key, id_a: key, id_b: key, a: x, b: y, kind: 'changed', unit, scope: 'global' });
  };
  fact('host.kernel', a.host.kernel, b.host.kernel, 'text');
  fact('host.cpus', a.host.cpus, b.host.cpus, 'count');
  fact('virtualization', a.virtualization.systemd_detect_virt, b.virtualization.systemd_detect_virt, 'text');
  fact('interface', a.interface?.name ?? null, b.interface?.name ?? null, 'text');
  fact('bridge', a.bridge?.name ?? null, b.bridge?.name ?? null, 'text');
  return changes;
}
