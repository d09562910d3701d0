import * as tf from '../../src/train/tfjs.ts';
import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/train/adam.ts';
import { lrMultiplier } from '../../src/train/losses.ts';
import { selectEngine } from '../../src/train/engines/registry.ts';
import { adamUpdateArrays, fusedAdamAvailable, fusedAdamPathCounts, fusedAdamUpdate } from '../../src/train/engines/wasm-kernels/adam.ts';
import { Rng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/numeric.ts';

// torch.optim.Adam, written out by hand for two steps with gradient g = [0.5, −2] on p = [1, 1],
// lr 0.1, betas (0.5, 0.999), eps 1e-8:
//   step 1: m = 0.5·g, v = 0.001·g², p −= 0.1/(1−0.5) · m / (sqrt(v)/sqrt(1−0.999) + eps) = 0.1·sign(g)  → [0.9, 1.1]
//   step 2 (same g): m = 0.75·g, v = 0.001999·g², bc1 = 0.75, bc2 = 0.001999 → again 0.1·sign(g) → [0.8, 1.2]
describe('Adam', () => {
  for (const engine of ['cpu', 'wasm', 'ort-cpu'] as const) {
    it(`${engine}: follows torch.optim.Adam step for step`, async () => {
      await selectEngine(engine);
      const p = tf.variable(tf.tensor1d([1, 1]));
      const opt = new Adam(new Map([['p', p]]), { beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
      const g = tf.tensor1d([0.5, -2]);
      opt.apply(new Map([['p', g]]), 0.1);
      expect([...p.dataSync()].map((x) => Number(x.toFixed(5)))).toEqual([0.9, 1.1]);
      opt.apply(new Map([['p', g]]), 0.1);
      expect([...p.dataSync()].map((x) => Number(x.toFixed(5)))).toEqual([0.8, 1.2]);
      expect([...opt.m.get('p')!.dataSync()]).toEqual([0.375, -1.5]);
      opt.dispose();
      p.dispose();
      g.dispose();
    });
  }
});

describe('fused Adam on the wasm heap (SIMD loop + scalar tail)', () => {
  for (const engine of ['wasm', 'ort-cpu'] as const) {
    it(`${engine}: matches the float64 scalar update on a length that is not a multiple of 4`, async () => {
      await selectEngine(engine);
      expect(fusedAdamAvailable()).toBe(true);
      const rng = new Rng(8);
      const n = 200_003;
      const arrays = [0, 1, 2, 3].map((k) => Float32Array.from({ length: n }, () => (k === 3 ? rng.next() : rng.next() * 2 - 1)));
      const [p, g, m, v] = arrays.map((a) => tf.tensor1d(a));
      const s = { beta1: 0.5, beta2: 0.999, epsilon: 1e-8, stepSize: 2e-4 / (1 - 0.5 ** 3), sqrtBc2: Math.sqrt(1 - 0.999 ** 3) };
      const before = fusedAdamPathCounts.simd;
      const got = fusedAdamUpdate(p, g, m, v, s).map((t) => t.dataSync() as Float32Array);
      expect(fusedAdamPathCounts.simd).toBe(before + 1);
      const want = [0, 1, 2].map(() => new Float32Array(n));
      adamUpdateArrays(arrays[0], arrays[1], arrays[2], arrays[3], s, want[0], want[1], want[2]);
      // Compare the step p' − p (~1e-3 of p) as well as p', m', v'; the last 3 values come from the scalar tail.
      const step = (a: Float32Array): Float32Array => a.map((x, i) => x - arrays[0][i]);
      expect(relativeError(step(got[0]), step(want[0]))).toBeLessThan(1e-3);
      for (let k = 0; k < 3; k++) expect(relativeError(got[k], want[k])).toBeLessThan(1e-6);
      tf.dispose([p, g, m, v]);
    });
  }
});

describe('learning-rate policy (docs/reference.md#lr-schedule, 2025 master)', () => {
  it('is constant for n_epochs, then decays linearly by 1/(n_epochs_decay + 1) per epoch', () => {
    expect(lrMultiplier(1, 100, 100)).toBe(1);
    expect(lrMultiplier(100, 100, 100)).toBe(1);
    expect(lrMultiplier(101, 100, 100)).toBeCloseTo(1 - 1 / 101, 12);
    expect(lrMultiplier(150, 100, 100) * 2e-4).toBeCloseTo(1.01e-4, 6);
    expect(lrMultiplier(200, 100, 100) * 2e-4).toBeCloseTo(1.98e-6, 8);
  });
});
