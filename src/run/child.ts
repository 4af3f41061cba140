// One mcbench process of a run, wherever it runs (a lab guest, the private namespace, a host over
// ssh): its stdout is read as `--json-stream` NDJSON events (core/ndjson.ts), its stderr kept for
// the reason it gives when it fails. The orchestrator waits for `start` (a receiver has joined),
// shows `interval` lines as they arrive, and takes `end` as the result.
import type { ChildProcess } from 'node:child_process';
import { RunError } from '../core/errors.js';
import { isEvent, NdjsonReader, type StreamEvent } from '../core/ndjson.js';
import type { ReceiverInterval, SenderInterval } from '../core/result.js';
import { receiverIntervalLines, senderIntervalLine, SessionLabels } from '../report/human.js';
import type { Hosts } from '../where/hosts.js';

export interface Child {
  proc: ChildProcess;
  /** the host's name, for lines and errors */
  host: string;
  /** stdout lines that were not events (a command without --json-stream prints those) */
  out: string;
  err: string;
  /** the `start` event's data once it arrived */
  start: unknown;
  /** the `end` event's data: the result document */
  end: unknown;
  /** the `error` event's message */
  errorEvent: string | null;
  /** why the process could not be started at all */
  spawnError: string | null;
  exited: Promise<number | null>;
}

/**
 * Starts `mcbench ARGS` on a host. onInterval gets each interval as human lines prefixed with
 * the host's name (the caller passes a no-op when it wants none).
 */
export function startChild(hosts: Hosts, host: number, args: string[], onInterval: (line: string) => void = () => {}): Child {
  const proc = hosts.spawnMcbench(host, args);
  const c: Child = { proc, host: hosts.name(host), out: '', err: '', start: null, end: null, errorEvent: null, spawnError: null, exited: Promise.resolve(null) };
  const reader = new NdjsonReader();
  const labels = new SessionLabels();
  const role = args[0];
  const take = (items: ReturnType<NdjsonReader['push']>) => {
    for (const it of items) {
      if (!isEvent(it)) {
        c.out += it.stray + '\n';
        continue;
      }
      onEvent(it);
    }
  };
  const onEvent = (e: StreamEvent) => {
    switch (e.event) {
      case 'start':
        c.start = e.data ?? {};
        break;
      case 'end':
        c.end = e.data;
        break;
      case 'error': {
        const d = e.data as { message?: unknown } | null;
        c.errorEvent = typeof d?.message === 'string' ? d.message : JSON.stringify(e.data);
        break;
      }
      case 'interval': {
        const lines = role === 'recv' ? receiverIntervalLines(e.data as ReceiverInterval, labels) : [senderIntervalLine(e.data as SenderInterval)];
        for (const l of lines) onInterval(`  ${c.host}: ${l}`);
        break;
      }
    }
  };
  proc.stdout!.on('data', (d: Buffer) => take(reader.push(d.toString())));
  proc.stderr!.on('data', (d: Buffer) => (c.err += d.toString()));
  c.exited = new Promise((resolve) => {
    proc.on('exit', (code) =>
      setImmediate(() => {
        take(reader.end());
        resolve(code);
      }),
    );
    proc.on('error', (e) => {
      c.spawnError = e.message;
      resolve(null);
    });
  });
  return c;
}

/**
 * What a child said went wrong: its `mcbench CMD: …` lines and ssh's own (`ssh: …`), else the
 * end of its stderr; null when it said nothing.
 */
export function childError(c: Child): string | null {
  const lines = c.err.split('\n').map((l) => l.trim()).filter(Boolean);
  const own = lines.filter((l) => l.startsWith('mcbench ') || /^(ssh|mux_client|Control socket|channel \d+:|kex_exchange)/i.test(l) || l.startsWith('sudo:'));
  const text = (own.length ? own : lines.slice(-3)).join('; ');
  if (text) return text;
  if (c.spawnError) return c.spawnError;
  if (c.errorEvent) return c.errorEvent;
  if (c.proc.signalCode) return `killed by ${c.proc.signalCode}`;
  return null;
}

/** Why a child ended without a result: its reason, or its exit status. */
export function noResultReason(c: Child): string {
  const why = childError(c);
  if (why) return why;
  const code = c.proc.exitCode;
  return code === null ? 'ended without a result' : `exited with status ${code} without a result`;
}

/** Waits for the child's `start` event (a receiver: it has joined the group). */
export async function waitForStart(c: Child, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (c.start === null) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null || c.spawnError) {
      await c.exited;
      throw new RunError(`${c.host}: the receiver exited before joining: ${noResultReason(c)}`);
    }
    if (signal.aborted) throw new RunError('interrupted');
    if (Date.now() > deadline) throw new RunError(`${c.host}: the receiver did not join within ${timeoutMs / 1000} s${childError(c) ? `: ${childError(c)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The result document the child's `end` event carried (the --json document); null when it sent none. */
export function childResult(c: Child): unknown {
  return c.end;
}

/**
 * Ends children, letting them still write a partial result: a child whose stdin is its lifeline
 * (over ssh, where a signal to the local ssh client would only cut the connection) gets EOF,
 * the others SIGINT; SIGKILL after a grace time.
 */
export async function stopChildren(children: Child[], graceMs: number): Promise<void> {
  for (const c of children) {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) continue;
    if (c.proc.stdin) c.proc.stdin.end();
    else c.proc.kill('SIGINT');
  }
  const timer = setTimeout(() => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  }, graceMs);
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
}
