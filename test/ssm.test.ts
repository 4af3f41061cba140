// Source-specific multicast (issue 11 item 2): two guests of a lab send to the same group and
// port at once; a receiver that joined (S,G) for one of them counts that one only. The other
// source's datagrams reach the receiving guest's interface (its /proc/net/dev rx_packets, read by
// the test) but the kernel never delivers them to the socket: the namespace's Udp/Udp6
// InDatagrams grow by exactly what mcbench read, and /proc/net/mcfilter(6) holds the one source
// in INCLUDE mode. For IPv6 (ff3e::/32, MLDv2) and IPv4 (232/8, IGMPv3).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { MCBENCH, mcbenchNoNet, Running } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const LAB = 'ssmt';
const dir = mkdtempSync(join(tmpdir(), 'mcbench-ssm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const netns = (k: number) => `mcb-${LAB}-g${k}`;
const inGuest = (k: number, args: string[], timeoutMs = 40000) =>
  new Running(spawn('ip', ['netns', 'exec', netns(k), process.execPath, MCBENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
const read = (k: number, file: string) => spawnSync('ip', ['netns', 'exec', netns(k), 'cat', file], { encoding: 'utf8' }).stdout;

function udpIn(k: number, family: 'ipv4' | 'ipv6'): number {
  const text = read(k, family === 'ipv6' ? '/proc/net/snmp6' : '/proc/net/snmp');
  if (family === 'ipv6') return Number(/^Udp6InDatagrams\s+(\d+)/m.exec(text)![1]);
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf('InDatagrams')]);
}
const rxPackets = (k: number) => Number(/eth0:\s*\d+\s+(\d+)/.exec(read(k, '/proc/net/dev'))![1]);

function address(k: number, family: 'ipv4' | 'ipv6'): string {
  const rows = JSON.parse(spawnSync('ip', ['-n', netns(k), '-j', family === 'ipv6' ? '-6' : '-4', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout) as Array<{ addr_info: Array<{ local: string; scope: string }> }>;
  return rows[0]!.addr_info.find((a) => a.scope === 'global')!.local;
}

describe.skipIf(!isRoot)('SSM: a receiver joined (S,G) for one of two senders to one group and port', () => {
  beforeAll(() => {
    spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]);
    const up = spawnSync(process.execPath, [MCBENCH, 'lab', 'up', '--name', LAB, '--guests', '3'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(up.stderr);
  }, 60000);
  afterAll(() => void spawnSync(process.execPath, [MCBENCH, 'lab', 'down', '--name', LAB]));

  for (const [family, group] of [['ipv6', 'ff3e::1:201'], ['ipv4', '232.1.1.201']] as const) {
    it(`${family} ${group}: the other source is not delivered to the socket, nor counted`, async () => {
      const wanted = address(1, family);
      const other = address(3, family);
      const rxFile = join(dir, `${family}-recv.json`);
      const inBefore = udpIn(2, family);
      const rxPktsBefore = rxPackets(2);
      const rx = inGuest(2, ['recv', '-g', group, '-p', '5401', '-I', 'eth0', '--source', wanted, '--rcvbuf', '8M', '--rcvbuf-force', '-t', '4', '-i', '0', '--json', rxFile]);
      await rx.waitFor('listening on');
      // the kernel's view: the socket's source filter (INCLUDE the one source)
      const filter = read(2, family === 'ipv6' ? '/proc/net/mcfilter6' : '/proc/net/mcfilter');
      const hex = family === 'ipv6'
        ? (a: string) => spawnSync('python3', ['-c', `import ipaddress;print(ipaddress.ip_address('${a}').packed.hex())`], { encoding: 'utf8' }).stdout.trim()
        : (a: string) => `0x${a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
      const rows = filter.split('\n').filter((l) => l.includes(hex(group)));
      expect(rows, filter).toHaveLength(1);
      // Idx Device Group Source INC EXC: the wanted source, included once, excluded by none
      expect(rows[0]!.trim().split(/\s+/).slice(3)).toEqual([hex(wanted), '1', '0']);
      const send = (k: number, n: string) => inGuest(k, ['send', '-g', group, '-p', '5401', '-I', 'eth0', '--pps', '4000', '-n', n, '-l', '300', '-i', '0', '--json', join(dir, `${family}-send-g${k}.json`), '-q']).done;
      const [a, b] = await Promise.all([send(1, '4000'), send(3, '3000')]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const r = await rx.done;
      expect(r.code, r.stderr).toBe(0);
      const sentA = (JSON.parse(readFileSync(join(dir, `${family}-send-g1.json`), 'utf8')) as SenderResult).end.packets;
      const sentB = (JSON.parse(readFileSync(join(dir, `${family}-send-g3.json`), 'utf8')) as SenderResult).end.packets;
      const got = JSON.parse(readFileSync(rxFile, 'utf8')) as ReceiverResult;
      expect(got.start.config.source).toEqual([wanted]);
      // one session, the wanted sender's, complete; nothing of the other one seen at all
      expect(got.end.sessions).toHaveLength(1);
      expect(got.end.sum).toMatchObject({ packets: sentA, lost_packets: 0, expected_packets: sentA });
      expect(got.end.foreign_source_packets).toBe(0);
      expect(got.end.foreign_packets).toBe(0);
      // the session's source as the kernel gave it (recvmmsg's address): the wanted sender's
      expect(got.end.sessions[0]!.source).toMatch(family === 'ipv6' ? new RegExp(`^\\[${wanted}\\]:\\d+$`) : new RegExp(`^${wanted.replace(/\./g, '\\.')}:\\d+$`));
      // the kernel delivered to UDP sockets exactly what mcbench read: the other source's
      // datagrams were dropped by the source filter before UDP
      const delivered = udpIn(2, family) - inBefore;
      expect(delivered).toBe(got.end.datagrams);
      expect(got.end.datagrams).toBeLessThanOrEqual(sentA + 5);
      // ... though they reached the guest's interface
      const arrived = rxPackets(2) - rxPktsBefore;
      expect(arrived).toBeGreaterThanOrEqual(sentA + sentB);
      console.log(`SSM ${family} ${group} source ${wanted}: ${wanted} sent ${sentA}, ${other} sent ${sentB}; received ${got.end.sum.packets} in ${got.end.sessions.length} session; eth0 rx_packets +${arrived}; ${family === 'ipv6' ? 'Udp6' : 'Udp'} InDatagrams +${delivered}; mcfilter: ${rows[0]!.trim()}`);
    }, 60000);
  }
});

describe('SSM flags', () => {
  it('a source on an ASM group is allowed, with a note (exit 0)', async () => {
    // 127.0.0.1 on lo: -I lo (nothing leaves the host); the run ends at once (-t 0.2, no traffic)
    const r = await new Running(spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && ip link set lo multicast on && exec "${process.execPath}" "${MCBENCH}" recv -g 239.1.2.3 -I lo --source 127.0.0.1 -t 0.2 -i 0`], { stdio: ['ignore', 'pipe', 'pipe'] }), 15000).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/note: 239.1.2.3 is not in an SSM range; joining it for the given source only/);
  });
  it('an SSM group without --source is exit 2, one line', async () => {
    const r = await mcbenchNoNet(['recv', '-g', 'ff35::1']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^mcbench recv: --source: ff35::1 is a source-specific group \(ff3x::\/32, RFC 4607\)/);
  });
});
