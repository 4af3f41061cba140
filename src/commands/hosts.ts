// `mcbench hosts check|restore|install FILE`: the hosts of an inventory, one by one over ssh.
// check: what a run on them needs (mcbench and its version, kernel, the interface and its
//   address, root or sudo, rmem_max, the group's route out of that interface); exit 1 naming
//   what is missing.
// restore: on every host, what killed runs left (the restore records `lab down` replays too).
// install: the packed tarball (prebuilt addon inside) copied and installed into a prefix the ssh
//   user can write (src/where/ssh-install.ts), recorded for later runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { RunError, UsageError } from '../core/errors.js';
import type { Inventory, InventoryHost } from '../core/inventory.js';
import { isEvent, NdjsonReader } from '../core/ndjson.js';
import { parseGroup } from '../core/spec.js';
import { emitJson } from '../report/json.js';
import { checkOutputTarget, writeFileAtomic } from '../report/files.js';
import { makeOutput } from '../report/output.js';
import { formatTable } from '../report/run-table.js';
import { MCBENCH_JS } from '../where/here.js';
import { installMcbench, installsPath, recordInstall } from '../where/ssh-install.js';
import { SshSession } from '../where/ssh.js';
import { runCommand } from './common.js';
import { readInventory } from './hosts-flags.js';
import { hasControl, parseSshOptions } from '../core/inventory.js';

export interface HostCheck {
  name: string;
  ssh: string | null;
  reachable: boolean;
  /** the version of the mcbench it would run */
  mcbench: string | null;
  /** which mcbench that is: the inventory's, the one `hosts install` recorded, or 'mcbench' on the PATH */
  mcbench_command: string;
  kernel: string | null;
  interface: string;
  address: string | null;
  root: 'root' | 'sudo' | 'no' | null;
  rmem_max: number | null;
  route_device: string | null;
  /** what a run on this host would miss; empty when it is ready */
  missing: string[];
}

const firstLine = (s: string) => s.trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-1)[0] ?? '';

async function checkHost(h: InventoryHost, group: string, sshOptions: string[]): Promise<HostCheck> {
  const c: HostCheck = { name: h.name, ssh: h.ssh, reachable: false, mcbench: null, mcbench_command: h.mcbench ?? 'mcbench', kernel: null, interface: h.interface, address: null, root: null, rmem_max: null, route_device: null, missing: [] };
  let session: SshSession;
  try {
    session = await SshSession.open([h], { sshOptions, log: () => {} });
  } catch (e) {
    c.missing.push((e as Error).message.replace(`${h.name}: `, ''));
    return c;
  }
  try {
    c.reachable = true;
    const conn = session.conn(h.name);
    c.mcbench_command = conn.command;
    try {
      c.mcbench = await session.checkVersion(h.name);
    } catch (e) {
      c.missing.push((e as Error).message.replace(`${h.name}: `, ''));
    }
    const kernel = await conn.run(['uname', '-r'], 15000);
    c.kernel = kernel.code === 0 ? kernel.stdout.trim() : null;
    const addr = await conn.run(['ip', '-o', '-4', 'addr', 'show', 'dev', h.interface], 15000);
    if (addr.code !== 0) c.missing.push(`interface ${h.interface}: ${firstLine(addr.stderr) || 'not there'}`);
    else {
      c.address = /\binet (\d+\.\d+\.\d+\.\d+)/.exec(addr.stdout)?.[1] ?? null;
      if (!c.address) c.missing.push(`interface ${h.interface}: no IPv4 address`);
    }
    const id = await conn.run([...(h.sudo ? ['sudo', '-n'] : []), 'id', '-u'], 15000);
    c.root = id.code === 0 && id.stdout.trim() === '0' ? (h.sudo ? 'sudo' : 'root') : 'no';
    if (c.root === 'no') c.missing.push(h.sudo ? `sudo -n: ${firstLine(id.stderr) || 'not root'}` : 'not root (settings need root: log in as root or set sudo: true)');
    const rmem = await conn.run(['cat', '/proc/sys/net/core/rmem_max'], 15000);
    c.rmem_max = rmem.code === 0 ? Number(rmem.stdout.trim()) : null;
    const route = await conn.run(['ip', 'route', 'get', group], 15000);
    c.route_device = route.code === 0 ? (/\bdev (\S+)/.exec(route.stdout)?.[1] ?? null) : null;
    if (route.code !== 0) c.missing.push(`no route to ${group}: ${firstLine(route.stderr)}`);
    else if (c.route_device !== h.interface) c.missing.push(`the route to ${group} goes out ${c.route_device ?? '?'}, not ${h.interface} (e.g. ip route add 224.0.0.0/4 dev ${h.interface})`);
    if (session.lost) c.missing.push(session.lost.replace(`${h.name}: `, ''));
  } finally {
    await session.close();
  }
  return c;
}

