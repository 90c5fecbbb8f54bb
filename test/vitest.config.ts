import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Real-builder cases run concurrently across builders (the harness serializes those sharing a builder).
    maxConcurrency: 16,
  },
});
