// RTT mode runners: `mcbench ping` (probes to the group, replies of every reflector) and
// `mcbench pong` (a reflector). The addon's threads do the sockets; this starts them, waits,
// reads their snapshots once at the end and builds the documents.
import { constants } from 'node:os';
import { RunError } from '../core/errors.js';
import { pongResult, rttResult, type NativeRttHistograms, type PingSpec, type PongResult, type PongSpec, type RttResult } from '../core/rtt.js';
import { VERSION } from '../host/version.js';
import { loadBinding, type NativePing, type NativePong } from '../native.js';
import type { Output } from '../report/output.js';
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
    await new Promise<void>((resolve) => {
      const onAbort = () => resolve();
      abort.addEventListener('abort', onAbort, { once: true });
      if (abort.aborted) resolve();
      ping.start(() => {
        abort.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    ping.close(); // joins the thread: the snapshot below is final
    const snap = ping.snapshot();
    if (snap.sent > 0 && snap.sendErrors === snap.sent) {
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
