// Hidden subcommands of `settings` that the ssh place runs on a remote host:
// - `settings apply --hold KEY=VALUE…` sets sysctls on that host through applyKernelSettings
//   (locks, restore record), prints the changes as one NDJSON `start` event, and holds them while
//   its stdin stays open. EOF (the orchestrator closed it, or the connection dropped: over ssh
//   without a terminal there is no SIGHUP), SIGHUP, SIGTERM or SIGINT restore them; an `end`
//   event says what could not be restored. If it is SIGKILLed, the restore record stays and the
//   next mcbench on that host (or `hosts restore`) puts the values back.
// - `settings restore-stale` restores what dead processes left (what `lab down` does), one NDJSON
//   `end` event with the outcomes.
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { frameEvent } from '../core/ndjson.js';
import { applyKernelSettingsWaiting, describeStale, restoreStaleSettings } from '../host/apply.js';
import { parseSetFlags } from '../run/scenarios.js';
import { runCommand } from './common.js';

const emit = (event: 'start' | 'end' | 'error', data: unknown) => void process.stdout.write(frameEvent(event, data));

export const settingsApplyCommand: CommandModule = {
  command: 'apply [values..]',
  describe: false,
  builder: (y: Argv) =>
    y
      .positional('values', { type: 'string', array: true, describe: 'KEY=VALUE sysctls' })
      .option('hold', { type: 'boolean', default: false, describe: 'hold the values while stdin is open, restore at EOF' }),
  handler: (argv) =>
    runCommand('settings apply', async () => {
      const a = argv as Record<string, unknown>;
      if (a.hold !== true) throw new UsageError('--hold: required (the values are held while stdin stays open, then restored)');
      const values = parseSetFlags(a.values ?? []);
      if (Object.keys(values).length === 0) throw new UsageError('values: give KEY=VALUE sysctls to hold');
      // The other end may be gone when we answer: a failed write must not stop the restore.
      process.stdout.on('error', () => {});
      const stop = new AbortController();
      const onEnd = () => stop.abort();
      process.stdin.on('end', onEnd);
      process.stdin.on('close', onEnd);
      process.stdin.on('error', onEnd);
      for (const s of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) process.on(s, onEnd);
      process.stdin.resume();
      try {
        let applied;
        try {
          applied = await applyKernelSettingsWaiting(values, { signal: stop.signal });
        } catch (e) {
          emit('error', { message: (e as Error).message });
          throw e;
        }
        emit('start', { pid: process.pid, changes: applied.changes });
        if (!stop.signal.aborted) await new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }));
        const failed = applied.restore();
        emit('end', { failed });
        for (const f of failed) process.stderr.write(`mcbench settings apply: could not restore ${f}\n`);
        return failed.length ? 1 : 0;
      } finally {
        for (const s of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) process.off(s, onEnd);
        process.stdin.destroy();
      }
    }),
};

export const settingsRestoreStaleCommand: CommandModule = {
  command: 'restore-stale',
  describe: false,
  builder: (y: Argv) => y,
  handler: () =>
    runCommand('settings restore-stale', () => {
      const outcomes = restoreStaleSettings({ log: (l) => process.stderr.write(`${l}\n`) });
      emit('end', { outcomes: outcomes.map((o) => ({ ...o, line: describeStale(o) })) });
      return Promise.resolve(0);
    }),
};
