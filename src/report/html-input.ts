// The documents `mcbench report` reads: any mcbench JSON document (result@1 from send/recv,
// run@1, ab@1, suite@1), told apart by its `schema` and checked field by field for what the
// report uses, so a foreign or broken file is one line naming the file and the field, never a
// stack trace or a chart of garbage. Fields the report does not use are not looked at: documents
// may carry more than this version knows. Pure: text in, typed document out.
import { AB_SCHEMA, type AbReport } from '../core/ab.js';
import { UsageError } from '../core/errors.js';
import { decodeHistogram } from '../core/latency.js';
import { RESULT_SCHEMA, type RunResult } from '../core/result.js';
import { RUN_SCHEMA, type RunReport } from '../core/run-report.js';
import { SUITE_SCHEMA, type SuiteReport } from '../core/suite.js';

export type McbenchDocument =
  | { kind: 'result'; doc: RunResult }
  | { kind: 'run'; doc: RunReport }
  | { kind: 'ab'; doc: AbReport }
  | { kind: 'suite'; doc: SuiteReport };

export const REPORT_SCHEMAS = [RESULT_SCHEMA, RUN_SCHEMA, AB_SCHEMA, SUITE_SCHEMA] as const;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Thrown at the first field that is not what the report needs; the path says where. */
class Bad extends Error {}

