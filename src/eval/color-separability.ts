/**
 * How much of a segmentation can colour alone recover: the nearest-class-mean-colour classifier.
 * Each evaluated class (trainIds 0..18) gets its mean RGB over a fitting set of photos; every pixel
 * of another set is then given the class whose mean is nearest in squared RGB distance. Its
 * FCN-scores (same confusion matrix and means as the judge's) are the share of a segmentation that
 * a judge reading only colour can get: high when classes have distinct colours, low when their
 * colour distributions overlap and identity lies in structure and texture.
 */
import { type ConfusionMatrix, IGNORE_LABEL, NUM_EVAL_CLASSES, accumulateConfusion } from './confusion.ts';

export interface ClassColorSums {
  /** Σ RGB per class, 3 per class. */
  readonly sums: Float64Array;
  /** Pixels per class. */
  readonly counts: Float64Array;
}

export function createClassColorSums(numClasses: number = NUM_EVAL_CLASSES): ClassColorSums {
  return { sums: new Float64Array(numClasses * 3), counts: new Float64Array(numClasses) };
}

/** Add one photo (interleaved RGB) with its trainIds (255 and ids ≥ numClasses are skipped). */
export function addClassColors(acc: ClassColorSums, rgb: Uint8Array, trainIds: Uint8Array): void {
  if (rgb.length !== trainIds.length * 3) throw new Error(`addClassColors: ${rgb.length / 3} photo pixels but ${trainIds.length} labels`);
  const n = acc.counts.length;
  for (let p = 0; p < trainIds.length; p++) {
    const c = trainIds[p];
    if (c >= n) continue;
    acc.counts[c]++;
    acc.sums[c * 3] += rgb[p * 3];
    acc.sums[c * 3 + 1] += rgb[p * 3 + 1];
    acc.sums[c * 3 + 2] += rgb[p * 3 + 2];
  }
}

/** Mean RGB per class; a class with no pixels gets NaN (it can never be predicted). */
export function classMeanColors(acc: ClassColorSums): Float64Array {
  const means = new Float64Array(acc.sums.length);
  for (let c = 0; c < acc.counts.length; c++) for (let k = 0; k < 3; k++) means[c * 3 + k] = acc.counts[c] > 0 ? acc.sums[c * 3 + k] / acc.counts[c] : NaN;
  return means;
}

/** Each pixel's class by nearest mean colour (ties go to the lower trainId; IGNORE_LABEL if no class has a mean). */
export function nearestMeanColorClasses(rgb: Uint8Array, means: Float64Array): Uint8Array {
  const n = means.length / 3;
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) {
    let best = IGNORE_LABEL;
    let bestD = Infinity;
    for (let c = 0; c < n; c++) {
      const m0 = means[c * 3];
      if (Number.isNaN(m0)) continue;
      const d = (rgb[p * 3] - m0) ** 2 + (rgb[p * 3 + 1] - means[c * 3 + 1]) ** 2 + (rgb[p * 3 + 2] - means[c * 3 + 2]) ** 2;
      if (d < bestD) [bestD, best] = [d, c];
    }
    out[p] = best;
  }
  return out;
}

/** Classify one photo by nearest mean colour and add it to `conf` against its trainIds. */
export function accumulateNearestMeanColor(conf: ConfusionMatrix, rgb: Uint8Array, trainIds: Uint8Array, means: Float64Array): void {
  accumulateConfusion(conf, trainIds, nearestMeanColorClasses(rgb, means));
}
