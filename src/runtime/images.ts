/**
 * Decode-and-resize straight to the model's input, and encode its output, each in one libvips
 * pipeline (sharp). One pipeline per image means JPEG shrink-on-load and streaming for huge inputs,
 * and no full-resolution RGB copy in JS memory.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { errorMessage } from '../util/errors.ts';
import { describeFsError } from '../util/paths.ts';

export type AbSide = 'A' | 'B';
export type OutputFormat = 'png' | 'jpg' | 'webp';

/** A source image prepared for the model: size×size RGB, plus the size to restore with --keep-size. */
export interface PreparedImage {
  rgb: Uint8Array;
  size: number;
  /** Size of the (oriented, AB-half) source region. */
  sourceWidth: number;
  sourceHeight: number;
}

/** Why a file cannot be used, as one short line. */
export class UnreadableImage extends Error {}

function reason(e: unknown): string {
  const msg = errorMessage(e).split('\n').map((s) => s.trim()).filter(Boolean).join('; ');
  if (/unsupported image format/i.test(msg)) return 'not an image, or a format this build cannot decode';
  if (/premature end|truncated|read error|not enough data|unexpected end|corrupt/i.test(msg)) return `truncated or corrupt image data (${msg})`;
  return msg;
}

/**
 * Read `file`, apply its EXIF orientation, take the A or B half of an aligned AB image if asked,
 * resize to size×size (bicubic, like the reference's test-time resize) and return 8-bit RGB
 * (grayscale replicated, alpha dropped, 16-bit scaled, CMYK converted).
 */
export async function prepareImage(file: string, size: number, abSide?: AbSide): Promise<PreparedImage> {
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
    const { data, info } = await pipeline
      .resize(size, size, { fit: 'fill', kernel: 'cubic' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? new Uint8Array(data.buffer, data.byteOffset, data.length) : toRgb(data, info.channels, size * size);
    return { rgb, size, sourceWidth, sourceHeight: height };
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
  const g = offset + pixels;
  const b = offset + 2 * pixels;
  for (let p = 0, i = 0; p < pixels; p++, i += 3) {
    out[offset + p] = rgb[i]! / 127.5 - 1;
    out[g + p] = rgb[i + 1]! / 127.5 - 1;
    out[b + p] = rgb[i + 2]! / 127.5 - 1;
  }
}

/**
 * CHW float in [−1, 1] → HWC uint8 via (x + 1)/2·255, rounded and clamped (NaN → 0), as
 * src/data/image.ts's fromUnitRange. One output channel is replicated to gray RGB.
 */
export function planarUnitToRgb(data: Float32Array, offset: number, channels: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let c = 0; c < 3; c++) {
    const src = offset + (channels === 1 ? 0 : c) * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = Math.round((data[src + p]! + 1) * 127.5);
      out[p * 3 + c] = v >= 255 ? 255 : v > 0 ? v : 0;
    }
  }
  return out;
}

/** Encode size×size RGB, resized to width×height first if they differ. */
export async function encodeOutput(rgb: Uint8Array, size: number, format: OutputFormat, resizeTo?: { width: number; height: number }): Promise<Uint8Array> {
  let s = sharp(rgb, { raw: { width: size, height: size, channels: 3 } });
  if (resizeTo && (resizeTo.width !== size || resizeTo.height !== size)) s = s.resize(resizeTo.width, resizeTo.height, { fit: 'fill', kernel: 'cubic' });
  const buf = format === 'png' ? await s.png().toBuffer() : format === 'jpg' ? await s.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer() : await s.webp({ quality: 95 }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
