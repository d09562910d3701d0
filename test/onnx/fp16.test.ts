import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { floatToHalfBits } from '../../src/onnx/fp16.ts';
import { halfToFloat } from '../../src/import/pytorch.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { decodeOnnxModel, readOnnxModelHeader } from '../../src/onnx/proto.ts';
import { randomInputs } from '../../src/export/verify.ts';
import { randomParams } from '../export/fixtures.ts';

describe('floatToHalfBits', () => {
  it('rounds to nearest even exactly like numpy astype(float16)', () => {
    // [value, bits] pairs printed by numpy (np.float32(v).astype(np.float16).view(np.uint16)).
    const cases: [number, number][] = [
      [0, 0],
      [-0, 32768],
      [1, 15360],
      [-2.5, 49408],
      [65504, 31743],
      [65520, 31744],
      [1e-8, 0],
      [2 ** -24, 1],
      [2 ** -25, 0],
      [3 * 2 ** -25, 2],
      [0.1, 11878],
      [1 / 3, 13653],
      [6.1e-5, 1023],
      [1.0009765625 + 2 ** -12, 15361],
      [1.0009765625 + 3 * 2 ** -12, 15362],
    ];
    for (const [v, bits] of cases) expect([v, floatToHalfBits(v)]).toEqual([v, bits]);
  });

  it('round-trips every finite half exactly', () => {
    const wrong: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) !== 0x7c00 && floatToHalfBits(halfToFloat(h)) !== h) wrong.push(h);
    }
    expect(wrong).toEqual([]);
  });
});

describe('export --fp16 (onnxruntime CPU)', () => {
  // Same layer plan as unet_256 (depth 8, PyTorch rules), narrow so the test stays small.
  const arch = generatorArch({ depth: 8, ngf: 8, concatOrder: 'skip-first', dropout: 'pytorch' });
  const params = randomParams(arch, 11);
  const input = randomInputs(2, 3, 256, 3);

  async function run(bytes: Uint8Array): Promise<Float32Array> {
    const s = await ort.InferenceSession.create(bytes);
    try {
      return (await s.run({ input: new ort.Tensor('float32', input.data, input.dims) })).output.data as Float32Array;
    } finally {
      await s.release();
    }
  }

  // Running statistics are checked on the PyTorch fixture (test/import), whose statistics match its
  // activations: random running statistics saturate 99.9 % of this net's outputs, so any rounding flips them.
  for (const norm of ['instance'] as const) {
    it(`${norm} statistics: half-size file, output within 2 of 255 grey levels of float32, float32 input/output`, async () => {
      const spec = generatorSpec(arch, params, {});
      const f32 = exportConvNetOnnx(spec, { norm });
      const want = await run(f32);
      for (const mode of ['weights', 'compute'] as const) {
        const half = exportConvNetOnnx(spec, { norm, fp16: mode });
        expect(half.length / f32.length).toBeGreaterThan(0.49);
        expect(half.length / f32.length).toBeLessThan(0.52);
        const got = await run(half);
        let maxDiff = 0;
        for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
        expect(maxDiff * 127.5).toBeLessThan(2);
        expect(maxDiff).toBeGreaterThan(0); // the weights really were rounded
        const model = decodeOnnxModel(half) as {
          graph: {
            input: { type: { tensorType: { elemType: number } } }[];
            output: { type: { tensorType: { elemType: number } } }[];
            initializer: { dataType: number }[];
          };
        };
        expect(model.graph.input[0].type.tensorType.elemType).toBe(1);
        expect(model.graph.output[0].type.tensorType.elemType).toBe(1);
        expect(model.graph.initializer.every((t) => t.dataType === 10)).toBe(true);
        expect(readOnnxModelHeader(half).metadata).toMatchObject({ weights: 'float16', compute: mode === 'compute' ? 'float16' : 'float32' });
      }
      expect(readOnnxModelHeader(f32).metadata).toMatchObject({ weights: 'float32', compute: 'float32' });
    });
  }

  it('onnxruntime-web (wasm) runs both float16 layouts too, with the same outputs as onnxruntime-node', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const small = generatorArch({ depth: 5, ngf: 4, concatOrder: 'skip-first', dropout: 'pytorch' });
    const spec = generatorSpec(small, randomParams(small, 5), {});
    const x = randomInputs(1, 3, 32, 4);
    for (const mode of ['weights', 'compute'] as const) {
      const bytes = exportConvNetOnnx(spec, { fp16: mode });
      const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      const web = (await s.run({ input: new ortWeb.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
      await s.release();
      const n = await ort.InferenceSession.create(bytes);
      const node = (await n.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output.data as Float32Array;
      await n.release();
      let d = 0;
      for (let i = 0; i < web.length; i++) d = Math.max(d, Math.abs(web[i] - node[i]));
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('documents what onnxruntime CPU does with a float16 graph: Casts inserted, every Conv/ConvTranspose/norm kernel runs in float32', async () => {
    const small = generatorArch({ depth: 5, ngf: 4, concatOrder: 'skip-first', dropout: 'pytorch' });
    const bytes = exportConvNetOnnx(generatorSpec(small, randomParams(small, 5), {}), { fp16: 'compute' });
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-fp16-prof-'));
    try {
      const s = await ort.InferenceSession.create(bytes, { enableProfiling: true, profileFilePrefix: path.join(dir, 'p') });
      const x = randomInputs(1, 3, 32, 4);
      await s.run({ input: new ort.Tensor('float32', x.data, x.dims) });
      s.endProfiling();
      await s.release();
      const [file] = await fsp.readdir(dir);
      type Event = { cat?: string; name: string; args?: { op_name?: string; input_type_shape?: Record<string, unknown>[] } };
      const events = JSON.parse(await fsp.readFile(path.join(dir, file), 'utf8')) as Event[];
      const kernels = events.filter(
        (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && ['Conv', 'ConvTranspose', 'InstanceNormalization'].includes(e.args?.op_name ?? ''),
      );
      expect(kernels.length).toBeGreaterThanOrEqual(10);
      const inputTypes = new Set(kernels.map((e) => Object.keys(e.args!.input_type_shape![0])[0]));
      // If this starts to say float16, the CPU provider gained half-precision kernels: update docs/import.md.
      expect([...inputTypes]).toEqual(['float']);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('a float16 graph with test-time dropout draws its noise in float16 and still runs', async () => {
    const small = generatorArch({ depth: 6, ngf: 4, concatOrder: 'skip-first', dropout: 'pytorch' });
    const bytes = exportConvNetOnnx(generatorSpec(small, randomParams(small, 2), {}), { dropout: true, fp16: 'compute' });
    const s = await ort.InferenceSession.create(bytes);
    const x = randomInputs(1, 3, 64, 1);
    const out = (await s.run({ input: new ort.Tensor('float32', x.data, x.dims) })).output;
    await s.release();
    expect(out.type).toBe('float32');
    expect((out.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});
