import * as tf from '../../src/train/tfjs.ts';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureFastWasmKernels,
  fastWasmKernelCallCounts,
  fastWasmKernelsRegistered,
  registerFastWasmKernels,
  resetFastWasmKernelCallCounts,
  type BackpropInputStrategy,
  type ConvForwardStrategy,
} from '../../src/train/engines/wasm-kernels.ts';
import {
  chooseBackpropInputStrategy,
  chooseConvForwardStrategy,
  flipConvPadding,
  isK4S2P1Even,
  type ConvGeometry,
} from '../../src/train/engines/wasm-kernels/geometry.ts';
import { adamUpdateArrays, fusedAdamAvailable, fusedAdamUpdate } from '../../src/train/engines/wasm-kernels/adam.ts';
import { col2imRowsAdd, col2imTransposedAdd, im2colRows, im2colTransposed } from '../../src/train/engines/wasm-kernels/layout.ts';
import { layoutPathCounts } from '../../src/train/engines/wasm-kernels/layout-simd.ts';
import { relativeError } from '../helpers/numeric.ts';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

const P1: tf.backend_util.ExplicitPadding = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/**
 * One convolution under test. For kind 'conv': y = conv2d(x, w). For 'deconv': y = conv2dTranspose(x, w)
 * with w = [k, k, outC, inC] (tfjs layout) and 2× upsampling.
 */
interface Case {
  name: string;
  kind: 'conv' | 'deconv';
  x: Shape4;
  w: Shape4;
  stride: number;
  pad: Pad;
}

const CASES: Case[] = [
  // k4 s2 'same' (= p1): U-Net encoder, PatchGAN stride-2 layers; 2×2→1×1 is the innermost e8.
  { name: 'conv k4s2 2x2→1x1 c3→4', kind: 'conv', x: [1, 2, 2, 3], w: [4, 4, 3, 4], stride: 2, pad: 'same' },
  { name: 'conv k4s2 4x4 b2 c5→3', kind: 'conv', x: [2, 4, 4, 5], w: [4, 4, 5, 3], stride: 2, pad: 'same' },
  { name: 'conv k4s2 16x16 c3→6', kind: 'conv', x: [1, 16, 16, 3], w: [4, 4, 3, 6], stride: 2, pad: 'same' },
  { name: 'conv k4s2 8x6 b2 c4→7', kind: 'conv', x: [2, 8, 6, 4], w: [4, 4, 4, 7], stride: 2, pad: 'same' },
  { name: 'conv k4s2 odd 7x5 c3→2', kind: 'conv', x: [1, 7, 5, 3], w: [4, 4, 3, 2], stride: 2, pad: 'same' },
  // conv2dTranspose k4 s2 'same': every decoder layer; 1×1→2×2 is the innermost d1.
  { name: 'deconv k4s2 1x1→2x2 c6→5', kind: 'deconv', x: [1, 1, 1, 6], w: [4, 4, 5, 6], stride: 2, pad: 'same' },
  { name: 'deconv k4s2 2x2→4x4 b2 c4→3', kind: 'deconv', x: [2, 2, 2, 4], w: [4, 4, 3, 4], stride: 2, pad: 'same' },
  { name: 'deconv k4s2 8x8→16x16 c5→3', kind: 'deconv', x: [1, 8, 8, 5], w: [4, 4, 3, 5], stride: 2, pad: 'same' },
  { name: 'deconv k4s2 3x4→6x8 b2 c3→4', kind: 'deconv', x: [2, 3, 4, 3], w: [4, 4, 4, 3], stride: 2, pad: 'same' },
  // k4 s1 explicit p1 (output side = input − 1): last two PatchGAN layers.
  { name: 'conv k4s1p1 6x6 c4→3', kind: 'conv', x: [1, 6, 6, 4], w: [4, 4, 4, 3], stride: 1, pad: P1 },
  { name: 'conv k4s1p1 5x5 b2 c3→1', kind: 'conv', x: [2, 5, 5, 3], w: [4, 4, 3, 1], stride: 1, pad: P1 },
  { name: 'conv k4s1p1 2x2→1x1 c5→2', kind: 'conv', x: [1, 2, 2, 5], w: [4, 4, 5, 2], stride: 1, pad: P1 },
  // k1 s1 pad 0 (PixelGAN) and k3 s1 p1.
  { name: 'conv k1s1 4x4 b2 c3→5', kind: 'conv', x: [2, 4, 4, 3], w: [1, 1, 3, 5], stride: 1, pad: 'valid' },
  { name: 'conv k3s1p1 5x5 c4→3', kind: 'conv', x: [1, 5, 5, 4], w: [3, 3, 4, 3], stride: 1, pad: 'same' },
  { name: 'conv k3s1p1 3x3 b2 c2→3', kind: 'conv', x: [2, 3, 3, 2], w: [3, 3, 2, 3], stride: 1, pad: 'same' },
];

