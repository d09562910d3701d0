/**
 * The judge's blur sensitivity: does the FCN-score segmenter need sharp structure, or does it read
 * region colour? It scores the real test photos as they are (the ceiling, "Ground truth"), Gaussian-
 * blurred (what an L1-only generator's regression to the mean does to edges and texture), and
 * shrunk and enlarged back (texture gone, region colours kept). A judge fit to reproduce the paper's
 * tables loses much of its per-class accuracy on blurred photos: the paper's L1-only row is 0.58× its
 * ground truth per class; BLUR_CHECK_TARGET is the bound this project asks of its proxy.
 */
import { createConfusion, type ConfusionMatrix, type ConfusionMode } from './confusion.ts';
import { accumulateFcnFrame, forEachFrame } from './fcn-score.ts';
import { bootstrapFrames, sumConfusions, type BootstrapInterval } from './frame-bootstrap.ts';
import { pairFrames, type LabelEncoding } from './pairing.ts';
import { fcnScores, type FcnScores } from './scores.ts';
import type { SegmenterModel, SegmenterSpec } from './segmenter.ts';
import { gaussianBlurRgb, shrinkEnlargeRgb } from '../image/blur.ts';
import { BLUR_CHECK_TARGET } from './blur-reference.ts';

export { BLUR_CHECK_TARGET };

const BLUR_CONDITIONS = ['groundTruth', 'blurred', 'shrunk'] as const;
export type BlurCondition = (typeof BLUR_CONDITIONS)[number];

export interface BlurCheckOptions {
  imagesDir: string;
  labelsDir: string;
  model: SegmenterModel;
  spec: SegmenterSpec;
  modelName: string;
  /** Gaussian standard deviation in pixels of the photos as stored. */
  sigma: number;
  /** Block size of the shrink-enlarge condition. */
  shrinkFactor: number;
  labelEncoding?: LabelEncoding;
  mode?: ConfusionMode;
  /** Bootstrap resamples of the frames for the ratios' intervals. */
  resamples?: number;
  onFrame?: (done: number, total: number) => void;
}

export interface BlurCheckResult {
  sigma: number;
  shrinkFactor: number;
  frames: number;
  scores: Record<BlurCondition, FcnScores>;
  /** Condition / ground truth in mean per-class accuracy, with 95% frame-bootstrap intervals. */
  classAccRatio: { blurred: BootstrapInterval; shrunk: BootstrapInterval };
  /** The same for per-pixel accuracy. */
  pixelAccRatio: { blurred: BootstrapInterval; shrunk: BootstrapInterval };
  /** Blurred per-class accuracy ≤ BLUR_CHECK_TARGET × ground truth (point estimate). */
  passes: boolean;
}

/** Score the test photos as they are, blurred and shrunk-enlarged, frame by frame. */
export async function runBlurCheck(o: BlurCheckOptions): Promise<BlurCheckResult> {
  const encoding = o.labelEncoding ?? 'labelIds';
  const pairs = await pairFrames(o.imagesDir, o.labelsDir, { encoding, imagesFlag: '--images', labelsFlag: '--labels' });
  const perFrame: Record<BlurCondition, ConfusionMatrix[]> = { groundTruth: [], blurred: [], shrunk: [] };
  await forEachFrame(
    pairs,
    encoding,
    async (pair, image, gt) => {
      const versions: Record<BlurCondition, typeof image> = {
        groundTruth: image,
        blurred: gaussianBlurRgb(image, o.sigma),
        shrunk: shrinkEnlargeRgb(image, o.shrinkFactor),
      };
      for (const c of BLUR_CONDITIONS) {
        const conf = createConfusion();
        await accumulateFcnFrame(conf, pair, versions[c], gt, o);
        perFrame[c].push(conf);
      }
    },
    o.onFrame,
  );
  return summarizeBlurCheck(perFrame, o.sigma, o.shrinkFactor, o.resamples);
}

/** Scores and ratio intervals from per-frame confusion matrices of the three conditions. */
export function summarizeBlurCheck(perFrame: Record<BlurCondition, ConfusionMatrix[]>, sigma: number, shrinkFactor: number, resamples = 1000): BlurCheckResult {
  const conds = BLUR_CONDITIONS.map((c) => perFrame[c]);
  const ratio = (i: number, key: 'meanClassAcc' | 'pixelAcc') =>
    bootstrapFrames(conds, (s) => fcnScores(s[i])[key] / fcnScores(s[0])[key], { resamples, seed: 1 });
  const all = (c: BlurCondition) => fcnScores(sumConfusions(perFrame[c], Array.from(perFrame[c].keys())));
  const scores = { groundTruth: all('groundTruth'), blurred: all('blurred'), shrunk: all('shrunk') };
  const classAccRatio = { blurred: ratio(1, 'meanClassAcc'), shrunk: ratio(2, 'meanClassAcc') };
  return {
    sigma,
    shrinkFactor,
    frames: perFrame.groundTruth.length,
    scores,
    classAccRatio,
    pixelAccRatio: { blurred: ratio(1, 'pixelAcc'), shrunk: ratio(2, 'pixelAcc') },
    passes: classAccRatio.blurred.value <= BLUR_CHECK_TARGET,
  };
}
