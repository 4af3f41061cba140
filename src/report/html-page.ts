// The HTML report as one self-contained file: the content of html-data.ts rendered as headings,
// sentences and tables (every string escaped), the charts as elements that the inlined uPlot
// fills from the embedded JSON, and a Content-Security-Policy that lets the page load nothing:
// no network, no other file, whatever a document's strings hold.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CLIENT_SCRIPT } from './html-client.js';
import { reportContent, type Block, type ChartSpec, type Table } from './html-data.js';
import type { McbenchDocument } from './html-input.js';
import { writeFileAtomic } from './files.js';

/** Text and attribute values: &, <, >, " and ' as entities, and no control characters. */
export function htmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON inside <script type="application/json">: no `<` at all (so no `</script>` or `<!--` can
 * end or change the element, whatever a host name holds), and no U+2028/U+2029.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inlined code must not close its own <script> or <style> element. */
function inlineable(code: string, tag: 'script' | 'style'): string {
  if (new RegExp(`</${tag}`, 'i').test(code)) throw new Error(`the inlined ${tag} holds </${tag}: it cannot be inlined`);
  return code;
}

export interface HtmlAssets {
  uplotJs: string;
  uplotCss: string;
}

/** uPlot's browser build and stylesheet, read from the installed package (a bundled dependency). */
export function loadAssets(): HtmlAssets {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot'));
  return { uplotJs: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), uplotCss: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

const PAGE_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1000px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.6em; } h4 { margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 0.2em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
tr.pass td:nth-child(3) { color: #1a7f37; font-weight: 600; }
tr.fail td:nth-child(3), tr.regression td:nth-child(3), tr.incomplete td:nth-child(3) { color: #c62828; font-weight: 600; }
p.verdict { font-weight: 600; background: #f3f7ff; padding: 0.3em 0.6em; border-left: 3px solid #1f77b4; }
p.warn { color: #8a5a00; } p.fail { color: #c62828; font-weight: 600; } p.pass { color: #1a7f37; font-weight: 600; }
.chart { margin: 0.8em 0 1.4em; min-height: 330px; }
.gen { color: #666; font-size: 12px; }
details.settings { margin: 0.4em 0 1em; } details.settings summary { cursor: pointer; font-weight: 600; }
`;

function tableHtml(t: Table): string {
  const head = `<tr>${t.head.map((h) => `<th>${htmlEscape(h)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r, i) => {
    const cls = t.rowClass?.[i];
    return `<tr${cls ? ` class="${htmlEscape(cls)}"` : ''}>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`;
  });
  const table = `<table><caption>${htmlEscape(t.caption)}</caption>${head}${rows.join('')}</table>`;
  // the long settings listings are folded; the short tables are shown
  return t.rows.length > 12 ? `<details class="settings"><summary>${htmlEscape(t.caption)} (${t.rows.length} rows)</summary>${table}</details>` : table;
}

function blockHtml(b: Block, charts: ChartSpec[], anchor: string): string {
  const parts = [`<h${b.level} id="${anchor}">${htmlEscape(b.heading)}</h${b.level}>`];
  for (const l of b.lines) parts.push(`<p${l.cls ? ` class="${l.cls}"` : ''}>${htmlEscape(l.text)}</p>`);
  for (const c of b.charts) {
    parts.push(`<div class="chart" data-chart="${charts.length}" data-kind="${c.kind}" aria-label="${htmlEscape(c.title)}"></div>`);
    charts.push(c);
  }
  for (const t of b.tables) parts.push(tableHtml(t));
  return parts.join('\n');
}

/** The whole page. `generator` says which mcbench wrote it and when. */
export function renderHtml(docs: Array<{ file: string; doc: McbenchDocument }>, assets: HtmlAssets, generator: string): string {
  const content = reportContent(docs);
  const charts: ChartSpec[] = [];
  const body = content.blocks.map((b, i) => blockHtml(b, charts, `b${i}`)).join('\n');
  const toc = content.blocks.filter((b) => b.level === 2).length > 1
    ? `<ul>${content.blocks.map((b, i) => (b.level === 2 ? `<li><a href="#b${i}">${htmlEscape(b.heading)}</a></li>` : '')).join('')}</ul>`
    : '';
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    `<title>${htmlEscape(content.title)}</title>`,
    `<style>${inlineable(assets.uplotCss, 'style')}${PAGE_CSS}</style>`,
    '</head><body>',
    `<h1>${htmlEscape(content.title)}</h1>`,
    `<p class="gen">${htmlEscape(generator)}. Charts: uPlot, inlined; the page loads nothing else.</p>`,
    toc,
    body,
    `<script type="application/json" id="mcbench-data">${scriptJson({ charts })}</script>`,
    `<script>${inlineable(assets.uplotJs, 'script')}</script>`,
    `<script>${inlineable(CLIENT_SCRIPT, 'script')}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** `--html FILE` / `report -o FILE`: the page, written atomically (files.ts). */
export function writeHtmlReport(target: string, docs: Array<{ file: string; doc: McbenchDocument }>, generator: string): void {
  const html = renderHtml(docs, loadAssets(), generator);
  if (target === '-') process.stdout.write(html);
  else writeFileAtomic(target, html);
}
