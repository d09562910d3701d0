import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { importPth, importPthBytes } from '../../src/import/run-import.ts';
import { decodeOnnxModel, readOnnxModelHeader } from '../../src/onnx/proto.ts';
import { main } from '../../src/cli/main.ts';
import { FIXTURES, fixture, fixtureF32, fixtureInput } from './fixtures.ts';
import { importsReachingTraining } from '../helpers/layering.ts';

const TOL = 1e-4;
const tmp = fsp.mkdtemp(path.join(os.tmpdir(), 'pix2pix-import-'));
afterAll(async () => fsp.rm(await tmp, { recursive: true, force: true }));

async function run(onnx: Uint8Array, input: { data: Float32Array; dims: number[] }): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(onnx);
  try {
    const out = await s.run({ input: new ort.Tensor('float32', input.data, input.dims) });
    return out.output.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('pix2pix import matches the PyTorch outputs recorded when the fixtures were made', () => {
  const batch = fixture('unet32-batch.pth');
  const input32 = fixtureInput(3, 32);

  it('batch norm, default = test.py without --eval (per-image batch statistics)', async () => {
    const { onnx, net } = importPthBytes(batch, 'unet32-batch.pth');
    expect(net.arch.options).toMatchObject({ depth: 5, ngf: 2, norm: 'batch', inChannels: 3, outChannels: 3, concatOrder: 'skip-first' });
    const want = fixtureF32('unet32-batch.train.bin');
    const got = await run(onnx, input32);
    expect(maxAbs(got, want)).toBeLessThan(TOL);
    // The fixture is not trivial: running statistics give a clearly different image.
    expect(maxAbs(fixtureF32('unet32-batch.eval.bin'), want)).toBeGreaterThan(0.05);
  });

  it('batch norm, --eval (running statistics, no dropout)', async () => {
    const { onnx } = importPthBytes(batch, 'unet32-batch.pth', { eval: true });
    expect(maxAbs(await run(onnx, input32), fixtureF32('unet32-batch.eval.bin'))).toBeLessThan(TOL);
  });

  it('instance norm, legacy (non-zip) format, 1 → 1 channel, depth 6 with a dropout block', async () => {
    const { onnx, net } = importPthBytes(fixture('unet64-instance-legacy.pth'), 'x.pth');
    expect(net.arch.options).toMatchObject({ depth: 6, ngf: 1, norm: 'instance', inChannels: 1, outChannels: 1 });
    const want = fixtureF32('unet64-instance-legacy.out.bin');
    const input = fixtureInput(1, 64);
    expect(maxAbs(await run(onnx, input), want)).toBeLessThan(TOL);
    // Instance norm has no running statistics: --eval gives the same network.
    expect(maxAbs(await run(importPthBytes(fixture('unet64-instance-legacy.pth'), 'x.pth', { eval: true }).onnx, input), want)).toBeLessThan(TOL);
    // The float16 copy of the same weights: only weight rounding separates it from PyTorch's float32 output.
    const half = await run(importPthBytes(fixture('unet64-instance-half.pth'), 'h.pth').onnx, input);
    expect(maxAbs(half, want)).toBeLessThan(2 / 127.5);
  });

  it('--fp16 and --fp16-compute stay within 2 of 255 grey levels of the float32 import, with half-size weights', async () => {
    for (const evalMode of [false, true]) {
      const f32 = importPthBytes(batch, 'b.pth', { eval: evalMode }).onnx;
      const want = await run(f32, input32);
      for (const mode of ['weights', 'compute'] as const) {
        const half = importPthBytes(batch, 'b.pth', { eval: evalMode, fp16: mode }).onnx;
        expect(half.length / f32.length).toBeLessThan(0.56); // tiny net: the graph itself is a visible share
        const meta = readOnnxModelHeader(half).metadata;
        expect(meta.weights).toBe('float16');
        expect(meta.compute).toBe(mode === 'compute' ? 'float16' : 'float32');
        const d = maxAbs(await run(half, input32), want);
        expect(d).toBeLessThan(2 / 127.5);
        expect(d).toBeGreaterThan(0);
      }
    }
  });

  it('--dropout puts test-time dropout after d2 … d(depth−4), as the PyTorch repo does, and varies the output', async () => {
    const { onnx } = importPthBytes(fixture('unet64-instance-legacy.pth'), 'x.pth', { dropout: true });
    const nodes = (decodeOnnxModel(onnx).graph as { node: { opType: string; name: string }[] }).node;
    expect(nodes.filter((n) => n.opType === 'RandomUniformLike').map((n) => n.name)).toEqual(['d2_dropout_u_node']);
    const input = fixtureInput(1, 64);
    const s = await ort.InferenceSession.create(onnx);
    const a = (await s.run({ input: new ort.Tensor('float32', input.data, input.dims) })).output.data as Float32Array;
    const b = (await s.run({ input: new ort.Tensor('float32', input.data, input.dims) })).output.data as Float32Array;
    await s.release();
    expect(maxAbs(a, b)).toBeGreaterThan(0);
    expect(() => importPthBytes(batch, 'b.pth', { dropout: true, eval: true })).toThrow(/contradict/);
  });

  it('records what the runtime needs in the metadata', () => {
    const meta = readOnnxModelHeader(importPthBytes(batch, 'unet32-batch.pth').onnx).metadata;
    expect(meta).toMatchObject({
      net: 'G',
      netG: 'unet_32',
      norm: 'batch',
      size_multiple: '32',
      image_size: '256',
      normalization: 'instance',
      dropout: 'off',
      weights: 'float32',
      compute: 'float32',
    });
    expect(meta.source).toContain('unet32-batch.pth');
  });
});

describe('pix2pix import CLI', () => {
  async function cli(args: string[]): Promise<{ stderr: string; stdout: string; code: number | undefined }> {
    let stderr = '';
    let stdout = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
    const before = process.exitCode;
    process.exitCode = undefined;
    try {
      await main(args);
      return { stderr, stdout, code: process.exitCode as number | undefined };
    } finally {
      e.mockRestore();
      o.mockRestore();
      process.exitCode = before;
    }
  }

  it('writes the ONNX file and says what it read', async () => {
    const out = path.join(await tmp, 'sub', 'model.onnx');
    const r = await cli(['import', '--pth', path.join(FIXTURES, 'unet32-batch.pth'), '--out', out, '--eval', '--fp16']);
    expect(r.code).toBeUndefined();
    expect(r.stdout.trim()).toBe(out);
    expect(r.stderr).toMatch(/unet_32, ngf 2, batch norm, 3→3 channels/);
    expect(r.stderr).toMatch(/verify float16 vs float32 .* of 255 grey levels/);
    expect(readOnnxModelHeader(new Uint8Array(await fsp.readFile(out))).metadata.weights).toBe('float16');
  });

  it('refuses a pickle that would run code with one line and exit code 2, writing nothing', async () => {
    const out = path.join(await tmp, 'evil.onnx');
    const r = await cli(['import', '--pth', path.join(FIXTURES, 'evil.pth'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^pix2pix: .*evil\.pth: refusing to unpickle: global posix\.system is not allowed/);
    await expect(fsp.access(out)).rejects.toThrow();
  });

  it('rejects a missing file and a wrong --out extension in one line', async () => {
    expect((await cli(['import', '--pth', 'nope.pth', '--out', 'm.onnx'])).stderr).toBe('pix2pix: --pth nope.pth does not exist\n');
    expect((await cli(['import', '--pth', 'x.pth', '--out', 'm.bin'])).stderr).toBe('pix2pix: --out m.bin should end in .onnx\n');
  });

  it('importPth is what the CLI calls (no tfjs on this path)', async () => {
    const out = path.join(await tmp, 'm2.onnx');
    const r = await importPth({ pth: path.join(FIXTURES, 'unet64-instance-legacy.pth'), out });
    expect(r.bytes).toBe((await fsp.stat(out)).size);
  });
});

describe('import layering', () => {
  it('src/import never loads tfjs or the training code (type-only imports aside)', async () => {
    const { offending, visited } = await importsReachingTraining('import', { dynamic: false });
    expect(visited).toBeGreaterThan(8);
    expect(offending).toEqual([]);
  });
});
