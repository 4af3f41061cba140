// send --burst / --isochronous, checked against the kernel's receive stamps (SO_TIMESTAMPNS) of a
// python receiver in a private namespace: the datagrams are grouped by the silences between them
// (truth mcbench did not produce) and the groups must be the bursts or frames asked for; the
// sender's own account of the achieved pattern must agree. Bad values are exit 2, one line.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SenderResult } from '../src/core/result.js';
import { mcbenchNoNet, Running, TestNetns } from './helpers/netns.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'mcbench-patterns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every DATA datagram until 1.5 s of quiet: [kernel receive stamp ns, length, sequence, send stamp].
const PY_RECEIVER = `
import socket, struct, sys, json
group, port = sys.argv[1], int(sys.argv[2])
SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 1 << 23)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, struct.pack('4s4s', socket.inet_aton(group), socket.inet_aton('127.0.0.1')))
print('listening', flush=True)
s.settimeout(6)
out, fins = [], 0
while True:
    try:
        b, anc, _, _ = s.recvmsg(70000, 64)
    except socket.timeout:
        break
    s.settimeout(1.5)
    if b[:4] != b'MCB1':
        continue
    if b[5] == 2:
        fins += 1
        continue
    ns = -1
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack('qq', data[:16])
            ns = sec * 1000000000 + nsec
    out.append([ns, len(b), struct.unpack('>Q', b[16:24])[0], struct.unpack('>Q', b[24:32])[0]])
print(json.dumps({'fins': fins, 'data': out}), flush=True)
`;

type Datagram = [stampNs: number, length: number, seq: number, sendStamp: number];

/**
 * Datagrams in arrival order, cut where the scheduled send time in their headers changes (every
 * datagram of a burst or frame carries its unit's time): the units as the sender meant them, whose
 * kernel stamps are then the truth of when each really arrived.
 */
function units(data: Datagram[]): Datagram[][] {
  const out: Datagram[][] = [];
  let prev = -1;
  for (const d of data) {
    if (d[3] !== prev) out.push([]);
    out.at(-1)!.push(d);
    prev = d[3];
  }
  return out;
}

/** Per unit: its first kernel stamp, the gaps between those (ms), and each unit's span (first to last, ms). */
function timing(us: Datagram[][]): { starts: number[]; gaps: number[]; spans: number[]; meanGap: number; medianGap: number } {
  const starts = us.map((u) => u[0]![0]);
  const gaps = starts.slice(1).map((s, i) => (s - starts[i]!) / 1e6);
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    starts,
    gaps,
    spans: us.map((u) => (u.at(-1)![0] - u[0]![0]) / 1e6),
    meanGap: gaps.reduce((a, b) => a + b, 0) / gaps.length,
    medianGap: sorted[Math.floor(sorted.length / 2)]!,
  };
}

