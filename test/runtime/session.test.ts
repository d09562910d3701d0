import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnxModel, ONNX_FLOAT } from '../../src/onnx/proto.ts';
import { describeModelIO, openSession } from '../../src/runtime/session.ts';
import { readOnnxFileHeader } from '../../src/runtime/model-file.ts';
import { translateFolder } from '../../src/runtime/translate.ts';
import { importsReachingTraining } from '../helpers/layering.ts';
import { xyModel } from '../helpers/onnx-model.ts';

let root: string;

/** A foreign-looking model: names x/y, a static 1×3×16×16 input, no metadata, y = tanh(x). */
function tanhModel(): Uint8Array {
  return xyModel(16, { producerName: 'pytorch', producerVersion: '2.0', nodes: [{ opType: 'Tanh', input: ['x'], output: ['y'], name: 't', attribute: [] }] });
}

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-session-'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('describeModelIO', () => {
  it('takes the side from a static input shape first, then metadata, then 256', () => {
    expect(describeModelIO({ shape: [1, 3, 128, 128] }, { shape: [1, 3, 128, 128] }, { image_size: '512' })).toMatchObject({
      size: 128,
      sizeSource: 'input shape',
      staticSize: true,
      fixedBatch: 1,
    });
    expect(describeModelIO({ shape: ['batch', 3, 'H', 'W'] }, { shape: ['batch', 3, 'H', 'W'] }, { image_size: '512', size_multiple: '256' })).toMatchObject({
      size: 512,
      sizeSource: 'metadata',
      staticSize: false,
      sizeMultiple: 256,
      fixedBatch: undefined,
    });
    // The PyTorch reference export: dynamic batch only, no metadata.
    expect(describeModelIO({ shape: ['batch', 3, 256, 256] }, undefined, {})).toMatchObject({
      size: 256,
      sizeSource: 'input shape',
      inputChannels: 3,
      outputChannels: 3,
    });
    expect(describeModelIO({ shape: [] }, { shape: [] }, {})).toMatchObject({ size: 256, sizeSource: 'default', sizeMultiple: 1 });
  });
});

describe('openSession and foreign models', () => {
  it('opens a model without our names or metadata, using its first input and output', async () => {
    const file = path.join(root, 'tanh.onnx');
    await fsp.writeFile(file, tanhModel());
    const s = await openSession(file, { provider: 'auto', threads: 1, warmup: { batch: 4, size: 64 } });
    try {
      expect([s.inputName, s.outputName, s.provider]).toEqual(['x', 'y', 'cpu']);
      expect(s.io).toMatchObject({ size: 16, staticSize: true, fixedBatch: 1 });
      expect(s.metadata).toEqual({});
    } finally {
      await s.close();
    }
  });

  it('translates through a fixed-batch foreign model with the hand-computed result round((tanh(v/127.5 − 1) + 1)·127.5)', async () => {
    const file = path.join(root, 'tanh.onnx');
    await fsp.writeFile(file, tanhModel());
    const input = path.join(root, 'in');
    await fsp.mkdir(input, { recursive: true });
    const values = [0, 60, 128, 255];
    for (const v of values)
      await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: v, g: v, b: v } } })
        .png()
        .toFile(path.join(input, `v${v}.png`));
    const out = path.join(root, 'out');
    const r = await translateFolder({ model: file, input, output: out, batchSize: 3, quiet: true });
    expect(r.translated).toBe(4);
    for (const v of values) {
      const { data } = await sharp(path.join(out, `v${v}.png`))
        .raw()
        .toBuffer({ resolveWithObject: true });
      const want = Math.round((Math.tanh(v / 127.5 - 1) + 1) * 127.5);
      expect(data.every((p) => p === want)).toBe(true);
    }
  });

  it('reads metadata without the weights and reports bad model files in one line', async () => {
    const bad = path.join(root, 'bad.onnx');
    await fsp.writeFile(bad, 'not a model at all, just text');
    await expect(openSession(bad, { provider: 'cpu' })).rejects.toThrow(/not an ONNX model|cannot load model/);
    await expect(openSession(path.join(root, 'nope.onnx'))).rejects.toThrow(/model not found: .*pix2pix export/);
    const meta = path.join(root, 'meta.onnx');
    await fsp.writeFile(meta, encodeOnnxModel({ ...decodeTanh(), metadata: { image_size: '64', direction: 'AtoB' } }));
    expect((await readOnnxFileHeader(meta)).metadata).toEqual({ image_size: '64', direction: 'AtoB' });
  });
});

function decodeTanh(): Parameters<typeof encodeOnnxModel>[0] {
  return {
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'x',
    producerVersion: '1',
    graphName: 'g',
    nodes: [{ opType: 'Tanh', input: ['x'], output: ['y'], name: 't', attribute: [] }],
    initializers: [],
    inputs: [{ name: 'x', elemType: ONNX_FLOAT, shape: ['N', 3, 'H', 'W'] }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT, shape: ['N', 3, 'H', 'W'] }],
    metadata: {},
  };
}

describe('runtime layering', () => {
  it('src/runtime never imports src/train or tfjs (directly or through the files it imports)', async () => {
    const { offending, visited } = await importsReachingTraining('runtime', { dynamic: true });
    expect(visited).toBeGreaterThan(5);
    expect(offending).toEqual([]);
  });
});
