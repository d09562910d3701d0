import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { readCheckpoint, writeCheckpoint } from '../../src/train/checkpoint.ts';
import { DivergenceGuard, firstNonFinite, nonFiniteLosses, suggestLearningRate } from '../../src/train/divergence.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';
import { captureStdout, runCli } from '../helpers/capture.ts';
import { writeSmallCheckpoint } from '../export/fixtures.ts';

const finite = { G_GAN: 0.7, G_L1: 0.3, D_real: 0.6, D_fake: 0.7 };
const nan = { ...finite, G_L1: Number.NaN, D_fake: Number.POSITIVE_INFINITY };

describe('divergence checks', () => {
  it('suggests the paper learning rate above it, a tenth below it', () => {
    expect(suggestLearningRate(1e9)).toBe(2e-4);
    expect(suggestLearningRate(1e-3)).toBe(2e-4);
    expect(suggestLearningRate(2e-4)).toBe(2e-5);
    expect(suggestLearningRate(1e-4)).toBe(1e-5);
  });
  it('finds the first NaN or infinity', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, 3))).toBeUndefined();
    expect(firstNonFinite(Float32Array.of(1, Number.NaN, Number.NEGATIVE_INFINITY))).toBe(1);
    expect(firstNonFinite(Float32Array.of(0, 0, Number.POSITIVE_INFINITY))).toBe(2);
    expect(nonFiniteLosses(nan)).toEqual(['G_L1 NaN', 'D_fake Infinity']);
  });
  it('stops after the configured number of consecutive non-finite steps; a finite step resets the count', () => {
    const guard = new DivergenceGuard({ limit: 2, lr: 0.5, lastGood: null });
    guard.check(1, 1, nan);
    guard.check(2, 1, finite);
    guard.check(3, 1, nan);
    expect(() => guard.check(4, 1, nan)).toThrow(
      /^training diverged at step 4 \(2 steps in a row\) of epoch 1: G_L1 NaN, D_fake Infinity; the learning rate --lr 0\.5 is probably too high: train again into another --out with --lr 0\.0002; no checkpoint was written$/,
    );
  });
  it('names the checkpoint it keeps, and refuses non-finite weights and val L1', () => {
    const guard = new DivergenceGuard({ limit: 1, lr: 1e-4, lastGood: { epoch: 2, file: 'runs/x/checkpoint.bin' } });
    guard.passed(3, 'runs/x/checkpoint.bin');
    expect(() => guard.nonFiniteWeight(4, 'G/e1.weight')).toThrow(
      /epoch 4: G\/e1\.weight is no longer finite.*--lr 0\.00001; runs\/x\/checkpoint\.bin \(after epoch 3\) is kept$/,
    );
    expect(() => guard.checkValidation(4, Number.NaN)).toThrow(/val L1 is NaN/);
    expect(() => guard.checkValidation(4, 0.25)).not.toThrow();
    expect(() => guard.checkValidation(4, null)).not.toThrow();
  });
});

describe('pix2pix train --lr 1e9 (a learning rate that diverges)', () => {
  let data = '';
  let base = '';
  beforeAll(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'p2p-diverge-'));
    data = path.join(base, 'data');
    // 4 images: 3 train pairs, no val split.
    await synthesizeDataset({ out: data, count: 4, size: 16, seed: 3 });
  });
  const tiny = ['--size', '16', '--ngf', '4', '--ndf', '4', '--n-layers-d', '1', '--engine', 'cpu', '--sample-rows', '1', '--quiet'];

  it('stops with exit 2 naming the step and the learning rate, and writes no checkpoint when the first epoch diverges', async () => {
    const out = path.join(base, 'first');
    const r = await runCli(['train', '--data', data, '--out', out, ...tiny, '--epochs', '3', '--lr', '1e9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /training diverged (at step \d+ )?(of |in )epoch 1: .*--lr 1000000000 is probably too high: .*--lr 0\.0002; no checkpoint was written/,
    );
    expect(r.stderr).not.toMatch(/internal error|report/);
    expect(existsSync(path.join(out, 'checkpoint.bin'))).toBe(false);
    expect(existsSync(path.join(out, 'losses-steps.csv'))).toBe(false);
  }, 120_000);

  it('takes --non-finite-steps from 1 up, checked before anything is written', async () => {
    const out = path.join(base, 'flag');
    const r = await runCli(['train', '--data', data, '--out', out, ...tiny, '--epochs', '1', '--non-finite-steps', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--non-finite-steps/);
    expect(existsSync(out)).toBe(false);
  });

  it("checks a library caller's nonFiniteSteps before anything is written too", async () => {
    const out = path.join(base, 'hook');
    const c = resolveTrainConfig({ data, out, size: 16, ngf: 4, ndf: 4, nLayersD: 1, engine: 'cpu', nEpochs: 1, nEpochsDecay: 0 });
    await expect(train(c, { quiet: true, nonFiniteSteps: 0 })).rejects.toThrow(/--non-finite-steps must be an integer ≥ 1 \(got 0\)/);
    expect(existsSync(out)).toBe(false);
  });

  it('keeps the last good checkpoint (all of it finite) when a later epoch diverges, which exports', async () => {
    const out = path.join(base, 'later');
    // One step per epoch: the first step starts from the initial weights, so epoch 1 ends finite.
    const r = await runCli(['train', '--data', data, '--out', out, ...tiny, '--epochs', '3', '--batch-size', '3', '--lr', '1e9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/training diverged .*epoch 2: .*checkpoint\.bin \(after epoch 1\) is kept/);
    const ckpt = await readCheckpoint(path.join(out, 'checkpoint.bin'));
    expect(ckpt.header.model.epoch).toBe(1);
    // No sample of the epoch whose checkpoint was refused.
    expect(readdirSync(path.join(out, 'samples'))).toEqual(['epoch_001.png']);
    for (const [name, t] of ckpt.tensors) expect(firstNonFinite(t), name).toBeUndefined();
    expect(readFileSync(path.join(out, 'losses-steps.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
    let code: number | undefined;
    await captureStdout(async () => ({ code } = await runCli(['export', '--checkpoint', out, '--no-verify'])));
    expect(code).toBeUndefined();
  }, 120_000);
});

describe('pix2pix export of a diverged checkpoint', () => {
  it('refuses it with a message about the model, not a bug report', async () => {
    const run = mkdtempSync(path.join(tmpdir(), 'p2p-nan-export-'));
    await writeSmallCheckpoint(run, { generator: { depth: 4, ngf: 2 } });
    const file = path.join(run, 'checkpoint.bin');
    const ckpt = await readCheckpoint(file);
    ckpt.tensors.get('G/e2.weight')![5] = Number.NaN;
    ckpt.tensors.get('D/c1.weight')![0] = Number.POSITIVE_INFINITY;
    const shapes = new Map(ckpt.header.tensors.map((t) => [t.name, t.shape]));
    await writeCheckpoint(file, { model: ckpt.header.model, state: ckpt.header.state }, ckpt.tensors, shapes);
    const g = await runCli(['export', '--checkpoint', run]);
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/the weight G\/e2\.weight is NaN or infinite, so the model diverged while training .*lower --lr/);
    expect(g.stderr).not.toMatch(/report/);
    expect(existsSync(path.join(run, 'model.onnx'))).toBe(false);
    const d = await runCli(['export', '--checkpoint', run, '--net', 'D']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/the weight D\/c1\.weight is NaN or infinite/);
  });
});
