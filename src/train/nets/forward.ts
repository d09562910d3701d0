/**
 * tfjs forward passes for the architectures in arch.ts. Tensors are NHWC; weights use tfjs layouts
 * (conv [k,k,in,out], transposed conv [k,k,out,in]).
 */
import * as tf from '../tfjs.ts';
import type { Rng } from '../../util/rng.ts';
import { BN_EPSILON, type ConvLayer, type DiscriminatorArch, type GeneratorArch, LEAKY_SLOPE, SCALE_DOWNSAMPLE } from '../../nets/arch.ts';
import { fusedBatchNormAvailable, fusedBatchNormTrain } from '../engines/wasm-kernels/batch-norm.ts';
import { fusedLeakyRelu, fusedLeakyReluAvailable } from '../engines/wasm-kernels/leaky-relu.ts';

export type ParamTensors = Map<string, tf.Tensor>;

/**
 * How normalisation layers get their statistics:
 * - 'batch': over N·H·W (training-mode BatchNorm; with batch 1 this is what the paper uses at test time);
 * - 'instance': each image over its own H·W (the paper's test-time semantics for any batch size; what export writes);
 * - 'running': the running averages (PyTorch `--eval`).
 */
export type NormStats = 'batch' | 'instance' | 'running';

export interface ForwardOptions {
  normStats: NormStats;
  /** Dropout(0.5) noise on the layers that have it; masks are drawn from `rng` so runs are reproducible. */
  dropout: boolean;
  rng?: Rng;
  /**
   * When given (training), each batch-norm layer's batch mean and unbiased variance are pushed here
   * so the caller can update the running averages outside the gradient tape.
   */
  batchStats?: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;
}

function param(params: ParamTensors, name: string): tf.Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`missing parameter ${name}`);
  return t;
}

function activate(x: tf.Tensor4D, a: ConvLayer['pre']): tf.Tensor4D {
  switch (a) {
    case 'none':
      return x;
    case 'leaky':
      // One SIMD kernel forward and one backward on the wasm engines (see leaky-relu.ts); same values.
      return fusedLeakyReluAvailable() ? fusedLeakyRelu(x, LEAKY_SLOPE) : tf.leakyRelu(x, LEAKY_SLOPE);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

function normalise(x: tf.Tensor4D, l: ConvLayer, params: ParamTensors, opts: ForwardOptions): tf.Tensor4D {
  if (l.norm === 'none') return x;
  if (l.norm === 'batch' && opts.normStats === 'batch' && fusedBatchNormAvailable()) {
    // Two kernel calls per layer instead of ~50 on the wasm engines (see batch-norm.ts); same values.
    const { y, mean, variance } = fusedBatchNormTrain(x, param(params, `${l.name}.gamma`), param(params, `${l.name}.beta`), BN_EPSILON);
    if (opts.batchStats) opts.batchStats.set(l.name, { mean: tf.keep(mean), variance: tf.keep(variance), count: x.shape[0] * x.shape[1] * x.shape[2] });
    return y;
  }
  let y: tf.Tensor4D;
  if (l.norm === 'batch' && opts.normStats === 'running') {
    const mean = param(params, `${l.name}.running_mean`);
    const variance = param(params, `${l.name}.running_var`);
    y = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
  } else {
    // Instance norm (and BN with per-image statistics) reduce over H, W only.
    const axes = l.norm === 'batch' && opts.normStats === 'batch' ? [0, 1, 2] : [1, 2];
    const { mean, variance } = tf.moments(x, axes, true);
    y = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPSILON)));
    if (l.norm === 'batch' && opts.batchStats) {
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const m = tf.reshape<tf.Rank.R1>(axes.length === 3 ? mean : tf.mean(mean, [0, 1, 2]), [l.outChannels]);
      const v = tf.reshape<tf.Rank.R1>(axes.length === 3 ? variance : tf.mean(variance, [0, 1, 2]), [l.outChannels]);
      opts.batchStats.set(l.name, { mean: tf.keep(m), variance: tf.keep(v), count });
    }
  }
  if (l.norm === 'batch') y = tf.add(tf.mul(y, param(params, `${l.name}.gamma`)), param(params, `${l.name}.beta`));
  return y;
}

function dropout(x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
  if (!opts.dropout) return x;
  if (!opts.rng) throw new Error('dropout needs an rng');
  const n = x.size;
  const mask = new Float32Array(n);
  // Inverted dropout with p = 0.5: kept units are scaled by 2 (docs/reference.md#dropout).
  for (let i = 0; i < n; i++) mask[i] = opts.rng.next() < 0.5 ? 0 : 2;
  return tf.mul(x, tf.tensor(mask, x.shape));
}

