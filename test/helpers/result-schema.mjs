// The JSON Schema of mcbench/result@1, generated from the RunResult type (src/core/result.ts):
// the TypeScript types and their JSDoc are the single source, this only runs the generator.
//   npm run schema   writes src/core/result.schema.json (commit it)
//   test/schema.test.ts checks that the committed file equals a fresh generation.
// Same as `ts-json-schema-generator --path src/core/result.ts --type RunResult --tsconfig
// tsconfig.json --no-top-ref` (draft-07), plus one fix-up: Delta<T> (counters.ts) is a mapped
// type, and the generator drops the JSDoc of T's fields when it maps them, so each Delta<T>
// field gets the description of the same field of T.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCHEMA_FILE = join(ROOT, 'src', 'core', 'result.schema.json');
export const SCHEMA_ID = 'urn:mcbench:result@1';

export function generateResultSchema() {
  const generator = createGenerator({
    path: join(ROOT, 'src', 'core', 'result.ts'),
    type: 'RunResult',
    tsconfig: join(ROOT, 'tsconfig.json'),
    topRef: false,
    jsDoc: 'extended',
    sortProps: true,
  });
  const { $schema, title, description, ...rest } = generator.createSchema('RunResult');
  for (const [name, def] of Object.entries(rest.definitions ?? {})) {
    const m = /^Delta<(\w+)>$/.exec(name);
    if (!m) continue;
    const base = generator.createSchema(m[1]).properties ?? {};
    for (const [key, prop] of Object.entries(def.properties ?? {})) {
      if (!prop.description && base[key]?.description) prop.description = base[key].description;
    }
  }
  // $schema, $id, title and description first: what a reader opening the file sees.
  return { $schema, $id: SCHEMA_ID, title, description, ...rest };
}

export const formatSchema = (schema) => `${JSON.stringify(schema, null, 2)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(SCHEMA_FILE, formatSchema(generateResultSchema()));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
