// `mcbench suite --junit FILE`: JUnit XML, one <testsuite>, one <testcase> per scenario, with a
// <failure> per threshold failure or regression (and <error> when a run produced no figures); a
// case whose only verdict is an inconclusive threshold (a sender-limited lossless rate below
// min_ndr_pps) is <skipped> with that message: neither passed nor failed.
import { metricLabel, type SuiteReport } from '../core/suite.js';
import { writeFileAtomic } from './files.js';

/** Text and attribute values: the five XML entities, and no character XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * A testcase's time is how long the scenario took, measured (labs, every variant, teardown); a
 * report of an older version without that falls back to the senders' measured sending time.
 */
const seconds = (r: SuiteReport['scenarios'][number]) => {
  if (typeof r.seconds === 'number') return r.seconds;
  const ends = r.report.variants.flatMap((v) => (v.sender ? [v.sender.end.seconds] : []));
  return ends.reduce((a, b) => a + b, 0);
};

/** The suite's time: from its start to its end as measured; the testcases' sum when unknown. */
const suiteSeconds = (r: SuiteReport) => {
  const wall = (Date.parse(r.finished) - Date.parse(r.started)) / 1000;
  return Number.isFinite(wall) && wall >= 0 ? wall : r.scenarios.reduce((n, s) => n + seconds(s), 0);
};

export function suiteJunit(r: SuiteReport): string {
  const a = (s: string) => `"${xmlEscape(s)}"`;
  const failures = r.scenarios.reduce((n, s) => n + (s.failures.some((f) => f.kind !== 'incomplete') ? 1 : 0), 0);
  const errors = r.scenarios.reduce((n, s) => n + (s.failures.some((f) => f.kind !== 'incomplete') ? 0 : s.failures.length ? 1 : 0), 0);
  const undecided = (s: SuiteReport['scenarios'][number]) => (s.failures.length === 0 ? (s.inconclusive ?? []) : []);
  const skipped = r.scenarios.filter((s) => undecided(s).length > 0).length;
  const total = suiteSeconds(r);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name=${a('mcbench')} tests="${r.scenarios.length}" failures="${failures}" errors="${errors}" time="${total.toFixed(3)}">`,
    `  <testsuite name=${a(r.suite)} tests="${r.scenarios.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${total.toFixed(3)}" timestamp=${a(r.started.replace(/\.\d+Z$/, ''))}>`,
  ];
  for (const s of r.scenarios) {
    const head = `    <testcase classname=${a(`mcbench.suite.${r.suite}`)} name=${a(s.name)} time="${seconds(s).toFixed(3)}"`;
    // the lossless rate of a case that searched it, passed or not: as a property and in its output
    const ndr = s.metrics.filter((m) => m.ndr_pps !== undefined);
    const ndrText = (m: (typeof ndr)[number]) => (m.ndr_pps === null || m.ndr_pps === undefined ? 'not measured' : `${Math.round(m.ndr_pps)}`);
    const ndrProps = ndr.length
      ? [
        '      <properties>',
        ...ndr.map((m) => `        <property name=${a(`${metricLabel(s.name, m.variant)} lossless pps`)} value=${a(ndrText(m))}/>`),
        '      </properties>',
      ]
      : [];
    const ndrOut = ndr.length
      ? [
        `      <system-out>${xmlEscape(ndr.map((m) => `${metricLabel(s.name, m.variant)}: lossless rate ${ndrText(m)}${m.ndr_pps === null ? '' : ' pps'}${s.thresholds.min_ndr_pps === undefined ? '' : ` (min_ndr_pps ${s.thresholds.min_ndr_pps})`}`).join('\n'))}</system-out>`,
      ]
      : [];
    if (s.failures.length === 0 && ndr.length === 0 && undecided(s).length === 0) {
      lines.push(`${head}/>`);
      continue;
    }
    // JUnit's order: properties, the failure, the output
    lines.push(`${head}>`, ...ndrProps);
    if (s.failures.length === 0) {
      const u = undecided(s);
      if (u.length) lines.push(`      <skipped message=${a(`inconclusive: ${u.map((x) => x.message).join('; ')}`)}/>`);
      lines.push(...ndrOut, '    </testcase>');
      continue;
    }
    const real = s.failures.filter((f) => f.kind !== 'incomplete');
    const tag = real.length ? 'failure' : 'error';
    const list = real.length ? real : s.failures;
    const kinds = [...new Set(list.map((f) => f.kind))].join(', ');
    const body = [...s.failures.map((f) => `${f.kind}: ${f.message}`), ...(s.inconclusive ?? []).map((x) => `inconclusive: ${x.message}`)];
    lines.push(`      <${tag} message=${a(list.map((f) => f.message).join('; '))} type=${a(kinds)}>${xmlEscape(body.join('\n'))}</${tag}>`);
    lines.push(...ndrOut, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

export function writeSuiteJunit(target: string, r: SuiteReport): void {
  const text = suiteJunit(r);
  if (target === '-') process.stdout.write(text);
  else writeFileAtomic(target, text);
}
