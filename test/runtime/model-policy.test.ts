import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { ONNX_FLOAT, ONNX_INT64, type OnnxNode, type OnnxTensor } from '../../src/onnx/proto.ts';
import { checkModelPolicy, constantOutputElements, defaultMaxModelMemory, parseMaxModelMemory } from '../../src/runtime/model-policy.ts';
import { parseByteSize } from '../../src/util/bytes.ts';
import { randomParams } from '../export/fixtures.ts';
import { int64s, xyModel } from '../helpers/onnx-model.ts';

let root: string;
const MiB = 2 ** 20;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-policy-')));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

async function model(name: string, nodes: OnnxNode[], initializers: OnnxTensor[]): Promise<string> {
  const file = path.join(root, name);
  await fsp.writeFile(file, xyModel(8, { nodes, initializers }));
  return file;
}

describe('sizes', () => {
  it('parses sizes with binary units and rejects anything else in one line', () => {
    expect(parseByteSize('4GiB')).toBe(4 * 2 ** 30);
    expect(parseByteSize('512 MiB')).toBe(512 * MiB);
    expect(parseByteSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseByteSize('1000')).toBe(1000);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize('0')).toBeUndefined();
    expect(parseMaxModelMemory(undefined)).toBeUndefined();
    expect(() => parseMaxModelMemory('-3')).toThrow(/^--max-model-memory '-3' should be a size such as 4GiB/);
  });

  it('defaults to 4 GiB, or half the memory of a smaller machine', () => {
    expect(defaultMaxModelMemory(64 * 2 ** 30)).toBe(4 * 2 ** 30);
    expect(defaultMaxModelMemory(2 * 2 ** 30)).toBe(2 ** 30);
  });
});

describe('constantOutputElements', () => {
  const c = new Map<string, bigint[]>([
    ['shape', [1000n, 1000n, 3n]],
    ['start', [0n]],
    ['limit', [10n]],
    ['delta', [3n]],
  ]);
  const node = (opType: string, inputs: string[], attrs = new Map()) => ({ opType, inputs, attrs });
  it('computes the element count fixed by constant inputs, and nothing for dynamic ones', () => {
    expect(constantOutputElements(node('ConstantOfShape', ['shape']), c)).toBe(3_000_000n);
    expect(constantOutputElements(node('Expand', ['x', 'shape']), c)).toBe(3_000_000n);
    expect(constantOutputElements(node('Tile', ['x', 'shape']), c)).toBe(3_000_000n);
    expect(constantOutputElements(node('Resize', ['x', '', '', 'shape']), c)).toBe(3_000_000n);
    expect(constantOutputElements(node('Range', ['start', 'limit', 'delta']), c)).toBe(4n);
    expect(constantOutputElements(node('RandomNormal', [], new Map([['shape', { ints: [7n, 6n] }]])), c)).toBe(42n);
    expect(constantOutputElements(node('ConstantOfShape', ['computed']), c)).toBeUndefined();
    expect(constantOutputElements(node('Conv', ['x', 'w']), c)).toBeUndefined();
  });
});

