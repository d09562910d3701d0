/**
 * The colour-distribution experiment of pix2pix Figure 7 (docs/reference.md#colour): pooled marginal histograms of
 * L, a and b over many images, and their histogram intersection against ground truth,
 * HI = Σ_i min(p[i], q[i]) of the histograms each normalised to sum 1 (Swain & Ballard).
 *
 * The paper does not publish its bins, value ranges or Lab encoding, and no script exists in the
 * reference code. Our defaults (a choice, not the authors'): 256 equal-width bins over
 * L ∈ [0, 100], a ∈ [−128, 127], b ∈ [−128, 127]. Values outside a range (impossible for 8-bit sRGB
 * with the defaults: a ∈ [−86.2, 98.2], b ∈ [−107.9, 94.5]) go to the edge bin; the upper edge
 * belongs to the last bin, as in numpy.histogram.
 */
import { labOfBytes } from './lab.ts';

export type LabChannel = 'L' | 'a' | 'b';
export const LAB_CHANNELS: readonly LabChannel[] = ['L', 'a', 'b'];

export interface LabRanges {
  L: readonly [number, number];
  a: readonly [number, number];
  b: readonly [number, number];
}

export const DEFAULT_LAB_BINS = 256;
export const DEFAULT_LAB_RANGES: LabRanges = Object.freeze({ L: [0, 100], a: [-128, 127], b: [-128, 127] } as const);

/** Pixel counts per bin, pooled over every image added. */
export interface LabHistograms {
  readonly bins: number;
  readonly ranges: LabRanges;
  readonly L: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  pixels: number;
  images: number;
}

export function createLabHistograms(bins: number = DEFAULT_LAB_BINS, ranges: LabRanges = DEFAULT_LAB_RANGES): LabHistograms {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`createLabHistograms: bins must be a positive integer, got ${bins}`);
  for (const ch of LAB_CHANNELS) {
    const [lo, hi] = ranges[ch];
    if (!(hi > lo)) throw new Error(`createLabHistograms: range of ${ch} must have hi > lo, got [${lo}, ${hi}]`);
  }
  return { bins, ranges, L: new Float64Array(bins), a: new Float64Array(bins), b: new Float64Array(bins), pixels: 0, images: 0 };
}

/** Bin of value v among `bins` equal-width bins over [lo, hi], clamped to the edge bins. */
export function binIndex(v: number, lo: number, hi: number, bins: number): number {
  const i = Math.floor(((v - lo) / (hi - lo)) * bins);
  return i < 0 ? 0 : i >= bins ? bins - 1 : i;
}

/** Add every pixel of one interleaved 8-bit RGB image. */
export function addImageToLabHistograms(h: LabHistograms, rgb: Uint8Array): void {
  if (rgb.length % 3 !== 0) throw new Error(`addImageToLabHistograms: ${rgb.length} bytes is not a whole number of RGB pixels`);
  const { bins, L, a, b } = h;
  const [l0, l1] = h.ranges.L;
  const [a0, a1] = h.ranges.a;
  const [b0, b1] = h.ranges.b;
  const lab = new Float64Array(3);
  for (let i = 0; i < rgb.length; i += 3) {
    labOfBytes(rgb[i], rgb[i + 1], rgb[i + 2], lab, 0);
    L[binIndex(lab[0], l0, l1, bins)]++;
    a[binIndex(lab[1], a0, a1, bins)]++;
    b[binIndex(lab[2], b0, b1, bins)]++;
  }
  h.pixels += rgb.length / 3;
  h.images++;
}

/** Pooled histograms of many RGB images (interleaved 8-bit). */
export function labHistograms(images: Iterable<Uint8Array>, bins: number = DEFAULT_LAB_BINS, ranges: LabRanges = DEFAULT_LAB_RANGES): LabHistograms {
  const h = createLabHistograms(bins, ranges);
  for (const img of images) addImageToLabHistograms(h, img);
  return h;
}

/**
 * Σ_i min(p[i], q[i]) where p and q are h1 and h2 each divided by its own total: 1 for identical
 * distributions, 0 for disjoint ones. An empty histogram has no distribution, so that is an error.
 */
export function histogramIntersection(h1: ArrayLike<number>, h2: ArrayLike<number>): number {
  if (h1.length !== h2.length) throw new Error(`histogramIntersection: ${h1.length} vs ${h2.length} bins`);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < h1.length; i++) {
    s1 += h1[i];
    s2 += h2[i];
  }
  if (!(s1 > 0) || !(s2 > 0)) throw new Error('histogramIntersection: a histogram is empty (no pixels)');
  let hi = 0;
  for (let i = 0; i < h1.length; i++) hi += Math.min(h1[i] / s1, h2[i] / s2);
  return hi;
}

export interface LabIntersections {
  L: number;
  a: number;
  b: number;
}

/** Per-channel intersections of generated vs real histograms (the numbers of Figure 7's table). */
export function labIntersections(generated: LabHistograms, real: LabHistograms): LabIntersections {
  if (generated.bins !== real.bins) throw new Error(`labIntersections: ${generated.bins} vs ${real.bins} bins`);
  for (const ch of LAB_CHANNELS) {
    const [g0, g1] = generated.ranges[ch];
    const [r0, r1] = real.ranges[ch];
    if (g0 !== r0 || g1 !== r1) throw new Error(`labIntersections: ${ch} ranges differ`);
  }
  return {
    L: histogramIntersection(generated.L, real.L),
    a: histogramIntersection(generated.a, real.a),
    b: histogramIntersection(generated.b, real.b),
  };
}
