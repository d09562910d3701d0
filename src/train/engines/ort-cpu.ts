/**
 * The `ort-cpu` training engine: tfjs-backend-wasm with the wasm engine's convolution kernels, whose
 * matrix products run on onnxruntime's CPU execution provider (MLAS: every core, AVX2/AVX-512)
 * instead of single-threaded wasm SIMD. See ./ort-cpu/kernels.ts.
 */
import { availableParallelism } from 'node:os';
import '@tensorflow/tfjs-backend-wasm';
import { configureFastWasmKernels, registerFastWasmKernels } from './wasm-kernels.ts';
import { installOrtKernels, ortThreads } from './ort-cpu/kernels.ts';

/** Default thread count: every core this process may use. */
function defaultThreads(): number {
  return availableParallelism();
}

/** Register the kernels for `threads` threads (throws when onnxruntime-node cannot load). */
export function activateOrtCpu(threads: number = defaultThreads()): void {
  registerFastWasmKernels();
  // With the products on onnxruntime the im2col + matmul forward wins everywhere: XNNPACK's own conv
  // is single-threaded and repacks every new filter, and the weight copy that keeps XNNPACK's packed
  // cache small is pointless when XNNPACK never sees the weights. Gemm transposes its operands for
  // free, so the column matrices stay row-major (contiguous copies and adds in JS). dx picks the
  // strategy whose single-threaded rearranging costs least (geometry.ts backpropInputCostsRowMajor).
  configureFastWasmKernels({
    convForwardStrategy: 'matmul-weights',
    backpropInputStrategy: null,
    maxRetainedPackedWeights: Number.MAX_SAFE_INTEGER,
    rowMajorProducts: true,
  });
  installOrtKernels(threads);
}

export { ortThreads };
