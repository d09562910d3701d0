import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { addOptions, readArgs, setRawArgs } from '../../src/options/cli.ts';
import { flagOf, type OptionTable, problemOf, spellingsOf } from '../../src/options/define.ts';
import { LABELS_OPTIONS } from '../../src/options/eval.ts';
import { EXPORT_OPTIONS } from '../../src/options/export.ts';
import { INFER_OPTIONS } from '../../src/options/infer.ts';
import { TRAIN_OPTIONS } from '../../src/options/train.ts';
import { discriminatorOptions, resolveEpochs, resolveTrainConfig, upgradeStoredConfig } from '../../src/train/config.ts';
import { mergeTrainSettings } from '../../src/experiments/resolve.ts';
import { COMMAND_OPTIONS } from '../helpers/command-options.ts';

/** Parse `args` with a table's flags, the way the CLI does; returns the checked values. */
function parse(table: OptionTable, args: string[], defaults = true): Record<string, unknown> {
  setRawArgs(args);
  try {
    const argv = addOptions(yargs(args), table)
      .strict()
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseSync() as Record<string, unknown>;
    return readArgs(table, argv, { defaults });
  } finally {
    setRawArgs([]);
  }
}

describe('option tables', () => {
  it('every option has help, a kebab-case flag, a valid default, and no spelling shared with another option', () => {
    for (const [cmd, table = {}] of Object.entries(COMMAND_OPTIONS)) {
      const seen = new Map<string, string>();
      for (const [key, spec] of Object.entries(table)) {
        expect(spec.help.length, `${cmd} ${key}`).toBeGreaterThan(3);
        expect(flagOf(key, spec), `${cmd} ${key}`).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        if (spec.default !== undefined) expect(problemOf(spec, spec.default), `${cmd} ${key} default`).toBeUndefined();
        for (const s of [...spellingsOf(key, spec), ...Object.keys(spec.switches ?? {})]) {
          expect(seen.get(s), `${cmd}: --${s} spells both ${seen.get(s)} and ${key}`).toBeUndefined();
          seen.set(s, key);
        }
      }
    }
  });

  it("train accepts the PyTorch repo's flag names as aliases of ours", () => {
    const a = parse(
      TRAIN_OPTIONS,
      [
        '--dataroot',
        'd',
        '--out',
        'o',
        '--n_epochs',
        '3',
        '--n_epochs_decay',
        '2',
        '--crop_size',
        '128',
        '--load_size',
        '142',
        '--preprocess',
        'crop',
        '--no_flip',
        '--batch_size',
        '4',
        '--lambda_L1',
        '10',
        '--netG',
        'unet_128',
        '--netD',
        'n_layers',
        '--n_layers_D',
        '2',
        '--ngf',
        '32',
        '--ndf',
        '16',
        '--norm',
        'instance',
        '--gan_mode',
        'lsgan',
        '--lr',
        '0.001',
        '--beta1',
        '0.9',
        '--direction',
        'BtoA',
        '--no_dropout',
        '--continue_train',
      ],
      false,
    );
    expect(a).toEqual({
      data: 'd',
      out: 'o',
      nEpochs: 3,
      nEpochsDecay: 2,
      size: 128,
      loadSize: 142,
      preprocess: 'crop',
      flip: false,
      batchSize: 4,
      lambdaL1: 10,
      netG: 'unet_128',
      netD: 'n_layers',
      nLayersD: 2,
      ngf: 32,
      ndf: 16,
      norm: 'instance',
      ganMode: 'lsgan',
      lr: 0.001,
      beta1: 0.9,
      direction: 'BtoA',
      dropout: 'none',
      resume: true,
    });
    // …and the kebab-case spellings mean the same.
    const b = parse(
      TRAIN_OPTIONS,
      [
        '--data',
        'd',
        '--out',
        'o',
        '--n-epochs',
        '3',
        '--crop-size',
        '128',
        '--no-flip',
        '--batch-size',
        '4',
        '--lambda-l1',
        '10',
        '--net-g',
        'unet_128',
        '--gan-mode',
        'lsgan',
      ],
      false,
    );
    expect(b).toEqual({ data: 'd', out: 'o', nEpochs: 3, size: 128, flip: false, batchSize: 4, lambdaL1: 10, netG: 'unet_128', ganMode: 'lsgan' });
  });

  it('fills defaults from the table only when asked, and names the flag as typed in errors', () => {
    expect(parse(EXPORT_OPTIONS, ['--checkpoint', 'r'])).toEqual({
      checkpoint: 'r',
      opset: 17,
      bn: 'instance',
      dropout: false,
      net: 'G',
      verify: true,
      fp16: false,
      fp16Compute: false,
      quiet: false,
    });
    expect(() => parse(INFER_OPTIONS, ['--model', 'm', '--input', 'i', '--output', 'o', '--batch_size', '0'])).toThrow(
      /^--batch_size must be an integer ≥ 1 \(got 0\)$/,
    );
    expect(() => parse(INFER_OPTIONS, ['--model', 'm', '--input', 'i', '--output', 'o', '--batch-size=x'])).toThrow(
      /^--batch-size must be an integer ≥ 1 \(got x\)$/,
    );
    expect(() => parse(EXPORT_OPTIONS, ['--checkpoint', 'r', '--opset', '9'])).toThrow(/^--opset must be an integer from 12 to 21 \(got 9\)$/);
    expect(() => parse(LABELS_OPTIONS, ['--pred', 'p', '--labels', 'l', '--void_colors', 'grey'])).toThrow(
      /^--void_colors must be one of none, black, all \(got grey\)$/,
    );
  });
});

