// Validated, typed run specifications. Every flag is checked here, before the addon is
// loaded or a socket opened, so bad input gets one line naming the flag and its valid range.
import { isIPv4, isIPv6 } from 'node:net';
import { checkSsm, parseGroupAddress, parseSources, type AddressFamily } from './multicast-address.js';
import { HEADER_LENGTH } from './wire.js';
import { parsePattern, patternRate, type PatternSpec } from './pattern.js';
import { parseGroupList } from './groups.js';
import { shown, UsageError } from './errors.js';
import { inRange, parseCount, parseInteger, parseRate, parseSeconds, parseSize } from './units.js';

export const MAX_PAYLOAD = 65507;
const MAX_RCVBUF = 2 ** 31 - 1;
/** the kernel doubles SO_RCVBUF (for its bookkeeping) into an int: the most one can ask for */
const MAX_RCVBUF_ASK = Math.floor(MAX_RCVBUF / 2);

export interface CommonSpec {
  group: string;
  /** every -g in order (ranges expanded): [group] for one; several are IPv4, sent round robin */
  groups: string[];
  /** the group's address family */
  family: AddressFamily;
  port: number;
  /** interface name or one of its IPv4 or IPv6 addresses (fe80::1%eth0 with its zone); null = routing table */
  interface: string | null;
  batch: number;
  intervalSeconds: number;
  json: string | null;
  quiet: boolean;
}

/** --gso: UDP_SEGMENT, several whole mcbench datagrams per send call the kernel cuts apart */
export interface GsoSpec {
  /** datagrams per GSO send (1-64) */
  segments: number;
  /** --gso auto: when the kernel or the device refuses GSO, go on one datagram per call (one warning) */
  fallback: boolean;
}

/** The kernel's UDP_MAX_SEGMENTS on the oldest kernels with UDP_SEGMENT. */
export const MAX_GSO_SEGMENTS = 64;
/** recv --coalesce when not given, us (BENCHMARKS.md, issue #13: the sweep's 500 us with batch 256) */
export const DEFAULT_COALESCE_US = 500;

/**
 * --gso [N|auto]: absent = null; bare or `auto` = as many datagrams as fit one 65507-byte send
 * (at most 64); N = that many. N x length must fit one send (the largest UDP payload).
 */
export function parseGso(raw: unknown, length: number): GsoSpec | null {
  if (raw === undefined || raw === null || raw === false) return null;
  if (Array.isArray(raw)) throw new UsageError('--gso: given more than once; give it once');
  const text = raw === true ? '' : shown(raw).trim();
  const fallback = text === 'auto';
  const fit = Math.min(MAX_GSO_SEGMENTS, Math.floor(MAX_PAYLOAD / length));
  if (text === '' || fallback) {
    if (fit < 2) throw new UsageError(`--gso: ${length}-byte datagrams leave no room for two in one ${MAX_PAYLOAD}-byte GSO send (--gso needs -l/--length up to ${Math.floor(MAX_PAYLOAD / 2)})`);
    return { segments: fit, fallback };
  }
  if (!/^\d+$/.test(text)) throw new UsageError(`--gso: '${text}' is not a segment count (1-${MAX_GSO_SEGMENTS}) or auto`);
  const segments = Number(text);
  if (segments < 1 || segments > MAX_GSO_SEGMENTS) throw new UsageError(`--gso: ${segments} segments is out of range (1-${MAX_GSO_SEGMENTS}, the kernel's UDP_MAX_SEGMENTS)`);
  if (segments * length > MAX_PAYLOAD) {
    throw new UsageError(`--gso: ${segments} segments of ${length} bytes are ${segments * length} bytes; one GSO send holds at most ${MAX_PAYLOAD} (--gso up to ${Math.floor(MAX_PAYLOAD / length)} at -l ${length})`);
  }
  return { segments, fallback: false };
}

