// Kernel settings registry, snapshot, diff and `mcbench settings`. Truth is read independently by
// the test (/proc/sys, /sys, /proc/cpuinfo). Nothing global is changed: knobs are set only on a
// bridge, links and per-namespace sysctls inside a private network namespace the test makes
// (test/helpers/netns.ts: it goes away with the test process, also when a test fails).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SETTINGS, findSettingDef, type SettingDef } from '../src/core/settings-registry.js';
import { diffSettings, type KernelSettingsSnapshot, type SettingEntry } from '../src/core/settings.js';
import { SettingsTargetError, snapshotKernelSettings } from '../src/host/settings.js';
import { formatSettingValue } from '../src/core/settings-table.js';
import { MCBENCH, TestNetns, mcbenchNoNet, type RunOutput } from './helpers/netns.js';

const read = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};
const entry = (s: KernelSettingsSnapshot, id: string): SettingEntry => {
  const e = s.entries.find((x) => x.id === id);
  if (!e) throw new Error(`no entry ${id} in the snapshot (have: ${s.entries.map((x) => x.id).join(', ')})`);
  return e;
};
/** The sysctl's file, derived the way sysctl(8) does it: dots become slashes. */
const sysctlPath = (id: string) => '/proc/sys/' + id.replace(/\./g, '/');

describe('registry', () => {
  it('covers DESIGN.md section 5, one entry per id, each with a path, a scope and a why citing a seed', () => {
    const ids = SETTINGS.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'net.core.rmem_max', 'net.core.rmem_default', 'net.core.wmem_max', 'net.core.wmem_default',
      'net.core.netdev_max_backlog', 'net.core.optmem_max', 'net.ipv4.udp_mem', 'net.ipv4.udp_rmem_min',
      'net.ipv4.igmp_max_memberships', 'net.ipv4.conf.<iface>.force_igmp_version', 'net.ipv4.conf.all.rp_filter',
      'net.ipv4.conf.<iface>.rp_filter', 'link.<iface>.mtu', 'link.<iface>.tx_queue_len', 'link.<iface>.driver',
      'link.<iface>.operstate', 'bridge.<bridge>.multicast_snooping', 'bridge.<bridge>.multicast_querier',
      'bridge.<bridge>.multicast_membership_interval', 'bridge.<bridge>.multicast_querier_interval',
      'bridge.<bridge>.multicast_query_interval', 'bridge.<bridge>.multicast_query_response_interval',
      'bridge.<bridge>.multicast_startup_query_interval', 'bridge.<bridge>.stp_state',
      'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.bridge.bridge-nf-call-arptables',
    ]) expect(ids, id).toContain(id);
    for (const d of SETTINGS) {
      expect(d.why, d.id).toMatch(/^seeds? 00\d/);
      expect(d.short, d.id).toMatch(/^seeds? 00\d/);
      expect(d.path, d.id).toMatch(/^\/(proc\/sys|sys\/class\/net)\//);
      if (d.id.startsWith('net.')) expect(d.path, d.id).toBe(sysctlPath(d.id));
      if (d.scope === 'bridge') expect(d.id, d.id).toContain('<bridge>');
      if (d.scope === 'global') expect(d.outsideInitialNetns, d.id).toBeDefined();
    }
    // What this kernel showed (see the registry's header comment).
    expect(findSettingDef('net.core.rmem_max')?.scope).toBe('global');
    expect(findSettingDef('net.core.optmem_max')?.scope).toBe('namespace');
  });

  it('finds entries by concrete id', () => {
    expect(findSettingDef('net.ipv4.conf.eth1.rp_filter')?.id).toBe('net.ipv4.conf.<iface>.rp_filter');
    expect(findSettingDef('net.ipv4.conf.all.rp_filter')?.id).toBe('net.ipv4.conf.all.rp_filter');
    expect(findSettingDef('bridge.br0.multicast_querier')?.id).toBe('bridge.<bridge>.multicast_querier');
    expect(findSettingDef('link.eth0.100.mtu')?.id).toBe('link.<iface>.mtu');
    expect(findSettingDef('net.core.nonsense')).toBeUndefined();
  });
});

