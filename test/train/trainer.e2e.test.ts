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

function run(
  args: string[],
  opts: { killWhenExists?: string } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Kill the moment the first checkpoint lands: the run is then somewhere inside the next epoch.
    const poll = opts.killWhenExists
      ? setInterval(() => {
          if (existsSync(opts.killWhenExists!)) child.kill('SIGKILL');
        }, 5)
      : undefined;
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stderr, stdout });
    });
  });
}

let data = '';
// The PyTorch repo's spellings (--netG, --n_layers_D, --n_epochs…) beside ours: both must work.
const net = ['--size', '16', '--netG', 'unet_16', '--ngf', '4', '--ndf', '4', '--n_layers_D', '1', '--engine', 'cpu', '--seed', '7'];
const common = [...net, '--n_epochs', '2', '--n_epochs_decay', '2'];

/** `args` with the values of some flags replaced. */
function withFlags(args: string[], values: Record<string, string>): string[] {
  return args.map((a, i) => (i > 0 && values[args[i - 1]] !== undefined ? values[args[i - 1]] : a));
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
    const common = ENGINE_FLAGS[engine];
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
    for (const [k, v] of x.tensors)
      expect(
        Buffer.from(y.tensors.get(k)!.buffer, y.tensors.get(k)!.byteOffset, v.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
        k,
      ).toBe(true);

    // losses.csv keeps one row per epoch across the restart, and the grid of samples exists for each epoch.
    const rows = Papa.parse(readFileSync(path.join(killed, 'losses.csv'), 'utf8'), { header: true, skipEmptyLines: true }).data as Record<string, string>[];
    expect(rows.map((r) => r.epoch)).toEqual(['1', '2', '3', '4']);
    expect(existsSync(path.join(killed, 'samples', 'epoch_004.png'))).toBe(true);
    // losses-steps.csv: every step exactly once across the kill and resume, with the uninterrupted run's values.
    const steps = readFileSync(path.join(killed, 'losses-steps.csv'), 'utf8');
    expect(steps.split('\n')[0]).toBe('step,G_GAN,G_L1,D_real,D_fake');
    expect(
      steps
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => Number(l.split(',')[0])),
    ).toEqual(Array.from({ length: rows.reduce((n, r) => n + Number(r.steps), 0) }, (_, i) => i + 1));
    expect(steps).toBe(readFileSync(path.join(full, 'losses-steps.csv'), 'utf8'));

    // The learning rate follows the linear policy: constant for 2 epochs, then 1 − k/3.
    expect(rows.map((r) => Number(r.lr))).toEqual([2e-4, 2e-4, 2e-4 * (2 / 3), 2e-4 * (1 / 3)].map((v) => expect.closeTo(v, 12)));
  });

  it('refuses to overwrite a run without --resume, and gives one-line errors for bad input', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'p2p-runs-')), 'r');
    // --epochs is the total: 1 means one epoch, not 1 + 100 decay epochs; the log says so.
    const first = await run(['train', '--data', data, '--out', out, ...net, '--epochs', '1']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/schedule: 1 epoch in all \(1 at lr 0\.0002, then 0 decaying linearly to 0\)/);
    expect((await readCheckpoint(out)).header.model.epoch).toBe(1);
    const again = await run(['train', '--data', data, '--out', out, ...net, '--epochs', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint: pass --resume/);

    const missing = await run(['train', '--data', path.join(out, 'nope'), '--out', out + '2', ...common]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    const badNet = await run(['train', '--data', data, '--out', out + '3', ...common, '--netG', 'unet_32']);
    expect(badNet.stderr).toMatch(/multiples of 32; got 16/);
    const badRf = await run(['train', '--data', data, '--out', out + '4', ...common, '--rf', '50']);
    expect(badRf.stderr).toMatch(/^pix2pix: --rf is not a PatchGAN receptive field: use 1, 16, .* \(got 50\)$/m);
    // Errors name the flag as typed, in whichever spelling.
    const badBatch = await run(['train', '--data', data, '--out', out + '5', ...common, '--batch_size', '0']);
    expect(badBatch.code).toBe(2);
    expect(badBatch.stderr.trim()).toBe('pix2pix: --batch_size must be an integer ≥ 1 (got 0)');
    const both = await run(['train', '--data', data, '--out', out + '6', ...common, '--epochs', '3']);
    expect(both.stderr.trim()).toBe('pix2pix: give --epochs (all epochs) or --n_epochs (epochs at the initial learning rate), not both');
  });

  it('--json writes NDJSON progress events on stdout: start with the config, steps, epochs, checkpoints, done', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'p2p-runs-')), 'j');
    const r = await run(['train', '--data', data, '--out', out, ...net, '--epochs', '2', '--batch-size', '8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { event: string });
    const start = events[0];
    expect(start.event).toBe('start');
    expect(start).toMatchObject({ totalEpochs: 2, trainPairs: 16, stepsPerEpoch: 2, engine: 'cpu', resumedAfterEpoch: 0 });
    expect(start.config).toMatchObject({ nEpochs: 1, nEpochsDecay: 1, batchSize: 8, nLayersD: 1, size: 16, out });
    // 16 pairs in batches of 8: two steps per epoch, then the epoch row and its checkpoint.
    expect(events.map((e) => e.event)).toEqual(['start', 'step', 'step', 'epoch', 'checkpoint', 'step', 'step', 'epoch', 'checkpoint', 'done']);
    const steps = events.filter((e) => e.event === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    for (const s of steps) for (const k of ['G_GAN', 'G_L1', 'D_real', 'D_fake']) expect(Number.isFinite(s[k])).toBe(true);
    // The epoch rows carry the losses.csv numbers: mean of the step losses, and the scheduled lr.
    const epochs = events.filter((e) => e.event === 'epoch');
    const rows = Papa.parse(readFileSync(path.join(out, 'losses.csv'), 'utf8'), { header: true, skipEmptyLines: true, dynamicTyping: true }).data as Record<
      string,
      number
    >[];
    expect(epochs.map((e) => e.G_L1)).toEqual(rows.map((row) => row.G_L1));
    expect((steps[0].G_L1 as number) + (steps[1].G_L1 as number)).toBeCloseTo(2 * (epochs[0].G_L1 as number), 10);
    expect(epochs.map((e) => e.lr)).toEqual([2e-4, 1e-4]);
    expect(events.at(-1)).toMatchObject({ event: 'done', epochs: 2, checkpoint: path.join(out, 'checkpoint.bin') });
  });
});
