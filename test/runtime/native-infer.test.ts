/**
 * Native-size and tiled translation through a real exported U-Net (depth 3, so sides are multiples
 * of 8), and the --html gallery. The model uses running BN statistics: no per-image statistic, so
 * an output pixel depends only on the input pixels in its receptive field, which is what makes
 * tiles exact when the overlap is wide enough.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatorArch, paramSpecs } from '../../src/nets/arch.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { type ModelSession, openSession } from '../../src/runtime/session.ts';
import { translateFolder } from '../../src/runtime/translate.ts';
import { planTiles, tileCount } from '../../src/runtime/tiles.ts';
import { inferCommand } from '../../src/cli/commands/infer.ts';
import { randomParams } from '../export/fixtures.ts';

let root: string;
let modelFile: string;
let bareModelFile: string;
let session: ModelSession;

async function writeImage(file: string, width: number, height: number, seed: number): Promise<Uint8Array> {
  // Smooth content plus texture, so the net's output is not flat.
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++)
        px[(y * width + x) * 3 + c] = (128 + 90 * Math.sin((x + 3 * c + seed) / 7) * Math.cos((y - seed) / 11) + ((x * 7 + y * 13 + seed) % 23)) & 255;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
  return px;
}

async function pixels(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Reflect-pad by hand (numpy 'reflect': pads here are smaller than the image). */
function reflectPadPlanar(px: Uint8Array, w: number, h: number, left: number, top: number, pw: number, ph: number): Float32Array {
  const m = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Float32Array(3 * pw * ph);
  for (let y = 0; y < ph; y++)
    for (let x = 0; x < pw; x++) for (let c = 0; c < 3; c++) out[c * pw * ph + y * pw + x] = px[(m(y - top, h) * w + m(x - left, w)) * 3 + c] / 127.5 - 1;
  return out;
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-native-'));
  const arch = generatorArch({ depth: 3, ngf: 4 });
  const params = randomParams(arch, 3);
  // Stronger weights than the fixture's, so pixels far from an output still move it visibly (the
  // test below must see tile edges when the overlap is too small).
  for (const p of paramSpecs(arch)) if (p.role === 'weight') params.get(p.name)!.forEach((v, i, a) => (a[i] = 2 * v));
  modelFile = path.join(root, 'g.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, params, { size_multiple: '8' }), { norm: 'running' }));
  // The same net without our size metadata, like a foreign export.
  bareModelFile = path.join(root, 'bare.onnx');
  await fsp.writeFile(bareModelFile, exportConvNetOnnx(generatorSpec(arch, params, {}), { norm: 'running' }));
  session = await openSession(modelFile, { provider: 'cpu', threads: 1 });
});

afterAll(async () => {
  await session?.close();
  await fsp.rm(root, { recursive: true, force: true });
});