export interface SendSpec extends CommonSpec {
  /** --gso: null = one datagram per message */
  gso: GsoSpec | null;
  /** --burst / --isochronous: null = evenly paced (or unlimited) */
  pattern: PatternSpec | null;
  length: number;
  /** packets per second; 0 = unlimited */
  pps: number;
  /** the bit rate asked for (-b), or pps * length * 8 when --pps was given; 0 = unlimited */
  bitsPerSecond: number;
  timeSeconds: number | null;
  count: number | null;
  ttl: number;
  loop: boolean;
  /** --session: the session id the sender uses (16 hex digits); null = random */
  sessionId: string | null;
}

export interface RecvSpec extends CommonSpec {
  rcvbuf: number | null;
  rcvbufForce: boolean;
  idleTimeoutSeconds: number;
  timeSeconds: number | null;
  expectSessions: number | null;
  /** --expect-session: the one session (16 hex digits) this receiver measures and waits for; others are counted and ignored; null = every session */
  expectSession: string | null;
  /** test aid: the receiver does not read for this long after joining */
  readPauseSeconds: number;
  /** record one-way delay histograms */
  latency: boolean;
  /** write the one-way delay percentile distribution (.hgrm) here */
  hgrm: string | null;
  /** --verify-payload: copy each datagram whole and check the sender's payload pattern */
  verifyPayload: boolean;
  /** --gro: UDP_GRO on the socket (a GSO send kept whole, one buffer of datagrams) */
  gro: boolean;
  /** --coalesce: the longest wait before a read after one that showed dense traffic, us; 0 = none */
  coalesceMicroseconds: number;
  /** --stall: a silence between DATA arrivals longer than this is a stall, s; null = max(50 ms, 20x the median inter-arrival) */
  stallSeconds: number | null;
  /** --source: SSM, join (S,G) for each of these; empty = any source */
  sources: string[];
  /** a note for the user (a source on an ASM group); null = none */
  ssmNote: string | null;
}

export function parseGroup(raw: unknown): string {
  return parseGroupAddress(raw).address;
}

export function parsePort(raw: unknown): number {
  // decimal digits only: Number() would take 0x1838 and 6.2e3
  const text = typeof raw === 'number' ? String(raw) : String(raw).trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`-p/--port: '${String(raw)}' is not a port (decimal digits, 1 to 65535)`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw new UsageError(`-p/--port: '${String(raw)}' is out of range (1 to 65535)`);
  return n;
}

export function parseInterface(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const s = shown(raw).trim();
  if (/^[\d.]+$/.test(s) && !isIPv4(s)) throw new UsageError(`-I/--interface: '${s}' is neither an interface name nor an IPv4 address`);
  if (s.includes(':')) {
    const zone = s.indexOf('%');
    const addr = zone >= 0 ? s.slice(0, zone) : s;
    if (!isIPv6(addr) || (zone >= 0 && !/^[^\s/%]{1,15}$/.test(s.slice(zone + 1)))) {
      throw new UsageError(`-I/--interface: '${s}' is neither an interface name nor an IPv6 address (fe80::1%eth0 names the zone)`);
    }
    return s;
  }
  if (!isIPv4(s) && (s.length > 15 || /[\s/]/.test(s))) {
    throw new UsageError(`-I/--interface: '${s}' is not a valid interface name (at most 15 characters, no '/' or spaces)`);
  }
  return s;
}

/**
 * An output file flag (`--json FILE`, `--hgrm FILE`), checked for form only: pure, no file
 * system. Whether its folder exists and is writable is report/files.ts's checkOutputTarget(),
 * which the commands call before they measure. `-` is stdout.
 */
export function outputPath(flag: string, raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  const path = shown(raw);
  if (path === '') throw new UsageError(`${flag}: give a file name (or - for stdout)`);
  return path;
}


