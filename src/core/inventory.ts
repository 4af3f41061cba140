// The inventory of the user's own hosts (`--hosts FILE`, YAML or JSON): which hosts, how to reach
// each (an ssh destination, or `local: true` for this machine), the interface its processes use,
// and who sends and who receives. Everything is checked here, before anything connects: a bad
// key or value is one line naming it (exit 2). Pure: the command layer reads the file.
import { parse as parseYaml } from 'yaml';
import { UsageError } from './errors.js';

export interface InventoryHost {
  name: string;
  /** the ssh destination (user@host, an ssh_config alias, ssh://user@[addr]:port); null for a local host */
  ssh: string | null;
  local: boolean;
  interface: string;
  /** the host's mcbench: a path (`.js` runs with node) or a command on PATH; null = `mcbench` */
  mcbench: string | null;
  /** run the remote mcbench with `sudo -n` (never a password prompt) */
  sudo: boolean;
}

export interface Inventory {
  hosts: InventoryHost[];
  sender: string;
  receivers: string[];
}

const HOST_KEYS = ['ssh', 'local', 'interface', 'mcbench', 'sudo'] as const;
const TOP_KEYS = ['hosts', 'sender', 'receivers'] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
/** any C0 control character or DEL (a newline would end the remote command line) */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
/** no option injection (`-oProxyCommand=…`), no spaces or control characters */
const isDestination = (s: string) => s.length > 0 && s.length <= 255 && !s.startsWith('-') && !/\s/.test(s) && !hasControl(s);
/** an absolute path, or a bare command name; both are quoted for the remote shell */
const isMcbench = (s: string) => !hasControl(s) && (/^\/.{1,4095}$/.test(s) || /^[A-Za-z0-9._-]{1,255}$/.test(s));

const bad = (where: string, what: string) => new UsageError(`${where}: ${what}`);
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkInterfaceName(where: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 15 || /[\s/:]/.test(v) || hasControl(v) || v === '.' || v === '..') {
    throw bad(where, `${show(v)} is not an interface name (1 to 15 characters, no '/', ':' or spaces)`);
  }
  return v;
}

function checkHost(name: string, raw: unknown): InventoryHost {
  const at = `hosts.${name}`;
  if (!NAME.test(name)) throw bad(at, `'${name}' is not a host name (letters, digits, '.', '_', '-'; up to 32, starting with a letter or digit)`);
  if (!isPlainObject(raw)) throw bad(at, 'must be a mapping like { ssh: user@host, interface: eth1 }');
  for (const k of Object.keys(raw)) {
    if (!(HOST_KEYS as readonly string[]).includes(k)) throw bad(`${at}.${k}`, `unknown key (one of: ${HOST_KEYS.join(', ')})`);
  }
  const local = raw.local;
  if (local !== undefined && local !== true) throw bad(`${at}.local`, `${show(local)}: only 'true' (this machine, no ssh); leave it out for an ssh host`);
  const ssh = raw.ssh;
  if (local === true && ssh !== undefined) throw bad(at, 'give ssh or local: true, not both');
  if (local !== true) {
    if (ssh === undefined) throw bad(`${at}.ssh`, 'missing: how to reach the host (user@host, an ssh_config alias, ssh://user@[addr]:port), or local: true');
    if (typeof ssh !== 'string' || !isDestination(ssh)) throw bad(`${at}.ssh`, `${show(ssh)} is not an ssh destination (no spaces, not starting with '-')`);
  }
  if (raw.interface === undefined) throw bad(`${at}.interface`, 'missing: the interface the host sends or receives on (e.g. eth1)');
  const iface = checkInterfaceName(`${at}.interface`, raw.interface);
  const mcbench = raw.mcbench;
  if (mcbench !== undefined && (typeof mcbench !== 'string' || !isMcbench(mcbench))) {
    throw bad(`${at}.mcbench`, `${show(mcbench)} is not an absolute path or a command name`);
  }
  const sudo = raw.sudo;
  if (sudo !== undefined && typeof sudo !== 'boolean') throw bad(`${at}.sudo`, `${show(sudo)} is not true or false`);
  if (sudo === true && local === true) throw bad(`${at}.sudo`, 'not for a local host (run mcbench itself as root)');
  return { name, ssh: typeof ssh === 'string' ? ssh : null, local: local === true, interface: iface, mcbench: typeof mcbench === 'string' ? mcbench : null, sudo: sudo === true };
}

function hostRef(inv: Map<string, InventoryHost>, where: string, v: unknown): string {
  if (typeof v !== 'string' || !inv.has(v)) throw bad(where, `${show(v)} is not a host of the inventory (one of: ${[...inv.keys()].join(', ')})`);
  return v;
}

