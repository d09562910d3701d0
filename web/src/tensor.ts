/**
 * Canvas pixels ↔ the exported generator's tensors. The contract (src/export/export.ts): float32
 * NCHW, RGB, in [−1, 1]; the same maps as the Node runtime (x/127.5 − 1 in, round((y + 1)·127.5)
 * clamped out), so a page and `pix2pix infer` agree on the same pixels.
 */

/** RGBA bytes (canvas ImageData, alpha ignored) → [1, 3, H, W] floats in [−1, 1]. */
export function rgbaToNchw(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const px = width * height;
  if (rgba.length !== px * 4) throw new Error(`expected ${px * 4} RGBA bytes for ${width}×${height}, got ${rgba.length}`);
  const out = new Float32Array(3 * px);
  for (let p = 0; p < px; p++) {
    out[p] = rgba[p * 4] / 127.5 - 1;
    out[px + p] = rgba[p * 4 + 1] / 127.5 - 1;
    out[2 * px + p] = rgba[p * 4 + 2] / 127.5 - 1;
  }
  return out;
}

/** One value in [−1, 1] → a byte: round((y + 1)·127.5), clamped; NaN → 0. */
export function toByte(y: number): number {
  const v = Math.round((y + 1) * 127.5);
  return v >= 255 ? 255 : v > 0 ? v : 0;
}

/**
 * The first image of an NCHW output → opaque RGBA. One channel is shown as gray, three as RGB;
 * other counts have no image reading and are refused.
 */
export function nchwToRgba(data: ArrayLike<number>, channels: number, width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  if (channels !== 1 && channels !== 3) throw new Error(`cannot show a ${channels}-channel output as an image (1 or 3 expected)`);
  const px = width * height;
  if (data.length < channels * px) throw new Error(`output has ${data.length} values, fewer than ${channels}×${width}×${height}`);
  const out = new Uint8ClampedArray(px * 4);
  for (let p = 0; p < px; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = toByte(data[(channels === 1 ? 0 : c) * px + p]);
    out[p * 4 + 3] = 255;
  }
  return out;
}
