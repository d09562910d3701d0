/**
 * Decoders for BMP and PPM/PGM, which the reference loaders accept (docs/reference.md#data) but sharp's bundled
 * libvips does not read. Pure functions: bytes in, 8-bit RGB out, or an Error saying what is wrong.
 */
import type { RgbImage } from './decode.ts';

export function looksLikeBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

export function looksLikePnm(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] >= 0x32 && bytes[1] <= 0x36 && bytes[1] !== 0x34; // P2 P3 P5 P6
}

/** Width and height from a BMP or PNM header (its first bytes), or undefined when they cannot be read there. */
export function bmpPnmSize(head: Uint8Array): { width: number; height: number } | undefined {
  if (looksLikeBmp(head) && head.length >= 26) {
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
  }
  if (!looksLikePnm(head)) return undefined;
  // Magic, then width and height as decimal tokens, with '#' comments to the end of a line between them.
  const m = /^P[2356](?:\s|#[^\n]*\n)+(\d+)(?:\s|#[^\n]*\n)+(\d+)/.exec(new TextDecoder('latin1').decode(head));
  return m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
}

/** Uncompressed BMP (BI_RGB / BI_BITFIELDS with the usual masks): 8-bit palette, 24- or 32-bit; alpha dropped. */
export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (bytes.length < 54 || !looksLikeBmp(bytes)) throw new Error('not a BMP file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (headerSize < 40) throw new Error(`BMP core headers (size ${headerSize}) are not supported; convert to PNG`);
  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0) throw new Error(`BMP has an invalid size ${width}×${rawHeight}`);
  if (!(compression === 0 || (compression === 3 && bpp === 32)))
    throw new Error(`compressed BMP (compression ${compression}) is not supported; convert to PNG`);
  if (bpp !== 8 && bpp !== 24 && bpp !== 32) throw new Error(`${bpp}-bit BMP is not supported; convert to PNG`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw new Error('BMP pixel data is truncated');
  let palette: Uint8Array | undefined;
  if (bpp === 8) {
    const colours = dv.getUint32(46, true) || 256;
    const start = 14 + headerSize;
    if (start + colours * 4 > dataOffset) throw new Error('BMP palette is truncated');
    palette = bytes.subarray(start, start + colours * 4);
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let b: number;
      let g: number;
      let r: number;
      if (palette) {
        const i = bytes[row + x] * 4;
        if (i + 2 >= palette.length) throw new Error('BMP pixel refers to a colour outside its palette');
        [b, g, r] = [palette[i], palette[i + 1], palette[i + 2]];
      } else {
        const p = row + x * (bpp / 8);
        [b, g, r] = [bytes[p], bytes[p + 1], bytes[p + 2]];
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return { width, height, data: out };
}

/** Netpbm P2/P3 (ASCII) and P5/P6 (binary) gray or RGB, maxval up to 65535, scaled to 8 bits. */
export function decodePnm(bytes: Uint8Array): RgbImage {
  if (!looksLikePnm(bytes)) throw new Error('not a PGM/PPM file');
  const kind = bytes[1] - 0x30;
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  let pos = 2;
  const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  const token = (): number => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos])) pos++;
      if (bytes[pos] !== 0x23) break; // '#' comment to end of line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < bytes.length && bytes[pos] >= 0x30 && bytes[pos] <= 0x39) pos++;
    if (start === pos) throw new Error('PNM header or data is truncated or malformed');
    return Number(String.fromCharCode(...bytes.subarray(start, pos)));
  };
  const width = token();
  const height = token();
  const maxval = token();
  if (width < 1 || height < 1 || maxval < 1 || maxval > 65535) throw new Error(`PNM has an invalid header (${width}×${height}, maxval ${maxval})`);
  const n = width * height * channels;
  const values = new Uint16Array(n);
  if (kind === 2 || kind === 3) {
    for (let i = 0; i < n; i++) values[i] = token();
  } else {
    pos++; // exactly one whitespace byte separates the header from binary data
    const bytesPer = maxval > 255 ? 2 : 1;
    if (pos + n * bytesPer > bytes.length) throw new Error('PNM pixel data is truncated');
    for (let i = 0; i < n; i++) values[i] = bytesPer === 2 ? (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1] : bytes[pos + i];
  }
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = values[p * channels + (channels === 3 ? c : 0)];
      out[p * 3 + c] = Math.round((Math.min(v, maxval) * 255) / maxval);
    }
  }
  return { width, height, data: out };
}
