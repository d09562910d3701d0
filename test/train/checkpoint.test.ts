import { mkdtempSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, loadGenerator, writeCheckpoint, writeCheckpointStreaming, CHECKPOINT_FILE } from '../../src/train/checkpoint.ts';
import { generatorArch, paramSpecs, GENERATOR_DEFAULTS } from '../../src/nets/arch.ts';
import { initParams } from '../../src/train/nets/init.ts';
import { Rng } from '../../src/util/rng.ts';

const model = {
  kind: 'pix2pix' as const,
  generator: { ...GENERATOR_DEFAULTS, depth: 3, ngf: 4 },
  discriminator: null,
  config: { direction: 'AtoB' },
  epoch: 2,
  version: 'test',
};

describe('checkpoint file', () => {
  it('round-trips header and every tensor bit for bit', () => {
    const arch = generatorArch(model.generator);
    const params = initParams(arch, new Rng(3));
    const tensors = new Map([...params].map(([k, v]) => [`G/${k}`, v]));
    const shapes = new Map(paramSpecs(arch).map((p) => [`G/${p.name}`, [...p.shape]]));
    const buf = encodeCheckpoint({ model, state: { step: 7 } }, tensors, shapes);
    const back = decodeCheckpoint(buf);
    expect(back.header.model).toEqual(model);
    expect(back.header.state).toEqual({ step: 7 });
    for (const [k, v] of tensors) expect(back.tensors.get(k)).toEqual(v);
  });

  it('rejects a file that is not a checkpoint, and a truncated one, with one-line errors', async () => {
    expect(() => decodeCheckpoint(new TextEncoder().encode('hello world, not a checkpoint'), 'x.bin')).toThrow(/x.bin is not a pix2pix-ts checkpoint/);
    const arch = generatorArch(model.generator);
    const params = initParams(arch, new Rng(3));
    const buf = encodeCheckpoint({ model, state: {} }, new Map([...params].map(([k, v]) => [`G/${k}`, v])), new Map());
    expect(() => decodeCheckpoint(buf.subarray(0, buf.length - 8), 'y.bin')).toThrow(/y.bin is truncated/);
  });

  it('loads the generator from a run folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ckpt-'));
    const arch = generatorArch(model.generator);
    const params = initParams(arch, new Rng(5));
    await writeCheckpoint(path.join(dir, CHECKPOINT_FILE), { model, state: {} }, new Map([...params].map(([k, v]) => [`G/${k}`, v])), new Map());
    const g = await loadGenerator(dir);
    expect(g.arch.decoder.length).toBe(3);
    expect(g.params.get('e1.weight')).toEqual(params.get('e1.weight'));
    await expect(loadGenerator(path.join(dir, 'nope'))).rejects.toThrow(/checkpoint not found/);
    writeFileSync(path.join(dir, 'bad.bin'), readFileSync(path.join(dir, CHECKPOINT_FILE)).subarray(0, 20));
    await expect(loadGenerator(path.join(dir, 'bad.bin'))).rejects.toThrow(/truncated/);
  });

  it('streams the same bytes it would encode in memory, reading each tensor once and only when due', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ckpt-'));
    const arch = generatorArch(model.generator);
    const params = initParams(arch, new Rng(9));
    const tensors = new Map([...params].map(([k, v]) => [`G/${k}`, v]));
    const shapes = new Map(paramSpecs(arch).map((p) => [`G/${p.name}`, [...p.shape]]));
    const reads: string[] = [];
    const file = path.join(dir, CHECKPOINT_FILE);
    await writeCheckpointStreaming(
      file,
      { model, state: {} },
      [...tensors].map(([name, data]) => ({ name, shape: shapes.get(name)!, read: () => (reads.push(name), data) })),
    );
    expect(reads).toEqual([...tensors.keys()]);
    expect(new Uint8Array(readFileSync(file))).toEqual(encodeCheckpoint({ model, state: {} }, tensors, shapes));
  });

  it('leaves the previous checkpoint intact when writing fails part-way', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ckpt-'));
    const file = path.join(dir, CHECKPOINT_FILE);
    const arch = generatorArch(model.generator);
    const params = initParams(arch, new Rng(1));
    const tensors = new Map([...params].map(([k, v]) => [`G/${k}`, v]));
    await writeCheckpoint(file, { model, state: { epoch: 1 } }, tensors, new Map());
    const before = readFileSync(file);
    const sources = [...tensors].map(([name, data], i) => ({
      name,
      shape: [data.length],
      read: () => {
        if (i === 3) throw new Error('backend lost');
        return data;
      },
    }));
    await expect(writeCheckpointStreaming(file, { model, state: { epoch: 2 } }, sources)).rejects.toThrow(/backend lost/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
  });
});