const STRATEGIES: (BackpropInputStrategy | null)[] = [null, 'flip-conv', 's2d-conv', 'matmul-col2im'];
const FORWARD_STRATEGIES: ConvForwardStrategy[] = ['builtin', 'matmul-weights'];
const TOLERANCE = 1e-4;

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

function deconvOutShape(c: Case): Shape4 {
  return [c.x[0], c.x[1] * 2, c.x[2] * 2, c.w[2]];
}

function forward(c: Case, x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return c.kind === 'conv' ? tf.conv2d(x, w, c.stride, c.pad) : tf.conv2dTranspose(x, w, deconvOutShape(c), c.stride, c.pad);
}

/** Inputs are seeded, so the cpu and wasm runs see identical x, w and r. */
function evaluate(c: Case, seed: number): Result {
  return tf.tidy(() => {
    const x = tf.randomUniform<tf.Rank.R4>(c.x, -1, 1, 'float32', seed);
    const w = tf.randomUniform<tf.Rank.R4>(c.w, -1, 1, 'float32', seed + 1);
    const y = forward(c, x, w);
    const r = tf.randomUniform(y.shape, -1, 1, 'float32', seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(c, a as tf.Tensor4D, b as tf.Tensor4D), r)))([x, w]);
    return { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(dx.dataSync()), dw: Float32Array.from(dw.dataSync()) };
  });
}

function geometry(partial: Partial<ConvGeometry>): ConvGeometry {
  return {
    batch: 1,
    inH: 4,
    inW: 4,
    inC: 1,
    outH: 2,
    outW: 2,
    outC: 1,
    kH: 4,
    kW: 4,
    strideH: 2,
    strideW: 2,
    padTop: 1,
    padLeft: 1,
    padBottom: 1,
    padRight: 1,
    ...partial,
  };
}

/** 2 images of 5×4×3, k 4×3, stride 2, pad 1: 3×2 outputs, so im2col holds 36 taps × 12 rows. */
const ADJOINT_GEOMETRY = geometry({ batch: 2, inH: 5, inW: 4, inC: 3, outH: 3, outW: 2, outC: 1, kH: 4, kW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 });

/** <im2col(x), C> = <x, col2im(C)> on fixed pseudo-random x and C: col2im is im2col's adjoint. */
function expectAdjoint(im2col: (x: Float32Array, cols: Float32Array) => void, col2im: (c: Float32Array, back: Float32Array) => void): void {
  const xSize = 2 * 5 * 4 * 3;
  const colsSize = 4 * 3 * 3 * (2 * 3 * 2);
  const x = Float32Array.from({ length: xSize }, (_, i) => Math.sin(i + 1));
  const c = Float32Array.from({ length: colsSize }, (_, i) => Math.cos(3 * i));
  const cols = new Float32Array(colsSize);
  im2col(x, cols);
  const back = new Float32Array(xSize);
  col2im(c, back);
  let lhs = 0;
  let rhs = 0;
  for (let i = 0; i < colsSize; i++) lhs += cols[i] * c[i];
  for (let i = 0; i < xSize; i++) rhs += x[i] * back[i];
  expect(lhs).toBeCloseTo(rhs, 4);
}

