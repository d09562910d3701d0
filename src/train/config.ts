/**
 * Training configuration. Every option (name, type, default, check, help, flag spellings, YAML key) is
 * declared once in src/options/train.ts; this module resolves the derived defaults (netG, loadSize,
 * the discriminator depth, the epoch schedule) and the rules that tie options together.
 */
import { UserError } from '../util/errors.ts';
import {
  type DiscriminatorOptions,
  type GeneratorOptions,
  GENERATOR_DEFAULTS,
  DISCRIMINATOR_DEFAULTS,
  multiScaleSetting,
  parseNetG,
  resolveDiscriminator,
} from '../nets/arch.ts';
import { canonicalFlag, type OptionTable, problemOf } from '../options/define.ts';
import { LOSS_MODES, type LossMode, NET_D_CHOICES, TRAIN_DEFAULTS, TRAIN_OPTIONS, type TrainConfig } from '../options/train.ts';

export { LOSS_MODES, TRAIN_DEFAULTS, type LossMode, type TrainConfig };
export type Direction = TrainConfig['direction'];

/** Names an option in a message: the CLI passes the flag as typed, experiment files the YAML key. */
export type OptionNamer = (key: string) => string;
const trainFlag: OptionNamer = (key) => canonicalFlag(TRAIN_OPTIONS, key);

/** The load side for a crop side: the paper's 286/256 ratio, rounded to an integer. */
function defaultLoadSize(size: number): number {
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
  // Only runs of the multi-scale PatchGAN hold numD: its depths are the PatchGAN's.
  if (c.numD !== undefined) {
    return { ...DISCRIMINATOR_DEFAULTS, kind: 'multiscale', nLayers: c.nLayersD, ndf: c.ndf, norm: c.norm, conditional: conditionalD(c.loss), numD: c.numD };
  }
  const { kind, nLayers } = resolveDiscriminator({ netD: 'n_layers', nLayersD: c.nLayersD });
  return { ...DISCRIMINATOR_DEFAULTS, kind, nLayers, ndf: c.ndf, norm: c.norm, conditional: conditionalD(c.loss) };
}

export interface TrainConfigInput extends Partial<TrainConfig> {
  data: string;
  out: string;
  netD?: (typeof NET_D_CHOICES)[number];
  rf?: number;
  /** Total epochs: split into nEpochs + nEpochsDecay (the decay half rounded down unless nEpochsDecay is given). */
  epochs?: number;
}

/** Sized generator name: plain `unet` at 128² → `unet_128`; `unet_N` stays. */
export function sizedNetG(netG: string | undefined, size: number): string {
  if (netG === undefined || netG === 'unet') return `unet_${size}`;
  if (netG === 'encoder_decoder') return `encoder_decoder_${size}`;
  return netG;
}

/** nEpochs + nEpochsDecay from what was given: `epochs` is the total, the n* options keep PyTorch's meaning. */
export function resolveEpochs(
  input: { epochs?: number; nEpochs?: number; nEpochsDecay?: number },
  name: OptionNamer = trainFlag,
): { nEpochs: number; nEpochsDecay: number } {
  if (input.epochs === undefined) {
    return { nEpochs: input.nEpochs ?? TRAIN_DEFAULTS.nEpochs, nEpochsDecay: input.nEpochsDecay ?? TRAIN_DEFAULTS.nEpochsDecay };
  }
  if (input.nEpochs !== undefined) {
    throw new UserError(`give ${name('epochs')} (all epochs) or ${name('nEpochs')} (epochs at the initial learning rate), not both`);
  }
  const nEpochsDecay = input.nEpochsDecay ?? Math.floor(input.epochs / 2);
  if (nEpochsDecay > input.epochs)
    throw new UserError(`${name('nEpochsDecay')} (${nEpochsDecay}) cannot exceed ${name('epochs')} (${input.epochs}), the total`);
  return { nEpochs: input.epochs - nEpochsDecay, nEpochsDecay };
}

/** Fill defaults and validate; every problem is a one-line UserError naming the option as `name` spells it. */
export function resolveTrainConfig(input: TrainConfigInput, name: OptionNamer = trainFlag): TrainConfig {
  for (const [k, v] of Object.entries(input)) {
    if (k === 'data' || k === 'out') continue; // paths: their folders are checked when opened
    const spec = (TRAIN_OPTIONS as OptionTable)[k];
    const problem = v === undefined || !spec ? undefined : problemOf(spec, v);
    if (problem) throw new UserError(`${name(k)} ${problem} (got ${JSON.stringify(v)})`);
  }
  const { netD, rf, numD: _scales, epochs: _total, ...given } = input;
  const scales = multiScaleSetting(input, name);
  const size = input.size ?? TRAIN_DEFAULTS.size;
  const c: TrainConfig = {
    ...TRAIN_DEFAULTS,
    ...(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<TrainConfig>),
    data: input.data,
    out: input.out,
    size,
    netG: input.netG === undefined ? `unet_${defaultUnetSide(size)}` : sizedNetG(input.netG, size),
    loadSize: input.loadSize ?? defaultLoadSize(size),
    // --n-layers-d alone means the n_layers discriminator (as in the PyTorch repo, where it is ignored otherwise).
    // The config keeps the depth only (0 = PixelGAN), so experiment hashes and stored configs stay as they were.
    nLayersD: resolveDiscriminator({
      netD: scales.numD !== undefined ? 'multiscale' : (netD ?? (input.nLayersD !== undefined && rf === undefined ? 'n_layers' : undefined)),
      nLayersD: input.nLayersD,
      rf,
    }).nLayers,
    ...scales,
    ...resolveEpochs(input, name),
  };
  if (c.nEpochs + c.nEpochsDecay < 1) throw new UserError(`${name('nEpochs')} + ${name('nEpochsDecay')} must be at least 1 epoch`);
  if (c.preprocess === 'resize_and_crop' && c.loadSize < c.size)
    throw new UserError(`${name('loadSize')} (${c.loadSize}) must be at least ${name('size')} (${c.size})`);
  return c;
}

/**
 * A checkpoint's stored config in today's vocabulary: checkpoints written before the option table
 * said epochs/epochsDecay for nEpochs/nEpochsDecay and had no flip/preprocess (always on/resize_and_crop).
 */
export function upgradeStoredConfig(stored: Record<string, unknown>): Record<string, unknown> {
  const { epochs, epochsDecay, ...rest } = stored;
  return {
    ...(epochs !== undefined && rest.nEpochs === undefined ? { nEpochs: epochs } : {}),
    ...(epochsDecay !== undefined && rest.nEpochsDecay === undefined ? { nEpochsDecay: epochsDecay } : {}),
    flip: true,
    preprocess: 'resize_and_crop',
    ...rest,
  };
}
