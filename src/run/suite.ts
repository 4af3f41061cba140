// Suites for nightly CI (DESIGN section 8): a file of scenarios, each with thresholds, run in
// order; per-variant metrics, threshold verdicts, and a comparison with a previous suite report.
// This half reads the suite file's entries into scenarios (customScenario checks /proc/sys);
// the verdicts are core/suite.ts.
import { shown, UsageError } from '../core/errors.js';
import type { Thresholds } from '../core/suite.js';
import type { Locate } from '../core/suite-file.js';
import { parseSearchFlags } from '../core/ndr.js';
import { customScenario, findScenario, SCENARIOS, type Scenario } from './scenarios.js';
import type { NdrSearchPlan } from './ndr.js';

export interface SuiteEntry {
  name: string;
  /** `run` flags as given in the file, or null for a named scenario */
  run: Record<string, unknown> | null;
  /** the named scenario, or null for `run` */
  scenario_name: string | null;
  thresholds: Thresholds;
  scenario: Scenario;
  /** the lossless-rate search run after each variant's run (min_ndr_pps or `ndr:` given); null: none */
  ndr: NdrSearchPlan | null;
}

export interface SuiteSpec {
  suite: string;
  entries: SuiteEntry[];
}

const TOP_KEYS = ['suite', 'scenarios'];
const ENTRY_KEYS = ['name', 'run', 'scenario', 'thresholds', 'ndr'];
const THRESHOLD_KEYS: Array<keyof Thresholds> = ['max_lost_percent', 'min_recv_pps', 'max_p99_delay_ms', 'min_ndr_pps'];
/** the search's settings of a case (mcbench ndr's flags); the rate, size and receivers are the case's run's */
const NDR_KEYS = ['trial', 'loss-tolerance', 'resolution', 'max-trials', 'min-pps', 'max-pps', 'gso'];
/** the flags of an ad-hoc `mcbench run`, as customScenario takes them */
const RUN_KEYS = ['group', 'port', 'bandwidth', 'pps', 'length', 'time', 'rcvbuf', 'rcvbuf-force', 'verify-payload', 'coalesce', 'gro', 'receivers', 'set', 'snooping', 'querier', 'source'];

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Validates a parsed suite file as a whole and builds every scenario, so that a bad value fails
 * once, naming the scenario and the key, before any lab is made. `local`: refuse scenarios that
 * need the lab's bridge.
 */