describe('native size', () => {
  it('reads the size multiple from the metadata, or from the graph when the metadata lacks it', async () => {
    expect([session.io.sizeMultiple, session.io.sizeMultipleSource]).toEqual([8, 'metadata']);
    const bare = await openSession(bareModelFile, { provider: 'cpu', threads: 1 });
    expect([bare.io.sizeMultiple, bare.io.sizeMultipleSource]).toEqual([8, 'graph']);
    await bare.close();
  });

  it('translates a non-square image at its own size: reflect-padded to multiples of 8, cropped back exactly', async () => {
    const dir = path.join(root, 'nonsquare');
    const px = await writeImage(path.join(dir, 'wide.png'), 75, 50, 1);
    const out = path.join(root, 'out-nonsquare');
    const r = await translateFolder({ model: session, input: dir, output: out, quiet: true });
    expect([r.translated, r.size]).toEqual([1, 'native']);
    const got = await pixels(path.join(out, 'wide.png'));
    expect([got.width, got.height]).toEqual([75, 50]);
    // By hand: 75×50 → 80×56, left 2, top 3; run; keep rows 3..52, columns 2..76.
    const x = reflectPadPlanar(px, 75, 50, 2, 3, 80, 56);
    const y = await session.run(x, [1, 3, 56, 80]);
    const want = new Uint8Array(75 * 50 * 3);
    for (let r2 = 0; r2 < 50; r2++)
      for (let c = 0; c < 75; c++)
        for (let ch = 0; ch < 3; ch++) {
          const v = Math.round((y.data[ch * 56 * 80 + (r2 + 3) * 80 + c + 2] + 1) * 127.5);
          want[(r2 * 75 + c) * 3 + ch] = Math.min(255, Math.max(0, v));
        }
    expect(Buffer.compare(got.data, Buffer.from(want))).toBe(0);
    // Zero padding instead of reflection gives a different border: the test can tell them apart.
    const zero = new Float32Array(3 * 56 * 80).fill(-1);
    for (let ch = 0; ch < 3; ch++)
      for (let r2 = 0; r2 < 50; r2++) for (let c = 0; c < 75; c++) zero[ch * 56 * 80 + (r2 + 3) * 80 + c + 2] = x[ch * 56 * 80 + (r2 + 3) * 80 + c + 2];
    const yz = await session.run(zero, [1, 3, 56, 80]);
    expect(Math.round((yz.data[3 * 80 + 2] + 1) * 127.5)).not.toBe(want[0]);
  });

  it('batches images of equal padded shape together, and only those', async () => {
    const dir = path.join(root, 'mixed-sizes');
    await writeImage(path.join(dir, 'a.png'), 75, 50, 1);
    await writeImage(path.join(dir, 'b.png'), 40, 40, 2);
    await writeImage(path.join(dir, 'c.png'), 73, 52, 3); // pads to 80×56 like a.png
    await writeImage(path.join(dir, 'd.png'), 80, 56, 4);
    const runs: number[][] = [];
    const spy: ModelSession = { ...session, run: (data, dims) => (runs.push([...dims]), session.run(data, dims)) };
    const r = await translateFolder({ model: spy, input: dir, output: path.join(root, 'out-mixed-sizes'), batchSize: 4, quiet: true });
    expect(r.translated).toBe(4);
    expect(runs.sort()).toEqual([
      [1, 3, 40, 40],
      [3, 3, 56, 80],
    ]);
    for (const [f, w, h] of [
      ['a.png', 75, 50],
      ['b.png', 40, 40],
      ['c.png', 73, 52],
    ] as const) {
      const p = await pixels(path.join(root, 'out-mixed-sizes', f));
      expect([f, p.width, p.height]).toEqual([f, w, h]);
    }
  });

  it('--size N keeps the square behaviour; a model with a fixed input rejects native', async () => {
    const r = await translateFolder({ model: session, input: path.join(root, 'nonsquare'), output: path.join(root, 'out-square'), size: 32, quiet: true });
    expect(r.size).toBe(32);
    const p = await pixels(path.join(root, 'out-square', 'wide.png'));
    expect([p.width, p.height]).toEqual([32, 32]);
    const fixed: ModelSession = { ...session, io: { ...session.io, staticSize: true, size: 64 } };
    await expect(
      translateFolder({ model: fixed, input: path.join(root, 'nonsquare'), output: path.join(root, 'x'), size: 'native', quiet: true }),
    ).rejects.toThrow(/fixed at 64×64/);
    await expect(translateFolder({ model: session, input: path.join(root, 'nonsquare'), output: path.join(root, 'x'), tile: 36, quiet: true })).rejects.toThrow(
      /multiples of 8/,
    );
  });
});

