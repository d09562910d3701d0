/**
 * Resizing of interleaved uint8 images exactly as the evaluation pipelines do it.
 *
 * The FCN-score reference upsamples each 256×256 output to 2048×1024 with
 * `scipy.misc.imresize(im, (1024, 2048))`, i.e. PIL `Image.resize(..., BILINEAR)` (docs/reference.md#fcn-pipeline).
 * `resizePilBilinear` reproduces Pillow's `ImagingResample` (libImaging/Resample.c) for 8-bit
 * images: a separable two-pass convolution (horizontal first, then vertical, each rounded back to
 * uint8) with the triangle filter of support 1, whose support is widened by the scale factor when
 * shrinking (antialiasing); pixel centres at +0.5; per-output-pixel coefficients normalised to sum 1
 * in double precision, then converted to 22-bit fixed point with round-half-away-from-zero; sums
 * start at 2^21 (so the final shift rounds half up) and are clipped to 0..255.
 * (Pillow has used this scheme since 4.x; much older Pillow versions computed window bounds with
 * floor/ceil and float coefficients, which can differ by one level on a few pixels.)
 */

export type ResizeFilter = 'pil-bilinear' | 'bilinear' | 'nearest';

export interface PixelBuffer {
  width: number;
  height: number;
  /** Interleaved channels, row-major. */
  data: Uint8Array;
}

const PRECISION_BITS = 32 - 8 - 2;
const ONE_HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  /** Max taps per output pixel. */
  ksize: number;
  /** first input index per output pixel */
  start: Int32Array;
  /** number of taps per output pixel */
  count: Int32Array;
  /** ksize fixed-point weights per output pixel */
  weights: Int32Array;
}

