// Kernel drop counters: parsers on text captured from this machine (test/fixtures/counters) and
// hand-written edge cases, attribution arithmetic with hand-computed answers, and one real run in
// a private namespace that checks the kernel's counters against each other and against mcbench.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  attributeLoss, attributeSendLoss, diffDropCounters, formatAttribution, formatSendLoss, parseNetDev, parseRouteGet,
  parseSoftnetStat, parseTcQdisc, parseUdpSnmp,
  sysfsMatchesNetDev, type DropCounterDelta, type DropCounters, type NetDevCounters, type SysfsNetStats,
} from '../src/core/counters.js';
import { readDropCounters, readQdisc, receiveInterface, routeDevice } from '../src/host/counters.js';
import type { ReceiverResult, SenderResult } from '../src/core/result.js';
import { ROOT, TestNetns } from './helpers/netns.js';

const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'counters', name), 'utf8');

describe('/proc/net/snmp Udp', () => {
  it('reads the captured file by header name', () => {
    expect(parseUdpSnmp(fixture('snmp.host.txt'))).toEqual({
      InDatagrams: 81, NoPorts: 0, InErrors: 0, OutDatagrams: 980, RcvbufErrors: 0, SndbufErrors: 0,
      InCsumErrors: 0, IgnoredMulti: 0, MemErrors: 0,
    });
    // Captured in a namespace after a --rcvbuf 4K --test-read-pause 1.2 run (4000 DATA + 5 FIN sent).
    expect(parseUdpSnmp(fixture('snmp.netns-overflow.txt'))).toMatchObject({ InDatagrams: 2776, InErrors: 1229, OutDatagrams: 4005, RcvbufErrors: 1229 });
    // After an htb + pfifo limit 2 qdisc dropped 994 sends: counted as SndbufErrors (no IP_RECVERR).
    expect(parseUdpSnmp(fixture('snmp.netns-qdisc-drops.txt'))?.SndbufErrors).toBe(994);
  });

  it('tolerates extra and reordered columns; older kernels lack the optional ones', () => {
    const extra = 'Udp: Future RcvbufErrors InDatagrams NoPorts InErrors OutDatagrams SndbufErrors IgnoredMulti Other\nUdp: 7 5 1 2 3 4 6 8 9\n';
    expect(parseUdpSnmp(extra)).toEqual({
      InDatagrams: 1, NoPorts: 2, InErrors: 3, OutDatagrams: 4, RcvbufErrors: 5, SndbufErrors: 6,
      InCsumErrors: null, IgnoredMulti: 8, MemErrors: null,
    });
    const old = 'Ip: A\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 10 0 3 12 3 0\n';
    expect(parseUdpSnmp(old)).toMatchObject({ InErrors: 3, RcvbufErrors: 3, InCsumErrors: null, IgnoredMulti: null });
  });

  it('missing Udp lines, a missing required column or garbage give null', () => {
    const noUdp = fixture('snmp.host.txt').split('\n').filter((l) => !l.startsWith('Udp:')).join('\n');
    expect(noUdp).toContain('UdpLite:'); // UdpLite is not mistaken for Udp
    expect(parseUdpSnmp(noUdp)).toBeNull();
    expect(parseUdpSnmp('Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n')).toBeNull();
    expect(parseUdpSnmp('Udp: InDatagrams NoPorts InErrors OutDatagrams SndbufErrors\nUdp: 1 2 3 4 5\n')).toBeNull();
    expect(parseUdpSnmp('Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 1 2 x 4 5 6\n')).toBeNull();
    expect(parseUdpSnmp('Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 1 2 3 4 5\n')).toBeNull();
    expect(parseUdpSnmp('')).toBeNull();
    expect(parseUdpSnmp('\u0000\u0001garbage')).toBeNull();
  });
});

