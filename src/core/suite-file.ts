// A suite file's text as a document: JSON (`.json`) or YAML (`.yaml`, `.yml`; any other name is
// read as JSON, then as YAML), and for YAML a way back from a place in the document to its line,
// so a bad key or value names the line it is on (run/suite.ts parseSuite). Pure: text in.
import { LineCounter, parseDocument } from 'yaml';
import { UsageError } from './errors.js';

/** The line (1-based) of the node at a path of the document, when the file can say (YAML). */
export type Locate = (path: Array<string | number>) => number | null;

const oneLine = (s: string) => s.split('\n')[0]!.replace(/\s+/g, ' ').trim().replace(/:$/, '');

function fromYaml(text: string, file: string, also = ''): { doc: unknown; locate: Locate } {
  const lines = new LineCounter();
  // uniqueKeys: a scenario key given twice is an error, not "the last one wins"
  const d = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const err = d.errors[0];
  if (err) throw new UsageError(`${file}: not valid ${also}YAML: ${oneLine(err.message)}`);
  let doc: unknown;
  try {
    doc = d.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new UsageError(`${file}: not valid YAML: ${oneLine((e as Error).message)}`);
  }
  // a key that is missing (a scenario without name) is placed at the nearest node that exists
  const locate: Locate = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node: unknown = n ? d.getIn(path.slice(0, n), true) : d.contents;
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return lines.linePos(range[0]).line;
    }
    return null;
  };
  return { doc, locate };
}

export function parseSuiteText(text: string, file: string): { doc: unknown; locate?: Locate } {
  if (/\.ya?ml$/i.test(file)) return fromYaml(text, file);
  try {
    return { doc: JSON.parse(text) as unknown };
  } catch (e) {
    const json = oneLine((e as Error).message);
    if (/\.json$/i.test(file)) throw new UsageError(`${file}: not valid JSON: ${json}`);
    try {
      return fromYaml(text, file, 'JSON or ');
    } catch {
      throw new UsageError(`${file}: not valid JSON (${json}) or YAML`);
    }
  }
}
