import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../src/image/decode.ts';
import { PngRowWriter, readPngLayout, readPngRows, streamsRowByRow } from '../../src/image/png-stream.ts';

let root: string;
beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-png-stream-'));
});
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

/** Pseudo-random RGB with smooth and sharp parts, so every filter's predictions matter. */
function pattern(width: number, height: number, seed = 1): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const x = Math.floor(i / 3) % width;
    out[i] = i % 7 === 0 ? s >>> 24 : (x * 5 + Math.floor(i / (3 * width)) * 3 + (i % 3) * 60) & 255;
  }
  return out;
}

/** Write `rgb` with PngRowWriter, in bands of `band` rows. */
async function writeInBands(file: string, rgb: Uint8Array, width: number, height: number, band: number): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    const w = new PngRowWriter(width, height, async (b) => void (await fh.write(b)));
    for (let y = 0; y < height; y += band) await w.writeRows(rgb.subarray(y * width * 3, Math.min(height, y + band) * width * 3));
    await w.end();
  } finally {
    await fh.close();
  }
}

/** A gray PNG of `depth` bits a sample (1, 2, 4), each row filtered with Sub, built by hand. */
function grayPng(width: number, height: number, depth: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  const rowBytes = Math.ceil((width * depth) / 8);
  const raw = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let x = 0; x < width; x++) {
      const v = (x * 7 + y * 3) & ((1 << depth) - 1);
      row[Math.floor((x * depth) / 8)] |= v << (8 - depth - ((x * depth) % 8));
    }
    raw[y * (rowBytes + 1)] = 1;
    for (let i = rowBytes - 1; i >= 1; i--) row[i] = (row[i] - row[i - 1]) & 255;
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function readAll(file: string): Promise<Uint8Array> {
  const layout = (await readPngLayout(file))!;
  const rows: Uint8Array[] = [];
  for await (const r of readPngRows(file, layout)) rows.push(r);
  return Buffer.concat(rows);
}

describe('PngRowWriter', () => {
  it('writes a PNG that sharp (libpng) and pngjs decode to exactly the rows given, whatever the bands', async () => {
    for (const [width, height, band] of [
      [1, 1, 1],
      [37, 23, 5],
      [300, 129, 128],
    ] as const) {
      const rgb = pattern(width, height);
      const file = path.join(root, `w-${width}x${height}.png`);
      await writeInBands(file, rgb, width, height, band);
      const viaSharp = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      expect(viaSharp.info).toMatchObject({ width, height, channels: 3 });
      expect(Buffer.compare(viaSharp.data, Buffer.from(rgb))).toBe(0);
      const png = PNG.sync.read(await fsp.readFile(file));
      expect([png.width, png.height]).toEqual([width, height]);
      const fromPngjs = new Uint8Array(width * height * 3);
      for (let p = 0; p < width * height; p++) fromPngjs.set(png.data.subarray(p * 4, p * 4 + 3), p * 3);
      expect(Buffer.compare(Buffer.from(fromPngjs), Buffer.from(rgb))).toBe(0);
    }
  });

  it('refuses to end before every row is written, and rows beyond the height', async () => {
    const w = new PngRowWriter(4, 2, async () => {});
    await w.writeRows(new Uint8Array(12));
    await expect(w.end()).rejects.toThrow('1 of 2 rows written');
    await expect(w.writeRows(new Uint8Array(24))).rejects.toThrow('not whole rows within 2');
    w.destroy();
  });
});

describe('readPngRows', () => {
  it('gives the pixels libvips decodes, for every 8-bit colour type and filter sharp and pngjs write', async () => {
    const [width, height] = [61, 19];
    const rgba = new Uint8Array(width * height * 4);
    const rgb = pattern(width, height, 7);
    for (let p = 0; p < width * height; p++) rgba.set([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], (p * 13) & 255], p * 4);
    const files: string[] = [];
    const add = async (name: string, bytes: Uint8Array): Promise<void> => {
      files.push(path.join(root, name));
      await fsp.writeFile(files.at(-1)!, bytes);
    };
    const raw = (channels: 3 | 4) => sharp(channels === 3 ? rgb : rgba, { raw: { width, height, channels } });
    await add('rgb-adaptive.png', await raw(3).png({ adaptiveFiltering: true }).toBuffer());
    await add('rgba.png', await raw(4).png().toBuffer());
    await add('gray.png', await raw(3).toColourspace('b-w').png().toBuffer());
    await add('gray-alpha.png', await raw(4).toColourspace('b-w').png().toBuffer());
    await add('palette-4bit.png', await raw(3).png({ palette: true, colours: 16 }).toBuffer());
    await add('palette-8bit.png', await raw(3).png({ palette: true, colours: 200 }).toBuffer());
    for (const depth of [1, 2, 4]) await add(`gray-${depth}bit.png`, grayPng(width, height, depth));
    for (const filterType of [0, 1, 2, 3, 4]) {
      const png = new PNG({ width, height, filterType });
      png.data = Buffer.from(rgba);
      await add(`pngjs-filter-${filterType}.png`, PNG.sync.write(png, { filterType }));
    }
    const kinds = new Set<number>();
    for (const file of files) {
      const layout = (await readPngLayout(file))!;
      kinds.add(layout.colorType);
      expect(streamsRowByRow(layout), file).toBe(true);
      const expected = await decodeImageFile(file);
      expect(Buffer.compare(Buffer.from(await readAll(file)), Buffer.from(expected.data)), file).toBe(0);
    }
    expect([...kinds].sort()).toEqual([0, 2, 3, 4, 6]);
  });

  it('leaves to libvips the PNGs whose pixels it would change or that need the whole image', async () => {
    const interlaced = await sharp(pattern(8, 8), { raw: { width: 8, height: 8, channels: 3 } })
      .png({ progressive: true })
      .toBuffer();
    const sixteen = await sharp(pattern(8, 8), { raw: { width: 8, height: 8, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    for (const [name, bytes] of [
      ['interlaced.png', interlaced],
      ['16bit.png', sixteen],
    ] as const) {
      await fsp.writeFile(path.join(root, name), bytes);
      expect(streamsRowByRow((await readPngLayout(path.join(root, name)))!), name).toBe(false);
    }
    await fsp.writeFile(path.join(root, 'not.png'), 'not a png at all, just text that is long enough');
    expect(await readPngLayout(path.join(root, 'not.png'))).toBeUndefined();
  });

  it('says a file is truncated or corrupt instead of giving short or wrong rows', async () => {
    const file = path.join(root, 'whole.png');
    await writeInBands(file, pattern(40, 30), 40, 30, 30);
    const bytes = await fsp.readFile(file);
    await fsp.writeFile(path.join(root, 'cut.png'), bytes.subarray(0, bytes.length - 40));
    await expect(readAll(path.join(root, 'cut.png'))).rejects.toThrow(/truncated PNG/);
    const flipped = Buffer.from(bytes);
    flipped[80] ^= 0xff; // inside the IDAT data
    await fsp.writeFile(path.join(root, 'flipped.png'), flipped);
    await expect(readAll(path.join(root, 'flipped.png'))).rejects.toThrow(/^corrupt PNG: (the pixel data does not inflate|bad CRC in a IDAT chunk)/);
  });
});
