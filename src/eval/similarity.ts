/**
 * Full-reference similarity of a generated image to its target: SSIM and PSNR (pure functions).
 *
 * SSIM follows Wang, Bovik, Sheikh and Simoncelli (IEEE TIP 2004): an 11×11 Gaussian window with
 * σ = 1.5 (normalised to sum 1), C1 = (0.01·255)², C2 = (0.03·255)², population (co)variances,
 * computed **per RGB channel** and averaged over the three channels, each channel's SSIM being the
 * mean of the map over the windows that lie wholly inside the image ("valid" positions). This
 * equals scikit-image's `structural_similarity(x, y, channel_axis=-1, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=255)`. The authors' MATLAB code also
 * downsamples images larger than 256² first; this does not.
 *
 * PSNR = 10·log10(255² / MSE) over every R, G and B value of the image; +∞ for identical images.
 */
import type { RgbImage } from '../image/decode.ts';
import { gaussianKernel } from '../image/blur.ts';

export const SSIM_WINDOW = 11;
const SSIM_SIGMA = 1.5;
export const SSIM_C1 = (0.01 * 255) ** 2;
export const SSIM_C2 = (0.03 * 255) ** 2;
const PEAK = 255;

/**
 * The 1-D Gaussian taps of the window (the 2-D window is their outer product), summing to 1:
 * scikit-image truncates at 3.5σ and gaussianKernel at 3σ, and for σ 1.5 both give 11 taps.
 */
export function gaussianTaps(): Float64Array {
  const taps = gaussianKernel(SSIM_SIGMA);
  if (taps.length !== SSIM_WINDOW) throw new Error(`similarity: the SSIM window has ${taps.length} taps, not ${SSIM_WINDOW}`);
  return taps;
}

function assertSameSize(a: RgbImage, b: RgbImage): void {
  if (a.width !== b.width || a.height !== b.height)
    throw new Error(`similarity: images differ in size (${a.width}×${a.height} and ${b.width}×${b.height}); compare images of one size`);
}

/** Weighted window sums of `f` (w × h) at every valid position: separable, rows then columns. */
function windowed(f: Float64Array, w: number, h: number, taps: Float64Array): Float64Array {
  const n = taps.length;
  const ow = w - n + 1;
  const oh = h - n + 1;
  const rows = new Float64Array(ow * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += taps[k] * f[y * w + x + k];
      rows[y * ow + x] = s;
    }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += taps[k] * rows[(y + k) * ow + x];
      out[y * ow + x] = s;
    }
  return out;
}

/** Mean SSIM of one channel (`c` of 3, interleaved RGB). */
function channelSsim(a: RgbImage, b: RgbImage, c: number, taps: Float64Array): number {
  const { width: w, height: h } = a;
  const x = new Float64Array(w * h);
  const y = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    x[i] = a.data[3 * i + c];
    y[i] = b.data[3 * i + c];
  }
  const mx = windowed(x, w, h, taps);
  const my = windowed(y, w, h, taps);
  const xx = windowed(
    x.map((v) => v * v),
    w,
    h,
    taps,
  );
  const yy = windowed(
    y.map((v) => v * v),
    w,
    h,
    taps,
  );
  const xy = windowed(
    x.map((v, i) => v * y[i]),
    w,
    h,
    taps,
  );
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i];
    const uy = my[i];
    const vx = xx[i] - ux * ux;
    const vy = yy[i] - uy * uy;
    const cxy = xy[i] - ux * uy;
    sum += ((2 * ux * uy + SSIM_C1) * (2 * cxy + SSIM_C2)) / ((ux * ux + uy * uy + SSIM_C1) * (vx + vy + SSIM_C2));
  }
  return sum / mx.length;
}

/** SSIM of `a` against `b` (same size, at least 11×11): the mean of the R, G and B channels' SSIM. */
export function ssim(a: RgbImage, b: RgbImage): number {
  assertSameSize(a, b);
  if (a.width < SSIM_WINDOW || a.height < SSIM_WINDOW)
    throw new Error(`similarity: SSIM needs images of at least ${SSIM_WINDOW}×${SSIM_WINDOW} (its window), got ${a.width}×${a.height}`);
  const taps = gaussianTaps();
  return (channelSsim(a, b, 0, taps) + channelSsim(a, b, 1, taps) + channelSsim(a, b, 2, taps)) / 3;
}

/** Mean squared difference over every R, G and B value. */
export function meanSquaredError(a: RgbImage, b: RgbImage): number {
  assertSameSize(a, b);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i] - b.data[i]) ** 2;
  return s / a.data.length;
}

/** PSNR in dB of `a` against `b` for 8-bit values; +∞ when they are identical. */
export function psnr(a: RgbImage, b: RgbImage): number {
  const mse = meanSquaredError(a, b);
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((PEAK * PEAK) / mse);
}
