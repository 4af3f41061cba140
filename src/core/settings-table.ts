// The human form of a KernelSettingsSnapshot: a few header lines, an aligned table (setting,
// value with its unit, scope, why in short), then what could not be read and why.
import { findSettingDef, type KernelSettingsSnapshot, type SettingEntry } from './settings.js';

function binary(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u < 0) return `${n} B`;
  const text = v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);
  return `${text} ${units[u]}`;
}

/** A value with its unit, as the table shows it: '4194304 (4 MiB)', '26000 cs (260 s)', '1 (on)'. */
export function formatSettingValue(e: SettingEntry, pageSize: number | null = null): string {
  if (!e.available || e.value === null) return 'n/a';
  const v = e.value;
  const labels = findSettingDef(e.key)?.labels;
  switch (e.unit) {
    case 'bytes':
      return typeof v === 'number' && v >= 65536 ? `${v} (${binary(v)})` : `${String(v)} bytes`;
    case 'pages': {
      const list = Array.isArray(v) ? v : [v as number];
      const max = list[list.length - 1];
      const extra = pageSize && typeof max === 'number' ? ` (max ${binary(max * pageSize)})` : '';
      return `${list.join(' ')} pages${extra}`;
    }
    case 'centiseconds':
      return typeof v === 'number' ? `${v} cs (${+(v / 100).toFixed(2)} s)` : String(v);
    case 'packets':
      return `${String(v)} packets`;
    case 'flag':
    case 'mode': {
      const label = typeof v === 'number' ? labels?.[v] : undefined;
      return label ? `${String(v)} (${label})` : String(v);
    }
    default:
      return Array.isArray(v) ? v.join(' ') : String(v);
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The lines `mcbench settings` prints. */
export function formatSettingsTable(s: KernelSettingsSnapshot): string[] {
  const lines: string[] = [];
  const v = s.virtualization;
  const virt = [
    v.vm && v.vm !== 'none' ? `VM ${v.vm}` : v.vm === 'none' ? 'no VM' : null,
    v.container && v.container !== 'none' ? `container ${v.container}` : null,
    v.hypervisor_flag === null ? null : `hypervisor flag ${v.hypervisor_flag ? 'set' : 'not set'}`,
    v.vm === null && v.container === null ? 'systemd-detect-virt not installed' : null,
    v.kvm_device ? '/dev/kvm present' : null,
  ].filter(Boolean).join(', ');
  lines.push(`kernel ${s.host.kernel} (${s.host.machine}), ${s.host.cpus} CPUs` +
    (s.host.cpus_available !== s.host.cpus ? ` (${s.host.cpus_available} usable)` : '') + `; ${virt}`);
  const ifaceText = s.interface
    ? `interface ${s.interface.name} (${s.interface.source === 'option' ? '-I' : s.interface.source.replace('-', ' ')}), driver ${s.interface.driver ?? 'unknown'}`
    : 'interface: none';
  const bridgeText = s.bridge
    ? `bridge ${s.bridge.name} (${s.bridge.source === 'option' ? '--bridge' : s.bridge.source === 'master' ? `master of ${s.interface?.name}` : 'the interface'})`
    : 'bridge: none';
  lines.push(`network namespace ${s.netns.id ?? '?'}${s.netns.initial ? ' (initial)' : ' (not the initial one)'}; ${ifaceText}; ${bridgeText}`);
  lines.push('');

  const rows = s.entries.map((e) => [e.id, formatSettingValue(e, s.host.page_size), e.scope, findSettingDef(e.key)?.short ?? ''] as const);
  const head = ['setting', 'value', 'scope', 'why'] as const;
  const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `${pad(r[0]!, w[0]!)}  ${pad(r[1]!, w[1]!)}  ${pad(r[2]!, w[2]!)}  ${r[3]}`.trimEnd();
  lines.push(line(head));
  for (const r of rows) lines.push(line(r));

  const missing = s.entries.filter((e) => !e.available);
  if (missing.length) {
    lines.push('');
    lines.push('not available:');
    for (const e of missing) lines.push(`  ${e.id}: ${e.error ?? 'unreadable'}`);
  }
  if (s.notes.length) {
    lines.push('');
    for (const n of s.notes) lines.push(`note: ${n}`);
  }
  return lines;
}
