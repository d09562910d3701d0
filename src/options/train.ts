/**
 * `pix2pix train`: every training option, once. TrainConfig, TRAIN_DEFAULTS, the yargs flags, the
 * experiment files' `train:` keys and their error messages all come from TRAIN_OPTIONS.
 * Aliases carry the PyTorch repo's names (junyanz/pytorch-CycleGAN-and-pix2pix) so its commands work.
 */
import { UserError } from '../util/errors.ts';
import { type DefaultsOf, defaultsOf, opt, positive, pytorch, type ValuesOf, type YamlOf } from './define.ts';
import { engine, force, json, quiet, seed } from './common.ts';

export const LOSS_MODES = ['L1', 'GAN', 'cGAN', 'L1+GAN', 'L1+cGAN'] as const;
export type LossMode = (typeof LOSS_MODES)[number];
export const NET_D_CHOICES = ['basic', 'pixel', 'n_layers', 'multiscale'] as const;
/** Receptive fields of the PatchGANs with 0…6 stride-2 layers. */
const RF_CHOICES = [1, 16, 34, 70, 142, 286, 574] as const;

const netGPattern = /^(unet|encoder_decoder)(_\d+)?$/;

/** PyTorch train.py flags with no option of their own: mapped or explained (docs/coming-from-pytorch.md). */
const TRAIN_PYTORCH_FLAGS = {
  name: pytorch.string({
    help: 'the run folder is CHECKPOINTS_DIR/NAME: --out checkpoints/NAME',
    pytorch: { mapsTo: ['out'], map: (v, given) => ({ out: runFolder(given.checkpointsDir, v) }) },
  }),
  checkpointsDir: pytorch.string({
    help: 'with --name: the folder of run folders (default ./checkpoints)',
    pytorch: {
      mapsTo: ['out'],
      map: (_v, given) => {
        if (given.name === undefined) throw new UserError('--checkpoints_dir needs --name (the run folder is CHECKPOINTS_DIR/NAME), or give --out runs/NAME');
        return {};
      },
      note: () => undefined,
    },
  }),
  model: pytorch.string({
    help: 'only pix2pix: accepted and ignored',
    refuse: (v) =>
      v === 'pix2pix'
        ? undefined
        : `not implemented: pix2pix-ts trains pix2pix (--model pix2pix) only${v === 'cycle_gan' ? '; CycleGAN needs unpaired training' : ''}`,
    pytorch: { note: () => undefined },
  }),
  datasetMode: pytorch.string({
    help: 'only aligned (AB images, or A/ B/ folders): accepted and ignored',
    refuse: (v) => (v === 'aligned' ? undefined : 'not implemented: --data must hold paired images (aligned AB, or A/ and B/ folders)'),
    pytorch: { note: () => undefined },
  }),
  gpuIds: pytorch.string({
    help: '-1 → --engine ort-cpu; GPU ids → --engine auto (one GPU; CUDA_VISIBLE_DEVICES picks it)',
    pytorch: { mapsTo: ['engine'], map: (v) => ({ engine: v.trim() === '-1' ? 'ort-cpu' : 'auto' }) },
  }),
  epochCount: pytorch.int({
    help: "not needed: --resume continues from the checkpoint's epoch",
    pytorch: { note: (v) => (v === 1 ? undefined : "ignored: --resume (--continue_train) continues from the checkpoint's own epoch") },
  }),
  phase: pytorch.string({
    help: 'train only: training reads DATA/train',
    refuse: (v) => (v === 'train' ? undefined : 'training reads DATA/train here: point --data at a folder whose train/ holds the pairs'),
    pytorch: { note: () => undefined },
  }),
  poolSize: pytorch.int({
    help: 'pix2pix keeps no image pool (the PyTorch repo uses 0 for pix2pix): accepted and ignored',
    pytorch: { note: (v) => (v === 0 ? undefined : 'ignored: pix2pix keeps no pool of generated images') },
  }),
} as const;

/** `--checkpoints_dir D --name N` → D/N (the PyTorch repo's run folder). */
function runFolder(dir: unknown, name: string): string {
  return `${typeof dir === 'string' ? dir.replace(/\/+$/, '') : './checkpoints'}/${name}`;
}