export function parseSuite(doc: unknown, file: string, opts: { local: boolean; locate?: Locate } = { local: false }): SuiteSpec {
  // `path`: where in the document the problem is, for the line a YAML file names
  const fail = (where: string, msg: string, path: Array<string | number> = []): never => {
    const line = opts.locate?.(path) ?? null;
    throw new UsageError(`${file}: ${line === null ? '' : `line ${line}: `}${where}${msg}`);
  };
  if (!isObject(doc)) fail('', 'not a suite: expected an object with "suite" and "scenarios"');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_KEYS.includes(k)) fail('', `unknown key '${k}' (known: ${TOP_KEYS.join(', ')})`, [k]);
  const suite = d.suite ?? 'suite';
  if (typeof suite !== 'string' || !/^[\w.-]{1,64}$/.test(suite)) fail('suite: ', `'${shown(suite)}' is not a name ([A-Za-z0-9_.-], up to 64)`, ['suite']);
  if (!Array.isArray(d.scenarios) || d.scenarios.length === 0) fail('scenarios: ', 'give a non-empty list of scenarios', ['scenarios']);
  const seen = new Set<string>();
  const entries = (d.scenarios as unknown[]).map((raw, i): SuiteEntry => {
    const at = (name?: string) => `scenarios[${i}]${name ? ` '${name}'` : ''}: `;
    if (!isObject(raw)) return fail(at(), 'not an object', ['scenarios', i]);
    const e = raw;
    const name = e.name;
    if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) return fail(at(), `name: '${String(name)}' is not a name ([A-Za-z0-9_.-], up to 64)`, ['scenarios', i, 'name']);
    const where = at(name);
    if (seen.has(name)) fail(where, 'name: used twice', ['scenarios', i, 'name']);
    seen.add(name);
    for (const k of Object.keys(e)) if (!ENTRY_KEYS.includes(k)) fail(where, `unknown key '${k}' (known: ${ENTRY_KEYS.join(', ')})`, ['scenarios', i, k]);
    if ((e.run === undefined) === (e.scenario === undefined)) fail(where, 'give either "run" (flags as mcbench run takes them) or "scenario" (a named one)', ['scenarios', i]);
    const thresholds: Thresholds = {};
    if (e.thresholds !== undefined) {
      if (!isObject(e.thresholds)) fail(where, 'thresholds: not an object', ['scenarios', i, 'thresholds']);
      for (const [k, v] of Object.entries(e.thresholds as Record<string, unknown>)) {
        if (!(THRESHOLD_KEYS as string[]).includes(k)) fail(where, `thresholds.${k}: unknown threshold (known: ${THRESHOLD_KEYS.join(', ')})`, ['scenarios', i, 'thresholds', k]);
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(where, `thresholds.${k}: '${JSON.stringify(v)}' is not a number >= 0`, ['scenarios', i, 'thresholds', k]);
        if (k === 'max_lost_percent' && (v as number) > 100) fail(where, `thresholds.${k}: ${String(v)} is out of range (0 to 100)`, ['scenarios', i, 'thresholds', k]);
        thresholds[k as keyof Thresholds] = v as number;
      }
    }
    let scenario: Scenario;
    let run: Record<string, unknown> | null = null;
    let scenarioName: string | null = null;
    if (e.scenario !== undefined) {
      scenarioName = shown(e.scenario);
      const s = typeof e.scenario === 'string' ? findScenario(e.scenario) : undefined;
      if (!s) return fail(where, `scenario: '${scenarioName}' is not a scenario (one of: ${SCENARIOS.map((x) => x.name).join(', ')})`, ['scenarios', i, 'scenario']);
      scenario = s;
    } else {
      if (!isObject(e.run)) return fail(where, 'run: not an object of mcbench run flags', ['scenarios', i, 'run']);
      run = e.run;
      const flags: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(run)) {
        if (!RUN_KEYS.includes(k)) fail(where, `run.${k}: unknown flag (known: ${RUN_KEYS.join(', ')})`, ['scenarios', i, 'run', k]);
        if (k === 'rcvbuf-force' || k === 'verify-payload' || k === 'gro') {
          if (typeof v !== 'boolean') fail(where, `run.${k}: '${JSON.stringify(v)}' is not true or false`, ['scenarios', i, 'run', k]);
        } else if (k === 'set') {
          if (!(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) fail(where, `run.set: give KEY=VALUE strings, e.g. ["net.core.rmem_max=26214400"]`, ['scenarios', i, 'run', k]);
        } else if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
          fail(where, `run.${k}: '${JSON.stringify(v)}' is not a string or a number`, ['scenarios', i, 'run', k]);
        }
        flags[k] = typeof v === 'number' ? String(v) : v;
      }
      try {
        scenario = customScenario(flags);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        // customScenario names the command-line flag (`-g/--group:`, `--set:`): name the key instead.
        const flag = /^(?:-\w\/)?--([\w-]+):/.exec(err.message)?.[1];
        return fail(where, err.message.replace(/^(?:-\w\/)?--([\w-]+):\s*/, 'run.$1: '), flag && flag in run ? ['scenarios', i, 'run', flag] : ['scenarios', i, 'run']);
      }
      scenario = { ...scenario, name, title: `suite scenario ${name}` };
    }
    if (opts.local && scenario.needsBridge) fail(where, `--local: ${scenario.name} needs the lab's bridge; run the suite without --local (as root)`, ['scenarios', i]);
    if (opts.local && scenario.group.includes(':')) fail(where, `--local: ${scenario.group} is IPv6, which lo does not loop back to group members; run the suite without --local (as root)`, ['scenarios', i]);
    let ndr: NdrSearchPlan | null = null;
    if (e.ndr !== undefined || thresholds.min_ndr_pps !== undefined) {
      const given = e.ndr ?? {};
      if (!isObject(given)) return fail(where, 'ndr: not an object of mcbench ndr flags (trial, max-trials, ...)', ['scenarios', i, 'ndr']);
      for (const [k, v] of Object.entries(given)) {
        if (!NDR_KEYS.includes(k)) fail(where, `ndr.${k}: unknown key (known: ${NDR_KEYS.join(', ')})`, ['scenarios', i, 'ndr', k]);
        if (!(typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) fail(where, `ndr.${k}: '${JSON.stringify(v)}' is not a string or a number`, ['scenarios', i, 'ndr', k]);
      }
      const gso = given.gso === undefined ? 'auto' : shown(given.gso);
      if (gso !== 'auto' && gso !== 'on' && gso !== 'off') fail(where, `ndr.gso: '${gso}' is not one of auto, on, off`, ['scenarios', i, 'ndr', 'gso']);
      const str = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]));
      try {
        ndr = { ...parseSearchFlags(str), gso: gso as NdrSearchPlan['gso'] };
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        const flag = /^--([\w-]+):/.exec(err.message)?.[1];
        return fail(where, err.message.replace(/^--([\w-]+):\s*/, 'ndr.$1: '), flag && flag in given ? ['scenarios', i, 'ndr', flag] : ['scenarios', i, 'ndr']);
      }
    }
    return { name, run, scenario_name: scenarioName, thresholds, scenario, ndr };
  });
  return { suite: suite as string, entries };
}