function triangle(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the BILINEAR filter over the full box. */
function pilCoefficients(inSize: number, outSize: number): Coefficients {
  const support0 = 1;
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = support0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; Math.trunc matches it for the negative values near 0.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}

function clip8(sum: number): number {
  // sum < 2^31 for uint8 inputs and weights summing to ~2^22, so >> is C's arithmetic shift.
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function checkBuffer(img: PixelBuffer, channels: number, what: string): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * channels) {
    throw new Error(`${what}: ${width}×${height}×${channels} does not match ${data.length} bytes`);
  }
}

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${what}: target size ${width}×${height} must be positive integers`);
  }
}

/** PIL `Image.resize((width, height), Image.BILINEAR)` of an 8-bit image with `channels` bands. */
export function resizePilBilinear(img: PixelBuffer, width: number, height: number, channels = 3): PixelBuffer {
  checkBuffer(img, channels, 'resizePilBilinear');
  checkSize(width, height, 'resizePilBilinear');
  const needHorizontal = width !== img.width;
  const needVertical = height !== img.height;
  let cur: PixelBuffer = img;
  const vert = pilCoefficients(img.height, height);
  if (needHorizontal) {
    // Pillow only resamples the rows the vertical pass will read; the result is the same as all rows.
    cur = horizontalPass(cur, width, channels, pilCoefficients(img.width, width));
  }
  if (needVertical) cur = verticalPass(cur, height, channels, vert);
  return cur === img ? { width: img.width, height: img.height, data: img.data.slice() } : cur;
}

function horizontalPass(img: PixelBuffer, outW: number, channels: number, co: Coefficients): PixelBuffer {
  const { width: inW, height: h, data: src } = img;
  const out = new Uint8Array(outW * h * channels);
  const { ksize, start, count, weights } = co;
  for (let y = 0; y < h; y++) {
    const rowIn = y * inW * channels;
    const rowOut = y * outW * channels;
    for (let xx = 0; xx < outW; xx++) {
      const x0 = start[xx];
      const n = count[xx];
      const kb = xx * ksize;
      for (let c = 0; c < channels; c++) {
        let s = ONE_HALF;
        for (let t = 0; t < n; t++) s += src[rowIn + (x0 + t) * channels + c] * weights[kb + t];
        out[rowOut + xx * channels + c] = clip8(s);
      }
    }
  }
  return { width: outW, height: h, data: out };
}

function verticalPass(img: PixelBuffer, outH: number, channels: number, co: Coefficients): PixelBuffer {
  const { width: w, data: src } = img;
  const stride = w * channels;
  const out = new Uint8Array(outH * stride);
  const { ksize, start, count, weights } = co;
  for (let yy = 0; yy < outH; yy++) {
    const y0 = start[yy];
    const n = count[yy];
    const kb = yy * ksize;
    const rowOut = yy * stride;
    for (let i = 0; i < stride; i++) {
      let s = ONE_HALF;
      for (let t = 0; t < n; t++) s += src[(y0 + t) * stride + i] * weights[kb + t];
      out[rowOut + i] = clip8(s);
    }
  }
  return { width: w, height: outH, data: out };
}

/**
 * PIL `Image.resize(..., NEAREST)`: output pixel xx takes input floor((xx + 0.5) · in/out).
 * The right filter for label maps (values must stay discrete).
 */
export function resizeNearest(img: PixelBuffer, width: number, height: number, channels = 3): PixelBuffer {
  checkBuffer(img, channels, 'resizeNearest');
  checkSize(width, height, 'resizeNearest');
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / width));
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / height));
    const rowIn = sy * img.width * channels;
    const rowOut = y * width * channels;
    for (let x = 0; x < width; x++) {
      const si = rowIn + xs[x] * channels;
      const di = rowOut + x * channels;
      for (let c = 0; c < channels; c++) out[di + c] = img.data[si + c];
    }
  }
  return { width, height, data: out };
}

/**
 * Plain bilinear interpolation without antialiasing (half-pixel centres, edge clamped, rounded
 * to nearest): what OpenCV's INTER_LINEAR and PyTorch's interpolate(align_corners=False) do.
 * For segmenters converted from frameworks that resize that way.
 */
export function resizeBilinear(img: PixelBuffer, width: number, height: number, channels = 3): PixelBuffer {
  checkBuffer(img, channels, 'resizeBilinear');
  checkSize(width, height, 'resizeBilinear');
  const axis = (inSize: number, outSize: number) => {
    const i0 = new Int32Array(outSize);
    const i1 = new Int32Array(outSize);
    const f = new Float64Array(outSize);
    const scale = inSize / outSize;
    for (let o = 0; o < outSize; o++) {
      let s = (o + 0.5) * scale - 0.5;
      if (s < 0) s = 0;
      const lo = Math.min(Math.floor(s), inSize - 1);
      i0[o] = lo;
      i1[o] = Math.min(lo + 1, inSize - 1);
      f[o] = s - lo;
    }
    return { i0, i1, f };
  };
  const ax = axis(img.width, width);
  const ay = axis(img.height, height);
  const src = img.data;
  const stride = img.width * channels;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const r0 = ay.i0[y] * stride;
    const r1 = ay.i1[y] * stride;
    const fy = ay.f[y];
    for (let x = 0; x < width; x++) {
      const c0 = ax.i0[x] * channels;
      const c1 = ax.i1[x] * channels;
      const fx = ax.f[x];
      for (let c = 0; c < channels; c++) {
        const top = src[r0 + c0 + c] * (1 - fx) + src[r0 + c1 + c] * fx;
        const bottom = src[r1 + c0 + c] * (1 - fx) + src[r1 + c1 + c] * fx;
        const v = Math.round(top * (1 - fy) + bottom * fy);
        out[(y * width + x) * channels + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { width, height, data: out };
}

/** Resize with the named filter (the segmenter sidecar's `resize`). */
export function resizeWith(filter: ResizeFilter, img: PixelBuffer, width: number, height: number, channels = 3): PixelBuffer {
  switch (filter) {
    case 'pil-bilinear':
      return resizePilBilinear(img, width, height, channels);
    case 'bilinear':
      return resizeBilinear(img, width, height, channels);
    case 'nearest':
      return resizeNearest(img, width, height, channels);
  }
}
