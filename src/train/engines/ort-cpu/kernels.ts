/**
 * The `ort-cpu` engine's kernels: tfjs-backend-wasm keeps the tensors (on its heap) and the
 * element-wise work, while the matrix products, which are ~75% of a pix2pix step on the wasm engine
 * (bench/kernels.ts --step 256), run in onnxruntime's MLAS on every core with the machine's full
 * vector width. The wasm engine's convolution kernels (../wasm-kernels/) are all written as im2col /
 * col2im rearrangements around BatchMatMul, so replacing BatchMatMul moves every convolution's
 * multiply-adds onto onnxruntime. Large Sum and Mean reductions (bias gradients, large statistics)
 * run there too. (Large LeakyRelu and Greater once did; the networks' LeakyReLU is now one fused SIMD
 * kernel on the heap, ../wasm-kernels/leaky-relu.ts, and a training step calls neither.)
 *
 * The inputs are views of the wasm heap, and the output is allocated on the wasm heap first and
 * handed to onnxruntime as its pre-allocated output, which it writes in place. (onnxruntime-node's
 * binding then also copies each output into a new ArrayBuffer that we drop: see
 * src/util/malloc-tunables.ts for what that costs and how training processes keep it cheap.)
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attrInt, attrInts } from '../../../onnx/graph.ts';
import { ONNX_INT64 } from '../../../onnx/proto.ts';
import { cachedSession, type SyncSession } from './session.ts';

const BACKEND = 'wasm';

/** Products smaller than this many multiply-adds stay on XNNPACK (an onnxruntime call costs ~20 µs). */
const MIN_MACS = 1 << 16;

let threads = 1;
const replaced = new Map<string, tf.KernelConfig>();

/** Calls per path since the last reset (tests use it to prove which path ran). */
export const ortKernelCallCounts = new Map<string, number>();

function count(key: string): void {
  ortKernelCallCounts.set(key, (ortKernelCallCounts.get(key) ?? 0) + 1);
}

/** Y[M,N] = op(A)·op(B) where op transposes when asked; every dimension is dynamic, so one session serves all shapes. */
function gemmSession(transA: boolean, transB: boolean): SyncSession {
  return cachedSession(`Gemm:${transA ? 1 : 0}${transB ? 1 : 0}`, threads, () => ({
    nodes: [
      { opType: 'Gemm', input: ['a', 'b'], output: ['y'], name: 'gemm', attribute: [attrInt('transA', transA ? 1 : 0), attrInt('transB', transB ? 1 : 0)] },
    ],
    inputs: [
      { name: 'a', shape: ['a0', 'a1'] },
      { name: 'b', shape: ['b0', 'b1'] },
    ],
    outputs: [{ name: 'y', shape: ['M', 'N'] }],
  }));
}

function heap(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function batchMatMulOrt(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const fallback = (): tf.TensorInfo => {
    count('BatchMatMul:builtin');
    return replaced.get('BatchMatMul')!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  };
  // One matrix each (the convolution kernels' case); batched products keep the built-in kernel.
  const batchA = a.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || batchA !== 1 || batchB !== 1 || a.shape.length < 2 || b.shape.length < 2) return fallback();
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [k2, n] = transposeB ? [bc, br] : [br, bc];
  if (k !== k2) throw new Error(`BatchMatMul: inner dimensions ${k} and ${k2} differ (shapes [${a.shape}], [${b.shape}])`);
  if (m * n * k < MIN_MACS) return fallback();
  count('BatchMatMul:ort');
  const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), m, n];
  const out = backend.makeOutput(outShape, 'float32');
  // Heap views after the last allocation (growing the heap detaches earlier views).
  gemmSession(transposeA, transposeB).run(
    { a: { data: heap(backend, a), shape: [ar, ac] }, b: { data: heap(backend, b), shape: [br, bc] } },
    { y: { data: heap(backend, out), shape: [m, n] } },
  );
  return out;
}

/** Reductions of fewer values than this stay on the wasm kernel. */
const MIN_REDUCE = 1 << 16;

/**
 * ReduceSum / ReduceMean over fixed axes of a tensor of fixed rank (dimensions dynamic). tfjs-wasm
 * reduces only innermost axes, so for the batch-norm statistics and bias gradients (axes N, H, W of
 * NHWC) it first transposes the whole tensor; onnxruntime reduces in place, on every thread.
 */