/** One conv layer: pre-activation → conv → bias → norm → dropout → post-activation. */
export function convLayer(x: tf.Tensor4D, l: ConvLayer, params: ParamTensors, opts: ForwardOptions): tf.Tensor4D {
  let h = activate(x, l.pre);
  const w = param(params, `${l.name}.weight`) as tf.Tensor4D;
  if (l.transposed) {
    const [n, hh, ww] = h.shape;
    const out: [number, number, number, number] = [n, (hh - 1) * l.stride - 2 * l.pad + l.kernel, (ww - 1) * l.stride - 2 * l.pad + l.kernel, l.outChannels];
    if (l.kernel !== 2 * l.stride || l.pad * 2 !== l.kernel - l.stride) throw new Error(`transposed conv ${l.name}: only k = 2s, p = (k−s)/2 is supported`);
    h = tf.conv2dTranspose(h, w, out, l.stride, 'same');
  } else {
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [l.pad, l.pad],
      [l.pad, l.pad],
      [0, 0],
    ];
    h = tf.conv2d(h, w, l.stride, l.pad === 0 ? 'valid' : pad);
  }
  if (l.bias) h = tf.add(h, param(params, `${l.name}.bias`));
  h = normalise(h, l, params, opts);
  if (l.dropout) h = dropout(h, opts);
  return activate(h, l.post);
}

/** Generator: x in [−1,1] NHWC → output in [−1,1] (tanh). */
export function generatorForward(arch: GeneratorArch, params: ParamTensors, x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D {
  const skips: tf.Tensor4D[] = [];
  let h = x;
  for (const l of arch.encoder) {
    h = convLayer(h, l, params, opts);
    skips.push(h);
  }
  const unet = arch.options.kind === 'unet';
  const decoderFirst = arch.options.concatOrder === 'decoder-first';
  arch.decoder.forEach((l, j) => {
    if (j > 0 && unet) {
      const skip = skips[arch.encoder.length - 1 - j];
      h = tf.concat(decoderFirst ? [h, skip] : [skip, h], 3);
    }
    h = convLayer(h, l, params, opts);
  });
  return h;
}

/**
 * How many input pixels each output of the downsampling averages, row-major [outH·outW]: the 3×3
 * window's cells that fall inside the image (count_include_pad=False), 4 to 9.
 */
export function downsampleCounts(height: number, width: number): Float32Array {
  const { kernel, stride, pad } = SCALE_DOWNSAMPLE;
  const inside = (side: number): number[] => {
    const out = Math.floor((side + 2 * pad - kernel) / stride) + 1;
    return Array.from({ length: out }, (_, i) => {
      const first = i * stride - pad;
      return Math.min(side, first + kernel) - Math.max(0, first);
    });
  };
  const rows = inside(height);
  const cols = inside(width);
  return Float32Array.from(rows.flatMap((r) => cols.map((c) => r * c)));
}

/**
 * The downsampling between discriminator scales (SCALE_DOWNSAMPLE): zero padding, a 3×3 stride-2
 * window sum, divided by the cells of the window inside the image. Built from pad and an unpadded
 * avgPool because backends disagree on padded average pooling (tfjs-cpu's forward leaves the padding
 * out, its gradient counts it), while these ops have the same gradient everywhere.
 */
export function downsample(x: tf.Tensor4D): tf.Tensor4D {
  const { kernel, stride, pad } = SCALE_DOWNSAMPLE;
  const padded = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  const mean = tf.avgPool(padded, kernel, stride, 'valid');
  const [, h, w] = mean.shape;
  const counts = downsampleCounts(x.shape[1], x.shape[2]).map((n) => (kernel * kernel) / n);
  return tf.mul(mean, tf.tensor4d(counts, [1, h, w, 1]));
}

/**
 * Discriminator: NHWC input (concat(A,B) or B) → one logit map [N, h, w, 1] per scale, scale k
 * reading the input downsampled k times.
 */
export function discriminatorForward(arch: DiscriminatorArch, params: ParamTensors, x: tf.Tensor4D, opts: ForwardOptions): tf.Tensor4D[] {
  const maps: tf.Tensor4D[] = [];
  let input = x;
  arch.scales.forEach((layers, k) => {
    if (k > 0) input = downsample(input);
    let h = input;
    for (const l of layers) h = convLayer(h, l, params, opts);
    maps.push(h);
  });
  return maps;
}
