/**
 * The runtime's view of images: a source file prepared for the model (decoded, oriented, AB half,
 * resized in one libvips pipeline by src/image/decode.ts), the model's planar float layout, and
 * encoding of its outputs.
 */
import sharp from 'sharp';
import { type AbSide, decodeImageFile } from '../image/decode.ts';
import { type ImageFormat, encodeRgb as encodeImage } from '../image/encode.ts';
import { cropPlanarToRgb, fillPlanar, type RgbView } from './native-size.ts';

export type { AbSide };
export type OutputFormat = ImageFormat;

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

/**
 * Read `file`, apply its EXIF orientation, take the A or B half of an aligned AB image if asked,
 * resize to size×size (bicubic, like the reference's test-time resize) unless `size` is 'native',
 * and return 8-bit RGB (grayscale replicated, alpha dropped, 16-bit scaled, CMYK converted).
 * An unusable file rejects with an UnreadableImage (src/image/decode.ts) saying why in one line.
 */
export async function prepareImage(
  file: string,
  size: number | 'native',
  abSide?: AbSide,
  maxPixels?: number,
  header?: { width: number; height: number },
): Promise<PreparedImage> {
  const img = await decodeImageFile(file, { half: abSide, size: size === 'native' ? undefined : size, maxPixels, header });
  return { rgb: img.data, width: img.width, height: img.height, sourceWidth: img.sourceWidth, sourceHeight: img.sourceHeight };
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
export function encodeRgb(img: RgbView, format: OutputFormat, resizeTo?: { width: number; height: number }): Promise<Uint8Array> {
  return encodeImage({ width: img.width, height: img.height, data: img.rgb }, format, { resizeTo });
}
