// npm run lint: typescript-eslint's strict-type-checked rules over src/ and bench/, and the
// layering as a rule: core is pure (no file system, processes or OS, nothing above it), report
// imports core only, lower layers never import upper ones (DESIGN §10, README "Layout").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// node:net is allowed: core validates addresses with its pure isIPv4/isIPv6.
const io = ['node:fs', 'node:fs/promises', 'node:child_process', 'node:os', 'node:dgram', 'node:module'];
const upper = (layers) => layers.map((l) => ({ group: [`../${l}/*`, `../${l}.js`, `./${l}/*`], message: `this layer may not import ${l}/ (see README: Layout)` }));
const noImports = (paths, layers) => ['error', { paths: paths.map((name) => ({ name, message: 'core is pure: I/O belongs in host/ (or where/, report/)' })), patterns: upper(layers) }];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'build-*/**', 'bench/build*/**', 'node_modules/**', 'test/**', 'bin/**', 'native/**', 'prebuilds/**', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.json', './bench/tsconfig.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      // tsconfig has noUncheckedIndexedAccess: an index or regex group the code has just checked
      // says so with `!`, which is the point of that option, so `!` itself is allowed.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `(x) => void f(x)` and `() => f()` callbacks are the idiom for handlers here.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidOperator: true }],
      // Numbers and booleans in messages are what a CLI prints all day.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
    },
  },
  { files: ['src/core/**/*.ts'], rules: { 'no-restricted-imports': noImports(io, ['host', 'where', 'lab', 'run', 'report', 'commands', 'native']) } },
  { files: ['src/report/**/*.ts'], rules: { 'no-restricted-imports': noImports(['node:child_process', 'node:os', 'node:dgram', 'node:net'], ['host', 'where', 'lab', 'run', 'commands', 'native']) } },
  { files: ['src/host/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upper(['where', 'lab', 'run', 'report', 'commands']) }] } },
  { files: ['src/lab/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upper(['where', 'run', 'report', 'commands']) }] } },
  { files: ['src/where/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upper(['run', 'report', 'commands']) }] } },
  { files: ['src/run/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: upper(['commands']) }] } },
);
