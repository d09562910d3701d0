/**
 * Image I/O for the data side (training, scoring, dataset preparation): read images as 8-bit RGB
 * (decoding is src/image/decode.ts, shared with the runtime), read single-channel label maps, write
 * images atomically, list image folders.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  type GrayImage,
  type RgbImage,
  checkPixelBudget,
  checkReadableImage,
  decodeFailureReason,
  decodeImageFile,
  pixelBudget,
  probeImageFile,
  UnreadableImage,
} from '../image/decode.ts';
import { type ImageFormat, encodeRgb } from '../image/encode.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';

export type { GrayImage, ImageFormat, RgbImage };

export type ResizeKernel = 'cubic' | 'linear' | 'nearest' | 'lanczos3';

export interface ImageReadOptions {
  /** resize to exactly width×height (no aspect kept) with the given kernel (default cubic) */
  resize?: { width: number; height: number; kernel?: ResizeKernel };
}

export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.tif', '.tiff', '.webp']);

let sharpConfigured = false;

/**
 * libvips' operation cache is keyed by file name, so with it a file rewritten on disk could be
 * read back stale; we read each file once anyway. One libvips thread per image: our images are
 * small and several are decoded at once on the libuv pool, which already fills the 2 cores.
 */
function configureSharp(): void {
  if (sharpConfigured) return;
  sharp.cache(false);
  sharp.concurrency(1);
  sharpConfigured = true;
}

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Run a decode step; an unreadable file becomes a one-line UserError naming it. */
async function named<T>(what: string, file: string, step: () => Promise<T>): Promise<T> {
  configureSharp();
  try {
    return await step();
  } catch (e) {
    if (e instanceof UnreadableImage) throw new UserError(`Cannot read ${what} ${file}: ${e.message}`);
    throw e;
  }
}

/**
 * Width and height (after EXIF orientation) from the file header, without decoding pixels where
 * possible; a UserError naming the file if it cannot be an image. Truncated pixel data is only
 * found by readImage.
 */
export function probeImage(file: string): Promise<{ width: number; height: number }> {
  return named('image', file, () => probeImageFile(file));
}

/**
 * Read an image as 8-bit RGB: EXIF orientation applied, grayscale replicated to RGB, alpha
 * dropped (not composited, like PIL convert('RGB')), palette expanded, CMYK converted to sRGB,
 * 16-bit scaled to 8-bit. An unreadable file is a one-line UserError naming it.
 */
export async function readImage(file: string, opts: ImageReadOptions = {}): Promise<RgbImage> {
  const { width: w, height: h, data } = await named('image', file, () => decodeImageFile(file));
  const img = { width: w, height: h, data };
  if (!opts.resize) return img;
  const { width, height, kernel } = opts.resize;
  if (width === img.width && height === img.height) return img;
  return resizeRgb(img, width, height, kernel ?? 'cubic');
}

/**
 * Resize raw RGB. Alpha is already gone, so no premultiplication artefacts; sharp's `cubic` is
 * Catmull-Rom (a = −0.5), the kernel PIL's BICUBIC uses, and it antialiases when shrinking as PIL does.
 */
export async function resizeRgb(img: RgbImage, width: number, height: number, kernel: ResizeKernel = 'cubic'): Promise<RgbImage> {
  configureSharp();
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new UserError(`Cannot resize to ${width}×${height}: sizes must be positive integers.`);
  }
  if (width === img.width && height === img.height) return { width, height, data: img.data.slice() };
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Read a single-channel label map (e.g. Cityscapes `*_gtFine_labelIds.png`) without any value
 * scaling. 8- or 16-bit gray, or RGB whose three channels are equal, is accepted; values must fit in
 * a byte. A colour image (e.g. `*_gtFine_color.png`) is rejected, since its values are not ids.
 */
