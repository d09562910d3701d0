/**
 * The PyTorch repo's documented pix2pix commands (README and scripts/train_pix2pix.sh,
 * scripts/test_pix2pix.sh of junyanz/pytorch-CycleGAN-and-pix2pix, facades) are accepted as typed:
 * train.py's translate to a run folder, test.py's print the equivalent commands. The e2e file beside
 * this one runs them on a tiny synthetic dataset.
 */
import yargs from 'yargs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addOptions, readArgs, setRawArgs } from '../../src/options/cli.ts';
import { TRAIN_OPTIONS } from '../../src/options/train.ts';
import { runCli } from '../helpers/capture.ts';

const README_TRAIN = '--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA';
const SCRIPT_TRAIN =
  '--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 --direction BtoA --lambda_L1 100 --dataset_mode aligned --norm batch --pool_size 0';
const README_TEST = '--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA';
const SCRIPT_TEST = '--dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --netG unet_256 --direction BtoA --dataset_mode aligned --norm batch';

function trainArgs(line: string): Record<string, unknown> {
  const args = line.split(' ');
  setRawArgs(args);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return readArgs(TRAIN_OPTIONS, addOptions(yargs(args), TRAIN_OPTIONS).strict().parseSync() as Record<string, unknown>, { defaults: false });
  } finally {
    setRawArgs([]);
    vi.restoreAllMocks();
  }
}

describe("the PyTorch repo's documented pix2pix commands", () => {
  afterEach(() => vi.restoreAllMocks());

  it('train.py (README): the run folder is ./checkpoints/NAME, everything else our defaults', () => {
    expect(trainArgs(README_TRAIN)).toEqual({ data: './datasets/facades', out: './checkpoints/facades_pix2pix', direction: 'BtoA' });
  });

  it('scripts/train_pix2pix.sh: its settings are ours, its pix2pix-only flags accepted', () => {
    expect(trainArgs(SCRIPT_TRAIN)).toEqual({
      data: './datasets/facades',
      out: './checkpoints/facades_pix2pix',
      direction: 'BtoA',
      netG: 'unet_256',
      lambdaL1: 100,
      norm: 'batch',
    });
  });

  it('test.py (README and scripts/test_pix2pix.sh): one line naming the export and infer commands, exit status 2', async () => {
    const expected =
      'pix2pix: test.py is two commands here: pix2pix export --checkpoint checkpoints/facades_pix2pix && ' +
      'pix2pix infer --model checkpoints/facades_pix2pix/model.onnx --input datasets/facades/test --ab-side B --out results/facades_pix2pix/test_latest/images\n';
    for (const line of [README_TEST, SCRIPT_TEST]) {
      const r = await runCli(['test', ...line.split(' ')]);
      expect(r).toEqual({ stderr: expected, code: 2 });
    }
    const evalMode = await runCli(['test', ...README_TEST.split(' '), '--eval', '--phase', 'val', '--results_dir', 'out']);
    expect(evalMode.stderr).toContain('pix2pix export --checkpoint checkpoints/facades_pix2pix --bn running && ');
    expect(evalMode.stderr).toContain('--input datasets/facades/val --ab-side B --out out/facades_pix2pix/val_latest/images');
  });
});