describe('epochs', () => {
  it('--epochs is the total; --n-epochs / --n-epochs-decay keep the PyTorch meaning', () => {
    expect(resolveEpochs({})).toEqual({ nEpochs: 100, nEpochsDecay: 100 });
    expect(resolveEpochs({ epochs: 1 })).toEqual({ nEpochs: 1, nEpochsDecay: 0 });
    expect(resolveEpochs({ epochs: 10 })).toEqual({ nEpochs: 5, nEpochsDecay: 5 });
    expect(resolveEpochs({ epochs: 7 })).toEqual({ nEpochs: 4, nEpochsDecay: 3 });
    expect(resolveEpochs({ epochs: 5, nEpochsDecay: 0 })).toEqual({ nEpochs: 5, nEpochsDecay: 0 });
    expect(resolveEpochs({ nEpochs: 3 })).toEqual({ nEpochs: 3, nEpochsDecay: 100 });
    expect(() => resolveEpochs({ epochs: 3, nEpochs: 1 })).toThrow('give --epochs (all epochs) or --n-epochs (epochs at the initial learning rate), not both');
    expect(() => resolveEpochs({ epochs: 2, nEpochsDecay: 3 })).toThrow('--n-epochs-decay (3) cannot exceed --epochs (2), the total');
    // Experiment files name their keys.
    expect(() => resolveEpochs({ epochs: 2, nEpochsDecay: 3 }, (k) => k)).toThrow('nEpochsDecay (3) cannot exceed epochs (2), the total');
  });

  it('train --epochs 1 resolves to one epoch in all', () => {
    const c = resolveTrainConfig({ data: 'd', out: 'o', ...parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--epochs', '1'], false) });
    expect(c.nEpochs + c.nEpochsDecay).toBe(1);
  });

  it('an experiment layer that sets the schedule replaces it as a whole', () => {
    expect(mergeTrainSettings({ nEpochs: 100, nEpochsDecay: 100, ngf: 64 }, { epochs: 4 })).toEqual({ epochs: 4, ngf: 64 });
    expect(mergeTrainSettings({ nEpochs: 100, nEpochsDecay: 100, ngf: 64 }, { ngf: 8 })).toEqual({ nEpochs: 100, nEpochsDecay: 100, ngf: 8 });
  });
});

describe('resolveTrainConfig', () => {
  it('derives netG, loadSize and the discriminator depth; --n-layers-d alone means n_layers', () => {
    const c = resolveTrainConfig({ data: 'd', out: 'o', size: 64, nLayersD: 1 });
    expect(c).toMatchObject({ netG: 'unet_64', loadSize: 72, nLayersD: 1, flip: true, preprocess: 'resize_and_crop' });
    expect(resolveTrainConfig({ data: 'd', out: 'o', netD: 'pixel' }).nLayersD).toBe(0);
    expect(resolveTrainConfig({ data: 'd', out: 'o', rf: 286 }).nLayersD).toBe(5);
    expect(resolveTrainConfig({ data: 'd', out: 'o', size: 128, netG: 'unet' }).netG).toBe('unet_128');
    expect(() => resolveTrainConfig({ data: 'd', out: 'o', size: 256, loadSize: 200 })).toThrow('--load-size (200) must be at least --size (256)');
    // With preprocess crop there is no resize, so load size does not matter.
    expect(resolveTrainConfig({ data: 'd', out: 'o', size: 256, loadSize: 200, preprocess: 'crop' }).loadSize).toBe(200);
  });

  it("keeps numD only for --net-d multiscale (pix2pixHD's default 2; --num-d alone selects it), and builds that kind from it", () => {
    const multi = resolveTrainConfig({ data: 'd', out: 'o', netD: 'multiscale' });
    expect(multi).toMatchObject({ nLayersD: 3, numD: 2 });
    expect(discriminatorOptions(multi)).toMatchObject({ kind: 'multiscale', nLayers: 3, numD: 2 });
    const parsed = parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--num_D', '3', '--n-layers-d', '2'], false);
    expect(resolveTrainConfig({ data: 'd', out: 'o', ...parsed })).toMatchObject({ nLayersD: 2, numD: 3 });
    // Every other discriminator's config is what it was before: no numD key at all.
    for (const netD of ['basic', 'pixel', 'n_layers'] as const) {
      const c = resolveTrainConfig({ data: 'd', out: 'o', netD });
      expect('numD' in c, netD).toBe(false);
      expect(discriminatorOptions(c)).not.toHaveProperty('numD');
    }
    expect(() => resolveTrainConfig({ data: 'd', out: 'o', netD: 'basic', numD: 2 })).toThrow(
      '--num-d is the number of scales of --net-d multiscale, not of --net-d basic: drop one of them',
    );
    expect(() => resolveTrainConfig({ data: 'd', out: 'o', rf: 70, numD: 2 })).toThrow(/--num-d .* not of --rf \(one scale\)/);
    expect(() => resolveTrainConfig({ data: 'd', out: 'o', netD: 'multiscale', rf: 70 })).toThrow(
      '--rf chooses a one-scale discriminator; --net-d multiscale takes --n-layers-d',
    );
    expect(() => resolveTrainConfig({ data: 'd', out: 'o', numD: 4 })).toThrow(/^--num-d .*3.* \(got 4\)$/);
  });

  it('reads the config of checkpoints written before the table (epochs/epochsDecay, no flip/preprocess)', () => {
    expect(upgradeStoredConfig({ epochs: 2, epochsDecay: 3, ngf: 4 })).toEqual({
      nEpochs: 2,
      nEpochsDecay: 3,
      flip: true,
      preprocess: 'resize_and_crop',
      ngf: 4,
    });
    expect(upgradeStoredConfig({ nEpochs: 2, nEpochsDecay: 3, flip: false, preprocess: 'crop' })).toEqual({
      nEpochs: 2,
      nEpochsDecay: 3,
      flip: false,
      preprocess: 'crop',
    });
  });
});
