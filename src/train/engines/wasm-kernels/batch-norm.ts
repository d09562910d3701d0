/**
 * Training-mode batch normalisation as one kernel forward and one backward, for the wasm backend.
 *
 * Composed from tfjs ops (moments, subtract, divide, scale, shift) and differentiated by the tape,
 * one training batch-norm layer is ~70 kernel calls forward and backward, and tfjs's Mean gradient
 * fills a JavaScript array of ones the size of the input each time. A unet_128 ngf-16 step runs 20
 * (11 in G, 3 in D × 3 passes): replacing each by two calls took the step from 2,335 to 917 kernel
 * calls (bench/kernels.ts --step 128 --ngf 16).
 *
 * Semantics match the composed version (forward.ts): statistics over N·H·W, biased variance,
 * y = (x − mean)/√(var + ε)·γ + β, and the exact gradient of that expression, including any
 * gradient that reaches the mean and variance outputs. Sums run in float64, so results differ
 * from the composed float32 ops by rounding only.
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const FUSED_BATCH_NORM = 'Pix2PixBatchNormTrain';
const FUSED_BATCH_NORM_GRAD = 'Pix2PixBatchNormTrainGrad';

/**
 * Per-channel mean and biased variance of x viewed as [rows, c]: one pass of float64 sums of x and x²
 * (float64 keeps E[x²] − mean² exact to ~1e-16 relative of E[x²], far below float32 rounding).
 */
export function channelMoments(x: Float32Array, c: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const n = x.length;
  for (let i = 0; i < n; i += c) {
    for (let j = 0; j < c; j++) {
      const v = x[i + j];
      mean[j] += v;
      variance[j] += v * v;
    }
  }
  for (let j = 0; j < c; j++) {
    mean[j] /= rows;
    variance[j] = Math.max(0, variance[j] / rows - mean[j] * mean[j]);
  }
  return { mean, variance };
}

/** y = (x − mean)·invStd·γ + β per channel, into `y`. */
function normaliseInto(x: Float32Array, mean: Float64Array, invStd: Float64Array, gamma: Float32Array, beta: Float32Array, y: Float32Array): void {
  const c = mean.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    scale[j] = invStd[j] * gamma[j];
    shift[j] = beta[j] - mean[j] * scale[j];
  }
  const n = x.length;
  for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) y[i + j] = x[i + j] * scale[j] + shift[j];
}

export function inverseStd(variance: ArrayLike<number>, epsilon: number): Float64Array {
  const out = new Float64Array(variance.length);
  for (let j = 0; j < out.length; j++) out[j] = 1 / Math.sqrt(variance[j] + epsilon);
  return out;
}

/**
 * Gradients of y = x̂·γ + β (x̂ = (x − mean)·invStd, mean and variance of x over rows), given dy and
 * the gradients reaching the mean and variance outputs (dMean, dVar; zero when unused):
 * dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/M − x̂·dγ/M) + dMean/M + dVar·2(x − mean)/M.
 * Two passes: the sums (Σ dy·x̂ = (Σ dy·x − mean·Σ dy)·invStd), then dx = a·dy + b·x + k per channel.
 */
