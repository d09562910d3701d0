/**
 * Conv2DBackpropInput / Conv2DBackpropFilter for the tfjs wasm backend, composed from the
 * backend's fast primitives (XNNPACK conv2d and plain matMul) plus JS rearrangements on the wasm
 * heap (./layout.ts).
 *
 * Memory discipline (as in the backend's own kernels): every buffer a kernel allocates with
 * `makeOutput` or receives from a primitive is freed with `backend.disposeData` unless it is
 * returned. Inputs are never freed; re-shaped views of inputs share the input's dataId without a
 * reference (`viewAs`) and are therefore never passed to `disposeData`.
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  chooseBackpropInputStrategy,
  chooseConvForwardStrategy,
  flipConvPadding,
  geometryFromConvInfo,
  isK4S2P1Even,
  outputPositions,
  rowsPerChunk,
  tapRows,
  type BackpropInputStrategy,
  type ConvForwardStrategy,
  type ConvGeometry,
} from './geometry.ts';
import { col2imTransposedAdd, depthToSpaceCrop, flipSwapFilter, im2colTransposed, spaceToDepthBackpropFilter, transposeBlock } from './layout.ts';
import { col2imRowsAddOn, im2colRowsOn, layoutSimdFor } from './layout-simd.ts';
import { backendHeapMemory } from './wasm-asm.ts';

type TensorInfo = tf.TensorInfo;
type Shape4 = [number, number, number, number];

export interface FastKernelOptions {
  /** Force one forward Conv2D strategy; null = automatic (cost model). */
  convForwardStrategy: ConvForwardStrategy | null;
  /** Force one BackpropInput strategy where it applies ('builtin' = the wasm backend's own kernel); null = automatic. */
  backpropInputStrategy: BackpropInputStrategy | 'builtin' | null;
  /** Largest column matrix (floats) one chunk of the col2im/im2col paths may allocate. */
  maxScratchFloats: number;
  /**
   * Largest filter (floats) whose packed copy the 'matmul-weights' path leaves in XNNPACK's cache,
   * where it lives as long as the filter tensor (so the discriminator, run three times per step,
   * packs once). Bigger filters are packed from a scratch copy that is freed at once: in training a
   * generator filter is used once per step, and keeping its packed copy until the optimizer
   * replaces it would add a full copy of the weights (218 MB for U-Net-256) to the peak heap.
   */
  maxRetainedPackedWeights: number;
  /**
   * Feed the matrix products row-major column matrices and let BatchMatMul transpose its operands
   * (dx: cols = dy·Wᵀ then a contiguous col2im; dW: im2colᵀ·dy) instead of rearranging transposed
   * copies in JS. For a BatchMatMul that transposes for free (onnxruntime's Gemm in the ort-cpu
   * engine); XNNPACK's does not, so the wasm engine keeps the transposed layouts.
   */
  rowMajorProducts: boolean;
}

export const fastKernelOptions: FastKernelOptions = {
  convForwardStrategy: null,
  maxRetainedPackedWeights: 1 << 21,
  backpropInputStrategy: null,
  maxScratchFloats: 1 << 23,
  rowMajorProducts: false,
};

/** How many times each path ran, e.g. `backpropInput:s2d-conv`; lets tests prove the fast path was taken. */
export const fastKernelCallCounts = new Map<string, number>();

/**
 * The NHWC geometry of a convolution. Dilation is 1: tfjs's backprop kernels carry no dilation
 * attribute (its conv gradients reject dilation > 1), and the forward kernel hands dilated convs to
 * the built-in implementation before asking.
 */
