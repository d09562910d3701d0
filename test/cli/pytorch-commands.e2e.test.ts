/**
 * The PyTorch repo's documented facades commands, run on a tiny synthetic dataset: train.py's runs
 * (with the repo's own flags for a short run), test.py's prints the export and infer commands, and
 * those run. A finished run given --continue_train says so instead of printing a speed.
 */
import { mkdtemp, readdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/capture.ts';

const TRAIN = 'train --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA';
const SHORT = '--n_epochs 1 --n_epochs_decay 0 --crop_size 32 --load_size 36 --ngf 4 --ndf 4 --gpu_ids -1';
const TEST = 'test --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA';

const cwd = process.cwd();

describe("the PyTorch repo's facades commands, run", () => {
  beforeAll(async () => {
    process.chdir(await realpath(await mkdtemp(path.join(tmpdir(), 'p2p-pytorch-'))));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const r = await runCli(['data', 'synth', '--out', 'datasets/facades', '--count', '4', '--size', '32', '--quiet']);
    expect(r.code ?? 0, r.stderr).toBe(0);
  });

  afterAll(() => {
    process.chdir(cwd);
    vi.restoreAllMocks();
  });

  it('train.py trains into ./checkpoints/NAME; again with --continue_train it says the run is finished', async () => {
    const r = await runCli([...TRAIN.split(' '), ...SHORT.split(' ')]);
    expect(r.code ?? 0, r.stderr).toBe(0);
    expect(r.stderr).toContain('pix2pix: --name facades_pix2pix: means --out ./checkpoints/facades_pix2pix here\n');
    expect(r.stderr).toContain('pix2pix: --gpu_ids -1: means --engine ort-cpu here\n');
    expect(await readdir('checkpoints/facades_pix2pix')).toContain('checkpoint.bin');

    const again = await runCli([...TRAIN.split(' '), ...SHORT.split(' '), '--continue_train']);
    expect(again.code ?? 0, again.stderr).toBe(0);
    expect(again.stderr).toContain('./checkpoints/facades_pix2pix has finished its 1 epoch: nothing to train (raise --n_epochs or --n_epochs_decay');
    expect(again.stderr).not.toMatch(/step\/s/);
  });

  it("test.py prints the export and infer commands, and they translate the test split into test.py's results folder", async () => {
    const r = await runCli(TEST.split(' '));
    expect(r.code).toBe(2);
    const m = /^pix2pix: test.py is two commands here: pix2pix (.+) && pix2pix (.+)\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    for (const command of [m![1], m![2]]) {
      const run = await runCli([...command.split(' '), '--quiet']);
      expect(run.code ?? 0, `${command}: ${run.stderr}`).toBe(0);
    }
    expect(await readdir('results/facades_pix2pix/test_latest/images')).toHaveLength(1);
  });
});
