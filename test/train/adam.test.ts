import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/train/adam.ts';
import { lrMultiplier } from '../../src/train/losses.ts';
import { selectEngine } from '../../src/train/engines/registry.ts';

// torch.optim.Adam, written out by hand for two steps with gradient g = [0.5, −2] on p = [1, 1],
// lr 0.1, betas (0.5, 0.999), eps 1e-8:
//   step 1: m = 0.5·g, v = 0.001·g², p −= 0.1/(1−0.5) · m / (sqrt(v)/sqrt(1−0.999) + eps) = 0.1·sign(g)  → [0.9, 1.1]
//   step 2 (same g): m = 0.75·g, v = 0.001999·g², bc1 = 0.75, bc2 = 0.001999 → again 0.1·sign(g) → [0.8, 1.2]
describe('Adam', () => {
  for (const engine of ['cpu', 'wasm'] as const) {
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

describe('learning-rate policy (spec §3.5, 2025 master)', () => {
  it('is constant for n_epochs, then decays linearly by 1/(n_epochs_decay + 1) per epoch', () => {
    expect(lrMultiplier(1, 100, 100)).toBe(1);
    expect(lrMultiplier(100, 100, 100)).toBe(1);
    expect(lrMultiplier(101, 100, 100)).toBeCloseTo(1 - 1 / 101, 12);
    expect(lrMultiplier(150, 100, 100) * 2e-4).toBeCloseTo(1.01e-4, 6);
    expect(lrMultiplier(200, 100, 100) * 2e-4).toBeCloseTo(1.98e-6, 8);
  });
});
