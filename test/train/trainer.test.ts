import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { readCheckpoint } from '../../src/train/checkpoint.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/pix2pix.mjs');

function run(args: string[], opts: { killWhenExists?: string } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Kill the moment the first checkpoint lands: the run is then somewhere inside the next epoch.
    const poll = opts.killWhenExists
      ? setInterval(() => {
          if (existsSync(opts.killWhenExists!)) child.kill('SIGKILL');
        }, 5)
      : undefined;
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr });
    });
  });
}

let data = '';
const common = ['--size', '16', '--netG', 'unet_16', '--ngf', '4', '--ndf', '4', '--n_layers_D', '1', '--epochs', '2', '--epochs_decay', '2', '--engine', 'cpu', '--seed', '7'];

/** `args` with the values of some flags replaced. */
function withFlags(args: string[], values: Record<string, string>): string[] {
  return args.map((a, i) => (i > 0 && values[args[i - 1]!] !== undefined ? values[args[i - 1]!]! : a));
}

beforeAll(async () => {
  data = path.join(mkdtempSync(path.join(tmpdir(), 'p2p-train-')), 'data');
  await synthesizeDataset({ out: data, count: 20, size: 16, seed: 3 });
});

describe('pix2pix train', () => {
  // ort-cpu: widths at which its products run on onnxruntime (smaller ones stay on XNNPACK), two threads.
  const ENGINE_FLAGS: Record<string, string[]> = {
    cpu: common,
    'ort-cpu': [...withFlags(common, { '--engine': 'ort-cpu', '--ngf': '32', '--ndf': '16' }), '--threads', '2'],
  };
  it.each(Object.keys(ENGINE_FLAGS))('%s: a run killed with SIGKILL and resumed ends with exactly the weights of an uninterrupted run', async (engine) => {
    const common = ENGINE_FLAGS[engine]!;
    const base = mkdtempSync(path.join(tmpdir(), 'p2p-runs-'));
    const full = path.join(base, 'full');
    const killed = path.join(base, 'killed');
    const a = await run(['train', '--data', data, '--out', full, ...common]);
    expect(a.code, a.stderr).toBe(0);

    const b = await run(['train', '--data', data, '--out', killed, ...common], { killWhenExists: path.join(killed, 'checkpoint.bin') });
    expect(b.signal, b.stderr).toBe('SIGKILL');
    const partial = await readCheckpoint(killed);
    expect(partial.header.model.epoch).toBeLessThan(4);

    const c = await run(['train', '--data', data, '--out', killed, ...common, '--resume']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/resuming from .* after epoch/);

    const x = await readCheckpoint(full);
    const y = await readCheckpoint(killed);
    expect(y.header.model.epoch).toBe(4);
    expect([...y.tensors.keys()]).toEqual([...x.tensors.keys()]);
    for (const [k, v] of x.tensors) expect(Buffer.from(y.tensors.get(k)!.buffer, y.tensors.get(k)!.byteOffset, v.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)), k).toBe(true);

    // losses.csv keeps one row per epoch across the restart, and the grid of samples exists for each epoch.
    const rows = Papa.parse(readFileSync(path.join(killed, 'losses.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data as Record<string, string>[];
    expect(rows.map((r) => r.epoch)).toEqual(['1', '2', '3', '4']);
    expect(existsSync(path.join(killed, 'samples', 'epoch_004.png'))).toBe(true);
    // The learning rate follows the linear policy: constant for 2 epochs, then 1 − k/3.
    expect(rows.map((r) => Number(r.lr))).toEqual([2e-4, 2e-4, 2e-4 * (2 / 3), 2e-4 * (1 / 3)].map((v) => expect.closeTo(v, 12)) as unknown as number[]);
  });

  it('refuses to overwrite a run without --resume, and gives one-line errors for bad input', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'p2p-runs-')), 'r');
    const first = await run(['train', '--data', data, '--out', out, ...common, '--epochs', '1', '--epochs_decay', '0']);
    expect(first.code, first.stderr).toBe(0);
    const again = await run(['train', '--data', data, '--out', out, ...common, '--epochs', '1', '--epochs_decay', '0']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint: pass --resume/);

    const missing = await run(['train', '--data', path.join(out, 'nope'), '--out', out + '2', ...common]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    const badNet = await run(['train', '--data', data, '--out', out + '3', ...common, '--netG', 'unet_32']);
    expect(badNet.stderr).toMatch(/multiples of 32; got 16/);
    const badRf = await run(['train', '--data', data, '--out', out + '4', ...common, '--rf', '50']);
    expect(badRf.stderr).toMatch(/no PatchGAN has a 50×50 receptive field/);
  });
});
