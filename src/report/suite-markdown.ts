// `mcbench suite --markdown FILE`: a summary table for a CI job summary or a PR comment.
import { metricLabel, suiteSummary, type SuiteReport } from '../core/suite.js';
import { writeFileAtomic } from './files.js';
import { baselineCell, fmtMetric, hasNdr, ndrCell, suiteHeader, variantVerdict } from './suite-table.js';

/** A table cell: pipes escaped, no line breaks. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function suiteMarkdown(r: SuiteReport): string {
  const hasBaseline = r.baseline_file !== null;
  const header = suiteHeader(r);
  const ndr = hasNdr(r);
  const row = (cells: string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  const lines = [
    `## mcbench suite \`${r.suite}\`: ${r.passed ? 'PASS' : 'FAIL'}`,
    '',
    row(header),
    `|${header.map((h) => (h === 'scenario' || h === 'result' || h === 'vs baseline' ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const s of r.scenarios) {
    for (const m of s.metrics) {
      const cells = [
        metricLabel(s.name, m.variant),
        fmtMetric('lost_percent', m.lost_percent),
        fmtMetric('recv_pps', m.recv_pps),
        fmtMetric('p99_delay_ms', m.p99_delay_ms),
        ...(ndr ? [ndrCell(m)] : []),
        ['pass', 'inconclusive'].includes(variantVerdict(s, m.variant)) ? variantVerdict(s, m.variant) : `**${variantVerdict(s, m.variant)}**`,
      ];
      if (hasBaseline) cells.push(baselineCell(s, m.variant));
      lines.push(row(cells));
    }
  }
  const failures = r.scenarios.flatMap((s) => s.failures.map((f) => `- \`${s.name}\` ${f.kind}: ${f.message}`));
  if (failures.length) lines.push('', '### Failures', '', ...failures);
  const undecided = r.scenarios.flatMap((s) => (s.inconclusive ?? []).map((x) => `- \`${s.name}\` inconclusive: ${x.message}`));
  if (undecided.length) lines.push('', '### Inconclusive', '', ...undecided);
  lines.push('', suiteSummary(r), '');
  return lines.join('\n');
}

export function writeSuiteMarkdown(target: string, r: SuiteReport): void {
  const text = suiteMarkdown(r);
  if (target === '-') process.stdout.write(text);
  else writeFileAtomic(target, text);
}
