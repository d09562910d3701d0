/**
 * PNG written and read one row at a time, for images too large to hold whole (tiled inference of
 * aerial photos, docs/infer.md). Own code, because the libraries cannot do it:
 * - sharp (libvips) encodes from one buffer or pipeline holding the whole image; a raw input given
 *   in bands cannot be fed to it a band at a time.
 * - sharp gives no strips of one sequential decode either: its outputs are whole buffers, and
 *   `extract` of a band decodes a PNG from its first row again, so reading an image in bands that
 *   way costs time quadratic in its height (measured in docs/infer.md).
 * PNG is simple enough to do exactly: chunks with a CRC-32 (node:zlib's crc32), a zlib stream of
 * scanlines each prefixed by a filter byte. The writer uses the Paeth filter on every row (the
 * usual best for photographs); the reader undoes all five filters. The reader takes the 8-bit,
 * non-interlaced PNGs without a colour profile or EXIF orientation (what `streamsRowByRow` says),
 * whose pixels then equal libvips's decode; other PNGs go through libvips (band-source.ts).
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { crc32, createDeflate, createInflate, type Deflate } from 'node:zlib';

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** Compressed bytes gathered before they go out as one IDAT chunk. */
const IDAT_BYTES = 1 << 18;

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Writes an 8-bit RGB PNG of `width`×`height` through `write`, rows given in order in any number
 * of calls; memory holds one row of filtering and the deflate stream's window.
 */
export class PngRowWriter {
  private readonly deflate: Deflate;
  private readonly rowBytes: number;
  private prev: Uint8Array;
  private rows = 0;
  private compressed: Buffer[] = [];
  private compressedBytes = 0;
  private failure: Error | undefined;
  private started = false;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly write: (bytes: Uint8Array) => Promise<void>,
    level = 6,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 2 ** 31 - 1 || height > 2 ** 31 - 1)
      throw new Error(`PngRowWriter: bad size ${width}×${height}`);
    this.rowBytes = width * 3;
    this.prev = new Uint8Array(this.rowBytes);
    this.deflate = createDeflate({ level });
    this.deflate.on('data', (b: Buffer) => {
      this.compressed.push(b);
      this.compressedBytes += b.length;
    });
    this.deflate.on('error', (e: Error) => (this.failure = e));
  }

  private async header(): Promise<void> {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(this.width, 0);
    ihdr.writeUInt32BE(this.height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // truecolour; compression, filter method and interlace stay 0
    await this.write(Buffer.concat([SIGNATURE, chunk('IHDR', ihdr)]));
    this.started = true;
  }

  /** Append whole rows of interleaved RGB (a multiple of width × 3 bytes). */
  async writeRows(rgb: Uint8Array): Promise<void> {
    if (!this.started) await this.header();
    const n = rgb.length / this.rowBytes;
    if (!Number.isInteger(n) || this.rows + n > this.height) throw new Error(`PngRowWriter: ${rgb.length} bytes are not whole rows within ${this.height}`);
    const stride = this.rowBytes + 1;
    const filtered = Buffer.alloc(n * stride);
    for (let r = 0; r < n; r++) {
      const cur = rgb.subarray(r * this.rowBytes, (r + 1) * this.rowBytes);
      const o = r * stride;
      filtered[o] = 4; // Paeth
      for (let i = 0; i < this.rowBytes; i++) {
        const a = i >= 3 ? cur[i - 3] : 0;
        const c = i >= 3 ? this.prev[i - 3] : 0;
        filtered[o + 1 + i] = (cur[i] - paeth(a, this.prev[i], c)) & 255;
      }
      this.prev = cur;
    }
    // The previous row must outlive the caller's buffer.
    this.prev = this.prev.slice();
    this.rows += n;
    await new Promise<void>((resolve, reject) => this.deflate.write(filtered, (e) => (e ? reject(e) : resolve())));
    if (this.compressedBytes >= IDAT_BYTES) await this.flushIdat();
  }

  private async flushIdat(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.compressedBytes === 0) return;
    const data = Buffer.concat(this.compressed, this.compressedBytes);
    this.compressed = [];
    this.compressedBytes = 0;
    await this.write(chunk('IDAT', data));
  }

  /** Finish the stream; every row must have been written. */
  async end(): Promise<void> {
    if (this.rows !== this.height) throw new Error(`PngRowWriter: ${this.rows} of ${this.height} rows written`);
    await new Promise<void>((resolve, reject) => {
      this.deflate.once('end', resolve);
      this.deflate.once('error', reject);
      this.deflate.end();
    });
    await this.flushIdat();
    await this.write(chunk('IEND', new Uint8Array(0)));
  }

  /** Stop without finishing (the caller discards the file). */
  destroy(): void {
    this.deflate.destroy();
  }
}

