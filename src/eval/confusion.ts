/**
 * The 19×19 confusion matrix of the Cityscapes FCN-score (docs/reference.md#fcn-metrics), accumulated frame by frame.
 * Rows are ground-truth trainIds, columns are predicted trainIds: counts[g * n + p] = number of
 * pixels whose ground truth is g and whose prediction is p.
 *
 * Counts are Float64: 500 frames of 1024×2048 are 1.05e9 pixels, and one cell (e.g. road→road)
 * can hold a third of them, close to uint32's limit; doubles count exactly up to 2^53.
 *
 * Two modes:
 * - 'strict' (default): ground truth must be a trainId 0..n−1 or 255 (ignored); anything else is a
 *   UserError, since it means label ids were not mapped to trainIds. Predictions must be 0..n−1 or
 *   255 ("predicted a class that is not evaluated", e.g. the FCN's 20th output after its
 *   classToTrainId mapping); such pixels count against their ground-truth row (lowering that class's
 *   accuracy and IoU) but are in no class's column, as in the official Cityscapes evaluation.
 * - 'reference': bit-for-bit the reference `fast_hist(gt, pred, n)` of
 *   pix2pix/scripts/eval_cityscapes/util.py: pixels with gt outside 0..n−1 are silently dropped
 *   (not only 255); every other pixel is binned at index n·gt + pred with pred taken as is, so
 *   pred = n with gt = g < n−1 lands in cell [g+1][0], and if any index reaches n² (e.g. gt = 18,
 *   pred = 19) numpy's bincount grows past n² and the reference drops the WHOLE frame.
 */
import { UserError } from '../util/errors.ts';

export const NUM_EVAL_CLASSES = 19;
export const IGNORE_LABEL = 255;

export type ConfusionMode = 'strict' | 'reference';

export interface ConfusionMatrix {
  readonly numClasses: number;
  /** counts[g * numClasses + p]: pixels with ground truth g predicted as p. */
  readonly counts: Float64Array;
  /** predictedIgnore[g]: pixels with ground truth g predicted as 255 (strict mode only). */
  readonly predictedIgnore: Float64Array;
  /** Frames that contributed (in reference mode, dropped frames are not counted here). */
  frames: number;
  /** Frames the reference quirk dropped entirely (reference mode only). */
  droppedFrames: number;
}

export interface AccumulateOptions {
  mode?: ConfusionMode;
  /** Names the frame in error messages (e.g. the label file). */
  source?: string;
}

export interface FrameOutcome {
  /** false when reference mode dropped the frame. */
  counted: boolean;
  /** Pixels added to the matrix (ignored pixels excluded). */
  pixels: number;
}

export function createConfusion(numClasses: number = NUM_EVAL_CLASSES): ConfusionMatrix {
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 255) {
    throw new Error(`createConfusion: numClasses must be an integer in 1..255, got ${numClasses}`);
  }
  return {
    numClasses,
    counts: new Float64Array(numClasses * numClasses),
    predictedIgnore: new Float64Array(numClasses),
    frames: 0,
    droppedFrames: 0,
  };
}

/**
 * One joint histogram of (gt, pred) byte pairs is filled per frame with the cheapest possible loop
 * (one load of each byte, one increment), then folded into the matrix with all validation and
 * reference quirks applied on 65 536 cells instead of millions of pixels. Reused across calls.
 */
const JOINT_SCRATCH = new Uint32Array(65536);

function jointHistogram(gt: Uint8Array, pred: Uint8Array): Uint32Array {
  const joint = JOINT_SCRATCH;
  const len = gt.length;
  for (let i = 0; i < len; i++) joint[(gt[i] << 8) | pred[i]]++;
  return joint;
}

function describe(source: string | undefined): string {
  return source ? `${source}: ` : '';
}