describe('tiles', () => {
  /** One-sided reach of the receptive field, measured: how far a change in one input pixel spreads in the output. */
  async function receptiveReach(): Promise<number> {
    const side = 96;
    const x = new Float32Array(3 * side * side).map((_, i) => Math.sin(i * 0.7) * 0.8);
    const x2 = x.slice();
    const c = 48;
    for (let ch = 0; ch < 3; ch++) x2[ch * side * side + c * side + c] = -x[ch * side * side + c * side + c] + 0.3;
    const [a, b] = [await session.run(x, [1, 3, side, side]), await session.run(x2, [1, 3, side, side])];
    let reach = 0;
    for (let i = 0; i < side * side; i++) {
      if (Math.abs(a.data[i] - b.data[i]) > 1e-7) reach = Math.max(reach, Math.abs((i % side) - c), Math.abs(Math.floor(i / side) - c));
    }
    return reach;
  }

  it('equals the whole-image output within 1/255 when the receptive field is at most half the overlap', async () => {
    const reach = await receptiveReach();
    expect(reach).toBeGreaterThan(4);
    // Receptive field ≤ 2·reach + 1 ≤ overlap / 2: tiles keep only outputs at least overlap/4 from their edges.
    const overlap = Math.ceil((4 * (reach + 1)) / 8) * 8;
    const tile = 2 * overlap;
    const [w, h] = [tile * 2 + 37, tile + 45];
    expect(tileCount(planTiles(w, h, 8, tile, overlap))).toBeGreaterThanOrEqual(6);
    const dir = path.join(root, 'big');
    await writeImage(path.join(dir, 'big.png'), w, h, 5);
    const whole = await translateFolder({ model: session, input: dir, output: path.join(root, 'out-whole'), quiet: true });
    const tiled = await translateFolder({ model: session, input: dir, output: path.join(root, 'out-tiled'), tile, overlap, batchSize: 3, quiet: true });
    expect([whole.translated, tiled.translated]).toEqual([1, 1]);
    const a = await pixels(path.join(root, 'out-whole', 'big.png'));
    const b = await pixels(path.join(root, 'out-tiled', 'big.png'));
    expect([b.width, b.height]).toEqual([w, h]);
    expect(maxAbsDiff(a.data, b.data)).toBeLessThanOrEqual(1);
    // Without overlap the tile edges show: the comparison is sensitive.
    await translateFolder({ model: session, input: dir, output: path.join(root, 'out-tiled-0'), tile, overlap: 0, quiet: true });
    const c = await pixels(path.join(root, 'out-tiled-0', 'big.png'));
    expect(maxAbsDiff(a.data, c.data)).toBeGreaterThan(8);
  });

  it('leaves images no larger than the tile whole', async () => {
    const runs: number[][] = [];
    const spy: ModelSession = { ...session, run: (data, dims) => (runs.push([...dims]), session.run(data, dims)) };
    await translateFolder({ model: spy, input: path.join(root, 'nonsquare'), output: path.join(root, 'out-small-tiled'), tile: 80, overlap: 16, quiet: true });
    expect(runs).toEqual([[1, 3, 56, 80]]);
  });
});

describe('--html and --save-triplets', () => {
  it('writes input | output | target rows for AB pairs, with escaped names and relative links that resolve', async () => {
    const dir = path.join(root, 'pairs');
    const names = ['plain.png', 'with space#1.png', '<b>&x.png'];
    for (const [i, n] of names.entries()) await writeImage(path.join(dir, n), 64, 24, i);
    const out = path.join(root, 'out-gallery');
    const r = await translateFolder({ model: session, input: dir, output: out, abSide: 'A', html: true, quiet: true });
    expect(r.translated).toBe(3);
    const html = await fsp.readFile(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('<th>target</th>');
    expect(html).toContain('&lt;b&gt;&amp;x.png');
    expect(html).not.toContain('<b>&x');
    const rows = html.match(/<tr><td>/g) ?? [];
    expect(rows.length).toBe(3);
    const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    expect(srcs.length).toBe(9);
    for (const s of srcs) {
      expect(s).not.toMatch(/^\/|^[a-z]+:/i);
      expect((await fsp.stat(path.join(out, decodeURIComponent(s)))).isFile()).toBe(true);
    }
    // The triplet: input and target are the A and B halves, at the output's size.
    const inp = await pixels(path.join(out, 'plain_input.png'));
    const tgt = await pixels(path.join(out, 'plain_target.png'));
    const src = await pixels(path.join(dir, 'plain.png'));
    expect([inp.width, inp.height, tgt.width, tgt.height]).toEqual([32, 24, 32, 24]);
    expect(inp.data.subarray(0, 32 * 3)).toEqual(src.data.subarray(0, 32 * 3));
    expect(tgt.data.subarray(0, 32 * 3)).toEqual(src.data.subarray(32 * 3, 64 * 3));
  });

  it('--save-triplets alone writes the extra images but no page; the CLI takes the new flags', async () => {
    const out = path.join(root, 'out-triplets-cli');
    await yargs([
      'infer',
      '--model',
      modelFile,
      '--input',
      path.join(root, 'nonsquare'),
      '--output',
      out,
      '--provider',
      'cpu',
      '--size',
      'native',
      '--tile',
      '48',
      '--overlap',
      '16',
      '--save-triplets',
      '--quiet',
    ])
      .command(inferCommand)
      .strict()
      .parseAsync();
    expect((await fsp.readdir(out)).sort()).toEqual(['wide.png', 'wide_input.png']);
    await expect(
      yargs(['infer', '--model', modelFile, '--input', path.join(root, 'nonsquare'), '--output', out, '--size', 'big'])
        .command(inferCommand)
        .fail((msg, err) => {
          throw err ?? new Error(msg);
        })
        .parseAsync(),
    ).rejects.toThrow(/--size must be 'native' or a side in pixels/);
  });
});