function checkTable(rows: HostCheck[]): string[] {
  const v = (x: string | number | null) => (x === null ? '-' : String(x));
  return formatTable(
    ['host', 'ssh', 'mcbench', 'kernel', 'interface', 'address', 'root', 'rmem_max', 'group route', 'ready'],
    rows.map((r) => [r.name, r.ssh ?? 'local', v(r.mcbench), v(r.kernel), r.interface, v(r.address), v(r.root), v(r.rmem_max), v(r.route_device), r.missing.length ? 'NO' : 'yes']),
  );
}

function fileAndOptions(a: Record<string, unknown>): { inv: Inventory; sshOptions: string[] } {
  return { inv: readInventory('FILE', typeof a.file === 'string' ? a.file : ''), sshOptions: parseSshOptions(a['ssh-option']) };
}

const checkCommand: CommandModule = {
  command: 'check <file>',
  describe: 'connect to every host of the inventory and show what a run needs, exit 1 naming what is missing',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', describe: 'the inventory (YAML/JSON)' })
      .option('group', { alias: 'g', type: 'string', default: '239.255.0.1', describe: 'the multicast group whose route is checked' })
      .option('json', { type: 'string', describe: 'write the checks as JSON to FILE; - for stdout' }),
  handler: (argv) =>
    runCommand('hosts check', async () => {
      const a = argv as Record<string, unknown>;
      const { inv, sshOptions } = fileAndOptions(a);
      const group = parseGroup(a.group);
      const json = checkOutputTarget('--json', a.json);
      const out = makeOutput({ jsonToStdout: json === '-', quiet: false });
      const rows = await Promise.all(inv.hosts.map((h) => checkHost(h, group, sshOptions)));
      for (const l of checkTable(rows)) out.summary(l);
      const bad = rows.filter((r) => r.missing.length);
      if (json) emitJson(json, { schema: 'mcbench/hosts-check@1', group, hosts: rows });
      if (bad.length) {
        process.stderr.write(`mcbench hosts check: missing: ${bad.map((r) => `${r.name}: ${r.missing.join('; ')}`).join(' | ')}\n`);
        return 1;
      }
      return 0;
    }),
};

interface StaleLine {
  outcome: string;
  line: string;
}

const restoreCommand: CommandModule = {
  command: 'restore <file>',
  describe: 'on every host, put back the settings that killed runs left changed (what lab down does here)',
  builder: (y: Argv) => y.positional('file', { type: 'string', describe: 'the inventory (YAML/JSON)' }),
  handler: (argv) =>
    runCommand('hosts restore', async () => {
      const { inv, sshOptions } = fileAndOptions(argv);
      const problems: string[] = [];
      for (const h of inv.hosts) {
        let session: SshSession;
        try {
          session = await SshSession.open([h], { sshOptions, log: () => {} });
        } catch (e) {
          problems.push((e as Error).message);
          continue;
        }
        try {
          await session.checkVersion(h.name);
          const r = await session.conn(h.name).runMcbench(['settings', 'restore-stale'], 60000);
          const ev = new NdjsonReader().push(r.stdout + '\n').filter(isEvent).find((e) => e.event === 'end');
          const outcomes = ((ev?.data as { outcomes?: StaleLine[] } | undefined)?.outcomes ?? []);
          for (const o of outcomes) process.stdout.write(`${h.name}: ${o.line}\n`);
          if (outcomes.length === 0 && r.code === 0) process.stdout.write(`${h.name}: nothing to restore\n`);
          if (r.code !== 0 || !ev) problems.push(`${h.name}: ${firstLine(r.stderr) || `exit ${r.code}`}`);
          for (const o of outcomes) if (o.outcome === 'failed') problems.push(`${h.name}: ${o.line}`);
        } catch (e) {
          problems.push((e as Error).message);
        } finally {
          await session.close();
        }
      }
      if (problems.length) throw new RunError(problems.join('; '));
      return 0;
    }),
};

