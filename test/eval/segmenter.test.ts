import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FCN8S_CITYSCAPES,
  loadSegmenterSpec,
  logitsToTrainIds,
  parseSegmenterSpec,
  preprocessForSegmenter,
  runSegmenterOnnx,
  segmentImage,
  type SegmenterModel,
  type SegmenterSpec,
} from '../../src/eval/segmenter.ts';
import { UserError } from '../../src/util/errors.ts';
import { writeTinySegmenter } from './tiny-segmenter.ts';

const valid = {
  inputSize: [4, 2],
  resize: 'nearest',
  channelOrder: 'RGB',
  mean: [1, 2, 3],
  std: [1, 1, 2],
  outputLayout: 'NCHW',
  numClasses: 3,
  classToTrainId: [0, 13, 255],
};

function expectOneLineUserError(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(pattern);
    expect((e as Error).message).not.toContain('\n');
    return;
  }
  throw new Error('expected a UserError');
}

describe('parseSegmenterSpec (the sidecar)', () => {
  it('accepts a complete sidecar', () => {
    expect(parseSegmenterSpec(valid, 'seg.onnx.json')).toEqual({ ...valid, inputSize: [4, 2] });
  });

  it('starts from a named preset and applies overrides', () => {
    const spec = parseSegmenterSpec({ preset: 'fcn8s-cityscapes', inputSize: [512, 256] }, 's.json');
    expect(spec.inputSize).toEqual([512, 256]);
    expect(spec.mean).toEqual(FCN8S_CITYSCAPES.mean);
    expect(spec.classToTrainId[19]).toBe(255);
  });

  it.each([
    [{ ...valid, classToTrainId: [0, 1] }, /classToTrainId" must list one trainId per output class \(3 entries\)/],
    [{ ...valid, classToTrainId: [0, 19, 255] }, /classToTrainId\[1\] = 19 is not a trainId/],
    [{ ...valid, resize: 'bicubic' }, /"resize" must be one of pil-bilinear, bilinear, nearest/],
    [{ ...valid, channelOrder: 'rgb' }, /"channelOrder" must be "RGB" or "BGR"/],
    [{ ...valid, std: [1, 0, 1] }, /"std" must be a list of 3 positive numbers/],
    [{ ...valid, mean: [1, 2] }, /"mean" must be a list of 3 numbers/],
    [{ ...valid, inputSize: [256] }, /"inputSize" must be \[width, height\]/],
    [{ ...valid, outputLayout: 'NHWC' }, /"outputLayout" must be "NCHW"/],
    [{ ...valid, numClasses: 0 }, /"numClasses" must be a positive integer/],
    [{ ...valid, colour: 1 }, /unknown setting "colour"/],
    [{ preset: 'deeplab' }, /unknown segmenter preset "deeplab"/],
    [[1, 2], /must be an object/],
  ])('rejects bad sidecars with one line naming the file (%#)', (raw, pattern) => {
    expectOneLineUserError(() => parseSegmenterSpec(raw, 'seg.onnx.json'), new RegExp(`^seg\\.onnx\\.json: .*${pattern.source}`));
  });
});

describe('loadSegmenterSpec', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'seg-spec-'));

  it('reads SEG.onnx.json or SEG.onnx.yaml beside the model', async () => {
    writeFileSync(path.join(dir, 'a.onnx.json'), JSON.stringify(valid));
    writeFileSync(path.join(dir, 'b.onnx.yaml'), 'preset: fcn8s-cityscapes\nchannelOrder: RGB\n');
    expect((await loadSegmenterSpec(path.join(dir, 'a.onnx'))).classToTrainId).toEqual([0, 13, 255]);
    const b = await loadSegmenterSpec(path.join(dir, 'b.onnx'));
    expect([b.channelOrder, b.numClasses]).toEqual(['RGB', 20]);
  });

  it('uses the preset alone when one is named', async () => {
    expect(await loadSegmenterSpec(path.join(dir, 'none.onnx'), 'fcn8s-cityscapes')).toBe(FCN8S_CITYSCAPES);
  });

  it('says what to write when there is no sidecar, and reports broken JSON in one line', async () => {
    await expect(loadSegmenterSpec(path.join(dir, 'none.onnx'))).rejects.toThrow(
      /No segmenter sidecar for .*none\.onnx: write .*none\.onnx\.json .* or pass --preset fcn8s-cityscapes/,
    );
    writeFileSync(path.join(dir, 'c.onnx.json'), '{ "numClasses": ');
    await expect(loadSegmenterSpec(path.join(dir, 'c.onnx'))).rejects.toThrow(/c\.onnx\.json: not valid JSON/);
  });
});

