import * as tf from './tfjs.ts';

export type GanMode = 'vanilla' | 'lsgan';

/** Mean binary cross-entropy with logits against a constant target (1 = real, 0 = fake), numerically stable. */
function bceWithLogits(logits: tf.Tensor, target: 0 | 1): tf.Scalar {
  // max(x,0) − x·t + log(1 + e^{−|x|})
  const x = logits;
  const loss = tf.add(tf.sub(tf.relu(x), target === 1 ? x : tf.zerosLike(x)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
  return tf.mean<tf.Scalar>(loss);
}

/** The GAN criterion on one logit map: vanilla (BCE with logits, the pix2pix default) or LSGAN (mean squared error). */
function mapLoss(logits: tf.Tensor, target: 0 | 1, mode: GanMode): tf.Scalar {
  if (mode === 'vanilla') return bceWithLogits(logits, target);
  return tf.mean<tf.Scalar>(tf.square(tf.sub(logits, target)));
}

/**
 * The GAN loss of a discriminator's logit maps, one per scale: the criterion's mean over each map,
 * summed over the maps (pix2pixHD's GANLoss). With one map it is that map's loss, nothing added.
 */
export function ganLoss(maps: readonly tf.Tensor[], target: 0 | 1, mode: GanMode): tf.Scalar {
  if (maps.length === 0) throw new Error('ganLoss: no logit maps');
  return maps.map((m) => mapLoss(m, target, mode)).reduce((sum, l) => tf.add(sum, l));
}

/** Mean absolute error over every element (PyTorch L1Loss). */
export function l1Loss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.mean<tf.Scalar>(tf.abs(tf.sub(a, b)));
}

/** Learning-rate multiplier of the linear policy (docs/reference.md#lr-schedule, 2025 master): constant, then linear decay to ~0. */
export function lrMultiplier(epoch: number, epochs: number, epochsDecay: number): number {
  return 1 - Math.max(0, epoch - epochs) / (epochsDecay + 1);
}
