import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/train/tfjs.ts';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import {
  type ConvLayer,
  type DiscriminatorArch,
  discriminatorArch,
  discriminatorInputChannels,
  type GeneratorArch,
  generatorArch,
  type GeneratorOptions,
} from '../../src/nets/arch.ts';
import { exportConvNetOnnx, discriminatorSpec, generatorSpec, irVersionForOpset, META } from '../../src/export/export.ts';
import { appendSequential, tfjsToOnnxWeight } from '../../src/onnx/graph.ts';
import { decodeOnnxModel, readOnnxModelHeader } from '../../src/onnx/proto.ts';
import { maxAbsDifference, randomInputs, tfjsReference, verifyOnnxAgainstTfjs, type VerifyInput } from '../../src/export/verify.ts';
import type { OnnxNormMode } from '../../src/onnx/graph.ts';
import { randomParams, withScales } from './fixtures.ts';

const TOL = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
  ortWeb.env.wasm.numThreads = 1;
});

async function runNode(bytes: Uint8Array, input: VerifyInput): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ input: new ort.Tensor('float32', input.data, input.dims) });
  await s.release();
  return out.output;
}

async function runWeb(bytes: Uint8Array, input: VerifyInput): Promise<Float32Array> {
  const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const out = await s.run({ input: new ortWeb.Tensor('float32', input.data, input.dims) });
  await s.release();
  return out.output.data as Float32Array;
}

describe('tfjsToOnnxWeight', () => {
  it('permutes a tfjs [k,k,a,b] weight to [b,a,k,k] without flipping the kernel', () => {
    // k = 2, a = 1, b = 2: tfjs value at [y,x,0,o] = 10·o + (2y + x).
    const w = Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13]);
    expect(Array.from(tfjsToOnnxWeight(w, [2, 2, 1, 2]))).toEqual([0, 1, 2, 3, 10, 11, 12, 13]);
  });
});

const generators: [string, Partial<GeneratorOptions> & { depth: number }][] = [
  ['U-Net, decoder-first concat, batch norm, paper dropout', { depth: 5, ngf: 4, concatOrder: 'decoder-first', dropout: 'paper', norm: 'batch' }],
  ['U-Net, skip-first concat (PyTorch), batch norm, PyTorch dropout', { depth: 6, ngf: 4, concatOrder: 'skip-first', dropout: 'pytorch', norm: 'batch' }],
  ['U-Net, instance norm (biases everywhere)', { depth: 5, ngf: 4, norm: 'instance' }],
  ['U-Net, every conv with a bias (Lua tensors)', { depth: 5, ngf: 4, bias: 'all' }],
  ['encoder-decoder', { depth: 5, ngf: 4, kind: 'encoder_decoder' }],
];

