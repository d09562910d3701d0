/**
 * The one image decoder of the project, shared by the data loaders (training, scoring) and the
 * runtime (infer, serve): any file the reference loaders accept becomes interleaved 8-bit RGB, the
 * equivalent of PIL's `Image.open(f).convert('RGB')`. PNG, JPEG, WebP, TIFF (and whatever else the
 * bundled libvips reads) go through sharp; BMP and PPM/PGM, which that libvips does not read, are
 * decoded in JS (bmp-pnm.ts). No TensorFlow.js here: the runtime must never load it.
 *
 * Failures are an UnreadableImage carrying one short line; each caller words it for its users.
 *
 * Every decode is held to one pixel budget (pixelBudget(), `--max-pixels`): the dimensions are read
 * from the header first and an image above the budget is refused before any pixel is decoded, and
 * libvips is given the same limit (limitInputPixels) in case a header lies.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import sharp, { type Sharp } from 'sharp';
import { errorMessage } from '../util/errors.ts';
import { describeFsError } from '../util/paths.ts';
import { bmpPnmSize, decodeBmp, decodePnm, looksLikeBmp, looksLikePnm } from './bmp-pnm.ts';

/** Interleaved RGB, 3 bytes per pixel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One byte per pixel (label ids, masks). */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The left (A) or right (B) half of an aligned AB image. */
export type AbSide = 'A' | 'B';

/** Why a file cannot be used, as one short line (no file name: the caller adds it). */
export class UnreadableImage extends Error {}

/**
 * Memory one decoded pixel may cost along the way, in bytes: the decoded RGB (3) and its copy in JS
 * (3), the model's float input and output (12 + 12), and a generator's widest activations at native
 * size (64 channels of float at half resolution: 64) leave headroom under 256 for libvips's own
 * buffers and a second image being decoded ahead.
 */
const BYTES_PER_PIXEL = 256;

/** Default pixel budget: the machine's memory over 256 bytes a pixel (100.7 Mpx with 24 GiB, 33.6 Mpx with 8 GiB). */
export function defaultMaxPixels(totalMemory = os.totalmem()): number {
  return Math.floor(totalMemory / BYTES_PER_PIXEL);
}

let budget: number | undefined;

/** The pixel budget every decode is held to: `--max-pixels` when a command set it, else the default. */
export function pixelBudget(): number {
  return budget ?? defaultMaxPixels();
}

/** Set the process's pixel budget (a command's `--max-pixels`); undefined restores the default. */
export function setPixelBudget(maxPixels: number | undefined): void {
  if (maxPixels !== undefined && !(Number.isInteger(maxPixels) && maxPixels > 0)) throw new Error(`setPixelBudget: ${maxPixels} is not a positive integer`);
  budget = maxPixels;
}

/** An image whose header declares more pixels than the budget. */
class ImageTooLarge extends UnreadableImage {}

export function megapixels(n: number): string {
  return `${(n / 1e6).toFixed(1)} Mpx`;
}

/** Refuse width×height over `maxPixels`, saying what to do. */
export function checkPixelBudget(width: number, height: number, maxPixels = pixelBudget()): void {
  if (width * height <= maxPixels) return;
  throw new ImageTooLarge(
    `image is ${width}×${height} (${megapixels(width * height)}), over the ${megapixels(maxPixels)} decode budget: raise --max-pixels if the machine has the memory (about ${BYTES_PER_PIXEL} bytes a pixel), or shrink the image`,
  );
}

export interface DecodeOptions {
  /** Keep only this half: the reference splits AB at w/2, A = [0, floor(w/2)), B = the rest. */
  half?: AbSide;
  /** Resize to size×size (bicubic, no aspect kept) in the decoding pipeline. */
  size?: number;
  /** Refuse images with more pixels than this (default: pixelBudget()). */
  maxPixels?: number;
  /** The oriented size, when the caller already read it from the header (not read again then). */
  header?: { width: number; height: number };
}

/** Decoded RGB plus the size of the (oriented, AB-half) source region before any resize. */
export interface DecodedImage extends RgbImage {
  sourceWidth: number;
  sourceHeight: number;
}

/** Turn sharp/libvips messages into a short reason (they can span lines and repeat the path). */
export function decodeFailureReason(e: unknown, file: string): string {
  const msg = errorMessage(e)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ')
    .split(file)
    .join('')
    .replace(/:\s*$/, '');
  if (/unsupported image format/i.test(msg)) return 'not an image, or a format this build cannot decode';
  if (/premature end|truncated|read error|not enough data|unexpected end|corrupt/i.test(msg)) return `truncated or corrupt image data (${msg})`;
  // libvips keeps one error buffer for all its threads: when several images decode at once, a failed
  // decode can find its message taken by another and sharp reports only "Unknown error". The format
  // was recognised (an unknown one fails earlier, as above), so the data is what broke.
  if (msg === '' || /^unknown error$/i.test(msg)) return 'truncated or corrupt image data (the decoder gave no details)';
  return msg;
}

/**
 * Fail early, with a precise reason, for the cases libvips reports vaguely ("not a known format"
 * for a missing, empty, unreadable file or a folder).
 */
