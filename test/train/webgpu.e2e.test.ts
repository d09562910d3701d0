/**
 * The webgpu engine on a software adapter (SwiftShader, from Debian's chromium package, in CI):
 * steady memory and no shader compiles after warm-up, a CLI run from scratch, and checkpoints that
 * move between webgpu and wasm. SwiftShader runs every dispatch on the CPU (~1 ms each), so sizes are tiny.
 */
import { noWebgpuReason } from '../helpers/webgpu-env.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '../../src/train/tfjs.ts';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { discriminatorArch, generatorArch } from '../../src/nets/arch.ts';
import { readCheckpoint } from '../../src/train/checkpoint.ts';
import { Adam, PIX2PIX_ADAM } from '../../src/train/adam.ts';
import { selectEngine } from '../../src/train/engines/registry.ts';
import { fusedAdamAvailable } from '../../src/train/engines/wasm-kernels/adam.ts';
import { webgpuPipelineCount } from '../../src/train/engines/webgpu.ts';
import { LOSS_READ_EVERY } from '../../src/train/loss-readback.ts';
import { type PendingLosses, Pix2PixModel, Pix2PixStep, readLosses } from '../../src/train/model.ts';
import { Rng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/numeric.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/pix2pix.mjs');
const reason = noWebgpuReason();

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** Backend memory counters: tfjs tensors, and (webgpu) bytes held in GPU buffers, pool included. */
function memory(): { numTensors: number; numBytes: number; gpuBytes: number } {
  const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, gpuBytes: m.numBytesAllocatedInGPU ?? -1 };
}