describe('preprocessForSegmenter', () => {
  it('reorders channels, subtracts the mean and divides by std, into NCHW', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 40, 50, 60]) };
    const spec: SegmenterSpec = { ...parseSegmenterSpec(valid, 's'), channelOrder: 'BGR' };
    const { data, dims } = preprocessForSegmenter(img, spec, [2, 1]);
    expect(dims).toEqual([1, 3, 1, 2]);
    // model channel 0 = B − 1, channel 1 = G − 2, channel 2 = (R − 3) / 2
    expect(Array.from(data)).toEqual([29, 59, 18, 48, 3.5, 18.5]);
  });

  it('implements the FCN-8s contract: BGR minus (72.78044, 83.21195, 73.45286) in float32, no scaling', () => {
    const img = { width: 1, height: 1, data: Uint8Array.from([100, 150, 200]) };
    const { data } = preprocessForSegmenter(img, FCN8S_CITYSCAPES, [1, 1]);
    expect(data[0]).toBe(Math.fround(200 - Math.fround(72.78044)));
    expect(data[1]).toBe(Math.fround(150 - Math.fround(83.21195)));
    expect(data[2]).toBe(Math.fround(100 - Math.fround(73.45286)));
    expect(data[0]).toBeCloseTo(127.21956, 4);
  });

  it('resizes with the declared filter before normalising (PIL bilinear 2 → 4 wide)', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255]) };
    const spec: SegmenterSpec = { ...parseSegmenterSpec(valid, 's'), resize: 'pil-bilinear', mean: [0, 0, 0], std: [1, 1, 1] };
    const { data, dims } = preprocessForSegmenter(img, spec, [4, 1]);
    expect(dims).toEqual([1, 3, 1, 4]);
    expect(Array.from(data.subarray(0, 4))).toEqual([0, 64, 191, 255]);
  });
});

describe('logitsToTrainIds', () => {
  const spec = { numClasses: 3, classToTrainId: [4, 9, 255] };

  it('takes the argmax over classes (first maximum wins, as numpy) and maps it to trainIds', () => {
    // pixel 0: logits (1, 3, 2) → class 1 → 9; pixel 1: (5, 5, 0) → class 0 → 4; pixel 2: (0, 0, 7) → class 2 → 255
    const logits = Float32Array.from([1, 5, 0, 3, 5, 0, 2, 0, 7]);
    expect(logitsToTrainIds(logits, [1, 3, 1, 3], spec)).toEqual({ width: 3, height: 1, data: Uint8Array.from([9, 4, 255]) });
  });

  it('maps the FCN-8s class 19 to ignore (255)', () => {
    const logits = new Float32Array(20);
    logits[19] = 1;
    expect(logitsToTrainIds(logits, [1, 20, 1, 1], FCN8S_CITYSCAPES).data[0]).toBe(255);
  });

  it('rejects a wrong class count or layout with one line naming the model', () => {
    expectOneLineUserError(
      () => logitsToTrainIds(new Float32Array(4), [1, 4, 1, 1], spec, 'seg.onnx'),
      /^seg\.onnx: output has 4 classes but the segmenter spec says numClasses = 3/,
    );
    expectOneLineUserError(() => logitsToTrainIds(new Float32Array(3), [3, 1], spec, 'seg.onnx'), /^seg\.onnx: output has shape \[3, 1\]/);
  });
});

describe('segmentImage with an injected model', () => {
  it('feeds the preprocessed blob to the model and post-processes its logits', async () => {
    const seen: number[][] = [];
    // A stand-in network: class 0 scores the first channel, class 1 its negation.
    const model: SegmenterModel = async (input, dims) => {
      seen.push(dims);
      const plane = dims[2] * dims[3];
      const out = new Float32Array(2 * plane);
      for (let i = 0; i < plane; i++) {
        out[i] = input[i];
        out[plane + i] = -input[i];
      }
      return { data: out, dims: [1, 2, dims[2], dims[3]] };
    };
    const spec = parseSegmenterSpec({ numClasses: 2, classToTrainId: [7, 8], mean: [100, 0, 0] }, 's');
    const img = { width: 2, height: 1, data: Uint8Array.from([200, 0, 0, 50, 0, 0]) };
    const pred = await segmentImage(img, model, spec, [2, 1]);
    expect(seen).toEqual([[1, 3, 1, 2]]);
    expect(Array.from(pred.data)).toEqual([7, 8]);
  });
});

describe('runSegmenterOnnx on a real (tiny) ONNX file', () => {
  it('runs the network through onnxruntime-node', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seg-onnx-'));
    const file = writeTinySegmenter(dir);
    const spec = parseSegmenterSpec({ numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] }, 's');
    const { model, release } = await runSegmenterOnnx(file, spec);
    try {
      // red, green, blue, dark grey → classes 0, 1, 2, 3 (see tiny-segmenter.ts)
      const img = { width: 4, height: 1, data: Uint8Array.from([255, 0, 0, 0, 200, 0, 0, 0, 255, 10, 10, 10]) };
      const pred = await segmentImage(img, model, spec, [4, 1]);
      expect(Array.from(pred.data)).toEqual([0, 1, 2, 255]);
    } finally {
      await release();
    }
  });

  it('reports a missing or unreadable model in one line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'seg-onnx-'));
    await expect(runSegmenterOnnx(path.join(dir, 'nope.onnx'), {})).rejects.toThrow(/Segmenter model .*nope\.onnx not found/);
    writeFileSync(path.join(dir, 'junk.onnx'), 'not a model');
    await expect(runSegmenterOnnx(path.join(dir, 'junk.onnx'), {})).rejects.toThrow(/^Cannot load segmenter .*junk\.onnx: /);
  });
});
