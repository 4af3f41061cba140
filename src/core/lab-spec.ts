// What a lab is made of: names and the validated spec. Every value is checked here, before
// anything is created, and bad input names the CLI flag and its valid range (UsageError, exit 2).
import { shown, UsageError } from './errors.js';
import { inRange, parseCount, parseSeconds } from './units.js';

export const DEFAULT_LAB_NAME = 'lab';
export const MIN_GUESTS = 2;
export const MAX_GUESTS = 16;
/** IFNAMSIZ - 1: the longest interface name the kernel takes */
export const MAX_IFNAME = 15;
/** the guest side of each veth pair, inside its namespace */
export const GUEST_IF = 'eth0';

export const labPrefix = (lab: string) => `mcb-${lab}-`;
export const bridgeName = (lab: string) => `mcb-${lab}-br`;
export const hostLinkName = (lab: string, k: number) => `mcb-${lab}-h${k}`;
export const guestNetns = (lab: string, k: number) => `mcb-${lab}-g${k}`;
export const guestName = (k: number) => `g${k}`;
/** the SSM router's namespace and its upstream port on the bridge (LabSpec.ssmRouter) */
export const routerNetns = (lab: string) => `mcb-${lab}-r`;
export const routerLinkName = (lab: string) => `mcb-${lab}-ru`;

/** Everything optional is null: the kernel's default stays. Intervals are in seconds. */
export interface LabSpec {
  name: string;
  guests: number;
  snooping: 0 | 1 | null;
  querier: 0 | 1 | null;
  membershipInterval: number | null;
  querierInterval: number | null;
  queryInterval: number | null;
  responseInterval: number | null;
  startupQueryInterval: number | null;
  stp: 0 | 1 | null;
  /**
   * g1 also plays the upstream switch's IGMP querier: 'once' sends one general query when the
   * lab is up and then stays quiet (seed 002's trap), 'periodic' keeps querying every
   * upstreamQueryInterval seconds for the lab's life, 'off' sends none.
   */
  upstreamQuerier: 'off' | 'once' | 'periodic';
  /** seconds between the upstream querier's queries when periodic (RFC 2236 default 125) */
  upstreamQueryInterval: number;
  /** which queries the upstream querier sends: IGMPv2, MLD (the guests need IPv6), or both */
  upstreamQueryProtocol: 'igmp' | 'mld' | 'both';
  txqueuelen: number | null;
  mtu: number | null;
  /** the IGMP version of the bridge's own queries (mcast_igmp_version: 2 or 3; kernel default 2) */
  igmpVersion: 2 | 3 | null;
  /** the MLD version of the bridge's own queries (mcast_mld_version: 1 or 2; kernel default 1) */
  mldVersion: 1 | 2 | null;
  /**
   * Per guest (index k-1): net.ipv4.conf.eth0.force_igmp_version in its namespace (0 follows
   * the querier, 1-3 pins the version the guest reports with); null leaves the kernel's 0.
   */
  forceIgmpVersion: Array<0 | 1 | 2 | 3 | null>;
  /** per guest: net.ipv6.conf.eth0.force_mld_version (0 follows the querier, 1 or 2 pins it) */
  forceMldVersion: Array<0 | 1 | 2 | null>;
  /**
   * The last guest sits behind an SSM router (`mcbench ssm-router` in its own namespace, one port
   * on the bridge, the guest's veth as its downstream): what a real SSM network does with an
   * IGMPv2 report for 232/8 (ignores it), which the bridge alone does not show.
   */
  ssmRouter: boolean;
}

export type LabSpecInput = Partial<LabSpec>;

export type IntervalKnob = 'membershipInterval' | 'querierInterval' | 'queryInterval' | 'responseInterval' | 'startupQueryInterval';

/**
 * The bridge's IGMP timers. `ip link` takes them in centiseconds (clock_t, USER_HZ=100) and
 * /sys/class/net/BR/bridge/* shows them the same way. The ranges are the kernel's: it clamps
 * the query intervals to 1 s .. 24 h (with a warning in dmesg), and IGMPv2 queries carry the
 * response interval as a one-byte count of 0.1 s, so 25.5 s is the most they can say.
 */