/** What precedes a PNG's pixel data. */
export interface PngLayout {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** RGB triples of a palette image. */
  palette?: Uint8Array;
  /** Chunk types seen before the first IDAT. */
  chunks: Set<string>;
  /** File offset of the first IDAT chunk. */
  idatOffset: number;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** The chunks before the pixel data of `file`, or undefined when it is not a PNG; reads only headers. */
export async function readPngLayout(file: string): Promise<PngLayout | undefined> {
  const fh = await fsp.open(file, 'r');
  try {
    const head = Buffer.alloc(33);
    if ((await fh.read(head, 0, 33, 0)).bytesRead < 33 || Buffer.compare(head.subarray(0, 8), SIGNATURE) !== 0 || head.toString('latin1', 12, 16) !== 'IHDR')
      return undefined;
    const layout: PngLayout = {
      width: head.readUInt32BE(16),
      height: head.readUInt32BE(20),
      bitDepth: head[24],
      colorType: head[25],
      interlaced: head[28] !== 0,
      chunks: new Set(['IHDR']),
      idatOffset: -1,
    };
    let offset = 33;
    const h = Buffer.alloc(8);
    for (;;) {
      if ((await fh.read(h, 0, 8, offset)).bytesRead < 8) return layout;
      const length = h.readUInt32BE(0);
      const type = h.toString('latin1', 4, 8);
      if (type === 'IDAT') return { ...layout, idatOffset: offset };
      layout.chunks.add(type);
      if (type === 'PLTE' && length <= 768) {
        const plte = Buffer.alloc(length);
        await fh.read(plte, 0, length, offset + 8);
        layout.palette = plte;
      }
      offset += 12 + length;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Whether readPngRows decodes this PNG to the pixels libvips gives: 8 bits (or 1, 2, 4 for gray
 * and palette), not interlaced, no
 * colour profile (libvips would convert it to sRGB) and no EXIF (an orientation to apply).
 */
export function streamsRowByRow(l: PngLayout): boolean {
  const known = l.colorType in CHANNELS && (l.colorType !== 3 || l.palette !== undefined);
  const depthOk = l.bitDepth === 8 || (CHANNELS[l.colorType] === 1 && [1, 2, 4].includes(l.bitDepth));
  return known && depthOk && !l.interlaced && l.idatOffset > 0 && !l.chunks.has('iCCP') && !l.chunks.has('eXIf');
}

/** IDAT payloads from `offset` on, in pieces, each chunk's CRC checked; stops at IEND. */
async function* idatPayloads(fh: FileHandle, offset: number): AsyncGenerator<Buffer> {
  const piece = 1 << 16;
  const h = Buffer.alloc(8);
  for (;;) {
    if ((await fh.read(h, 0, 8, offset)).bytesRead < 8) throw new Error('truncated PNG: the file ends before IEND');
    const length = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (type === 'IEND') return;
    let crc = crc32(h.subarray(4, 8));
    for (let done = 0; done < length;) {
      const buf = Buffer.alloc(Math.min(piece, length - done));
      const n = (await fh.read(buf, 0, buf.length, offset + 8 + done)).bytesRead;
      if (n < buf.length) throw new Error(`truncated PNG: the file ends inside a ${type} chunk`);
      crc = crc32(buf, crc);
      done += n;
      if (type === 'IDAT') yield buf;
    }
    const tail = Buffer.alloc(4);
    if ((await fh.read(tail, 0, 4, offset + 8 + length)).bytesRead < 4) throw new Error('truncated PNG: the file ends before a CRC');
    if (tail.readUInt32BE(0) !== crc >>> 0) throw new Error(`corrupt PNG: bad CRC in a ${type} chunk`);
    offset += 12 + length;
  }
}

/** Undo the filter of one scanline in place (`cur` without its filter byte). */
function unfilter(filter: number, cur: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = cur.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) cur[i] = (cur[i] + cur[i - bpp]) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) cur[i] = (cur[i] + prev[i]) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) cur[i] = (cur[i] + (((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1)) & 255;
      return;
    case 4:
      for (let i = 0; i < n; i++) cur[i] = (cur[i] + paeth(i >= bpp ? cur[i - bpp] : 0, prev[i], i >= bpp ? prev[i - bpp] : 0)) & 255;
      return;
    default:
      throw new Error(`corrupt PNG: unknown filter type ${filter}`);
  }
}

/** Sample x of a scanline packed at 1, 2 or 4 bits (first sample in the high bits). */
function packed(line: Uint8Array, x: number, depth: number): number {
  const perByte = 8 / depth;
  return (line[Math.floor(x / perByte)] >> ((perByte - 1 - (x % perByte)) * depth)) & ((1 << depth) - 1);
}

/** One unfiltered scanline as interleaved RGB: gray replicated (low depths scaled to 0–255), alpha dropped, palette looked up. */
function toRgb(l: PngLayout, line: Uint8Array): Uint8Array {
  const ch = CHANNELS[l.colorType];
  if (l.colorType === 2) return line;
  const out = new Uint8Array(l.width * 3);
  const grayScale = 255 / ((1 << l.bitDepth) - 1);
  for (let x = 0; x < l.width; x++) {
    if (l.bitDepth < 8 && l.colorType === 0) out.fill(packed(line, x, l.bitDepth) * grayScale, x * 3, x * 3 + 3);
    else if (l.colorType === 3) {
      const index = l.bitDepth < 8 ? packed(line, x, l.bitDepth) : line[x];
      const p = index * 3;
      if (p + 2 >= l.palette!.length) throw new Error(`corrupt PNG: palette index ${index} beyond the palette`);
      out.set(l.palette!.subarray(p, p + 3), x * 3);
    } else if (l.colorType === 6) {
      out[x * 3] = line[x * 4];
      out[x * 3 + 1] = line[x * 4 + 1];
      out[x * 3 + 2] = line[x * 4 + 2];
    } else out.fill(line[x * ch], x * 3, x * 3 + 3);
  }
  return out;
}

/**
 * The rows of a PNG that streamsRowByRow accepts, top to bottom, as interleaved RGB: one pass over
 * the file, holding one compressed piece, the inflate window and two scanlines at a time.
 */
export async function* readPngRows(file: string, l: PngLayout): AsyncGenerator<Uint8Array> {
  if (!streamsRowByRow(l)) throw new Error('readPngRows: this PNG needs libvips');
  const fh = await fsp.open(file, 'r');
  const bpp = Math.max(1, (CHANNELS[l.colorType] * l.bitDepth) / 8);
  const stride = Math.ceil((l.width * CHANNELS[l.colorType] * l.bitDepth) / 8) + 1;
  const inflated = pipeline(Readable.from(idatPayloads(fh, l.idatOffset)), createInflate(), () => {});
  try {
    yield* scanlines(inflated as AsyncIterable<Buffer>, l, stride, bpp);
  } catch (e) {
    // zlib's own words ("invalid distance too far back") for data that does not inflate.
    const zlibError = (e as NodeJS.ErrnoException).code?.startsWith('Z_');
    throw zlibError ? new Error(`corrupt PNG: the pixel data does not inflate (${(e as Error).message})`) : e;
  } finally {
    inflated.destroy();
    await fh.close();
  }
}

/** Cut the inflated stream into scanlines, unfilter them, and give them as RGB rows. */
async function* scanlines(inflated: AsyncIterable<Buffer>, l: PngLayout, stride: number, bpp: number): AsyncGenerator<Uint8Array> {
  let line = new Uint8Array(stride);
  let prev = new Uint8Array(stride - 1);
  let filled = 0;
  let rows = 0;
  for await (const data of inflated) {
    for (let at = 0; at < data.length;) {
      const n = Math.min(stride - filled, data.length - at);
      line.set(data.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled < stride) break;
      const cur = line.subarray(1);
      unfilter(line[0], cur, prev, bpp);
      yield toRgb(l, cur);
      // Data after the last row (some encoders pad) is not read.
      if (++rows === l.height) return;
      prev = cur;
      line = new Uint8Array(stride);
      filled = 0;
    }
  }
  throw new Error(`truncated PNG: ${rows} of ${l.height} rows`);
}
