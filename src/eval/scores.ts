/**
 * The three FCN-scores of pix2pix Tables 1–3 and 6 from a confusion matrix, with the reference
 * semantics of `get_scores` (pix2pix/scripts/eval_cityscapes/util.py, docs/reference.md#fcn-metrics):
 * - every denominator gets +1e-12, so nothing is ever NaN;
 * - a class absent from the ground truth therefore scores accuracy 0 and IoU 0 (even if predicted)
 *   and IS included in the means: numpy's nanmean over 19 never sees a NaN, so it is a plain mean.
 * Pixels predicted as "ignore" (strict mode's extra column) count in their ground-truth row only.
 *
 * Beside the reference means, the means over the classes present in the ground truth: on data
 * where some classes never occur, the 19-class mean is capped below 1 by the absent ones and says
 * more about the data than about the model.
 */
import type { ConfusionMatrix } from './confusion.ts';

export interface FcnScores {
  /** Σ diag / Σ all counted pixels ("Per-pixel acc."). */
  pixelAcc: number;
  /** Plain mean of classAcc over all classes ("Per-class acc."). */
  meanClassAcc: number;
  /** Plain mean of classIoU over all classes ("Class IOU"). */
  meanClassIoU: number;
  /** diag_c / (ground-truth pixels of c + 1e-12). */
  classAcc: number[];
  /** diag_c / (gt_c + predicted_c − diag_c + 1e-12). */
  classIoU: number[];
  /** Ground-truth pixels per class (row sums), for reporting which classes were present. */
  classPixels: number[];
  /** Classes with ground-truth pixels. */
  presentClasses: number;
  /** Mean of classAcc over the present classes only (0 when none is present). */
  presentClassAcc: number;
  /** Mean of classIoU over the present classes only (0 when none is present). */
  presentClassIoU: number;
}

const EPS = 1e-12;

export function fcnScores(conf: ConfusionMatrix): FcnScores {
  const n = conf.numClasses;
  const { counts, predictedIgnore } = conf;
  const rowSum = new Array<number>(n).fill(0);
  const colSum = new Array<number>(n).fill(0);
  let total = 0;
  let diagTotal = 0;
  for (let g = 0; g < n; g++) {
    for (let p = 0; p < n; p++) {
      const c = counts[g * n + p];
      rowSum[g] += c;
      colSum[p] += c;
    }
    rowSum[g] += predictedIgnore[g];
    total += rowSum[g];
    diagTotal += counts[g * n + g];
  }
  const classAcc: number[] = [];
  const classIoU: number[] = [];
  for (let c = 0; c < n; c++) {
    const diag = counts[c * n + c];
    classAcc.push(diag / (rowSum[c] + EPS));
    classIoU.push(diag / (rowSum[c] + colSum[c] - diag + EPS));
  }
  const present = rowSum.flatMap((r, c) => (r > 0 ? [c] : []));
  return {
    pixelAcc: diagTotal / (total + EPS),
    meanClassAcc: mean(classAcc),
    meanClassIoU: mean(classIoU),
    classAcc,
    classIoU,
    classPixels: rowSum,
    presentClasses: present.length,
    presentClassAcc: present.length ? mean(present.map((c) => classAcc[c])) : 0,
    presentClassIoU: present.length ? mean(present.map((c) => classIoU[c])) : 0,
  };
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}