export async function checkReadableImage(file: string): Promise<void> {
  const st = await fsp.stat(file).catch((e: unknown) => {
    throw new UnreadableImage((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : describeFsError(e));
  });
  if (st.isDirectory()) throw new UnreadableImage('it is a folder, not an image file');
  if (st.size === 0) throw new UnreadableImage('file is empty (0 bytes)');
  await fsp.access(file, fsConstants.R_OK).catch((e: unknown) => {
    throw new UnreadableImage(describeFsError(e));
  });
}

/** BMP or PPM/PGM decoded in JS (after its header passes the budget), or undefined when the header says neither (sharp's job then). */
async function decodeInJs(file: string, maxPixels: number): Promise<RgbImage | undefined> {
  // PPM/PGM headers may carry comments: 4 KiB holds any sensible one; a size not found there is refused
  // rather than decoded unchecked.
  const head = new Uint8Array(4096);
  const fh = await fsp.open(file, 'r');
  let n: number;
  try {
    n = (await fh.read(head, 0, head.length, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  const decode = looksLikeBmp(head) ? decodeBmp : looksLikePnm(head) ? decodePnm : undefined;
  if (!decode) return undefined;
  const size = bmpPnmSize(head.subarray(0, n));
  if (!size) throw new UnreadableImage(`no image size in the first ${head.length} bytes of this BMP/PPM/PGM header (truncated, or comments too long)`);
  checkPixelBudget(size.width, size.height, maxPixels);
  try {
    return decode(await fsp.readFile(file));
  } catch (e) {
    throw new UnreadableImage(errorMessage(e));
  }
}

/**
 * Width and height after EXIF orientation, from the header. metadata() decodes no pixels, so it may
 * see any size (libvips would otherwise refuse before telling us the dimensions); the budget is
 * then checked on what it returns.
 */
async function orientedSize(file: string): Promise<{ width: number; height: number }> {
  const meta = await sharp(file, { limitInputPixels: Number.MAX_SAFE_INTEGER }).metadata();
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new UnreadableImage('image has no size');
  return { width, height };
}

/** Gray (1–2 channels) replicated to RGB, a 4th channel dropped; 3 channels returned as they are. */
export function interleavedRgb(data: Uint8Array, channels: number, pixels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + (channels >= 3 ? c : 0)];
  }
  return out;
}

/**
 * Width and height (after EXIF orientation) from the file header, without decoding pixels where
 * the format allows; truncated pixel data is only found by decodeImageFile.
 */
export async function probeImageFile(file: string): Promise<{ width: number; height: number }> {
  await checkReadableImage(file);
  const simple = await decodeInJs(file, pixelBudget());
  if (simple) return { width: simple.width, height: simple.height };
  return headerSize(file);
}

/** The oriented size from the header, failures worded as an UnreadableImage. */
async function headerSize(file: string): Promise<{ width: number; height: number }> {
  try {
    return await orientedSize(file);
  } catch (e) {
    if (e instanceof UnreadableImage) throw e;
    throw new UnreadableImage(decodeFailureReason(e, file));
  }
}

/**
 * Read `file` as 8-bit RGB: EXIF orientation applied, grayscale replicated, alpha dropped (not
 * composited, like PIL convert('RGB')), palette expanded, CMYK converted to sRGB, 16-bit scaled to
 * 8-bit. Optionally keep one AB half and resize to size×size in the same libvips pipeline (JPEG
 * shrink-on-load, streaming for huge inputs, no full-resolution copy in JS memory).
 */
export async function decodeImageFile(file: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  await checkReadableImage(file);
  const maxPixels = opts.maxPixels ?? pixelBudget();
  const simple = await decodeInJs(file, maxPixels);
  if (simple && opts.half === undefined && opts.size === undefined) return { ...simple, sourceWidth: simple.width, sourceHeight: simple.height };
  let source = simple ?? opts.header ?? (await headerSize(file));
  checkPixelBudget(source.width, source.height, maxPixels);
  // failOn 'error' rejects truncated pixel data but tolerates benign warnings (e.g. extra bytes).
  const open = (): Sharp =>
    simple
      ? sharp(simple.data, { raw: { width: simple.width, height: simple.height, channels: 3 }, limitInputPixels: simple.width * simple.height })
      : sharp(file, { failOn: 'error', limitInputPixels: maxPixels, autoOrient: true });
  try {
    let pipeline = open();
    if (opts.half) {
      const half = Math.floor(source.width / 2);
      if (half < 1) throw new UnreadableImage(`image is ${source.width} px wide: too narrow to hold A and B halves`);
      const left = opts.half === 'A' ? 0 : half;
      source = { width: opts.half === 'A' ? half : source.width - half, height: source.height };
      pipeline = pipeline.extract({ left, top: 0, width: source.width, height: source.height });
    }
    if (opts.size !== undefined) pipeline = pipeline.resize(opts.size, opts.size, { fit: 'fill', kernel: 'cubic' });
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const rgb = interleavedRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.channels, info.width * info.height);
    return { width: info.width, height: info.height, data: rgb, sourceWidth: source.width, sourceHeight: source.height };
  } catch (e) {
    if (e instanceof UnreadableImage) throw e;
    throw new UnreadableImage(decodeFailureReason(e, file));
  }
}
