/**
 * An image read top to bottom, a few rows at a time, for images too large to decode whole (tiled
 * inference, src/runtime/banded.ts). Two ways, chosen per file:
 * - PNGs that png-stream.ts decodes as libvips does: one pass over the file (readPngRows), linear
 *   in the image's size, holding two scanlines.
 * - Everything else libvips reads (JPEG, WebP, TIFF, other PNGs): one libvips decode per strip of
 *   rows (`extract`, sequential access). libvips reads these formats from the top, so each strip
 *   decodes every row above it again: the time grows with the square of the height, which is why
 *   strips are as tall as a quarter of the pixel budget allows (docs/infer.md has the numbers).
 * BMP and PPM/PGM (decoded in JS, whole) are not read this way, nor images with an EXIF orientation
 * (libvips turns the whole image before it can give a strip).
 */
import sharp from 'sharp';
import { type AbSide, decodeFailureReason, interleavedRgb, UnreadableImage } from './decode.ts';
import { type PngLayout, readPngLayout, readPngRows, streamsRowByRow } from './png-stream.ts';

/** Where the rows come from: the (oriented) image's size and the column range kept (an AB half). */
export interface BandSourcePlan {
  file: string;
  sourceWidth: number;
  sourceHeight: number;
  /** Kept columns: [left, left + width), all rows. */
  left: number;
  width: number;
  height: number;
  /** The PNG layout when png-stream.ts reads it; undefined: libvips strips. */
  png?: PngLayout;
  /** EXIF orientation (1: as stored); any other makes libvips turn the whole image for every strip. */
  orientation: number;
}

/** Oriented size and orientation from the header (no pixels decoded); undefined when libvips cannot read it. */
async function libvipsHeader(file: string): Promise<{ width: number; height: number; orientation: number } | undefined> {
  try {
    const meta = await sharp(file, { limitInputPixels: Number.MAX_SAFE_INTEGER }).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    return width && height ? { width, height, orientation: meta.orientation ?? 1 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Size and reader of `file` for band-by-band reading, `half` of an AB image if given; undefined
 * for the formats decoded in JS (BMP, PPM/PGM). Reads only headers.
 */
export async function planBandSource(file: string, half?: AbSide): Promise<BandSourcePlan | undefined> {
  const layout = await readPngLayout(file);
  const png = layout && streamsRowByRow(layout) ? layout : undefined;
  const size = png ? { width: png.width, height: png.height, orientation: 1 } : await libvipsHeader(file);
  if (!size) return undefined;
  const halfWidth = Math.floor(size.width / 2);
  if (half && halfWidth < 1) throw new UnreadableImage(`image is ${size.width} px wide: too narrow to hold A and B halves`);
  const left = half === 'B' ? halfWidth : 0;
  const width = half === 'A' ? halfWidth : size.width - left;
  return { file, sourceWidth: size.width, sourceHeight: size.height, left, width, height: size.height, png, orientation: size.orientation };
}

/** Rows of a planned source, in order, as interleaved RGB of the kept columns. */
export interface RowSource {
  next(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Open `plan` for reading; libvips sources decode `stripRows` rows per pass. */
export function openRowSource(plan: BandSourcePlan, stripRows: number): RowSource {
  const rows = plan.png ? pngRows(plan) : libvipsRows(plan, stripRows);
  return {
    next: async () => {
      try {
        const r = await rows.next();
        if (r.done) throw new UnreadableImage(`image has fewer rows than its header's ${plan.sourceHeight}`);
        return r.value;
      } catch (e) {
        if (e instanceof UnreadableImage) throw e;
        throw new UnreadableImage(decodeFailureReason(e, plan.file));
      }
    },
    close: async () => void (await rows.return(undefined)),
  };
}

async function* pngRows(plan: BandSourcePlan): AsyncGenerator<Uint8Array> {
  const full = plan.left === 0 && plan.width === plan.sourceWidth;
  for await (const row of readPngRows(plan.file, plan.png!)) yield full ? row : row.slice(plan.left * 3, (plan.left + plan.width) * 3);
}

/**
 * libvips's operation cache off while the strips are read: each strip is a new operation on the same
 * file, and with the cache on, the peak memory grew with the image (a 9000×9000 JPEG in strips of 416
 * rows: 572 MiB over the baseline with the cache, 160 MiB without; 6000×6000: 200 and 94 MiB).
 */
async function* libvipsRows(plan: BandSourcePlan, stripRows: number): AsyncGenerator<Uint8Array> {
  const before = sharp.cache();
  sharp.cache(false);
  try {
    yield* libvipsStrips(plan, stripRows);
  } finally {
    sharp.cache({ memory: before.memory.max, files: before.files.max, items: before.items.max });
  }
}

async function* libvipsStrips(plan: BandSourcePlan, stripRows: number): AsyncGenerator<Uint8Array> {
  const rowBytes = plan.width * 3;
  for (let top = 0; top < plan.sourceHeight; top += stripRows) {
    const height = Math.min(stripRows, plan.sourceHeight - top);
    // The header's size passed the band budget; libvips still stops at it if the header lies.
    const { data, info } = await sharp(plan.file, {
      failOn: 'error',
      limitInputPixels: plan.sourceWidth * plan.sourceHeight,
      sequentialRead: true,
      autoOrient: true,
    })
      .extract({ left: plan.left, top, width: plan.width, height })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const rgb = interleavedRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.channels, info.width * info.height);
    for (let r = 0; r < height; r++) yield rgb.slice(r * rowBytes, (r + 1) * rowBytes);
  }
}