describe('layout helpers', () => {
  it('im2colTransposed lays out every tap of every output position, zero on padding', () => {
    // x is 1×2×2×1 = [[1,2],[3,4]]; a 2×2 kernel, stride 1, pad 1 on top/left only → 2×2 outputs.
    const g = geometry({ inH: 2, inW: 2, outH: 2, outW: 2, kH: 2, kW: 2, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, padBottom: 0, padRight: 0 });
    const cols = new Float32Array(4 * 4).fill(Number.NaN);
    im2colTransposed(Float32Array.of(1, 2, 3, 4), g, 0, 2, cols);
    // Row (a,b), column m = output position (i,j): x[i+a−1, j+b−1].
    expect(Array.from(cols)).toEqual([
      0,
      0,
      0,
      1, // tap (0,0)
      0,
      0,
      1,
      2, // tap (0,1)
      0,
      1,
      0,
      3, // tap (1,0)
      1,
      2,
      3,
      4, // tap (1,1)
    ]);
  });

  it('im2colRows is the row-major transpose of im2colTransposed', () => {
    const g = geometry({ batch: 2, inH: 5, inW: 4, inC: 3, outH: 3, outW: 2, outC: 1, kH: 4, kW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 });
    const k = 4 * 3 * 3;
    const x = Float32Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => i + 1);
    // Output rows 2..4 only: chunks start mid-batch.
    const m = 3 * 2;
    const colsT = new Float32Array(k * m);
    im2colTransposed(x, g, 2, 3, colsT);
    const rows = new Float32Array(m * k).fill(Number.NaN);
    im2colRows(x, g, 2, 3, rows);
    for (let r = 0; r < m; r++) for (let t = 0; t < k; t++) expect(rows[r * k + t]).toBe(colsT[t * m + r]);
  });

  it('col2imTransposedAdd is the adjoint of im2colTransposed: <im2col(x), C> = <x, col2im(C)>', () => {
    expectAdjoint(
      (x, cols) => im2colTransposed(x, ADJOINT_GEOMETRY, 0, 6, cols),
      (c, back) => col2imTransposedAdd(c, ADJOINT_GEOMETRY, 0, 6, back),
    );
  });
});

describe('row-major col2im', () => {
  it('col2imRowsAdd is the adjoint of im2colRows: <im2col(x), C> = <x, col2im(C)>', () => {
    expectAdjoint(
      (x, cols) => im2colRows(x, ADJOINT_GEOMETRY, 0, 6, cols),
      (c, back) => {
        // Two chunks of rows accumulate into the same dx.
        col2imRowsAdd(c, ADJOINT_GEOMETRY, 0, 2, back);
        col2imRowsAdd(c.subarray(2 * 2 * 36), ADJOINT_GEOMETRY, 2, 4, back);
      },
    );
  });
});

describe('strategy geometry', () => {
  it('recognises the k4 s2 p1 even case and the stride-1 flip padding', () => {
    expect(isK4S2P1Even(geometry({ inH: 8, inW: 8, outH: 4, outW: 4 }))).toBe(true);
    expect(isK4S2P1Even(geometry({ inH: 7, inW: 8, outH: 4, outW: 4, padBottom: 2 }))).toBe(false);
    // PatchGAN k4 s1 p1: 32 → 31; dx needs dy padded by kH−1−pad = 2 on every side.
    const k4s1 = geometry({ inH: 32, inW: 32, outH: 31, outW: 31, strideH: 1, strideW: 1 });
    expect(flipConvPadding(k4s1)).toEqual([
      [2, 2],
      [2, 2],
    ]);
    expect(flipConvPadding(geometry({}))).toBeNull();
  });

  it('uses col2im for the weight-heavy inner layers and space-to-depth for the wide outer ones', () => {
    // d4 of U-Net-256 (dx 16×16×512, dy 8×8×1024): 8M weights would have to be repacked.
    expect(chooseBackpropInputStrategy(geometry({ inH: 16, inW: 16, inC: 512, outH: 8, outW: 8, outC: 1024 }))).toBe('matmul-col2im');
    // d7 (dx 128×128×64, dy 64×64×256): 262k weights, 16.8M column values.
    expect(chooseBackpropInputStrategy(geometry({ inH: 128, inW: 128, inC: 64, outH: 64, outW: 64, outC: 256 }))).toBe('s2d-conv');
  });

  it('with row-major products (ort-cpu), picks the dx path that rearranges least', () => {
    // The PatchGAN's last layer (512 → 1, k4 s1 p1 on 31²): col2im would scatter 16·512 values per
    // output position; flip-conv copies 16 values of dy per position and a filter of 8,192 values.
    const last = geometry({ inH: 31, inW: 31, inC: 512, outH: 30, outW: 30, outC: 1, strideH: 1, strideW: 1 });
    expect(chooseBackpropInputStrategy(last, true)).toBe('flip-conv');
    // A deep U-Net layer (8² × 512 → 4² × 512): rearranging a 4M-value filter costs more than col2im.
    expect(chooseBackpropInputStrategy(geometry({ inH: 8, inW: 8, inC: 512, outH: 4, outW: 4, outC: 512 }), true)).toBe('matmul-col2im');
  });
});