/** Checks who sends and who receives: known hosts, at least one receiver, no host twice. */
export function checkRoles(hosts: Map<string, InventoryHost>, sender: unknown, receivers: unknown, where: { sender: string; receivers: string }): { sender: string; receivers: string[] } {
  const s = hostRef(hosts, where.sender, sender);
  if (!Array.isArray(receivers) || receivers.length === 0) throw bad(where.receivers, 'give at least one receiving host');
  if (receivers.length > 15) throw bad(where.receivers, `${receivers.length} receivers: at most 15`);
  const r = receivers.map((x) => hostRef(hosts, where.receivers, x));
  const dup = r.find((x, i) => r.indexOf(x) !== i);
  if (dup) throw bad(where.receivers, `${dup} is named twice`);
  if (r.includes(s)) throw bad(where.receivers, `${s} is the sender; a host either sends or receives`);
  return { sender: s, receivers: r };
}

/** Validates a parsed inventory object. */
export function validateInventory(raw: unknown): Inventory {
  if (!isPlainObject(raw)) throw bad('inventory', 'must be a mapping with hosts, sender and receivers');
  for (const k of Object.keys(raw)) {
    if (!(TOP_KEYS as readonly string[]).includes(k)) throw bad(k, `unknown key (one of: ${TOP_KEYS.join(', ')})`);
  }
  if (!isPlainObject(raw.hosts) || Object.keys(raw.hosts).length === 0) throw bad('hosts', 'missing or empty: a mapping of host name to { ssh | local: true, interface }');
  const hosts = new Map<string, InventoryHost>();
  for (const [name, h] of Object.entries(raw.hosts)) hosts.set(name, checkHost(name, h));
  if (hosts.size > 16) throw bad('hosts', `${hosts.size} hosts: at most 16`);
  const roles = checkRoles(hosts, raw.sender, raw.receivers === undefined ? undefined : raw.receivers, { sender: 'sender', receivers: 'receivers' });
  return { hosts: [...hosts.values()], ...roles };
}

/** Parses inventory text (YAML; JSON is YAML too) and validates it. */
export function parseInventory(text: string): Inventory {
  let raw: unknown;
  try {
    // uniqueKeys: a host named twice is an error, not "the last one wins"
    raw = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (e) {
    throw new UsageError(`not valid YAML or JSON: ${(e as Error).message.split('\n')[0]!.trim()}`);
  }
  return validateInventory(raw);
}

/** --sender / --receivers override the file's choice (comma-separated host names). */
export function withRoles(inv: Inventory, opts: { sender?: string | null; receivers?: string | null }): Inventory {
  const map = new Map(inv.hosts.map((h) => [h.name, h]));
  const receivers = opts.receivers === undefined || opts.receivers === null ? inv.receivers : opts.receivers.split(',').map((x) => x.trim()).filter(Boolean);
  const roles = checkRoles(map, opts.sender ?? inv.sender, receivers, { sender: '--sender', receivers: '--receivers' });
  return { ...inv, ...roles };
}

/** --on g2,g3: the hosts where settings are applied (default: the receivers); each must take part in the run. */
export function settingsHosts(inv: Inventory, raw: string | null | undefined): string[] {
  if (raw === undefined || raw === null) return inv.receivers;
  const names = raw.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw bad('--on', 'give host names, e.g. --on g2,g3');
  const part = [inv.sender, ...inv.receivers];
  for (const n of names) {
    if (!part.includes(n)) throw bad('--on', `'${n}' is not a host of this run (one of: ${part.join(', ')})`);
  }
  return [...new Set(names)];
}

/** Options mcbench sets itself: another value would break multiplexing, batch mode or the lifeline. */
const OURS = ['batchmode', 'controlmaster', 'controlpath', 'controlpersist', 'requesttty', 'permitlocalcommand', 'localcommand', 'remotecommand', 'sessiontype', 'stdinnull', 'forkafterauthentication'];

/** --ssh-option KEY=VALUE (repeatable) → ssh `-o KEY=VALUE` pairs. */
export function parseSshOptions(raw: unknown): string[] {
  const items = raw === undefined || raw === null ? [] : (Array.isArray(raw) ? raw : [raw]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  return items.map((it) => {
    const m = /^([A-Za-z][A-Za-z0-9]{1,63})=(.{1,1024})$/.exec(it);
    if (!m || hasControl(it)) throw bad('--ssh-option', `'${it}' is not KEY=VALUE (an ssh_config option, e.g. ConnectTimeout=5)`);
    if (OURS.includes(m[1]!.toLowerCase())) throw bad('--ssh-option', `${m[1]} is set by mcbench itself (BatchMode, ControlMaster/ControlPath, the session) and cannot be changed`);
    return `${m[1]}=${m[2]}`;
  });
}