describe.skipIf(reason !== undefined)(`webgpu engine${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('trains with flat memory and no new shader pipelines after warm-up (up to 1,000 steps or ~45 s)', async () => {
    const engine = await selectEngine('webgpu');
    expect(engine.device).toMatch(/\S+ \S+/);
    const size = 8;
    const gArch = generatorArch({ depth: 3, ngf: 2 });
    const dArch = discriminatorArch({ nLayers: 1, ndf: 2 });
    const c = { loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 0 } as const;
    const model = Pix2PixModel.create(c, { G: gArch, D: dArch });
    const step = new Pix2PixStep(c, model, new Rng(c.seed + 2));
    const rng = new Rng(1);
    const rand = (): tf.Tensor4D => tf.tensor4d(rng.uniformSigned(size * size * 3), [1, size, size, 3]);
    const A = rand();
    const B = rand();
    try {
      // The trainer's pattern: LOSS_READ_EVERY steps queued, then their losses read back together.
      const l1: number[] = [];
      const round = async (): Promise<void> => {
        const pending: PendingLosses[] = [];
        for (let i = 0; i < LOSS_READ_EVERY; i++) pending.push(step.run(A, B, 2e-4));
        for (const l of await Promise.all(pending.map(readLosses))) l1.push(l.G_L1);
      };
      // Warm-up: shaders compile and the buffer pool fills on the first rounds.
      await round();
      await round();
      const before = memory();
      const pipelines = webgpuPipelineCount();
      expect(pipelines).toBeGreaterThan(10);
      const t0 = performance.now();
      let steps = 0;
      while (steps < 1000 && (steps < 2 * LOSS_READ_EVERY || performance.now() - t0 < 45_000)) {
        await round();
        steps += LOSS_READ_EVERY;
      }
      const after = memory();
      console.log(
        `webgpu memory test: ${steps} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${pipelines} pipelines; ${after.numTensors} tensors, ${after.gpuBytes} GPU bytes`,
      );
      expect(after).toEqual(before);
      expect(webgpuPipelineCount()).toBe(pipelines);
      // It learns: the L1 loss on the one fixed pair falls.
      expect(l1.length).toBe(steps + 2 * LOSS_READ_EVERY);
      expect(l1.at(-1)!).toBeLessThan(l1[0]);
    } finally {
      model.dispose();
      tf.dispose([A, B]);
    }
  }, 300_000);

  it('the fused Adam kernel matches the composed update on the cpu backend', async () => {
    const shapes = [[3, 3, 2, 5], [7], [1, 1, 4, 2]];
    const rng = new Rng(4);
    const init = shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5));
    const grads = [0, 1, 2].map(() => shapes.map((s) => rng.uniformSigned(s.reduce((a, b) => a * b, 1))));
    const runAdam = async (engine: 'cpu' | 'webgpu'): Promise<Float32Array[]> => {
      await selectEngine(engine);
      expect(fusedAdamAvailable()).toBe(engine === 'webgpu');
      const vars = new Map(shapes.map((s, i) => [`w${i}`, tf.variable(tf.tensor(init[i], s))]));
      const opt = new Adam(vars, PIX2PIX_ADAM);
      for (const step of grads) {
        const g = new Map(shapes.map((s, i) => [`w${i}`, tf.tensor(step[i], s)] as [string, tf.Tensor]));
        opt.apply(g, 2e-3);
        tf.dispose([...g.values()]);
      }
      const out = await Promise.all([...vars.values(), ...opt.m.values(), ...opt.v.values()].map(async (t) => (await t.data()) as Float32Array));
      opt.dispose();
      tf.dispose([...vars.values()]);
      return out;
    };
    const want = await runAdam('cpu');
    const got = await runAdam('webgpu');
    expect(got.length).toBe(want.length);
    for (const [i, w] of want.entries()) {
      for (let k = 0; k < w.length; k++) expect(Math.abs(got[i][k] - w[k]), `tensor ${i} [${k}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w[k])));
    }
  });

  describe('CLI runs on a synthetic set', () => {
    let data = '';
    let base = '';
    const common = ['--size', '16', '--netG', 'unet_16', '--ngf', '4', '--ndf', '4', '--n_layers_D', '1', '--epochs_decay', '0', '--seed', '7'];
    beforeAll(async () => {
      base = mkdtempSync(path.join(tmpdir(), 'p2p-webgpu-'));
      data = path.join(base, 'data');
      await synthesizeDataset({ out: data, count: 4, size: 16, seed: 3 });
    });

    const losses = (out: string): Record<string, string>[] =>
      Papa.parse(readFileSync(path.join(out, 'losses.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data as Record<string, string>[];

    it('an explicit webgpu run trains from scratch, names its adapter, and its checkpoints resume on wasm and back', async () => {
      // Reference: two epochs on wasm in one go.
      const ref = path.join(base, 'ref');
      const r = await run(['train', '--data', data, '--out', ref, ...common, '--epochs', '2', '--engine', 'wasm']);
      expect(r.code, r.stderr).toBe(0);

      // webgpu from scratch, then wasm resumes; and wasm first, then webgpu resumes.
      const a = path.join(base, 'webgpu-then-wasm');
      const b = path.join(base, 'wasm-then-webgpu');
      const a1 = await run(['train', '--data', data, '--out', a, ...common, '--epochs', '1', '--engine', 'webgpu']);
      expect(a1.code, a1.stderr).toBe(0);
      expect(a1.stderr).toMatch(/engine: webgpu on \S+ \S+/);
      expect(JSON.parse(readFileSync(path.join(a, 'config.json'), 'utf8')).engine).toBe('webgpu');
      expect(existsSync(path.join(a, 'samples', 'epoch_001.png'))).toBe(true);
      const a2 = await run(['train', '--data', data, '--out', a, ...common, '--epochs', '2', '--engine', 'wasm', '--resume']);
      expect(a2.code, a2.stderr).toBe(0);
      expect(a2.stderr).toMatch(/resuming from .* after epoch 1/);
      const b1 = await run(['train', '--data', data, '--out', b, ...common, '--epochs', '1', '--engine', 'wasm']);
      expect(b1.code, b1.stderr).toBe(0);
      const b2 = await run(['train', '--data', data, '--out', b, ...common, '--epochs', '2', '--engine', 'webgpu', '--resume']);
      expect(b2.code, b2.stderr).toBe(0);
      expect(b2.stderr).toMatch(/resuming from .* after epoch 1/);

      // Same data order, dropout masks and optimizer state: the runs agree up to float rounding.
      const want = losses(ref);
      for (const out of [a, b]) {
        const got = losses(out);
        expect(got.map((row) => row.epoch)).toEqual(['1', '2']);
        for (const [i, row] of got.entries()) {
          for (const k of ['G_GAN', 'G_L1', 'D_real', 'D_fake']) {
            expect(Number(row[k]), `${out} epoch ${row.epoch} ${k}`).toBeCloseTo(Number(want[i][k]), 3);
          }
        }
        const x = await readCheckpoint(ref);
        const y = await readCheckpoint(out);
        expect(y.header.model.epoch).toBe(2);
        for (const [k, v] of x.tensors) {
          expect(relativeError(y.tensors.get(k)!, v, 1e-3), `${out} ${k}`).toBeLessThan(1e-3);
        }
      }
    }, 600_000);

    it('no adapter: a one-line error that says what is missing', async () => {
      const out = path.join(base, 'no-adapter');
      const child = spawn(process.execPath, [BIN, 'train', '--data', data, '--out', out, ...common, '--epochs', '1', '--engine', 'webgpu'], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, VK_ICD_FILENAMES: path.join(base, 'no-such-icd.json') },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(2);
      // Dawn and the Vulkan loader print their own warnings; ours is the one `pix2pix:` line.
      const ours = stderr.split('\n').filter((l) => l.startsWith('pix2pix:'));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(/engine webgpu is not available here \(no WebGPU adapter: .*VK_ICD_FILENAMES=/);
      // Nothing was written: at most the (checked, claimed) empty output folder.
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  });
});
