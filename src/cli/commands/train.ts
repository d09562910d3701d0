import type { CommandModule } from 'yargs';
import { ENGINE_NAMES } from '../../train/engines/registry.ts';
import { LOSS_MODES, TRAIN_DEFAULTS } from '../../train/config.ts';

interface TrainArgs {
  data: string;
  out: string;
  direction: string;
  netG?: string;
  netD: string;
  n_layers_D?: number;
  rf?: number;
  ngf: number;
  ndf: number;
  norm: string;
  dropout: string;
  concat: string;
  loss: string;
  gan_mode: string;
  lambda_L1: number;
  size: number;
  load_size?: number;
  batch_size: number;
  epochs: number;
  epochs_decay: number;
  lr: number;
  beta1: number;
  seed: number;
  engine: string;
  resume: boolean;
  skip_bad: boolean;
  quiet: boolean;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train a pix2pix model (G + PatchGAN D) on a paired dataset',
  builder: (y) =>
    y
      .usage('$0 train --data DIR --out runs/NAME [options]\n\nDATA holds train/ (and val/) splits of aligned AB images or A/ B/ paired folders.\nMake a synthetic one with `pix2pix data synth --out data/synth`.')
      .option('data', { type: 'string', demandOption: true, describe: 'dataset root (with train/, val/ splits)' })
      .option('out', { type: 'string', demandOption: true, describe: 'run folder: checkpoint.bin, losses.csv, samples/' })
      .option('direction', { choices: ['AtoB', 'BtoA'], default: TRAIN_DEFAULTS.direction, describe: 'AtoB feeds A and predicts B' })
      .option('netG', { type: 'string', describe: 'generator: unet_N or encoder_decoder_N (N = 2^depth; default unet_<size>)' })
      .option('netD', { choices: ['basic', 'pixel', 'n_layers'], default: 'basic', describe: 'discriminator: basic = 70×70 PatchGAN, pixel = 1×1, n_layers uses --n_layers_D' })
      .option('n_layers_D', { type: 'number', describe: 'stride-2 layers of the PatchGAN (with --netD n_layers): 0→1, 1→16, 2→34, 3→70, 4→142, 5→286, 6→574' })
      .option('rf', { type: 'number', describe: 'choose the discriminator by receptive field instead: 1, 16, 34, 70, 142, 286, 574' })
      .option('ngf', { type: 'number', default: TRAIN_DEFAULTS.ngf, describe: 'generator filters in the first layer' })
      .option('ndf', { type: 'number', default: TRAIN_DEFAULTS.ndf, describe: 'discriminator filters in the first layer' })
      .option('norm', { choices: ['batch', 'instance'], default: TRAIN_DEFAULTS.norm })
      .option('dropout', { choices: ['paper', 'pytorch', 'none'], default: TRAIN_DEFAULTS.dropout, describe: 'dropout on decoder d1–d3 (paper) or d2–d4 (PyTorch repo)' })
      .option('concat', { choices: ['decoder-first', 'skip-first'], default: TRAIN_DEFAULTS.concatOrder, describe: 'U-Net skip concatenation order (skip-first matches PyTorch checkpoints)' })
      .option('loss', { choices: LOSS_MODES as string[], default: TRAIN_DEFAULTS.loss, describe: 'objective: GAN = unconditional D, cGAN = D sees (A, B)' })
      .option('gan_mode', { choices: ['vanilla', 'lsgan'], default: TRAIN_DEFAULTS.ganMode })
      .option('lambda_L1', { type: 'number', default: TRAIN_DEFAULTS.lambdaL1 })
      .option('size', { type: 'number', default: 256, describe: 'crop side fed to the networks' })
      .option('load_size', { type: 'number', describe: 'resize side before the random crop (default size·286/256)' })
      .option('batch_size', { type: 'number', default: TRAIN_DEFAULTS.batchSize })
      .option('epochs', { type: 'number', default: TRAIN_DEFAULTS.epochs, describe: 'epochs at the initial learning rate' })
      .option('epochs_decay', { type: 'number', default: TRAIN_DEFAULTS.epochsDecay, describe: 'epochs of linear decay to zero after those' })
      .option('lr', { type: 'number', default: TRAIN_DEFAULTS.lr })
      .option('beta1', { type: 'number', default: TRAIN_DEFAULTS.beta1 })
      .option('seed', { type: 'number', default: TRAIN_DEFAULTS.seed })
      .option('engine', { choices: ['auto', ...ENGINE_NAMES], default: 'auto', describe: 'auto picks the fastest that loads: tfjs-node-gpu > webgpu (a GPU adapter, never a software one) > tfjs-node > wasm > cpu' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue from OUT/checkpoint.bin (same flags required)' })
      .option('skip_bad', { type: 'boolean', default: false, describe: 'skip unreadable images with a warning instead of stopping' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar or log lines' }),
  handler: async (a) => {
    const { resolveTrainConfig } = await import('../../train/config.ts');
    const { train } = await import('../../train/trainer.ts');
    const config = resolveTrainConfig({
      data: a.data,
      out: a.out,
      direction: a.direction as 'AtoB' | 'BtoA',
      netG: a.netG,
      netD: a.n_layers_D !== undefined && a.netD === 'basic' ? 'n_layers' : a.netD,
      nLayersD: a.n_layers_D,
      rf: a.rf,
      ngf: a.ngf,
      ndf: a.ndf,
      norm: a.norm as 'batch' | 'instance',
      dropout: a.dropout as 'paper' | 'pytorch' | 'none',
      concatOrder: a.concat as 'decoder-first' | 'skip-first',
      loss: a.loss as (typeof LOSS_MODES)[number],
      ganMode: a.gan_mode as 'vanilla' | 'lsgan',
      lambdaL1: a.lambda_L1,
      size: a.size,
      loadSize: a.load_size,
      batchSize: a.batch_size,
      epochs: a.epochs,
      epochsDecay: a.epochs_decay,
      lr: a.lr,
      beta1: a.beta1,
      seed: a.seed,
      engine: a.engine as 'auto',
      skipBad: a.skip_bad,
    });
    await train(config, { resume: a.resume, quiet: a.quiet });
  },
};