describe('/proc/net/softnet_stat', () => {
  it('sums the hex columns over CPUs', () => {
    // 0xebd6 + 0x19329 processed; two CPUs; nothing dropped or squeezed
    expect(parseSoftnetStat(fixture('softnet_stat.host.txt'))).toEqual({ processed: 60374 + 103209, dropped: 0, time_squeeze: 0, cpus: 2 });
    // an older kernel's 10 columns, with drops and squeezes
    const old = '0000000a 00000010 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n' +
      '000000ff 0000000f 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n';
    expect(parseSoftnetStat(old)).toEqual({ processed: 10 + 255, dropped: 16 + 15, time_squeeze: 3, cpus: 2 });
  });

  it('short rows, non-hex or empty text give null', () => {
    expect(parseSoftnetStat('')).toBeNull();
    expect(parseSoftnetStat('0000000a 00000001\n')).toBeNull();
    expect(parseSoftnetStat('0000000a zz 00000001\n')).toBeNull();
    expect(parseSoftnetStat('<html>not found</html>')).toBeNull();
  });
});

describe('/proc/net/dev', () => {
  it('reads every device row; drop is the kernel sum rx_dropped + rx_missed_errors', () => {
    const host = parseNetDev(fixture('dev.host.txt'))!;
    expect([...host.keys()]).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(host.get('eth0')).toEqual({
      rx_bytes: 203478743, rx_packets: 5921, rx_errors: 0, rx_drop: 0, rx_fifo: 0, rx_multicast: 0,
      tx_bytes: 1817924, tx_packets: 5616, tx_errors: 0, tx_dropped: 0, rx_missed_errors: null,
    });
    const ns = parseNetDev(fixture('dev.netns.txt'))!;
    expect([...ns.keys()]).toEqual(['lo']); // namespace-aware: only the namespace's lo
    expect(ns.get('lo')).toMatchObject({ rx_packets: 4008, tx_packets: 4008, rx_drop: 0 });
  });

  it('a name glued to its first number, and errors in every column', () => {
    const text = 'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      'enp3s0f1:12345678901 20 1 2 3 4 5 6 7000 80 9 10 11 12 13 14 15\n';
    expect(parseNetDev(text)!.get('enp3s0f1')).toEqual({
      rx_bytes: 12345678901, rx_packets: 20, rx_errors: 1, rx_drop: 2, rx_fifo: 3, rx_multicast: 6,
      tx_bytes: 7000, tx_packets: 80, tx_errors: 9, tx_dropped: 10, rx_missed_errors: null,
    });
    expect(parseNetDev(text.split('\n').slice(0, 2).join('\n'))!.size).toBe(0);
  });

  it('a wrong header, a short row or garbage give null', () => {
    const header = fixture('dev.host.txt').split('\n').slice(0, 2).join('\n');
    expect(parseNetDev(`${header}\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n`)).toBeNull();
    expect(parseNetDev(`${header}\n  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`)).toBeNull();
    expect(parseNetDev(`${header}\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -1\n`)).toBeNull();
    expect(parseNetDev('lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toBeNull();
    expect(parseNetDev('')).toBeNull();
  });

  it('sysfs is trusted only when its counters bracket the /proc/net/dev row', () => {
    const proc = parseNetDev(fixture('dev.netns.txt'))!.get('lo')!;
    const sys = (d: NetDevCounters, more = 0, missed = 0): SysfsNetStats => ({
      rx_bytes: d.rx_bytes + more, rx_packets: d.rx_packets + more, rx_errors: d.rx_errors, rx_dropped: d.rx_drop - missed,
      rx_missed_errors: missed, rx_fifo_errors: d.rx_fifo, multicast: d.rx_multicast, tx_bytes: d.tx_bytes + more,
      tx_packets: d.tx_packets + more, tx_errors: d.tx_errors, tx_dropped: d.tx_dropped,
    });
    expect(sysfsMatchesNetDev(sys(proc), proc, sys(proc))).toBe(true);
    expect(sysfsMatchesNetDev(sys(proc), proc, sys(proc, 100))).toBe(true); // traffic between the reads
    // the host's lo seen through sysfs from inside a namespace: different counters
    const hostLo = parseNetDev(fixture('dev.host.txt'))!.get('lo')!;
    expect(sysfsMatchesNetDev(sys(hostLo), proc, sys(hostLo))).toBe(false);
    // same everything but drops split differently from what /proc/net/dev shows
    const dropped = { ...proc, rx_drop: 5 };
    expect(sysfsMatchesNetDev(sys(dropped, 0, 2), dropped, sys(dropped, 0, 2))).toBe(true);
    expect(sysfsMatchesNetDev(sys(dropped, 0, 2), { ...dropped, rx_drop: 4 }, sys(dropped, 0, 2))).toBe(false);
  });
});

describe('tc qdisc and ip route JSON', () => {
  it('root qdiscs only: a classful root already counts its children', () => {
    expect(parseTcQdisc(fixture('tc-qdisc.eth0.json'))).toEqual({ drops: 0, overlimits: 0, backlog: 0, qlen: 0, qdiscs: 1 });
    // htb root (994 drops) + pfifo child (the same 994) + ingress: 994, not 1988
    expect(parseTcQdisc(fixture('tc-qdisc.htb-drops.json'))).toEqual({ drops: 994, overlimits: 11, backlog: 0, qlen: 0, qdiscs: 1 });
    expect(parseTcQdisc(fixture('tc-qdisc.none.json'))).toEqual({ drops: 0, overlimits: 0, backlog: 0, qlen: 0, qdiscs: 0 });
  });

  it('not a list, a non-numeric root or garbage give null', () => {
    expect(parseTcQdisc('')).toBeNull();
    expect(parseTcQdisc('{"drops":1}')).toBeNull();
    expect(parseTcQdisc('[{"kind":"mq","root":true,"drops":"1","overlimits":0,"backlog":0,"qlen":0}]')).toBeNull();
    expect(parseTcQdisc('[1,2]')).toBeNull();
    expect(parseTcQdisc('Cannot find device "x"')).toBeNull();
  });

  it('ip -j route get gives the device', () => {
    expect(parseRouteGet(fixture('ip-route-get.eth0.json'))).toBe('eth0');
    expect(parseRouteGet(fixture('ip-route-get.lo.json'))).toBe('lo');
    expect(parseRouteGet('[]')).toBeNull();
    expect(parseRouteGet('[{"dst":"239.1.1.1"}]')).toBeNull();
    expect(parseRouteGet('RTNETLINK answers: Network is unreachable')).toBeNull();
  });
});

describe('readers on this host (no namespace)', () => {
  it('read typed numbers, or null for what does not exist', () => {
    const c = readDropCounters('lo');
    expect(c.udp).toMatchObject({ scope: 'namespace', counters: { InDatagrams: expect.any(Number) as number } });
    expect(c.softnet.scope).toBe('host');
    expect(c.softnet.counters?.cpus).toBeGreaterThan(0);
    expect(c.interface.counters?.rx_packets).toEqual(expect.any(Number));
    expect(c.qdisc.counters?.qdiscs).toEqual(expect.any(Number));
    expect(readDropCounters('nosuch0')).toMatchObject({ interface: { counters: null }, qdisc: { counters: null } });
    expect(readDropCounters('lo', { qdisc: false }).qdisc.counters).toBeNull();
    expect(readQdisc('nosuch0')).toBeNull();
    expect(routeDevice('not-an-address')).toBeNull();
    expect(receiveInterface('239.1.1.1', '127.0.0.1')).toBe('lo');
    expect(receiveInterface('239.1.1.1', 'eth7')).toBe('eth7');
    expect(receiveInterface('239.1.1.1', '203.0.113.254')).toBeNull();
  });
});

// ---------------------------------------------------------------- deltas and attribution

function counters(over: {
  iface?: string | null; rcvbuf?: number; softnetDropped?: number; cpus?: number; rxDrop?: number; rxFifo?: number; qdiscDrops?: number;
} = {}): DropCounters {
  return {
    iface: over.iface === undefined ? 'eth1' : over.iface,
    udp: { scope: 'namespace', counters: {
      InDatagrams: 1000, NoPorts: 0, InErrors: over.rcvbuf ?? 0, OutDatagrams: 5, RcvbufErrors: over.rcvbuf ?? 0, SndbufErrors: 2,
      InCsumErrors: 0, IgnoredMulti: null, MemErrors: 0,
    } },
    softnet: { scope: 'host', counters: { processed: 10, dropped: over.softnetDropped ?? 0, time_squeeze: 1, cpus: over.cpus ?? 2 } },
    interface: { scope: 'interface', counters: {
      rx_bytes: 1, rx_packets: 1, rx_errors: 0, rx_drop: over.rxDrop ?? 0, rx_fifo: over.rxFifo ?? 0, rx_multicast: 0,
      tx_bytes: 1, tx_packets: 1, tx_errors: 0, tx_dropped: 3, rx_missed_errors: null,
    } },
    qdisc: { scope: 'interface', counters: { drops: over.qdiscDrops ?? 0, overlimits: 0, backlog: 1500, qlen: 1, qdiscs: 1 } },
  };
}

/** the delta of the counters() defaults to the given figures */
const delta = (over: Parameters<typeof counters>[0]): DropCounterDelta => diffDropCounters(counters(), counters(over));

describe('diffDropCounters', () => {
  it('subtracts counters, keeps gauges, keeps scopes', () => {
    const d = diffDropCounters(counters(), counters({ rcvbuf: 7, softnetDropped: 4, rxDrop: 9, qdiscDrops: 11 }));
    expect(d.iface).toBe('eth1');
    expect(d.udp).toEqual({ scope: 'namespace', counters: {
      InDatagrams: 0, NoPorts: 0, InErrors: 7, OutDatagrams: 0, RcvbufErrors: 7, SndbufErrors: 0, InCsumErrors: 0, IgnoredMulti: null, MemErrors: 0,
    } });
    expect(d.softnet).toEqual({ scope: 'host', counters: { processed: 0, dropped: 4, time_squeeze: 0, cpus: 2 } });
    expect(d.interface.counters).toMatchObject({ rx_drop: 9, tx_dropped: 0, rx_missed_errors: null });
    expect(d.qdisc).toEqual({ scope: 'interface', counters: { drops: 11, overlimits: 0, backlog: 1500, qlen: 1, qdiscs: 1 } });
  });

  it('is null where either side is null, a counter went backwards, the CPUs or the device changed', () => {
    const a = counters({ rcvbuf: 5 });
    const none: DropCounters = { ...a, udp: { scope: 'namespace', counters: null }, softnet: { scope: 'host', counters: null } };
    expect(diffDropCounters(none, a).udp.counters).toBeNull();
    expect(diffDropCounters(a, none).softnet.counters).toBeNull();
    expect(diffDropCounters(a, counters({ rcvbuf: 2 })).udp.counters).toMatchObject({ RcvbufErrors: null, InDatagrams: 0 });
    expect(diffDropCounters(a, counters({ cpus: 3 })).softnet.counters).toBeNull();
    const moved = diffDropCounters(a, counters({ iface: 'eth2' }));
    expect(moved.interface.counters).toBeNull();
    expect(moved.qdisc.counters).toBeNull();
    expect(moved.udp.counters).not.toBeNull();
  });
});

describe('attributeLoss', () => {
  it('the example: 31,002 of 1,000,000 lost, 29,000 by socket overflow', () => {
    const a = attributeLoss({ expected: 1_000_000, lost: 31_002, socketOverflow: 29_000, delta: delta({}) });
    expect(a.socket_buffer).toEqual({ count: 29_000, percent: 2.9, scope: 'socket', shared: false });
    expect(a.backlog).toEqual({ count: 0, percent: 0, scope: 'host', shared: true });
    expect(a.interface).toEqual({ count: 0, percent: 0, scope: 'interface', shared: true });
    expect(a.unaccounted).toEqual({ count: 2_002, percent: 0.2002, scope: null, shared: false });
    expect(formatAttribution(a)).toBe('lost 3.10% (31,002): socket buffer full 2.90% · backlog 0.00% · interface 0.00% · unaccounted 0.20%');
  });

  it('each part is capped at what the earlier ones left; interface is net of backlog drops', () => {
    // lost 100 of 1000: socket 60 -> 40 left; backlog 30 -> 10 left; interface (50 + 5) - 30 = 25, capped at 10
    const a = attributeLoss({ expected: 1000, lost: 100, socketOverflow: 60, delta: delta({ softnetDropped: 30, rxDrop: 50, rxFifo: 5 }) });
    expect([a.socket_buffer.count, a.backlog.count, a.interface.count, a.unaccounted.count]).toEqual([60, 30, 10, 0]);
    expect([a.socket_buffer.percent, a.backlog.percent, a.interface.percent, a.unaccounted.percent]).toEqual([6, 3, 1, 0]);
    expect(formatAttribution(a)).toBe(
      'lost 10.00% (100): socket buffer full 6.00% · backlog* 3.00% · interface‡ 1.00% · unaccounted 0.00%\n' +
        '* host-wide counter: other traffic may add to it\n' +
        '‡ interface counter (eth1): other traffic on the interface may add to it',
    );
    // interface drops that are all backlog drops counted twice by the kernel add nothing
    const b = attributeLoss({ expected: 1000, lost: 100, socketOverflow: 0, delta: delta({ softnetDropped: 30, rxDrop: 30 }) });
    expect([b.socket_buffer.count, b.backlog.count, b.interface.count, b.unaccounted.count]).toEqual([0, 30, 0, 70]);
  });

  it('socket overflow beyond the loss (dropped FIN copies) is capped at the loss', () => {
    const a = attributeLoss({ expected: 4000, lost: 1229, socketOverflow: 1231, delta: delta({ softnetDropped: 3 }) });
    expect([a.socket_buffer.count, a.backlog.count, a.interface.count, a.unaccounted.count]).toEqual([1229, 0, 0, 0]);
    expect(a.lost_percent).toBeCloseTo(30.725, 9);
  });

  it('nothing expected, nothing lost: zeros, not NaN', () => {
    const a = attributeLoss({ expected: 0, lost: 0, socketOverflow: 0, delta: delta({ softnetDropped: 8 }) });
    expect(a.lost_percent).toBe(0);
    expect(formatAttribution(a)).toBe('lost 0.00% (0): socket buffer full 0.00% · backlog 0.00% · interface 0.00% · unaccounted 0.00%');
  });

  it('no counter explains it: all unaccounted', () => {
    const a = attributeLoss({ expected: 2000, lost: 500, socketOverflow: 0, delta: delta({}) });
    expect(a.unaccounted).toEqual({ count: 500, percent: 25, scope: null, shared: false });
    expect(formatAttribution(a)).toBe('lost 25.00% (500): socket buffer full 0.00% · backlog 0.00% · interface 0.00% · unaccounted 25.00%');
  });

  it('unreadable counters are n/a and their share stays unaccounted', () => {
    const d = delta({ softnetDropped: 5 });
    const blind: DropCounterDelta = { ...d, iface: null, udp: { scope: 'namespace', counters: null }, softnet: { scope: 'host', counters: null }, interface: { scope: 'interface', counters: null } };
    const a = attributeLoss({ expected: 100, lost: 10, socketOverflow: null, delta: blind });
    expect([a.socket_buffer.count, a.backlog.count, a.interface.count, a.unaccounted.count]).toEqual([null, null, null, 10]);
    expect(formatAttribution(a)).toBe('lost 10.00% (10): socket buffer full n/a · backlog n/a · interface n/a · unaccounted 10.00%');
    // without softnet the interface figure is not reduced by backlog drops
    const noSoftnet: DropCounterDelta = { ...delta({ rxDrop: 4 }), softnet: { scope: 'host', counters: null } };
    expect(attributeLoss({ expected: 100, lost: 10, socketOverflow: 0, delta: noSoftnet }).interface.count).toBe(4);
  });

  it('without SO_RXQ_OVFL the namespace RcvbufErrors stands in, marked shared', () => {
    const a = attributeLoss({ expected: 1000, lost: 40, socketOverflow: null, delta: delta({ rcvbuf: 30 }) });
    expect(a.socket_buffer).toEqual({ count: 30, percent: 3, scope: 'namespace', shared: true });
    expect(formatAttribution(a)).toBe(
      'lost 4.00% (40): socket buffer full† 3.00% · backlog 0.00% · interface 0.00% · unaccounted 1.00%\n' +
        '† namespace-wide counter (UDP RcvbufErrors): other sockets may add to it',
    );
  });
});

describe('attributeSendLoss', () => {
  it('one line from the sender counts and the counter deltas', () => {
    const s = attributeSendLoss({ enobufs: 3, eagain: 1200, delta: delta({ qdiscDrops: 994 }) });
    expect(s).toEqual({ enobufs: 3, eagain: 1200, sndbuf_errors: 0, qdisc_drops: 994, tx_dropped: 0, iface: 'eth1' });
    expect(formatSendLoss(s)).toBe('send side: ENOBUFS 3 · EAGAIN 1,200 · UDP SndbufErrors 0 (namespace-wide) · qdisc drops 994 (eth1) · tx_dropped 0 (eth1)');
    const blind = attributeSendLoss({ enobufs: 0, eagain: 0, delta: diffDropCounters(counters({ iface: null }), { ...counters({ iface: null }), udp: { scope: 'namespace', counters: null } }) });
    expect(formatSendLoss(blind)).toBe('send side: ENOBUFS 0 · EAGAIN 0 · UDP SndbufErrors n/a (namespace-wide) · qdisc drops 0 · tx_dropped 0');
  });
});

// ---------------------------------------------------------------- the real thing, in a namespace

describe('cross-check in a private namespace', () => {
  const GROUP = '239.255.10.1';
  const COUNTERS_JS = join(ROOT, 'dist', 'host', 'counters.js');

  it('UDP RcvbufErrors delta = SO_RXQ_OVFL of the receiver, and the sender\'s count = delivered + dropped', async () => {
    expect(existsSync(COUNTERS_JS), 'run `npx tsc -p .` first: the namespace reads counters with dist/host/counters.js').toBe(true);
    const ns = await TestNetns.create();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'mcbench-counters-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      // Read inside the namespace: /proc/net/snmp and /proc/net/dev are the namespace's there.
      const script = `const c = await import(${JSON.stringify(pathToFileURL(COUNTERS_JS).href)});` +
        `console.log(JSON.stringify(c.readDropCounters(c.receiveInterface(${JSON.stringify(GROUP)}, null))));`;
      const read = async (): Promise<DropCounters> => {
        const r = await ns.run(process.execPath, ['--input-type=module', '-e', script]);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as DropCounters;
      };
      const before = await read();
      expect(before.iface).toBe('lo'); // the namespace's multicast route
      const rx = ns.mcbench(['recv', '-g', GROUP, '-p', '5201', '-t', '20', '--rcvbuf', '4K', '--test-read-pause', '1.2', '--json', join(dir, 'recv.json')]);
      await rx.waitFor('listening on');
      const tx = await ns.mcbench(['send', '-g', GROUP, '-p', '5201', '--pps', '2000', '-l', '1000', '-t', '2', '--json', join(dir, 'send.json')]).done;
      expect(tx.code, tx.stderr).toBe(0);
      const r = await rx.done;
      expect(r.code, r.stderr).toBe(0);
      const after = await read();

      const got = JSON.parse(readFileSync(join(dir, 'recv.json'), 'utf8')) as ReceiverResult;
      const sent = (JSON.parse(readFileSync(join(dir, 'send.json'), 'utf8')) as SenderResult).end;
      const lost = got.end.sum.lost_packets;
      const udp = diffDropCounters(before, after).udp.counters!;
      expect(lost).toBeGreaterThan(1000);
      // the namespace-wide counter and the socket's own counter agree (one socket in the namespace)
      expect(udp.RcvbufErrors).toBe(got.end.socket_overflow_drops);
      expect(udp.RcvbufErrors!).toBeGreaterThanOrEqual(lost);
      expect(udp.RcvbufErrors!).toBeLessThanOrEqual(lost + 5); // FIN copies may drop too
      // every datagram the sender counted (DATA + FIN) was either read by the receiver or dropped
      expect(udp.OutDatagrams).toBe(sent.packets + sent.fins_sent);
      expect(udp.InDatagrams).toBe(got.end.datagrams);
      expect(udp.InDatagrams! + udp.RcvbufErrors!).toBe(udp.OutDatagrams);

      const d = diffDropCounters(before, after);
      const a = attributeLoss({ expected: got.end.sum.expected_packets, lost, socketOverflow: got.end.socket_overflow_drops, delta: d });
      expect(a.socket_buffer.count).toBe(lost);
      expect(a.unaccounted.count).toBe(0);
      expect(formatAttribution(a)).toMatch(/^lost \d+\.\d\d% \([\d,]+\): socket buffer full \d+\.\d\d% · backlog\*? 0\.00% · interface‡? 0\.00% · unaccounted 0\.00%/);
      // /proc/net/dev is the namespace's lo: it carried every datagram (DATA, FIN, and the IGMP reports)
      expect(d.interface.counters!.rx_packets!).toBeGreaterThanOrEqual(udp.OutDatagrams!);
      // /sys is the host's: its lo is not this namespace's, so rx_missed_errors is not taken from it
      expect(after.interface.counters!.rx_missed_errors).toBeNull();
    } finally {
      await ns.close();
    }
  });
});