function at(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const k of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function obj(o: unknown, path: string, where: string): Obj {
  const v = path ? at(o, path) : o;
  if (!isObj(v)) throw new Bad(`${where}${path} is not an object`);
  return v;
}
function arr(o: unknown, path: string, where: string): unknown[] {
  const v = at(o, path);
  if (!Array.isArray(v)) throw new Bad(`${where}${path} is not a list`);
  return v;
}
function num(o: unknown, path: string, where: string, nullable = false): void {
  const v = at(o, path);
  if (nullable && v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(`${where}${path} is not a number`);
}
function str(o: unknown, path: string, where: string, nullable = false): void {
  const v = at(o, path);
  if (nullable && (v === null || v === undefined)) return;
  if (typeof v !== 'string') throw new Bad(`${where}${path} is not a string`);
}
function bool(o: unknown, path: string, where: string): void {
  if (typeof at(o, path) !== 'boolean') throw new Bad(`${where}${path} is not true or false`);
}

function latencySummary(o: unknown, path: string, where: string): void {
  const v = at(o, path);
  if (v === null || v === undefined) return;
  const w = `${where}${path}.`;
  for (const k of ['count', 'min_ms', 'mean_ms', 'p50_ms', 'p99_ms', 'max_ms']) num(v, k, w);
  str(v, 'hdr_base64', w);
  // the charts are drawn from the histogram itself: it must decode
  try {
    decodeHistogram(at(v, 'hdr_base64') as string);
  } catch {
    throw new Bad(`${w}hdr_base64 is not an HdrHistogram (compressed base64)`);
  }
}

function settingsSnapshot(o: unknown, path: string, where: string): void {
  const v = at(o, path);
  if (v === null || v === undefined) return;
  const w = `${where}${path}.`;
  arr(v, 'entries', w).forEach((e, i) => {
    str(e, 'id', `${w}entries[${i}].`);
    str(e, 'key', `${w}entries[${i}].`);
    bool(e, 'available', `${w}entries[${i}].`);
  });
}

function lossPart(o: unknown, path: string, where: string): void {
  num(o, `${path}.percent`, where, true);
  num(o, `${path}.count`, where, true);
}

function receiverResult(r: unknown, where: string): void {
  obj(r, 'start', where);
  str(r, 'start.hostname', where);
  settingsSnapshot(r, 'start.settings', where);
  arr(r, 'intervals', where).forEach((iv, i) => {
    for (const k of ['start', 'end', 'bits_per_second', 'packets_per_second', 'lost_percent', 'lost_packets']) num(iv, `sum.${k}`, `${where}intervals[${i}].`);
  });
  for (const k of ['packets', 'lost_packets', 'lost_percent', 'expected_packets', 'bits_per_second', 'packets_per_second', 'seconds']) num(r, `end.sum.${k}`, where);
  arr(r, 'end.stalls', where).forEach((s, i) => {
    num(s, 'start_seconds', `${where}end.stalls[${i}].`);
    num(s, 'end_seconds', `${where}end.stalls[${i}].`);
    num(s, 'seconds', `${where}end.stalls[${i}].`);
  });
  obj(r, 'end.loss_attribution', where);
  for (const k of ['socket_buffer', 'backlog', 'interface', 'unaccounted']) lossPart(r, `end.loss_attribution.${k}`, where);
  obj(r, 'end.latency', where);
  latencySummary(r, 'end.latency.one_way_kernel', where);
  num(r, 'end.socket.rcvbuf_actual', where);
  bool(r, 'end.partial', where);
  arr(r, 'end.warnings', where).forEach((x, i) => {
    if (typeof x !== 'string') throw new Bad(`${where}end.warnings[${i}] is not a string`);
  });
}

function senderResult(r: unknown, where: string): void {
  obj(r, 'start', where);
  str(r, 'start.hostname', where);
  settingsSnapshot(r, 'start.settings', where);
  arr(r, 'intervals', where).forEach((iv, i) => {
    for (const k of ['start', 'end', 'bits_per_second', 'packets_per_second']) num(iv, k, `${where}intervals[${i}].`);
  });
  for (const k of ['packets', 'bits_per_second', 'packets_per_second', 'seconds']) num(r, `end.${k}`, where);
  bool(r, 'end.partial', where);
}

function result(r: unknown, where: string): void {
  if (at(r, 'schema') !== RESULT_SCHEMA) throw new Bad(`${where}schema is not ${RESULT_SCHEMA}`);
  const role = at(r, 'start.role');
  if (role === 'receiver') receiverResult(r, where);
  else if (role === 'sender') senderResult(r, where);
  else throw new Bad(`${where}start.role is neither 'sender' nor 'receiver'`);
}

function variant(v: unknown, where: string): void {
  str(v, 'name', where);
  str(v, 'describe', where);
  str(v, 'skipped', where, true);
  arr(v, 'settings_applied', where).forEach((c, i) => {
    for (const k of ['id', 'before', 'after']) str(c, k, `${where}settings_applied[${i}].`);
  });
  const s = at(v, 'sender');
  if (s !== null && s !== undefined) result(s, `${where}sender.`);
  arr(v, 'receivers', where).forEach((r, i) => {
    const w = `${where}receivers[${i}].`;
    str(r, 'guest', w);
    const res = at(r, 'result');
    if (res !== null && res !== undefined) {
      result(res, `${w}result.`);
      if (at(res, 'start.role') !== 'receiver') throw new Bad(`${w}result.start.role is not 'receiver'`);
    }
    str(r, 'error', w, true);
  });
  bool(v, 'partial', where);
}

function runReport(r: unknown, where: string): void {
  obj(r, 'scenario', where);
  str(r, 'scenario.name', where);
  str(r, 'scenario.title', where);
  str(r, 'started', where);
  arr(r, 'variants', where).forEach((v, i) => variant(v, `${where}variants[${i}].`));
  bool(r, 'partial', where);
}

function summary(o: unknown, path: string, where: string): void {
  for (const k of ['n', 'mean', 'stddev', 'median']) {
    const v = at(o, `${path}.${k}`);
    // NaN is written as null by JSON.stringify (a side without runs)
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw new Bad(`${where}${path}.${k} is not a number`);
  }
}

function abReport(r: unknown, where: string): void {
  for (const side of ['a', 'b']) {
    str(r, `${side}.name`, where);
    obj(r, `${side}.sysctls`, where);
    for (const m of ['lost_percent', 'recv_pps', 'p99_delay_ms']) summary(r, `summary.${side}.${m}`, where);
  }
  num(r, 'reps', where);
  num(r, 'warmup', where);
  arr(r, 'runs', where).forEach((x, i) => {
    const w = `${where}runs[${i}].`;
    const side = at(x, 'side');
    if (side !== 'a' && side !== 'b') throw new Bad(`${w}side is neither 'a' nor 'b'`);
    num(x, 'rep', w);
    bool(x, 'warmup', w);
    const m = at(x, 'metrics');
    if (m !== null) {
      num(m, 'lost_percent', `${w}metrics.`);
      num(m, 'recv_pps', `${w}metrics.`);
      num(m, 'p99_delay_ms', `${w}metrics.`, true);
    }
    // --metric ndr: a search per repetition instead of a run
    const search = at(x, 'ndr');
    if (search !== undefined && search !== null) num(search, 'lossless_pps', `${w}ndr.`);
    const o = at(x, 'outcome');
    if (o !== null || at(r, 'metric') !== 'ndr') variant(o, `${w}outcome.`);
  });
  if (at(r, 'metric') === 'ndr') for (const side of ['a', 'b']) summary(r, `summary.ndr_pps.${side}`, where);
  arr(r, 'verdict', where).forEach((x, i) => {
    if (typeof x !== 'string') throw new Bad(`${where}verdict[${i}] is not a string`);
  });
  bool(r, 'partial', where);
}

function suiteReport(r: unknown, where: string): void {
  str(r, 'suite', where);
  str(r, 'started', where);
  str(r, 'baseline_file', where, true);
  bool(r, 'passed', where);
  bool(r, 'partial', where);
  arr(r, 'scenarios', where).forEach((s, i) => {
    const w = `${where}scenarios[${i}].`;
    str(s, 'name', w);
    bool(s, 'passed', w);
    arr(s, 'metrics', w).forEach((m, j) => {
      str(m, 'variant', `${w}metrics[${j}].`);
      for (const k of ['lost_percent', 'recv_pps', 'p99_delay_ms']) num(m, k, `${w}metrics[${j}].`, true);
    });
    arr(s, 'failures', w).forEach((f, j) => {
      const kind = at(f, 'kind');
      if (kind !== 'threshold' && kind !== 'regression' && kind !== 'incomplete') throw new Bad(`${w}failures[${j}].kind is not threshold, regression or incomplete`);
      str(f, 'message', `${w}failures[${j}].`);
    });
    const b = at(s, 'baseline');
    if (b !== null && b !== undefined) {
      arr(s, 'baseline', w).forEach((c, j) => {
        const cw = `${w}baseline[${j}].`;
        str(c, 'variant', cw);
        str(c, 'metric', cw);
        num(c, 'baseline', cw);
        num(c, 'current', cw);
        bool(c, 'regression', cw);
      });
    }
    runReport(at(s, 'report'), `${w}report.`);
  });
}

/**
 * A parsed JSON value as a mcbench document, or a UsageError (exit 2) naming the file and what
 * is wrong with it.
 */
export function asDocument(value: unknown, file: string): McbenchDocument {
  const schema = isObj(value) ? value.schema : undefined;
  if (typeof schema !== 'string' || !(REPORT_SCHEMAS as readonly string[]).includes(schema)) {
    const what = typeof schema === 'string' ? `its schema '${schema.slice(0, 60).replace(/[^\x20-\x7e]/g, '?')}' is not one the report draws` : 'it has no "schema"';
    throw new UsageError(`${file}: not a mcbench document (${what}; expected one of ${REPORT_SCHEMAS.join(', ')})`);
  }
  try {
    if (schema === RESULT_SCHEMA) {
      result(value, '');
      return { kind: 'result', doc: value as RunResult };
    }
    if (schema === RUN_SCHEMA) {
      runReport(value, '');
      return { kind: 'run', doc: value as RunReport };
    }
    if (schema === AB_SCHEMA) {
      abReport(value, '');
      return { kind: 'ab', doc: value as AbReport };
    }
    suiteReport(value, '');
    return { kind: 'suite', doc: value as SuiteReport };
  } catch (e) {
    if (e instanceof Bad) throw new UsageError(`${file}: not a valid ${schema} document: ${e.message}`);
    throw e;
  }
}

/** The text of a file as a mcbench document: JSON first, then the document checks. */
export function parseDocument(text: string, file: string): McbenchDocument {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON: ${(e as Error).message.replace(/\s+/g, ' ').trim()}`);
  }
  return asDocument(value, file);
}