export function batchNormBackward(
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  invStd: Float64Array,
  gamma: Float32Array,
  dMean: Float32Array,
  dVar: Float32Array,
  dx: Float32Array,
  dGamma: Float32Array,
  dBeta: Float32Array,
): void {
  const c = mean.length;
  const n = x.length;
  const rows = n / c;
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  for (let i = 0; i < n; i += c) {
    for (let j = 0; j < c; j++) {
      const g = dy[i + j];
      sumDy[j] += g;
      sumDyX[j] += g * x[i + j];
    }
  }
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const k = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    const sumDyXhat = (sumDyX[j] - mean[j] * sumDy[j]) * invStd[j];
    const gs = gamma[j] * invStd[j];
    a[j] = gs;
    b[j] = -gs * invStd[j] * (sumDyXhat / rows) + (2 * dVar[j]) / rows;
    k[j] = -gs * (sumDy[j] / rows) + dMean[j] / rows - b[j] * mean[j];
    dGamma[j] = sumDyXhat;
    dBeta[j] = sumDy[j];
  }
  for (let i = 0; i < n; i += c) for (let j = 0; j < c; j++) dx[i + j] = a[j] * dy[i + j] + b[j] * x[i + j] + k[j];
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function view(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function channels(x: tf.TensorInfo, gamma: tf.TensorInfo, kernel: string): number {
  const c = x.shape.at(-1) ?? 0;
  if (x.dtype !== 'float32' || gamma.dtype !== 'float32') throw new Error(`${kernel}: float32 only, got ${x.dtype}/${gamma.dtype}`);
  if (gamma.shape.length !== 1 || gamma.shape[0] !== c) throw new Error(`${kernel}: γ of shape [${gamma.shape}] for ${c} channels`);
  return c;
}

function batchNormTrainWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const c = channels(x, gamma, FUSED_BATCH_NORM);
  const y = backend.makeOutput([...x.shape], 'float32');
  const meanOut = backend.makeOutput([c], 'float32');
  const varOut = backend.makeOutput([c], 'float32');
  // Heap views only after the last allocation: growing the heap detaches earlier views.
  const { mean, variance } = channelMoments(view(backend, x), c);
  normaliseInto(view(backend, x), mean, inverseStd(variance, epsilon), view(backend, gamma), view(backend, beta), view(backend, y));
  view(backend, meanOut).set(mean);
  view(backend, varOut).set(variance);
  return [y, meanOut, varOut];
}

function batchNormTrainGradWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { dy, x, gamma, mean, variance, dMean, dVar } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'dMean' | 'dVar', tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const c = channels(x, gamma, FUSED_BATCH_NORM_GRAD);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dGamma = backend.makeOutput([c], 'float32');
  const dBeta = backend.makeOutput([c], 'float32');
  const v = (t: tf.TensorInfo): Float32Array => view(backend, t);
  batchNormBackward(v(dy), v(x), v(mean), inverseStd(v(variance), epsilon), v(gamma), v(dMean), v(dVar), v(dx), v(dGamma), v(dBeta));
  return [dx, dGamma, dBeta];
}

export const fusedBatchNormKernelConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_BATCH_NORM, backendName: 'wasm', kernelFunc: batchNormTrainWasm },
  { kernelName: FUSED_BATCH_NORM_GRAD, backendName: 'wasm', kernelFunc: batchNormTrainGradWasm },
];

const gradConfig: tf.GradConfig = {
  kernelName: FUSED_BATCH_NORM,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVar] = dys as tf.Tensor[];
    const [x, gamma, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const [dx, dGamma, dBeta] = tf
      .engine()
      .runKernel<tf.Tensor[]>(FUSED_BATCH_NORM_GRAD, { dy: dy, x, gamma, mean, variance, dMean: dMean, dVar: dVar }, attrs);
    return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
  },
};

/** Register the gradient once (gradients are global; the kernels are the wasm backend's). */
export function registerFusedBatchNormGradient(): void {
  if (tf.getGradient(FUSED_BATCH_NORM) === undefined) tf.registerGradient(gradConfig);
}

/** Whether the active backend runs the fused kernels (the wasm engines); elsewhere forward.ts composes the layer from tfjs ops. */
export function fusedBatchNormAvailable(): boolean {
  return tf.getKernel(FUSED_BATCH_NORM, tf.getBackend()) !== undefined && tf.getGradient(FUSED_BATCH_NORM) !== undefined;
}

/** Training-mode batch norm over N·H·W: the normalised, scaled and shifted x, and the batch mean and biased variance. */
export function fusedBatchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [y, mean, variance] = tf.engine().runKernel<tf.Tensor[]>(FUSED_BATCH_NORM, { x, gamma, beta }, { epsilon });
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
