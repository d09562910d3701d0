/**
 * The pix2pix model (docs/reference.md#losses): G, D and their Adam optimizers, built in one place from the two
 * architectures and either fresh weights or a checkpoint, and disposed in one place; the PyTorch
 * repo's models/pix2pix_model.py plays this part there. Training, the benchmarks and the tests all
 * build it here, so they time and test the same construction.
 */
import * as tf from './tfjs.ts';
import { Rng } from '../util/rng.ts';
import { Adam, PIX2PIX_ADAM } from './adam.ts';
import type { CheckpointTensorSource } from './checkpoint.ts';
import { conditionalD, type TrainConfig, usesGan, usesL1 } from './config.ts';
import { ganLoss, l1Loss } from './losses.ts';
import { BN_MOMENTUM, type DiscriminatorArch, type GeneratorArch } from '../nets/arch.ts';
import { discriminatorForward, generatorForward } from './nets/forward.ts';
import { initParams, type ParamArrays } from './nets/init.ts';
import { disposeNet, gradsByParamName, makeNet, type Net } from './nets/variables.ts';

/** What the model needs from the training config. */
export type Pix2PixModelConfig = Pick<TrainConfig, 'loss' | 'ganMode' | 'lambdaL1' | 'beta1' | 'seed'>;

export interface Pix2PixArchs {
  G: GeneratorArch;
  /** null when the loss has no GAN term (L1 only). */
  D: DiscriminatorArch | null;
}

/** Weights and optimizer state read from a checkpoint (tensors named G/…, D/…, optG/m/…, optD/v/…). */
export interface StoredModel {
  tensors: Map<string, Float32Array>;
  adamG: number;
  adamD: number;
}

function arraysFrom(tensors: Map<string, Float32Array>, prefix: string): ParamArrays {
  const out: ParamArrays = new Map();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function restoreAdam(opt: Adam, tensors: Map<string, Float32Array>, prefix: string, step: number): void {
  opt.step = step;
  const load = (v: tf.Variable, key: string): void => {
    const stored = tensors.get(key);
    if (!stored) throw new Error(`checkpoint has no ${key}`);
    const t = tf.tensor(stored, v.shape);
    v.assign(t);
    t.dispose();
  };
  for (const [n, v] of opt.m) load(v, `${prefix}/m/${n}`);
  for (const [n, v] of opt.v) load(v, `${prefix}/v/${n}`);
}

export class Pix2PixModel {
  private constructor(
    readonly archs: Pix2PixArchs,
    readonly G: Net,
    readonly D: Net | null,
    readonly optG: Adam,
    readonly optD: Adam | null,
  ) {}

  /**
   * Fresh weights drawn from `c.seed` (G first, then D: the order fixes the networks on every engine),
   * or the weights and optimizer state of a checkpoint.
   */
  static create(c: Pick<Pix2PixModelConfig, 'beta1' | 'seed'>, archs: Pix2PixArchs, stored?: StoredModel): Pix2PixModel {
    let gArrays: ParamArrays;
    let dArrays: ParamArrays | null = null;
    if (stored) {
      gArrays = arraysFrom(stored.tensors, 'G/');
      if (archs.D) dArrays = arraysFrom(stored.tensors, 'D/');
    } else {
      const rng = new Rng(c.seed);
      gArrays = initParams(archs.G, rng);
      if (archs.D) dArrays = initParams(archs.D, rng);
    }
    const adam = { ...PIX2PIX_ADAM, beta1: c.beta1 };
    const G = makeNet(archs.G, gArrays);
    const D = archs.D && dArrays ? makeNet(archs.D, dArrays) : null;
    const optG = new Adam(G.trainable, adam);
    const optD = D ? new Adam(D.trainable, adam) : null;
    if (stored) {
      restoreAdam(optG, stored.tensors, 'optG', stored.adamG);
      if (optD) restoreAdam(optD, stored.tensors, 'optD', stored.adamD);
    }
    return new Pix2PixModel(archs, G, D, optG, optD);
  }

  /** Every tensor a checkpoint holds, read lazily: each is copied out of the backend when the writer reaches it. */
  checkpointSources(): CheckpointTensorSource[] {
    const sources: CheckpointTensorSource[] = [];
    const put = (name: string, t: tf.Tensor): void => {
      sources.push({ name, shape: [...t.shape], read: async () => (await t.data()) as Float32Array });
    };
    for (const [n, v] of this.G.vars) put(`G/${n}`, v);
    if (this.D) for (const [n, v] of this.D.vars) put(`D/${n}`, v);
    for (const [n, v] of this.optG.m) put(`optG/m/${n}`, v);
    for (const [n, v] of this.optG.v) put(`optG/v/${n}`, v);
    if (this.optD) {
      for (const [n, v] of this.optD.m) put(`optD/m/${n}`, v);
      for (const [n, v] of this.optD.v) put(`optD/v/${n}`, v);
    }
    return sources;
  }

  dispose(): void {
    this.optG.dispose();
    this.optD?.dispose();
    disposeNet(this.G);
    disposeNet(this.D);
  }
}

export interface StepLosses {
  G_GAN: number;
  G_L1: number;
  D_real: number;
  D_fake: number;
}

/** A step's losses still on the device (null: that loss is not used); `readLosses` reads and disposes them. */
export type PendingLosses = { [K in keyof StepLosses]: tf.Scalar | null };

/** Read a step's losses back (async: GPU backends cannot read synchronously in Node) and free them. */
export async function readLosses(p: PendingLosses): Promise<StepLosses> {
  const keys = Object.keys(p) as (keyof StepLosses)[];
  const values = await Promise.all(keys.map(async (k) => (p[k] ? ((await p[k].data())[0] ?? 0) : 0)));
  tf.dispose(keys.map((k) => p[k]).filter((t): t is tf.Scalar => t !== null));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]])) as unknown as StepLosses;
}

