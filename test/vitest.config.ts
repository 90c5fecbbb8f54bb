import { defineConfig } from 'vitest/config';

/**
 * The tests of the walk itself, run a second time without the native helpers (src/context/native.ts); the
 * helpers' own tests (native.test.ts) compare them with that way already.
 */
const WALK_TESTS = ['walk', 'stat-cache', 'hash', 'hostile.names', 'snapshot-walks', 'snapshot-thread'].map((n) => `test/${n}.test.ts`);

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Real-builder cases run concurrently across builders (the harness serializes those sharing a builder).
    maxConcurrency: 16,
    projects: [
      { extends: true, test: { name: 'ctxdiff', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'without-native', include: WALK_TESTS, env: { CTXDIFF_NATIVE: '0' } } },
    ],
  },
});
