/**
 * Decode-and-resize straight to the model's input, and encode its output, each in one libvips
 * pipeline (sharp). One pipeline per image means JPEG shrink-on-load and streaming for huge inputs,
 * and no full-resolution RGB copy in JS memory.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { errorMessage } from '../util/errors.ts';
import { describeFsError } from '../util/paths.ts';
import { cropPlanarToRgb, fillPlanar, type RgbView } from './native-size.ts';

export type AbSide = 'A' | 'B';
export type OutputFormat = 'png' | 'jpg' | 'webp';

/** A source image prepared for the model: RGB at the model's side (or native), plus the size to restore with --keep-size. */
export interface PreparedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Size of the (oriented, AB-half) source region. */
  sourceWidth: number;
  sourceHeight: number;
}

/**
 * Set libvips's threads per operation; returns the previous value. infer runs one thread per
 * decode/encode: it already runs several at once on libuv's pool, and more threads would only take
 * cores from onnxruntime's intra-op threads.
 */
export function setVipsThreads(n: number): number {
  const before = sharp.concurrency();
  sharp.concurrency(n);
  return before;
}

/** Why a file cannot be used, as one short line. */
export class UnreadableImage extends Error {}

function reason(e: unknown): string {
  const msg = errorMessage(e)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
  if (/unsupported image format/i.test(msg)) return 'not an image, or a format this build cannot decode';
  if (/premature end|truncated|read error|not enough data|unexpected end|corrupt/i.test(msg)) return `truncated or corrupt image data (${msg})`;
  return msg;
}

/**
 * Read `file`, apply its EXIF orientation, take the A or B half of an aligned AB image if asked,
 * resize to size×size (bicubic, like the reference's test-time resize) unless `size` is 'native',
 * and return 8-bit RGB (grayscale replicated, alpha dropped, 16-bit scaled, CMYK converted).
 */
export async function prepareImage(file: string, size: number | 'native', abSide?: AbSide): Promise<PreparedImage> {
  const st = await fsp.stat(file).catch((e: unknown) => {
    throw new UnreadableImage(describeFsError(e));
  });
  if (st.size === 0) throw new UnreadableImage('file is empty (0 bytes)');
  // libvips would call an unreadable file "not a known format"; say why it cannot be read.
  await fsp.access(file, fsConstants.R_OK).catch((e: unknown) => {
    throw new UnreadableImage(describeFsError(e));
  });
  // failOn 'error' rejects truncated pixel data; limitInputPixels off because huge scans are legitimate inputs.
  const open = (): Sharp => sharp(file, { failOn: 'error', limitInputPixels: false, autoOrient: true });
  try {
    const meta = await open().metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.height;
    if (!width || !height) throw new UnreadableImage('image has no size');
    let pipeline = open();
    let sourceWidth = width;
    if (abSide) {
      // The reference splits AB at w/2: A = [0, floor(w/2)), B = the rest.
      const half = Math.floor(width / 2);
      if (half < 1) throw new UnreadableImage(`image is ${width} px wide: too narrow to hold A and B halves`);
      const left = abSide === 'A' ? 0 : half;
      sourceWidth = abSide === 'A' ? half : width - half;
      pipeline = pipeline.extract({ left, top: 0, width: sourceWidth, height });
    }
    if (size !== 'native') pipeline = pipeline.resize(size, size, { fit: 'fill', kernel: 'cubic' });
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? new Uint8Array(data.buffer, data.byteOffset, data.length) : toRgb(data, info.channels, info.width * info.height);
    return { rgb, width: info.width, height: info.height, sourceWidth, sourceHeight: height };
  } catch (e) {
    if (e instanceof UnreadableImage) throw e;
    throw new UnreadableImage(reason(e));
  }
}

function toRgb(data: Uint8Array, channels: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + (channels >= 3 ? c : 0)]!;
  }
  return out;
}

/** HWC uint8 RGB → CHW float in [−1, 1] (x/127.5 − 1), written into `out` at `offset`. */
export function rgbToPlanarUnit(rgb: Uint8Array, pixels: number, out: Float32Array, offset: number): void {
  fillPlanar({ rgb, width: pixels, height: 1 }, { left: 0, top: 0 }, { x: 0, y: 0, width: pixels, height: 1 }, out, offset);
}

/**
 * CHW float in [−1, 1] → HWC uint8 via (x + 1)/2·255, rounded and clamped (NaN → 0), as
 * src/data/image.ts's fromUnitRange. One output channel is replicated to gray RGB.
 */
export function planarUnitToRgb(data: Float32Array, offset: number, channels: number, pixels: number): Uint8Array {
  return cropPlanarToRgb(data, offset, channels, pixels, 1, { x: 0, y: 0, width: pixels, height: 1 });
}

/** Encode size×size RGB, resized to width×height first if they differ. */
export function encodeOutput(rgb: Uint8Array, size: number, format: OutputFormat, resizeTo?: { width: number; height: number }): Promise<Uint8Array> {
  return encodeRgb({ rgb, width: size, height: size }, format, resizeTo);
}

/** Encode RGB of any size, resized to `resizeTo` first if given and different. */
export async function encodeRgb(img: RgbView, format: OutputFormat, resizeTo?: { width: number; height: number }): Promise<Uint8Array> {
  let s = sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (resizeTo && (resizeTo.width !== img.width || resizeTo.height !== img.height))
    s = s.resize(resizeTo.width, resizeTo.height, { fit: 'fill', kernel: 'cubic' });
  const buf =
    format === 'png'
      ? await s.png().toBuffer()
      : format === 'jpg'
        ? await s.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()
        : await s.webp({ quality: 95 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
