import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addOptions, readArgs, setRawArgs } from '../../src/options/cli.ts';
import type { OptionTable } from '../../src/options/define.ts';
import { EXPORT_OPTIONS } from '../../src/options/export.ts';
import { INFER_OPTIONS } from '../../src/options/infer.ts';
import { TRAIN_OPTIONS } from '../../src/options/train.ts';

/** Parse `args` with a table the way the CLI does; returns the values and the lines printed on stderr. */
function parse(table: OptionTable, args: string[], defaults = false): { values: Record<string, unknown>; notes: string[] } {
  let err = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  setRawArgs(args);
  try {
    const argv = addOptions(yargs(args), table)
      .strict()
      .fail((msg, e) => {
        throw e ?? new Error(msg);
      })
      .parseSync() as Record<string, unknown>;
    return { values: readArgs(table, argv, { defaults }), notes: err.split('\n').filter(Boolean) };
  } finally {
    setRawArgs([]);
    spy.mockRestore();
  }
}

describe("train: the PyTorch repo's flags without an option of their own", () => {
  afterEach(() => vi.restoreAllMocks());

  it('--name and --checkpoints_dir name the run folder, and say so in one line', () => {
    expect(parse(TRAIN_OPTIONS, ['--dataroot', 'd', '--name', 'facades'])).toEqual({
      values: { data: 'd', out: './checkpoints/facades' },
      notes: ['pix2pix: --name facades: means --out ./checkpoints/facades here'],
    });
    expect(parse(TRAIN_OPTIONS, ['--dataroot', 'd', '--name', 'facades', '--checkpoints_dir', 'runs/']).values).toEqual({ data: 'd', out: 'runs/facades' });
  });

  it('--name beside --out, or --checkpoints_dir without --name, is one line saying what to give', () => {
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--name', 'x'])).toThrow(/^--name stands for --out here: give one of them$/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--checkpoints_dir', 'c'])).toThrow(/^--checkpoints_dir needs --name/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd'])).toThrow(/^Missing required argument: --out \(or the PyTorch repo's --name\)$/);
  });

  it('--model pix2pix and --dataset_mode aligned are accepted silently; other models and modes are refused by name', () => {
    expect(
      parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--model', 'pix2pix', '--dataset_mode', 'aligned', '--pool_size', '0', '--phase', 'train']),
    ).toEqual({
      values: { data: 'd', out: 'o' },
      notes: [],
    });
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--model', 'cycle_gan'])).toThrow(
      /^--model cycle_gan: not implemented: pix2pix-ts trains pix2pix \(--model pix2pix\) only; CycleGAN needs unpaired training$/,
    );
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--dataset_mode', 'unaligned'])).toThrow(/^--dataset_mode unaligned: not implemented/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--phase', 'val'])).toThrow(/^--phase val: training reads DATA\/train here/);
  });

  it('--gpu_ids picks the engine: -1 the CPU engine, GPU ids auto', () => {
    expect(parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--gpu_ids', '-1'])).toEqual({
      values: { data: 'd', out: 'o', engine: 'ort-cpu' },
      notes: ['pix2pix: --gpu_ids -1: means --engine ort-cpu here'],
    });
    expect(parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--gpu_ids', '0,1']).values.engine).toBe('auto');
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--gpu_ids', '0', '--engine', 'wasm'])).toThrow(/^--gpu_ids stands for --engine here/);
  });

  it('--epoch_count and --pool_size other than the defaults are explained and ignored', () => {
    expect(parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--epoch_count', '5', '--pool_size', '50'])).toEqual({
      values: { data: 'd', out: 'o' },
      notes: [
        "pix2pix: --epoch_count 5: ignored: --resume (--continue_train) continues from the checkpoint's own epoch",
        'pix2pix: --pool_size 50: ignored: pix2pix keeps no pool of generated images',
      ],
    });
  });

  it('values of existing options that are not implemented are refused with what to use instead', () => {
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--preprocess', 'none'])).toThrow(/^--preprocess none: not implemented: --preprocess crop/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--preprocess', 'scale_width'])).toThrow(/^--preprocess scale_width: not implemented/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--gan_mode', 'wgangp'])).toThrow(/^--gan_mode wgangp: not implemented: use vanilla/);
    expect(() => parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--netG', 'resnet_9blocks'])).toThrow(/^--netG resnet_9blocks: ResNet generators/);
    expect(parse(TRAIN_OPTIONS, ['--data', 'd', '--out', 'o', '--gan_mode', 'lsgan', '--continue_train']).values).toEqual({
      data: 'd',
      out: 'o',
      ganMode: 'lsgan',
      resume: true,
    });
  });
});

describe("infer and export: test.py's flags", () => {
  const base = ['--model', 'm.onnx', '--input', 'i', '--out', 'o'];

  it('infer: --gpu_ids -1 is the CPU provider, --preprocess none each image at its own size; --num_test and --phase are explained', () => {
    const r = parse(INFER_OPTIONS, [...base, '--gpu_ids', '-1', '--preprocess', 'none', '--num_test', '50', '--phase', 'test'], true);
    expect(r.values).toMatchObject({ provider: 'cpu', size: 'native', out: 'o' });
    expect(r.values).not.toHaveProperty('numTest');
    expect(r.notes).toEqual([
      'pix2pix: --gpu_ids -1: means --provider cpu here',
      'pix2pix: --num_test 50: ignored: every image of --input is translated (--shard i/n splits a folder)',
      'pix2pix: --phase test: ignored: --input names the folder itself (DATA/test)',
      'pix2pix: --preprocess none: means --size native here',
    ]);
  });

  it('infer --eval names the export flag that does it; --output and --results_dir still mean --out', () => {
    expect(() => parse(INFER_OPTIONS, [...base, '--eval'])).toThrow(/^--eval: normalisation is fixed when the model is made here: pix2pix export --bn running/);
    expect(parse(INFER_OPTIONS, ['--model', 'm', '--input', 'i', '--output', 'x']).values.out).toBe('x');
    expect(parse(INFER_OPTIONS, ['--model', 'm', '--input', 'i', '--results_dir', 'x']).values.out).toBe('x');
  });

  it('export --eval is --bn running', () => {
    expect(parse(EXPORT_OPTIONS, ['--checkpoint', 'r', '--eval'], true)).toMatchObject({
      values: { bn: 'running' },
      notes: ['pix2pix: --eval: means --bn running here'],
    });
  });
});
