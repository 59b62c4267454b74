import { defineConfig } from 'vitest/config';

// The suites that run thousands of vectors or boot a guest take seconds, more on a loaded 2-core machine;
// the default 5 s per test would fail them for slowness, which is what benchmarks measure, not tests.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
