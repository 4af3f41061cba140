// A snapshot of the kernel settings in the registry (settings-registry.ts), plus the facts that
// explain a run: kernel, CPUs, virtualization, the interface used and its NIC driver, the bridge.
// Every run can carry one, and diffSettings() tells two apart (A/B comparisons, suites).
//
// Rules: read only, no root, no network traffic, fast (a few file reads and three short-lived
// processes: `ip -d -j link show` and `systemd-detect-virt --vm` / `--container`). A value that
// cannot be read is recorded as unavailable with the reason, never guessed.
//
// Network namespaces. /proc/sys/net and /proc/net follow the reading process's network namespace,
// so sysctls are always those of the namespace mcbench runs in. /sys/class/net does not: it shows
// the namespace of whoever mounted that sysfs, so inside `unshare -n` or `nsenter -n` it still
// lists the host's interfaces (`ip netns exec` remounts /sys and is fine). The snapshot checks
// that /sys agrees with the current namespace: same interface names as /proc/net/dev and, when
// `ip` is there, the same ifindex and MAC address for every link as netlink reports. When they
// agree, interface and bridge facts are read from the sysfs paths in the registry; when they do
// not, from `ip -d -j link show` (netlink follows the current namespace). The NIC driver has no
// netlink equivalent without ethtool: for a virtual link (veth, bridge, tap, lo) netlink says
// enough ('virtual'); for a real NIC behind a mismatched /sys it is unavailable, with the reason.
import { spawnSync } from 'node:child_process';
import { isIP } from 'node:net';
import { accessSync, constants, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { shown } from '../core/errors.js';
import { SETTINGS, type SettingDef, type SettingValue } from '../core/settings-registry.js';
import { SETTINGS_SCHEMA, type BridgeSource, type InterfaceSource, type KernelSettingsSnapshot, type SettingEntry } from '../core/settings.js';

export interface SnapshotOptions {
  /** interface name, or one of its IPv4 addresses; default: the multicast or default route's */
  interface?: string | null;
  /** bridge name; default: the interface itself if it is a bridge, else its master chain */
  bridge?: string | null;
  /** for tests: another registry */
  registry?: readonly SettingDef[];
}

/** What `ip -d -j link show` reports about one link (the parts we use). */
interface IpLink {
  ifindex?: number;
  ifname: string;
  address?: string;
  link_type?: string;
  master?: string;
  mtu?: number;
  txqlen?: number;
  operstate?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
  [k: string]: unknown;
}

/** The interfaces of the current network namespace, and whether /sys shows them. */
export interface LinkView {
  /** names from /proc/net/dev (always the current namespace); null when unreadable */
  names: Set<string> | null;
  netlink: Map<string, IpLink> | null;
  netlinkError: string | null;
  sysfsMatches: boolean;
  sysfsMismatch: string | null;
}

/** Thrown by resolveTargets for an interface or bridge that is not there; the CLI makes it exit 2. */
export class SettingsTargetError extends Error {
  override readonly name = 'SettingsTargetError';
  constructor(readonly flag: 'interface' | 'bridge', message: string) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------
// Small readers

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

function readText(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function tryText(path: string): string | null {
  try {
    return readText(path);
  } catch {
    return null;
  }
}

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A program on PATH or in the usual sbin directories (`ip` lives in /usr/sbin, often off a user's PATH). */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_DIRS];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return null;
}

function runProgram(path: string, args: string[]): { ok: boolean; stdout: string; error: string } {
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { ok: false, stdout: '', error: r.error.message };
  return { ok: r.status === 0, stdout: r.stdout, error: r.stderr.trim() || `exit status ${r.status}` };
}

/** Interface names in the current network namespace, from /proc/net/dev. */
function procNetDevNames(): Set<string> | null {
  const text = tryText('/proc/net/dev');
  if (text === null) return null;
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Reads the links of the current namespace and checks /sys against them. */
export function readLinkView(): LinkView {
  const names = procNetDevNames();
  let netlink: Map<string, IpLink> | null = null;
  let netlinkError: string | null = null;
  const ip = findProgram('ip');
  if (!ip) {
    netlinkError = 'the ip command (iproute2) is not installed';
  } else {
    const r = runProgram(ip, ['-d', '-j', 'link', 'show']);
    if (!r.ok) {
      netlinkError = `ip -d -j link show failed: ${r.error}`;
    } else {
      try {
        const list = JSON.parse(r.stdout) as IpLink[];
        netlink = new Map(list.map((l) => [l.ifname, l]));
      } catch (e) {
        netlinkError = `ip -d -j link show printed no JSON: ${errnoText(e)}`;
      }
    }
  }

  let sysfsMismatch: string | null = null;
  let sysNames: string[] = [];
  try {
    sysNames = readdirSync('/sys/class/net');
  } catch (e) {
    sysfsMismatch = `/sys/class/net is unreadable: ${errnoText(e)}`;
  }
  const current = names ?? (netlink ? new Set(netlink.keys()) : null);
  if (!sysfsMismatch && current === null) {
    sysfsMismatch = 'cannot list this namespace\'s interfaces to check /sys against (no /proc/net/dev, no ip)';
  }
  if (!sysfsMismatch && current) {
    const sys = new Set(sysNames);
    const same = sys.size === current.size && [...current].every((n) => sys.has(n));
    if (!same) sysfsMismatch = '/sys/class/net lists other interfaces than this network namespace has (sysfs mounted in another namespace)';
  }
  if (!sysfsMismatch && netlink) {
    for (const l of netlink.values()) {
      const idx = tryText(`/sys/class/net/${l.ifname}/ifindex`);
      const mac = tryText(`/sys/class/net/${l.ifname}/address`);
      if (idx !== String(l.ifindex) || (l.address !== undefined && mac !== null && mac !== l.address)) {
        sysfsMismatch = `/sys/class/net/${l.ifname} is another device than netlink's ${l.ifname} (sysfs mounted in another namespace)`;
        break;
      }
    }
  }
  return { names: current, netlink, netlinkError, sysfsMatches: sysfsMismatch === null, sysfsMismatch };
}

function linkExists(view: LinkView, name: string): boolean {
  if (view.names) return view.names.has(name);
  if (view.netlink) return view.netlink.has(name);
  return view.sysfsMatches && tryText(`/sys/class/net/${name}/ifindex`) !== null;
}

/** true / false, or null when neither sysfs nor netlink can tell. */
function isBridge(view: LinkView, name: string): boolean | null {
  if (view.sysfsMatches) {
    try {
      return lstatSync(`/sys/class/net/${name}/bridge`).isDirectory();
    } catch {
      return false;
    }
  }
  const l = view.netlink?.get(name);
  if (l) return l.linkinfo?.info_kind === 'bridge';
  return null;
}

function masterOf(view: LinkView, name: string): string | null {
  if (view.sysfsMatches) {
    try {
      return basename(readlinkSync(`/sys/class/net/${name}/master`));
    } catch {
      return null;
    }
  }
  return view.netlink?.get(name)?.master ?? null;
}

/** The route the kernel would most likely use for 224.0.0.0/4: its interface, from /proc/net/route. */
function routeInterface(): { name: string; source: InterfaceSource } | null {
  const text = tryText('/proc/net/route');
  if (text === null) return null;
  const le = os.endianness() === 'LE';
  const toNum = (hex: string): number => {
    const n = parseInt(hex, 16) >>> 0;
    return le ? (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0 : n;
  };
  const probe = (224 << 24) >>> 0; // 224.0.0.0
  let best: { name: string; maskBits: number; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dst, , flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    if ((parseInt(flags, 16) & 1) === 0) continue; // RTF_UP
    const m = toNum(mask);
    if (((probe & m) >>> 0) !== toNum(dst)) continue;
    // Only routes covering the whole multicast range count (224.0.0.0/4 or shorter; /0 is the
    // default route): a /24 that happens to contain 224.0.0.0 says nothing about other groups.
    let maskBits = 0;
    for (let v = m; v & 0x80000000; v = (v << 1) >>> 0) maskBits++;
    if (maskBits > 4) continue;
    const met = Number(metric);
    if (!best || maskBits > best.maskBits || (maskBits === best.maskBits && met < best.metric)) best = { name: iface, maskBits, metric: met };
  }
  if (!best) return null;
  return { name: best.name, source: best.maskBits > 0 ? 'multicast-route' : 'default-route' };
}

export interface Targets {
  interface: { name: string; source: InterfaceSource } | null;
  bridge: { name: string; source: BridgeSource } | null;
  notes: string[];
}

/**
 * Picks the interface and bridge a snapshot is about. An interface or bridge the caller named
 * that does not exist (or a --bridge that is not a bridge) throws SettingsTargetError.
 */
export function resolveTargets(view: LinkView, opts: { interface?: string | null; bridge?: string | null }): Targets {
  const notes: string[] = [];
  let iface: Targets['interface'] = null;
  const asked = opts.interface?.trim();
  if (asked) {
    let name = asked;
    const zone = asked.indexOf('%');
    if (zone >= 0 && isIP(asked.slice(0, zone)) === 6) {
      name = asked.slice(zone + 1); // fe80::1%eth0: the zone is the interface
    } else if (isIP(asked) !== 0) {
      const found = Object.entries(os.networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.address === asked));
      if (!found) throw new SettingsTargetError('interface', `no interface in this network namespace has the address ${asked}`);
      name = found[0];
    }
    if (!linkExists(view, name)) throw new SettingsTargetError('interface', `unknown interface '${name}' in this network namespace (see \`ip -br link\`)`);
    iface = { name, source: 'option' };
  } else {
    const r = routeInterface();
    if (r && linkExists(view, r.name)) iface = r;
    else notes.push('no interface: no IPv4 multicast or default route (give -I IFACE)');
  }

  let bridge: Targets['bridge'] = null;
  const askedBridge = opts.bridge?.trim();
  if (askedBridge) {
    if (!linkExists(view, askedBridge)) throw new SettingsTargetError('bridge', `unknown bridge '${askedBridge}' in this network namespace (see \`ip -br link show type bridge\`)`);
    const b = isBridge(view, askedBridge);
    if (b === false) throw new SettingsTargetError('bridge', `'${askedBridge}' is not a bridge (see \`ip -br link show type bridge\`)`);
    bridge = { name: askedBridge, source: 'option' };
  } else if (iface) {
    if (isBridge(view, iface.name)) {
      bridge = { name: iface.name, source: 'interface' };
    } else {
      // eth1 -> bond0 -> br0: follow the master chain a few steps.
      let cur = iface.name;
      for (let hop = 0; hop < 4 && !bridge; hop++) {
        const m = masterOf(view, cur);
        if (!m) break;
        if (isBridge(view, m)) bridge = { name: m, source: 'master' };
        cur = m;
      }
      if (!bridge) notes.push(`no bridge: ${iface.name} is not a bridge nor enslaved to one (give --bridge BR for a host bridge)`);
    }
  }
  return { interface: iface, bridge, notes };
}

// ---------------------------------------------------------------------------------------------
// Reading one entry

interface ReadContext {
  view: LinkView;
  initialNetns: boolean;
  iface: string | null;
  bridge: string | null;
}

type ReadOutcome = { value: SettingValue; source: SettingEntry['source'] } | { error: string; source: SettingEntry['source'] };

function parseValue(def: SettingDef, raw: string, where: string): ReadOutcome {
  const src: SettingEntry['source'] = where.startsWith('/proc/') ? 'procfs' : 'sysfs';
  if (def.parse === 'text') return { value: raw, source: src };
  if (def.parse === 'ints') {
    const parts = raw.split(/\s+/).filter(Boolean).map(Number);
    if (parts.length === 0 || !parts.every(Number.isInteger)) return { error: `unexpected content '${raw.slice(0, 40)}' in ${where}`, source: src };
    return { value: parts, source: src };
  }
  const n = Number(raw);
  if (raw === '' || !Number.isInteger(n)) return { error: `unexpected content '${raw.slice(0, 40)}' in ${where}`, source: src };
  return { value: n, source: src };
}

function fill(template: string, ctx: ReadContext): string {
  return template.replace(/<iface>/g, ctx.iface ?? '<iface>').replace(/<bridge>/g, ctx.bridge ?? '<bridge>');
}

function readFromFile(def: SettingDef, path: string, ctx: ReadContext): ReadOutcome {
  const src: SettingEntry['source'] = path.startsWith('/proc/') ? 'procfs' : 'sysfs';
  if (def.parse === 'driver') {
    // /sys/class/net/IF/device/driver -> ../../../bus/virtio/drivers/virtio_net
    const dev = path.replace(/\/driver$/, '');
    try {
      lstatSync(dev);
    } catch {
      return { value: 'virtual', source: src }; // no backing device: veth, bridge, tap, lo, ...
    }
    try {
      return { value: basename(readlinkSync(path)), source: src };
    } catch (e) {
      return { error: `${path}: ${errnoText(e)} (device without a bound driver)`, source: src };
    }
  }
  try {
    return parseValue(def, readText(path), path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (def.scope === 'global' && !ctx.initialNetns && def.outsideInitialNetns === 'absent') {
        return { error: 'not visible outside the initial network namespace (a global sysctl: read it on the host)', source: src };
      }
      if (def.scope === 'global' && !ctx.initialNetns) {
        return { error: `${path} does not exist in this network namespace (global sysctl; this kernel hides it here)`, source: src };
      }
      if (path.startsWith('/proc/sys/net/bridge/')) {
        return { error: 'br_netfilter is not loaded (no /proc/sys/net/bridge): bridged frames skip iptables', source: src };
      }
      return { error: `${path} does not exist on this kernel`, source: src };
    }
    return { error: `${path}: ${errnoText(e)}`, source: src };
  }
}

function readFromNetlink(def: SettingDef, name: string, ctx: ReadContext): ReadOutcome {
  const l = ctx.view.netlink?.get(name);
  if (!l) {
    return { error: `${ctx.view.sysfsMismatch ?? '/sys does not show this namespace'}; and netlink: ${ctx.view.netlinkError ?? `no link ${name}`}`, source: null };
  }
  const key = def.netlink!;
  if (key === 'driver') {
    if (l.linkinfo?.info_kind || l.link_type === 'loopback') return { value: 'virtual', source: 'netlink' };
    return { error: `${ctx.view.sysfsMismatch}: the NIC driver is only in /sys (run under \`ip netns exec\`, which remounts /sys)`, source: 'netlink' };
  }
  const raw = key.startsWith('info_data.') ? l.linkinfo?.info_data?.[key.slice('info_data.'.length)] : l[key];
  if (raw === undefined || raw === null) return { error: `not reported by \`ip -d -j link show ${name}\` (iproute2 or kernel too old?)`, source: 'netlink' };
  if (def.parse === 'text') return { value: shown(raw).toLowerCase(), source: 'netlink' };
  const n = Number(raw);
  if (!Number.isInteger(n)) return { error: `unexpected ${key} '${shown(raw)}' from netlink`, source: 'netlink' };
  return { value: n, source: 'netlink' };
}

function readEntry(def: SettingDef, ctx: ReadContext): SettingEntry {
  const target = def.scope === 'interface' && def.id.includes('<iface>') ? ctx.iface : def.scope === 'bridge' ? ctx.bridge : null;
  const path = fill(def.path, ctx);
  let out: ReadOutcome;
  if (path.startsWith('/sys/') && target && !ctx.view.sysfsMatches) {
    out = def.netlink ? readFromNetlink(def, target, ctx) : { error: ctx.view.sysfsMismatch ?? 'sysfs shows another namespace', source: null };
  } else {
    out = readFromFile(def, path, ctx);
  }
  const ok = !('error' in out);
  const value = 'error' in out ? null : out.value;
  return {
    id: fill(def.id, ctx),
    key: def.id,
    ...(target ? { target } : {}),
    value,
    unit: def.unit,
    scope: def.scope,
    available: ok,
    ...('error' in out ? { error: out.error } : {}),
    source: out.source,
  };
}

// ---------------------------------------------------------------------------------------------
// The snapshot

function virtualization(): KernelSettingsSnapshot['virtualization'] {
  let hypervisor: boolean | null = null;
  const cpuinfo = tryText('/proc/cpuinfo');
  if (cpuinfo !== null) {
    const flags = /^flags\s*:(.*)$/m.exec(cpuinfo);
    if (flags) hypervisor = /\bhypervisor\b/.test(flags[1]!);
  }
  let vm: string | null = null;
  let container: string | null = null;
  const sdv = findProgram('systemd-detect-virt');
  if (sdv) {
    // Prints 'none' and exits 1 when there is none: the output is what counts.
    const v = runProgram(sdv, ['--vm']).stdout.trim();
    const c = runProgram(sdv, ['--container']).stdout.trim();
    vm = v || null;
    container = c || null;
  }
  const plain = container && container !== 'none' ? container : vm;
  let kvm = false;
  try {
    lstatSync('/dev/kvm');
    kvm = true;
  } catch { /* absent */ }
  return { hypervisor_flag: hypervisor, systemd_detect_virt: plain, vm, container, kvm_device: kvm };
}

function netnsId(): string | null {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return null;
  }
}

function pageSize(): number | null {
  // No sysconf in Node: the kernel's page size shows in /proc/self/smaps as KernelPageSize.
  const m = /^KernelPageSize:\s+(\d+) kB/m.exec(tryText('/proc/self/smaps_rollup') ?? '') ??
    /^KernelPageSize:\s+(\d+) kB/m.exec((tryText('/proc/self/smaps') ?? '').slice(0, 4096));
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Reads every registry setting for this namespace, the interface (given, or the multicast or
 * default route's) and the bridge (given, the interface itself, or its master). Throws
 * SettingsTargetError when a named interface or bridge is not there; otherwise never throws.
 */
export function snapshotKernelSettings(opts: SnapshotOptions = {}): KernelSettingsSnapshot {
  const t0 = process.hrtime.bigint();
  const registry = opts.registry ?? SETTINGS;
  const view = readLinkView();
  const targets = resolveTargets(view, opts);
  // net.core.netdev_max_backlog is registered for the initial namespace only (see the registry).
  let initial = false;
  try {
    lstatSync('/proc/sys/net/core/netdev_max_backlog');
    initial = true;
  } catch { /* a child namespace */ }
  const ctx: ReadContext = { view, initialNetns: initial, iface: targets.interface?.name ?? null, bridge: targets.bridge?.name ?? null };
  const notes = [...targets.notes];
  const entries: SettingEntry[] = [];
  for (const def of registry) {
    if (def.id.includes('<iface>') && !ctx.iface) continue;
    if (def.id.includes('<bridge>') && !ctx.bridge) continue;
    entries.push(readEntry(def, ctx));
  }
  const usesLinks = ctx.iface !== null || ctx.bridge !== null;
  const linkSource = !usesLinks ? null : view.sysfsMatches ? 'sysfs' : view.netlink ? 'netlink' : null;
  if (usesLinks && !view.sysfsMatches) {
    notes.push(`interface facts read through netlink: ${view.sysfsMismatch}` + (view.netlink ? '' : `; and ${view.netlinkError}`));
  }
  const driverEntry = entries.find((e) => e.key === 'link.<iface>.driver');
  const snapshot: KernelSettingsSnapshot = {
    schema: SETTINGS_SCHEMA,
    time: new Date().toISOString(),
    host: {
      hostname: os.hostname(),
      kernel: os.release(),
      kernel_version: os.version(),
      machine: os.machine(),
      cpus: os.cpus().length,
      cpus_available: os.availableParallelism(),
      page_size: pageSize(),
    },
    virtualization: virtualization(),
    netns: { id: netnsId(), initial, sysfs_matches: view.sysfsMatches, link_source: linkSource },
    interface: targets.interface
      ? { ...targets.interface, driver: driverEntry?.available ? String(driverEntry.value) : null }
      : null,
    bridge: targets.bridge,
    entries,
    notes,
    elapsed_ms: 0,
  };
  snapshot.elapsed_ms = Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100;
  return snapshot;
}