export const INTERVAL_KNOBS: Record<IntervalKnob, { flag: string; ipName: string; sysfs: string; min: number; max: number; describe: string }> = {
  membershipInterval: {
    flag: '--membership-interval', ipName: 'mcast_membership_interval', sysfs: 'multicast_membership_interval', min: 0.1, max: 86400,
    describe: 'seconds without a report before the bridge forgets a group member (kernel default 260)',
  },
  querierInterval: {
    flag: '--querier-interval', ipName: 'mcast_querier_interval', sysfs: 'multicast_querier_interval', min: 0.1, max: 86400,
    describe: 'seconds another querier counts as present after its last query (kernel default 255)',
  },
  queryInterval: {
    flag: '--query-interval', ipName: 'mcast_query_interval', sysfs: 'multicast_query_interval', min: 1, max: 86400,
    describe: 'seconds between the bridge querier\'s general queries (kernel default 125)',
  },
  responseInterval: {
    flag: '--response-interval', ipName: 'mcast_query_response_interval', sysfs: 'multicast_query_response_interval', min: 0.1, max: 25.5,
    describe: 'max response time in the bridge\'s queries, seconds (kernel default 10)',
  },
  startupQueryInterval: {
    flag: '--startup-query-interval', ipName: 'mcast_startup_query_interval', sysfs: 'multicast_startup_query_interval', min: 1, max: 86400,
    describe: 'seconds between the querier\'s first queries (kernel default 31.25)',
  },
};

export const TXQUEUELEN_MAX = 4294967295;
export const MTU_MIN = 68;
export const MTU_MAX = 65535;

/** seconds to the bridge's centiseconds */
export const toCentiseconds = (s: number) => Math.round(s * 100);

function checkName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw : String(raw);
  if (!/^[a-z0-9]{1,8}$/.test(name)) throw new UsageError(`--name: '${name}' is not a lab name (1 to 8 characters of a-z and 0-9)`);
  return name;
}

function checkBit(flag: string, raw: unknown): 0 | 1 | null {
  if (raw === undefined || raw === null) return null;
  if (raw === 0 || raw === '0' || raw === false) return 0;
  if (raw === 1 || raw === '1' || raw === true) return 1;
  throw new UsageError(`${flag}: '${shown(raw)}' is out of range (0 or 1)`);
}

function checkInterval(knob: IntervalKnob, raw: unknown): number | null {
  if (raw === undefined || raw === null) return null;
  const { flag, min, max } = INTERVAL_KNOBS[knob];
  const s = inRange(flag, parseSeconds(flag, raw), min, max, ' s');
  if (Math.abs(s * 100 - Math.round(s * 100)) > 1e-6) {
    throw new UsageError(`${flag}: ${s} s is finer than the bridge's resolution (0.01 s)`);
  }
  return s;
}

function checkChoice<T extends number>(flag: string, raw: unknown, allowed: readonly T[]): T | null {
  if (raw === undefined || raw === null) return null;
  const v = allowed.find((x) => raw === x || raw === String(x));
  if (v === undefined) throw new UsageError(`${flag}: '${shown(raw)}' is out of range (${allowed.join(' or ')})`);
  return v;
}

/**
 * A per-guest knob: 'V' (every guest) or 'gK=V' (guest K), repeatable; later items win. The
 * result has one entry per guest, null where nothing was asked.
 */
function checkPerGuest<T extends number>(flag: string, raw: unknown, allowed: readonly T[], guests: number): Array<T | null> {
  const out: Array<T | null> = Array.from({ length: guests }, () => null);
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw) && raw.length === guests && raw.every((x) => x === null || allowed.includes(x as T))) {
    return raw as Array<T | null>; // a spec read back from a state file
  }
  for (const item of Array.isArray(raw) ? raw : [raw]) {
    const text = typeof item === 'number' ? String(item) : typeof item === 'string' ? item : shown(item);
    const m = /^(?:g(\d{1,2})=)?(\d)$/.exec(text);
    const v = m ? allowed.find((x) => String(x) === m[2]) : undefined;
    if (!m || v === undefined) {
      throw new UsageError(`${flag}: '${text}' is not V or gK=V with V ${allowed.join(', ')} and K a guest (1-${guests})`);
    }
    const k = m[1] === undefined ? null : Number(m[1]);
    if (k !== null && (k < 1 || k > guests)) throw new UsageError(`${flag}: guest g${k} is out of range (g1-g${guests})`);
    for (let i = 0; i < guests; i++) if (k === null || i === k - 1) out[i] = v;
  }
  return out;
}

