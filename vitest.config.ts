import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs-wasm and onnxruntime hold large native/wasm heaps: isolate files in forks, one per core.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
