import { describe, expect, it } from 'vitest';
import { NUM_TRAIN_IDS } from '../../src/data/cityscapes.ts';
import { segmentationLoss } from '../../src/train/segmenter.ts';
import * as tf from '../../src/train/tfjs.ts';

describe('the segmenter loss', () => {
  it('is the class-weighted mean cross-entropy, ignored pixels weighing nothing', async () => {
    // Three pixels: A (class 0, weight 3) with all logits 0 → nll ln 19; B (class 1, weight 1) with
    // logit ln 18 for class 1 → p = 18 / (18 + 18) = 1/2, nll ln 2; C ignored (255) with any logits.
    const logits = new Float32Array(3 * NUM_TRAIN_IDS);
    logits[NUM_TRAIN_IDS + 1] = Math.log(18);
    logits[2 * NUM_TRAIN_IDS + 4] = 50;
    const loss = segmentationLoss(
      tf.tensor4d(logits, [1, 1, 3, NUM_TRAIN_IDS]),
      tf.tensor3d([0, 1, 255], [1, 1, 3], 'int32'),
      tf.tensor3d([3, 1, 0], [1, 1, 3]),
    );
    expect((await loss.data())[0]).toBeCloseTo((3 * Math.log(19) + Math.log(2)) / 4, 5);
  });
});
