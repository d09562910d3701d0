/** Hand-built image files for the decoder tests: every byte is written here, so pixel values are known. */

/** A BMP file: 14-byte file header, 40-byte info header, optional palette, rows padded to 4 bytes. */
export function bmp(width: number, height: number, bpp: number, rows: number[][], palette: number[] = []): Uint8Array {
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const offset = 54 + palette.length;
  const buf = new Uint8Array(offset + stride * Math.abs(height));
  const dv = new DataView(buf.buffer);
  buf.set([0x42, 0x4d]);
  dv.setUint32(2, buf.length, true);
  dv.setUint32(10, offset, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, width, true);
  dv.setInt32(22, height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, bpp, true);
  dv.setUint32(46, palette.length / 4, true);
  buf.set(palette, 54);
  rows.forEach((r, i) => buf.set(r, offset + i * stride)); // rows in file order
  return buf;
}

export const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
