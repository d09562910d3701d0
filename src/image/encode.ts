/**
 * The one image encoder, shared by the data writers and the runtime: 8-bit RGB to PNG, JPEG or
 * WebP bytes through sharp. PNG output is deterministic (no timestamps); JPEG is written without
 * chroma subsampling so colour edges of label-like images stay sharp.
 */
import sharp from 'sharp';
import type { RgbImage } from './decode.ts';

export type ImageFormat = 'png' | 'jpg' | 'webp';

export interface EncodeOptions {
  /** JPEG/WebP quality (default 95). */
  quality?: number;
  /** Resize (bicubic, no aspect kept) to this size first, when it differs. */
  resizeTo?: { width: number; height: number };
}

export async function encodeRgb(img: RgbImage, format: ImageFormat, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 3) {
    throw new Error(`encodeRgb(${format}): ${width}×${height}×3 does not match ${data.length} bytes`);
  }
  // The pixels are already in memory (held to the decode budget on the way in): sharp's default
  // input limit (268 Mpx, a guard for file headers) would only refuse a large legitimate output.
  let s = sharp(data, { raw: { width, height, channels: 3 }, limitInputPixels: width * height });
  const to = opts.resizeTo;
  if (to && (to.width !== width || to.height !== height)) s = s.resize(to.width, to.height, { fit: 'fill', kernel: 'cubic' });
  const quality = opts.quality ?? 95;
  const buf =
    format === 'png'
      ? await s.png().toBuffer()
      : format === 'jpg'
        ? await s.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer()
        : await s.webp({ quality }).toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}
