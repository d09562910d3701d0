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
import { batchNormSimdFor, type BatchNormSimd } from './batch-norm-simd.ts';
import { backendHeapMemory } from './wasm-asm.ts';

const FUSED_BATCH_NORM = 'Pix2PixBatchNormTrain';
const FUSED_BATCH_NORM_GRAD = 'Pix2PixBatchNormTrainGrad';

/**
 * The per-element loops, in JS or as WebAssembly (./batch-norm-simd.ts, same bits); the per-channel
 * arithmetic between them stays in JS. Arrays are [rows, c] row-major; per-channel arrays are float64.
 */
export interface ChannelLoops {
  /** A zeroed float64 array of `length` (on the heap for the WebAssembly loops). */
  f64(length: number): Float64Array;
  /** sumP[j] += Σ p[·, j] and sumPQ[j] += Σ p[·, j]·q[·, j], row by row. */
  sums(p: Float32Array, q: Float32Array, sumP: Float64Array, sumPQ: Float64Array): void;
  /** out[·, j] = p[·, j]·a[j] + k[j]. */
  affine(p: Float32Array, a: Float64Array, k: Float64Array, out: Float32Array): void;
  /** out[·, j] = a[j]·p[·, j] + b[j]·q[·, j] + k[j]. */
  affine2(p: Float32Array, a: Float64Array, q: Float32Array, b: Float64Array, k: Float64Array, out: Float32Array): void;
}

export const jsChannelLoops: ChannelLoops = {
  f64: (length) => new Float64Array(length),
  sums(p, q, sumP, sumPQ) {
    const c = sumP.length;
    for (let i = 0; i < p.length; i += c) {
      for (let j = 0; j < c; j++) {
        const v = p[i + j];
        sumP[j] += v;
        sumPQ[j] += v * q[i + j];
      }
    }
  },
  affine(p, a, k, out) {
    const c = a.length;
    for (let i = 0; i < p.length; i += c) for (let j = 0; j < c; j++) out[i + j] = p[i + j] * a[j] + k[j];
  },
  affine2(p, a, q, b, k, out) {
    const c = a.length;
    for (let i = 0; i < p.length; i += c) for (let j = 0; j < c; j++) out[i + j] = a[j] * p[i + j] + b[j] * q[i + j] + k[j];
  },
};

/**
 * Per-channel mean and biased variance of x viewed as [rows, c]: one pass of float64 sums of x and x²
 * (float64 keeps E[x²] − mean² exact to ~1e-16 relative of E[x²], far below float32 rounding).
 */
export function channelMoments(x: Float32Array, c: number, loops: ChannelLoops = jsChannelLoops): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / c;
  const mean = loops.f64(c);
  const variance = loops.f64(c);
  loops.sums(x, x, mean, variance);
  for (let j = 0; j < c; j++) {
    mean[j] /= rows;
    variance[j] = Math.max(0, variance[j] / rows - mean[j] * mean[j]);
  }
  return { mean, variance };
}

/** y = (x − mean)·invStd·γ + β per channel, into `y`. */
function normaliseInto(
  x: Float32Array,
  mean: Float64Array,
  invStd: Float64Array,
  gamma: Float32Array,
  beta: Float32Array,
  y: Float32Array,
  loops: ChannelLoops,
): void {
  const c = mean.length;
  const scale = loops.f64(c);
  const shift = loops.f64(c);
  for (let j = 0; j < c; j++) {
    scale[j] = invStd[j] * gamma[j];
    shift[j] = beta[j] - mean[j] * scale[j];
  }
  loops.affine(x, scale, shift, y);
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
  loops: ChannelLoops = jsChannelLoops,
): void {
  const c = mean.length;
  const rows = x.length / c;
  const sumDy = loops.f64(c);
  const sumDyX = loops.f64(c);
  loops.sums(dy, x, sumDy, sumDyX);
  const a = loops.f64(c);
  const b = loops.f64(c);
  const k = loops.f64(c);
  for (let j = 0; j < c; j++) {
    const sumDyXhat = (sumDyX[j] - mean[j] * sumDy[j]) * invStd[j];
    const gs = gamma[j] * invStd[j];
    a[j] = gs;
    b[j] = -gs * invStd[j] * (sumDyXhat / rows) + (2 * dVar[j]) / rows;
    k[j] = -gs * (sumDy[j] / rows) + dMean[j] / rows - b[j] * mean[j];
    dGamma[j] = sumDyXhat;
    dBeta[j] = sumDy[j];
  }
  loops.affine2(dy, a, x, b, k, dx);
}

