// `mcbench run`: one sender in guest g1, receivers in the other guests, one scenario variant at a
// time on its own ephemeral lab. Receivers start first and must report that they joined before
// the sender starts; every result is collected into one mcbench/run@1 document.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyKernelSettings, type SettingChange } from '../core/apply.js';
import { RunError } from '../core/errors.js';
import type { ReceiverResult, SenderResult } from '../core/result.js';
import { readNumber } from '../core/system.js';
import { bridgeName, GUEST_IF, withLab, type Lab, type LabSpecInput } from '../lab/index.js';
import { PrivateNetns } from './private-netns.js';
import type { Scenario, ScenarioVariant } from './scenarios.js';

export const RUN_SCHEMA = 'mcbench/run@1' as const;
const MCBENCH = fileURLToPath(new URL('../../bin/mcbench.js', import.meta.url));

export interface ReceiverOutcome {
  guest: string;
  /** null when the receiver produced no result (it crashed or was killed) */
  result: ReceiverResult | null;
  exit_code: number | null;
  /** its stderr, when it failed */
  error: string | null;
}

/** The lab bridge's multicast settings, read back from sysfs after the variant ran. */
export interface BridgeMulticast {
  name: string;
  multicast_snooping: number | null;
  multicast_querier: number | null;
  /** centiseconds, as sysfs shows them */
  multicast_membership_interval: number | null;
  multicast_querier_interval: number | null;
  multicast_query_interval: number | null;
}

export interface VariantOutcome {
  name: string;
  describe: string;
  settings_applied: SettingChange[];
  lab: LabSpecInput;
  /** null in a --local run (no bridge) */
  bridge: BridgeMulticast | null;
  /** why the variant did not run (e.g. it needs root); null when it ran */
  skipped: string | null;
  sender: SenderResult | null;
  receivers: ReceiverOutcome[];
  partial: boolean;
}

export interface RunReport {
  schema: typeof RUN_SCHEMA;
  scenario: { name: string; title: string; seed: string };
  started: string;
  variants: VariantOutcome[];
  partial: boolean;
}

interface Child {
  proc: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}

/**
 * Where the processes of a run live: guests of a lab (one namespace each, a bridge between), or
 * one private namespace with only lo for every "guest" (--local).
 */
export interface Guests {
  spawn(guest: number, argv: string[]): ChildProcess;
  /** the interface the processes use */
  iface: string;
  /** the bridge's multicast settings, read back; null without a bridge */
  bridge(): BridgeMulticast | null;
}

export function labGuests(lab: Lab): Guests {
  return {
    spawn: (k, argv) => lab.spawn(k, argv, { stdio: ['ignore', 'pipe', 'pipe'] }),
    iface: GUEST_IF,
    bridge: () => readBridgeMulticast(lab),
  };
}

export function localGuests(ns: PrivateNetns): Guests {
  return { spawn: (_k, argv) => ns.spawn(argv), iface: 'lo', bridge: () => null };
}

