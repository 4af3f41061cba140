// `mcbench report FILE... -o report.html`: any mcbench JSON documents (result@1, run@1, ab@1,
// suite@1) drawn as one self-contained HTML page (report/html-*.ts). Every file is read and
// checked before anything is written: a foreign or broken one is exit 2, naming it.
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.js';
import { VERSION } from '../host/version.js';
import { InputFileError, readInputFile } from '../host/input-file.js';
import { checkOutputTarget } from '../report/files.js';
import { asDocument, parseDocument, type McbenchDocument } from '../report/html-input.js';
import { writeHtmlReport } from '../report/html-page.js';
import { runCommand } from './common.js';

/** Documents are JSON of at most 256 MiB (an ab of 100 reps with long intervals stays far below). */
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;

export const generatorLine = () => `written by mcbench ${VERSION} at ${new Date().toISOString()}`;

export function readDocument(file: string): McbenchDocument {
  let text: string;
  try {
    text = readInputFile(file, MAX_DOCUMENT_BYTES, 'a mcbench document');
  } catch (e) {
    if (e instanceof InputFileError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
  return parseDocument(text, file);
}

/** `--html FILE` of run, ab, suite and demo: their own document, checked as `report` checks a file. */
export function emitHtml(target: string | null, what: string, doc: unknown): void {
  if (target === null) return;
  writeHtmlReport(target, [{ file: what, doc: asDocument(doc, what) }], generatorLine());
}

/** Only one output may take stdout (-). */
export function checkStdoutOnce(outs: Record<string, string | null>): void {
  const toStdout = Object.entries(outs).filter(([, v]) => v === '-').map(([k]) => k);
  if (toStdout.length > 1) throw new UsageError(`only one output can go to stdout (-), not ${toStdout.join(' and ')}`);
}

export const htmlOption = <T>(y: Argv<T>) => y.option('html', { type: 'string', describe: 'also write a self-contained HTML report (charts, settings) to FILE' });

export const reportCommand: CommandModule = {
  command: 'report <files..>',
  describe: 'draw mcbench JSON documents (send/recv, run, ab, suite --json) as one self-contained HTML page',
  builder: (y: Argv) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'mcbench/result@1, run@1, ab@1 or suite@1 JSON files' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the HTML file to write (atomically); - for stdout' })
      .example('$0 report suite.json -o suite.html', 'a suite run as a page: verdicts, charts, settings')
      .example('$0 report a.json b.json -o both.html', 'several documents on one page'),
  handler: (argv) =>
    runCommand('report', () => {
      const target = checkOutputTarget('--output', argv.output);
      if (target === null) throw new UsageError('--output: give the HTML file to write');
      const files = (argv.files as unknown[]).map(String);
      if (files.length === 0) throw new UsageError('give one or more mcbench JSON files');
      const docs = files.map((file) => ({ file, doc: readDocument(file) }));
      writeHtmlReport(target, docs, generatorLine());
      if (target !== '-') process.stdout.write(`mcbench report: wrote ${target} (${docs.length} document(s))\n`);
      return 0;
    }),
};
