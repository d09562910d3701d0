/**
 * Band-by-band tiled inference (src/runtime/banded.ts): with --tile, an image over --max-pixels is
 * read, translated and written a band of tile rows at a time, and its pixels equal those of the
 * whole-image tiled path; what neither path can take is refused in one line.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { decodeImageFile } from '../../src/image/decode.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { bandPixels, planBanded } from '../../src/runtime/banded.ts';
import { type ModelSession, openSession } from '../../src/runtime/session.ts';
import { type TranslateOptions, translateFolder } from '../../src/runtime/translate.ts';
import { randomParams } from '../export/fixtures.ts';
import { runCli } from '../helpers/capture.ts';

let root: string;
let modelFile: string;
let session: ModelSession;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-banded-')));
  const arch = generatorArch({ depth: 3, ngf: 2 });
  modelFile = path.join(root, 'g.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 3), { size_multiple: '8' })));
  session = await openSession(modelFile, { provider: 'cpu', threads: 1 });
});
afterAll(async () => {
  await session?.close();
  await fsp.rm(root, { recursive: true, force: true });
});

/** A textured image (smooth waves plus noise), so tiles placed one pixel wrong would show. */
function texture(width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) px[(y * width + x) * 3 + c] = (128 + 90 * Math.sin((x + 5 * c) / 9) * Math.cos(y / 13) + ((x * 7 + y * 13) % 29)) & 255;
  return px;
}

async function writeInput(dir: string, name: string, width: number, height: number): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  const s = sharp(texture(width, height), { raw: { width, height, channels: 3 } });
  await (name.endsWith('.jpg') ? s.jpeg({ quality: 90 }) : s.png()).toFile(path.join(dir, name));
}

