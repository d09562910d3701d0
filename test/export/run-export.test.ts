import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import yargs from 'yargs';
import { exportCheckpoint } from '../../src/export/run-export.ts';
import { readOnnxModelHeader } from '../../src/onnx/proto.ts';
import { exportCommand } from '../../src/cli/commands/export.ts';
import { writeSmallCheckpoint } from './fixtures.ts';

let root: string;

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-export-'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

/** An aligned AB dataset: data/val/NAME.png, each 2·size × size. */
async function writeAlignedDataset(dir: string, size: number, count: number): Promise<void> {
  await fsp.mkdir(path.join(dir, 'val'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const px = new Uint8Array(size * 2 * size * 3).map((_, k) => (k * 7 + i * 31) % 256);
    await sharp(px, { raw: { width: 2 * size, height: size, channels: 3 } })
      .png()
      .toFile(path.join(dir, 'val', `${i}.png`));
  }
}

describe('exportCheckpoint (pix2pix export)', () => {
  it('writes model.onnx beside the checkpoint, verifies it on random and real images, and records the training settings', async () => {
    const run = path.join(root, 'run-a');
    const data = path.join(root, 'data-a');
    await writeAlignedDataset(data, 32, 2);
    await writeSmallCheckpoint(run, { generator: { depth: 5, ngf: 4 }, config: { data, direction: 'BtoA', size: 32 } });
    const lines: string[] = [];
    const r = await exportCheckpoint({ checkpoint: run, log: (l) => lines.push(l) });
    expect(r.out).toBe(path.join(run, 'model.onnx'));
    expect(r.verify?.ok).toBe(true);
    expect(r.verify!.cases.map((c) => c.label).join('\n')).toMatch(/real image\(s\) from .*val/);
    expect(r.verify!.maxAbsError).toBeLessThanOrEqual(1e-4);
    expect(lines.some((l) => /max abs error/.test(l))).toBe(true);
    const header = readOnnxModelHeader(new Uint8Array(await fsp.readFile(r.out)));
    expect(header.metadata.direction).toBe('BtoA');
    expect(header.metadata.image_size).toBe('32');
    expect(header.metadata.epoch).toBe('7');
    expect(header.metadata.netG).toBe('unet_32');
    expect(header.metadata.input_range).toBe('[-1,1]');
    expect(header.metadata.normalization).toBe('instance');
    expect(JSON.parse(header.metadata.training_config).data).toBe(data);
  });

  it('exports the discriminator with --net D (6-channel input, logits) and running statistics with --bn running', async () => {
    const run = path.join(root, 'run-d');
    await writeSmallCheckpoint(run, { generator: { depth: 5, ngf: 4 }, discriminator: { nLayers: 2, ndf: 4 } });
    const r = await exportCheckpoint({ checkpoint: run, net: 'D', norm: 'running', out: path.join(run, 'd.onnx') });
    expect(r.verify?.ok).toBe(true);
    const s = await ort.InferenceSession.create(r.out);
    const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(6 * 32 * 32).fill(0.1), [1, 6, 32, 32]) });
    expect(out.output.dims).toEqual([1, 1, 6, 6]);
    await s.release();
    const header = readOnnxModelHeader(new Uint8Array(await fsp.readFile(r.out)));
    expect(header.metadata.net).toBe('D');
    expect(header.metadata.normalization).toBe('running');
  });

  it('refuses --net D for an L1-only checkpoint and an out name without .onnx, with one-line errors', async () => {
    const run = path.join(root, 'run-l1');
    await writeSmallCheckpoint(run, { discriminator: null });
    await expect(exportCheckpoint({ checkpoint: run, net: 'D' })).rejects.toThrow(/no discriminator.*--net G/);
    await expect(exportCheckpoint({ checkpoint: run, out: path.join(run, 'x.bin') })).rejects.toThrow(/should end in \.onnx/);
    await expect(exportCheckpoint({ checkpoint: path.join(root, 'missing') })).rejects.toThrow(/checkpoint not found/);
    await expect(exportCheckpoint({ checkpoint: run, opset: 9 })).rejects.toThrow(/--opset/);
  });

  it('the export command parses its flags and writes the file (--no-verify, --dropout)', async () => {
    const run = path.join(root, 'run-cli');
    await writeSmallCheckpoint(run, { generator: { depth: 4, ngf: 4 } });
    const out = path.join(root, 'cli', 'g.onnx');
    await yargs(['export', '--checkpoint', run, '--out', out, '--no-verify', '--dropout', '--quiet']).command(exportCommand).strict().parseAsync();
    const header = readOnnxModelHeader(new Uint8Array(await fsp.readFile(out)));
    expect(header.metadata.dropout).toMatch(/^on/);
  });

  it('--fp16 halves the weights, checks float32 against tfjs and float16 against float32 (≤ 2/255), and says so in the metadata', async () => {
    const run = path.join(root, 'run-fp16');
    await writeSmallCheckpoint(run, { generator: { depth: 5, ngf: 8 }, config: { size: 64 } });
    const f32 = await exportCheckpoint({ checkpoint: run, out: path.join(run, 'f32.onnx'), verify: false });
    const lines: string[] = [];
    const r = await exportCheckpoint({ checkpoint: run, out: path.join(run, 'f16.onnx'), fp16: 'weights', log: (l) => lines.push(l) });
    expect(r.verify?.ok).toBe(true);
    expect(r.fp16MaxAbsDifference).toBeGreaterThan(0);
    expect(r.fp16MaxAbsDifference! * 127.5).toBeLessThanOrEqual(2);
    expect(r.bytes / f32.bytes).toBeLessThan(0.55);
    expect(lines.some((l) => /float16 vs float32 .* of 255 grey levels/.test(l))).toBe(true);
    expect(readOnnxModelHeader(new Uint8Array(await fsp.readFile(r.out))).metadata).toMatchObject({ weights: 'float16', compute: 'float32' });

    const out = path.join(root, 'cli', 'g16.onnx');
    await yargs(['export', '--checkpoint', run, '--out', out, '--no-verify', '--fp16-compute', '--quiet']).command(exportCommand).strict().parseAsync();
    expect(readOnnxModelHeader(new Uint8Array(await fsp.readFile(out))).metadata).toMatchObject({ weights: 'float16', compute: 'float16' });
  });
});