describe('forward strategy cost model', () => {
  it('avoids repacking a new filter in the weight-heavy inner layers and keeps XNNPACK conv for the wide outer ones', () => {
    // e8 of U-Net-256: 2×2×512 → 1×1×512, 4.2M weights and a single output position.
    const e8 = geometry({ inH: 2, inW: 2, inC: 512, outH: 1, outW: 1, outC: 512 });
    expect(chooseConvForwardStrategy(e8, null)).toBe('matmul-weights');
    // e1: 256²×3 → 128²×64, 3k weights but a 786k-value column matrix.
    const e1 = geometry({ inH: 256, inW: 256, inC: 3, outH: 128, outW: 128, outC: 64 });
    expect(chooseConvForwardStrategy(e1, null)).toBe('builtin');
  });

  it('reuses whichever strategy already holds the filter packed', () => {
    const e8 = geometry({ inH: 2, inW: 2, inC: 512, outH: 1, outW: 1, outC: 512 });
    expect(chooseConvForwardStrategy(e8, 'builtin')).toBe('builtin');
    const e1 = geometry({ inH: 256, inW: 256, inC: 3, outH: 128, outW: 128, outC: 64 });
    expect(chooseConvForwardStrategy(e1, 'matmul-weights')).toBe('builtin');
  });
});

