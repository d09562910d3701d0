import { describe, expect, it } from 'vitest';
import * as tf from '../../src/train/tfjs.ts';
import { discriminatorArch, generatorArch } from '../../src/nets/arch.ts';
import { selectEngine } from '../../src/train/engines/registry.ts';
import { Pix2PixModel, Pix2PixStep, type StoredModel } from '../../src/train/model.ts';
import { Rng } from '../../src/util/rng.ts';
import { ganLoss } from '../../src/train/losses.ts';
import { discriminatorForward } from '../../src/train/nets/forward.ts';
import { withScales } from '../export/fixtures.ts';

const c = { loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 4 } as const;
const archs = { G: generatorArch({ depth: 3, ngf: 2 }), D: discriminatorArch({ nLayers: 1, ndf: 2 }) };
const SIZE = 8;

async function snapshot(model: Pix2PixModel): Promise<StoredModel> {
  const tensors = new Map<string, Float32Array>();
  for (const s of model.checkpointSources()) tensors.set(s.name, Float32Array.from(await s.read()));
  return { tensors, adamG: model.optG.step, adamD: model.optD?.step ?? 0 };
}

function batch(seed: number): [tf.Tensor4D, tf.Tensor4D] {
  const rng = new Rng(seed);
  return [0, 1].map(() => tf.tensor4d(rng.uniformSigned(SIZE * SIZE * 3), [1, SIZE, SIZE, 3])) as [tf.Tensor4D, tf.Tensor4D];
}

describe('Pix2PixModel', () => {
  it('builds G, D and both optimizers from the seed: the same seed gives the same weights', async () => {
    await selectEngine('cpu');
    const a = Pix2PixModel.create(c, archs);
    const b = Pix2PixModel.create(c, archs);
    const other = Pix2PixModel.create({ ...c, seed: 5 }, archs);
    const [sa, sb, so] = [await snapshot(a), await snapshot(b), await snapshot(other)];
    expect([...sa.tensors.keys()].filter((k) => k.startsWith('optD/v/')).length).toBeGreaterThan(0);
    expect(sb.tensors).toEqual(sa.tensors);
    expect(so.tensors.get('G/e1.weight')).not.toEqual(sa.tensors.get('G/e1.weight'));
    expect(a.optG.config).toEqual({ beta1: 0.5, beta2: 0.999, epsilon: 1e-8 });
    [a, b, other].forEach((m) => m.dispose());
  });

  it('rebuilt from its checkpoint tensors, takes the next step exactly as the original does', async () => {
    await selectEngine('cpu');
    const original = Pix2PixModel.create(c, archs);
    const dropout = new Rng(9);
    const step = new Pix2PixStep(c, original, dropout);
    for (let i = 0; i < 2; i++) {
      const [A, B] = batch(i);
      await step.step(A, B, 2e-4);
      tf.dispose([A, B]);
    }
    const stored = await snapshot(original);
    expect(stored.adamG).toBe(2);
    const restored = Pix2PixModel.create(c, archs, stored);
    expect((await snapshot(restored)).tensors).toEqual(stored.tensors);
    const [A, B] = batch(7);
    const next = await new Pix2PixStep(c, original, new Rng(dropout.state())).step(A, B, 2e-4);
    const again = await new Pix2PixStep(c, restored, new Rng(dropout.state())).step(A, B, 2e-4);
    expect(again).toEqual(next);
    expect((await snapshot(restored)).tensors).toEqual((await snapshot(original)).tensors);
    tf.dispose([A, B]);
    original.dispose();
    restored.dispose();
  });

  it('trains a discriminator of two scales: D_real sums both maps’ losses, and both scales learn', async () => {
    await selectEngine('cpu');
    const twoScales = { G: generatorArch({ depth: 3, ngf: 2 }), D: withScales(discriminatorArch({ nLayers: 1, ndf: 2 }), 2) };
    const model = Pix2PixModel.create(c, twoScales);
    const before = await snapshot(model);
    const rng = new Rng(3);
    const [A, B] = [0, 1].map(() => tf.tensor4d(rng.uniformSigned(16 * 16 * 3), [1, 16, 16, 3]));
    const real = tf.concat([A, B], 3);
    const maps = discriminatorForward(twoScales.D, model.D!.params, real, { normStats: 'batch', dropout: false });
    expect(maps.map((m) => m.shape[1])).toEqual([6, 2]); // 16 → 8 → 7 → 6 and 8 → 4 → 3 → 2
    const [first, second] = await Promise.all(maps.map(async (m) => (await ganLoss([m], 1, 'vanilla').data())[0]));
    const losses = await new Pix2PixStep(c, model, new Rng(1)).step(A, B, 2e-4);
    expect(losses.D_real).toBeCloseTo(first + second, 6);
    const after = await snapshot(model);
    for (const name of ['D/c1.weight', 'D/scale1.c1.weight', 'D/scale1.c3.weight']) expect(after.tensors.get(name), name).not.toEqual(before.tensors.get(name));
    tf.dispose([A, B, real, ...maps]);
    model.dispose();
  });

  it('frees every tensor it made on dispose', async () => {
    await selectEngine('cpu');
    const before = tf.memory().numTensors;
    const model = Pix2PixModel.create(c, { G: archs.G, D: null });
    expect(model.D).toBeNull();
    expect(model.optD).toBeNull();
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