describe('pattern flags: bad values are exit 2 with one line, before anything is sent', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--burst', '0', '--burst-interval', '1'], /^mcbench send: --burst: 0 is out of range \(1 to 65536\)$/],
    [['--burst', '10'], /--burst: give the time between bursts with --burst-interval/],
    [['--burst-interval', '0.1'], /--burst-interval: give the burst size with --burst N/],
    [['--burst', '10', '--burst-interval', '0.00001'], /--burst-interval: 0\.00001 s is out of range \(0\.0001 s to 3600 s\)/],
    [['--burst', '10', '--burst-interval', '0.1', '-b', '1M'], /--burst: the pattern sets the rate; drop -b\/--bandwidth/],
    [['--isochronous', '60:'], /--isochronous: '60:' is not FPS:MEAN\[,STDDEV\]/],
    [['--isochronous', 'x:2M'], /--isochronous: FPS 'x' is not a frame rate/],
    [['--isochronous', '60:2M,0.5M', '--gso'], /--isochronous: cannot be combined with --gso/],
    [['--isochronous', '60:2M', '--burst', '3', '--burst-interval', '1'], /--burst and --isochronous: give one traffic pattern, not both/],
    [['--isochronous', '1:1G'], /a mean frame of 125000000 bytes \(48, one datagram's header, to 67108864\)/],
    [['--isochronous', '100:10K'], /--isochronous: 10000 bit\/s at 100 frames\/s is a mean frame of 12\.5 bytes \(48, one datagram's header, to 67108864\)/],
    [['--seed', '3'], /--seed: seeds the frame sizes of --isochronous/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await mcbenchNoNet(['send', '-g', '239.1.1.1', ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }
  it('bare --isochronous is iperf2\'s default, 60:20M,0; the rate a pattern implies is the sender\'s target', async () => {
    const { sendSpec } = await import('../src/core/spec.js');
    const iso = sendSpec({ group: '239.1.1.1', port: '5001', isochronous: true });
    expect(iso.pattern).toEqual({ kind: 'isochronous', framesPerSecond: 60, meanBitsPerSecond: 20e6, stddevBitsPerSecond: 0, seed: 1 });
    expect(iso.bitsPerSecond).toBe(20e6);
    const burst = sendSpec({ group: '239.1.1.1', port: '5001', burst: '1000', 'burst-interval': '0.5', length: '1400' });
    expect(burst.pattern).toEqual({ kind: 'burst', datagrams: 1000, intervalSeconds: 0.5 });
    expect(burst.pps).toBe(2000);
    expect(burst.bitsPerSecond).toBe(2000 * 1400 * 8);
  });
  it('run takes them too (checked before any lab is made)', async () => {
    const r = await mcbenchNoNet(['run', '--local', '--burst', '5']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(/^mcbench run: --burst: give the time between bursts with --burst-interval/);
  });
});

describe.skipIf(!isRoot)('patterns against kernel receive stamps, in a private namespace on lo', () => {
  let ns: TestNetns;
  beforeAll(async () => {
    ns = await TestNetns.withMulticastLo();
  });
  afterAll(() => ns?.close());

  async function capture(port: number, sendArgs: string[], name: string): Promise<{ sent: SenderResult; data: Datagram[]; fins: number }> {
    const py = new Running(ns.spawn('python3', ['-c', PY_RECEIVER, '239.7.8.1', String(port)]), 30000);
    await py.waitFor('listening');
    const file = join(dir, `${name}.json`);
    const tx = await ns.mcbench(['send', '-g', '239.7.8.1', '-p', String(port), '-I', 'lo', '-i', '0', '-q', '--json', file, ...sendArgs]).done;
    expect(tx.code, tx.stderr).toBe(0);
    const out = await py.done;
    const got = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { fins: number; data: Datagram[] };
    return { sent: JSON.parse(readFileSync(file, 'utf8')) as SenderResult, ...got };
  }

  it('--burst 50 --burst-interval 0.05: bursts of 50 back to back, their starts 50 ms apart', async () => {
    const { sent, data, fins } = await capture(5031, ['--burst', '50', '--burst-interval', '0.05', '-l', '200', '-t', '1'], 'burst');
    const p = sent.end.pattern!;
    expect(sent.start.config.pattern).toMatchObject({ kind: 'burst', burst_datagrams: 50, burst_interval_seconds: 0.05 });
    expect(fins).toBe(5);
    expect(data.length).toBe(sent.end.packets);
    const bursts = units(data);
    expect(bursts.length).toBe(p.units);
    expect(bursts.length).toBeGreaterThanOrEqual(19);
    let seq = 0;
    for (const b of bursts) {
      expect(b.length).toBe(50);
      // in order and consecutive
      expect(b.map((d) => d[2])).toEqual(Array.from({ length: 50 }, (_, i) => seq + i));
      seq += 50;
    }
    // the kernel's stamps: each burst arrived back to back, the bursts 50 ms apart
    const { gaps, spans, meanGap, medianGap } = timing(bursts);
    console.log(`burst: ${bursts.length} bursts of 50 seen; kernel gap mean ${meanGap.toFixed(3)} ms (min ${Math.min(...gaps).toFixed(3)}, max ${Math.max(...gaps).toFixed(3)}), burst span max ${Math.max(...spans).toFixed(3)} ms; sender says gap mean ${p.gap_mean_ms!.toFixed(3)} ms, max ${p.gap_max_ms!.toFixed(3)} ms, span max ${p.span_max_ms!.toFixed(3)} ms, ${p.calls_per_unit_mean} sendmmsg per burst`);
    // the schedule is absolute (burst k at k x 50 ms): the mean gap holds even when one burst
    // is late on a loaded host (its gap longer, the next one shorter by as much)
    expect(Math.abs(meanGap - 50)).toBeLessThan(1.5);
    expect(Math.abs(medianGap - 50)).toBeLessThan(3);
    // back to back: a whole burst within a small part of the interval
    expect(Math.max(...spans)).toBeLessThan(15);
    // a burst's datagrams far closer to each other than to the next burst's
    expect(Math.min(...gaps)).toBeGreaterThan(Math.max(...spans));
    // the sender's own account agrees with the kernel's stamps
    expect(p.datagrams_per_unit_mean).toBe(50);
    expect(p.calls_per_unit_mean).toBe(1);
    expect(Math.abs(p.gap_mean_ms! - meanGap)).toBeLessThan(1);
    expect(Math.abs(p.gap_max_ms! - Math.max(...gaps))).toBeLessThan(2);
    expect(Math.abs(p.units_per_second! - 20)).toBeLessThan(0.5);
    expect(sent.end.rate_ratio!).toBeGreaterThan(0.97);
  }, 30000);

  it('--isochronous 50:2M,0.5M: 50 frames/s of 5000 bytes mean, each cut into -l datagrams', async () => {
    const { sent, data } = await capture(5032, ['--isochronous', '50:2M,0.5M', '--seed', '7', '-l', '1000', '-t', '1.2'], 'iso');
    const p = sent.end.pattern!;
    expect(sent.start.config.pattern).toMatchObject({ kind: 'isochronous', frames_per_second: 50, mean_bits_per_second: 2e6, stddev_bits_per_second: 5e5, frame_mean_bytes: 5000, seed: 7 });
    expect(data.length).toBe(sent.end.packets);
    const frames = units(data);
    expect(frames.length).toBe(p.units);
    expect(frames.length).toBeGreaterThanOrEqual(55);
    for (const f of frames) {
      // -l bytes each but the last, which holds the rest (at least a v2 header)
      for (const d of f.slice(0, -1)) expect(d[1]).toBe(1000);
      expect(f.at(-1)![1]).toBeGreaterThanOrEqual(48);
      expect(f.at(-1)![1]).toBeLessThanOrEqual(1000);
    }
    const sizes = frames.map((f) => f.reduce((a, d) => a + d[1], 0));
    const meanBytes = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    const { starts, spans, medianGap } = timing(frames);
    const fps = (frames.length - 1) / ((starts.at(-1)! - starts[0]!) / 1e9);
    // sequences run on across frames: nothing lost, nothing reordered
    expect(data.map((d) => d[2])).toEqual(data.map((_, i) => i));
    console.log(`isochronous: ${frames.length} frames seen, ${fps.toFixed(3)} frames/s by kernel stamps, mean ${meanBytes.toFixed(0)} bytes (min ${Math.min(...sizes)}, max ${Math.max(...sizes)}); sender says ${p.units_per_second!.toFixed(3)} frames/s, ${p.bytes_per_unit_mean!.toFixed(0)} bytes mean, gap max ${p.gap_max_ms!.toFixed(3)} ms`);
    expect(Math.abs(fps - 50) / 50).toBeLessThan(0.03);
    expect(Math.abs(medianGap - 20)).toBeLessThan(3);
    expect(Math.max(...spans)).toBeLessThan(10);
    // 60 log-normal draws of sd 1250 around 5000: the mean within 15%; the sizes vary
    expect(Math.abs(meanBytes - 5000) / 5000).toBeLessThan(0.15);
    expect(new Set(sizes).size).toBeGreaterThan(20);
    expect(p.bytes_per_unit_mean).toBe(meanBytes);
    expect(p.bytes_per_unit_max).toBe(Math.max(...sizes));
  }, 30000);

  it('--seed: the same seed draws the same frame sizes, another seed others', async () => {
    const bytes = async (seed: string) => {
      const file = join(dir, `seed-${seed}-${Math.random()}.json`);
      const r = await ns.mcbench(['send', '-g', '239.7.8.2', '-p', '5033', '-I', 'lo', '-i', '0', '-q', '--isochronous', '200:8M,4M', '--seed', seed, '-n', '300', '--json', file]).done;
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(readFileSync(file, 'utf8')) as SenderResult).end.bytes;
    };
    const [a, b, c] = [await bytes('11'), await bytes('11'), await bytes('12')];
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  }, 30000);
});
