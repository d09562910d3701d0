/**
 * `pix2pix infer --provider webgpu`: onnxruntime-node's WebGPU EP on a software adapter (SwiftShader
 * in CI) translates a folder like the CPU EP does, and `auto` passes the software adapter over.
 */
import { noWebgpuReason } from '../helpers/webgpu-env.ts';
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatorArch } from '../../src/nets/arch.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { randomParams } from '../export/fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/pix2pix.mjs');
const SIZE = 32;
const reason = noWebgpuReason();

function infer(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'infer', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(reason !== undefined)(`infer on onnxruntime's WebGPU EP${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let root = '';
  let model = '';
  let input = '';
  beforeAll(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-infer-webgpu-'));
    const arch = generatorArch({ depth: 5, ngf: 4 });
    model = path.join(root, 'g.onnx');
    await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { image_size: String(SIZE), size_multiple: '32' })));
    input = path.join(root, 'in');
    await fsp.mkdir(input);
    for (let i = 0; i < 3; i++) {
      const px = new Uint8Array(SIZE * SIZE * 3).map((_, k) => (k * (7 + i) + i * 91 + ((k / 3 / SIZE) | 0) * 5) % 256);
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
        .png()
        .toFile(path.join(input, `img${i}.png`));
    }
  });

  it('--provider webgpu translates a folder within 1/255 of --provider cpu, and names the adapter', async () => {
    const cpu = await infer(['--model', model, '--input', input, '--output', path.join(root, 'cpu'), '--provider', 'cpu', '--batch-size', '2']);
    expect(cpu.code, cpu.stderr).toBe(0);
    const gpu = await infer(['--model', model, '--input', input, '--output', path.join(root, 'webgpu'), '--provider', 'webgpu', '--batch-size', '2']);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).toMatch(/provider webgpu on \S+ \S+/);
    const files = (await fsp.readdir(path.join(root, 'cpu'))).sort();
    expect(files).toEqual(['img0.png', 'img1.png', 'img2.png']);
    expect((await fsp.readdir(path.join(root, 'webgpu'))).sort()).toEqual(files);
    let worst = 0;
    let differing = 0;
    for (const f of files) {
      const a = await sharp(path.join(root, 'cpu', f))
        .raw()
        .toBuffer();
      const b = await sharp(path.join(root, 'webgpu', f))
        .raw()
        .toBuffer();
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        worst = Math.max(worst, d);
        if (d) differing++;
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    // Not a constant image: the comparison means something.
    const a0 = await sharp(path.join(root, 'cpu', files[0]))
      .raw()
      .toBuffer();
    expect(new Set(a0).size).toBeGreaterThan(20);
    console.log(`webgpu vs cpu EP: max |Δ| ${worst}/255, ${differing} differing channel values`);
  });

  it('auto passes a software adapter over, and the log says why', async () => {
    const r = await infer(['--model', model, '--input', input, '--output', path.join(root, 'auto')]);
    expect(r.code, r.stderr).toBe(0);
    if (process.env.VK_ICD_FILENAMES?.includes('swiftshader')) {
      expect(r.stderr).toMatch(/provider cpu \(skipped cuda: [^;]+; webgpu: only a software adapter \(google swiftshader/);
    }
  });
});
