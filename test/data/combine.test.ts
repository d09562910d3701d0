/** `pix2pix data combine`: A and B images of the same name side by side, per split, like combine_A_and_B.py. */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchNames, sideBySide } from '../../src/data/combine.ts';
import { openPairedDataset } from '../../src/data/dataset.ts';
import { captureStdout, runCli } from '../helpers/capture.ts';

let dir: string;

async function png(file: string, w: number, h: number, color: [number, number, number]): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: color[0], g: color[1], b: color[2] } } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-combine-'));
  await png(path.join(dir, 'A/train/1.png'), 4, 3, [255, 0, 0]);
  await png(path.join(dir, 'B/train/1.png'), 4, 3, [0, 0, 255]);
  await png(path.join(dir, 'A/train/2.png'), 4, 3, [255, 0, 0]);
  await png(path.join(dir, 'B/train/2.png'), 4, 5, [0, 0, 255]);
  await png(path.join(dir, 'A/train/only-a.png'), 4, 3, [1, 1, 1]);
  await png(path.join(dir, 'B/train/only-b.png'), 4, 3, [1, 1, 1]);
  await png(path.join(dir, 'A/test/9.png'), 2, 2, [10, 20, 30]);
  await png(path.join(dir, 'B/test/9.png'), 3, 2, [40, 50, 60]);
});

afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

describe('sideBySide and matchNames', () => {
  it('puts A left of B row by row', () => {
    const a = { width: 1, height: 2, data: Uint8Array.from([1, 1, 1, 2, 2, 2]) };
    const b = { width: 2, height: 2, data: Uint8Array.from([3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]) };
    expect(Array.from(sideBySide(a, b).data)).toEqual([1, 1, 1, 3, 3, 3, 4, 4, 4, 2, 2, 2, 5, 5, 5, 6, 6, 6]);
    expect(() => sideBySide(a, { width: 1, height: 1, data: new Uint8Array(3) })).toThrow(/heights differ/);
  });
  it('splits names into both sides and one side only', () => {
    expect(matchNames(['a', 'b', 'c'], ['b', 'c', 'd'])).toEqual({ both: ['b', 'c'], onlyA: ['a'], onlyB: ['d'] });
  });
});

describe('pix2pix data combine', () => {
  it('writes AB images per split that training opens, and lists names on one side only and pairs that do not fit', async () => {
    const out = path.join(dir, 'AB');
    let stderr = '';
    const stdout = await captureStdout(async () => {
      const r = await runCli(['data', 'combine', '--a', path.join(dir, 'A'), '--b', path.join(dir, 'B'), '--out', out, '--quiet']);
      expect(r.code).toBeUndefined();
      stderr = r.stderr;
    });
    expect(stdout).toBe(`${out}: test 1, train 1 AB images\n`);
    expect(stderr).toBe('');
    const img = await sharp(path.join(out, 'train/1.png')).raw().toBuffer({ resolveWithObject: true });
    expect([img.info.width, img.info.height]).toEqual([8, 3]);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(img.data.subarray(4 * 3, 5 * 3))).toEqual([0, 0, 255]);
    const ds = await openPairedDataset(out, 'test');
    expect([ds.layout, ds.size]).toEqual(['aligned', 1]);

    const loud = await runCli(['data', 'combine', '--a', path.join(dir, 'A'), '--b', path.join(dir, 'B'), '--out', path.join(dir, 'AB2')]);
    expect(loud.stderr).toMatch(/^1 only in --a .*: train\/only-a\.png$/m);
    expect(loud.stderr).toMatch(/^1 only in --b .*: train\/only-b\.png$/m);
    expect(loud.stderr).toMatch(/^1 not combined: train\/2\.png: A is 4×3 but B is 4×5: the heights differ$/m);
  });

  it('refuses an --out inside an input and a folder without splits, creating nothing', async () => {
    const inside = await runCli(['data', 'combine', '--a', path.join(dir, 'A'), '--b', path.join(dir, 'B'), '--out', path.join(dir, 'A', 'out')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/--out .* lies inside --a/);
    await expect(fsp.stat(path.join(dir, 'A', 'out'))).rejects.toThrow(/ENOENT/);
    await fsp.mkdir(path.join(dir, 'flat'));
    const flat = await runCli(['data', 'combine', '--a', path.join(dir, 'flat'), '--b', path.join(dir, 'B'), '--out', path.join(dir, 'AB3')]);
    expect(flat.stderr).toMatch(/has no split folders/);
    await expect(fsp.stat(path.join(dir, 'AB3'))).rejects.toThrow(/ENOENT/);
  });
});
