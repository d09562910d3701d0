/** FCN-score (pix2pix Tables 1–3): a segmenter labels each generated photo; scored against the ground truth. */
import * as path from 'node:path';
import { CONFUSION_METRICS, confusionOutput, requireLabels } from './confusion-metrics.ts';
import type { Scorer } from './scorer.ts';

export const fcnScorer: Scorer = {
  name: 'fcn',
  summary: 'FCN-score: a segmenter labels each generated photo; per-pixel acc., per-class acc. and class IoU against the ground truth',
  defaultFor: ['labels2photo'],
  tasks: ['labels2photo'],
  metrics: CONFUSION_METRICS,
  needsLabels: true,
  needsSegmenter: true,
  key: (c) => ({ metric: 'fcn', segmenter: c.segmenter === 'train' ? `train:${c.segmenterHash}` : path.resolve(c.segmenter), mode: c.mode }),
  async score(input) {
    const { loadSegmenterSpec, runSegmenterOnnx } = await import('../../eval/segmenter.ts');
    const { runFcnScore } = await import('../../eval/fcn-score.ts');
    const model = input.segmenterModel;
    if (!model) throw new Error(`${input.experiment}: the FCN-score needs a segmenter and none was prepared`);
    const labelsDir = requireLabels(input);
    const spec = await loadSegmenterSpec(model);
    const session = await runSegmenterOnnx(model, spec);
    try {
      return confusionOutput(
        await runFcnScore({ imagesDir: input.imagesDir, labelsDir, model: session.model, spec, modelName: model, mode: input.config.mode }),
      );
    } finally {
      await session.release();
    }
  },
  describe: (c, trained) => trained ?? `FCN ${c.segmenter}`,
  confusionMode: (c) => c.mode,
  // The ceiling, and what the judge gives photos as blurry as an L1-only generator's (docs/statistics.md).
  referenceRows: [
    { name: 'ground-truth', label: 'Ground truth', blurred: false },
    { name: 'ground-truth-blurred', label: 'Ground truth, blurred', blurred: true },
  ],
};