function nhwcGeometry(
  inputShape: Shape4,
  filterShape: Shape4,
  attrs: { strides: number | [number, number]; pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4]; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
): ConvGeometry {
  return geometryFromConvInfo(
    tf.backend_util.computeConv2DInfo(inputShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast'),
  );
}

function count(key: string): void {
  fastKernelCallCounts.set(key, (fastKernelCallCounts.get(key) ?? 0) + 1);
}

/** Kernels this module replaced; kept so shapes outside the fast paths still compute correctly. */
export const builtinKernels: { conv2d: tf.KernelConfig | null; backpropInput: tf.KernelConfig | null; backpropFilter: tf.KernelConfig | null } = {
  conv2d: null,
  backpropInput: null,
  backpropFilter: null,
};

function primitive(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel ${name} is not registered; import '@tensorflow/tfjs-backend-wasm' first`);
  return config.kernelFunc;
}

function single(result: TensorInfo | TensorInfo[]): TensorInfo {
  if (Array.isArray(result)) throw new Error('expected a single-output kernel');
  return result;
}

/** Buffers owned by one kernel call; everything still owned at the end is freed. */
class Scratch {
  private readonly owned = new Set<TensorInfo>();
  constructor(private readonly backend: BackendWasm) {}

  alloc(shape: number[]): TensorInfo {
    return this.adopt(this.backend.makeOutput(shape, 'float32'));
  }

  adopt(t: TensorInfo): TensorInfo {
    this.owned.add(t);
    return t;
  }

  /** Hand ownership to the caller (the kernel's return value). */
  release(t: TensorInfo): TensorInfo {
    this.owned.delete(t);
    return t;
  }

  free(t: TensorInfo): void {
    if (this.owned.delete(t)) this.backend.disposeData(t.dataId);
  }

  freeAll(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.clear();
  }
}

/** The same data under another shape; holds no reference, so it must never be disposed. */
function viewAs(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/**
 * A Float32Array over the tensor's bytes on the wasm heap. Views are invalidated when the heap
 * grows, so take them only after every allocation that precedes their use.
 */
function heap(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** The WebAssembly im2col/col2im on the backend's heap, or null (then the JS versions run). */
function layoutSimd(backend: BackendWasm): ReturnType<typeof layoutSimdFor> {
  const memory = backendHeapMemory(backend);
  return memory === null ? null : layoutSimdFor(memory);
}

function builtinConv2d(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const builtin = builtinKernels.conv2d;
  if (builtin !== null) return single(builtin.kernelFunc(args));
  // Not replaced (registerFastWasmKernels not called): the registered kernel is the backend's own.
  return single(primitive('Conv2D')(args));
}

function conv2dStride1(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, pads: [[number, number], [number, number]]): TensorInfo {
  const pad: tf.backend_util.ExplicitPadding = [[0, 0], pads[0], pads[1], [0, 0]];
  const attrs = { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap;
  return conv2DForwardFast({ inputs: { x, filter }, backend, attrs });
}

function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, transposeA = false, transposeB = false): TensorInfo {
  const attrs = { transposeA, transposeB } as unknown as tf.NamedAttrMap;
  return single(primitive('BatchMatMul')({ inputs: { a, b }, backend, attrs }));
}

function transposeNchwToNhwc(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const attrs = { perm: [0, 2, 3, 1] } as unknown as tf.NamedAttrMap;
  return single(primitive('Transpose')({ inputs: { x: t }, backend, attrs }));
}

/** Rows [start, start + m) of a [M, C] matrix: a view when they are all of it, else a scratch copy (free it with scratch.free). */
function rowsOf(backend: BackendWasm, scratch: Scratch, t: TensorInfo, start: number, m: number, c: number, whole: boolean): TensorInfo {
  if (whole) return viewAs(t, [m, c]);
  const rows = scratch.alloc([m, c]);
  heap(backend, rows).set(heap(backend, t).subarray(start * c, (start + m) * c));
  return rows;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropInput: dx[N,H,W,C] from dy[N,OH,OW,O] and filter[kh,kw,C,O].

function backpropInputFlipConv(backend: BackendWasm, scratch: Scratch, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const pads = flipConvPadding(g);
  if (pads === null) throw new Error('flip-conv needs a stride-1 geometry');
  const flipped = scratch.alloc([g.kH, g.kW, g.outC, g.inC]);
  flipSwapFilter(heap(backend, filter), g.kH, g.kW, g.inC, g.outC, heap(backend, flipped));
  return conv2dStride1(backend, dy, flipped, pads);
}

function backpropInputS2dConv(backend: BackendWasm, scratch: Scratch, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const s2dFilter = scratch.alloc([2, 2, g.outC, 4 * g.inC]);
  spaceToDepthBackpropFilter(heap(backend, filter), g.inC, g.outC, heap(backend, s2dFilter));
  const dS = scratch.adopt(
    conv2dStride1(backend, dy, s2dFilter, [
      [1, 1],
      [1, 1],
    ]),
  );
  scratch.free(s2dFilter);
  const dx = scratch.alloc([g.batch, g.inH, g.inW, g.inC]);
  depthToSpaceCrop(heap(backend, dS), g.batch, g.outH, g.outW, g.inC, heap(backend, dx));
  return scratch.release(dx);
}

function backpropInputMatmulCol2im(backend: BackendWasm, scratch: Scratch, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = tapRows(g);
  const weights = viewAs(filter, [k, g.outC]);
  const dx = scratch.alloc([g.batch, g.inH, g.inW, g.inC]);
  heap(backend, dx).fill(0);
  const totalRows = g.batch * g.outH;
  const chunkRows = rowsPerChunk(g, fastKernelOptions.maxScratchFloats);
  for (let row0 = 0; row0 < totalRows; row0 += chunkRows) {
    const rows = Math.min(chunkRows, totalRows - row0);
    const m = rows * g.outW;
    if (fastKernelOptions.rowMajorProducts) {
      const dyRows = rowsOf(backend, scratch, dy, row0 * g.outW, m, g.outC, m === outputPositions(g));
      const cols = scratch.adopt(matMul(backend, dyRows, weights, false, true));
      scratch.free(dyRows);
      col2imRowsAddOn(layoutSimd(backend), heap(backend, cols), g, row0, rows, heap(backend, dx));
      scratch.free(cols);
      continue;
    }
    const dyT = scratch.alloc([g.outC, m]);
    transposeBlock(heap(backend, dy), row0 * g.outW * g.outC, m, g.outC, heap(backend, dyT), 0, m);
    const cols = scratch.adopt(matMul(backend, weights, dyT));
    scratch.free(dyT);
    col2imTransposedAdd(heap(backend, cols), g, row0, rows, heap(backend, dx));
    scratch.free(cols);
  }
  return scratch.release(dx);
}

function applicable(strategy: BackpropInputStrategy, g: ConvGeometry): boolean {
  if (strategy === 'flip-conv') return flipConvPadding(g) !== null;
  if (strategy === 's2d-conv') return isK4S2P1Even(g);
  return true;
}

export function conv2DBackpropInputFast(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const runBuiltin = (): TensorInfo => {
    count('backpropInput:builtin');
    const builtin = builtinKernels.backpropInput;
    if (builtin === null) throw new Error('the wasm backend has no built-in Conv2DBackpropInput to fall back to');
    return single(builtin.kernelFunc(args as Parameters<tf.KernelFunc>[0]));
  };
  const forced = fastKernelOptions.backpropInputStrategy;
  if (forced === 'builtin' || attrs.dataFormat === 'NCHW' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return runBuiltin();

  const g = nhwcGeometry(attrs.inputShape, filter.shape as Shape4, attrs);
  const expectedDy = [g.batch, g.outH, g.outW, g.outC];
  if (!sameShape(dy.shape, expectedDy) || g.batch * g.inH * g.inW * g.inC === 0 || outputPositions(g) === 0) return runBuiltin();

  const strategy = forced !== null && applicable(forced, g) ? forced : chooseBackpropInputStrategy(g, fastKernelOptions.rowMajorProducts);
  count(`backpropInput:${strategy}`);
  const scratch = new Scratch(backend);
  try {
    if (strategy === 'flip-conv') return backpropInputFlipConv(backend, scratch, dy, filter, g);
    if (strategy === 's2d-conv') return backpropInputS2dConv(backend, scratch, dy, filter, g);
    return backpropInputMatmulCol2im(backend, scratch, dy, filter, g);
  } finally {
    scratch.freeAll();
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW[kh,kw,C,O] = Σ_m im2col(x)[(a,b,c), m] · dy[m, o].

function backpropFilterNhwc(backend: BackendWasm, scratch: Scratch, x: TensorInfo, dy: TensorInfo, g: ConvGeometry, filterShape: Shape4): TensorInfo {
  const k = tapRows(g);
  const totalRows = g.batch * g.outH;
  const mTotal = outputPositions(g);
  if (mTotal === 0 || k * g.outC === 0) {
    const zeros = scratch.alloc([...filterShape]);
    heap(backend, zeros).fill(0);
    return scratch.release(zeros);
  }
  const chunkRows = rowsPerChunk(g, fastKernelOptions.maxScratchFloats);
  let dw: TensorInfo | null = null;
  for (let row0 = 0; row0 < totalRows; row0 += chunkRows) {
    const rows = Math.min(chunkRows, totalRows - row0);
    const m = rows * g.outW;
    const rowMajor = fastKernelOptions.rowMajorProducts;
    const cols = scratch.alloc(rowMajor ? [m, k] : [k, m]);
    if (rowMajor) im2colRowsOn(layoutSimd(backend), heap(backend, x), g, row0, rows, heap(backend, cols));
    else im2colTransposed(heap(backend, x), g, row0, rows, heap(backend, cols));
    const dyRows = rowsOf(backend, scratch, dy, row0 * g.outW, m, g.outC, m === mTotal);
    const part = scratch.adopt(matMul(backend, cols, dyRows, rowMajor, false));
    scratch.free(cols);
    scratch.free(dyRows);
    if (dw === null) {
      dw = part;
    } else {
      const acc = heap(backend, dw);
      const add = heap(backend, part);
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + add[i];
      scratch.free(part);
    }
  }
  if (dw === null) throw new Error('unreachable: no rows');
  scratch.release(dw);
  return { dataId: dw.dataId, shape: [...filterShape], dtype: 'float32' };
}

export function conv2DBackpropFilterFast(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (inputs.x.dtype !== 'float32' || inputs.dy.dtype !== 'float32') {
    const builtin = builtinKernels.backpropFilter;
    if (builtin !== null) return single(builtin.kernelFunc(args as Parameters<tf.KernelFunc>[0]));
    throw new Error(`Conv2DBackpropFilter on wasm supports float32 only, got ${inputs.x.dtype}/${inputs.dy.dtype}`);
  }
  const scratch = new Scratch(backend);
  try {
    let { x, dy } = inputs;
    if (attrs.dataFormat === 'NCHW') {
      x = scratch.adopt(transposeNchwToNhwc(backend, x));
      dy = scratch.adopt(transposeNchwToNhwc(backend, dy));
    }
    const g = nhwcGeometry(x.shape as Shape4, attrs.filterShape, attrs);
    if (!sameShape(dy.shape, [g.batch, g.outH, g.outW, g.outC])) {
      throw new Error(`Conv2DBackpropFilter: dy shape [${dy.shape}] does not match the convolution's output [${[g.batch, g.outH, g.outW, g.outC]}]`);
    }
    count('backpropFilter:im2col-matmul');
    return backpropFilterNhwc(backend, scratch, x, dy, g, attrs.filterShape);
  } finally {
    scratch.freeAll();
  }
}

