import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LoadOptions, cropAndFlip, openPairedDataset, splitAB } from '../../src/data/dataset.ts';
import { type RgbImage, writeImage } from '../../src/data/image.ts';
import { UserError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-dataset-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { width, height, data };
}
const solid = (w: number, h: number, c: [number, number, number]): RgbImage => image(w, h, () => c);
const px = (img: { data: Uint8Array; width: number }, x: number, y: number): number[] =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

/**
 * A 40×20 AB image: A(x, y) = (10x, 10y, 50) on the left, B(x, y) = (50, 10y, 10x) on the right.
 * Any crop/flip of A can be read off its pixels, and B's pixels say whether B got the same one.
 */
const codedAB = image(40, 20, (x, y) => (x < 20 ? [10 * x, 10 * y, 50] : [50, 10 * y, 10 * (x - 20)]));

async function makeDir(...parts: string[]): Promise<string> {
  const d = path.join(dir, ...parts);
  await fsp.mkdir(d, { recursive: true });
  return d;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

describe('splitAB and cropAndFlip', () => {
  it('splits at floor(w/2): A is the left half, B the rest', () => {
    const img = image(5, 1, (x) => [x, 0, 0]);
    const { a, b } = splitAB(img);
    expect([a.width, b.width]).toEqual([2, 3]);
    expect(Array.from(a.data.filter((_, i) => i % 3 === 0))).toEqual([0, 1]);
    expect(Array.from(b.data.filter((_, i) => i % 3 === 0))).toEqual([2, 3, 4]);
  });

  it('crops a square and mirrors it left-right', () => {
    const img = image(4, 3, (x, y) => [x, y, 0]);
    const c = cropAndFlip(img, 1, 1, 2, false);
    expect([px(c, 0, 0), px(c, 1, 0), px(c, 0, 1)]).toEqual([
      [1, 1, 0],
      [2, 1, 0],
      [1, 2, 0],
    ]);
    const f = cropAndFlip(img, 1, 1, 2, true);
    expect([px(f, 0, 0), px(f, 1, 0), px(f, 1, 1)]).toEqual([
      [2, 1, 0],
      [1, 1, 0],
      [1, 2, 0],
    ]);
    expect(() => cropAndFlip(img, 3, 0, 2, false)).toThrow();
  });
});

describe('aligned AB datasets', () => {
  let root: string;
  beforeAll(async () => {
    root = await makeDir('aligned');
    await writeImage(path.join(root, 'train', 'b.png'), codedAB);
    await writeImage(path.join(root, 'train', 'a.png'), codedAB);
    await writeImage(path.join(root, 'train', 'sub', 'c.png'), codedAB);
    await fsp.writeFile(path.join(root, 'train', 'readme.txt'), 'not an image');
    await writeImage(
      path.join(root, 'test', 'x.png'),
      image(40, 20, (x) => (x < 20 ? [200, 0, 0] : [0, 0, 200])),
    );
  });

  it('finds the images recursively, sorted, and detects the layout', async () => {
    const ds = await openPairedDataset(root, 'train');
    expect(ds.layout).toBe('aligned');
    expect(ds.size).toBe(3);
    expect(ds.names).toEqual(['a.png', 'b.png', 'sub/c.png']);
  });

  it('at test time resizes each half to cropSize, without flip or rng; direction picks the input half', async () => {
    const ds = await openPairedDataset(root, 'test');
    const opts: LoadOptions = { direction: 'AtoB', loadSize: 286, cropSize: 8, jitter: false };
    const ab = await ds.loadPair(0, opts);
    expect(ab.size).toBe(8);
    expect(ab.input.length).toBe(8 * 8 * 3);
    expect(Array.from(ab.input.subarray(0, 3))).toEqual([200 / 127.5 - 1, -1, -1].map(Math.fround));
    expect(Array.from(ab.target.subarray(0, 3))).toEqual([-1, -1, 200 / 127.5 - 1].map(Math.fround));
    const ba = await ds.loadPair(0, { ...opts, direction: 'BtoA' });
    expect(ba.input).toEqual(ab.target);
    expect(ba.target).toEqual(ab.input);
    expect(ba.name).toBe('x.png');
  });

  it('jitters A and B with the same crop offset and the same flip, covering every offset and both flips', async () => {
    const ds = await openPairedDataset(root, 'train');
    // loadSize = the half's own size, so the resize is the identity and pixel codes survive.
    const opts = { direction: 'AtoB', loadSize: 20, cropSize: 16, jitter: true, rng: new Rng(3) } as const;
    const seen = new Set<string>();
    for (let k = 0; k < 60; k++) {
      const p = await ds.loadPairRgb(k % ds.size, opts);
      const first = px(p.input, 0, 0);
      const second = px(p.input, 1, 0);
      const flipped = second[0] < first[0];
      const x0 = (flipped ? first[0] - 150 : first[0]) / 10;
      const y0 = first[1] / 10;
      seen.add(`${x0},${y0},${flipped}`);
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const sx = flipped ? x0 + 15 - x : x0 + x;
          expect(px(p.input, x, y)).toEqual([10 * sx, 10 * (y0 + y), 50]);
          expect(px(p.target, x, y)).toEqual([50, 10 * (y0 + y), 10 * sx]);
        }
      }
    }
    const xs = new Set([...seen].map((s) => s.split(',')[0]));
    const ys = new Set([...seen].map((s) => s.split(',')[1]));
    const flips = new Set([...seen].map((s) => s.split(',')[2]));
    expect([...xs].sort()).toEqual(['0', '1', '2', '3', '4']);
    expect([...ys].sort()).toEqual(['0', '1', '2', '3', '4']);
    expect([...flips].sort()).toEqual(['false', 'true']);
  });

  it('is reproducible: the same rng state gives the same examples, loaded one by one or concurrently', async () => {
    const ds = await openPairedDataset(root, 'train');
    const base = { direction: 'BtoA', loadSize: 24, cropSize: 16, jitter: true } as const;
    const rngA = new Rng(11);
    const sequential = [];
    for (let i = 0; i < 6; i++) sequential.push(await ds.loadPair(i % 3, { ...base, rng: rngA }));
    const rngB = new Rng(11);
    const concurrent = await Promise.all(Array.from({ length: 6 }, (_, i) => ds.loadPair(i % 3, { ...base, rng: rngB })));
    expect(concurrent).toEqual(sequential);
    // Exactly three numbers per example, so a checkpointed rng state resumes the same stream.
    const reference = new Rng(11);
    for (let i = 0; i < 18; i++) reference.next();
    expect(rngA.state()).toEqual(reference.state());
    const other = await ds.loadPair(0, { ...base, rng: new Rng(12) });
    expect(sequential.some((p) => p.name === other.name && p.input.every((v, i) => v === other.input[i]))).toBe(false);
  });

  it('serves repeated loads from the cache within its byte budget, with identical results', async () => {
    const uncached = await openPairedDataset(root, 'train');
    const cached = await openPairedDataset(root, 'train', { cacheBytes: 2 * 24 * 24 * 3 * 2 });
    const opts = { direction: 'AtoB', loadSize: 24, cropSize: 16, jitter: true } as const;
    for (let i = 0; i < 3; i++) await cached.loadPair(i, { ...opts, rng: new Rng(i) });
    expect(cached.cachedBytes()).toBe(2 * 24 * 24 * 3 * 2); // two of the three pairs fit
    for (let i = 0; i < 3; i++) {
      expect(await cached.loadPair(i, { ...opts, rng: new Rng(100 + i) })).toEqual(await uncached.loadPair(i, { ...opts, rng: new Rng(100 + i) }));
    }
    expect(cached.cachedBytes()).toBe(2 * 24 * 24 * 3 * 2);
  });

  it('rejects a load size below the crop size and a crop larger than the image in crop mode', async () => {
    const ds = await openPairedDataset(root, 'train');
    const e1 = await rejection(ds.loadPair(0, { direction: 'AtoB', loadSize: 8, cropSize: 16, jitter: true, rng: new Rng(1) }));
    expect(e1).toBeInstanceOf(UserError);
    expect(e1.message).toMatch(/--load-size \(8\).*--crop-size \(16\)/);
    const e2 = await rejection(ds.loadPair(0, { direction: 'AtoB', loadSize: 0, cropSize: 32, jitter: false, preprocess: 'crop' }));
    expect(e2).toBeInstanceOf(UserError);
    expect(e2.message).toContain(path.join(root, 'train', 'a.png'));
    expect(e2.message).toContain('20×20');
    expect(e2.message).toContain('32×32');
  });

  it('in crop mode takes the centre crop at test time, without resizing', async () => {
    const ds = await openPairedDataset(root, 'train');
    const p = await ds.loadPairRgb(0, { direction: 'AtoB', loadSize: 0, cropSize: 10, jitter: false, preprocess: 'crop' });
    expect(px(p.input, 0, 0)).toEqual([50, 50, 50]);
    expect(px(p.target, 9, 9)).toEqual([50, 140, 140]);
  });
});

