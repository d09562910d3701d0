import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { importCaffe } from '../../../src/import/caffe/import.ts';
import { parsePrototxt, children, str, numbers } from '../../../src/import/caffe/prototxt.ts';
import { scanCaffeModel } from '../../../src/import/caffe/caffemodel.ts';
import { loadSegmenterSpec } from '../../../src/eval/segmenter.ts';
import { encodeCaffemodel, fcn8sPrototxt, parseNet, randomWeights, referenceForward, type T3, v1Prototxt, writeNet } from './fixtures.ts';
import { Rng } from '../../../src/util/rng.ts';
import { relativeError } from '../../helpers/numeric.ts';
import { captureStdout, runCli } from '../../helpers/capture.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'caffe-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const NARROW = { c1: 3, c2: 4, c3: 4, c4: 5, c5: 5, fc: 6, classes: 20 };

function randomInput(c: number, h: number, w: number, seed: number): T3 {
  const rng = new Rng(seed);
  return { c, h, w, d: Float32Array.from({ length: c * h * w }, () => (rng.nextUint32() / 2 ** 32) * 200 - 100) };
}

async function runOnnx(file: string, x: T3): Promise<{ data: Float32Array; dims: number[] }> {
  const s = await ort.InferenceSession.create(file);
  try {
    const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.d, [1, x.c, x.h, x.w]) });
    const t = r[s.outputNames[0]];
    return { data: t.data as Float32Array, dims: t.dims.map(Number) };
  } finally {
    await s.release();
  }
}

describe('prototxt parser', () => {
  it('reads nested messages, repeated keys, strings, enums, comments and lists', () => {
    const m = parsePrototxt(
      'name: "n" # c\nlayer { name: \'a\' type: "X" p { dim: 1 dim: 2 } }\nlayer: { name: "b" v: [3, 4] e: MAX f: -1.5e-1 t: true }',
      'x',
    );
    const layers = children(m, 'layer');
    expect(layers.map((l) => str(l, 'name'))).toEqual(['a', 'b']);
    expect(numbers(children(layers[0], 'p')[0], 'dim', 'x')).toEqual([1, 2]);
    expect(numbers(layers[1], 'v', 'x')).toEqual([3, 4]);
    expect(str(layers[1], 'e')).toBe('MAX');
    expect(numbers(layers[1], 'f', 'x')).toEqual([-0.15]);
  });
  it('takes net-level inputs from input_shape as well as input_dim, and skips TRAIN-only layers', () => {
    const net = parseNet(
      'input: "img"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 6 }\nlayer { name: "d" type: "Dropout" bottom: "img" top: "img" include { phase: TRAIN } }\nlayer { name: "r" type: "ReLU" bottom: "img" top: "r" }',
    );
    expect(net.inputs).toEqual([{ name: 'img', shape: [1, 3, 8, 6] }]);
    expect(net.layers.map((l) => l.name)).toEqual(['r']);
  });
  it('names the file and line of a syntax error', () => {
    expect(() => parsePrototxt('layer {\n name: "a"\n', 'deploy.prototxt')).toThrow(/deploy.prototxt: unexpected end of file/);
    expect(() => parsePrototxt('a b', 'deploy.prototxt')).toThrow(/deploy.prototxt:1: expected ':'/);
  });
});

