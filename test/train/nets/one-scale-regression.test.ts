/**
 * Discriminators of one scale (the PatchGAN and the PixelGAN) train and export exactly as they did
 * before discriminators could have several scales. The digests below were recorded on the cpu
 * backend with the code as it was before that change: two full training steps (both forward passes,
 * every gradient, Adam, the running statistics) digest every tensor of the checkpoint and the
 * losses, and the ONNX export of the discriminator digests its bytes. A tfjs upgrade may change the
 * float results legitimately; nothing in this repository should.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as tf from '../../../src/train/tfjs.ts';
import { discriminatorArch, type DiscriminatorOptions, generatorArch, paramSpecs } from '../../../src/nets/arch.ts';
import { selectEngine } from '../../../src/train/engines/registry.ts';
import { Pix2PixModel, Pix2PixStep } from '../../../src/train/model.ts';
import { discriminatorSpec, exportConvNetOnnx, packageVersion } from '../../../src/export/export.ts';
import { Rng } from '../../../src/util/rng.ts';
import { randomParams } from '../../export/fixtures.ts';

const SIZE = 16;
const config = { loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 7 } as const;

function sha256(parts: readonly (Float32Array | Uint8Array | string)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** Two training steps on batches of 2; the digest of every checkpoint tensor (by name) and of the losses. */
async function trainingDigest(d: Partial<DiscriminatorOptions>): Promise<string> {
  await selectEngine('cpu');
  const archs = { G: generatorArch({ depth: 4, ngf: 4 }), D: discriminatorArch({ ndf: 4, ...d }) };
  const model = Pix2PixModel.create(config, archs);
  const step = new Pix2PixStep(config, model, new Rng(3));
  const rng = new Rng(5);
  const parts: (Float32Array | string)[] = [];
  for (let i = 0; i < 2; i++) {
    const [A, B] = [0, 1].map(() => tf.tensor4d(rng.uniformSigned(2 * SIZE * SIZE * 3), [2, SIZE, SIZE, 3]));
    const losses = await step.step(A, B, 2e-4);
    parts.push(Float32Array.of(losses.G_GAN, losses.G_L1, losses.D_real, losses.D_fake));
    tf.dispose([A, B]);
  }
  for (const s of model.checkpointSources()) parts.push(s.name, await s.read());
  model.dispose();
  return sha256(parts);
}

/** The ONNX bytes of the discriminator with random weights, the package version blanked out. */
function exportDigest(d: Partial<DiscriminatorOptions>): string {
  const arch = discriminatorArch({ ndf: 4, ...d });
  const bytes = exportConvNetOnnx(discriminatorSpec(arch, randomParams(arch, 9), { net: 'D' }));
  const version = packageVersion();
  const text = Buffer.from(bytes).toString('latin1').split(version).join('#'.repeat(version.length));
  return sha256([
    paramSpecs(arch)
      .map((p) => `${p.name}:${p.shape}`)
      .join(','),
    Buffer.from(text, 'latin1'),
  ]);
}

const CASES: [string, Partial<DiscriminatorOptions>, string, string][] = [
  ['PatchGAN n_layers 2', { nLayers: 2 }, '482d322305f3069d', '7c07d5a1aa9f390a'],
  ['PatchGAN n_layers 1, instance norm', { nLayers: 1, norm: 'instance' }, 'aa77917109629681', '02997c0f73091377'],
  ['PixelGAN', { kind: 'pixel', nLayers: 0 }, '747455253323c73e', '1af8a8957d6fca99'],
];

describe('one-scale discriminators are unchanged by multi-scale support', () => {
  it.each(CASES)('%s: training steps and ONNX export give the recorded digests', async (_label, d, train, onnx) => {
    expect(await trainingDigest(d)).toBe(train);
    expect(exportDigest(d)).toBe(onnx);
  });
});
