import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage, writeLabelImage } from '../../src/data/image.ts';
import { runFcnScore } from '../../src/eval/fcn-score.ts';
import { parseSegmenterSpec, runSegmenterOnnx } from '../../src/eval/segmenter.ts';
import { UserError } from '../../src/util/errors.ts';
import { writeTinySegmenter } from './tiny-segmenter.ts';

const ID = 'aachen_000000_000019';
// 2×2 generated photo: red, green / blue, dark → the tiny segmenter predicts classes 0, 1 / 2, 3
const PHOTO = Uint8Array.from([255, 0, 0, 0, 200, 0, 0, 0, 255, 10, 10, 10]);
// raw label ids: road (7 → 0), sidewalk (8 → 1) / car (26 → 13), unlabeled (0 → ignored)
const LABEL_IDS = Uint8Array.from([7, 8, 26, 0]);

async function makeDataset(): Promise<{ root: string; images: string; labels: string; seg: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'fcn-score-'));
  const images = path.join(root, 'results');
  const labels = path.join(root, 'gtFine', 'val');
  mkdirSync(path.join(labels, 'aachen'), { recursive: true });
  await writeImage(path.join(images, `${ID}_leftImg8bit.png`), { width: 2, height: 2, data: PHOTO });
  await writeLabelImage(path.join(labels, 'aachen', `${ID}_gtFine_labelIds.png`), { width: 2, height: 2, data: LABEL_IDS });
  // the colour rendering beside it must not be taken for a label map
  await writeImage(path.join(labels, 'aachen', `${ID}_gtFine_color.png`), { width: 2, height: 2, data: PHOTO });
  const seg = writeTinySegmenter(root);
  return { root, images, labels, seg };
}

describe('runFcnScore', () => {
  it('segments each generated photo and scores it against trainIds of the full-size labels', async () => {
    const d = await makeDataset();
    const spec = parseSegmenterSpec({ numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] }, 's');
    const { model, release } = await runSegmenterOnnx(d.seg, spec);
    const seen: number[] = [];
    try {
      const r = await runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: d.seg, onFrame: (done) => seen.push(done) });
      // counted (gt, pred): (0,0) (1,1) (13,2); the unlabeled pixel is ignored
      expect(r.scores.pixelAcc).toBeCloseTo(2 / 3, 10);
      // road and sidewalk score 1, car 0, the 16 classes absent from this frame 0: mean over 19
      expect(r.scores.meanClassAcc).toBeCloseTo(2 / 19, 10);
      expect(r.scores.meanClassIoU).toBeCloseTo(2 / 19, 10);
      expect(r.confusion.counts[13 * 19 + 2]).toBe(1);
      expect(r.pairs.map((p) => p.id)).toEqual([ID]);
      expect(seen).toEqual([1]);
    } finally {
      await release();
    }
  });

  it('names the image when the prediction size differs from the label size', async () => {
    const d = await makeDataset();
    const spec = parseSegmenterSpec({ numClasses: 4, classToTrainId: [0, 1, 2, 255], inputSize: [4, 4] }, 's');
    const { model, release } = await runSegmenterOnnx(d.seg, spec);
    try {
      const error = await runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: d.seg }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(new RegExp(`${ID}_leftImg8bit\\.png: the segmenter's prediction is 4×4 but the label .* is 2×2`));
    } finally {
      await release();
    }
  });

  it('rejects a model whose class count differs from the spec, naming the model', async () => {
    const d = await makeDataset();
    const spec = parseSegmenterSpec({ numClasses: 20, classToTrainId: [...Array(19).keys(), 255] }, 's');
    const { model, release } = await runSegmenterOnnx(d.seg, spec);
    try {
      await expect(runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: d.seg })).rejects.toThrow(
        /seg\.onnx: output has 4 classes but the segmenter spec says numClasses = 20/,
      );
    } finally {
      await release();
    }
  });

  it("feeds the raw argmax to the reference fast_hist, but maps class 19 to 'ignore' in strict mode", async () => {
    const d = await makeDataset();
    const spec = parseSegmenterSpec({ preset: 'fcn8s-cityscapes', inputSize: null }, 's');
    // a stand-in network that predicts class 19 everywhere
    const model = async (_input: Float32Array, dims: number[]) => {
      const plane = dims[2] * dims[3];
      const out = new Float32Array(20 * plane);
      out.fill(1, 19 * plane);
      return { data: out, dims: [1, 20, dims[2], dims[3]] };
    };
    const strict = await runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: 'm' });
    expect(Array.from(strict.confusion.predictedIgnore).filter((v) => v > 0)).toEqual([1, 1, 1]);
    expect([strict.confusion.predictedIgnore[0], strict.confusion.predictedIgnore[1], strict.confusion.predictedIgnore[13]]).toEqual([1, 1, 1]);
    const reference = await runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: 'm', mode: 'reference' });
    // index 19·g + 19 lands in cell [g + 1][0] for road (0), sidewalk (1) and car (13)
    expect([reference.confusion.counts[1 * 19], reference.confusion.counts[2 * 19], reference.confusion.counts[14 * 19]]).toEqual([1, 1, 1]);
    expect(reference.confusion.predictedIgnore.every((v) => v === 0)).toBe(true);
  });

  it('reports generated photos without labels', async () => {
    const d = await makeDataset();
    writeFileSync(path.join(d.images, 'stray.txt'), 'not an image'); // not an image: ignored
    await writeImage(path.join(d.images, 'bremen_000000_000019_leftImg8bit.png'), { width: 2, height: 2, data: PHOTO });
    const spec = parseSegmenterSpec({ numClasses: 4, classToTrainId: [0, 1, 2, 255] }, 's');
    const model = async () => ({ data: new Float32Array(16), dims: [1, 4, 2, 2] });
    await expect(runFcnScore({ imagesDir: d.images, labelsDir: d.labels, model, spec, modelName: 'm' })).rejects.toThrow(
      /^1 of 2 images in --generated .* have no label \(bremen_000000_000019_leftImg8bit\.png\)/,
    );
  });
});
