import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    testTimeout: 60000,
    hookTimeout: 30000,
    // The e2e tests measure rates on a 2-core machine: one file at a time keeps them honest.
    fileParallelism: false,
    reporters: ['default'],
  },
});