describe('import-caffe', () => {
  const fcnText = fcn8sPrototxt(NARROW);
  const fcnNet = parseNet(fcnText);
  const fcnWeights = randomWeights(fcnNet, 7);
  // 36×52: not square, and not a multiple of 32, so every crop offset matters.
  const fcnInput = randomInput(3, 36, 52, 3);
  const fcnRef = referenceForward(fcnNet, fcnWeights, fcnInput);

  for (const format of ['v2', 'v1'] as const) {
    it(`FCN-8s topology, ${format} caffemodel: the ONNX output matches Caffe's layer semantics to 1e-4`, async () => {
      const d = tmp();
      const files = writeNet(d, fcnText, encodeCaffemodel(fcnNet, fcnWeights, format));
      expect(scanCaffeModel(files.caffemodel).format).toBe(format === 'v2' ? 'layer' : 'layers (V1)');
      const out = path.join(d, 'fcn8s.onnx');
      const r = await importCaffe({ ...files, out, preset: 'fcn8s-cityscapes' });
      expect(r.outputName).toBe('score');
      expect(r.outputChannels).toBe(20);
      const y = await runOnnx(out, fcnInput);
      expect(y.dims).toEqual([1, 20, 36, 52]);
      expect(fcnRef.c * fcnRef.h * fcnRef.w).toBe(y.data.length);
      expect(relativeError(y.data, fcnRef.d)).toBeLessThan(1e-4);
      // The sidecar names the preset and the tensors, and the evaluator reads it.
      const spec = await loadSegmenterSpec(out);
      expect(spec.channelOrder).toBe('BGR');
      expect(spec.inputName).toBe('data');
      expect(spec.outputName).toBe('score');
    });
  }

  it('pix2pix segmenter import-caffe shows the weights written in whole MiB, ending full however small they are', async () => {
    const d = tmp();
    const files = writeNet(d, fcnText, encodeCaffemodel(fcnNet, fcnWeights, 'v2'));
    const out = path.join(d, 'seg.onnx');
    let stderr = '';
    const stdout = await captureStdout(async () => {
      stderr = (await runCli(['segmenter', 'import-caffe', '--prototxt', files.prototxt, '--caffemodel', files.caffemodel, '--out', out])).stderr;
    });
    expect(stdout.split('\n')[0]).toBe(path.resolve(out));
    const bars = stderr.split(/[\r\n]/).filter((l) => l.startsWith('weights ['));
    expect(bars.at(-1)).toMatch(/^weights \[#{20}\] 1\/1 100% [\d.]+ MiB\/s/);
  });

  it('dynamic H/W: the same ONNX runs at another size', async () => {
    const d = tmp();
    const files = writeNet(d, fcnText, encodeCaffemodel(fcnNet, fcnWeights, 'v2'));
    const out = path.join(d, 'fcn8s.onnx');
    await importCaffe({ ...files, out, preset: 'none' });
    const x = randomInput(3, 24, 20, 4);
    const y = await runOnnx(out, x);
    expect(y.dims).toEqual([1, 20, 24, 20]);
    expect(relativeError(y.data, referenceForward(fcnNet, fcnWeights, x).d)).toBeLessThan(1e-4);
  });

  for (const format of ['v1', 'v2'] as const) {
    it(`V1 prototxt (input_dim, dilation, group, leaky ReLU, Eltwise PROD/MAX/coeff, Concat, AVE/MAX ceil pooling, grouped deconv, Softmax), ${format} caffemodel`, async () => {
      const text = v1Prototxt();
      const net = parseNet(text);
      expect(net.format).toBe('layers (V1)');
      const weights = randomWeights(net, 11);
      const d = tmp();
      const files = writeNet(d, text, encodeCaffemodel(net, weights, format));
      const out = path.join(d, 'v1.onnx');
      const r = await importCaffe({ ...files, out, preset: 'none' });
      expect(r.sidecar).toBeNull();
      const x = randomInput(3, 14, 14, 5);
      const ref = referenceForward(net, weights, x);
      const y = await runOnnx(out, x);
      expect(y.dims).toEqual([1, ref.c, ref.h, ref.w]);
      expect(relativeError(y.data, ref.d)).toBeLessThan(1e-4);
    });
  }

  it('an unsupported layer fails with one line naming the layer and its type', async () => {
    const text = `${fcn8sPrototxt(NARROW)}layer { name: "norm9" type: "LRN" bottom: "score" top: "norm9" }\n`;
    const d = tmp();
    const files = writeNet(d, text, encodeCaffemodel(fcnNet, fcnWeights, 'v2'));
    const err = await importCaffe({ ...files, out: path.join(d, 'x.onnx'), preset: 'none' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/layer "norm9" \(LRN\): not supported by import-caffe/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a caffemodel without a layer the prototxt needs, or a prototxt given as caffemodel, fails with one line', async () => {
    const d = tmp();
    const files = writeNet(d, fcnText, encodeCaffemodel(parseNet(v1Prototxt()), randomWeights(parseNet(v1Prototxt()), 1), 'v2'));
    await expect(importCaffe({ ...files, out: path.join(d, 'x.onnx'), preset: 'none' })).rejects.toThrow(
      /layer "conv1_1" \(Convolution\): the caffemodel has no weights/,
    );
    writeFileSync(path.join(d, 'bad.caffemodel'), readFileSync(files.prototxt));
    await expect(
      importCaffe({ prototxt: files.prototxt, caffemodel: path.join(d, 'bad.caffemodel'), out: path.join(d, 'x.onnx'), preset: 'none' }),
    ).rejects.toThrow(/not a valid caffemodel|no layers found/);
  });
});