describe('generator export matches the tfjs forward pass', () => {
  for (const [label, opts] of generators) {
    for (const norm of ['instance', 'running'] as OnnxNormMode[]) {
      it(`${label} — ${norm} statistics — onnxruntime-node and onnxruntime-web`, async () => {
        const arch = generatorArch(opts);
        const params = randomParams(arch, 3);
        const bytes = exportConvNetOnnx(generatorSpec(arch, params, {}), { norm });
        const input = randomInputs(2, 3, 2 ** opts.depth, 5);
        const [want] = await tfjsReference({ arch, params }, input, norm);
        const got = await runNode(bytes, input);
        expect(got.dims).toEqual([2, 3, 2 ** opts.depth, 2 ** opts.depth]);
        expect(maxAbsDifference(got.data as Float32Array, want)).toBeLessThanOrEqual(TOL);
        expect(maxAbsDifference(await runWeb(bytes, input), want)).toBeLessThanOrEqual(TOL);
        // Not a trivially flat output: the comparison above would pass for anything constant.
        const span = Math.max(...want) - Math.min(...want);
        expect(span).toBeGreaterThan(0.1);
      });
    }
  }

  it('the experimental sub-pixel form (ConvTranspose as four 2×2 Convs + DepthToSpace) gives the same output', async () => {
    const arch = generatorArch({ depth: 5, ngf: 4, norm: 'instance' });
    const params = randomParams(arch, 13);
    const input = randomInputs(2, 3, 32, 14);
    const [want] = await tfjsReference({ arch, params }, input, 'instance');
    for (const norm of ['instance', 'running'] as OnnxNormMode[]) {
      const bytes = exportConvNetOnnx(generatorSpec(arch, params, {}), { subpixel: true, norm });
      expect(maxAbsDifference((await runNode(bytes, input)).data as Float32Array, want)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDifference(await runWeb(bytes, input), want)).toBeLessThanOrEqual(TOL);
    }
  });

  it('accepts any multiple of 2^depth (H and W are symbolic), including non-square inputs', async () => {
    const arch = generatorArch({ depth: 4, ngf: 4 });
    const params = randomParams(arch, 4);
    const bytes = exportConvNetOnnx(generatorSpec(arch, params, {}));
    const s = await ort.InferenceSession.create(bytes);
    for (const [h, w] of [
      [16, 16],
      [32, 48],
    ] as const) {
      const data = new Float32Array(3 * h * w).map((_, i) => Math.sin(i) * 0.9);
      const out = await s.run({ input: new ort.Tensor('float32', data, [1, 3, h, w]) });
      expect(out.output.dims).toEqual([1, 3, h, w]);
    }
    await s.release();
  });

  it('gives each image of a batch of 4 the same output as running it alone (per-image statistics)', async () => {
    const arch = generatorArch({ depth: 5, ngf: 4 });
    const params = randomParams(arch, 6);
    const bytes = exportConvNetOnnx(generatorSpec(arch, params, {}));
    const batch = randomInputs(4, 3, 32, 7);
    const together = (await runNode(bytes, batch)).data as Float32Array;
    const per = 3 * 32 * 32;
    for (let i = 0; i < 4; i++) {
      const single: VerifyInput = { label: `image ${i}`, data: batch.data.slice(i * per, (i + 1) * per), dims: [1, 3, 32, 32] };
      const alone = (await runNode(bytes, single)).data as Float32Array;
      expect(maxAbsDifference(alone, together.subarray(i * per, (i + 1) * per))).toBeLessThanOrEqual(1e-5);
    }
  });
});

describe('test-time dropout (--dropout)', () => {
  it('is absent by default, so repeated runs agree exactly', async () => {
    const arch = generatorArch({ depth: 4, ngf: 4 });
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 8), {}));
    const ops = (decodeOnnxModel(bytes).graph as { node: { opType: string }[] }).node.map((n) => n.opType);
    expect(ops).not.toContain('RandomUniformLike');
    const x = randomInputs(1, 3, 16, 1);
    const s = await ort.InferenceSession.create(bytes);
    const a = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
    const b = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
    expect(maxAbsDifference(a, b)).toBe(0);
  });

  it('when kept, survives graph optimisation: runs differ, and about half of a dropped layer is zeroed and the rest doubled', async () => {
    const arch = generatorArch({ depth: 4, ngf: 4, dropout: 'paper' });
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 8), {}), { dropout: true });
    const x = randomInputs(1, 3, 16, 1);
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    const a = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
    const b = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
    expect(maxAbsDifference(a, b)).toBeGreaterThan(1e-3);
    await s.release();

    // The mask itself, on a one-layer net: Dropout(0.5) of an all-ones map.
    const layer: ConvLayer = {
      name: 'x',
      transposed: false,
      inChannels: 1,
      outChannels: 64,
      kernel: 1,
      stride: 1,
      pad: 0,
      bias: true,
      pre: 'none',
      norm: 'none',
      dropout: true,
      post: 'none',
    };
    const params = new Map([
      ['x.weight', new Float32Array(64)],
      ['x.bias', new Float32Array(64).fill(1)],
    ]);
    const net = exportConvNetOnnx(
      {
        build: (g, inp, o) => appendSequential(g, [layer], params, inp, o),
        inputChannels: 1,
        outputChannels: 64,
        outputSpatial: 'same',
        metadata: {},
        graphName: 'mask',
      },
      { dropout: true },
    );
    const ms = await ort.InferenceSession.create(net);
    const y = (await ms.run({ input: new ort.Tensor('float32', new Float32Array(16 * 16), [1, 1, 16, 16]) })).output.data as Float32Array;
    const zeros = y.filter((v) => v === 0).length;
    const twos = y.filter((v) => v === 2).length;
    expect(zeros + twos).toBe(y.length);
    expect(zeros / y.length).toBeGreaterThan(0.45);
    expect(zeros / y.length).toBeLessThan(0.55);
  });
});

