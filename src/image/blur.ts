/**
 * Pure image degradations used to probe what a segmenter reads: a Gaussian blur (edges and texture
 * spread the way an L1-trained generator spreads them) and a shrink-enlarge (texture gone, region
 * colours kept). Both work on interleaved 8-bit RGB and return a new image of the same size.
 */
import type { RgbImage } from './decode.ts';

/** The normalised 1-D Gaussian of standard deviation `sigma`, truncated at ⌈3σ⌉ on each side. */
export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gaussianKernel: sigma must be positive, got ${sigma}`);
  const r = Math.ceil(3 * sigma);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Convolve each row (horizontal) or column of a float RGB plane with `k`, replicating edge pixels. */
function convolve1d(src: Float64Array, w: number, h: number, k: Float64Array, horizontal: boolean): Float64Array {
  const out = new Float64Array(src.length);
  const r = (k.length - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      for (let i = -r; i <= r; i++) {
        const xx = horizontal ? Math.min(w - 1, Math.max(0, x + i)) : x;
        const yy = horizontal ? y : Math.min(h - 1, Math.max(0, y + i));
        const p = (yy * w + xx) * 3;
        const kv = k[i + r];
        a0 += kv * src[p];
        a1 += kv * src[p + 1];
        a2 += kv * src[p + 2];
      }
      const o = (y * w + x) * 3;
      out[o] = a0;
      out[o + 1] = a1;
      out[o + 2] = a2;
    }
  }
  return out;
}

const toBytes = (v: Float64Array): Uint8Array => {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(v[i])));
  return out;
};

/** Separable Gaussian blur of standard deviation `sigma` pixels; borders replicate the edge pixel. */
export function gaussianBlurRgb(img: RgbImage, sigma: number): RgbImage {
  const k = gaussianKernel(sigma);
  const rows = convolve1d(Float64Array.from(img.data), img.width, img.height, k, true);
  return { width: img.width, height: img.height, data: toBytes(convolve1d(rows, img.width, img.height, k, false)) };
}

/**
 * Average each factor×factor block (blocks at the right and bottom edges may be smaller), then
 * enlarge back to the original size with bilinear interpolation between block centres.
 */
export function shrinkEnlargeRgb(img: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`shrinkEnlargeRgb: factor must be a positive integer, got ${factor}`);
  const { width: w, height: h } = img;
  const sw = Math.ceil(w / factor);
  const sh = Math.ceil(h / factor);
  const small = new Float64Array(sw * sh * 3);
  const centreX = new Float64Array(sw);
  const centreY = new Float64Array(sh);
  for (let by = 0; by < sh; by++) {
    const y1 = Math.min(h, (by + 1) * factor);
    centreY[by] = (by * factor + y1 - 1) / 2;
    for (let bx = 0; bx < sw; bx++) {
      const x1 = Math.min(w, (bx + 1) * factor);
      centreX[bx] = (bx * factor + x1 - 1) / 2;
      const n = (y1 - by * factor) * (x1 - bx * factor);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = by * factor; y < y1; y++) for (let x = bx * factor; x < x1; x++) s += img.data[(y * w + x) * 3 + c];
        small[(by * sw + bx) * 3 + c] = s / n;
      }
    }
  }
  const out = new Float64Array(w * h * 3);
  const locate = (centres: Float64Array, p: number): [number, number, number] => {
    let i = 0;
    while (i + 1 < centres.length && centres[i + 1] <= p) i++;
    if (i + 1 >= centres.length || p <= centres[0]) return [i, i, 0];
    return [i, i + 1, (p - centres[i]) / (centres[i + 1] - centres[i])];
  };
  for (let y = 0; y < h; y++) {
    const [y0, y1, fy] = locate(centreY, y);
    for (let x = 0; x < w; x++) {
      const [x0, x1, fx] = locate(centreX, x);
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number): number => small[(yy * sw + xx) * 3 + c];
        const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        out[(y * w + x) * 3 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { width: w, height: h, data: toBytes(out) };
}

/**
 * Mean squared luminance gradient (Rec. 601 weights, central differences inside the image,
 * one-sided at its border): the edge and texture energy of an image. Blur lowers it (a step of
 * height A spread over w pixels contributes about A²/w), whereas the mean gradient magnitude of a
 * monotone edge does not change under blur. Matching it is how a Gaussian's width is fit to a
 * generator's output.
 */
export function meanGradientEnergy(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  const lum = new Float64Array(w * h);
  for (let p = 0; p < w * h; p++) lum[p] = 0.299 * data[p * 3] + 0.587 * data[p * 3 + 1] + 0.114 * data[p * 3 + 2];
  const diff = (a: number, b: number, span: number): number => (span > 0 ? (lum[a] - lum[b]) / span : 0);
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - 1);
      const x1 = Math.min(w - 1, x + 1);
      const y0 = Math.max(0, y - 1);
      const y1 = Math.min(h - 1, y + 1);
      sum += diff(y * w + x1, y * w + x0, x1 - x0) ** 2 + diff(y1 * w + x, y0 * w + x, y1 - y0) ** 2;
    }
  }
  return sum / (w * h);
}