describe('snapshot of this host', () => {
  let snap: KernelSettingsSnapshot;
  beforeAll(() => {
    snap = snapshotKernelSettings({ interface: 'lo' });
  });

  it('agrees with /proc/sys for every sysctl, and marks the missing ones unavailable', () => {
    const sysctls = snap.entries.filter((e) => e.id.startsWith('net.'));
    expect(sysctls.length).toBeGreaterThanOrEqual(16);
    for (const e of sysctls) {
      const truth = read(sysctlPath(e.id));
      if (truth === null) {
        expect(e.available, e.id).toBe(false);
        expect(e.value).toBeNull();
        expect(e.error).toBeTruthy();
        continue;
      }
      expect(e.available, `${e.id}: ${e.error}`).toBe(true);
      expect(e.source).toBe('procfs');
      const nums = truth.split(/\s+/).map(Number);
      expect(e.value, e.id).toEqual(nums.length > 1 ? nums : nums[0]);
    }
    expect(Array.isArray(entry(snap, 'net.ipv4.udp_mem').value) || !entry(snap, 'net.ipv4.udp_mem').available).toBe(true);
    expect(entry(snap, 'net.core.rmem_max').scope).toBe('global');
    expect(entry(snap, 'net.ipv4.conf.lo.rp_filter')).toMatchObject({ key: 'net.ipv4.conf.<iface>.rp_filter', target: 'lo', scope: 'interface' });
  });

  it('reads lo\'s facts as /sys shows them', () => {
    expect(snap.interface).toMatchObject({ name: 'lo', source: 'option', driver: 'virtual' });
    expect(snap.netns.sysfs_matches).toBe(true);
    expect(entry(snap, 'link.lo.mtu').value).toBe(Number(read('/sys/class/net/lo/mtu')));
    expect(entry(snap, 'link.lo.tx_queue_len').value).toBe(Number(read('/sys/class/net/lo/tx_queue_len')));
    expect(entry(snap, 'link.lo.operstate').value).toBe(read('/sys/class/net/lo/operstate'));
    expect(entry(snap, 'link.lo.driver')).toMatchObject({ value: 'virtual', available: true, source: 'sysfs' });
    expect(snap.bridge).toBeNull();
    expect(snap.entries.some((e) => e.scope === 'bridge')).toBe(false);
    expect(snap.notes.join('\n')).toMatch(/no bridge: lo is not a bridge/);
  });

  it('records kernel, CPUs, virtualization and the namespace as the system reports them', () => {
    expect(snap.host.kernel).toBe(read('/proc/sys/kernel/osrelease'));
    const cpuinfo = read('/proc/cpuinfo') ?? '';
    expect(snap.host.cpus).toBe(cpuinfo.split('\n').filter((l) => /^processor\s*:/.test(l)).length);
    const flags = /^flags\s*:(.*)$/m.exec(cpuinfo);
    expect(snap.virtualization.hypervisor_flag).toBe(flags ? / hypervisor\b/.test(flags[1]!) : null);
    const sdv = spawnSync('systemd-detect-virt', { encoding: 'utf8' });
    expect(snap.virtualization.systemd_detect_virt).toBe(sdv.error ? null : sdv.stdout.trim());
    expect(snap.virtualization.kvm_device).toBe(existsSync('/dev/kvm'));
    expect(snap.netns.id).toBe(readlinkSync('/proc/self/ns/net'));
    expect(snap.netns.initial).toBe(existsSync('/proc/sys/net/core/netdev_max_backlog'));
  });

  it('picks the route\'s interface without -I, and with it the NIC driver /sys names', () => {
    const s = snapshotKernelSettings();
    if (!s.interface) {
      expect(s.notes.join()).toMatch(/no interface/);
      return;
    }
    expect(['multicast-route', 'default-route']).toContain(s.interface.source);
    const dev = `/sys/class/net/${s.interface.name}/device`;
    const truth = existsSync(dev) ? readlinkSync(`${dev}/driver`).split('/').pop() : 'virtual';
    expect(s.interface.driver).toBe(truth);
    expect(entry(s, `link.${s.interface.name}.driver`).value).toBe(truth);
  });

  it('is fast: under 100 ms', () => {
    const times = [0, 1, 2].map(() => snapshotKernelSettings({ interface: 'lo' }).elapsed_ms);
    expect(Math.min(...times)).toBeLessThan(100);
  });

  it('accepts one of the interface\'s IPv4 addresses for -I', () => {
    expect(snapshotKernelSettings({ interface: '127.0.0.1' }).interface?.name).toBe('lo');
  });

  it('marks an entry whose file does not exist unavailable, with the reason, never a guess', () => {
    const fake: SettingDef[] = [
      { id: 'net.core.mcbench_nonexistent', path: '/proc/sys/net/core/mcbench_nonexistent', scope: 'namespace', unit: 'count', parse: 'int', settable: false, why: 'seed 000: test', short: 'seed 000: test' },
      { id: 'link.<iface>.mcbench_nonexistent', path: '/sys/class/net/<iface>/mcbench_nonexistent', scope: 'interface', unit: 'count', parse: 'int', settable: false, why: 'seed 000: test', short: 'seed 000: test' },
      { id: 'net.core.rmem_max', path: '/proc/sys/net/core/rmem_max', scope: 'global', unit: 'bytes', parse: 'int', settable: true, why: 'seed 001: x', short: 'seed 001: x' },
    ];
    const s = snapshotKernelSettings({ interface: 'lo', registry: fake });
    expect(s.entries).toHaveLength(3);
    expect(entry(s, 'net.core.mcbench_nonexistent')).toMatchObject({ available: false, value: null, error: expect.stringMatching(/does not exist/) });
    expect(entry(s, 'link.lo.mcbench_nonexistent')).toMatchObject({ available: false, value: null, error: expect.stringMatching(/does not exist/) });
    expect(entry(s, 'net.core.rmem_max').value).toBe(Number(read('/proc/sys/net/core/rmem_max')));
  });

  it('refuses an interface or bridge that is not there, naming which', () => {
    expect(() => snapshotKernelSettings({ interface: 'nosuch9' })).toThrow(SettingsTargetError);
    expect(() => snapshotKernelSettings({ interface: 'nosuch9' })).toThrow(/unknown interface 'nosuch9'/);
    expect(() => snapshotKernelSettings({ bridge: 'nosuchbr' })).toThrow(/unknown bridge 'nosuchbr'/);
    expect(() => snapshotKernelSettings({ bridge: 'lo' })).toThrow(/'lo' is not a bridge/);
  });
});