describe('seeded test-time dropout (paper mode in eval run)', () => {
  it('two sessions of the same seeded export draw the same masks; another seed draws others', async () => {
    const arch = generatorArch({ depth: 4, ngf: 4, dropout: 'paper' });
    const params = randomParams(arch, 8);
    const x = randomInputs(1, 3, 16, 1);
    const run = async (seed: number): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(exportConvNetOnnx(generatorSpec(arch, params, {}), { dropout: true, dropoutSeed: seed }));
      const first = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
      await s.release();
      return first;
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    const off = (await runNode(exportConvNetOnnx(generatorSpec(arch, params, {})), x)).data as Float32Array;
    expect(maxAbsDifference(a, b)).toBe(0);
    expect(maxAbsDifference(a, c)).toBeGreaterThan(1e-3);
    expect(maxAbsDifference(a, off)).toBeGreaterThan(1e-3);
  });
});

describe('discriminator export (--net D)', () => {
  const cases: [string, DiscriminatorArch][] = [
    ['70×70-style PatchGAN, conditional (6 channels)', discriminatorArch({ nLayers: 3, ndf: 4 })],
    ['PixelGAN (1×1), conditional', discriminatorArch({ nLayers: 0, ndf: 4 })],
    ['PatchGAN, unconditional (3 channels), instance norm', discriminatorArch({ nLayers: 2, ndf: 4, conditional: false, norm: 'instance' })],
  ];
  for (const [label, arch] of cases) {
    it(`${label}: logits match tfjs in onnxruntime-node and -web`, async () => {
      const params = randomParams(arch, 11);
      const bytes = exportConvNetOnnx(discriminatorSpec(arch, params, {}));
      const input = randomInputs(2, discriminatorInputChannels(arch), 64, 12);
      const [want] = await tfjsReference({ arch, params }, input, 'instance');
      const got = await runNode(bytes, input);
      expect(got.dims[1]).toBe(1);
      expect(maxAbsDifference(got.data as Float32Array, want)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDifference(await runWeb(bytes, input), want)).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('model file contract', () => {
  it('names input/output, keeps N, H, W symbolic, sets the opset/IR pair and carries the metadata', () => {
    const arch: GeneratorArch = generatorArch({ depth: 4, ngf: 4 });
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { direction: 'BtoA', image_size: '16' }), { opset: 17 });
    const m = decodeOnnxModel(bytes) as {
      irVersion: number;
      opsetImport: { version: number }[];
      graph: { input: { name: string; type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: number }[] } } } }[]; output: { name: string }[] };
    };
    expect(m.irVersion).toBe(irVersionForOpset(17));
    expect(m.opsetImport[0].version).toBe(17);
    expect(m.graph.input[0].name).toBe('input');
    expect(m.graph.output[0].name).toBe('output');
    const dims = m.graph.input[0].type.tensorType.shape.dim;
    expect(dims.map((d) => d.dimParam ?? d.dimValue)).toEqual(['N', 3, 'H', 'W']);
    const header = readOnnxModelHeader(bytes);
    expect(header.opsetVersion).toBe(17);
    expect(header.metadata.direction).toBe('BtoA');
    expect(header.metadata[META.normalization]).toBe('instance');
    expect(header.metadata[META.dropout]).toBe('off');
    expect(JSON.parse(header.metadata[META.architecture]).depth).toBe(4);
  });

  it('has no Transpose or Reshape nodes, and Conv biases are Conv inputs (no separate Add)', () => {
    const arch = generatorArch({ depth: 4, ngf: 4, norm: 'instance' });
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), {}));
    const nodes = (decodeOnnxModel(bytes).graph as { node: { opType: string; input: string[] }[] }).node;
    const ops = nodes.map((n) => n.opType);
    expect(ops).not.toContain('Transpose');
    expect(ops).not.toContain('Reshape');
    expect(ops).not.toContain('Add');
    expect(nodes.filter((n) => n.opType === 'Conv' || n.opType === 'ConvTranspose').every((n) => n.input.length === 3)).toBe(true);
  });

  it('verifyOnnxAgainstTfjs reports a mismatch when the file does not hold the same weights', async () => {
    const arch = generatorArch({ depth: 4, ngf: 4 });
    const params = randomParams(arch, 1);
    const other = randomParams(arch, 2);
    const r = await verifyOnnxAgainstTfjs(exportConvNetOnnx(generatorSpec(arch, other, {})), { arch, params }, [randomInputs(1, 3, 16, 3)], 'instance');
    expect(r.ok).toBe(false);
    expect(r.maxAbsError).toBeGreaterThan(1e-2);
    const same = await verifyOnnxAgainstTfjs(exportConvNetOnnx(generatorSpec(arch, params, {})), { arch, params }, [randomInputs(1, 3, 16, 3)], 'instance');
    expect(same.ok).toBe(true);
  });
});

