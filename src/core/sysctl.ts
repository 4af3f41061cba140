// `--set KEY=VALUE` (run, suite files, ab's --a/--b, settings apply), checked for form: pure. The
// KEY must be a sysctl name; the VALUE must parse for the setting's type where the registry
// knows it (an integer in range, a flag, a mode it names). Whether the sysctl exists and can be
// written on this host is host/sysctl.ts's checkSysctlWritable.
import { UsageError } from './errors.js';
import { findSettingDef, type SettingDef } from './settings-registry.js';
import { formatNumber } from './units.js';

/** dots between names of letters, digits, '_' and '-': no '/', no '..', no empty part */
const SYSCTL_KEY = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/i;
/** the kernel's int sysctls (proc_dointvec) take at most INT_MAX */
const INT_MAX = 2 ** 31 - 1;
/** long ones (udp_mem, pages) more, but a JS number is exact only this far */
const LONG_MAX = Number.MAX_SAFE_INTEGER;
const MAX_TEXT = 256;

export interface SetItem {
  key: string;
  value: number | string;
}

/** `/proc/sys/net/core/rmem_max` for `net.core.rmem_max` (the key is checked first). */
export function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/**
 * One `KEY=VALUE` item: the key's form and the value's type. `flag` prefixes every message
 * (`--set`, `--a`). Integers come back as numbers, other values as the text given.
 */
export function parseSetItem(flag: string, item: unknown): SetItem {
  const text = String(item);
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  const raw = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (eq < 0 || key === '' || raw === '') throw new UsageError(`${flag}: '${text}' is not KEY=VALUE (e.g. ${flag} net.core.rmem_max=26214400)`);
  if (!SYSCTL_KEY.test(key)) throw new UsageError(`${flag}: '${key}' is not a sysctl name (names of a-z, 0-9, _ and - joined by dots, e.g. net.core.rmem_max)`);
  const def = findSettingDef(key);
  const sysctl = def && def.path.startsWith('/proc/sys/') ? def : undefined;
  return { key, value: sysctl ? checkKnownValue(flag, key, raw, sysctl) : checkUnknownValue(flag, key, raw) };
}

function checkKnownValue(flag: string, key: string, raw: string, def: SettingDef): number | string {
  const bad = (what: string): never => {
    throw new UsageError(`${flag}: ${key}=${raw}: '${raw}' is not ${what}`);
  };
  if (def.parse === 'ints') {
    // udp_mem: min pressure max, in pages; given with spaces (quoted) or commas
    const parts = raw.split(/[\s,]+/);
    if (!parts.every((p) => /^\d+$/.test(p) && Number(p) <= LONG_MAX)) bad(`whitespace-separated whole numbers of ${def.unit} (0 to ${formatNumber(LONG_MAX)} each)`);
    return parts.join(' ');
  }
  if (def.parse !== 'int') return raw;
  if (def.labels) {
    const allowed = Object.keys(def.labels).map(Number);
    const names = allowed.map((n) => `${n} ${def.labels![n]}`).join(', ');
    if (!/^\d+$/.test(raw) || !allowed.includes(Number(raw))) bad(`one of ${names}`);
    return Number(raw);
  }
  if (!/^\d+$/.test(raw) || Number(raw) > INT_MAX) bad(`a whole number of ${def.unit} (0 to ${INT_MAX})`);
  return Number(raw);
}

function checkUnknownValue(flag: string, key: string, raw: string): number | string {
  // A sysctl the registry does not know: any one line of printable text; an integer stays one.
  if (raw.length > MAX_TEXT || /\p{Cc}/u.test(raw)) {
    throw new UsageError(`${flag}: ${key}: the value is not one line of printable text (at most ${MAX_TEXT} characters)`);
  }
  return /^\d+$/.test(raw) && Number(raw) <= LONG_MAX ? Number(raw) : raw;
}