function reduceSession(op: 'ReduceSum' | 'ReduceMean', rank: number, axes: number[], keepDims: boolean): SyncSession {
  return cachedSession(`${op}:${rank}:${axes.join(',')}:${keepDims ? 1 : 0}`, threads, () => {
    const keep = attrInt('keepdims', keepDims ? 1 : 0);
    // Opset 17: ReduceSum takes its axes as an input, ReduceMean as an attribute.
    const node =
      op === 'ReduceSum'
        ? { opType: op, input: ['x', 'axes'], output: ['y'], name: 'reduce', attribute: [keep] }
        : { opType: op, input: ['x'], output: ['y'], name: 'reduce', attribute: [keep, attrInts('axes', axes)] };
    const outRank = keepDims ? rank : rank - axes.length;
    return {
      nodes: [node],
      initializers:
        op === 'ReduceSum'
          ? [{ name: 'axes', dims: [axes.length], dataType: ONNX_INT64, rawData: new Uint8Array(BigInt64Array.from(axes.map(BigInt)).buffer) }]
          : [],
      inputs: [{ name: 'x', shape: Array.from({ length: rank }, (_, i) => `d${i}`) }],
      outputs: [{ name: 'y', shape: Array.from({ length: outRank }, (_, i) => `o${i}`) }],
    };
  });
}

function reduceOrt(kernel: 'Sum' | 'Mean'): (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const size = tf.util.sizeFromShape(x.shape);
    if (x.dtype !== 'float32' || size < MIN_REDUCE || x.shape.length === 0) {
      count(`${kernel}:builtin`);
      return replaced.get(kernel)!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
    count(`${kernel}:ort`);
    const out = backend.makeOutput(outShape, 'float32');
    const aligned = heap(backend, x).byteOffset % REDUCE_ALIGN === 0 ? null : backend.makeOutput([size + REDUCE_ALIGN / 4], 'float32');
    try {
      // Views only after the last allocation: growing the heap detaches earlier views.
      const input = aligned === null ? heap(backend, x) : alignedCopy(heap(backend, x), heap(backend, aligned));
      reduceSession(kernel === 'Sum' ? 'ReduceSum' : 'ReduceMean', x.shape.length, axes, keepDims).run(
        { x: { data: input, shape: [...x.shape] } },
        { y: { data: heap(backend, out), shape: outShape } },
      );
    } finally {
      if (aligned !== null) backend.disposeData(aligned.dataId);
    }
    return out;
  };
}

/**
 * onnxruntime's vectorised sums (Eigen's) add the head of the input up to the first aligned address
 * apart from the rest, so the order of additions, and the last bits of the result, followed where the
 * tensor happened to sit on the heap: one extra allocation anywhere changed a trained network's
 * weights. Reducing from an address aligned to the widest vector (64 bytes, AVX-512) makes the result
 * a function of the values only; unaligned inputs (most of them) are copied to such an address.
 */
const REDUCE_ALIGN = 64;

/** `src` copied into `scratch` (REDUCE_ALIGN / 4 floats longer than it) from its first aligned address. */
function alignedCopy(src: Float32Array, scratch: Float32Array): Float32Array {
  const skip = ((REDUCE_ALIGN - (scratch.byteOffset % REDUCE_ALIGN)) % REDUCE_ALIGN) / 4;
  const dst = scratch.subarray(skip, skip + src.length);
  dst.set(src);
  return dst;
}

/** Swap one kernel of the wasm backend for ours, remembering the original (its setupFunc stays). */
function replaceKernel(name: string, kernelFunc: unknown): void {
  const current = tf.getKernel(name, BACKEND);
  if (current === undefined) throw new Error(`the wasm backend has no ${name} kernel`);
  if (current.kernelFunc === kernelFunc) return;
  replaced.set(name, current);
  tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ ...current, kernelFunc: kernelFunc as tf.KernelFunc });
}

const OURS: Record<string, unknown> = {
  BatchMatMul: batchMatMulOrt,
  Sum: reduceOrt('Sum'),
  Mean: reduceOrt('Mean'),
};

/**
 * Route the wasm backend's BatchMatMul through onnxruntime with `n` threads. (The fused Adam update
 * stays the wasm engine's SIMD loop: ~2 ns per value on one thread, where an onnxruntime graph of
 * 13 element-wise passes measured slower than even the scalar JS loop at one thread.) Call after registerFastWasmKernels (which undoes it, so the plain `wasm` engine stays
 * single-threaded).
 */
export function installOrtKernels(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`thread count must be a positive integer, got ${n}`);
  threads = n; // sessions built for another count are rebuilt on first use (cachedSession)
  gemmSession(false, false); // load onnxruntime now, so a missing binary fails engine selection, not the first step
  for (const [name, f] of Object.entries(OURS)) replaceKernel(name, f);
}

/** Put the wasm backend's own kernels back (a no-op for those never replaced). */
export function removeOrtKernels(): void {
  for (const [name, original] of replaced) {
    if (tf.getKernel(name, BACKEND)?.kernelFunc !== OURS[name]) continue;
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
}

export function ortThreads(): number {
  return threads;
}