function checkCount(flag: string, raw: unknown, min: number, max: number): number {
  return inRange(flag, parseCount(flag, raw), min, max);
}

/**
 * Validates a spec, from the CLI (strings) or from code (numbers). Fails on the first bad value
 * with a UsageError that names the flag and its range.
 */
export function labSpec(input: Record<string, unknown> | LabSpecInput): LabSpec {
  const raw = input as Record<string, unknown>;
  const name = checkName(raw.name ?? DEFAULT_LAB_NAME);
  const guests = raw.guests === undefined || raw.guests === null ? 2 : checkCount('--guests', raw.guests, MIN_GUESTS, MAX_GUESTS);
  const longest = hostLinkName(name, guests);
  if (longest.length > MAX_IFNAME) {
    throw new UsageError(
      `--name: '${name}' with --guests ${guests} makes the link name ${longest} (${longest.length} characters, the kernel takes ${MAX_IFNAME}); ` +
        `use a name of at most ${name.length - (longest.length - MAX_IFNAME)} characters`,
    );
  }
  const interval = (k: IntervalKnob) => checkInterval(k, raw[k] ?? raw[kebab(k)]);
  return {
    name,
    guests,
    snooping: checkBit('--snooping', raw.snooping),
    querier: checkBit('--querier', raw.querier),
    membershipInterval: interval('membershipInterval'),
    querierInterval: interval('querierInterval'),
    queryInterval: interval('queryInterval'),
    responseInterval: interval('responseInterval'),
    startupQueryInterval: interval('startupQueryInterval'),
    stp: checkBit('--stp', raw.stp),
    upstreamQuerier: checkUpstreamQuerier(raw.upstreamQuerier ?? raw['upstream-querier']),
    upstreamQueryInterval: (() => {
      const v = raw.upstreamQueryInterval ?? raw['upstream-query-interval'];
      return v === undefined || v === null ? 125 : inRange('--upstream-query-interval', parseSeconds('--upstream-query-interval', v), 1, 3600, ' s');
    })(),
    upstreamQueryProtocol: checkQueryProtocol(raw.upstreamQueryProtocol ?? raw['upstream-query-protocol']),
    txqueuelen: raw.txqueuelen === undefined || raw.txqueuelen === null ? null : checkCount('--txqueuelen', raw.txqueuelen, 0, TXQUEUELEN_MAX),
    mtu: raw.mtu === undefined || raw.mtu === null ? null : checkCount('--mtu', raw.mtu, MTU_MIN, MTU_MAX),
    igmpVersion: checkChoice('--igmp-version', raw.igmpVersion ?? raw['igmp-version'], [2, 3] as const),
    mldVersion: checkChoice('--mld-version', raw.mldVersion ?? raw['mld-version'], [1, 2] as const),
    forceIgmpVersion: checkPerGuest('--force-igmp-version', raw.forceIgmpVersion ?? raw['force-igmp-version'], [0, 1, 2, 3] as const, guests),
    forceMldVersion: checkPerGuest('--force-mld-version', raw.forceMldVersion ?? raw['force-mld-version'], [0, 1, 2] as const, guests),
    ssmRouter: checkBit('--ssm-router', raw.ssmRouter ?? raw['ssm-router']) === 1,
  };
}

function checkUpstreamQuerier(raw: unknown): LabSpec['upstreamQuerier'] {
  if (raw === undefined || raw === null) return 'off';
  if (raw === 'off' || raw === 'once' || raw === 'periodic') return raw;
  throw new UsageError(`--upstream-querier: '${shown(raw)}' is not one of off, once, periodic`);
}

function checkQueryProtocol(raw: unknown): LabSpec['upstreamQueryProtocol'] {
  if (raw === undefined || raw === null) return 'igmp';
  if (raw === 'igmp' || raw === 'mld' || raw === 'both') return raw;
  throw new UsageError(`--upstream-query-protocol: '${shown(raw)}' is not one of igmp, mld, both`);
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `g2`, `2` or `mcb-<lab>-g2` to the guest index; null when it is none of them. */
export function parseGuestRef(lab: string, ref: string): number | null {
  const m = /^(?:g)?(\d{1,2})$/.exec(ref) ?? new RegExp(`^${labPrefix(lab)}g(\\d{1,2})$`).exec(ref);
  if (!m) return null;
  const k = Number(m[1]);
  return k >= 1 && k <= MAX_GUESTS ? k : null;
}