describe('paired A/B folders', () => {
  it('matches files by name in <split>/A + <split>/B and in A/<split> + B/<split>', async () => {
    for (const [name, a, b] of [
      ['split-first', ['train', 'A'], ['train', 'B']],
      ['ab-first', ['A', 'train'], ['B', 'train']],
    ] as const) {
      const root = await makeDir(`paired-${name}`);
      await writeImage(path.join(root, ...a, 'one.png'), solid(12, 12, [255, 0, 0]));
      await writeImage(path.join(root, ...b, 'one.png'), solid(12, 12, [0, 0, 255]));
      await writeImage(path.join(root, ...a, 'two.jpg'), solid(12, 12, [0, 255, 0]));
      await writeImage(path.join(root, ...b, 'two.jpg'), solid(12, 12, [255, 255, 255]));
      const ds = await openPairedDataset(root, 'train');
      expect(ds.layout).toBe(name === 'split-first' ? 'paired-split-first' : 'paired-ab-first');
      expect(ds.names).toEqual(['one.png', 'two.jpg']);
      const p = await ds.loadPairRgb(0, { direction: 'AtoB', loadSize: 12, cropSize: 12, jitter: false });
      expect(px(p.input, 5, 5)).toEqual([255, 0, 0]);
      expect(px(p.target, 5, 5)).toEqual([0, 0, 255]);
    }
  });

  it('lists unmatched names from both sides', async () => {
    const root = await makeDir('paired-unmatched');
    for (const n of ['x.png', 'y.png']) await writeImage(path.join(root, 'train', 'A', n), solid(4, 4, [1, 2, 3]));
    for (const n of ['x.png', 'z.png']) await writeImage(path.join(root, 'train', 'B', n), solid(4, 4, [1, 2, 3]));
    const e = await rejection(openPairedDataset(root, 'train'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/1 only in .*A \(y\.png\); 1 only in .*B \(z\.png\)/);
  });

  it('names the pair whose A and B sizes differ', async () => {
    const root = await makeDir('paired-sizes');
    await writeImage(path.join(root, 'train', 'A', 'p.png'), solid(8, 8, [1, 2, 3]));
    await writeImage(path.join(root, 'train', 'B', 'p.png'), solid(8, 6, [1, 2, 3]));
    const ds = await openPairedDataset(root, 'train');
    const e = await rejection(ds.loadPair(0, { direction: 'AtoB', loadSize: 8, cropSize: 8, jitter: false }));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/Pair p\.png: .* is 8×8 but .* is 8×6/);
  });
});

