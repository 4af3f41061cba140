// MLD and pinned IGMP/MLD versions: `igmp-query --protocol mld` checked against a capture
// (tcpdump's own decoding and the frame's bytes), doctor's MLD/SSM/membership findings with a
// bridge and sysctls of a private namespace set each way (the finding when wrong, not when
// right, and the kernel's own behaviour as the truth the finding claims: the ENOBUFS join, the
// report without sources), and the lab's bridge and guest version knobs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, Finding } from '../src/core/doctor.js';
import { MCBENCH, TestNetns, type RunOutput } from './helpers/netns.js';
import { tcpdump } from './helpers/pcap.js';

let ns: TestNetns;
let dir: string;
const sh = async (script: string) => {
  const r = await ns.run('sh', ['-c', script]);
  if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The link-local address of a link in the namespace (waits for it: DAD is off, so it is quick). */
async function linkLocal(dev: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const rows = JSON.parse(await sh(`ip -j -6 addr show dev ${dev} scope link`)) as Array<{ addr_info?: Array<{ local?: string; tentative?: boolean }> }>;
    const a = rows[0]?.addr_info?.find((x) => x.local?.startsWith('fe80:') && !x.tentative);
    if (a?.local) return a.local;
    await sleep(100);
  }
  throw new Error(`${dev} has no link-local address`);
}

/** The frames of a pcap (nanosecond or microsecond), Ethernet. */
function frames(file: string): Buffer[] {
  const b = readFileSync(file);
  expect([0xa1b23c4d, 0xa1b2c3d4]).toContain(b.readUInt32LE(0));
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const incl = b.readUInt32LE(off + 8);
    out.push(b.subarray(off + 16, off + 16 + incl));
    off += 16 + incl;
  }
  return out;
}

const ipv6Text = (b: Buffer) => Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');

