import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files are independent (each takes its own Redis key prefix, free ports and temp
    // directories), so three run at once: much of the suite waits on browsers, SMTP and child
    // processes, and on this 2-core machine three keep both cores busy (two left a third idle). One module graph per worker (isolate: false) saves re-importing the server,
    // oidc-provider and Playwright for every file, about a third of the suite's CPU; no test
    // mocks modules or changes process-wide state, which is what isolation would protect.
    fileParallelism: true,
    maxWorkers: 3,
    isolate: false,
    pool: 'forks',
  },
});
