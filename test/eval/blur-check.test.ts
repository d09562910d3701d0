import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage, writeLabelImage } from '../../src/data/image.ts';
import { BLUR_CHECK_TARGET, runBlurCheck, summarizeBlurCheck } from '../../src/eval/blur-check.ts';
import { accumulateConfusion, createConfusion } from '../../src/eval/confusion.ts';
import { parseSegmenterSpec, runSegmenterOnnx } from '../../src/eval/segmenter.ts';
import { writeTinySegmenter } from './tiny-segmenter.ts';

const SPEC = { numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] };

/**
 * A 32×8 photo of 1-pixel columns alternately red (200, 0, 0) and green (0, 200, 0), its middle 16
 * columns labelled road and sidewalk (the rest unlabelled, beyond the kernel's reach of the border);
 * and a uniform red 32×8 photo labelled road. The tiny segmenter reads red as road and green as
 * sidewalk; blurred or shrunk, the columns mix to (100, 100, 0), which it reads as class 3 (not
 * evaluated): the striped frame loses everything, the uniform one nothing.
 */
async function writeCase(): Promise<{ images: string; labels: string; seg: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'blur-check-'));
  const images = path.join(root, 'photos');
  const labels = path.join(root, 'gt');
  const [w, h] = [32, 8];
  const stripes = new Uint8Array(w * h * 3);
  const stripeLabels = new Uint8Array(w * h);
  for (let p = 0; p < w * h; p++) {
    const x = p % w;
    const red = x % 2 === 0;
    stripes[p * 3 + (red ? 0 : 1)] = 200;
    stripeLabels[p] = x >= 8 && x < 24 ? (red ? 7 : 8) : 0;
  }
  const uniform = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) uniform[p * 3] = 200;
  await writeImage(path.join(images, 'a_000000_000001_leftImg8bit.png'), { width: w, height: h, data: stripes });
  await writeLabelImage(path.join(labels, 'a_000000_000001_gtFine_labelIds.png'), { width: w, height: h, data: stripeLabels });
  await writeImage(path.join(images, 'a_000000_000002_leftImg8bit.png'), { width: w, height: h, data: uniform });
  await writeLabelImage(path.join(labels, 'a_000000_000002_gtFine_labelIds.png'), { width: w, height: h, data: new Uint8Array(w * h).fill(7) });
  return { images, labels, seg: writeTinySegmenter(root) };
}

describe('runBlurCheck', () => {
  it('scores the photos as they are, Gaussian-blurred and shrunk-enlarged, with ratios to the ground truth', async () => {
    const c = await writeCase();
    const spec = parseSegmenterSpec(SPEC, 's');
    const { model, release } = await runSegmenterOnnx(c.seg, spec, { provider: 'cpu' });
    try {
      const r = await runBlurCheck({ imagesDir: c.images, labelsDir: c.labels, model, spec, modelName: c.seg, sigma: 2, shrinkFactor: 2, resamples: 200 });
      expect(r.frames).toBe(2);
      // ground truth: all 384 pixels right; road 320 of 320, sidewalk 64 of 64 → 2 of 19 classes at 1
      expect(r.scores.groundTruth.pixelAcc).toBeCloseTo(1, 10);
      expect(r.scores.groundTruth.meanClassAcc).toBeCloseTo(2 / 19, 10);
      // blurred and shrunk: only the uniform frame's 256 road pixels stay right
      for (const s of [r.scores.blurred, r.scores.shrunk]) {
        expect(s.pixelAcc).toBeCloseTo(256 / 384, 10);
        expect(s.classAcc[0]).toBeCloseTo(256 / 320, 10);
        expect(s.classAcc[1]).toBe(0);
      }
      // per class (0.8 / 19) / (2 / 19) = 0.4
      expect(r.classAccRatio.blurred.value).toBeCloseTo(0.4, 8);
      expect(r.pixelAccRatio.shrunk.value).toBeCloseTo(2 / 3, 8);
      expect(r.passes).toBe(true);
    } finally {
      await release();
    }
  });
});

describe('summarizeBlurCheck', () => {
  it('passes only when blurred per-class accuracy is at most BLUR_CHECK_TARGET of the ground truth', () => {
    const frame = (pred: number[]) => {
      const c = createConfusion();
      accumulateConfusion(c, Uint8Array.from([0, 0, 0, 0]), Uint8Array.from(pred));
      return c;
    };
    const gt = [frame([0, 0, 0, 0])];
    // blurred keeps 3 of 4 (0.75×): exactly at the target passes; 4 of 4 does not
    const atTarget = summarizeBlurCheck({ groundTruth: gt, blurred: [frame([0, 0, 0, 1])], shrunk: gt }, 2, 8, 20);
    expect(BLUR_CHECK_TARGET).toBe(0.75);
    expect(atTarget.classAccRatio.blurred.value).toBeCloseTo(0.75, 10);
    expect(atTarget.passes).toBe(true);
    expect(summarizeBlurCheck({ groundTruth: gt, blurred: gt, shrunk: gt }, 2, 8, 20).passes).toBe(false);
  });
});
