/**
 * Class weights for the segmenter's cross-entropy. The FCN-score's per-class accuracy and class IoU
 * average the classes equally, so a judge trained with plain cross-entropy, which counts pixels, learns
 * the large classes (road, building, sky) and never the thin ones (poles, signs, people) that carry the
 * structure blur removes. Median-frequency balancing (Eigen & Fergus, ICCV 2015; used by SegNet) weighs
 * each class by median(f) / f_c, where f_c is the class's pixel count divided by the pixel count of the
 * images it occurs in.
 */

import type { ClassWeighting } from '../options/segmenter.ts';

/** Per-class pixel counts and the pixel count of the images each class occurs in. */
export interface ClassFrequencies {
  classPixels: Float64Array;
  imagePixelsWherePresent: Float64Array;
}

export function createClassFrequencies(numClasses: number): ClassFrequencies {
  return { classPixels: new Float64Array(numClasses), imagePixelsWherePresent: new Float64Array(numClasses) };
}

/** Adds one image's labels (ids ≥ numClasses are ignored, as in the loss). */
export function addImageFrequencies(f: ClassFrequencies, ids: ArrayLike<number>): void {
  const n = f.classPixels.length;
  const counts = new Float64Array(n);
  let valid = 0;
  for (let i = 0; i < ids.length; i++) {
    const c = ids[i];
    if (c >= n) continue;
    counts[c] += 1;
    valid += 1;
  }
  for (let c = 0; c < n; c++) {
    if (counts[c] === 0) continue;
    f.classPixels[c] += counts[c];
    f.imagePixelsWherePresent[c] += valid;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * One weight per class: median-frequency (classes absent from the data get 0, and the median is over
 * the classes present), or 1 for every class with 'none'.
 */
export function classWeights(f: ClassFrequencies, weighting: ClassWeighting): Float32Array {
  const n = f.classPixels.length;
  if (weighting === 'none') return new Float32Array(n).fill(1);
  const freq = Array.from({ length: n }, (_, c) => (f.classPixels[c] > 0 ? f.classPixels[c] / f.imagePixelsWherePresent[c] : 0));
  const present = freq.filter((x) => x > 0);
  if (!present.length) return new Float32Array(n).fill(1);
  const med = median(present);
  return Float32Array.from(freq, (x) => (x > 0 ? med / x : 0));
}