async function rgbOf(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

let runs = 0;
/** Translate `input` into a fresh folder; returns it. */
async function translate(input: string, o: Partial<TranslateOptions>): Promise<string> {
  const output = path.join(root, `out-${runs++}`);
  const r = await translateFolder({ model: session, input, output, quiet: true, ...o });
  expect(r.failed).toEqual([]);
  return output;
}

describe('band by band equals whole image', () => {
  for (const [name, width, height, tile, overlap] of [
    ['moderate.png', 700, 500, 128, undefined],
    ['odd.png', 701, 499, 128, 48],
    ['strips.jpg', 389, 611, 64, 16],
  ] as const) {
    it(`${name} ${width}×${height}, --tile ${tile} --overlap ${overlap ?? 'default'}: the same pixels`, async () => {
      const input = path.join(root, `in-${name}`);
      await writeInput(input, name, width, height);
      const flags = { tile, overlap, batchSize: 3 };
      const whole = await translate(input, { ...flags, maxPixels: width * height });
      // One pixel under the image, above one band: the band path, libvips reading a JPEG in several strips.
      const maxPixels = width * height - 1;
      expect(bandPixels(width, height, 8, tile)).toBeLessThan(maxPixels / 3);
      await expect(decodeImageFile(path.join(input, name), { maxPixels })).rejects.toThrow(/over the .* decode budget/);
      const banded = await translate(input, { ...flags, maxPixels });
      const out = name.replace(/\.jpg$/, '.png');
      const [a, b] = [await rgbOf(path.join(whole, out)), await rgbOf(path.join(banded, out))];
      expect([b.width, b.height]).toEqual([width, height]);
      expect(Buffer.compare(a.data, b.data)).toBe(0);
      expect(await fsp.readdir(banded)).toEqual([out]);
    });
  }

  it('an AB half (--ab-side B) is cut from each band as from the whole image', async () => {
    const input = path.join(root, 'in-ab');
    await writeInput(input, 'pair.png', 2 * 300 + 1, 260);
    const flags = { tile: 64, abSide: 'B' as const };
    const whole = await translate(input, { ...flags, maxPixels: 10 ** 6 });
    const banded = await translate(input, { ...flags, maxPixels: 301 * 260 - 1 });
    const [a, b] = [await rgbOf(path.join(whole, 'pair.png')), await rgbOf(path.join(banded, 'pair.png'))];
    expect([b.width, b.height]).toEqual([301, 260]);
    expect(Buffer.compare(a.data, b.data)).toBe(0);
  });
});

describe('a failure that is not the image’s own', () => {
  it('stops the band path (the model failing is not a write failure, nor a reason to try the next image)', async () => {
    const input = path.join(root, 'in-broken-model');
    await writeInput(input, 'a.png', 300, 200);
    await writeInput(input, 'b.png', 300, 200);
    const broken: ModelSession = Object.create(session, { run: { value: () => Promise.reject(new Error('onnxruntime: out of memory')) } });
    const output = path.join(root, `out-${runs++}`);
    await expect(translateFolder({ model: broken, input, output, quiet: true, tile: 64, maxPixels: 300 * 200 - 1 })).rejects.toThrow('out of memory');
  });
});

describe('which images go band by band', () => {
  it('those over the budget and larger than a tile; the rest go whole, with the size read from the header', async () => {
    const input = path.join(root, 'in-plan');
    await writeInput(input, 'a.png', 300, 200);
    const file = path.join(input, 'a.png');
    const request = { file, multiple: 8, tile: 64, overlap: 16, format: 'png', triplets: false };
    expect(await planBanded({ ...request, maxPixels: 300 * 200 })).toEqual({ header: { width: 300, height: 200 } });
    expect(await planBanded({ ...request, maxPixels: 300 * 200 - 1, tile: 304 })).toEqual({ header: { width: 300, height: 200 } });
    const { banded } = await planBanded({ ...request, maxPixels: 300 * 200 - 1 });
    expect(banded).toMatchObject({ width: 300, height: 200, source: { left: 0, width: 300, height: 200 } });
    expect(banded?.source.png).toBeDefined();
    expect((await planBanded({ ...request, maxPixels: 150 * 200 - 1, half: 'B' })).banded).toMatchObject({ width: 150, source: { left: 150 } });
    // The whole file's size, not the half's: the decoder cuts the half itself.
    expect(await planBanded({ ...request, maxPixels: 10 ** 6, half: 'B' })).toEqual({ header: { width: 300, height: 200 } });
    expect(bandPixels(300, 200, 8, 64)).toBe(304 * 64);
    expect(bandPixels(300, 20, 8, 64)).toBe(304 * 24);
  });
});

describe('headers read once per image', () => {
  it('a JPEG under the budget goes whole on the size --tile read, without asking libvips for its header again', async () => {
    const input = path.join(root, 'in-probe');
    await writeInput(input, 'a.jpg', 300, 200);
    await writeInput(input, 'b.jpg', 200, 300);
    const metadata = vi.spyOn(sharp.prototype, 'metadata');
    try {
      const output = await translate(input, { tile: 64, maxPixels: 10 ** 6 });
      expect(metadata).toHaveBeenCalledTimes(2);
      expect((await sharp(path.join(output, 'b.png')).metadata()).width).toBe(200);
    } finally {
      metadata.mockRestore();
    }
  });
});

describe('what the band path refuses, in one line', () => {
  let input: string;
  beforeAll(async () => {
    input = path.join(root, 'in-refuse');
    await writeInput(input, 'wide.png', 1000, 300);
  });
  const infer = (...flags: string[]) =>
    runCli(['infer', '--model', modelFile, '--input', input, '--output', path.join(root, `cli-${runs++}`), '--provider', 'cpu', '--quiet', ...flags]);

  it('an image whose one band of tile rows is over --max-pixels', async () => {
    const r = await infer('--tile', '128', '--max-pixels', '100000');
    expect(r.stderr).toBe(
      'infer: failed wide.png: image is 1000×300 (0.3 Mpx), over the 0.1 Mpx decode budget, and even one band of --tile 128 rows is 0.1 Mpx: use a smaller --tile, or raise --max-pixels if the machine has the memory\n',
    );
    expect(r.code).toBe(1);
  });

  it('--format jpg (written whole) above the budget; --format png takes the band path', async () => {
    const jpg = await infer('--tile', '64', '--max-pixels', '200000', '--format', 'jpg');
    expect(jpg.stderr).toBe(
      'infer: failed wide.png: image is 1000×300 (0.3 Mpx), over the 0.2 Mpx decode budget; --format jpg is written whole: use --format png (written band by band with --tile) or raise --max-pixels\n',
    );
    expect(jpg.code).toBe(1);
    const png = await infer('--tile', '64', '--max-pixels', '200000');
    expect(png.code ?? 0, png.stderr).toBe(0);
  });

  it('an image with an EXIF orientation above the budget (libvips turns it whole); within the budget it is turned as always', async () => {
    const dir = path.join(root, 'in-rotated');
    await fsp.mkdir(dir);
    await sharp(texture(300, 200), { raw: { width: 300, height: 200, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(path.join(dir, 'turned.jpg'));
    const over = await runCli([
      'infer',
      '--model',
      modelFile,
      '--input',
      dir,
      '--output',
      path.join(root, `cli-${runs++}`),
      '--provider',
      'cpu',
      '--quiet',
      '--tile',
      '64',
      '--max-pixels',
      '50000',
    ]);
    expect(over.stderr).toBe(
      'infer: failed turned.jpg: image is 200×300 (0.1 Mpx), over the 0.1 Mpx decode budget; its EXIF orientation (6) turns the whole image at once: rotate the file itself first, or raise --max-pixels\n',
    );
    const out = await translate(dir, { tile: 64, maxPixels: 60000 });
    expect(await rgbOf(path.join(out, 'turned.png'))).toMatchObject({ width: 200, height: 300 });
  });

  it('--save-triplets above the budget (it writes the input whole)', async () => {
    const r = await infer('--tile', '64', '--max-pixels', '200000', '--save-triplets');
    expect(r.stderr).toMatch(
      /^infer: failed wide\.png: image is 1000×300 \(0\.3 Mpx\), over the 0\.2 Mpx decode budget; --save-triplets\/--html write the input whole/,
    );
    expect(r.code).toBe(1);
  });

  it('without --tile the budget still applies to the whole image, before decoding', async () => {
    const r = await infer('--max-pixels', '200000');
    expect(r.stderr).toContain('infer: failed wide.png: image is 1000×300 (0.3 Mpx), over the 0.2 Mpx decode budget: raise --max-pixels');
    expect(r.code).toBe(1);
  });
});
