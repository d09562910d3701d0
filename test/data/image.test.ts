import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RgbImage,
  IMAGE_EXTENSIONS,
  fromUnitRange,
  listImages,
  probeImage,
  readImage,
  readLabelImage,
  toUnitRange,
  writeImage,
  writeLabelImage,
} from '../../src/data/image.ts';
import { UserError } from '../../src/util/errors.ts';
import { ascii, bmp } from '../image/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-image-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const at = (img: RgbImage, x: number, y: number): number[] => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

/** A 4×2 RGB image whose pixels are all different, so orientation changes are visible. */
function distinctPixels(): RgbImage {
  const data = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < 8; i++) data.set([i * 30, 255 - i * 30, i % 2 ? 200 : 10], i * 3);
  return { width: 4, height: 2, data };
}

async function expectOneLineUserError(p: Promise<unknown>, file: string, reason: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg).toContain(file);
  expect(msg).toMatch(reason);
  expect(msg).not.toContain('\n');
}

describe('readImage', () => {
  it('replicates a grayscale PNG into three equal channels', async () => {
    const f = path.join(dir, 'gray.png');
    await sharp(Buffer.from([0, 50, 100, 250]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(f);
    expect((await sharp(f).metadata()).channels).toBe(1);
    const img = await readImage(f);
    expect(img.width).toBe(2);
    expect(img.height).toBe(2);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 50, 50, 50, 100, 100, 100, 250, 250, 250]);
  });

  it('drops alpha without compositing (a fully transparent pixel keeps its colour, like PIL convert("RGB"))', async () => {
    const f = path.join(dir, 'rgba.png');
    await sharp(Buffer.from([10, 20, 30, 0, 200, 100, 50, 255]), { raw: { width: 2, height: 1, channels: 4 } })
      .png()
      .toFile(f);
    const img = await readImage(f);
    expect(Array.from(img.data)).toEqual([10, 20, 30, 200, 100, 50]);
  });

  it('scales a 16-bit PNG to 8 bits', async () => {
    const f = path.join(dir, 'deep.png');
    const v = new Uint16Array([0, 0, 0, 65535, 32896, 257]);
    await sharp(v, { raw: { width: 2, height: 1, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toFile(f);
    expect((await sharp(f).metadata()).depth).toBe('ushort');
    const img = await readImage(f);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 128, 1]);
  });

  it('expands a palette PNG to RGB', async () => {
    const f = path.join(dir, 'palette.png');
    const raw = Buffer.from([255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]);
    await sharp(raw, { raw: { width: 2, height: 2, channels: 3 } })
      .png({ palette: true, colours: 4, dither: 0 })
      .toFile(f);
    expect((await sharp(f).metadata()).isPalette).toBe(true);
    const img = await readImage(f);
    expect(at(img, 0, 0)).toEqual([255, 0, 0]);
    expect(at(img, 1, 0)).toEqual([0, 0, 255]);
    expect(at(img, 0, 1)).toEqual([0, 0, 255]);
    expect(at(img, 1, 1)).toEqual([255, 0, 0]);
  });

  it('applies the EXIF orientation of a JPEG (6 = rotate 90° clockwise)', async () => {
    const f = path.join(dir, 'rotated.jpg');
    // Big flat blocks so JPEG loss does not blur the check: left half red, right half blue.
    const w = 32;
    const h = 16;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(x < w / 2 ? [230, 20, 20] : [20, 20, 230], (y * w + x) * 3);
    await sharp(data, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toFile(f);
    const img = await readImage(f);
    expect([img.width, img.height]).toEqual([16, 32]);
    // Rotating clockwise puts the old left (red) at the top and the old right (blue) at the bottom.
    const top = at(img, 8, 4);
    const bottom = at(img, 8, 28);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const f = path.join(dir, 'cmyk.jpg');
    const red = new Uint8Array(16 * 16 * 3);
    for (let i = 0; i < 256; i++) red.set([220, 30, 30], i * 3);
    await sharp(red, { raw: { width: 16, height: 16, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg({ quality: 95 })
      .toFile(f);
    expect((await sharp(f).metadata()).space).toBe('cmyk');
    const img = await readImage(f);
    expect(img.data.length).toBe(16 * 16 * 3);
    const [r, g, b] = at(img, 8, 8);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('resizes to exactly the requested size, ignoring the aspect ratio', async () => {
    const f = path.join(dir, 'wide.png');
    await writeImage(f, distinctPixels());
    const img = await readImage(f, { resize: { width: 3, height: 5, kernel: 'nearest' } });
    expect([img.width, img.height, img.data.length]).toEqual([3, 5, 45]);
    const flat = await readImage(f, { resize: { width: 8, height: 8 } });
    expect([flat.width, flat.height]).toEqual([8, 8]);
  });

  it('reports a missing file as a one-line UserError naming it', async () => {
    const f = path.join(dir, 'missing.png');
    await expectOneLineUserError(readImage(f), f, /not found/);
  });

  it('reports an empty (0-byte) file', async () => {
    const f = path.join(dir, 'empty.png');
    await fsp.writeFile(f, '');
    await expectOneLineUserError(readImage(f), f, /empty/);
  });

  it('reports a truncated PNG and a truncated JPEG', async () => {
    const noise = new Uint8Array(48 * 48 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
    const png = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } })
      .png()
      .toBuffer();
    const jpg = await sharp(noise, { raw: { width: 48, height: 48, channels: 3 } })
      .jpeg()
      .toBuffer();
    const fp = path.join(dir, 'cut.png');
    const fj = path.join(dir, 'cut.jpg');
    await fsp.writeFile(fp, png.subarray(0, png.length >> 1));
    await fsp.writeFile(fj, jpg.subarray(0, jpg.length >> 1));
    await expectOneLineUserError(readImage(fp), fp, /truncated or corrupt/);
    await expectOneLineUserError(readImage(fj), fj, /truncated or corrupt/);
  });

  it('reports a text file with an image extension as not an image', async () => {
    const f = path.join(dir, 'notes.png');
    await fsp.writeFile(f, 'this is not a picture\nsecond line\n');
    await expectOneLineUserError(readImage(f), f, /not an image/);
  });

  it('reports a folder given as a file', async () => {
    const f = path.join(dir, 'folder.png');
    await fsp.mkdir(f, { recursive: true });
    await expectOneLineUserError(readImage(f), f, /folder/);
  });
});

describe('readImage on BMP and PPM files', () => {
  it('decodes them (sharp cannot) and reports broken ones as UserErrors naming the file', async () => {
    const fb = path.join(dir, 'x.bmp');
    await fsp.writeFile(fb, bmp(2, 1, 24, [[0, 0, 255, 255, 0, 0]]));
    expect(Array.from((await readImage(fb)).data)).toEqual([255, 0, 0, 0, 0, 255]);
    expect(await probeImage(fb)).toEqual({ width: 2, height: 1 });
    const resized = await readImage(fb, { resize: { width: 4, height: 2, kernel: 'nearest' } });
    expect([resized.width, resized.height]).toEqual([4, 2]);
    const fp = path.join(dir, 'y.ppm');
    await fsp.writeFile(fp, new Uint8Array([...ascii('P6\n1 1\n255\n'), 9, 8]));
    const err = await readImage(fp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`^Cannot read image ${fp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: PNM pixel data is truncated$`));
  });
});

describe('writeImage', () => {
  it('round-trips RGB losslessly through PNG and leaves no temporary files', async () => {
    const sub = path.join(dir, 'write');
    const f = path.join(sub, 'nested', 'out.png');
    const img = distinctPixels();
    await writeImage(f, img);
    const back = await readImage(f);
    expect(back).toEqual({ width: 4, height: 2, data: img.data });
    expect(await fsp.readdir(path.dirname(f))).toEqual(['out.png']);
  });

  it('picks the format from the extension unless one is given', async () => {
    const img = distinctPixels();
    await writeImage(path.join(dir, 'a.jpg'), img);
    await writeImage(path.join(dir, 'a.webp'), img);
    await writeImage(path.join(dir, 'forced.png'), img, 'jpg');
    expect((await sharp(path.join(dir, 'a.jpg')).metadata()).format).toBe('jpeg');
    expect((await sharp(path.join(dir, 'a.webp')).metadata()).format).toBe('webp');
    expect((await sharp(path.join(dir, 'forced.png')).metadata()).format).toBe('jpeg');
  });

  it('rejects an unknown extension with a UserError', async () => {
    await expect(writeImage(path.join(dir, 'x.gif'), distinctPixels())).rejects.toThrow(UserError);
  });
});

describe('label images', () => {
  it('write as 8-bit single-channel PNG and read back exactly', async () => {
    const f = path.join(dir, 'labels.png');
    const data = new Uint8Array([0, 7, 26, 33, 255, 1]);
    await writeLabelImage(f, { width: 3, height: 2, data });
    const meta = await sharp(f).metadata();
    expect([meta.channels, meta.depth]).toEqual([1, 'uchar']);
    expect(await readLabelImage(f)).toEqual({ width: 3, height: 2, data });
  });

  it('accept 16-bit gray ids and RGB with equal channels', async () => {
    const f16 = path.join(dir, 'labels16.png');
    await sharp(new Uint16Array([7, 8, 26, 0]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(f16);
    expect(Array.from((await readLabelImage(f16)).data)).toEqual([7, 8, 26, 0]);
    const frgb = path.join(dir, 'labels-rgb.png');
    await sharp(Buffer.from([11, 11, 11, 23, 23, 23]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toFile(frgb);
    expect(Array.from((await readLabelImage(frgb)).data)).toEqual([11, 23]);
  });

  it('reject a colour label rendering and 16-bit values above 255', async () => {
    const fc = path.join(dir, 'labels-color.png');
    await sharp(Buffer.from([128, 64, 128, 70, 70, 70]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toFile(fc);
    await expectOneLineUserError(readLabelImage(fc), fc, /colour image/);
    const fbig = path.join(dir, 'labels-big.png');
    await sharp(new Uint16Array([1, 300]), { raw: { width: 2, height: 1, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(fbig);
    await expectOneLineUserError(readLabelImage(fbig), fbig, /300 above 255/);
  });

  it('report unreadable files like readImage', async () => {
    const f = path.join(dir, 'labels-empty.png');
    await fsp.writeFile(f, '');
    await expectOneLineUserError(readLabelImage(f), f, /empty/);
  });
});

describe('listImages', () => {
  it('lists image files case-insensitively, sorted by code point, skipping hidden files and others', async () => {
    const root = path.join(dir, 'list');
    for (const f of ['b.PNG', 'a.jpg', 'Z.jpeg', 'c.txt', '.hidden.png', 'sub/d.webp', 'sub/deeper/e.TIF', 'f.bmp', 'g.ppm', 'h.tiff']) {
      await fsp.mkdir(path.dirname(path.join(root, f)), { recursive: true });
      await fsp.writeFile(path.join(root, f), 'x');
    }
    expect(await listImages(root)).toEqual(['Z.jpeg', 'a.jpg', 'b.PNG', 'f.bmp', 'g.ppm', 'h.tiff']);
    expect(await listImages(root, { recursive: true })).toEqual(['Z.jpeg', 'a.jpg', 'b.PNG', 'f.bmp', 'g.ppm', 'h.tiff', 'sub/d.webp', 'sub/deeper/e.TIF']);
  });

  it('says which folder is missing', async () => {
    const f = path.join(dir, 'nope');
    await expectOneLineUserError(listImages(f), f, /does not exist/);
  });

  it('knows the reference extensions plus webp', () => {
    expect([...IMAGE_EXTENSIONS].sort()).toEqual(['.bmp', '.jpeg', '.jpg', '.png', '.ppm', '.tif', '.tiff', '.webp']);
  });
});

describe('unit range conversion', () => {
  it('maps 0, 127.5 and 255 to −1, 0 and 1 (x/127.5 − 1)', () => {
    const x = toUnitRange({ width: 1, height: 1, data: new Uint8Array([0, 255, 51]) });
    expect(x[0]).toBe(-1);
    expect(x[1]).toBe(1);
    expect(x[2]).toBeCloseTo(51 / 127.5 - 1, 6);
  });

  it('round-trips every byte value exactly', () => {
    const data = new Uint8Array(256 * 3);
    for (let i = 0; i < data.length; i++) data[i] = i % 256;
    const img = { width: 256, height: 1, data };
    expect(fromUnitRange(toUnitRange(img), 256, 1).data).toEqual(data);
  });

  it('rounds (the reference truncates) and clamps out-of-range and NaN values', () => {
    // (x+1)/2·255 for x = 0 is 127.5 → 128 here (the reference's astype(uint8) gives 127).
    const img = fromUnitRange(new Float32Array([0, -1.5, 1.5, Number.NaN, 0.999, -0.999]), 2, 1);
    expect(Array.from(img.data)).toEqual([128, 0, 255, 0, 255, 0]);
  });

  it('rejects a length that does not match the size', () => {
    expect(() => fromUnitRange(new Float32Array(5), 1, 2)).toThrow();
  });
});
