/**
 * Fast training kernels for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter (so tf.grad of conv2d fails); its
 * Conv2DBackpropInput — used by conv2dTranspose and by every conv's input gradient — is a
 * direct loop an order of magnitude slower than its XNNPACK conv2d; and its Conv2D repacks the
 * filter into a new XNNPACK operator for every filter tensor it has not seen (60–100 ns per weight,
 * 0.3–1 s per step for the inner U-Net layers, since training makes new weights every step).
 * `registerFastWasmKernels` installs all three, composed from XNNPACK conv2d and matMul plus JS
 * rearrangements on the wasm heap (see ./wasm-kernels/), and a fused Adam update kernel
 * (./wasm-kernels/adam.ts) that the optimizer may use.
 *
 * Usage: `await tf.setBackend('wasm'); registerFastWasmKernels();` (calling it again is a no-op).
 */
import * as tf from '../tfjs.ts';
import '@tensorflow/tfjs-backend-wasm';
import {
  builtinKernels,
  conv2DBackpropFilterFast,
  conv2DForwardFast,
  conv2DBackpropInputFast,
  fastKernelCallCounts,
  fastKernelOptions,
  type FastKernelOptions,
} from './wasm-kernels/kernels.ts';

import { FUSED_ADAM, fusedAdamKernelConfig } from './wasm-kernels/adam.ts';
import { castSameDtype, concatFast, splitVFast } from './wasm-kernels/copy-kernels.ts';
import { fusedBatchNormKernelConfigs, registerFusedBatchNormGradient } from './wasm-kernels/batch-norm.ts';
import { fusedLeakyReluKernelConfigs, registerFusedLeakyReluGradient } from './wasm-kernels/leaky-relu.ts';
import { removeOrtKernels } from './ort-cpu/kernels.ts';

export { fusedAdamAvailable, fusedAdamUpdate, type AdamStepScalars } from './wasm-kernels/adam.ts';
export type { BackpropInputStrategy, ConvForwardStrategy, ConvGeometry } from './wasm-kernels/geometry.ts';
export type { FastKernelOptions } from './wasm-kernels/kernels.ts';

const BACKEND = 'wasm';

