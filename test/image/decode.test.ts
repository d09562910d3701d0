import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFailureReason, decodeImageFile, probeImageFile, UnreadableImage } from '../../src/image/decode.ts';
import { ascii, bmp } from './fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-decode-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** 2×1 RGB: red, then (10, 20, 30). */
const TWO_PIXELS = [255, 0, 0, 10, 20, 30];

async function file(name: string, bytes: Uint8Array | string): Promise<string> {
  const f = path.join(dir, name);
  await fsp.writeFile(f, bytes);
  return f;
}

async function sharpFile(name: string, encode: (s: Sharp) => Sharp): Promise<string> {
  const f = path.join(dir, name);
  await encode(sharp(Buffer.from(TWO_PIXELS), { raw: { width: 2, height: 1, channels: 3 } })).toFile(f);
  return f;
}

async function reason(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UnreadableImage);
  const msg = (e as Error).message;
  expect(msg).not.toContain('\n');
  return msg;
}

describe('decodeImageFile: every format, exact pixels', () => {
  it('PNG, lossless WebP and TIFF (through sharp)', async () => {
    for (const f of [
      await sharpFile('a.png', (s) => s.png()),
      await sharpFile('a.webp', (s) => s.webp({ lossless: true })),
      await sharpFile('a.tif', (s) => s.tiff({ compression: 'lzw' })),
    ]) {
      const img = await decodeImageFile(f);
      expect([img.width, img.height, img.sourceWidth, img.sourceHeight]).toEqual([2, 1, 2, 1]);
      expect(Array.from(img.data)).toEqual(TWO_PIXELS);
    }
  });

  it('JPEG: a flat 8×8 block comes back within 2 levels', async () => {
    const f = path.join(dir, 'flat.jpg');
    await sharp(Buffer.alloc(8 * 8 * 3, 100), { raw: { width: 8, height: 8, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toFile(f);
    const img = await decodeImageFile(f);
    expect([img.width, img.height]).toEqual([8, 8]);
    for (const v of img.data) expect(Math.abs(v - 100)).toBeLessThanOrEqual(2);
  });

  it('holds PPM/PGM to the pixel budget however long their header comments, and refuses a header it cannot read', async () => {
    const comment = `# ${'x'.repeat(600)}\n`;
    const big = await file('big.pgm', ascii(`P5\n${comment}20000 20000\n255\n`));
    await expect(decodeImageFile(big, { maxPixels: 1_000_000 })).rejects.toThrow(/^image is 20000×20000 .* over the 1\.0 Mpx decode budget/);
    const endless = await file('endless.pgm', ascii(`P5\n# ${'x'.repeat(5000)}\n2 1\n255\n`));
    await expect(decodeImageFile(endless)).rejects.toThrow(/^no image size in the first 4096 bytes/);
  });

  it('BMP (24-bit bottom-up BGR) and PPM/PGM (in JS: the bundled libvips reads neither)', async () => {
    // File order is bottom row first: bottom = blue, top = (255, 128, 0).
    const fb = await file(
      'a.bmp',
      bmp(1, 2, 24, [
        [255, 0, 0],
        [0, 128, 255],
      ]),
    );
    expect(Array.from((await decodeImageFile(fb)).data)).toEqual([255, 128, 0, 0, 0, 255]);
    const fp = await file('a.ppm', new Uint8Array([...ascii('P6\n2 1\n255\n'), ...TWO_PIXELS]));
    expect(Array.from((await decodeImageFile(fp)).data)).toEqual(TWO_PIXELS);
    const fg = await file('a.pgm', ascii('P2\n2 1\n15\n15 5\n'));
    expect(Array.from((await decodeImageFile(fg)).data)).toEqual([255, 255, 255, 85, 85, 85]);
  });
});

describe('decodeImageFile: AB half and resize in one pipeline', () => {
  it('takes the A or B half (split at floor(w/2)) and reports the half as the source size', async () => {
    // 3×1: A = the first pixel, B = the other two.
    const f = await file('ab.ppm', new Uint8Array([...ascii('P6 3 1 255 '), 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const a = await decodeImageFile(f, { half: 'A' });
    expect([a.width, a.sourceWidth, Array.from(a.data)]).toEqual([1, 1, [1, 2, 3]]);
    const b = await decodeImageFile(f, { half: 'B' });
    expect([b.width, b.sourceWidth, Array.from(b.data)]).toEqual([2, 2, [4, 5, 6, 7, 8, 9]]);
  });

  it('resizes to size×size and keeps the pre-resize size as the source size (PNG and BMP alike)', async () => {
    const fp = await sharpFile('r.png', (s) => s.png());
    const fb = await file('r.bmp', bmp(2, 1, 24, [[0, 0, 255, 30, 20, 10]]));
    for (const f of [fp, fb]) {
      const img = await decodeImageFile(f, { size: 4 });
      expect([img.width, img.height, img.sourceWidth, img.sourceHeight, img.data.length]).toEqual([4, 4, 2, 1, 48]);
      // Bicubic keeps the flat left column red at the edge.
      expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 0, 0]);
    }
  });

  it('refuses an image too narrow to split', async () => {
    const f = await file('narrow.ppm', new Uint8Array([...ascii('P6 1 1 255 '), 1, 2, 3]));
    expect(await reason(decodeImageFile(f, { half: 'B' }))).toBe('image is 1 px wide: too narrow to hold A and B halves');
  });
});

describe('unreadable files: one short line each', () => {
  it('missing, empty, a folder', async () => {
    expect(await reason(decodeImageFile(path.join(dir, 'missing.png')))).toBe('file not found');
    expect(await reason(decodeImageFile(await file('empty.png', '')))).toBe('file is empty (0 bytes)');
    await fsp.mkdir(path.join(dir, 'folder.png'));
    expect(await reason(decodeImageFile(path.join(dir, 'folder.png')))).toBe('it is a folder, not an image file');
  });

  it('text with an image extension, a truncated PNG, a truncated BMP', async () => {
    expect(await reason(decodeImageFile(await file('notes.jpg', 'not a picture\nsecond line\n')))).toBe('not an image, or a format this build cannot decode');
    const noise = Buffer.from(new Uint8Array(48 * 48 * 3).map((_, i) => (i * 7919) % 251));
    const png = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } })
      .png()
      .toBuffer();
    const cut = await file('cut.png', png.subarray(0, png.length >> 1));
    const msg = await reason(decodeImageFile(cut));
    expect(msg).toMatch(/^truncated or corrupt image data \(/);
    expect(msg).not.toContain(cut);
    const whole = bmp(4, 4, 24, []);
    expect(await reason(decodeImageFile(await file('cut.bmp', whole.subarray(0, whole.length - 5))))).toBe('BMP pixel data is truncated');
  });
});

describe('probeImageFile', () => {
  it('reads the oriented size from the header, for sharp formats and BMP alike', async () => {
    const f = path.join(dir, 'rot.jpg');
    await sharp(Buffer.alloc(6 * 4 * 3, 50), { raw: { width: 6, height: 4, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(f);
    expect(await probeImageFile(f)).toEqual({ width: 4, height: 6 });
    expect(await probeImageFile(await file('p.bmp', bmp(3, 2, 24, [])))).toEqual({ width: 3, height: 2 });
    expect(await reason(probeImageFile(await file('p.png', 'nope')))).toBe('not an image, or a format this build cannot decode');
  });
});

describe('decodeFailureReason: one line a user can act on', () => {
  it('names truncation from libvips messages, and from the bare "Unknown error" sharp gives when libvips lost its message', () => {
    expect(decodeFailureReason(new Error('VipsJpeg: Premature end of input file'), 'a.jpg')).toMatch(/^truncated or corrupt image data \(/);
    expect(decodeFailureReason(new Error('Unknown error'), 'a.png')).toBe('truncated or corrupt image data (the decoder gave no details)');
    expect(decodeFailureReason(new Error('Input file has an unsupported image format'), 'a.png')).toBe('not an image, or a format this build cannot decode');
  });
});
