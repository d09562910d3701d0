/**
 * Training configuration: flag names follow the PyTorch reference where one exists
 * (`--netG --netD --n_layers_D --norm --lambda_L1 --batch_size --epochs --epochs_decay --lr`).
 */
import { UserError } from '../util/errors.ts';
import {
  type ConcatOrder,
  type DiscriminatorOptions,
  type DropoutPlacement,
  type GeneratorOptions,
  GENERATOR_DEFAULTS,
  DISCRIMINATOR_DEFAULTS,
  parseNetG,
  resolveDiscriminatorLayers,
} from '../nets/arch.ts';
import type { EngineName } from './engines/registry.ts';
import type { GanMode } from './losses.ts';

export type LossMode = 'L1' | 'GAN' | 'cGAN' | 'L1+GAN' | 'L1+cGAN';
export const LOSS_MODES: readonly LossMode[] = ['L1', 'GAN', 'cGAN', 'L1+GAN', 'L1+cGAN'];
export type Direction = 'AtoB' | 'BtoA';

export interface TrainConfig {
  data: string;
  out: string;
  direction: Direction;
  netG: string;
  ngf: number;
  ndf: number;
  /** Discriminator depth (0 = PixelGAN, 3 = 70×70). */
  nLayersD: number;
  norm: 'batch' | 'instance';
  dropout: DropoutPlacement;
  concatOrder: ConcatOrder;
  loss: LossMode;
  ganMode: GanMode;
  lambdaL1: number;
  /** Crop side fed to the networks. */
  size: number;
  /** Resize side before the random crop (286 for 256, i.e. size·286/256 by default). */
  loadSize: number;
  batchSize: number;
  epochs: number;
  epochsDecay: number;
  lr: number;
  beta1: number;
  seed: number;
  engine: EngineName | 'auto';
  /** Threads for multi-threaded engines (ort-cpu); undefined = every core. */
  threads?: number;
  /** Rows in the per-epoch sample grid. */
  sampleRows: number;
  /** Val pairs scored each epoch for val L1 (0 = all). */
  valLimit: number;
  skipBad: boolean;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'data' | 'out' | 'size' | 'loadSize' | 'netG'> = {
  direction: 'AtoB',
  ngf: 64,
  ndf: 64,
  nLayersD: 3,
  norm: 'batch',
  dropout: 'paper',
  concatOrder: 'decoder-first',
  loss: 'L1+cGAN',
  ganMode: 'vanilla',
  lambdaL1: 100,
  batchSize: 1,
  epochs: 100,
  epochsDecay: 100,
  lr: 2e-4,
  beta1: 0.5,
  seed: 1,
  engine: 'auto',
  sampleRows: 4,
  valLimit: 64,
  skipBad: false,
};

/** The load side for a crop side: the paper's 286/256 ratio, rounded to an integer. */
export function defaultLoadSize(size: number): number {
  return Math.round((size * 286) / 256);
}

/**
 * The default generator for a crop side: the deepest U-Net (at most unet_256, the paper's) whose
 * 2^depth divides the side, since the nets are fully convolutional (48 → unet_16, 512 → unet_256).
 */
export function defaultUnetSide(size: number): number {
  let side = 1;
  while (side < 256 && Number.isInteger(size) && size > 0 && size % (side * 2) === 0) side *= 2;
  return Math.max(side, 4);
}

export function usesGan(loss: LossMode): boolean {
  return loss !== 'L1';
}
export function usesL1(loss: LossMode): boolean {
  return loss.startsWith('L1');
}
export function conditionalD(loss: LossMode): boolean {
  return loss.endsWith('cGAN');
}

export function generatorOptions(c: TrainConfig): GeneratorOptions {
  const { kind, depth } = parseNetG(c.netG);
  return { ...GENERATOR_DEFAULTS, kind, depth, ngf: c.ngf, norm: c.norm, dropout: c.dropout, concatOrder: c.concatOrder };
}

export function discriminatorOptions(c: TrainConfig): DiscriminatorOptions | null {
  if (!usesGan(c.loss)) return null;
  return { ...DISCRIMINATOR_DEFAULTS, nLayers: c.nLayersD, ndf: c.ndf, norm: c.norm, conditional: conditionalD(c.loss) };
}

export interface TrainConfigInput extends Partial<Omit<TrainConfig, 'nLayersD'>> {
  data: string;
  out: string;
  netD?: string;
  nLayersD?: number;
  rf?: number;
}

/** Fill defaults and validate; every problem is a one-line UserError. */
export function resolveTrainConfig(input: TrainConfigInput): TrainConfig {
  const size = input.size ?? 256;
  const netG = input.netG ?? `unet_${defaultUnetSide(size)}`;
  const c: TrainConfig = {
    ...TRAIN_DEFAULTS,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    size,
    netG,
    loadSize: input.loadSize ?? defaultLoadSize(size),
    nLayersD: resolveDiscriminatorLayers({ netD: input.netD, nLayersD: input.nLayersD, rf: input.rf }),
  } as TrainConfig;
  delete (c as unknown as Record<string, unknown>).netD;
  delete (c as unknown as Record<string, unknown>).rf;
  if (!LOSS_MODES.includes(c.loss)) throw new UserError(`unknown --loss '${c.loss}': use one of ${LOSS_MODES.join(', ')}`);
  if (c.direction !== 'AtoB' && c.direction !== 'BtoA') throw new UserError(`--direction must be AtoB or BtoA (got '${c.direction}')`);
  if (c.norm !== 'batch' && c.norm !== 'instance') throw new UserError(`--norm must be batch or instance (got '${c.norm}')`);
  if (c.ganMode !== 'vanilla' && c.ganMode !== 'lsgan') throw new UserError(`--gan_mode must be vanilla or lsgan (got '${c.ganMode}')`);
  for (const k of ['size', 'loadSize', 'batchSize', 'epochs', 'ngf', 'ndf'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new UserError(`--${k} must be a positive integer (got ${c[k]})`);
  }
  if (!Number.isInteger(c.epochsDecay) || c.epochsDecay < 0) throw new UserError(`--epochs_decay must be a non-negative integer (got ${c.epochsDecay})`);
  if (!(c.lr > 0)) throw new UserError(`--lr must be positive (got ${c.lr})`);
  if (!(c.lambdaL1 >= 0)) throw new UserError(`--lambda_L1 must be ≥ 0 (got ${c.lambdaL1})`);
  if (c.loadSize < c.size) throw new UserError(`--load_size (${c.loadSize}) must be at least --size (${c.size})`);
  return c;
}
