/**
 * Image I/O for the whole project: decode any common image file into interleaved 8-bit RGB
 * (the equivalent of PIL's `Image.open(f).convert('RGB')` in the reference loaders), read
 * single-channel label maps, and write images atomically.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError, errorMessage } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { decodeBmp, decodePnm, looksLikeBmp, looksLikePnm } from './bmp-pnm.ts';

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

export type ResizeKernel = 'cubic' | 'linear' | 'nearest' | 'lanczos3';

export interface ImageReadOptions {
  /** resize to exactly width×height (no aspect kept) with the given kernel (default cubic) */
  resize?: { width: number; height: number; kernel?: ResizeKernel };
}

export type ImageFormat = 'png' | 'jpg' | 'webp';

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

/** Turn sharp/libvips messages into a short reason (they can span lines and repeat the path). */
function shortReason(e: unknown, file: string): string {
  let msg = errorMessage(e)
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
  msg = msg.split(file).join('').replace(/:\s*$/, '');
  if (/unsupported image format/i.test(msg)) return 'not an image, or a format this build cannot decode';
  if (/premature end|truncated|read error|not enough data|unexpected end/i.test(msg)) return `file is truncated or corrupt (${msg})`;
  return msg;
}

/** Fail early with a precise reason for the common cases sharp reports vaguely. */
async function checkReadableFile(file: string, what: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`Cannot read ${what} ${file}: file not found.`);
    throw new UserError(`Cannot read ${what} ${file}: ${errorMessage(e)}`);
  }
  if (st.isDirectory()) throw new UserError(`Cannot read ${what} ${file}: it is a folder, not an image file.`);
  if (st.size === 0) throw new UserError(`Cannot read ${what} ${file}: file is empty (0 bytes).`);
}

/** BMP and PPM/PGM are decoded here: sharp's bundled libvips reads neither. */
function decodeSimpleFormat(bytes: Uint8Array, file: string): RgbImage | undefined {
  const decode = looksLikeBmp(bytes) ? decodeBmp : looksLikePnm(bytes) ? decodePnm : undefined;
  if (!decode) return undefined;
  try {
    return decode(bytes);
  } catch (e) {
    throw new UserError(`Cannot read image ${file}: ${errorMessage(e)}`);
  }
}

/** Decode to raw pixels with the input's own orientation applied; alpha dropped like PIL convert('RGB'). */
async function decodeRgb(file: string): Promise<RgbImage> {
  configureSharp();
  await checkReadableFile(file, 'image');
  const bytes = await fsp.readFile(file);
  const simple = decodeSimpleFormat(bytes, file);
  if (simple) return simple;
  try {
    // failOn 'error' rejects truncated/corrupt pixel data but tolerates benign warnings (e.g. extra bytes).
    const { data, info } = await sharp(bytes, { failOn: 'error', autoOrient: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  } catch (e) {
    throw new UserError(`Cannot read image ${file}: ${shortReason(e, file)}`);
  }
}

function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  const n = width * height;
  if (channels === 3) return { width, height, data };
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = data[i * channels]!;
    if (channels >= 3) {
      out[i * 3] = v;
      out[i * 3 + 1] = data[i * channels + 1]!;
      out[i * 3 + 2] = data[i * channels + 2]!;
    } else {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v;
    }
  }
  return { width, height, data: out };
}

/**
 * Width and height (after EXIF orientation) from the file header, without decoding pixels where
 * possible; a UserError naming the file if it cannot be an image. Truncated pixel data is only
 * found by readImage.
 */
export async function probeImage(file: string): Promise<{ width: number; height: number }> {
  configureSharp();
  await checkReadableFile(file, 'image');
  const fh = await fsp.open(file, 'r');
  const head = new Uint8Array(2);
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  if (looksLikeBmp(head) || looksLikePnm(head)) {
    const img = decodeSimpleFormat(await fsp.readFile(file), file)!;
    return { width: img.width, height: img.height };
  }
  try {
    const m = await sharp(file).metadata();
    const width = m.autoOrient?.width ?? m.width;
    const height = m.autoOrient?.height ?? m.height;
    if (!width || !height) throw new Error('no image size in the header');
    return { width, height };
  } catch (e) {
    throw new UserError(`Cannot read image ${file}: ${shortReason(e, file)}`);
  }
}

/**
 * Read an image as 8-bit RGB: EXIF orientation applied, grayscale replicated to RGB, alpha
 * dropped (not composited, like PIL convert('RGB')), palette expanded, CMYK converted to sRGB,
 * 16-bit scaled to 8-bit. An unreadable file is a one-line UserError naming it.
 */
export async function readImage(file: string, opts: ImageReadOptions = {}): Promise<RgbImage> {
  const img = await decodeRgb(file);
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
  configureSharp();
  await checkReadableFile(file, 'label image');
  let raw: { data: Buffer; info: { width: number; height: number; channels: number; depth?: string } };
  try {
    const meta = await sharp(file).metadata();
    const pipeline = sharp(file, { failOn: 'error' }).removeAlpha();
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
    throw new UserError(`Cannot read label image ${file}: ${shortReason(e, file)}`);
  }
  const { info } = raw;
  const c = info.channels;
  const n = info.width * info.height;
  const values: ArrayLike<number> =
    info.depth === 'ushort' ? new Uint16Array(raw.data.buffer.slice(raw.data.byteOffset, raw.data.byteOffset + raw.data.length)) : raw.data;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i * c]!;
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

function checkImage(img: { width: number; height: number; data: Uint8Array }, channels: number, file: string): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * channels) {
    throw new Error(`writeImage(${file}): ${width}×${height}×${channels} does not match ${data.length} bytes`);
  }
}

export interface ImageWriteOptions {
  /** JPEG/WebP quality (default 95; JPEG is written without chroma subsampling). */
  quality?: number;
}

/** Encode RGB to PNG/JPEG/WebP bytes (PNG output is deterministic: no timestamps). */
export async function encodeImage(img: RgbImage, format: ImageFormat, opts: ImageWriteOptions = {}): Promise<Uint8Array> {
  configureSharp();
  checkImage(img, 3, `<${format}>`);
  const s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  const quality = opts.quality ?? 95;
  const buf =
    format === 'png'
      ? await s.png().toBuffer()
      : format === 'jpg'
        ? await s.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer()
        : await s.webp({ quality }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Write atomically (temp file + rename); the format comes from the extension if not given. */
export async function writeImage(file: string, img: RgbImage, format?: ImageFormat, opts: ImageWriteOptions = {}): Promise<void> {
  const bytes = await encodeImage(img, format ?? formatFromExtension(file), opts);
  await writeFileAtomic(file, bytes);
}

/** Write an 8-bit single-channel grayscale PNG atomically (label ids keep their exact values). */
export async function writeLabelImage(file: string, img: GrayImage): Promise<void> {
  configureSharp();
  checkImage(img, 1, file);
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
  for (let i = 0; i < img.data.length; i++) out[i] = img.data[i]! / 127.5 - 1;
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
    const v = Math.round(((data[i]! + 1) / 2) * 255);
    out[i] = v >= 255 ? 255 : v > 0 ? v : 0;
  }
  return { width, height, data: out };
}