describe('checkModelPolicy', () => {
  it('passes our exported generator and measures its weights', async () => {
    const arch = generatorArch({ depth: 5, ngf: 4 });
    const file = path.join(root, 'g.onnx');
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), {}));
    await fsp.writeFile(file, bytes);
    const f = await checkModelPolicy(file, { maxBytes: 64 * MiB });
    expect(f.fileBytes).toBe(bytes.length);
    // Weights dominate the file: their declared bytes are within 5% of it.
    expect(f.tensorBytes).toBeGreaterThan(0.95 * bytes.length);
    expect(f.tensorBytes).toBeLessThanOrEqual(bytes.length);
    await expect(checkModelPolicy(file, { maxBytes: Math.floor(bytes.length / 2) })).rejects.toThrow(/refused: the file is/);
  });

  it('counts Constant nodes, and refuses an Expand whose constant shape is over the bound', async () => {
    const constant = await model(
      'constant.onnx',
      [
        {
          name: 'c',
          opType: 'Constant',
          input: [],
          output: ['k'],
          attribute: [{ name: 'value', type: 4, t: { name: '', dataType: ONNX_FLOAT, dims: [1 << 20], rawData: new Uint8Array(4 << 20) } } as never],
        },
      ],
      [],
    );
    expect((await checkModelPolicy(constant, { maxBytes: 8 * MiB })).tensorBytes).toBe(4 * MiB);
    const expand = await model(
      'expand.onnx',
      [{ name: 'e', opType: 'Expand', input: ['x', 'shape'], output: ['y'], attribute: [] }],
      [{ name: 'shape', dataType: ONNX_INT64, dims: [2], rawData: int64s([4096, 4096]) }],
    );
    await expect(checkModelPolicy(expand, { maxBytes: 32 * MiB })).rejects.toThrow(/node 'e' \(Expand\) would allocate 64\.0 MiB \(16777216 elements\)/);
    // The shape may also come from a Constant node's value_ints.
    const viaConstant = await model(
      'const-ints.onnx',
      [
        { name: 'k', opType: 'Constant', input: [], output: ['shape'], attribute: [{ name: 'value_ints', type: 7, ints: [4096, 4096] }] },
        { name: 'z', opType: 'ConstantOfShape', input: ['shape'], output: ['y'], attribute: [] },
      ],
      [],
    );
    await expect(checkModelPolicy(viaConstant, { maxBytes: 32 * MiB })).rejects.toThrow(/node 'z' \(ConstantOfShape\) would allocate 64\.0 MiB/);
  });

  it('sums the constant-shaped nodes: three ConstantOfShape of 12 MiB each fit a 32 MiB bound alone, not together', async () => {
    const zeros = (k: number): OnnxNode => ({ name: `z${k}`, opType: 'ConstantOfShape', input: ['shape'], output: [`z${k}`], attribute: [] });
    const shape: OnnxTensor = { name: 'shape', dataType: ONNX_INT64, dims: [1], rawData: int64s([3 * 2 ** 20]) };
    const concat: OnnxNode = { name: 'cat', opType: 'Concat', input: ['z0', 'z1', 'z2'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 0 }] };
    const one = await model('one-zeros.onnx', [zeros(0)], [shape]);
    expect((await checkModelPolicy(one, { maxBytes: 32 * MiB })).constantNodeBytes).toBe(12 * MiB);
    const three = await model('three-zeros.onnx', [zeros(0), zeros(1), zeros(2), concat], [shape]);
    await expect(checkModelPolicy(three, { maxBytes: 32 * MiB })).rejects.toThrow(
      /refused: its constant-shaped nodes \(up to node 'z2' \(ConstantOfShape\)\) would allocate 36\.0 MiB beside 8 bytes of tensors, 36\.0 MiB in all \(over --max-model-memory 32\.0 MiB/,
    );
  });

  it('counts the initializers with the constant-shaped nodes: 20 MiB of weights and a 16 MiB ConstantOfShape exceed 32 MiB', async () => {
    const w: OnnxTensor = { name: 'w', dataType: ONNX_FLOAT, dims: [5 * 2 ** 20], rawData: new Uint8Array(20 * MiB) };
    const shape: OnnxTensor = { name: 'shape', dataType: ONNX_INT64, dims: [1], rawData: int64s([4 * 2 ** 20]) };
    const file = await model('weights-and-zeros.onnx', [{ name: 'z', opType: 'ConstantOfShape', input: ['shape'], output: ['y'], attribute: [] }], [w, shape]);
    await expect(checkModelPolicy(file, { maxBytes: 32 * MiB })).rejects.toThrow(/would allocate 16\.0 MiB beside 20\.0 MiB of tensors, 36\.0 MiB in all/);
    expect((await checkModelPolicy(file, { maxBytes: 40 * MiB })).constantNodeBytes).toBe(16 * MiB);
  });

  it('refuses a tensor that declares more data than it holds', async () => {
    const file = await model('short.onnx', [], [{ name: 'w', dataType: ONNX_FLOAT, dims: [1000], rawData: new Uint8Array(40) }]);
    await expect(checkModelPolicy(file, { maxBytes: MiB })).rejects.toThrow(/is invalid: initializer 'w' declares 4000 bytes but holds 40 bytes/);
  });

  it('refuses external data outside the model folder, missing, or shorter than declared', async () => {
    const ext = (location: string, length: number): OnnxTensor => ({
      name: 'w',
      dataType: ONNX_FLOAT,
      dims: [256],
      rawData: new Uint8Array(0),
      dataLocation: 1,
      externalData: [
        { key: 'location', value: location },
        { key: 'length', value: String(length) },
      ],
    });
    await fsp.writeFile(path.join(root, 'w.bin'), Buffer.alloc(1024));
    await checkModelPolicy(await model('ext-ok.onnx', [], [ext('w.bin', 1024)]), { maxBytes: MiB });
    await expect(checkModelPolicy(await model('ext-out.onnx', [], [ext('../w.bin', 1024)]), { maxBytes: MiB })).rejects.toThrow(/outside the model's folder/);
    await expect(checkModelPolicy(await model('ext-miss.onnx', [], [ext('nope.bin', 1024)]), { maxBytes: MiB })).rejects.toThrow(
      /'nope\.bin', which does not exist/,
    );
    await expect(checkModelPolicy(await model('ext-short.onnx', [], [ext('w.bin', 4096)]), { maxBytes: MiB })).rejects.toThrow(
      /reads bytes 0\.\.4096 of 'w\.bin', which has 1024/,
    );
  });

  it('names a file that is not ONNX in one line', async () => {
    const file = path.join(root, 'junk.onnx');
    await fsp.writeFile(file, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    await expect(checkModelPolicy(file, { maxBytes: MiB })).rejects.toThrow(/junk\.onnx is truncated or not an ONNX model/);
  });
});