function common(a: Record<string, unknown>, defaultBatch: number): CommonSpec {
  const groups = parseGroupList(a.group);
  const group = parseGroupAddress(groups[0]);
  const iface = parseInterface(a.interface);
  if (group.linkLocal && iface === null) throw new UsageError(`-I/--interface: ${group.address} is a link-local group (ff02::/16): name its interface with -I`);
  return {
    group: group.address,
    groups,
    family: group.family,
    port: parsePort(a.port),
    interface: iface,
    batch: a.batch === undefined ? defaultBatch : parseInteger('--batch', a.batch, 1, 1024),
    intervalSeconds: a.interval === undefined ? 1 : intervalSeconds(a.interval),
    json: outputPath('--json', a.json),
    quiet: a.quiet === true,
  };
}

function intervalSeconds(raw: unknown): number {
  const v = parseSeconds('-i/--interval', raw);
  if (v !== 0) inRange('-i/--interval', v, 0.1, 3600, ' s');
  return v;
}

export function sendSpec(a: Record<string, unknown>): SendSpec {
  const c = common(a, 32);
  const length = a.length === undefined ? 1400 : parseSize('-l/--length', a.length);
  if (length < HEADER_LENGTH || length > MAX_PAYLOAD) {
    throw new UsageError(`-l/--length: ${length} bytes is out of range (${HEADER_LENGTH}, the mcbench header, to ${MAX_PAYLOAD}, the largest UDP payload)`);
  }
  let pps: number;
  let bitsPerSecond: number;
  const pattern = parsePattern(a);
  if (c.groups.length > 1 && a.gso !== undefined && a.gso !== false) throw new UsageError('--gso: one GSO send goes to one group; with several -g send without --gso');
  if (pattern) ({ pps, bitsPerSecond } = patternRate(pattern, length));
  else if (a.pps !== undefined) {
    if (a.bandwidth !== undefined) throw new UsageError('-b/--bandwidth and --pps: give one rate, not both');
    pps = inRange('--pps', parseRate('--pps', a.pps), 0, 1e8, ' pps');
    bitsPerSecond = pps * length * 8;
  } else {
    bitsPerSecond = a.bandwidth === undefined ? 1e6 : inRange('-b/--bandwidth', parseRate('-b/--bandwidth', a.bandwidth), 0, 1e12, ' bit/s');
    pps = bitsPerSecond / (length * 8);
  }
  if (!pattern && pps > 0 && pps < 0.01) throw new UsageError(`-b/--bandwidth: the rate gives ${pps.toPrecision(2)} packets/s; the lowest is 0.01 (or 0 for unlimited)`);
  const count = a.count === undefined ? null : inRange('-n/--count', parseCount('-n/--count', a.count), 1, 2 ** 53);
  let timeSeconds: number | null = a.time === undefined ? null : inRange('-t/--time', parseSeconds('-t/--time', a.time), 0.01, 86400 * 365, ' s');
  if (timeSeconds === null && count === null) timeSeconds = 10; // iperf's default
  return {
    ...c,
    length,
    pps,
    bitsPerSecond,
    timeSeconds,
    count,
    ttl: a.ttl === undefined ? 1 : parseInteger('--ttl', a.ttl, 0, 255),
    sessionId: parseSessionId('--session', a.session),
    loop: a.loop !== false,
    gso: parseGso(a.gso, length),
    pattern,
  };
}

/**
 * --session / --expect-session: a session id as the results print it, 1 to 16 hex digits (to 16,
 * zero-padded, lower case); 0 is not an id (to the sender it means "pick one at random").
 */
export function parseSessionId(flag: string, raw: unknown): string | null {
  if (raw === undefined) return null;
  if (Array.isArray(raw)) throw new UsageError(`${flag}: given more than once; give it once`);
  const text = shown(raw);
  if (!/^[0-9a-fA-F]{1,16}$/.test(text) || /^0+$/.test(text)) throw new UsageError(`${flag}: '${text}' is not a session id (1 to 16 hex digits, not 0)`);
  return text.toLowerCase().padStart(16, '0');
}