export const TRAIN_OPTIONS = {
  data: opt.string({ help: 'dataset root with train/ (and val/) splits of aligned AB images or A/ B/ folders', required: true, aliases: ['dataroot'] }),
  out: opt.string({ help: 'run folder: checkpoint.bin, losses.csv, samples/ (PyTorch: --checkpoints_dir/--name)', required: true }),
  direction: opt.choice(['AtoB', 'BtoA'], { help: 'AtoB feeds A and predicts B', default: 'AtoB', yaml: true }),
  netG: opt.string({
    help: 'generator: unet_N or encoder_decoder_N (N = 2^depth); plain unet / encoder_decoder are sized to --size (default: the deepest U-Net up to unet_256 that fits --size)',
    aliases: ['netG'],
    yaml: true,
    refuse: (v) => (v.startsWith('resnet') ? 'ResNet generators are not implemented: pix2pix uses --net-g unet_256 (the default at --size 256)' : undefined),
    check: (v) => (netGPattern.test(v) ? undefined : 'must be unet, encoder_decoder, unet_N or encoder_decoder_N'),
  }),
  netD: opt.choice(NET_D_CHOICES, {
    help: "discriminator: basic = 70×70 PatchGAN, pixel = 1×1, n_layers uses --n-layers-d, multiscale = pix2pixHD's PatchGANs at --num-d scales, each --n-layers-d deep (default basic, or n_layers when --n-layers-d is given)",
    aliases: ['netD'],
    yaml: true,
    scope: 'input',
  }),
  nLayersD: opt.int({
    help: 'stride-2 layers of the PatchGAN (with --net-d n_layers): 0→1, 1→16, 2→34, 3→70, 4→142, 5→286, 6→574 receptive field (default 3)',
    aliases: ['n_layers_D'],
    min: 0,
    max: 8,
    yaml: true,
  }),
  numD: opt.int({
    help: "scales of --net-d multiscale (pix2pixHD's --num_D): the image, then halved, then quartered (default 2; given alone it selects multiscale)",
    aliases: ['num_D'],
    min: 2,
    max: 3,
    yaml: true,
    scope: 'input',
  }),
  rf: opt.int({
    help: `choose the discriminator by receptive field instead: ${RF_CHOICES.join(', ')}`,
    yaml: true,
    scope: 'input',
    check: (v) =>
      (RF_CHOICES as readonly number[]).includes(v)
        ? undefined
        : `is not a PatchGAN receptive field: use ${RF_CHOICES.slice(0, -1).join(', ')} or ${RF_CHOICES.at(-1)}`,
  }),
  ngf: opt.int({ help: 'generator filters in the first layer', default: 64, min: 1, yaml: true }),
  ndf: opt.int({ help: 'discriminator filters in the first layer', default: 64, min: 1, yaml: true }),
  norm: opt.choice(['batch', 'instance'], { help: 'normalisation layers of G and D', default: 'batch', yaml: true }),
  dropout: opt.choice(['paper', 'pytorch', 'none'], {
    help: 'dropout on decoder d1–d3 (paper) or d2–d4 (PyTorch repo); PyTorch --no_dropout = none',
    default: 'paper',
    switches: { no_dropout: 'none' },
    yaml: true,
  }),
  concatOrder: opt.choice(['decoder-first', 'skip-first'], {
    help: 'U-Net skip concatenation order (skip-first matches PyTorch checkpoints)',
    default: 'decoder-first',
    aliases: ['concat'],
    yaml: true,
  }),
  loss: opt.choice(LOSS_MODES, { help: 'objective: GAN = unconditional D, cGAN = D sees (A, B)', default: 'L1+cGAN', yaml: true }),
  ganMode: opt.choice(['vanilla', 'lsgan'], {
    help: 'GAN loss: vanilla = cross-entropy, lsgan = least squares',
    default: 'vanilla',
    yaml: true,
    refuse: (v) => (v === 'wgangp' ? 'not implemented: use vanilla (the paper) or lsgan' : undefined),
  }),
  lambdaL1: opt.number({ help: 'weight of the L1 term', default: 100, min: 0, aliases: ['lambda_L1'], yaml: true }),
  size: opt.int({ help: 'crop side fed to the networks', default: 256, min: 1, aliases: ['crop-size', 'crop_size'], yaml: true }),
  loadSize: opt.int({ help: 'side images are resized to before the random crop (default: size·286/256, 286 for 256)', min: 1, yaml: true }),
  preprocess: opt.choice(['resize_and_crop', 'crop'], {
    help: 'training jitter: resize_and_crop = resize to --load-size then random crop; crop = random crop at the image size',
    default: 'resize_and_crop',
    yaml: true,
    refuse: (v) =>
      v === 'none'
        ? 'not implemented: --preprocess crop with --size set to the image side trains on whole images'
        : v.startsWith('scale_width')
          ? 'not implemented: training crops squares (resize_and_crop or crop); infer --size native keeps any aspect ratio'
          : undefined,
  }),
  flip: opt.boolean({
    help: 'random horizontal flips while training (--no-flip, PyTorch --no_flip, turns them off)',
    default: true,
    switches: { no_flip: false },
    yaml: true,
  }),
  batchSize: opt.int({ help: 'images per step', default: 1, min: 1, yaml: true }),
  epochs: opt.int({
    help: 'total epochs; without --n-epochs-decay the second half (rounded down) decays linearly to zero. Give it or --n-epochs, not both',
    min: 1,
    yaml: true,
    scope: 'input',
  }),
  nEpochs: opt.int({ help: 'epochs at the initial learning rate (PyTorch semantics)', default: 100, min: 0, aliases: ['niter'], yaml: true }),
  nEpochsDecay: opt.int({
    help: 'epochs of linear decay to zero after those (PyTorch semantics)',
    default: 100,
    min: 0,
    aliases: ['niter_decay', 'epochs-decay', 'epochs_decay'],
    yaml: true,
  }),
  lr: opt.number({ help: 'initial Adam learning rate', default: 2e-4, check: positive, yaml: true }),
  beta1: opt.number({ help: 'Adam β1', default: 0.5, min: 0, max: 1, yaml: true }),
  seed,
  engine,
  sampleRows: opt.int({ help: 'rows in the per-epoch sample grid (samples/epoch_NNN.png)', default: 4, min: 0, yaml: true }),
  valLimit: opt.int({ help: 'val pairs scored each epoch for val L1 (0 = all)', default: 64, min: 0, yaml: true }),
  skipBad: opt.boolean({ help: 'skip unreadable images with a warning instead of stopping', default: false }),
  threads: opt.int({ help: 'threads of the ort-cpu engine (default: every core); may change on --resume', min: 1, yaml: true, scope: 'input' }),
  force,
  // Default 1: a NaN or infinite loss means a weight is no longer finite (the images are), and Adam
  // spreads it, so no later step recovers. More tolerates a loss that overflows on its own (a
  // least-squares GAN on huge logits) while the weights stay finite; checkpoints are checked anyway.
  nonFiniteSteps: opt.int({
    help: 'stop after this many consecutive steps with a NaN or infinite loss, keeping the last good checkpoint (1: a NaN weight never recovers)',
    default: 1,
    min: 1,
    scope: 'cli',
  }),
  resume: opt.boolean({ help: 'continue from OUT/checkpoint.bin (same settings required)', default: false, aliases: ['continue_train'], scope: 'cli' }),
  quiet,
  json: { ...json, help: 'write NDJSON progress events on stdout: start (with the config), step, epoch, checkpoint, done' },
  ...TRAIN_PYTORCH_FLAGS,
} as const;

export type TrainTable = typeof TRAIN_OPTIONS;
/** A complete training configuration. */
// `threads` has no default (every core, decided by the engine), so it is optional in the config; `numD`
// is kept only by runs of the multi-scale discriminator, so every other config stays as it was.
export type TrainConfig = ValuesOf<TrainTable, 'config'> & { threads?: number; numD?: number };
/** What experiment files may set under `train:`. */
export type TrainSettings = YamlOf<TrainTable>;
export const TRAIN_DEFAULTS: DefaultsOf<TrainTable, 'config'> = defaultsOf(TRAIN_OPTIONS, ['config']);
