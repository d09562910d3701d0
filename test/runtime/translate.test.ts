import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatorArch } from '../../src/nets/arch.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { type ModelSession, openSession } from '../../src/runtime/session.ts';
import { outputNames, parseShard, shardSlice, translateFolder } from '../../src/runtime/translate.ts';
import { planarUnitToRgb, prepareImage, rgbToPlanarUnit } from '../../src/runtime/images.ts';
import { inferCommand } from '../../src/cli/commands/infer.ts';
import { randomParams } from '../export/fixtures.ts';

const SIZE = 32;
let root: string;
let modelFile: string;
let session: ModelSession;

async function rgbFile(file: string, width: number, height: number, seed: number): Promise<Buffer> {
  const px = new Uint8Array(width * height * 3).map((_, k) => (k * 13 + seed * 57 + ((k / 3 / width) | 0) * 5) % 256);
  const s = sharp(px, { raw: { width, height, channels: 3 } });
  const buf = file.endsWith('.jpg') ? await s.jpeg().toBuffer() : await s.png().toBuffer();
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, buf);
  return buf;
}

async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** What the model gives for `file` when the session is run by hand on the same preprocessed input. */
async function direct(file: string, abSide?: 'A' | 'B'): Promise<Uint8Array> {
  const img = await prepareImage(file, SIZE, abSide);
  const x = new Float32Array(3 * SIZE * SIZE);
  rgbToPlanarUnit(img.rgb, SIZE * SIZE, x, 0);
  const out = await session.run(x, [1, 3, SIZE, SIZE]);
  return planarUnitToRgb(out.data, 0, 3, SIZE * SIZE);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  }
  return out.sort();
}

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-infer-'));
  const arch = generatorArch({ depth: 5, ngf: 4 });
  modelFile = path.join(root, 'g.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { image_size: String(SIZE), size_multiple: '32' })));
  session = await openSession(modelFile, { provider: 'cpu', threads: 1, warmup: { batch: 2, size: SIZE } });

  const mixed = path.join(root, 'mixed');
  await rgbFile(path.join(mixed, 'a.png'), 40, 30, 1);
  await rgbFile(path.join(mixed, 'b.jpg'), 64, 64, 2);
  await sharp(Buffer.alloc(20 * 20, 90), { raw: { width: 20, height: 20, channels: 1 } })
    .png()
    .toFile(path.join(mixed, 'gray.png'));
  await sharp(Buffer.alloc(24 * 24 * 4, 200), { raw: { width: 24, height: 24, channels: 4 } })
    .png()
    .toFile(path.join(mixed, 'alpha.png'));
  const deep = new Uint16Array(16 * 16 * 3).map((_, k) => (k * 997) % 65536);
  await sharp(deep, { raw: { width: 16, height: 16, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toFile(path.join(mixed, 'deep16.png'));
  // Stored 40×20 landscape with EXIF orientation 6 (rotate 90°): displayed 20×40 portrait.
  const land = new Uint8Array(40 * 20 * 3).map((_, k) => (k * 3) % 256);
  await sharp(land, { raw: { width: 40, height: 20, channels: 3 } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toFile(path.join(mixed, 'rotated.jpg'));
  await sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .toFile(path.join(mixed, 'huge.jpg'));
  const good = await fsp.readFile(path.join(mixed, 'a.png'));
  await fsp.writeFile(path.join(mixed, 'empty.png'), Buffer.alloc(0));
  await fsp.writeFile(path.join(mixed, 'truncated.png'), good.subarray(0, Math.floor(good.length / 2)));
  await fsp.writeFile(path.join(mixed, 'text.jpg'), 'this is not an image\n');
  await fsp.writeFile(path.join(mixed, 'notes.txt'), 'ignored: not an image extension\n');
});

afterAll(async () => {
  await session?.close();
  await fsp.rm(root, { recursive: true, force: true });
});

describe('translateFolder', () => {
  it('translates the good files of a mixed folder, reports each bad one with its reason, and counts everything', async () => {
    const out = path.join(root, 'out-mixed');
    const r = await translateFolder({ model: session, input: path.join(root, 'mixed'), output: out, batchSize: 3, size: SIZE, quiet: true });
    expect(r.total).toBe(10);
    expect(r.translated).toBe(7);
    expect(r.skipped).toBe(0);
    const reasons = Object.fromEntries(r.failed.map((f) => [f.file, f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['empty.png', 'text.jpg', 'truncated.png']);
    expect(reasons['empty.png']).toMatch(/empty \(0 bytes\)/);
    expect(reasons['text.jpg']).toMatch(/not an image/);
    expect(reasons['truncated.png']).toMatch(/truncated or corrupt/);
    expect(await listFiles(out)).toEqual(['a.png', 'alpha.png', 'b.png', 'deep16.png', 'gray.png', 'huge.png', 'rotated.png']);
    for (const f of ['a.png', 'gray.png', 'huge.png']) {
      const p = await pixels(path.join(out, f));
      expect([p.width, p.height]).toEqual([SIZE, SIZE]);
    }
  });

  it('writes exactly what running the session directly on the same preprocessed input gives', async () => {
    const out = path.join(root, 'out-mixed');
    for (const [src, dst] of [
      ['a.png', 'a.png'],
      ['deep16.png', 'deep16.png'],
      ['rotated.jpg', 'rotated.png'],
    ]) {
      const want = await direct(path.join(root, 'mixed', src));
      expect(Buffer.compare((await pixels(path.join(out, dst))).data, Buffer.from(want))).toBe(0);
    }
  });

  it('treats 16-bit input like its 8-bit version, gray like gray RGB, and applies EXIF orientation', async () => {
    const gray = await prepareImage(path.join(root, 'mixed', 'gray.png'), 8);
    expect(gray.rgb.every((v) => v === 90)).toBe(true);
    expect((await sharp(path.join(root, 'mixed', 'deep16.png')).metadata()).depth).toBe('ushort');
    const deep = await prepareImage(path.join(root, 'mixed', 'deep16.png'), 16);
    const raw16 = new Uint16Array(16 * 16 * 3).map((_, k) => (k * 997) % 65536);
    for (let i = 0; i < deep.rgb.length; i += 37) expect(Math.abs(deep.rgb[i] - raw16[i] / 257)).toBeLessThanOrEqual(1);
    const rot = await prepareImage(path.join(root, 'mixed', 'rotated.jpg'), 16);
    expect([rot.sourceWidth, rot.sourceHeight]).toEqual([20, 40]);
  });

  it('--keep-size resizes each output back to its (oriented) source size', async () => {
    const out = path.join(root, 'out-keep');
    const r = await translateFolder({ model: session, input: path.join(root, 'mixed'), output: out, size: SIZE, keepSize: true, format: 'jpg', quiet: true });
    expect(r.translated).toBe(7);
    const sizes = await Promise.all(['a.jpg', 'rotated.jpg', 'huge.jpg'].map(async (f) => sharp(path.join(out, f)).metadata()));
    expect(sizes.map((m) => [m.format, m.width, m.height])).toEqual([
      ['jpeg', 40, 30],
      ['jpeg', 20, 40],
      ['jpeg', 3000, 2000],
    ]);
  });

  it('--ab-side feeds one half of aligned AB images', async () => {
    const ab = path.join(root, 'ab');
    // A = left 32 columns, B = right 32 columns, different content.
    const w = 64;
    const px = new Uint8Array(w * 32 * 3).map((_, k) => (((k / 3) | 0) % w < 32 ? (k * 5) % 256 : 255 - ((k * 11) % 256)));
    await fsp.mkdir(ab, { recursive: true });
    await sharp(px, { raw: { width: w, height: 32, channels: 3 } })
      .png()
      .toFile(path.join(ab, 'pair.png'));
    const halves = path.join(root, 'halves');
    await fsp.mkdir(halves, { recursive: true });
    await sharp(path.join(ab, 'pair.png')).extract({ left: 0, top: 0, width: 32, height: 32 }).toFile(path.join(halves, 'a.png'));
    await sharp(path.join(ab, 'pair.png')).extract({ left: 32, top: 0, width: 32, height: 32 }).toFile(path.join(halves, 'b.png'));
    for (const side of ['A', 'B'] as const) {
      const out = path.join(root, `out-ab-${side}`);
      await translateFolder({ model: session, input: ab, output: out, abSide: side, keepSize: true, quiet: true });
      const got = await pixels(path.join(out, 'pair.png'));
      expect([got.width, got.height]).toEqual([32, 32]);
      const want = await direct(path.join(halves, side === 'A' ? 'a.png' : 'b.png'));
      expect(Buffer.compare(got.data, Buffer.from(want))).toBe(0);
    }
  });

  it('--recursive mirrors the tree; without it subfolders are ignored', async () => {
    const tree = path.join(root, 'tree');
    await rgbFile(path.join(tree, 'top.png'), 32, 32, 3);
    await rgbFile(path.join(tree, 'x', 'y', 'deep.jpg'), 32, 32, 4);
    const flat = await translateFolder({ model: session, input: tree, output: path.join(root, 'out-flat'), quiet: true });
    expect(flat.total).toBe(1);
    const rec = await translateFolder({ model: session, input: tree, output: path.join(root, 'out-tree'), recursive: true, quiet: true });
    expect(rec.translated).toBe(2);
    expect(await listFiles(path.join(root, 'out-tree'))).toEqual(['top.png', 'x/y/deep.png']);
  });

  it('--skip-existing leaves existing outputs alone', async () => {
    const out = path.join(root, 'out-skip');
    await fsp.mkdir(out, { recursive: true });
    await fsp.writeFile(path.join(out, 'a.png'), 'keep me');
    const r = await translateFolder({ model: session, input: path.join(root, 'mixed'), output: out, skipExisting: true, quiet: true });
    expect(r.skipped).toBe(1);
    expect(r.translated).toBe(6);
    expect(await fsp.readFile(path.join(out, 'a.png'), 'utf8')).toBe('keep me');
    const again = await translateFolder({ model: session, input: path.join(root, 'mixed'), output: out, skipExisting: true, quiet: true });
    expect([again.translated, again.skipped, again.failed.length]).toEqual([0, 7, 3]);
  });

  it('--shard i/n: the n shards are disjoint and together cover every file', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = path.join(root, `out-shard-${i}`);
      const r = await translateFolder({ model: session, input: path.join(root, 'mixed'), output: out, shard: { index: i, count: 3 }, quiet: true });
      const files = await listFiles(out);
      expect(r.total).toBeGreaterThanOrEqual(3);
      seen.push(...files, ...r.failed.map((f) => `failed:${f.file}`));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(10);
  });

  it('leaves no temporary files behind', async () => {
    const out = path.join(root, 'out-mixed');
    const all = await fsp.readdir(out);
    expect(all.filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('shards and output names', () => {
  it('shardSlice splits into contiguous slices whose sizes differ by at most one', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const parts = [0, 1, 2, 3].map((i) => shardSlice(items, { index: i, count: 4 }));
    expect(parts).toEqual([
      [0, 1],
      [2, 3, 4],
      [5, 6],
      [7, 8, 9],
    ]);
    expect(shardSlice([1, 2], { index: 2, count: 3 })).toEqual([2]);
  });

  it('parseShard accepts i/n and rejects anything else with a one-line hint', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(() => parseShard('5/5')).toThrow(/0-based/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
    expect(() => parseShard('x')).toThrow(/should be i\/n/);
  });

  it('keeps the extension in the name when two inputs would collide', () => {
    const m = outputNames(['a.jpg', 'a.png', 'b.JPG', 'd/c.tif'], 'png');
    expect([...m.values()]).toEqual(['a_jpg.png', 'a_png.png', 'b.png', 'd/c.png']);
  });
});

describe('infer command', () => {
  it('runs end to end from the model file and sets exit status 1 when some files failed', async () => {
    const out = path.join(root, 'out-cli');
    const before = process.exitCode;
    try {
      await yargs(['infer', '--model', modelFile, '--input', path.join(root, 'mixed'), '--output', out, '--batch-size', '4', '--provider', 'cpu', '--quiet'])
        .command(inferCommand)
        .strict()
        .parseAsync();
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = before;
    }
    expect((await listFiles(out)).length).toBe(7);
  });

  it('rejects a size the model cannot take and an output folder equal to the input', async () => {
    await expect(translateFolder({ model: session, input: path.join(root, 'mixed'), output: path.join(root, 'x'), size: 40, quiet: true })).rejects.toThrow(
      /multiples of 32/,
    );
    await expect(translateFolder({ model: session, input: path.join(root, 'mixed'), output: path.join(root, 'mixed'), quiet: true })).rejects.toThrow(
      /must differ/,
    );
  });
});
