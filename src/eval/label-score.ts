/**
 * photo→labels scores (pix2pix Table 6, docs/reference.md#photo2labels): generated colour label maps → trainIds by
 * nearest Cityscapes colour → the same confusion matrix and scores as the FCN-score.
 * The authors did not publish this step; see labels.ts for the colour rule. Resolution is not
 * published either: by default the predicted trainId map is upsampled (nearest) to the label's
 * size so the ground truth is never resized, as in the FCN-score protocol; 'prediction' instead
 * downsamples the ground truth (nearest) to the prediction's size.
 */
import { accumulateConfusion, createConfusion, type ConfusionMode } from './confusion.ts';
import { forEachFrame, type EvalProgress, type ScoreResult } from './fcn-score.ts';
import { ColorToTrainId, type VoidColors } from './labels.ts';
import { pairFrames, type LabelEncoding } from './pairing.ts';
import { resizeNearest } from '../data/resize.ts';
import { fcnScores } from './scores.ts';

export type ScoreResolution = 'label' | 'prediction';

export interface LabelScoreOptions extends EvalProgress {
  predDir: string;
  labelsDir: string;
  voidColors?: VoidColors;
  resolution?: ScoreResolution;
  labelEncoding?: LabelEncoding;
  mode?: ConfusionMode;
}

export async function runLabelScore(opts: LabelScoreOptions): Promise<ScoreResult> {
  const encoding = opts.labelEncoding ?? 'labelIds';
  const pairs = await pairFrames(opts.predDir, opts.labelsDir, { encoding, imagesFlag: '--generated', labelsFlag: '--labels' });
  const toTrainIds = new ColorToTrainId(opts.voidColors ?? 'none');
  const resolution = opts.resolution ?? 'label';
  const conf = createConfusion();
  await forEachFrame(
    pairs,
    encoding,
    (pair, image, gt) => {
      let pred = { width: image.width, height: image.height, data: toTrainIds.map(image.data) };
      let truth = gt.data;
      if (pred.width !== gt.width || pred.height !== gt.height) {
        if (resolution === 'label') pred = resizeNearest(pred, gt.width, gt.height, 1);
        else truth = resizeNearest(gt, pred.width, pred.height, 1).data;
      }
      accumulateConfusion(conf, truth, pred.data, { mode: opts.mode, source: pair.label });
    },
    opts.onFrame,
  );
  return { scores: fcnScores(conf), confusion: conf, pairs };
}
