import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage, writeLabelImage } from '../../src/data/image.ts';
import { runLabelScore } from '../../src/eval/label-score.ts';

// Generated colour map, 2×1: road colour slightly off, car colour → trainIds 0, 13.
// Ground truth 4×2 label ids: road road car road / road sidewalk car car
//   → trainIds              0    0    13  0    / 0    1        13  13
async function makeDataset(): Promise<{ pred: string; labels: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'label-score-'));
  const pred = path.join(root, 'pred');
  const labels = path.join(root, 'gt');
  await writeImage(path.join(pred, 'frame1.png'), { width: 2, height: 1, data: Uint8Array.from([126, 66, 130, 0, 0, 142]) });
  await writeLabelImage(path.join(labels, 'frame1.png'), { width: 4, height: 2, data: Uint8Array.from([7, 7, 26, 7, 7, 8, 26, 26]) });
  return { pred, labels };
}

describe('runLabelScore (photo→labels)', () => {
  it('by default upsamples the predicted trainIds (nearest) to the label size', async () => {
    const d = await makeDataset();
    const r = await runLabelScore({ predDir: d.pred, labelsDir: d.labels });
    // prediction becomes 0 0 13 13 / 0 0 13 13: correct at 6 of 8 pixels
    expect(r.scores.pixelAcc).toBeCloseTo(6 / 8, 10);
    expect(r.scores.classAcc[0]).toBeCloseTo(3 / 4, 10);
    expect(r.scores.classAcc[1]).toBe(0);
    expect(r.scores.classAcc[13]).toBeCloseTo(1, 10);
  });

  it("with resolution 'prediction' downsamples the labels (nearest) instead", async () => {
    const d = await makeDataset();
    const r = await runLabelScore({ predDir: d.pred, labelsDir: d.labels, resolution: 'prediction' });
    // label pixels under the output centres (x = 1, 3; y = 1): sidewalk, car → gt (1, 13) vs pred (0, 13)
    expect(r.scores.pixelAcc).toBeCloseTo(1 / 2, 10);
    expect(r.scores.classPixels[1]).toBe(1);
  });
});
