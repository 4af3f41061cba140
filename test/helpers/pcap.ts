// Independent truth for the capture tests: tcpdump with nanosecond stamps on an interface of the
// test's namespace, and a reader of the pcap bytes that uses no mcbench code.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestNetns } from './netns.js';

/** One captured mcbench datagram. */
export interface Captured {
  /** the capture's own stamp, ns since the epoch */
  ns: bigint;
  kind: number;
  seq: bigint;
  /** v2: the actual send time the packet carries (0 for v1) */
  actualNs: bigint;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A nanosecond pcap (tcpdump --time-stamp-precision=nano -w) of Ethernet-framed IPv4/UDP (lo is captured as Ethernet too). */
export function readPcap(file: string): Captured[] {
  const b = readFileSync(file);
  expect(b.readUInt32LE(0)).toBe(0xa1b23c4d); // nanosecond-resolution pcap
  expect(b.readUInt32LE(20)).toBe(1); // LINKTYPE_ETHERNET
  const out: Captured[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const sec = BigInt(b.readUInt32LE(off));
    const nsec = BigInt(b.readUInt32LE(off + 4));
    const incl = b.readUInt32LE(off + 8);
    const frame = b.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const udp = 14 + (frame[14]! & 0x0f) * 4;
    const p = frame.subarray(udp + 8);
    if (p.length < 24 || p.subarray(0, 4).toString('latin1') !== 'MCB1') continue;
    out.push({ ns: sec * 1_000_000_000n + nsec, kind: p[5]!, seq: p.readBigUInt64BE(16), actualNs: p[4] === 2 && p.length >= 48 ? p.readBigUInt64BE(40) : 0n });
  }
  return out;
}

/** tcpdump on iface in the namespace, only the port's UDP (or `filter`); stop() waits until it has written everything. */
export async function tcpdump(ns: TestNetns, iface: string, port: number, dir: string, filter = `udp port ${port}`): Promise<{ file: string; stop: () => Promise<void> }> {
  const file = join(dir, `cap-${port}.pcap`);
  const td = ns.spawn('tcpdump', ['-i', iface, '-nn', '-B', '16384', '--immediate-mode', '--time-stamp-precision=nano', '-U', '-w', file, filter]);
  let err = '';
  td.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 10000;
  while (!err.includes('listening on')) {
    if (td.exitCode !== null || Date.now() > deadline) throw new Error(`tcpdump did not start: ${err}`);
    await sleep(20);
  }
  return {
    file,
    stop: async () => {
      // tcpdump drops what it has not written yet when interrupted: wait until the file stops
      // growing (it lags behind on a loaded machine), then stop it.
      let size = -1;
      for (let i = 0; i < 50; ++i) {
        await sleep(200);
        const now = statSync(file).size;
        if (now === size) break;
        size = now;
      }
      const exited = new Promise((r) => td.on('exit', r));
      td.kill('SIGINT');
      await exited;
    },
  };
}
