// This host's side of the clock exchange (src/core/clock.ts): a UDP server that stamps probes,
// a client that sends them, the realtime clock both read, and what chrony or systemd-timesyncd
// say about this host's clock.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ClockSample, ClockSync } from '../core/clock.js';
import { RunError } from '../core/errors.js';

// Node has no CLOCK_REALTIME in ns (Date.now() is whole ms). process.hrtime.bigint() is
// CLOCK_MONOTONIC in ns; it is anchored to the realtime clock at the moment Date.now() ticks to
// the next millisecond: that instant is known on the realtime clock (a whole ms) and is
// bracketed on the monotonic one by two reads a fraction of a µs apart. The tightest of a few
// such brackets is kept, so a process preempted while anchoring does not carry a skewed anchor
// (performance.timeOrigin reads the two clocks once at start-up, and a preemption between those
// reads on a loaded host put two processes 0.17 ms apart). A step of the realtime clock after
// the anchor (not a slew) is not followed, which the short life of a probe makes harmless.
const ANCHOR_TICKS = 4;
const ANCHOR_MAX_BRACKET_NS = 20_000n;
let anchor: bigint | null = null;

/** realtime − monotonic, in ns */
function realtimeAnchor(): bigint {
  let best: { width: bigint; offset: bigint } | null = null;
  for (let i = 0; i < ANCHOR_TICKS; i++) {
    // lo: a monotonic read taken before a Date.now() that still showed ms0, so the tick is later.
    let lo = process.hrtime.bigint();
    const ms0 = Date.now();
    for (;;) {
      const a = process.hrtime.bigint();
      const ms = Date.now();
      const hi = process.hrtime.bigint();
      if (ms === ms0) {
        lo = a;
        continue;
      }
      // This Date.now() showed the next ms: the tick lies in (lo, hi).
      const width = hi - lo;
      if (ms > ms0 && (!best || width < best.width)) best = { width, offset: BigInt(ms) * 1_000_000n - (lo + width / 2n) };
      break;
    }
  }
  if (best && best.width <= ANCHOR_MAX_BRACKET_NS) return best.offset;
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n - process.hrtime.bigint();
}

/** CLOCK_REALTIME in ns (see above; the anchor is taken at the first call, about 4 ms of spinning). */
export function realtimeNs(): bigint {
  anchor ??= realtimeAnchor();
  return anchor + process.hrtime.bigint();
}

// Probe: "MCBq" seq(u32) t1(u64). Answer: "MCBa" seq t1 t2 t3. Stateless server, 8-byte stamps.
const PROBE = Buffer.from('MCBq');
const ANSWER = Buffer.from('MCBa');
const PROBE_LEN = 16;
const ANSWER_LEN = 32;

/** The IPv4 address of an interface given by name (or an IPv4 address of this host, as given). */
export function interfaceAddress(iface: string): string {
  const all = os.networkInterfaces();
  const named = all[iface]?.find((a) => a.family === 'IPv4');
  if (named) return named.address;
  for (const addrs of Object.values(all)) if (addrs?.some((a) => a.family === 'IPv4' && a.address === iface)) return iface;
  throw new RunError(`-I: no IPv4 address on ${iface} (interfaces: ${Object.keys(all).join(', ')})`);
}

export interface ClockServer {
  address: string;
  port: number;
  /** probes answered so far */
  answered(): number;
  close(): Promise<void>;
}

/** Answers probes on ADDR:port (port 0: the kernel picks one). */
export async function serveClock(address: string, port: number): Promise<ClockServer> {
  const sock = dgram.createSocket('udp4');
  let answered = 0;
  sock.on('message', (msg, rinfo) => {
    const t2 = realtimeNs();
    if (msg.length !== PROBE_LEN || !msg.subarray(0, 4).equals(PROBE)) return;
    const out = Buffer.alloc(ANSWER_LEN);
    ANSWER.copy(out, 0);
    msg.copy(out, 4, 4, 16); // seq and t1, echoed
    out.writeBigUInt64BE(t2, 16);
    out.writeBigUInt64BE(realtimeNs(), 24);
    sock.send(out, rinfo.port, rinfo.address);
    answered++;
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (e) => reject(new RunError(`cannot listen on ${address}:${port}: ${e.message}`)));
    sock.bind(port, address, () => resolve());
  });
  return {
    address,
    port: sock.address().port,
    answered: () => answered,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/**
 * n probes to ADDR:PORT, intervalMs apart; each answer that comes back within waitMs of the last
 * probe is one sample. Unanswered probes are simply missing (the estimate takes the best one).
 */
export async function probeClock(address: string, port: number, n: number, intervalMs: number, waitMs: number): Promise<ClockSample[]> {
  const sock = dgram.createSocket('udp4');
  const samples: ClockSample[] = [];
  const sent = new Set<number>();
  sock.on('message', (msg) => {
    const t4 = realtimeNs();
    if (msg.length !== ANSWER_LEN || !msg.subarray(0, 4).equals(ANSWER)) return;
    const seq = msg.readUInt32BE(4);
    if (!sent.delete(seq)) return; // a duplicate or a stranger's
    samples.push({ t1: msg.readBigUInt64BE(8), t2: msg.readBigUInt64BE(16), t3: msg.readBigUInt64BE(24), t4 });
  });
  const failed = new Promise<never>((_, reject) => sock.once('error', (e) => reject(new RunError(`clock probe to ${address}:${port}: ${e.message}`))));
  failed.catch(() => undefined);
  try {
    await Promise.race([new Promise<void>((r) => sock.connect(port, address, () => r())), failed]);
    for (let seq = 0; seq < n; seq++) {
      const b = Buffer.alloc(PROBE_LEN);
      PROBE.copy(b, 0);
      b.writeUInt32BE(seq, 4);
      sent.add(seq);
      b.writeBigUInt64BE(realtimeNs(), 8);
      sock.send(b);
      await Promise.race([new Promise((r) => setTimeout(r, intervalMs)), failed]);
    }
    const deadline = Date.now() + waitMs;
    while (sent.size > 0 && Date.now() < deadline) await Promise.race([new Promise((r) => setTimeout(r, 5)), failed]);
  } finally {
    sock.close();
  }
  return samples;
}

/** `chronyc tracking`, else `timedatectl show`, verbatim; null when neither answers. */
export function readClockSync(): ClockSync | null {
  const tries: Array<[string, string[]]> = [
    ['chronyc', ['-n', 'tracking']],
    ['timedatectl', ['show']],
  ];
  for (const [cmd, args] of tries) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.status === 0 && r.stdout.trim()) return { source: `${cmd} ${args.join(' ')}`, text: r.stdout.trim() };
  }
  return null;
}