// ---------------------------------------------------------------------------------------------
// Conv2D (forward): y[N,OH,OW,O] from x[N,H,W,C] and filter[kh,kw,C,O].

/**
 * Which strategy holds each filter tensor packed. XNNPACK caches the builtin conv's packed filter
 * and matMul's packed right operand per backend buffer and drops them when the buffer is disposed,
 * so reusing a filter is free for the strategy that packed it (inference); in training every Adam
 * step makes new filter buffers. Keyed by dataId object, so entries die with their tensors.
 */
const packedFilters = new WeakMap<object, ConvForwardStrategy>();

function convForwardMatmulWeights(
  backend: BackendWasm,
  scratch: Scratch,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  retainPacked: boolean,
): TensorInfo {
  const k = tapRows(g);
  let weights = viewAs(filter, [k, g.outC]);
  if (!retainPacked) {
    // XNNPACK keys the packed operator by buffer id and drops it when that buffer is freed.
    weights = scratch.alloc([k, g.outC]);
    heap(backend, weights).set(heap(backend, filter));
  }
  const totalRows = g.batch * g.outH;
  const chunkRows = rowsPerChunk(g, fastKernelOptions.maxScratchFloats);
  if (chunkRows >= totalRows) {
    const cols = scratch.alloc([outputPositions(g), k]);
    im2colRowsOn(layoutSimd(backend), heap(backend, x), g, 0, totalRows, heap(backend, cols));
    const y = scratch.adopt(matMul(backend, cols, weights));
    return { ...scratch.release(y), shape: [g.batch, g.outH, g.outW, g.outC] };
  }
  const y = scratch.alloc([g.batch, g.outH, g.outW, g.outC]);
  for (let row0 = 0; row0 < totalRows; row0 += chunkRows) {
    const rows = Math.min(chunkRows, totalRows - row0);
    const m = rows * g.outW;
    const cols = scratch.alloc([m, k]);
    im2colRowsOn(layoutSimd(backend), heap(backend, x), g, row0, rows, heap(backend, cols));
    const part = scratch.adopt(matMul(backend, cols, weights));
    scratch.free(cols);
    heap(backend, y).set(heap(backend, part), row0 * g.outW * g.outC);
    scratch.free(part);
  }
  return scratch.release(y);
}