describe('missing, empty and bad data', () => {
  it('says what was looked for when the split is missing', async () => {
    const root = await makeDir('nosplit');
    const e = await rejection(openPairedDataset(root, 'val'));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain(path.join(root, 'val'));
    expect(e.message).toContain(path.join(root, 'A', 'val'));
    expect(e.message).not.toContain('\n');
    await expect(openPairedDataset(path.join(dir, 'no-such-root'), 'train')).rejects.toThrow(/does not exist/);
  });

  it('says the split is empty', async () => {
    const root = await makeDir('emptysplit', 'train');
    await fsp.writeFile(path.join(root, 'notes.txt'), 'x');
    await expect(openPairedDataset(path.dirname(root), 'train')).rejects.toThrow(/empty: no images/);
  });

  it('with skipBad, skips unreadable files at open time with one warning line each', async () => {
    const root = await makeDir('bad');
    await writeImage(path.join(root, 'train', 'good.png'), codedAB);
    await fsp.writeFile(path.join(root, 'train', 'empty.png'), '');
    await fsp.writeFile(path.join(root, 'train', 'text.jpg'), 'hello');
    const strict = await openPairedDataset(root, 'train');
    expect(strict.size).toBe(3);
    const e = await rejection(strict.loadPair(0, { direction: 'AtoB', loadSize: 20, cropSize: 16, jitter: false }));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toContain('empty.png');

    const warnings: string[] = [];
    const ds = await openPairedDataset(root, 'train', { skipBad: true, warn: (l) => warnings.push(l) });
    expect(ds.names).toEqual(['good.png']);
    expect(ds.skipped).toHaveLength(2);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^warning: skipping .*empty\.png: file is empty/);
    expect(warnings[1]).toMatch(/^warning: skipping .*text\.jpg: not an image/);
    expect(warnings.every((w) => !w.includes('\n'))).toBe(true);
  });

  it('with skipBad, skips paired files whose sizes differ, and fails if nothing is left', async () => {
    const root = await makeDir('bad-paired');
    await writeImage(path.join(root, 'train', 'A', 'p.png'), solid(8, 8, [1, 2, 3]));
    await writeImage(path.join(root, 'train', 'B', 'p.png'), solid(6, 8, [1, 2, 3]));
    const warnings: string[] = [];
    const e = await rejection(openPairedDataset(root, 'train', { skipBad: true, warn: (l) => warnings.push(l) }));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/no readable images \(1 skipped\)/);
    expect(warnings[0]).toMatch(/is 8×8 but .* is 6×8/);
  });
});
