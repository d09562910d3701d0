/** photo→labels (pix2pix Table 6): generated colour label maps → trainIds by nearest Cityscapes colour, scored like the FCN-score. */
import { CONFUSION_METRICS, confusionOutput, requireLabels } from './confusion-metrics.ts';
import type { Scorer } from './scorer.ts';

export const labelsScorer: Scorer = {
  name: 'labels',
  summary: 'generated colour label maps read by nearest Cityscapes colour; per-pixel acc., per-class acc. and class IoU against the ground truth',
  defaultFor: ['photo2labels'],
  tasks: ['photo2labels'],
  metrics: CONFUSION_METRICS,
  needsLabels: true,
  needsSegmenter: false,
  key: (c) => ({ metric: 'labels', voidColors: c.voidColors, mode: c.mode }),
  async score(input) {
    const { runLabelScore } = await import('../../eval/label-score.ts');
    const labelsDir = requireLabels(input);
    return confusionOutput(await runLabelScore({ predDir: input.imagesDir, labelsDir, voidColors: input.config.voidColors, mode: input.config.mode }));
  },
  describe: () => 'none (generated colour maps → trainIds by nearest Cityscapes colour)',
  confusionMode: (c) => c.mode,
};