function install(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig | null {
  const current = tf.getKernel(kernelName, BACKEND);
  if (current?.kernelFunc === kernelFunc) return null;
  if (current !== undefined) tf.unregisterKernel(kernelName, BACKEND);
  // Keep the replaced kernel's setupFunc: the fallback path calls the built-in kernelFunc, whose
  // wasm bindings are created by that setupFunc when a wasm backend is (re)initialised.
  const config: tf.KernelConfig = { kernelName, backendName: BACKEND, kernelFunc };
  if (current?.setupFunc !== undefined) config.setupFunc = current.setupFunc;
  tf.registerKernel(config);
  return current ?? null;
}

const DEFAULT_OPTIONS: FastKernelOptions = { ...fastKernelOptions };

/**
 * Register Conv2DBackpropFilter and replace Conv2DBackpropInput for the 'wasm' backend.
 * Idempotent. The replaced built-in Conv2DBackpropInput stays reachable as the fallback for
 * shapes the fast paths do not cover (NCHW, non-float32). Also undoes what the `ort-cpu` engine
 * changes on the same backend (its BatchMatMul, its path options), so the `wasm` engine is itself.
 */
export function registerFastWasmKernels(): void {
  removeOrtKernels();
  Object.assign(fastKernelOptions, DEFAULT_OPTIONS);
  const replacedConv = install(tf.Conv2D, conv2DForwardFast);
  if (replacedConv !== null) builtinKernels.conv2d = replacedConv;
  const input = tf.Conv2DBackpropInput;
  const filter = tf.Conv2DBackpropFilter;
  const replacedInput = install(input, conv2DBackpropInputFast);
  if (replacedInput !== null) builtinKernels.backpropInput = replacedInput;
  const replacedFilter = install(filter, conv2DBackpropFilterFast);
  if (replacedFilter !== null) builtinKernels.backpropFilter = replacedFilter;
  if (tf.getKernel(FUSED_ADAM, BACKEND) === undefined) tf.registerKernel(fusedAdamKernelConfig);
  for (const k of fusedBatchNormKernelConfigs) if (tf.getKernel(k.kernelName, BACKEND) === undefined) tf.registerKernel(k);
  registerFusedBatchNormGradient();
  for (const k of fusedLeakyReluKernelConfigs) if (tf.getKernel(k.kernelName, BACKEND) === undefined) tf.registerKernel(k);
  registerFusedLeakyReluGradient();
  const replacedIdentity = install(tf.Identity, sharedIdentity);
  if (replacedIdentity !== null) builtinIdentity = replacedIdentity;
  for (const [name, fast] of Object.entries(COPY_KERNELS)) {
    const replaced = install(name, fast.kernelFunc);
    if (replaced !== null) fast.builtin = replaced;
  }
}

/** A kernel of ./wasm-kernels/copy-kernels.ts and the built-in one it hands the cases it does not take. */
interface CopyKernel {
  kernelFunc: tf.KernelFunc;
  builtin: tf.KernelConfig | null;
}

function withBuiltin(name: string, fast: (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | tf.TensorInfo[] | null): CopyKernel {
  const k: CopyKernel = {
    kernelFunc: (args) => {
      const out = fast(args);
      if (out !== null) return out;
      if (k.builtin === null) throw new Error(`the wasm backend has no built-in ${name} to fall back to`);
      return k.builtin.kernelFunc(args);
    },
    builtin: null,
  };
  return k;
}

const COPY_KERNELS: Record<string, CopyKernel> = {
  [tf.Concat]: withBuiltin(tf.Concat, concatFast),
  [tf.SplitV]: withBuiltin(tf.SplitV, splitVFast),
  [tf.Cast]: withBuiltin(tf.Cast, castSameDtype),
};

let builtinIdentity: tf.KernelConfig | null = null;

/**
 * Identity that shares the input's buffer (reference-counted), as the cpu backend's does. The wasm
 * backend's copies it, and tfjs clones every tensor a gradient needs while the tape records (~430
 * copies per pix2pix step, every activation and weight). Nothing on this backend writes into an
 * existing buffer (the kernels return new ones, variables get new buffers on assign), so sharing is safe.
 */
function sharedIdentity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as { incRef(dataId: object): void };
  if (x.dtype === 'string') {
    if (builtinIdentity === null) throw new Error('the wasm backend has no built-in Identity for strings');
    return builtinIdentity.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Whether the fast kernels are the ones registered for 'wasm' right now. */
export function fastWasmKernelsRegistered(): boolean {
  return (
    tf.getKernel(tf.Conv2D, BACKEND)?.kernelFunc === (conv2DForwardFast as unknown) &&
    tf.getKernel(tf.Conv2DBackpropInput, BACKEND)?.kernelFunc === (conv2DBackpropInputFast as unknown) &&
    tf.getKernel(tf.Conv2DBackpropFilter, BACKEND)?.kernelFunc === (conv2DBackpropFilterFast as unknown)
  );
}

/** Tune or force paths (tests and bench/kernels.ts); returns the previous options. */
export function configureFastWasmKernels(options: Partial<FastKernelOptions>): FastKernelOptions {
  const previous = { ...fastKernelOptions };
  if (options.convForwardStrategy !== undefined) fastKernelOptions.convForwardStrategy = options.convForwardStrategy;
  if (options.backpropInputStrategy !== undefined) fastKernelOptions.backpropInputStrategy = options.backpropInputStrategy;
  if (options.maxRetainedPackedWeights !== undefined) {
    if (!Number.isInteger(options.maxRetainedPackedWeights) || options.maxRetainedPackedWeights < 0) {
      throw new Error(`maxRetainedPackedWeights must be a non-negative integer, got ${options.maxRetainedPackedWeights}`);
    }
    fastKernelOptions.maxRetainedPackedWeights = options.maxRetainedPackedWeights;
  }
  if (options.maxScratchFloats !== undefined) {
    if (!Number.isInteger(options.maxScratchFloats) || options.maxScratchFloats < 1) {
      throw new Error(`maxScratchFloats must be a positive integer, got ${options.maxScratchFloats}`);
    }
    fastKernelOptions.maxScratchFloats = options.maxScratchFloats;
  }
  if (options.rowMajorProducts !== undefined) fastKernelOptions.rowMajorProducts = options.rowMajorProducts;
  return previous;
}

/** Calls per path since the last reset, e.g. {"backpropInput:s2d-conv": 3, "backpropFilter:im2col-matmul": 5}. */
export function fastWasmKernelCallCounts(): Record<string, number> {
  return Object.fromEntries(fastKernelCallCounts);
}

export function resetFastWasmKernelCallCounts(): void {
  fastKernelCallCounts.clear();
}
