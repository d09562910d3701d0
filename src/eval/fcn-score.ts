/**
 * FCN-score (pix2pix Tables 1–3, docs/reference.md#fcn-score): segment each generated photo with a pretrained
 * segmenter and score its prediction against the full-resolution Cityscapes ground truth.
 * Per frame, exactly as the reference evaluate.py: GT labelIds → trainIds (never resized);
 * generated image resized to the segmenter's input size (PIL bilinear for the FCN-8s preset);
 * network; argmax; accumulate the 19×19 confusion; scores from the summed matrix.
 */
import { readImage, readLabelImage } from '../data/image.ts';
import { prefetch } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { accumulateConfusion, createConfusion, type ConfusionMatrix, type ConfusionMode } from './confusion.ts';
import { labelIdsToTrainIds } from './labels.ts';
import { pairFrames, type FramePair, type LabelEncoding } from './pairing.ts';
import { fcnScores, type FcnScores } from './scores.ts';
import { segmentImage, type SegmenterModel, type SegmenterSpec } from './segmenter.ts';

export interface GroundTruth {
  width: number;
  height: number;
  /** trainIds 0..18, 255 = ignored */
  data: Uint8Array;
}

/** Read a label map and bring it to trainIds (labelIds go through the labels.py table). */
async function readGroundTruth(file: string, encoding: LabelEncoding): Promise<GroundTruth> {
  const img = await readLabelImage(file);
  return { width: img.width, height: img.height, data: encoding === 'labelIds' ? labelIdsToTrainIds(img.data) : img.data };
}

export interface EvalProgress {
  /** Called after each frame with the number done and the total. */
  onFrame?: (done: number, total: number, pair: FramePair) => void;
}

export interface ScoreResult {
  scores: FcnScores;
  confusion: ConfusionMatrix;
  pairs: FramePair[];
}

export interface FcnScoreOptions extends EvalProgress {
  imagesDir: string;
  labelsDir: string;
  model: SegmenterModel;
  spec: SegmenterSpec;
  /** Names the segmenter in errors (its file). */
  modelName: string;
  labelEncoding?: LabelEncoding;
  /**
   * 'reference' reproduces evaluate.py bit for bit: raw argmax classes (not classToTrainId) go to
   * fast_hist with its quirks (see confusion.ts).
   */
  mode?: ConfusionMode;
}

/** Score one frame; exported for callers that drive frames themselves. */
export async function accumulateFcnFrame(
  conf: ConfusionMatrix,
  pair: FramePair,
  image: Awaited<ReturnType<typeof readImage>>,
  gt: GroundTruth,
  opts: Pick<FcnScoreOptions, 'model' | 'spec' | 'modelName' | 'mode'>,
): Promise<void> {
  // fast_hist saw the raw argmax (the FCN's class 19 included), so the reference mode must too.
  const spec = opts.mode === 'reference' ? { ...opts.spec, classToTrainId: Array.from({ length: opts.spec.numClasses }, (_, c) => c) } : opts.spec;
  const pred = await segmentImage(image, opts.model, spec, opts.spec.inputSize ?? [gt.width, gt.height], opts.modelName);
  if (pred.width !== gt.width || pred.height !== gt.height) {
    throw new UserError(
      `${pair.image}: the segmenter's prediction is ${pred.width}×${pred.height} but the label ${pair.label} is ${gt.width}×${gt.height}; set the segmenter's inputSize to the label size (or omit it) so they match.`,
    );
  }
  accumulateConfusion(conf, gt.data, pred.data, { mode: opts.mode, source: pair.label });
}

/**
 * Visit each (generated image, ground truth) pair in order, decoding the next pair while the current one
 * is processed (libvips decodes on its own threads).
 */
export async function forEachFrame(
  pairs: FramePair[],
  encoding: LabelEncoding,
  visit: (pair: FramePair, image: Awaited<ReturnType<typeof readImage>>, gt: Awaited<ReturnType<typeof readGroundTruth>>) => Promise<void> | void,
  onFrame?: EvalProgress['onFrame'],
): Promise<void> {
  const load = async (pair: FramePair) => {
    const [image, gt] = await Promise.all([readImage(pair.image), readGroundTruth(pair.label, encoding)]);
    return { pair, image, gt };
  };
  let done = 0;
  for await (const { pair, image, gt } of prefetch(pairs, load)) {
    await visit(pair, image, gt);
    onFrame?.(++done, pairs.length, pair);
  }
}

export async function runFcnScore(opts: FcnScoreOptions): Promise<ScoreResult> {
  const encoding = opts.labelEncoding ?? 'labelIds';
  const pairs = await pairFrames(opts.imagesDir, opts.labelsDir, { encoding, imagesFlag: '--generated', labelsFlag: '--labels' });
  const conf = createConfusion();
  await forEachFrame(pairs, encoding, async (pair, image, gt) => accumulateFcnFrame(conf, pair, image, gt, opts), opts.onFrame);
  return { scores: fcnScores(conf), confusion: conf, pairs };
}