/** `npm pack` of this installation into a temp folder (prepack builds the prebuilt addon). */
async function packTarball(dir: string): Promise<string> {
  const pkg = dirname(dirname(MCBENCH_JS));
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkg, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', () => resolve(null));
    p.on('close', resolve);
  });
  const tgz = readdirSync(dir).find((f) => /^mcbench-.*\.tgz$/.test(f));
  if (code !== 0 || !tgz) throw new RunError(`npm pack in ${pkg} failed (exit ${code}); give a tarball with --tarball`);
  return join(dir, tgz);
}

const installCommand: CommandModule = {
  command: 'install <file>',
  describe: 'copy the packed mcbench (prebuilt addon: no compiler needed) to every host and install it in a prefix the ssh user can write',
  builder: (y: Argv) =>
    y
      .positional('file', { type: 'string', describe: 'the inventory (YAML/JSON)' })
      .option('tarball', { type: 'string', describe: 'mcbench-X.tgz from npm pack [default: pack this installation]' })
      .option('prefix', { type: 'string', describe: 'absolute install prefix on each host [default: $HOME/.local/mcbench of the ssh user]' }),
  handler: (argv) =>
    runCommand('hosts install', async () => {
      const a = argv as Record<string, unknown>;
      const { inv, sshOptions } = fileAndOptions(a);
      const prefixFlag = typeof a.prefix === 'string' ? a.prefix : null;
      if (prefixFlag !== null && (!prefixFlag.startsWith('/') || hasControl(prefixFlag))) throw new UsageError(`--prefix: '${prefixFlag}' is not an absolute path`);
      const targets = inv.hosts.filter((h) => !h.local);
      if (targets.length === 0) throw new UsageError('FILE: every host is local: true; nothing to install over ssh');
      const tmp = mkdtempSync(join(os.tmpdir(), 'mcb-pack-'));
      try {
        const tarball = typeof a.tarball === 'string' ? a.tarball : await packTarball(tmp);
        for (const h of targets) {
          const session = await SshSession.open([h], { sshOptions, log: () => {} });
          try {
            const shell = session.shell(h.name);
            let prefix = prefixFlag;
            if (prefix === null) {
              const home = await shell.run(['sh', '-c', 'printf %s "$HOME"']);
              if (home.code !== 0 || !home.stdout.startsWith('/')) throw new RunError(`${h.name}: cannot read the ssh user's $HOME: ${firstLine(home.stderr)}`);
              prefix = `${home.stdout}/.local/mcbench`;
            }
            const rec = await installMcbench(h.name, shell, tarball, prefix);
            recordInstall(installsPath(), h.ssh!, rec, writeFileAtomic);
            process.stdout.write(`${h.name}: mcbench ${rec.version} installed as ${rec.mcbench} (node ${rec.node}); recorded for later runs\n`);
          } finally {
            await session.close();
          }
        }
        return 0;
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }),
};

export const hostsCommand: CommandModule = {
  command: 'hosts <command>',
  describe: 'your own hosts over ssh (an inventory FILE): check what a run needs, restore what killed runs left, install mcbench',
  builder: (y: Argv) =>
    y
      .option('ssh-option', { type: 'string', array: true, describe: 'an ssh -o KEY=VALUE (repeatable)' })
      .command([checkCommand, restoreCommand, installCommand])
      .demandCommand(1, 'give a subcommand: check, restore, install')
      .example('$0 hosts check hosts.yaml', 'is every host ready for a run?'),
  handler: () => {},
};
