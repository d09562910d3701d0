/** The five FCN-score metrics shared by the scorers that count a confusion matrix (fcn, labels). */
import type { ScoreResult } from '../../eval/fcn-score.ts';
import { UserError } from '../../util/errors.ts';
import type { MetricInfo, ScoreOutput } from './scorer.ts';

export const CONFUSION_METRICS: readonly MetricInfo[] = [
  { key: 'pixelAcc', name: 'Per-pixel acc.', short: 'pixel' },
  { key: 'classAcc', name: 'Per-class acc.', short: 'class' },
  { key: 'classIoU', name: 'Class IOU', short: 'IoU' },
  { key: 'classAccPresent', name: 'Per-class acc. (classes present)', short: 'class*' },
  { key: 'classIoUPresent', name: 'Class IOU (classes present)', short: 'IoU*' },
];

export function confusionOutput(r: ScoreResult): ScoreOutput {
  return {
    metrics: {
      pixelAcc: r.scores.pixelAcc,
      classAcc: r.scores.meanClassAcc,
      classIoU: r.scores.meanClassIoU,
      classAccPresent: r.scores.presentClassAcc,
      classIoUPresent: r.scores.presentClassIoU,
    },
    perClass: { classAcc: r.scores.classAcc, classIoU: r.scores.classIoU, classPixels: r.scores.classPixels },
    frames: r.confusion.frames,
  };
}

/** The labels folder, or the one-line error saying which setting provides it. */
export function requireLabels(input: { labelsDir: string | null; experiment: string }): string {
  if (input.labelsDir) return input.labelsDir;
  throw new UserError(
    `${input.experiment}: the dataset has no ground-truth labels for scoring; set dataset.labels to the folder of *_gtFine_labelIds.png of the test split`,
  );
}