/** Add one frame (flattened ground truth and prediction of equal length) to `conf`. */
export function accumulateConfusion(conf: ConfusionMatrix, gt: Uint8Array, pred: Uint8Array, opts: AccumulateOptions = {}): FrameOutcome {
  const mode = opts.mode ?? 'strict';
  if (gt.length !== pred.length) {
    throw new UserError(`${describe(opts.source)}ground truth has ${gt.length} pixels but the prediction has ${pred.length}; they must be the same size.`);
  }
  const n = conf.numClasses;
  const joint = jointHistogram(gt, pred);
  try {
    return mode === 'reference' ? foldReference(conf, joint, n) : foldStrict(conf, joint, n, opts.source);
  } finally {
    joint.fill(0);
  }
}

function foldStrict(conf: ConfusionMatrix, joint: Uint32Array, n: number, source: string | undefined): FrameOutcome {
  // Validate first so a rejected frame leaves the matrix untouched.
  for (let g = 0; g < 256; g++) {
    const row = g << 8;
    for (let p = 0; p < 256; p++) {
      if (joint[row | p] === 0) continue;
      if (g >= n && g !== IGNORE_LABEL) {
        throw new UserError(
          `${describe(source)}ground-truth value ${g} is not a trainId (0-${n - 1}) or ${IGNORE_LABEL}; map raw label ids to trainIds first (e.g. use *_gtFine_labelIds.png, which eval maps for you).`,
        );
      }
      if (g !== IGNORE_LABEL && p >= n && p !== IGNORE_LABEL) {
        throw new UserError(
          `${describe(source)}predicted value ${p} is not a trainId (0-${n - 1}) or ${IGNORE_LABEL}; map the segmenter's classes to trainIds (classToTrainId) first.`,
        );
      }
    }
  }
  let pixels = 0;
  for (let g = 0; g < n; g++) {
    const row = g << 8;
    for (let p = 0; p < n; p++) {
      const c = joint[row | p];
      conf.counts[g * n + p] += c;
      pixels += c;
    }
    const ignored = joint[row | IGNORE_LABEL];
    conf.predictedIgnore[g] += ignored;
    pixels += ignored;
  }
  conf.frames++;
  return { counted: true, pixels };
}

function foldReference(conf: ConfusionMatrix, joint: Uint32Array, n: number): FrameOutcome {
  const nn = n * n;
  for (let g = 0; g < n; g++) {
    const row = g << 8;
    for (let p = 0; p < 256; p++) {
      if (joint[row | p] !== 0 && n * g + p >= nn) {
        conf.droppedFrames++;
        return { counted: false, pixels: 0 };
      }
    }
  }
  let pixels = 0;
  for (let g = 0; g < n; g++) {
    const row = g << 8;
    for (let p = 0; p < 256; p++) {
      const c = joint[row | p];
      if (c === 0) continue;
      // The flat bincount index n·g + p, reshaped to n×n, is exactly the flat cell index.
      conf.counts[n * g + p] += c;
      pixels += c;
    }
  }
  conf.frames++;
  return { counted: true, pixels };
}

/** Add `from` into `into` (e.g. matrices accumulated by parallel workers). */
export function mergeConfusion(into: ConfusionMatrix, from: ConfusionMatrix): void {
  if (into.numClasses !== from.numClasses) {
    throw new Error(`mergeConfusion: ${into.numClasses} vs ${from.numClasses} classes`);
  }
  for (let i = 0; i < into.counts.length; i++) into.counts[i] += from.counts[i];
  for (let i = 0; i < into.predictedIgnore.length; i++) into.predictedIgnore[i] += from.predictedIgnore[i];
  into.frames += from.frames;
  into.droppedFrames += from.droppedFrames;
}

/** Build a matrix from nested rows (tests, CSV round trips). */
export function confusionFromRows(rows: readonly (readonly number[])[], predictedIgnore?: readonly number[]): ConfusionMatrix {
  const n = rows.length;
  const conf = createConfusion(n);
  rows.forEach((row, g) => {
    if (row.length !== n) throw new Error(`confusionFromRows: row ${g} has ${row.length} entries, expected ${n}`);
    row.forEach((v, p) => (conf.counts[g * n + p] = v));
  });
  predictedIgnore?.forEach((v, g) => (conf.predictedIgnore[g] = v));
  return conf;
}
