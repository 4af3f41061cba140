import type { Argv, CommandModule } from 'yargs';
import { shown, UsageError } from '../core/errors.js';
import type { KernelSettingsSnapshot } from '../core/settings.js';
import { SettingsTargetError, snapshotKernelSettings } from '../host/settings.js';
import { formatSettingsTable } from '../core/settings-table.js';
import { parseInterface } from '../core/spec.js';
import { checkOutputTarget } from '../report/files.js';
import { emitJson } from '../report/json.js';
import { makeOutput } from '../report/output.js';
import { runCommand } from './common.js';
import { settingsApplyCommand, settingsRestoreStaleCommand } from './settings-hold.js';

function parseBridge(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const s = shown(raw).trim();
  if (s.length === 0 || s.length > 15 || /[\s/]/.test(s)) {
    throw new UsageError(`--bridge: '${s}' is not a valid interface name (at most 15 characters, no '/' or spaces)`);
  }
  return s;
}

/**
 * What `settings` and `doctor` share: -I/--bridge/--json read into a snapshot of this host, an
 * interface or bridge that is not there being bad input (exit 2, naming the flag).
 */
export function snapshotFromFlags(a: Record<string, unknown>): { snapshot: KernelSettingsSnapshot; json: string | null } {
  const iface = parseInterface(a.interface);
  const bridge = parseBridge(a.bridge);
  // checked before the snapshot is taken, as every command's output file is
  const json = checkOutputTarget('--json', a.json);
  try {
    return { snapshot: snapshotKernelSettings({ interface: iface, bridge }), json };
  } catch (e) {
    if (e instanceof SettingsTargetError) throw new UsageError(`${e.flag === 'interface' ? '-I/--interface' : '--bridge'}: ${e.message}`);
    throw e;
  }
}

export const settingsCommand: CommandModule = {
  command: 'settings',
  describe: 'show the kernel settings that decide multicast loss, and why each matters',
  builder: (y: Argv) =>
    y
      .option('interface', { alias: 'I', type: 'string', describe: 'interface name or one of its IPv4 addresses (default: the multicast or default route\'s)' })
      .option('bridge', { type: 'string', describe: 'bridge to report (default: the interface if it is one, or the bridge it is enslaved to)' })
      .option('json', { type: 'string', describe: 'write the snapshot as JSON to FILE (atomically); - for stdout' })
      .example('$0 settings -I eth1', 'the settings for guests talking over eth1')
      .example('$0 settings --bridge br0 --json before.json', 'a host bridge, saved for a later comparison')
      // hidden: what the ssh place runs on a remote host (settings-hold.ts)
      .command([settingsApplyCommand, settingsRestoreStaleCommand]),
  handler: (argv) =>
    runCommand('settings', () => {
      const a = argv as Record<string, unknown>;
      const { snapshot, json } = snapshotFromFlags(a);
      const out = makeOutput({ jsonToStdout: json === '-', quiet: false });
      for (const line of formatSettingsTable(snapshot)) out.summary(line);
      if (json) emitJson(json, snapshot);
      return 0;
    }),
};