beforeAll(async () => {
  ns = await TestNetns.create();
  dir = mkdtempSync(join(tmpdir(), 'mcbench-mld-'));
});
afterAll(async () => {
  await ns?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('igmp-query --protocol mld: the query on the wire', () => {
  it('MLDv2 and MLDv1 general queries: ICMPv6 130 to ff02::1 from the link-local address, hop limit 1, hop-by-hop Router Alert 0', async () => {
    await sh('ip link add mcbq0 type veth peer name mcbq1 && sysctl -q -w net.ipv6.conf.mcbq0.accept_dad=0 && ip link set mcbq0 up && ip link set mcbq1 up');
    const source = await linkLocal('mcbq0');
    const cap = await tcpdump(ns, 'mcbq1', 0, dir, 'ip6 and dst ff02::1');
    const v2 = await ns.mcbench(['igmp-query', '-I', 'mcbq0', '--protocol', 'mld', '--max-resp', '1.5']).done;
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.stdout).toMatch(/MLDv2 general query sent on mcbq0 \(max resp 1\.5 s\)/);
    const v1 = await ns.mcbench(['igmp-query', '-I', 'mcbq0', '--protocol', 'mld', '--mld-version', '1', '--max-resp', '0.5']).done;
    expect(v1.code, v1.stderr).toBe(0);
    await cap.stop();

    // tcpdump's decoding (it checks the ICMPv6 checksum over the pseudo-header itself)
    const text = (await ns.run('tcpdump', ['-r', cap.file, '-nn', '-vv'])).stdout;
    const queries = text.split('\n').filter((l) => l.includes('multicast listener query'));
    expect(queries, text).toHaveLength(2);
    const esc = source.replace(/\./g, '\\.');
    expect(queries[0]).toMatch(new RegExp(`hlim 1, next-header Options \\(0\\) payload length: 36\\) ${esc} > ff02::1: HBH \\(rtalert: 0x0000\\) \\(padn\\) \\[icmp6 sum ok\\] ICMP6, multicast listener query v2 \\[max resp delay=1500\\] \\[gaddr :: robustness=2 qqi=125\\]`));
    expect(queries[1]).toMatch(new RegExp(`hlim 1, next-header Options \\(0\\) payload length: 32\\) ${esc} > ff02::1: HBH \\(rtalert: 0x0000\\) \\(padn\\) \\[icmp6 sum ok\\] ICMP6, multicast listener querymax resp delay: 500 addr: ::`));

    // the bytes, read without tcpdump
    const f = frames(cap.file).filter((x) => x.readUInt16BE(12) === 0x86dd);
    expect(f).toHaveLength(2);
    for (const [i, x] of f.entries()) {
      const ip = x.subarray(14);
      expect(ip[6]).toBe(0); // next header: hop-by-hop options
      expect(ip[7]).toBe(1); // hop limit 1
      expect(ipv6Text(ip.subarray(8, 24))).toBe(source);
      expect(ipv6Text(ip.subarray(24, 40))).toBe('ff02::1');
      const hbh = ip.subarray(40, 48);
      expect([...hbh]).toEqual([58, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]); // ICMPv6 next; Router Alert value 0 (MLD); PadN
      const icmp = ip.subarray(48, 40 + ip.readUInt16BE(4));
      expect(icmp[0]).toBe(130); // Multicast Listener Query
      expect(icmp[1]).toBe(0);
      expect(icmp.subarray(8, 24).every((v) => v === 0)).toBe(true); // general: ::
      if (i === 0) {
        expect(icmp.length).toBe(28);
        expect(icmp.readUInt16BE(4)).toBe(1500); // Maximum Response Code, ms
        expect(icmp[24]! & 7).toBe(2); // QRV
        expect(icmp[25]).toBe(125); // QQIC
        expect(icmp.readUInt16BE(26)).toBe(0); // no sources
      } else {
        expect(icmp.length).toBe(24);
        expect(icmp.readUInt16BE(4)).toBe(500); // Maximum Response Delay, ms
      }
    }
  });

  it('bad input: one line naming the flag, exit 2', async () => {
    for (const [args, msg] of [
      [['--protocol', 'pim'], /--protocol: 'pim' is not one of igmp, mld, both/],
      [['--protocol', 'mld', '--mld-version', '3'], /--mld-version: '3' is out of range \(1 or 2\)/],
      [['--protocol', 'mld', '--max-resp', '40'], /--max-resp: 40 s is out of range \(0\.001 s to 32\.767 s\)/],
    ] as Array<[string[], RegExp]>) {
      const r = await ns.mcbench(['igmp-query', '-I', 'lo', ...args]).done;
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('doctor: MLD snooping, pinned IGMP/MLD versions, memberships against -g', () => {
  const doctor = async (args: string[]): Promise<DoctorReport> => {
    const r: RunOutput = await ns.mcbench(['doctor', '--sample', '0', '--json', '-', ...args]).done;
    expect(r.stderr, r.stderr).toMatch(/^mcbench doctor: /);
    const rep = JSON.parse(r.stdout) as DoctorReport;
    expect(r.code).toBe(rep.exit_code);
    return rep;
  };
  const finding = (rep: DoctorReport, id: string): Finding => {
    const f = rep.findings.filter((x) => x.id === id);
    expect(f, rep.findings.map((x) => x.id).join(', ')).toHaveLength(1);
    return f[0]!;
  };

  beforeAll(async () => {
    await sh([
      // mcbm0: snooping, no querier of its own; mcbm-q (not a port) plays a querier on the LAN
      'ip link add mcbm0 type bridge mcast_snooping 1 mcast_querier 0 mcast_mld_version 2 stp_state 0',
      'ip link add mcbm-p type veth peer name mcbm-q',
      'sysctl -q -w net.ipv6.conf.mcbm-q.accept_dad=0',
      'ip link set mcbm-p master mcbm0 up', 'ip link set mcbm0 up', 'ip link set mcbm-q up',
      'ip addr add 10.9.0.2/24 dev mcbm-q',
      // mcbm1: the querier itself, IPv6 off on it (the port gives it carrier)
      'ip link add mcbm1 type bridge mcast_snooping 1 mcast_querier 1 stp_state 0',
      'sysctl -q -w net.ipv6.conf.mcbm1.disable_ipv6=1 net.ipv6.conf.mcbm1.accept_dad=0',
      'ip link add mcbm1-p type veth peer name mcbm1-q', 'ip link set mcbm1-p master mcbm1 up', 'ip link set mcbm1-q up', 'ip link set mcbm1 up',
    ].join(' && '));
  });

  it('bridge-mld-querier: snooping with no MLD querier is a problem for an IPv6 group; an MLD querier heard on a port clears it', async () => {
    const bad = await doctor(['--bridge', 'mcbm0', '-g', 'ff3e::8000:1']);
    const f = finding(bad, 'bridge-mld-querier');
    expect(f).toMatchObject({ severity: 'problem', target: 'mcbm0' });
    expect(f.seen).toMatch(/multicast_snooping=1, multicast_querier=0, and the bridge has heard no MLD querier within multicast_querier_interval \(asked for ff3e::8000:1\)/);
    expect(f.fix).toMatch(/^ip link set mcbm0 type bridge mcast_querier 1/);
    expect(bad.querier).toMatchObject({ bridge: 'mcbm0', kernel_reports: true, ipv6: null, error: null });
    expect(bad.exit_code).toBe(1);

    const querier = await linkLocal('mcbm-q');
    const q = await ns.mcbench(['igmp-query', '-I', 'mcbm-q', '--protocol', 'mld']).done;
    expect(q.code, q.stderr).toBe(0);
    let good = await doctor(['--bridge', 'mcbm0', '-g', 'ff3e::8000:1']);
    for (let i = 0; i < 20 && finding(good, 'bridge-mld-querier').severity !== 'ok'; i++) {
      await sleep(100);
      good = await doctor(['--bridge', 'mcbm0', '-g', 'ff3e::8000:1']);
    }
    expect(finding(good, 'bridge-mld-querier')).toMatchObject({ severity: 'ok', fix: null });
    expect(finding(good, 'bridge-mld-querier').seen).toMatch(new RegExp(`an MLD querier was heard: ${querier} on port mcbm-p, believed for another \\d`));
    expect(good.querier?.ipv6).toMatchObject({ address: querier, port: 'mcbm-p' });
    // the IPv4 side is untouched: no IGMP querier was heard
    expect(good.querier?.ipv4).toBeNull();
  });

  it('bridge-mld-querier: a querier bridge with IPv6 off sends no MLD query (problem); with its link-local address it does (ok)', async () => {
    const badReport = await doctor(['--bridge', 'mcbm1', '-g', 'ff15::1']);
    const bad = finding(badReport, 'bridge-mld-querier');
    // ... and so no MLDv1 query that would hold hosts back to MLDv1 either
    expect(finding(badReport, 'ssm-querier-version').seen).toMatch(/^mcbm1 is the querier and queries in IGMPv2 \(the kernel's default\): /);
    expect(bad.severity).toBe('problem');
    expect(bad.seen).toMatch(/mcbm1: multicast_querier=1 but mcbm1 has no IPv6 link-local address \(net\.ipv6\.conf\.mcbm1\.disable_ipv6=1\)/);
    expect(bad.fix).toMatch(/^sysctl -w net\.ipv6\.conf\.mcbm1\.disable_ipv6=0 /);
    // Without a group asked for it is a warning, not a problem.
    expect(finding(await doctor(['--bridge', 'mcbm1']), 'bridge-mld-querier').severity).toBe('warning');

    await sh('sysctl -q -w net.ipv6.conf.mcbm1.disable_ipv6=0');
    await linkLocal('mcbm1');
    const good = await doctor(['--bridge', 'mcbm1', '-g', 'ff15::1']);
    expect(finding(good, 'bridge-mld-querier')).toMatchObject({ severity: 'ok' });
    expect(finding(good, 'bridge-mld-querier').seen).toMatch(/multicast_querier=1 and mcbm1 has IPv6 .*: it sends MLDv1 queries/);
  });

  it('mld-version: force_mld_version=1 against a bridge querying MLDv2 is a warning; 0 follows the querier', async () => {
    await sh('sysctl -q -w net.ipv6.conf.all.force_mld_version=1');
    try {
      const f = finding(await doctor(['--bridge', 'mcbm0', '-I', 'mcbm-q']), 'mld-version');
      expect(f.severity).toBe('warning');
      expect(f.seen).toMatch(/net\.ipv6\.conf\.all\.force_mld_version = 1 \(v1\) but mcbm0 queries in MLDv2/);
      expect(f.fix).toMatch(/^sysctl -w net\.ipv6\.conf\.all\.force_mld_version=0 /);
    } finally {
      await sh('sysctl -q -w net.ipv6.conf.all.force_mld_version=0');
    }
    expect(finding(await doctor(['--bridge', 'mcbm0', '-I', 'mcbm-q']), 'mld-version').severity).toBe('ok');
  });

  it('ssm-report-version: force_igmp_version=2 on the receiver interface with an SSM group is a problem; the kernel indeed reports the (S,G) join as an IGMPv2 report without sources', async () => {
    // The truth: what the kernel sends for a source-specific join (IP_ADD_SOURCE_MEMBERSHIP).
    const join = (seconds: number) => ns.run('python3', ['-c', [
      'import socket, struct, time',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      's.setsockopt(socket.IPPROTO_IP, 39, struct.pack("4s4s4s", socket.inet_aton("232.1.2.3"), socket.inet_aton("10.9.0.2"), socket.inet_aton("10.9.0.1")))',
      `time.sleep(${seconds})`,
    ].join('\n')]);
    const reports = async (port: number) => {
      const cap = await tcpdump(ns, 'mcbm-p', port, dir, 'igmp');
      const r = await join(0.3);
      expect(r.code, r.stderr).toBe(0);
      await cap.stop();
      return (await ns.run('tcpdump', ['-r', cap.file, '-nn', '-vv'])).stdout;
    };

    await sh('sysctl -q -w net.ipv4.conf.mcbm-q.force_igmp_version=2');
    try {
      const f = finding(await doctor(['-I', 'mcbm-q', '--bridge', 'mcbm0', '-g', '232.1.2.3']), 'ssm-report-version');
      expect(f).toMatchObject({ severity: 'problem', target: 'mcbm-q' });
      expect(f.seen).toMatch(/net\.ipv4\.conf\.mcbm-q\.force_igmp_version = 2 \(v2\): source-specific joins \(recv --source\) on mcbm-q leave as IGMPv2 reports, which carry no source list; the SSM group asked for \(232\.1\.2\.3\)/);
      expect(f.why).toMatch(/fails silently/);
      expect(f.fix).toMatch(/^sysctl -w net\.ipv4\.conf\.mcbm-q\.force_igmp_version=0 /);
      // without an SSM group asked for: a warning
      expect(finding(await doctor(['-I', 'mcbm-q', '-g', '239.1.2.3']), 'ssm-report-version').severity).toBe('warning');
      const v2 = await reports(1);
      expect(v2).toMatch(/igmp v2 report 232\.1\.2\.3/);
      expect(v2).not.toMatch(/10\.9\.0\.1/);
    } finally {
      await sh('sysctl -q -w net.ipv4.conf.mcbm-q.force_igmp_version=0');
    }
    expect(finding(await doctor(['-I', 'mcbm-q', '--bridge', 'mcbm0', '-g', '232.1.2.3']), 'ssm-report-version').severity).toBe('ok');
    const v3 = await reports(2);
    expect(v3).toMatch(/igmp v3 report, 1 group record\(s\) \[gaddr 232\.1\.2\.3 (to_in|is_in|allow) \{ 10\.9\.0\.1 \}\]/);
  });

  it('ssm-querier-version: a querier bridge at its default IGMPv2 puts hosts in IGMPv2 mode (their (S,G) join goes out as a v2 report); IGMPv3 is ok', async () => {
    await sh('sysctl -q -w net.ipv6.conf.mcbm1.disable_ipv6=0'); // (as the test before leaves it) the bridge sends MLD queries too
    await linkLocal('mcbm1');
    const f = finding(await doctor(['--bridge', 'mcbm1', '-g', '232.1.2.4']), 'ssm-querier-version');
    expect(f).toMatchObject({ severity: 'warning', target: 'mcbm1' });
    expect(f.seen).toMatch(/^mcbm1 is the querier and queries in IGMPv2 and MLDv1 \(the kernel's defaults\).*the SSM group asked for \(232\.1\.2\.4\)/);
    expect(f.fix).toBe('ip link set mcbm1 type bridge mcast_igmp_version 3 mcast_mld_version 2  # hosts then report in IGMPv3/MLDv2 with their sources');
    // The truth: a host that heard the bridge's IGMPv2 query reports its (S,G) join in v2.
    await sh('ip addr add 10.9.1.2/24 dev mcbm1-q && ip link set mcbm1 type bridge mcast_querier 0 && ip link set mcbm1 type bridge mcast_querier 1');
    await sleep(500); // the querier's startup query, sent when it is switched on
    const cap = await tcpdump(ns, 'mcbm1-p', 3, dir, 'igmp');
    const j = await ns.run('python3', ['-c', [
      'import socket, struct, time',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      's.setsockopt(socket.IPPROTO_IP, 39, struct.pack("4s4s4s", socket.inet_aton("232.1.2.4"), socket.inet_aton("10.9.1.2"), socket.inet_aton("10.9.1.1")))',
      'time.sleep(0.3)',
    ].join('\n')]);
    expect(j.code, j.stderr).toBe(0);
    await cap.stop();
    const text = (await ns.run('tcpdump', ['-r', cap.file, '-nn', '-vv'])).stdout;
    expect(text).toMatch(/igmp v2 report 232\.1\.2\.4/);
    expect(text).not.toMatch(/v3 report/);

    await sh('ip link set mcbm1 type bridge mcast_igmp_version 3 mcast_mld_version 2');
    expect(finding(await doctor(['--bridge', 'mcbm1', '-g', '232.1.2.4']), 'ssm-querier-version').severity).toBe('ok');
  });

  it('igmp-max-memberships: more IPv4 groups asked for than a socket may join is a problem (the kernel refuses the join with ENOBUFS); as many as allowed is ok', async () => {
    await sh('sysctl -q -w net.ipv4.igmp_max_memberships=3');
    try {
      const groups = ['239.7.0.1', '239.7.0.2', '239.7.0.3', '239.7.0.4'];
      const over = finding(await doctor(['-g', '239.7.0.1-239.7.0.4', '-g', '239.7.0.2']), 'igmp-max-memberships'); // a range, and a group twice: 4 groups
      expect(over.severity).toBe('problem');
      expect(over.seen).toMatch(/^4 IPv4 groups asked for, net\.ipv4\.igmp_max_memberships = 3: one socket joins at most 3; the join of group 4 fails with ENOBUFS/);
      expect(over.fix).toMatch(/^sysctl -w net\.ipv4\.igmp_max_memberships=20 /);
      const fit = finding(await doctor(groups.slice(0, 3).flatMap((g) => ['-g', g])), 'igmp-max-memberships');
      expect(fit.severity).toBe('info'); // 3 is below the kernel default 20: worth knowing, not a problem
      expect(fit.seen).toMatch(/\(3 IPv4 groups asked for fit\)/);
      // The truth: the kernel's answer to the fourth join on one socket.
      const r = await ns.run('python3', ['-c', [
        'import socket, errno',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        `for i, g in enumerate(${JSON.stringify(groups)}):`,
        '    try: s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(g) + socket.inet_aton("10.9.0.2"))',
        '    except OSError as e: print(i + 1, errno.errorcode[e.errno])',
      ].join('\n')]);
      expect(r.stdout.trim()).toBe('4 ENOBUFS');
    } finally {
      await sh('sysctl -q -w net.ipv4.igmp_max_memberships=20');
    }
    expect(finding(await doctor(['-g', '239.7.0.1', '-g', '232.7.0.1']), 'igmp-max-memberships')).toMatchObject({ severity: 'ok' });
  });

  it('-g bad input: one line, exit 2', async () => {
    const r = await ns.mcbench(['doctor', '--sample', '0', '-g', '10.1.1.1']).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mcbench doctor: -g\/--group: 10\.1\.1\.1 is not a multicast address/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('lab: the bridge\'s IGMP/MLD versions, a querier serving MLD, pinned guest versions', () => {
  const LAB = 'tmld';
  const mc = (args: string[]) => spawnSync(process.execPath, [MCBENCH, ...args], { encoding: 'utf8', timeout: 60000 });
  afterAll(() => void mc(['lab', 'down', '--name', LAB]));

  it('knobs as asked, the bridge\'s MLDv2 query reaches a guest, everything gone after lab down', () => {
    const up = mc(['lab', 'up', '--name', LAB, '--querier', '1', '--igmp-version', '3', '--mld-version', '2', '--query-interval', '1', '--startup-query-interval', '1',
      '--force-igmp-version', 'g2=2', '--force-mld-version', '1']);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/querier 1, IGMPv3, MLDv2,/);
    expect(up.stdout).toMatch(/pinned: g2 force_igmp_version 2, g1 force_mld_version 1, g2 force_mld_version 1/);
    expect(up.stdout).toMatch(/problems: none/);
    const br = `mcb-${LAB}-br`;
    expect(readFileSync(`/sys/class/net/${br}/bridge/multicast_mld_version`, 'utf8').trim()).toBe('2');
    expect(readFileSync(`/sys/class/net/${br}/bridge/multicast_igmp_version`, 'utf8').trim()).toBe('3');
    const sysctl = (g: string, path: string) => mc(['lab', 'exec', '--name', LAB, g, '--', 'cat', path]).stdout.trim();
    expect(sysctl('g1', '/proc/sys/net/ipv4/conf/eth0/force_igmp_version')).toBe('0');
    expect(sysctl('g2', '/proc/sys/net/ipv4/conf/eth0/force_igmp_version')).toBe('2');
    expect(sysctl('g2', '/proc/sys/net/ipv6/conf/eth0/force_mld_version')).toBe('1');
    // The querier bridge's own MLD query, as g2 sees it (one a second: --query-interval 1).
    const cap = mc(['lab', 'exec', '--name', LAB, 'g2', '--', 'timeout', '10', 'tcpdump', '-i', 'eth0', '-nn', '-vv', '-c', '1', 'ip6 and dst ff02::1']);
    expect(cap.stdout).toMatch(/hlim 1, .*fe80::[0-9a-f:]+ > ff02::1: HBH \(rtalert: 0x0000\).*multicast listener query v2 \[max resp delay=\d+\] \[gaddr :: robustness=2 qqi=1\]/);
    const down = mc(['lab', 'down', '--name', LAB]);
    expect(down.status, down.stderr).toBe(0);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toMatch(new RegExp(`mcb-${LAB}-`));
    expect(spawnSync('ip', ['link', 'show', br], { encoding: 'utf8' }).status).not.toBe(0);
  });
});
