import { describe, expect, it } from 'vitest';
import * as tf from '../../../src/train/tfjs.ts';
import { discriminatorArch, paramSpecs } from '../../../src/nets/arch.ts';
import { selectEngine } from '../../../src/train/engines/registry.ts';
import { ganLoss } from '../../../src/train/losses.ts';
import { discriminatorForward, downsample, downsampleCounts, type ParamTensors } from '../../../src/train/nets/forward.ts';
import { Rng } from '../../../src/util/rng.ts';
import { randomParams, withScales } from '../../export/fixtures.ts';

/** The 4×4 image 1…16, row-major, as one channel and its negative as a second. */
function ramp(): tf.Tensor4D {
  const v = Array.from({ length: 16 }, (_, i) => i + 1);
  return tf.tensor4d(
    v.flatMap((x) => [x, -x]),
    [1, 4, 4, 2],
  );
}

describe('the downsampling between discriminator scales (3×3 average, stride 2, padding not counted)', () => {
  it('counts the window cells inside the image', () => {
    // Along a side of 4 the windows cover rows {0,1} and {1,2,3}; of 5, {0,1}, {1,2,3}, {3,4}.
    expect([...downsampleCounts(4, 4)]).toEqual([4, 6, 6, 9]);
    expect([...downsampleCounts(5, 4)]).toEqual([4, 6, 6, 9, 4, 6]);
    expect([...downsampleCounts(1, 1)]).toEqual([1]);
  });

  it('averages the pixels under each window (hand-computed on 1…16)', async () => {
    await selectEngine('cpu');
    const y = downsample(ramp());
    expect(y.shape).toEqual([1, 2, 2, 2]);
    // (1+2+5+6)/4, (2+3+4+6+7+8)/6, (5+6+9+10+13+14)/6, (6+7+8+10+11+12+14+15+16)/9
    const want = [3.5, 5, 9.5, 11];
    const got = [...(await y.data())];
    want.forEach((w, i) => {
      expect(got[2 * i]).toBeCloseTo(w, 5);
      expect(got[2 * i + 1]).toBeCloseTo(-w, 5);
    });
  });

  it('has the gradient of that average: each pixel gets 1/count from every window it is in', async () => {
    await selectEngine('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.sum(downsample(x as tf.Tensor4D)))(ramp());
    const got = await g.data();
    const at = (r: number, c: number): number => got[(r * 4 + c) * 2];
    expect(at(0, 0)).toBeCloseTo(1 / 4, 6); // only the first window
    expect(at(0, 1)).toBeCloseTo(1 / 4 + 1 / 6, 6); // windows (0,0) and (0,1)
    expect(at(1, 1)).toBeCloseTo(1 / 4 + 1 / 6 + 1 / 6 + 1 / 9, 6); // all four
    expect(at(3, 3)).toBeCloseTo(1 / 9, 6); // only the last
  });
});

describe('a discriminator of several scales', () => {
  it('gives, per scale, what its conv stack alone gives on the input downsampled that many times', async () => {
    await selectEngine('cpu');
    const one = discriminatorArch({ nLayers: 1, ndf: 4 });
    const two = withScales(one, 2);
    const params = randomParams(two, 3);
    const tensors: ParamTensors = new Map(paramSpecs(two).map((p) => [p.name, tf.tensor(params.get(p.name)!, [...p.shape])]));
    // The second scale's parameters under the one-scale names: a second, independent PatchGAN.
    const second: ParamTensors = new Map(paramSpecs(one).map((p) => [p.name, tensors.get(`scale1.${p.name}`)!]));
    const x = tf.tensor4d(new Rng(4).uniformSigned(2 * 32 * 32 * 6), [2, 32, 32, 6]);
    const opts = { normStats: 'instance', dropout: false } as const;
    const maps = discriminatorForward(two, tensors, x, opts);
    const [full] = discriminatorForward(one, tensors, x, opts);
    const [half] = discriminatorForward(one, second, downsample(x), opts);
    expect(maps.map((m) => m.shape)).toEqual([
      [2, 14, 14, 1],
      [2, 6, 6, 1],
    ]);
    expect(await maps[0].data()).toEqual(await full.data());
    expect(await maps[1].data()).toEqual(await half.data());
    expect(await maps[1].data()).not.toEqual(await maps[0].slice([0, 0, 0, 0], [2, 6, 6, 1]).data());
  });
});

describe('the GAN loss of several logit maps', () => {
  it('sums the mean criterion of each map (hand-computed)', async () => {
    await selectEngine('cpu');
    const zeros = tf.zeros([1, 4, 4, 1]);
    const twos = tf.fill([1, 2, 2, 1], 2);
    // BCE with logits against "real": log(1 + e^−x); LSGAN: (x − t)².
    expect(await ganLoss([zeros, twos], 1, 'vanilla').array()).toBeCloseTo(Math.log(2) + Math.log1p(Math.exp(-2)), 6);
    expect(await ganLoss([zeros, twos], 0, 'vanilla').array()).toBeCloseTo(Math.log(2) + 2 + Math.log1p(Math.exp(-2)), 6);
    expect(await ganLoss([zeros, twos], 1, 'lsgan').array()).toBeCloseTo(1 + 1, 6);
    expect(await ganLoss([twos], 0, 'lsgan').array()).toBeCloseTo(4, 6);
  });
  it('of one map is that map’s loss, the very same value', async () => {
    await selectEngine('cpu');
    const m = tf.tensor4d(new Rng(2).uniformSigned(16), [1, 4, 4, 1]);
    const a = ganLoss([m], 1, 'vanilla');
    const b = ganLoss([m, m], 1, 'vanilla');
    expect(await b.array()).toBe((await a.array()) * 2);
    expect(() => ganLoss([], 1, 'vanilla')).toThrow(/no logit maps/);
  });
});