export async function readLabelImage(file: string): Promise<GrayImage> {
  await named('label image', file, () => checkReadableImage(file));
  let raw: { data: Buffer; info: { width: number; height: number; channels: number; depth?: string } };
  try {
    const maxPixels = pixelBudget();
    const meta = await sharp(file, { limitInputPixels: Number.MAX_SAFE_INTEGER }).metadata();
    checkPixelBudget(meta.width ?? 0, meta.height ?? 0, maxPixels);
    const pipeline = sharp(file, { failOn: 'error', limitInputPixels: maxPixels }).removeAlpha();
    if (meta.depth === 'ushort') {
      // Without an explicit 16-bit colourspace sharp converts to 8-bit sRGB, dividing the ids by 257.
      const colour = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0) >= 3;
      raw = await pipeline
        .toColourspace(colour ? 'rgb16' : 'grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
    } else {
      raw = await pipeline.raw().toBuffer({ resolveWithObject: true });
    }
  } catch (e) {
    throw new UserError(`Cannot read label image ${file}: ${e instanceof UnreadableImage ? e.message : decodeFailureReason(e, file)}`);
  }
  const { info } = raw;
  const c = info.channels;
  const n = info.width * info.height;
  const values: ArrayLike<number> =
    info.depth === 'ushort' ? new Uint16Array(raw.data.buffer.slice(raw.data.byteOffset, raw.data.byteOffset + raw.data.length)) : raw.data;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i * c];
    for (let k = 1; k < c; k++) {
      if (values[i * c + k] !== v) {
        throw new UserError(
          `Label image ${file} is a colour image (pixel ${i % info.width},${Math.floor(i / info.width)} has different R,G,B); expected single-channel label ids such as *_gtFine_labelIds.png.`,
        );
      }
    }
    if (v > 255) throw new UserError(`Label image ${file} has a value ${v} above 255; expected 8-bit label ids.`);
    out[i] = v;
  }
  return { width: info.width, height: info.height, data: out };
}

function formatFromExtension(file: string): ImageFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpg';
  if (ext === '.webp') return 'webp';
  throw new UserError(`Cannot write ${file}: unknown image extension '${ext}'; use .png, .jpg or .webp.`);
}

export interface ImageWriteOptions {
  /** JPEG/WebP quality (default 95; JPEG is written without chroma subsampling). */
  quality?: number;
}

/** Encode RGB to PNG/JPEG/WebP bytes (PNG output is deterministic: no timestamps). */
export function encodeImage(img: RgbImage, format: ImageFormat, opts: ImageWriteOptions = {}): Promise<Uint8Array> {
  configureSharp();
  return encodeRgb(img, format, opts);
}

/** Write atomically (temp file + rename); the format comes from the extension if not given. */
export async function writeImage(file: string, img: RgbImage, format?: ImageFormat, opts: ImageWriteOptions = {}): Promise<void> {
  const bytes = await encodeImage(img, format ?? formatFromExtension(file), opts);
  await writeFileAtomic(file, bytes);
}

/** Write an 8-bit single-channel grayscale PNG atomically (label ids keep their exact values). */
export async function writeLabelImage(file: string, img: GrayImage): Promise<void> {
  configureSharp();
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height) {
    throw new Error(`writeLabelImage(${file}): ${img.width}×${img.height} does not match ${img.data.length} bytes`);
  }
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  await writeFileAtomic(file, new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
}

/** Code-point order, like Python's sorted() on paths (locale-independent, so listings are reproducible). */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Image files under `dir` (by extension, case-insensitive), as sorted relative paths with '/'
 * separators. Hidden files (names starting with '.') are skipped: they include our own
 * temporary files from atomic writes.
 */
export async function listImages(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  // Real folders already listed (device:inode), so a symlink back up the tree is not followed again.
  const visited = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    const st = await fsp.stat(path.join(dir, rel)).catch(() => undefined);
    if (st) {
      if (visited.has(`${st.dev}:${st.ino}`)) return;
      visited.add(`${st.dev}:${st.ino}`);
    }
    let entries;
    try {
      entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`Image folder ${path.join(dir, rel)} does not exist.`);
      if (code === 'ENOTDIR') throw new UserError(`${path.join(dir, rel)} is not a folder.`);
      throw new UserError(`Cannot list ${path.join(dir, rel)}: ${errorMessage(e)}`);
    }
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const st = await fsp.stat(path.join(dir, childRel)).catch(() => undefined);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir) {
        if (opts.recursive) await walk(childRel);
      } else if (isFile && isImageFile(ent.name)) {
        out.push(childRel);
      }
    }
  };
  await walk('');
  return out.sort(compareCodePoints);
}

/** HWC uint8 → HWC float in [−1, 1] (x/127.5 − 1, as the reference's Normalize(0.5, 0.5)). */
export function toUnitRange(img: RgbImage): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) out[i] = img.data[i] / 127.5 - 1;
  return out;
}

/**
 * HWC float in [−1, 1] → uint8 RGB via (x + 1)/2·255. The reference (`tensor2im`) truncates with
 * astype(uint8); we round to nearest and clamp to [0, 255] (NaN → 0), so a value that went through
 * toUnitRange comes back exactly. Outputs can therefore differ from the reference by 1 level.
 */
export function fromUnitRange(data: Float32Array, width: number, height: number): RgbImage {
  if (data.length !== width * height * 3) {
    throw new Error(`fromUnitRange: ${data.length} values do not make a ${width}×${height}×3 image`);
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(((data[i] + 1) / 2) * 255);
    out[i] = v >= 255 ? 255 : v > 0 ? v : 0;
  }
  return { width, height, data: out };
}