describe('fast wasm conv backprop kernels match the cpu backend', () => {
  const reference = new Map<string, Result>();
  let worst = 0;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    CASES.forEach((c, i) => reference.set(c.name, evaluate(c, 100 * i)));
    await tf.setBackend('wasm');
    registerFastWasmKernels();
  });

  /** Run case i on the wasm backend and check y, dx and dw against the cpu reference (recording the worst error). */
  const expectMatchesReference = (c: Case, i: number, note = ''): void => {
    const got = evaluate(c, 100 * i);
    const want = reference.get(c.name)!;
    for (const key of ['y', 'dx', 'dw'] as const) {
      const err = relativeError(got[key], want[key]);
      worst = Math.max(worst, err);
      expect(err, `${c.name} ${key}${note}`).toBeLessThanOrEqual(TOLERANCE);
    }
  };

  afterAll(() => {
    configureFastWasmKernels({ backpropInputStrategy: null, convForwardStrategy: null, maxScratchFloats: 1 << 23 });
    console.log(`worst relative error vs cpu over all cases and strategies: ${worst.toExponential(2)}`);
  });

  it('clone shares the buffer instead of copying it, and either tensor may be disposed first', () => {
    const backend = tf.backend() as unknown as { refCount(dataId: object): number };
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    expect(b.dataId).toBe(a.dataId);
    expect(backend.refCount(a.dataId)).toBe(2);
    a.dispose();
    expect([...b.dataSync()]).toEqual([1, 2, 3]);
    const c = tf.clone(b);
    c.dispose();
    expect([...b.dataSync()]).toEqual([1, 2, 3]);
    b.dispose();
  });

  it('registers both kernels, and registering twice changes nothing', () => {
    expect(fastWasmKernelsRegistered()).toBe(true);
    registerFastWasmKernels();
    expect(fastWasmKernelsRegistered()).toBe(true);
  });

  for (const strategy of STRATEGIES) {
    for (const [i, c] of CASES.entries()) {
      it(`${c.name} (${strategy ?? 'automatic'})`, () => {
        configureFastWasmKernels({ backpropInputStrategy: strategy });
        resetFastWasmKernelCallCounts();
        expectMatchesReference(c, i);
        const counts = fastWasmKernelCallCounts();
        expect(counts['backpropFilter:im2col-matmul']).toBeGreaterThan(0);
        expect(counts['backpropInput:builtin']).toBeUndefined();
      });
    }
  }

  for (const strategy of FORWARD_STRATEGIES) {
    it(`every case with the forward conv forced to ${strategy}`, () => {
      configureFastWasmKernels({ convForwardStrategy: strategy });
      for (const [i, c] of CASES.entries()) {
        resetFastWasmKernelCallCounts();
        expectMatchesReference(c, i);
        // A conv's forward, or a deconv's dx, ran through the forced path.
        expect(fastWasmKernelCallCounts()[`conv2d:${strategy}`], c.name).toBeGreaterThan(0);
      }
      configureFastWasmKernels({ convForwardStrategy: null });
    });
  }

  it('never serves a stale packed filter: each new filter tensor gives its own result', () => {
    // XNNPACK caches packed weights per backend buffer; a training step replaces every filter.
    configureFastWasmKernels({ convForwardStrategy: 'matmul-weights' });
    const x = tf.randomUniform<tf.Rank.R4>([1, 4, 4, 8], -1, 1, 'float32', 11);
    let w = tf.randomUniform<tf.Rank.R4>([4, 4, 8, 16], -1, 1, 'float32', 12);
    for (let step = 0; step < 3; step++) {
      const wasm = tf.conv2d(x, w, 2, 'same');
      const again = tf.conv2d(x, w, 2, 'same');
      const xs = x.dataSync();
      const ws = w.dataSync();
      // Direct sum for output (0,0,0,o): taps a,b ∈ {1,2} hit x[0..1, 0..1] (pad 1 top/left).
      const y = wasm.dataSync();
      for (let o = 0; o < 16; o++) {
        let want = 0;
        for (let a = 1; a < 4; a++)
          for (let b = 1; b < 4; b++)
            for (let c = 0; c < 8; c++) {
              want += xs[((a - 1) * 4 + (b - 1)) * 8 + c] * ws[((a * 4 + b) * 8 + c) * 16 + o];
            }
        expect(y[o]).toBeCloseTo(want, 4);
      }
      expect(Array.from(again.dataSync())).toEqual(Array.from(y));
      const next = tf.tidy<tf.Tensor4D>(() => tf.add(tf.mul(w, -0.5), 0.25)); // as an optimizer step would
      tf.dispose([w, wasm, again]);
      w = next;
    }
    tf.dispose([x, w]);
    configureFastWasmKernels({ convForwardStrategy: null });
  });

  it('splits the forward column matrix into chunks with the same result', () => {
    configureFastWasmKernels({ convForwardStrategy: 'matmul-weights', maxScratchFloats: 64 });
    for (const [i, c] of CASES.entries()) {
      expectMatchesReference(c, i);
    }
    configureFastWasmKernels({ convForwardStrategy: null, maxScratchFloats: 1 << 23 });
  });

  it('takes the forced strategy where it applies', () => {
    const s2d = CASES.find((c) => c.name.startsWith('deconv k4s2 8x8'))!;
    const flip = CASES.find((c) => c.name.startsWith('conv k4s1p1 6x6'))!;
    configureFastWasmKernels({ backpropInputStrategy: 's2d-conv' });
    resetFastWasmKernelCallCounts();
    evaluate(s2d, 0);
    expect(Object.keys(fastWasmKernelCallCounts())).toContain('backpropInput:s2d-conv');
    configureFastWasmKernels({ backpropInputStrategy: 'flip-conv' });
    resetFastWasmKernelCallCounts();
    evaluate(flip, 0);
    expect(Object.keys(fastWasmKernelCallCounts())).toContain('backpropInput:flip-conv');
    configureFastWasmKernels({ backpropInputStrategy: 'matmul-col2im' });
    resetFastWasmKernelCallCounts();
    evaluate(flip, 0);
    expect(Object.keys(fastWasmKernelCallCounts())).toEqual(expect.arrayContaining(['backpropInput:matmul-col2im']));
    configureFastWasmKernels({ backpropInputStrategy: null });
  });

  it('gives the same results when the column matrices are split into many chunks', () => {
    configureFastWasmKernels({ backpropInputStrategy: 'matmul-col2im', maxScratchFloats: 64 });
    for (const [i, c] of CASES.entries()) {
      expectMatchesReference(c, i);
    }
    configureFastWasmKernels({ backpropInputStrategy: null, maxScratchFloats: 1 << 23 });
  });

  it('gives the same results with row-major column matrices and transposing products (the ort-cpu layout), whole and chunked', () => {
    const before = { ...layoutPathCounts };
    for (const maxScratchFloats of [1 << 23, 64]) {
      configureFastWasmKernels({ backpropInputStrategy: 'matmul-col2im', convForwardStrategy: 'matmul-weights', rowMajorProducts: true, maxScratchFloats });
      for (const [i, c] of CASES.entries()) {
        resetFastWasmKernelCallCounts();
        expectMatchesReference(c, i, ` (chunk limit ${maxScratchFloats})`);
        expect(fastWasmKernelCallCounts()['backpropFilter:im2col-matmul']).toBeGreaterThan(0);
      }
    }
    // The rearrangements ran as WebAssembly on the backend's heap, not as the JS fallback.
    expect(layoutPathCounts.simd).toBeGreaterThan(before.simd);
    expect(layoutPathCounts.js).toBe(before.js);
    configureFastWasmKernels({ backpropInputStrategy: null, convForwardStrategy: null, rowMajorProducts: false, maxScratchFloats: 1 << 23 });
  });

  it('falls back to the built-in Conv2DBackpropInput correctly (forced, and for NCHW)', () => {
    configureFastWasmKernels({ backpropInputStrategy: 'builtin' });
    resetFastWasmKernelCallCounts();
    const c = CASES.find((k) => k.name.startsWith('deconv k4s2 2x2'))!;
    const got = evaluate(c, 100 * CASES.indexOf(c));
    expect(relativeError(got.y, reference.get(c.name)!.y)).toBeLessThanOrEqual(TOLERANCE);
    expect(fastWasmKernelCallCounts()['backpropInput:builtin']).toBeGreaterThan(0);
    configureFastWasmKernels({ backpropInputStrategy: null });

    // NCHW input gradient through the kernel directly, against the NHWC fast path transposed.
    tf.tidy(() => {
      const dy = tf.randomUniform([2, 3, 3, 4], -1, 1, 'float32', 7);
      const filter = tf.randomUniform([4, 4, 5, 4], -1, 1, 'float32', 8);
      const nhwc = tf.engine().runKernel<tf.Tensor>(
        tf.Conv2DBackpropInput,
        { dy, filter },
        {
          strides: 2,
          pad: 'same',
          dataFormat: 'NHWC',
          inputShape: [2, 6, 6, 5],
        },
      );
      const nchw = tf.engine().runKernel<tf.Tensor>(
        tf.Conv2DBackpropInput,
        { dy: dy.transpose([0, 3, 1, 2]), filter },
        {
          strides: 2,
          pad: 'same',
          dataFormat: 'NCHW',
          inputShape: [2, 5, 6, 6],
        },
      );
      const err = relativeError(Float32Array.from(nchw.transpose([0, 2, 3, 1]).dataSync()), Float32Array.from(nhwc.dataSync()));
      expect(err).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it('computes Conv2DBackpropFilter for NCHW inputs too', () => {
    tf.tidy(() => {
      const x = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 9);
      const dy = tf.randomUniform([2, 3, 3, 4], -1, 1, 'float32', 10);
      const attrs = { strides: 2, pad: 'same', filterShape: [4, 4, 3, 4] };
      const nhwc = tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, dataFormat: 'NHWC' });
      const nchw = tf.engine().runKernel<tf.Tensor>(
        tf.Conv2DBackpropFilter,
        { x: x.transpose([0, 3, 1, 2]), dy: dy.transpose([0, 3, 1, 2]) },
        {
          ...attrs,
          dataFormat: 'NCHW',
        },
      );
      expect(nchw.shape).toEqual([4, 4, 3, 4]);
      expect(relativeError(Float32Array.from(nchw.dataSync()), Float32Array.from(nhwc.dataSync()))).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it("leaves the caller's tensors intact and leaks no tensors or backend buffers", () => {
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    const combos = [...STRATEGIES.map((s) => [s, null] as const), ...FORWARD_STRATEGIES.map((f) => [null, f] as const)];
    for (const [strategy, forwardStrategy] of combos) {
      configureFastWasmKernels({ backpropInputStrategy: strategy, convForwardStrategy: forwardStrategy });
      for (const c of [CASES[1], CASES[6], CASES[9]]) {
        const x = tf.randomUniform<tf.Rank.R4>(c.x, -1, 1, 'float32', 1);
        const w = tf.randomUniform<tf.Rank.R4>(c.w, -1, 1, 'float32', 2);
        const xBefore = Float32Array.from(x.dataSync());
        const wBefore = Float32Array.from(w.dataSync());
        const step = (): void => {
          tf.tidy(() => {
            const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(forward(c, a as tf.Tensor4D, b as tf.Tensor4D))))([x, w]);
            dx.dataSync();
            dw.dataSync();
          });
        };
        step();
        const before = { ...tf.memory(), dataIds: backend.numDataIds() };
        for (let k = 0; k < 3; k++) step();
        const after = { ...tf.memory(), dataIds: backend.numDataIds() };
        expect(after.numTensors).toBe(before.numTensors);
        expect(after.numBytes).toBe(before.numBytes);
        expect(after.dataIds).toBe(before.dataIds);
        expect(x.isDisposed || w.isDisposed).toBe(false);
        expect(Array.from(x.dataSync())).toEqual(Array.from(xBefore));
        expect(Array.from(w.dataSync())).toEqual(Array.from(wBefore));
        tf.dispose([x, w]);
      }
    }
    configureFastWasmKernels({ backpropInputStrategy: null, convForwardStrategy: null });
  });
});

describe('fused Adam update', () => {
  const scalars = { beta1: 0.5, beta2: 0.999, epsilon: 1e-8, stepSize: 2e-4 / (1 - 0.5 ** 3), sqrtBc2: Math.sqrt(1 - 0.999 ** 3) };

  /** The composed update exactly as src/train/adam.ts writes it. */
  function composed(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor): Float32Array[] {
    return tf.tidy(() => {
      const { beta1, beta2, epsilon, stepSize, sqrtBc2 } = scalars;
      const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
      const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
      const p1 = tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.div(tf.sqrt(v1), sqrtBc2), epsilon)), stepSize));
      return [p1, m1, v1].map((t) => Float32Array.from(t.dataSync()));
    });
  }

  function inputs(): tf.Tensor[] {
    return [
      tf.randomUniform([3, 5, 7], -1, 1, 'float32', 21),
      tf.randomUniform([3, 5, 7], -0.1, 0.1, 'float32', 22),
      tf.randomUniform([3, 5, 7], -0.01, 0.01, 'float32', 23),
      tf.randomUniform([3, 5, 7], 0, 1e-4, 'float32', 24),
    ];
  }

  it('hand-computed single element: g = 1 from zero state', () => {
    const out = { p: new Float32Array(1), m: new Float32Array(1), v: new Float32Array(1) };
    const s = { beta1: 0.5, beta2: 0.75, epsilon: 0, stepSize: 0.1, sqrtBc2: 0.5 };
    adamUpdateArrays(Float32Array.of(2), Float32Array.of(1), Float32Array.of(0), Float32Array.of(0), s, out.p, out.m, out.v);
    // m' = 0.5, v' = 0.25, √v'/0.5 = 1, p' = 2 − 0.1·0.5/1 = 1.95
    expect(out.m[0]).toBe(0.5);
    expect(out.v[0]).toBe(0.25);
    expect(out.p[0]).toBeCloseTo(1.95, 6);
  });

  it('matches the composed update on the cpu backend and is registered on wasm only', async () => {
    await tf.setBackend('cpu');
    const cpuIn = inputs();
    const want = composed(cpuIn[0], cpuIn[1], cpuIn[2], cpuIn[3]);
    expect(fusedAdamAvailable()).toBe(false);
    tf.dispose(cpuIn);
    await tf.setBackend('wasm');
    registerFastWasmKernels();
    expect(fusedAdamAvailable()).toBe(true);
    const [p, g, m, v] = inputs();
    const before = tf.memory().numTensors;
    const got = fusedAdamUpdate(p, g, m, v, scalars);
    expect(tf.memory().numTensors).toBe(before + 3);
    got.forEach((t, i) => {
      expect(t.shape).toEqual([3, 5, 7]);
      expect(relativeError(Float32Array.from(t.dataSync()), want[i]), ['p', 'm', 'v'][i]).toBeLessThanOrEqual(1e-6);
    });
    // p moved (the step is not a no-op) and the inputs are untouched.
    expect(relativeError(Float32Array.from(got[0].dataSync()), Float32Array.from(p.dataSync()))).toBeGreaterThan(0);
    expect(Array.from(g.dataSync())).toEqual(Array.from(tf.tidy(() => inputs()[1].dataSync())));
    tf.dispose([p, g, m, v, ...got]);
  });
});