type BatchStats = Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;

/** Exponential running averages with PyTorch's rule (unbiased batch variance). */
function updateRunningStats(net: Net, stats: BatchStats): void {
  tf.tidy(() => {
    for (const [layer, { mean, variance, count }] of stats) {
      const rm = net.vars.get(`${layer}.running_mean`)!;
      const rv = net.vars.get(`${layer}.running_var`)!;
      const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
      rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
      rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
    }
  });
  for (const { mean, variance } of stats.values()) {
    mean.dispose();
    variance.dispose();
  }
  stats.clear();
}

/**
 * One pix2pix optimisation step on a batch: G and D gradients from one forward pass
 * (G loss = GAN(D(A, G(A)), real) + λ·L1; D loss = ½[GAN(D(A,B), real) + GAN(D(A, G(A)), fake)]),
 * then Adam updates and running-statistics updates. GAN(·) sums over the discriminator's scales.
 *
 * Both gradients are taken with the pre-update D (the reference ordering, docs/reference.md#losses); this costs one
 * G forward per step, like the reference.
 */
export class Pix2PixStep {
  private readonly gStats: BatchStats = new Map();
  private readonly dStats: BatchStats = new Map();
  private readonly useGan: boolean;
  private readonly useL1: boolean;
  private readonly cond: boolean;

  constructor(
    private readonly c: Pick<TrainConfig, 'loss' | 'ganMode' | 'lambdaL1'>,
    private readonly model: Pix2PixModel,
    private readonly dropoutRng: Rng,
  ) {
    this.useGan = usesGan(c.loss) && model.D !== null;
    this.useL1 = usesL1(c.loss);
    this.cond = conditionalD(c.loss);
  }

  /** One step, reading its losses back before returning. */
  async step(A: tf.Tensor4D, B: tf.Tensor4D, lr: number): Promise<StepLosses> {
    return readLosses(this.run(A, B, lr));
  }

  /** One step, without waiting for the device: the losses are returned as tensors for `readLosses`. */
  run(A: tf.Tensor4D, B: tf.Tensor4D, lr: number): PendingLosses {
    const { c } = this;
    const { G, D, optG, optD } = this.model;
    const gArch = this.model.archs.G;
    const dArch = this.model.archs.D;
    let fake: tf.Tensor4D | null = null;
    let gGan: tf.Scalar | null = null;
    let gL1: tf.Scalar | null = null;
    const gOut = tf.variableGrads(() => {
      const out = generatorForward(gArch, G.params, A, { normStats: 'batch', dropout: true, rng: this.dropoutRng, batchStats: this.gStats });
      fake = tf.keep(out);
      let loss = tf.scalar(0);
      if (this.useGan) {
        const maps = discriminatorForward(dArch!, D!.params, this.cond ? tf.concat([A, out], 3) : out, { normStats: 'batch', dropout: false });
        gGan = tf.keep(ganLoss(maps, 1, c.ganMode));
        loss = tf.add(loss, gGan);
      }
      if (this.useL1) {
        gL1 = tf.keep(l1Loss(out, B));
        loss = tf.add(loss, tf.mul(gL1, c.lambdaL1));
      }
      return loss;
    }, [...G.trainable.values()]);
    let dReal: tf.Scalar | null = null;
    let dFake: tf.Scalar | null = null;
    let dOut: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
    if (this.useGan) {
      const fakeIn = this.cond ? tf.concat([A, fake!], 3) : fake!;
      const realIn = this.cond ? tf.concat([A, B], 3) : B;
      dOut = tf.variableGrads(() => {
        const pr = discriminatorForward(dArch!, D!.params, realIn, { normStats: 'batch', dropout: false, batchStats: this.dStats });
        const pf = discriminatorForward(dArch!, D!.params, fakeIn, { normStats: 'batch', dropout: false });
        dReal = tf.keep(ganLoss(pr, 1, c.ganMode));
        dFake = tf.keep(ganLoss(pf, 0, c.ganMode));
        return tf.mul<tf.Scalar>(tf.add(dReal, dFake), 0.5);
      }, [...D!.trainable.values()]);
      if (fakeIn !== fake) fakeIn.dispose();
      if (realIn !== B) realIn.dispose();
    }
    optG.apply(gradsByParamName(G, gOut.grads), lr);
    updateRunningStats(G, this.gStats);
    if (dOut && D && optD) {
      optD.apply(gradsByParamName(D, dOut.grads), lr);
      updateRunningStats(D, this.dStats);
    }
    const losses: PendingLosses = { G_GAN: gGan, G_L1: gL1, D_real: dReal, D_fake: dFake };
    tf.dispose([fake, gOut.value, ...Object.values(gOut.grads)].filter((t): t is tf.Tensor => t !== null));
    if (dOut) tf.dispose([dOut.value, ...Object.values(dOut.grads)]);
    return losses;
  }
}
