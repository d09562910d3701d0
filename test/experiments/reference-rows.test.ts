/**
 * The FCN-score's reference rows: every FCN-scored table gets "Ground truth" (the real test photos:
 * the ceiling) and "Ground truth, blurred" (the same photos Gaussian-blurred like an L1-only
 * generator's outputs), from the scorer registry, not from each experiment file.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImages, readImage } from '../../src/data/image.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { L1_BLUR_SIDE, L1_BLUR_SIGMA, l1BlurSigma, PAPER_L1_CLASS_ACC_RATIO, PAPER_TABLE1_CLASS_ACC } from '../../src/eval/blur-reference.ts';
import { gaussianBlurRgb } from '../../src/image/blur.ts';
import { resolveExperiment, type ResolvedExperiment } from '../../src/experiments/resolve.ts';
import { parseExperiment, readExperiment } from '../../src/experiments/schema.ts';
import { IMAGES_DIR, runGeneratorStages, targetSide, workPath } from '../../src/experiments/stages.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const shipped = async (name: string, profile: string): Promise<ResolvedExperiment> => {
  const file = path.join(ROOT, 'experiments', `${name}.yaml`);
  return resolveExperiment(await readExperiment(file), file, profile);
};

describe('the blur of the "Ground truth, blurred" row', () => {
  it('is σ 2.5 px at 128², the width fit to an L1-only generator, and scales with the image side', () => {
    expect([L1_BLUR_SIGMA, L1_BLUR_SIDE]).toEqual([2.5, 128]);
    expect(l1BlurSigma(128)).toBe(2.5);
    expect(l1BlurSigma(256)).toBe(5);
    expect(l1BlurSigma(32)).toBe(0.625);
  });

  it("reads the paper's L1 ratio from Table 1 as experiments/losses.yaml ships it: 0.15 / 0.26 ≈ 0.58", async () => {
    const losses = await shipped('losses', 'full');
    expect(losses.variants.find((v) => v.name === 'L1')!.paper.classAcc).toBe(PAPER_TABLE1_CLASS_ACC.l1);
    expect(losses.variants.find((v) => v.kind === 'ground-truth' && v.blurSigma === undefined)!.paper.classAcc).toBe(PAPER_TABLE1_CLASS_ACC.groundTruth);
    expect(PAPER_L1_CLASS_ACC_RATIO.toFixed(2)).toBe('0.58');
  });
});

describe('reference rows of FCN-scored experiments', () => {
  it('follow the variants of every FCN table; the file’s own ground-truth row is reused with its paper values', async () => {
    const losses = await shipped('losses', 'quick');
    expect(losses.variants.map((v) => [v.name, v.label, v.kind])).toEqual([
      ['L1', 'L1', 'generator'],
      ['GAN', 'GAN', 'generator'],
      ['cGAN', 'cGAN', 'generator'],
      ['L1+GAN', 'L1+GAN', 'generator'],
      ['L1+cGAN', 'L1+cGAN', 'generator'],
      ['ground-truth', 'Ground truth', 'ground-truth'],
      ['ground-truth-blurred', 'Ground truth, blurred (σ 2.5 px)', 'ground-truth'],
    ]);
    expect(losses.variants.at(-2)!.paper).toEqual({ pixelAcc: 0.8, classAcc: 0.26, classIoU: 0.21 });
    expect(losses.variants.at(-1)!.paper).toEqual({});
    // patch-size declares no ground-truth row: the registry adds both.
    const patch = await shipped('patch-size', 'quick');
    expect(patch.variants.slice(-2).map((v) => v.label)).toEqual(['Ground truth', 'Ground truth, blurred (σ 2.5 px)']);
    // A profile listing only generators still gets them; the ci profile's 32² photos get σ 0.625.
    const ci = await shipped('patch-size', 'ci');
    expect(ci.variants.map((v) => v.name)).toEqual(['rf1', 'rf16', 'ground-truth', 'ground-truth-blurred']);
    expect(ci.runs.at(-1)).toMatchObject({ kind: 'ground-truth', blurSigma: 0.625, size: 32 });
  });

  it('run once each; the blurred row has its own work folder, the unblurred keeps the key it had before', async () => {
    const exp = await shipped('patch-size', 'quick');
    const [plain, blurred] = exp.runs.slice(-2);
    expect(exp.runs.filter((r) => r.kind === 'ground-truth')).toHaveLength(2);
    expect(plain).not.toHaveProperty('blurSigma');
    expect(blurred.blurSigma).toBe(2.5);
    expect(blurred.hash).not.toBe(plain.hash);
    expect(blurred.workDir).toBe(path.join('_work', 'patch-size', `ground-truth-blurred-${blurred.hash}`));
  });

  it('are absent from tables that are not FCN-scored, and --only can run one of them alone', async () => {
    for (const name of ['color', 'photo2labels']) {
      expect((await shipped(name, 'quick')).variants.every((v) => v.blurSigma === undefined && !v.name.startsWith('ground-truth'))).toBe(true);
    }
    const file = path.join(ROOT, 'experiments', 'losses.yaml');
    const only = resolveExperiment(await readExperiment(file), file, 'quick', 'ground-truth-blurred');
    expect(only.runs.map((r) => r.variant)).toEqual(['ground-truth-blurred']);
    const l1 = resolveExperiment(await readExperiment(file), file, 'quick', 'L1');
    expect(new Set(l1.runs.map((r) => r.variant))).toEqual(new Set(['L1']));
    expect(l1.runs.map((r) => r.seed)).toEqual(l1.seeds);
  });

  it('refuse a file variant that takes a reference row’s name', () => {
    const text = `experiment: x
title: t
table: Table 1
task: labels2photo
dataset: { synthetic: { count: 10, size: 32, seed: 1 } }
variants:
  - { name: ground-truth-blurred, train: { loss: L1 } }
profiles:
  quick: {}
`;
    expect(() => resolveExperiment(parseExperiment(text, 'x.yaml'), 'x.yaml', 'quick')).toThrow(
      "x.yaml: variant name 'ground-truth-blurred' is taken by the score's own reference row (Ground truth, blurred); rename that variant",
    );
  });
});

describe('the translate stage of the blurred row', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'p2p-refrows-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each real test photo Gaussian-blurred with the row’s σ', async () => {
    const data = path.join(dir, 'data');
    await synthesizeDataset({ out: data, count: 6, size: 32, seed: 2, splits: { train: 0.5, val: 0, test: 0.5 } });
    const exp = resolveExperiment(
      parseExperiment(
        `experiment: b\ntitle: t\ntable: Table 1\ntask: labels2photo\ndataset: { synthetic: { count: 6, size: 32, seed: 2 } }\ntrain: { size: 32 }\nvariants:\n  - { name: a, train: { loss: L1 } }\nprofiles:\n  quick: {}\n`,
        'b.yaml',
      ),
      'b.yaml',
      'quick',
    );
    const run = exp.runs.find((r) => r.blurSigma !== undefined)!;
    const out = path.join(dir, 'out');
    const job = { out, run, data, testSplit: 'test', datasetDescription: 'x', resume: false, threads: 1 };
    await runGeneratorStages(job, () => {});
    const images = path.join(workPath(out, run), IMAGES_DIR);
    const names = await listImages(images);
    expect(names).toHaveLength(3);
    // The real photo (B side for labels→photo, BtoA) at the run's size, blurred with σ 0.625 px.
    const { prepareImage } = await import('../../src/runtime/images.ts');
    const first = (await listImages(path.join(data, 'test')))[0];
    const real = await prepareImage(path.join(data, 'test', first), 32, targetSide(run.direction));
    const expected = gaussianBlurRgb({ width: 32, height: 32, data: real.rgb }, 0.625);
    const got = await readImage(path.join(images, first.replace(/\.[^.]+$/, '.png')));
    expect(Buffer.from(got.data).equals(Buffer.from(expected.data))).toBe(true);
    const marker = JSON.parse(await readFile(path.join(workPath(out, run), 'stage.json'), 'utf8'));
    expect(marker.stages.translate.info).toEqual({ source: 'real test images, Gaussian blur σ 0.625 px', images: 3 });
  });
});