// ------------------------------------------------------------------------------------------------
// diffSettings: pure, on made-up snapshots.

function fakeSnapshot(entries: Array<Partial<SettingEntry> & { id: string }>, over: Partial<KernelSettingsSnapshot> = {}): KernelSettingsSnapshot {
  return {
    schema: 'mcbench/settings@1',
    time: '2026-01-01T00:00:00.000Z',
    host: { hostname: 'h', kernel: '6.1.0', kernel_version: '#1', machine: 'x86_64', cpus: 2, cpus_available: 2, page_size: 4096 },
    virtualization: { hypervisor_flag: true, systemd_detect_virt: 'kvm', vm: 'kvm', container: 'none', kvm_device: false },
    netns: { id: 'net:[1]', initial: true, sysfs_matches: true, link_source: 'sysfs' },
    interface: { name: 'eth0', source: 'option', driver: 'virtio_net' },
    bridge: null,
    entries: entries.map((e) => ({ key: e.id, value: null, unit: 'count', scope: 'global', available: true, source: 'procfs', ...e })),
    notes: [],
    elapsed_ms: 1,
    ...over,
  };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('diffSettings', () => {
  const base = [
    { id: 'net.core.rmem_max', value: 212992, unit: 'bytes' as const },
    { id: 'net.ipv4.udp_mem', value: [1, 2, 3], unit: 'pages' as const },
    { id: 'net.core.netdev_max_backlog', value: null, available: false, error: 'not visible' },
    { id: 'link.eth0.mtu', key: 'link.<iface>.mtu', target: 'eth0', value: 1500, scope: 'interface' as const },
  ];

  it('finds nothing between equal snapshots (arrays compared by value, unavailable = unavailable)', () => {
    const a = deepFreeze(fakeSnapshot(base));
    const b = deepFreeze(fakeSnapshot(base.map((e) => ({ ...e, value: Array.isArray(e.value) ? [...e.value] : e.value })), { time: 'later', elapsed_ms: 9 }));
    expect(diffSettings(a, b)).toEqual([]);
  });

  it('reports changed values, in registry order, and leaves its inputs alone', () => {
    const a = deepFreeze(fakeSnapshot(base));
    const b = deepFreeze(fakeSnapshot(base.map((e) =>
      e.id === 'net.core.rmem_max' ? { ...e, value: 26214400 } : e.id === 'net.ipv4.udp_mem' ? { ...e, value: [1, 2, 4] } : e)));
    const d = diffSettings(a, b);
    expect(d).toEqual([
      { key: 'net.core.rmem_max', id_a: 'net.core.rmem_max', id_b: 'net.core.rmem_max', a: 212992, b: 26214400, kind: 'changed', unit: 'bytes', scope: 'global' },
      { key: 'net.ipv4.udp_mem', id_a: 'net.ipv4.udp_mem', id_b: 'net.ipv4.udp_mem', a: [1, 2, 3], b: [1, 2, 4], kind: 'changed', unit: 'pages', scope: 'global' },
    ]);
  });

  it('reports entries that became readable or unreadable, and entries only on one side', () => {
    const a = fakeSnapshot(base);
    const b = fakeSnapshot([
      ...base.filter((e) => e.id !== 'link.eth0.mtu').map((e) => (e.id === 'net.core.netdev_max_backlog' ? { ...e, value: 1000, available: true, error: undefined } : e)),
      { id: 'bridge.br0.multicast_querier', key: 'bridge.<bridge>.multicast_querier', target: 'br0', value: 1, scope: 'bridge', unit: 'flag' },
    ], { bridge: { name: 'br0', source: 'master' } });
    const d = diffSettings(a, b);
    expect(d.map((c) => [c.key, c.kind, c.a, c.b])).toEqual([
      ['net.core.netdev_max_backlog', 'availability', null, 1000],
      ['link.<iface>.mtu', 'removed', 1500, undefined],
      ['bridge.<bridge>.multicast_querier', 'added', undefined, 1],
      ['bridge', 'changed', null, 'br0'],
    ]);
  });

  it('matches interface entries across interface names, and reports the names and host facts', () => {
    const a = fakeSnapshot(base);
    const b = fakeSnapshot(
      base.map((e) => (e.id === 'link.eth0.mtu' ? { ...e, id: 'link.eth1.mtu', target: 'eth1', value: 9000 } : e)),
      { interface: { name: 'eth1', source: 'option', driver: 'e1000' }, host: { ...a.host, kernel: '6.18.0', cpus: 4 } },
    );
    const d = diffSettings(a, b);
    expect(d[0]).toMatchObject({ key: 'link.<iface>.mtu', id_a: 'link.eth0.mtu', id_b: 'link.eth1.mtu', a: 1500, b: 9000, kind: 'changed' });
    expect(d.slice(1).map((c) => [c.key, c.a, c.b])).toEqual([
      ['host.kernel', '6.1.0', '6.18.0'],
      ['host.cpus', 2, 4],
      ['interface', 'eth0', 'eth1'],
    ]);
  });
});

describe('value formatting', () => {
  const e = (id: string, value: SettingEntry['value'], unit: SettingEntry['unit']): SettingEntry =>
    ({ id, key: findSettingDef(id)?.id ?? id, value, unit, scope: 'global', available: true, source: 'procfs' });
  it('shows units people read', () => {
    expect(formatSettingValue(e('net.core.rmem_max', 26214400, 'bytes'))).toBe('26214400 (25 MiB)');
    expect(formatSettingValue(e('link.eth0.mtu', 1500, 'bytes'))).toBe('1500 bytes');
    expect(formatSettingValue(e('bridge.br0.multicast_membership_interval', 26000, 'centiseconds'))).toBe('26000 cs (260 s)');
    expect(formatSettingValue(e('bridge.br0.multicast_querier', 0, 'flag'))).toBe('0 (off)');
    expect(formatSettingValue(e('net.ipv4.conf.all.rp_filter', 2, 'mode'))).toBe('2 (loose)');
    expect(formatSettingValue(e('net.ipv4.udp_mem', [1, 2, 262144], 'pages'), 4096)).toBe('1 2 262144 pages (max 1 GiB)');
    expect(formatSettingValue({ ...e('net.core.rmem_max', null, 'bytes'), available: false })).toBe('n/a');
  });
});

// ------------------------------------------------------------------------------------------------
// The CLI on this host: read-only, no namespace needed.

describe('mcbench settings (host)', () => {
  it('prints an aligned table: setting, value with unit, scope, why', async () => {
    const r = await mcbenchNoNet(['settings', '-I', 'lo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /^setting\s+value\s+scope\s+why$/.test(l));
    expect(head).toBeGreaterThan(0);
    const valueCol = lines[head]!.indexOf('value');
    const scopeCol = lines[head]!.indexOf('scope');
    const rmem = lines.find((l) => l.startsWith('net.core.rmem_max '))!;
    expect(rmem).toMatch(/^net\.core\.rmem_max\s+\d+ (\(\d+(\.\d)? [KMG]iB\)|bytes)\s+global\s+seed 001: /);
    expect(rmem.indexOf(String(Number(read('/proc/sys/net/core/rmem_max'))))).toBe(valueCol);
    expect(rmem.indexOf('global')).toBe(scopeCol);
    const mtu = lines.find((l) => l.startsWith('link.lo.mtu '))!;
    expect(mtu).toContain(`${read('/sys/class/net/lo/mtu')} `);
    expect(mtu.indexOf('interface')).toBe(scopeCol);
    expect(r.stdout).toMatch(/^kernel \S+ \(\S+\), \d+ CPUs/m);
    expect(r.stdout).toMatch(/interface lo \(-I\), driver virtual; bridge: none/);
  });

  it('--json - prints the snapshot on stdout (the table goes to stderr), --json FILE writes it', async () => {
    const r = await mcbenchNoNet(['settings', '-I', 'lo', '--json', '-']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as KernelSettingsSnapshot;
    expect(s.schema).toBe('mcbench/settings@1');
    expect(entry(s, 'link.lo.mtu').value).toBe(Number(read('/sys/class/net/lo/mtu')));
    expect(entry(s, 'net.core.rmem_max').value).toBe(Number(read('/proc/sys/net/core/rmem_max')));
    expect(r.stderr).toMatch(/^setting\s+value/m);

    // --json without a value is bad input (issue 10: one convention for every output flag): - is stdout
    const bare = await mcbenchNoNet(['settings', '--json', '-I', 'lo']);
    expect(bare.code, bare.stderr).toBe(2);
    expect(bare.stderr.trim().split('\n')).toHaveLength(1);

    const dir = mkdtempSync(join(tmpdir(), 'mcbench-settings-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'snap.json');
    const w = await mcbenchNoNet(['settings', '-I', 'lo', '--json', file]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/^setting\s+value/m);
    expect((JSON.parse(readFileSync(file, 'utf8')) as KernelSettingsSnapshot).entries.length).toBe(s.entries.length);
    expect(readdirSync(dir)).toEqual(['snap.json']); // no temporary file left behind
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['unknown interface', ['settings', '-I', 'nosuch9'], /^mcbench settings: -I\/--interface: unknown interface 'nosuch9'/],
    ['unknown address', ['settings', '-I', '10.254.254.254'], /^mcbench settings: -I\/--interface: no interface .* has the address 10\.254\.254\.254/],
    ['bad interface name', ['settings', '-I', 'a/b'], /^mcbench settings: -I\/--interface: 'a\/b' is not a valid interface name/],
    ['unknown bridge', ['settings', '--bridge', 'nosuchbr'], /^mcbench settings: --bridge: unknown bridge 'nosuchbr'/],
    ['not a bridge', ['settings', '--bridge', 'lo'], /^mcbench settings: --bridge: 'lo' is not a bridge/],
  ];
  it.each(bad)('%s: one line naming the flag, exit 2', async (_n, args, message) => {
    const r = await mcbenchNoNet(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});

// ------------------------------------------------------------------------------------------------
// A bridge with a port inside a private network namespace.

describe('in a private network namespace with a bridge', () => {
  let ns: TestNetns;
  const hostBefore = {
    igmp: read('/proc/sys/net/ipv4/igmp_max_memberships'),
    rp: read('/proc/sys/net/ipv4/conf/all/rp_filter'),
    force: read('/proc/sys/net/ipv4/conf/all/force_igmp_version'),
  };
  const sh = async (script: string) => {
    const r = await ns.run('sh', ['-c', script]);
    if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
  };
  const json = (r: RunOutput): KernelSettingsSnapshot => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as KernelSettingsSnapshot;
  };
  /** mcbench in the namespace with /sys remounted in a private mount namespace, like `ip netns exec`. */
  const withOwnSysfs = (args: string[]) =>
    ns.run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t sysfs sysfs /sys && exec "$0" "$@"', process.execPath, MCBENCH, ...args]);

  beforeAll(async () => {
    ns = await TestNetns.create();
    await sh([
      'ip link add mcbt0 type bridge mcast_snooping 0 mcast_querier 1 mcast_membership_interval 12000 mcast_igmp_version 3 stp_state 0',
      'ip link add mcbt-v0 type veth peer name mcbt-v1',
      'ip link set mcbt-v0 master mcbt0 mtu 1400 txqueuelen 777',
      // per-namespace sysctls: this namespace's own copies
      'echo 33 > /proc/sys/net/ipv4/igmp_max_memberships',
      'echo 2 > /proc/sys/net/ipv4/conf/all/force_igmp_version',
      'echo 2 > /proc/sys/net/ipv4/conf/mcbt-v0/rp_filter',
    ].join(' && '));
  });
  afterAll(async () => {
    await ns?.close();
  });

  it('reads the bridge it auto-detects through netlink when /sys shows the host (nsenter -n)', async () => {
    const s = json(await ns.mcbench(['settings', '-I', 'mcbt-v0', '--json', '-']).done);
    expect(s.netns).toMatchObject({ initial: false, sysfs_matches: false, link_source: 'netlink' });
    expect(s.netns.id).not.toBe(readlinkSync('/proc/self/ns/net'));
    expect(s.interface).toEqual({ name: 'mcbt-v0', source: 'option', driver: 'virtual' });
    expect(s.bridge).toEqual({ name: 'mcbt0', source: 'master' });
    const v = (id: string) => entry(s, id).value;
    expect(v('bridge.mcbt0.multicast_snooping')).toBe(0);
    expect(v('bridge.mcbt0.multicast_querier')).toBe(1);
    expect(v('bridge.mcbt0.multicast_membership_interval')).toBe(12000);
    expect(v('bridge.mcbt0.multicast_igmp_version')).toBe(3);
    expect(v('bridge.mcbt0.stp_state')).toBe(0);
    expect(v('link.mcbt-v0.mtu')).toBe(1400);
    expect(v('link.mcbt-v0.tx_queue_len')).toBe(777);
    expect(v('link.mcbt-v0.operstate')).toBe('down');
    expect(entry(s, 'bridge.mcbt0.multicast_querier').source).toBe('netlink');
    for (const e of s.entries.filter((x) => x.scope === 'bridge' || x.scope === 'interface')) expect(e.available, `${e.id}: ${e.error}`).toBe(true);
    // Per-namespace sysctls: this namespace's values; the host's stay as they were.
    expect(v('net.ipv4.igmp_max_memberships')).toBe(33);
    expect(v('net.ipv4.conf.all.force_igmp_version')).toBe(2);
    expect(v('net.ipv4.conf.mcbt-v0.rp_filter')).toBe(2);
    expect(read('/proc/sys/net/ipv4/igmp_max_memberships')).toBe(hostBefore.igmp);
    expect(read('/proc/sys/net/ipv4/conf/all/force_igmp_version')).toBe(hostBefore.force);
    expect(read('/proc/sys/net/ipv4/conf/all/rp_filter')).toBe(hostBefore.rp);
    // Every sysctl as `cat` in the namespace sees it: global ones registered for the initial
    // namespace only are missing there (unavailable, saying so), the others mirror the host's.
    for (const e of s.entries.filter((x) => x.id.startsWith('net.'))) {
      const r = await ns.run('cat', [sysctlPath(e.id)]);
      if (r.code !== 0) {
        expect(e, e.id).toMatchObject({ available: false, value: null });
        if (e.scope === 'global') expect(e.error, e.id).toMatch(/network namespace/);
        continue;
      }
      const nums = r.stdout.trim().split(/\s+/).map(Number);
      expect(e.value, e.id).toEqual(nums.length > 1 ? nums : nums[0]);
      if (e.scope === 'global') expect(e.value, e.id).toEqual(entry(snapshotKernelSettings(), e.id).value);
    }
    expect(entry(s, 'net.core.netdev_max_backlog').error ?? '').toMatch(/^$|initial network namespace/);
  });

  it('reads the same values from sysfs when /sys is remounted for the namespace, and diffs to nothing', async () => {
    const viaNetlink = json(await ns.mcbench(['settings', '-I', 'mcbt-v0', '--json', '-']).done);
    const viaSysfs = json(await withOwnSysfs(['settings', '-I', 'mcbt-v0', '--json', '-']));
    expect(viaSysfs.netns).toMatchObject({ sysfs_matches: true, link_source: 'sysfs' });
    expect(entry(viaSysfs, 'bridge.mcbt0.multicast_querier').source).toBe('sysfs');
    expect(entry(viaSysfs, 'link.mcbt-v0.driver')).toMatchObject({ value: 'virtual', source: 'sysfs' });
    expect(diffSettings(viaNetlink, viaSysfs)).toEqual([]);
    // The remount stayed in its own mount namespace.
    expect(readdirSync('/sys/class/net')).not.toContain('mcbt0');
  });

  it('finds the bridge from --bridge, or from -I naming the bridge itself', async () => {
    const byOption = json(await ns.mcbench(['settings', '--bridge', 'mcbt0', '--json', '-']).done);
    expect(byOption.bridge).toEqual({ name: 'mcbt0', source: 'option' });
    expect(entry(byOption, 'bridge.mcbt0.multicast_querier').value).toBe(1);
    const byIface = json(await ns.mcbench(['settings', '-I', 'mcbt0', '--json', '-']).done);
    expect(byIface.bridge).toEqual({ name: 'mcbt0', source: 'interface' });
    const notBridge = await ns.mcbench(['settings', '--bridge', 'mcbt-v1']).done;
    expect(notBridge.code).toBe(2);
    expect(notBridge.stderr).toMatch(/^mcbench settings: --bridge: 'mcbt-v1' is not a bridge/);
    // The host's interfaces are in /sys here, but not in this namespace.
    const hostOnly = readdirSync('/sys/class/net').find((n) => n !== 'lo');
    if (hostOnly) {
      const r = await ns.mcbench(['settings', '-I', hostOnly]).done;
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^mcbench settings: -I/--interface: unknown interface '${hostOnly}' in this network namespace`));
    }
  });

  it('diffSettings names exactly the knob that changed', async () => {
    const before = json(await ns.mcbench(['settings', '-I', 'mcbt-v0', '--json', '-']).done);
    await sh('ip link set mcbt0 type bridge mcast_querier 0');
    try {
      const after = json(await ns.mcbench(['settings', '-I', 'mcbt-v0', '--json', '-']).done);
      expect(diffSettings(before, after)).toEqual([{
        key: 'bridge.<bridge>.multicast_querier', id_a: 'bridge.mcbt0.multicast_querier', id_b: 'bridge.mcbt0.multicast_querier',
        a: 1, b: 0, kind: 'changed', unit: 'flag', scope: 'bridge',
      }]);
    } finally {
      await sh('ip link set mcbt0 type bridge mcast_querier 1');
    }
  });

  it('prints the bridge rows and what it could not read', async () => {
    const r = await ns.mcbench(['settings', '-I', 'mcbt-v0']).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/bridge mcbt0 \(master of mcbt-v0\)/);
    expect(r.stdout).toMatch(/^bridge\.mcbt0\.multicast_snooping\s+0 \(off\)\s+bridge\s+seed 002: /m);
    expect(r.stdout).toMatch(/^bridge\.mcbt0\.multicast_querier\s+1 \(on\)\s+bridge\s+seed 002: /m);
    expect(r.stdout).toMatch(/^bridge\.mcbt0\.multicast_membership_interval\s+12000 cs \(120 s\)\s+bridge/m);
    expect(r.stdout).toMatch(/^link\.mcbt-v0\.tx_queue_len\s+777 packets\s+interface/m);
    expect(r.stdout).toMatch(/^not available:\n(  .*\n)*  net\.core\.netdev_max_backlog: not visible outside the initial network namespace/m);
    expect(r.stdout).toMatch(/^note: interface facts read through netlink/m);
  });
});
