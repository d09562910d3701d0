import { defineConfig } from 'vitest/config';

// Two tiers: `npm test` runs the fast specification tests (every change); `npm run test:e2e` runs the
// slow end-to-end files (`*.e2e.test.ts`: training runs, SIGKILL/resume, the harness, the packed
// package, the browser). CI runs both.
const E2E = 'test/**/*.e2e.test.ts';
const e2e = process.env.PIX2PIX_TEST_TIER === 'e2e';

export default defineConfig({
  test: {
    include: e2e ? [E2E] : ['test/**/*.test.ts'],
    exclude: e2e ? [] : [E2E],
    // tfjs-wasm and onnxruntime hold large native/wasm heaps: isolate files in forks, one per core.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
