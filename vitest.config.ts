import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one Redis and start servers on ephemeral ports: run files one at a time,
    // which on a 2-core machine is also the fastest.
    fileParallelism: false,
    pool: 'forks',
  },
});
