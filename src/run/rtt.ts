// RTT mode runners: `mcbench ping` (probes to the group, replies of every reflector) and
// `mcbench pong` (a reflector). The addon's threads do the sockets; this starts them, waits,
// reads their snapshots once at the end and builds the documents.
import { constants } from 'node:os';
import { RunError, UsageError } from '../core/errors.js';
import { everyReflectorFromProbe0, pongResult, rttResult, type NativeRttHistograms, type PingSpec, type PongResult, type PongSpec, type RttResult } from '../core/rtt.js';
import { VERSION } from '../host/version.js';
import { loadBinding, type NativePing, type NativePong } from '../native.js';
import type { Output } from '../report/output.js';
import type { Place } from '../where/hosts.js';
import { childResult, noResultReason, startChild, stopChildren, waitForStart, type Child } from './child.js';
import { explainSocketError } from './native-errors.js';

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
const shownGroup = (s: { group: string; family: string; port: number }) => `${s.family === 'ipv6' ? `[${s.group}]` : s.group}:${s.port}`;

/** Probes for spec.seconds (or spec.count probes), waits spec.waitSeconds for late replies. */
export async function runPing(spec: PingSpec, out: Output, abort: AbortSignal): Promise<RttResult> {
  const binding = loadBinding();
  let ping: NativePing;
  try {
    ping = new binding.Ping({
      group: spec.group,
      port: spec.port,
      interface: spec.iface ?? '',
      ttl: spec.ttl,
      loop: true,
      rate: spec.rate,
      count: spec.count ?? 0,
      durationNs: Math.round(spec.seconds * 1e9),
      waitNs: Math.round(spec.waitSeconds * 1e9),
      length: spec.length,
    });
  } catch (e) {
    throw explainSocketError(e, { interface: spec.iface, group: spec.group, port: spec.port });
  }
  try {
    const started = new Date().toISOString();
    out.info(`mcbench ping: probing ${shownGroup(spec)}${spec.iface ? ` via ${spec.iface}` : ''} at ${spec.rate}/s for ${spec.count ?? Math.round(spec.seconds * spec.rate)} probes, then ${spec.waitSeconds} s for late replies`);
    out.event('start', { command: 'ping', group: spec.group, port: spec.port, time: started });
    // a line a second while it runs (counters only: the histograms are copied once, at the end)
    const t0 = performance.now();
    const ticker = setInterval(() => {
      const s = ping.snapshot();
      const replies = s.reflectors.reduce((n, r) => n + r.replies, 0);
      out.info(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${s.sent} probes, ${replies} replies from ${s.reflectors.length} reflector${s.reflectors.length === 1 ? '' : 's'}`);
    }, 1000);
    await new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      abort.addEventListener('abort', onAbort, { once: true });
      if (abort.aborted) resolve();
      ping.start(() => {
        abort.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    clearInterval(ticker);
    ping.close(); // joins the thread: the snapshot below is final
    const snap = ping.snapshot();
    if (snap.sent === 0 && snap.sendErrors > 0) {
      const why = errnoName(snap.lastSendErrno);
      const hint = why === 'ENETUNREACH' && spec.iface === null ? ': no route for the group: give the interface with -I' : '';
      throw new RunError(`cannot send probes to ${shownGroup(spec)}: every send failed (${why})${hint}`);
    }
    const histograms: Array<NativeRttHistograms | null> = snap.reflectors.map((_, i) => ping.histograms(i));
    const error = snap.error ? snap.error.message : null;
    return rttResult(spec, snap, histograms, { version: `mcbench ${VERSION}`, started, endReason: error ? 'error' : abort.aborted ? 'signal' : 'done', error });
  } finally {
    ping.close();
  }
}

/** Reflects until spec.seconds (or a signal); the addon's thread answers every probe. */
export async function runPong(spec: PongSpec, out: Output, abort: AbortSignal): Promise<PongResult> {
  const binding = loadBinding();
  let pong: NativePong;
  try {
    pong = new binding.Pong({ group: spec.group, port: spec.port, interface: spec.iface ?? '' });
  } catch (e) {
    throw explainSocketError(e, { interface: spec.iface, group: spec.group, port: spec.port });
  }
  try {
    const started = new Date().toISOString();
    const t0 = performance.now();
    const id = pong.snapshot().reflectorId;
    out.info(`mcbench pong: reflecting probes to ${shownGroup(spec)}${spec.iface ? ` via ${spec.iface}` : ''} (reflector ${id})${spec.seconds === null ? ', until Ctrl-C' : ` for ${spec.seconds} s`}`);
    // joined: an orchestrator starts the ping once every reflector's start event arrived
    out.event('start', { command: 'pong', group: spec.group, port: spec.port, reflector_id: id, time: started });
    const state = { failed: false };
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    await new Promise<void>((resolve) => {
      if (spec.seconds !== null) timer = setTimeout(resolve, spec.seconds * 1000);
      onAbort = () => resolve();
      abort.addEventListener('abort', onAbort, { once: true });
      if (abort.aborted) resolve();
      pong.start(() => {
        state.failed = true;
        resolve();
      });
    });
    clearTimeout(timer);
    abort.removeEventListener('abort', onAbort);
    pong.close();
    const s = pong.snapshot();
    const error = s.error ? s.error.message : null;
    const endReason = state.failed || error ? 'error' : abort.aborted ? 'signal' : 'time';
    return pongResult(spec, s, { version: `mcbench ${VERSION}`, started, seconds: (performance.now() - t0) / 1000, endReason, error });
  } finally {
    pong.close();
  }
}

/** `run --mode rtt`: what to probe, from where. */
export interface RttRunOptions {
  group: string;
  port: number;
  /** probes per second and seconds of probing, as the ping's flags (validated by pingSpec) */
  rate: number;
  seconds: number;
  /** reflecting guests: hosts 2..N */
  reflectors: number;
  place: Place;
  log: (line: string) => void;
  signal: AbortSignal;
}

/**
 * `run --mode rtt`: host 1 pings, hosts 2..N reflect (the same processes a user would start by
 * hand, on hosts the place makes); the ping's mcbench/rtt@1 result, each reflector named by its
 * guest. The reflectors start first and must report that they joined before the ping starts.
 */
export async function runRttOnPlace(o: RttRunOptions): Promise<RttResult> {
  const need = { guests: o.reflectors + 1, lab: {}, sysctls: {} };
  const why = o.place.refuse(need);
  if (why) throw new UsageError(`--mode rtt: ${why}`);
  return o.place.withHosts(need, o.signal, async (hosts, signal) => {
    const pongs: Array<{ host: number; child: Child }> = [];
    let ping: Child | null = null;
    try {
      const common = (k: number) => ['-g', o.group, '-p', String(o.port), '-I', hosts.iface(k)];
      for (let k = 2; k <= hosts.count; k++) pongs.push({ host: k, child: startChild(hosts, k, ['pong', ...common(k), '-t', String(o.seconds + 60), '--json-stream']) });
      for (const p of pongs) await waitForStart(p.child, 15000, signal);
      o.log(`mcbench run --mode rtt: ${hosts.name(1)} pings ${o.group} at ${o.rate}/s for ${o.seconds} s; ${pongs.map((p) => hosts.name(p.host)).join(', ')} reflect`);
      const started = startChild(hosts, 1, ['ping', ...common(1), '--rate', String(o.rate), '-t', String(o.seconds), '--wait', '1', '--json-stream']);
      ping = started;
      const onAbort = () => void stopChildren([started], 3000);
      signal.addEventListener('abort', onAbort);
      const deadline = setTimeout(() => void stopChildren([started], 3000), (o.seconds + 30) * 1000);
      try {
        await started.exited;
      } finally {
        clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
      }
    } finally {
      await stopChildren(pongs.map((p) => p.child), 2000);
    }
    const result = childResult(ping) as RttResult | null;
    if (!result) throw new RunError(`${hosts.name(1)} (ping): ${noResultReason(ping)}`);
    // each reflector by the guest it ran on (its id is in that pong's own result); one that never
    // answered is in the result too, all its probes lost
    const own: Array<{ guest: string; pong: PongResult }> = [];
    for (const p of pongs) {
      const pong = childResult(p.child) as PongResult | null;
      if (pong) own.push({ guest: hosts.name(p.host), pong });
      else o.log(`  ${hosts.name(p.host)} (pong): ${noResultReason(p.child)}`);
    }
    return everyReflectorFromProbe0(result, own);
  });
}
