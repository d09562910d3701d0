/**
 * Test fixtures: small networks with every parameter randomised (weights, biases, γ, β and running
 * statistics), so each code path of the export changes the output if it is wrong.
 */
import * as path from 'node:path';
import {
  type DiscriminatorArch,
  type DiscriminatorOptions,
  type GeneratorArch,
  type GeneratorOptions,
  discriminatorArch,
  generatorArch,
  paramSpecs,
} from '../../src/nets/arch.ts';
import { initParams, type ParamArrays } from '../../src/train/nets/init.ts';
import { writeCheckpoint } from '../../src/train/checkpoint.ts';
import { Rng } from '../../src/util/rng.ts';

export function randomParams(arch: GeneratorArch | DiscriminatorArch, seed: number): ParamArrays {
  const rng = new Rng(seed);
  // Larger-than-init weights keep activations away from zero so every layer matters.
  const params = initParams(arch, rng, 0.15);
  for (const p of paramSpecs(arch)) {
    const a = params.get(p.name)!;
    if (p.role === 'weight') continue;
    for (let i = 0; i < a.length; i++) {
      if (p.role === 'running_var') a[i] = 0.3 + rng.next();
      else if (p.role === 'gamma') a[i] = 1 + 0.3 * rng.normal();
      else a[i] = 0.3 * rng.normal();
    }
  }
  return params;
}

export interface SmallCheckpoint {
  dir: string;
  g: GeneratorArch;
  d: DiscriminatorArch | null;
  gParams: ParamArrays;
  dParams: ParamArrays | null;
}

/** Write runs/NAME/checkpoint.bin for a small pix2pix model. */
export async function writeSmallCheckpoint(
  dir: string,
  opts: {
    generator?: Partial<GeneratorOptions> & { depth: number };
    discriminator?: Partial<DiscriminatorOptions> | null;
    config?: Record<string, unknown>;
    seed?: number;
  } = {},
): Promise<SmallCheckpoint> {
  const g = generatorArch(opts.generator ?? { depth: 5, ngf: 4 });
  const d = opts.discriminator === null ? null : discriminatorArch({ nLayers: 2, ndf: 4, ...opts.discriminator });
  const gParams = randomParams(g, opts.seed ?? 1);
  const dParams = d ? randomParams(d, (opts.seed ?? 1) + 100) : null;
  const tensors = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  for (const p of paramSpecs(g)) {
    tensors.set(`G/${p.name}`, gParams.get(p.name)!);
    shapes.set(`G/${p.name}`, [...p.shape]);
  }
  if (d && dParams) {
    for (const p of paramSpecs(d)) {
      tensors.set(`D/${p.name}`, dParams.get(p.name)!);
      shapes.set(`D/${p.name}`, [...p.shape]);
    }
  }
  await writeCheckpoint(
    path.join(dir, 'checkpoint.bin'),
    {
      model: {
        kind: 'pix2pix',
        generator: g.options,
        discriminator: d ? d.options : null,
        config: { netG: `${g.options.kind}_${2 ** g.options.depth}`, direction: 'AtoB', size: 2 ** g.options.depth, ...opts.config },
        epoch: 7,
        version: '0.1.0',
      },
      state: {},
    },
    tensors,
    shapes,
  );
  return { dir, g, d, gParams, dParams };
}

/**
 * `arch`'s one conv stack at `count` scales, its layers renamed `scale<k>.<name>` from the second
 * scale on: a multi-scale discriminator built by hand, without a registered kind.
 */
export function withScales(arch: DiscriminatorArch, count: number): DiscriminatorArch {
  const [layers] = arch.scales;
  return { ...arch, scales: Array.from({ length: count }, (_, k) => (k === 0 ? layers : layers.map((l) => ({ ...l, name: `scale${k}.${l.name}` })))) };
}