export function conv2DForwardFast(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  const dilations = attrs.dilations ?? 1;
  const dilated = Array.isArray(dilations) ? dilations.some((d) => d !== 1) : dilations !== 1;
  const runBuiltin = (): TensorInfo => {
    count('conv2d:builtin');
    packedFilters.set(filter.dataId, 'builtin');
    return builtinConv2d(args as Parameters<tf.KernelFunc>[0]);
  };
  if (dilated || attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return runBuiltin();
  const g = nhwcGeometry(x.shape as Shape4, filter.shape as Shape4, attrs);
  if (outputPositions(g) === 0 || tapRows(g) * g.outC === 0) return runBuiltin();
  const strategy = fastKernelOptions.convForwardStrategy ?? chooseConvForwardStrategy(g, packedFilters.get(filter.dataId) ?? null);
  if (strategy === 'builtin') return runBuiltin();
  count(`conv2d:${strategy}`);
  const scratch = new Scratch(backend);
  try {
    const retainPacked = tapRows(g) * g.outC <= fastKernelOptions.maxRetainedPackedWeights;
    if (retainPacked) packedFilters.set(filter.dataId, strategy);
    return convForwardMatmulWeights(backend, scratch, x, filter, g, retainPacked);
  } finally {
    scratch.freeAll();
  }
}