function startChild(guests: Guests, guest: number, args: string[]): Child {
  const proc = guests.spawn(guest, [process.execPath, MCBENCH, ...args]);
  const c: Child = { proc, out: '', err: '', exited: Promise.resolve(null) };
  proc.stdout!.on('data', (d: Buffer) => (c.out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (c.err += d.toString()));
  c.exited = new Promise((resolve) => {
    proc.on('exit', (code) => setImmediate(() => resolve(code)));
    proc.on('error', () => resolve(null));
  });
  return c;
}

async function waitForText(c: Child, text: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!c.out.includes(text) && !c.err.includes(text)) {
    if (c.proc.exitCode !== null) throw new RunError(`a receiver exited before joining: ${c.err.trim() || c.out.trim()}`);
    if (signal.aborted) throw new RunError('interrupted');
    if (Date.now() > deadline) throw new RunError(`a receiver did not join within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readBridgeMulticast(lab: Lab): BridgeMulticast {
  const name = bridgeName(lab.name);
  const read = (knob: string) => readNumber(`/sys/class/net/${name}/bridge/${knob}`);
  return {
    name,
    multicast_snooping: read('multicast_snooping'),
    multicast_querier: read('multicast_querier'),
    multicast_membership_interval: read('multicast_membership_interval'),
    multicast_querier_interval: read('multicast_querier_interval'),
    multicast_query_interval: read('multicast_query_interval'),
  };
}

function readResult<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Ends children: SIGINT first (they still write a partial result), SIGKILL after a grace time. */
async function stopChildren(children: Child[], graceMs: number): Promise<void> {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGINT');
  const timer = setTimeout(() => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }, graceMs);
  await Promise.all(children.map((c) => c.exited));
  clearTimeout(timer);
}

export async function runVariant(scenario: Scenario, variant: ScenarioVariant, guests: Guests, signal: AbortSignal, log: (l: string) => void): Promise<VariantOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'mcbench-run-'));
  const applied = applyKernelSettings(variant.sysctls);
  const children: Child[] = [];
  const receivers: Array<{ guest: number; file: string; child: Child }> = [];
  let sender: Child | null = null;
  let partial = false;
  try {
    const common = ['-g', scenario.group, '-p', String(scenario.port), '-I', guests.iface];
    // Receivers give up at the latest well after the sender should have finished.
    const limit = String(scenario.seconds + 20);
    for (let k = 2; k <= scenario.guests; k++) {
      const file = join(dir, `recv-g${k}.json`);
      const child = startChild(guests, k, ['recv', ...common, ...scenario.recvArgs, ...variant.recvArgs, '--sessions', '1', '-t', limit, '-i', '1', '--json', file]);
      children.push(child);
      receivers.push({ guest: k, file, child });
    }
    for (const r of receivers) await waitForText(r.child, 'listening on', 10000, signal);
    const upstream = scenario.upstreamQuery;
    if (upstream && variant.upstreamQuerierOnce) {
      const q = startChild(guests, 1, ['igmp-query', '-I', guests.iface, '--max-resp', String(upstream.maxResponseSeconds)]);
      if ((await q.exited) !== 0) throw new RunError(`the upstream IGMP query failed: ${q.err.trim()}`);
      log(`  ${variant.name}: g1 sent one IGMPv2 general query (the upstream querier), then went quiet`);
      await new Promise((r) => setTimeout(r, upstream.settleSeconds * 1000));
    }
    const senderFile = join(dir, 'send.json');
    sender = startChild(guests, 1, ['send', ...common, ...scenario.sendArgs, '-i', '0', '--json', senderFile]);
    children.push(sender);
    log(`  ${variant.name}: ${variant.describe}; sending for ${scenario.seconds} s to ${scenario.guests - 1} receivers`);
    const onAbort = () => void stopChildren(children, 3000);
    signal.addEventListener('abort', onAbort);
    const deadline = setTimeout(() => {
      partial = true;
      void stopChildren(children, 3000);
    }, (scenario.seconds + 30) * 1000);
    try {
      await Promise.all(children.map((c) => c.exited));
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) partial = true;
    const senderResult = readResult<SenderResult>(senderFile);
    const outcomes: ReceiverOutcome[] = receivers.map((r) => {
      const result = readResult<ReceiverResult>(r.file);
      const code = r.child.proc.exitCode;
      return { guest: `g${r.guest}`, result, exit_code: code, error: result && code === 0 ? null : r.child.err.trim() || null };
    });
    const bridge = guests.bridge();
    partial ||= !senderResult || senderResult.end.partial || outcomes.some((o) => !o.result || o.result.end.partial);
    return { name: variant.name, describe: variant.describe, settings_applied: applied.changes, lab: variant.lab, bridge, skipped: null, sender: senderResult, receivers: outcomes, partial };
  } finally {
    await stopChildren(children, 2000);
    const failed = applied.restore();
    if (failed.length) log(`warning: could not restore ${failed.join('; ')}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every variant (or the one named) of a scenario, each on a fresh ephemeral lab. */
export async function runScenario(
  scenario: Scenario,
  opts: { variant?: string | null; labName: string; local?: boolean; log: (l: string) => void; signal: AbortSignal },
): Promise<RunReport> {
  const variants = opts.variant ? scenario.variants.filter((v) => v.name === opts.variant) : scenario.variants;
  const report: RunReport = {
    schema: RUN_SCHEMA,
    scenario: { name: scenario.name, title: scenario.title, seed: scenario.seed },
    started: new Date().toISOString(),
    variants: [],
    partial: false,
  };
  const root = process.getuid?.() === 0;
  for (const v of variants) {
    if (opts.signal.aborted) break;
    if (opts.local) {
      // Global sysctls can only be set by root, and from the initial namespace.
      if (!root && Object.keys(v.sysctls).length > 0) {
        const why = `needs root to set ${Object.keys(v.sysctls).join(', ')}`;
        opts.log(`  ${v.name}: skipped: ${why}`);
        report.variants.push({ name: v.name, describe: v.describe, settings_applied: [], lab: v.lab, bridge: null, skipped: why, sender: null, receivers: [], partial: false });
        continue;
      }
      const ns = await PrivateNetns.create();
      try {
        report.variants.push(await runVariant(scenario, v, localGuests(ns), opts.signal, opts.log));
      } finally {
        await ns.close();
      }
      continue;
    }
    const outcome = await withLab(
      { name: opts.labName, guests: scenario.guests, ...v.lab },
      (lab, labSignal) => {
        const both = AbortSignal.any([opts.signal, labSignal]);
        return runVariant(scenario, v, labGuests(lab), both, opts.log);
      },
      { log: opts.log, graceMs: 4000, callerHandlesSignals: true },
    );
    report.variants.push(outcome);
  }
  report.partial = opts.signal.aborted || report.variants.length < variants.length || report.variants.some((v) => v.partial);
  return report;
}