export function recvSpec(a: Record<string, unknown>): RecvSpec {
  const verifyPayload = a['verify-payload'] === true || a.verifyPayload === true;
  const gro = a.gro === true;
  const asked = a.coalesce === undefined ? null : parseInteger('--coalesce', a.coalesce, 0, 1000);
  // A wait fills a batch, so coalescing reads take 256 (fewer reads still); a whole-datagram slot
  // (--verify-payload, --gro: 64 KiB each) keeps 64 so the slots stay at 4 MiB.
  const wholeSlots = verifyPayload || gro;
  const c = common(a, asked === 0 || wholeSlots ? 64 : 256);
  // (native kCoalesceMinGather: a wait must be able to gather 32 messages into the next read)
  if (asked !== null && asked > 0 && c.batch < 32) throw new UsageError(`--coalesce: needs --batch 32 or more (a wait gathers at least 32 datagrams; --batch ${c.batch} would never wait)`);
  // On by default: a wait is taken only after a dense read and only where, at the rate just seen,
  // it fills at most an eighth of the buffer with 32 or more datagrams (a rate that jumps during
  // one can still fill more: the result then warns); it cuts the receiver's wakeups there. A
  // --batch below 32 could never wait, so it means none.
  const coalesceMicroseconds = asked ?? (c.batch < 32 ? 0 : DEFAULT_COALESCE_US);
  if (a['expect-session'] !== undefined && a.sessions !== undefined) throw new UsageError('--expect-session: not with --sessions (the receiver waits for that one session\'s FIN)');
  const rcvbuf = a.rcvbuf === undefined ? null : inRange('--rcvbuf', parseSize('--rcvbuf', a.rcvbuf), 1, MAX_RCVBUF_ASK, ' bytes');
  const rcvbufForce = a['rcvbuf-force'] === true || a.rcvbufForce === true;
  if (rcvbufForce && rcvbuf === null) throw new UsageError('--rcvbuf-force: give the size with --rcvbuf (e.g. --rcvbuf 8M --rcvbuf-force)');
  if (a.latency === false && typeof a.hgrm === 'string') throw new UsageError('--hgrm: needs latency recording (drop --no-latency)');
  const hgrm = outputPath('--hgrm', a.hgrm);
  if (hgrm === '-') throw new UsageError('--hgrm: give a file (the JSON result can go to stdout with --json -)');
  const group = parseGroupAddress(c.group);
  const sources = parseSources(a.source, group);
  if (c.groups.length > 1 && sources.length > 0) throw new UsageError('--source: SSM joins one group; with several -g give no --source');
  const ssmNote = checkSsm(group, sources);
  return {
    ...c,
    sources,
    ssmNote,
    rcvbuf,
    rcvbufForce,
    idleTimeoutSeconds: a['idle-timeout'] === undefined ? 3 : inRange('--idle-timeout', parseSeconds('--idle-timeout', a['idle-timeout']), 0.1, 86400, ' s'),
    timeSeconds: a.time === undefined ? null : inRange('-t/--time', parseSeconds('-t/--time', a.time), 0.01, 86400 * 365, ' s'),
    expectSessions: a.sessions === undefined ? null : parseInteger('--sessions', a.sessions, 1, 32),
    expectSession: parseSessionId('--expect-session', a['expect-session']),
    readPauseSeconds: a['test-read-pause'] === undefined ? 0 : inRange('--test-read-pause', parseSeconds('--test-read-pause', a['test-read-pause']), 0, 3600, ' s'),
    latency: a.latency !== false,
    hgrm,
    verifyPayload,
    coalesceMicroseconds,
    gro,
    stallSeconds: a.stall === undefined ? null : inRange('--stall', parseSeconds('--stall', a.stall), 0.001, 3600, ' s'),
  };
}