/** Float64 arrays a kernel call takes from its loops: 4 forward (sums, scale, shift), 5 backward. */
const ARENA_ARRAYS = 5;

/**
 * The WebAssembly loops over float64 arrays carved from `arena` (a heap region of ARENA_ARRAYS·c
 * doubles); withChannelLoops picks the JS loops where SIMD is missing or the channel count is odd.
 */
export function heapChannelLoops(simd: BatchNormSimd, arena: Float64Array): ChannelLoops {
  let used = 0;
  const bytes = (p: Float32Array): number => p.byteLength;
  const cBytes = (a: Float64Array): number => a.length * 4;
  return {
    f64(length) {
      const out = arena.subarray(used, used + length);
      if (out.length !== length) throw new Error(`batch norm: the heap arena of ${arena.length} doubles is used up`);
      used += length;
      return out.fill(0);
    },
    sums: (p, q, sumP, sumPQ) => simd.sums(p.byteOffset, q.byteOffset, sumP.byteOffset, sumPQ.byteOffset, bytes(p), cBytes(sumP)),
    affine: (p, a, k, out) => simd.affine(p.byteOffset, a.byteOffset, k.byteOffset, out.byteOffset, bytes(p), cBytes(a)),
    affine2: (p, a, q, b, k, out) => simd.affine2(p.byteOffset, a.byteOffset, q.byteOffset, b.byteOffset, k.byteOffset, out.byteOffset, bytes(p), cBytes(a)),
  };
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

/**
 * Run `body` with the loops for this backend: the WebAssembly ones over a heap arena of float64 arrays
 * (allocated first, freed after) when SIMD is there and the channel count is even, else the JS ones.
 * `body` must take its heap views itself: allocating the arena may grow the heap and detach older views.
 */
function withChannelLoops<T>(backend: BackendWasm, c: number, body: (loops: ChannelLoops) => T): T {
  const memory = backendHeapMemory(backend);
  const simd = memory === null || c % 2 !== 0 ? null : batchNormSimdFor(memory);
  if (simd === null) return body(jsChannelLoops);
  const arenaTensor = backend.makeOutput([ARENA_ARRAYS * c * 2], 'float32');
  try {
    const bytes = view(backend, arenaTensor);
    if (bytes.byteOffset % 8 !== 0) return body(jsChannelLoops);
    return body(heapChannelLoops(simd, new Float64Array(bytes.buffer, bytes.byteOffset, ARENA_ARRAYS * c)));
  } finally {
    backend.disposeData(arenaTensor.dataId);
  }
}

function batchNormTrainWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const c = channels(x, gamma, FUSED_BATCH_NORM);
  const y = backend.makeOutput([...x.shape], 'float32');
  const meanOut = backend.makeOutput([c], 'float32');
  const varOut = backend.makeOutput([c], 'float32');
  withChannelLoops(backend, c, (loops) => {
    // Heap views only after the last allocation: growing the heap detaches earlier views.
    const { mean, variance } = channelMoments(view(backend, x), c, loops);
    normaliseInto(view(backend, x), mean, inverseStd(variance, epsilon), view(backend, gamma), view(backend, beta), view(backend, y), loops);
    view(backend, meanOut).set(mean);
    view(backend, varOut).set(variance);
  });
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
  withChannelLoops(backend, c, (loops) => {
    const v = (t: tf.TensorInfo): Float32Array => view(backend, t);
    batchNormBackward(v(dy), v(x), v(mean), inverseStd(v(variance), epsilon), v(gamma), v(dMean), v(dVar), v(dx), v(dGamma), v(dBeta), loops);
  });
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
