import { noWebgpuReason } from '../helpers/webgpu-env.ts';
import * as tf from '../../src/train/tfjs.ts';
import { describe, expect, it } from 'vitest';
import { ENGINE_NAMES, selectEngine, type EngineName } from '../../src/train/engines/registry.ts';
import { ganLoss, l1Loss } from '../../src/train/losses.ts';
import { type DiscriminatorArch, discriminatorArch, generatorArch, paramSpecs, type NetworkArch } from '../../src/nets/arch.ts';
import { discriminatorForward, generatorForward, type ParamTensors } from '../../src/train/nets/forward.ts';
import { initParams } from '../../src/train/nets/init.ts';
import { Rng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/numeric.ts';
import { withScales } from '../export/fixtures.ts';

const gArch = generatorArch({ depth: 4, ngf: 6 });
/** A PatchGAN, and one stack at two scales (the downsampling's gradient reaches G through the second). */
const D_ARCHS = [discriminatorArch({ nLayers: 2, ndf: 5 }), withScales(discriminatorArch({ nLayers: 1, ndf: 5 }), 2)];
const SIZE = 32;

function tensors(arch: NetworkArch, seed: number): ParamTensors {
  const arrays = initParams(arch, new Rng(seed), 0.2);
  return new Map(paramSpecs(arch).map((p) => [p.name, tf.tensor(arrays.get(p.name)!, [...p.shape])]));
}

/** allGradients for each discriminator of D_ARCHS, keyed `<index>:G/…`, `<index>:D/…`. */
async function allGradients(): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [i, dArch] of D_ARCHS.entries()) for (const [k, v] of await gradientsWith(dArch)) out.set(`${i}:${k}`, v);
  return out;
}

/**
 * Gradients of the pix2pix G loss and D loss w.r.t. every trainable parameter, on the active backend
 * (read back asynchronously: GPU backends have no synchronous read in Node).
 */
async function gradientsWith(dArch: DiscriminatorArch): Promise<Map<string, Float32Array>> {
  const rng = new Rng(11);
  const rand = (): tf.Tensor4D => tf.tensor4d(rng.uniformSigned(2 * SIZE * SIZE * 3), [2, SIZE, SIZE, 3]);
  const A = rand();
  const B = rand();
  const G = tensors(gArch, 1);
  const D = tensors(dArch, 2);
  const out = new Map<string, Float32Array>();
  const trainable = (arch: NetworkArch, p: ParamTensors): [string, tf.Tensor][] =>
    paramSpecs(arch)
      .filter((s) => s.trainable)
      .map((s) => [s.name, p.get(s.name)!]);
  const gList = trainable(gArch, G);
  const gGrads = tf.grads((...xs: tf.Tensor[]) => {
    const params = new Map(G);
    gList.forEach(([n], i) => params.set(n, xs[i]));
    const fake = generatorForward(gArch, params, A, { normStats: 'batch', dropout: true, rng: new Rng(5) });
    return tf.add(
      ganLoss(discriminatorForward(dArch, D, tf.concat([A, fake], 3), { normStats: 'batch', dropout: false }), 1, 'vanilla'),
      tf.mul(l1Loss(fake, B), 100),
    );
  })(gList.map(([, t]) => t));
  for (const [i, [n]] of gList.entries()) out.set(`G/${n}`, (await gGrads[i].data()) as Float32Array);
  const fake = generatorForward(gArch, G, A, { normStats: 'batch', dropout: false });
  const dList = trainable(dArch, D);
  const dGrads = tf.grads((...xs: tf.Tensor[]) => {
    const params = new Map(D);
    dList.forEach(([n], i) => params.set(n, xs[i]));
    const real = ganLoss(discriminatorForward(dArch, params, tf.concat([A, B], 3), { normStats: 'batch', dropout: false }), 1, 'vanilla');
    const fk = ganLoss(discriminatorForward(dArch, params, tf.concat([A, fake], 3), { normStats: 'batch', dropout: false }), 0, 'vanilla');
    return tf.mul(tf.add(real, fk), 0.5);
  })(dList.map(([, t]) => t));
  for (const [i, [n]] of dList.entries()) out.set(`D/${n}`, (await dGrads[i].data()) as Float32Array);
  return out;
}

/** Run in a tfjs scope so every intermediate tensor is released; the arrays outlive it. */
async function scoped<T>(fn: () => Promise<T>): Promise<T> {
  tf.engine().startScope();
  try {
    return await fn();
  } finally {
    tf.engine().endScope();
  }
}

describe('training engines', () => {
  // First, while no engine is active in this process.
  it('auto picks the fastest engine that loads and says what it skipped', async () => {
    const e = await selectEngine('auto');
    expect(ENGINE_NAMES).toContain(e.name);
    expect(e.skipped.length).toBe(ENGINE_NAMES.indexOf(e.name));
    // A software WebGPU adapter (SwiftShader in CI) is never auto's choice; the skip says so.
    const webgpu = e.skipped.find((s) => s.startsWith('webgpu:'));
    if (webgpu && process.env.VK_ICD_FILENAMES?.includes('swiftshader')) expect(webgpu).toMatch(/software adapter \(google swiftshader/);
  });

  let reference: Map<string, Float32Array> | undefined;
  const referenceGradients = async (): Promise<Map<string, Float32Array>> => {
    if (!reference) {
      await selectEngine('cpu');
      reference = await scoped(allGradients);
    }
    return reference;
  };

  // Each engine is compared with the cpu backend; engines that do not load here are skipped, not failed
  // (except webgpu wherever an adapter can exist: SwiftShader makes one on any CPU).
  for (const name of ENGINE_NAMES.filter((n) => n !== 'cpu') as EngineName[]) {
    it(`${name}: every gradient of a small G and D matches the cpu backend (relative error ≤ 1e-4)`, async (ctx) => {
      const ref = await referenceGradients();
      try {
        await selectEngine(name);
      } catch (e) {
        if (name !== 'webgpu') return ctx.skip();
        const reason = noWebgpuReason();
        if (reason) return ctx.skip(reason);
        throw e;
      }
      const got = await scoped(allGradients);
      expect(got.size).toBe(ref.size);
      expect(got.size).toBeGreaterThan(20);
      for (const [k, v] of ref) {
        const err = relativeError(got.get(k)!, v, 1e-12);
        expect(err, k).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('an explicit engine that is not installed is a one-line error with the install command', async () => {
    await expect(selectEngine('tfjs-node-gpu')).rejects.toThrow(/npm run setup:gpu/);
  });
});