describe('discriminator export of several scales', () => {
  const arch = withScales(discriminatorArch({ nLayers: 1, ndf: 4, norm: 'instance' }), 3);
  const params = randomParams(arch, 21);
  // 33² makes every downsampling window at the far edge hang over the padding.
  const input = randomInputs(2, discriminatorInputChannels(arch), 33, 22);

  it('has one output per scale, `output` first, each matching its tfjs map in onnxruntime-node and -web', async () => {
    const bytes = exportConvNetOnnx(discriminatorSpec(arch, params, {}));
    const graph = decodeOnnxModel(bytes).graph as { output: { name: string }[]; node: { opType: string; attribute: { name: string; i?: number }[] }[] };
    expect(graph.output.map((o) => o.name)).toEqual(['output', 'output_1', 'output_2']);
    const pools = graph.node.filter((n) => n.opType === 'AveragePool');
    expect(pools.length).toBe(2);
    // count_include_pad 0 (pix2pixHD's count_include_pad=False); protobuf leaves a 0 value out, so it decodes as absent.
    for (const p of pools) expect(p.attribute.find((a) => a.name === 'count_include_pad')?.i ?? 0).toBe(0);
    const want = await tfjsReference({ arch, params }, input, 'instance');
    const s = await ort.InferenceSession.create(bytes);
    const got = await s.run({ input: new ort.Tensor('float32', input.data, input.dims) });
    await s.release();
    const web = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const gotWeb = await web.run({ input: new ortWeb.Tensor('float32', input.data, input.dims) });
    await web.release();
    expect(['output', 'output_1', 'output_2'].map((n) => got[n].dims)).toEqual([
      [2, 1, 14, 14], // 33 → 16 → 15 → 14
      [2, 1, 6, 6], // 17 → 8 → 7 → 6
      [2, 1, 2, 2], // 9 → 4 → 3 → 2
    ]);
    ['output', 'output_1', 'output_2'].forEach((n, k) => {
      expect(maxAbsDifference(got[n].data as Float32Array, want[k]), n).toBeLessThanOrEqual(TOL);
      expect(maxAbsDifference(gotWeb[n].data as Float32Array, want[k]), n).toBeLessThanOrEqual(TOL);
    });
    expect((await verifyOnnxAgainstTfjs(bytes, { arch, params }, [input], 'instance')).ok).toBe(true);
  });

  it('keeps every output float32 in a float16-compute export, within float16 round-off', async () => {
    const bytes = exportConvNetOnnx(discriminatorSpec(arch, params, {}), { fp16: 'compute' });
    const s = await ort.InferenceSession.create(bytes);
    const got = await s.run({ input: new ort.Tensor('float32', input.data, input.dims) });
    await s.release();
    const want = await tfjsReference({ arch, params }, input, 'instance');
    ['output', 'output_1', 'output_2'].forEach((n, k) => {
      expect(got[n].type).toBe('float32');
      expect(maxAbsDifference(got[n].data as Float32Array, want[k]), n).toBeLessThanOrEqual(0.05);
    });
  });

  it('fails verification when an output is missing', async () => {
    const one = withScales(arch, 1);
    const bytes = exportConvNetOnnx(discriminatorSpec(one, params, {}));
    const v = await verifyOnnxAgainstTfjs(bytes, { arch, params }, [input], 'instance');
    expect(v.ok).toBe(false);
    expect(v.maxAbsError).toBe(Number.POSITIVE_INFINITY);
  });
});
