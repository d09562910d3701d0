import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configureFastWasmKernels,
  fastWasmKernelCallCounts,
  fastWasmKernelsRegistered,
  registerFastWasmKernels,
  resetFastWasmKernelCallCounts,
  type BackpropInputStrategy,
} from '../../src/train/engines/wasm-kernels.ts';
import {
  chooseBackpropInputStrategy,
  flipConvPadding,
  isK4S2P1Even,
  type ConvGeometry,
} from '../../src/train/engines/wasm-kernels/geometry.ts';
import { col2imTransposedAdd, im2colTransposed } from '../../src/train/engines/wasm-kernels/layout.ts';

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
  return c.kind === 'conv' ? tf.conv2d(x, w, c.stride, c.pad) : tf.conv2dTranspose(x, w, deconvOutShape(c), c.stride, c.pad as 'same');
}

/** Inputs are seeded, so the cpu and wasm runs see identical x, w and r. */
function evaluate(c: Case, seed: number): Result {
  return tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, 'float32', seed) as tf.Tensor4D;
    const w = tf.randomUniform(c.w, -1, 1, 'float32', seed + 1) as tf.Tensor4D;
    const y = forward(c, x, w);
    const r = tf.randomUniform(y.shape, -1, 1, 'float32', seed + 2);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(forward(c, a as tf.Tensor4D, b as tf.Tensor4D), r)))([x, w]);
    return { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(dx!.dataSync()), dw: Float32Array.from(dw!.dataSync()) };
  });
}

/** max |a − b| / max |b|: relative to the reference's scale, so near-zero entries do not blow it up. */
function relativeError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

function geometry(partial: Partial<ConvGeometry>): ConvGeometry {
  return {
    batch: 1, inH: 4, inW: 4, inC: 1, outH: 2, outW: 2, outC: 1, kH: 4, kW: 4,
    strideH: 2, strideW: 2, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
    ...partial,
  };
}

describe('layout helpers', () => {
  it('im2colTransposed lays out every tap of every output position, zero on padding', () => {
    // x is 1×2×2×1 = [[1,2],[3,4]]; a 2×2 kernel, stride 1, pad 1 on top/left only → 2×2 outputs.
    const g = geometry({ inH: 2, inW: 2, outH: 2, outW: 2, kH: 2, kW: 2, strideH: 1, strideW: 1, padTop: 1, padLeft: 1, padBottom: 0, padRight: 0 });
    const cols = new Float32Array(4 * 4).fill(Number.NaN);
    im2colTransposed(Float32Array.of(1, 2, 3, 4), g, 0, 2, cols);
    // Row (a,b), column m = output position (i,j): x[i+a−1, j+b−1].
    expect(Array.from(cols)).toEqual([
      0, 0, 0, 1, // tap (0,0)
      0, 0, 1, 2, // tap (0,1)
      0, 1, 0, 3, // tap (1,0)
      1, 2, 3, 4, // tap (1,1)
    ]);
  });

  it('col2imTransposedAdd is the adjoint of im2colTransposed: <im2col(x), C> = <x, col2im(C)>', () => {
    const g = geometry({ batch: 2, inH: 5, inW: 4, inC: 3, outH: 3, outW: 2, outC: 1, kH: 4, kW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 });
    const xSize = 2 * 5 * 4 * 3;
    const colsSize = 4 * 3 * 3 * (2 * 3 * 2);
    const x = Float32Array.from({ length: xSize }, (_, i) => Math.sin(i + 1));
    const c = Float32Array.from({ length: colsSize }, (_, i) => Math.cos(3 * i));
    const cols = new Float32Array(colsSize);
    im2colTransposed(x, g, 0, 6, cols);
    const back = new Float32Array(xSize);
    col2imTransposedAdd(c, g, 0, 6, back);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < colsSize; i++) lhs += cols[i]! * c[i]!;
    for (let i = 0; i < xSize; i++) rhs += x[i]! * back[i]!;
    expect(lhs).toBeCloseTo(rhs, 4);
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

  afterAll(() => {
    configureFastWasmKernels({ backpropInputStrategy: null, maxScratchFloats: 1 << 23 });
    console.log(`worst relative error vs cpu over all cases and strategies: ${worst.toExponential(2)}`);
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
        const got = evaluate(c, 100 * i);
        const want = reference.get(c.name)!;
        for (const key of ['y', 'dx', 'dw'] as const) {
          const err = relativeError(got[key], want[key]);
          worst = Math.max(worst, err);
          expect(err, key).toBeLessThanOrEqual(TOLERANCE);
        }
        const counts = fastWasmKernelCallCounts();
        expect(counts['backpropFilter:im2col-matmul']).toBeGreaterThan(0);
        expect(counts['backpropInput:builtin']).toBeUndefined();
      });
    }
  }

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
      const got = evaluate(c, 100 * i);
      const want = reference.get(c.name)!;
      for (const key of ['y', 'dx', 'dw'] as const) {
        const err = relativeError(got[key], want[key]);
        worst = Math.max(worst, err);
        expect(err, `${c.name} ${key}`).toBeLessThanOrEqual(TOLERANCE);
      }
    }
    configureFastWasmKernels({ backpropInputStrategy: null, maxScratchFloats: 1 << 23 });
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
      const nhwc = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, {
        strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 6, 6, 5],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const nchw = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dy.transpose([0, 3, 1, 2]), filter }, {
        strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 5, 6, 6],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const err = relativeError(Float32Array.from(nchw.transpose([0, 2, 3, 1]).dataSync()), Float32Array.from(nhwc.dataSync()));
      expect(err).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it('computes Conv2DBackpropFilter for NCHW inputs too', () => {
    tf.tidy(() => {
      const x = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 9);
      const dy = tf.randomUniform([2, 3, 3, 4], -1, 1, 'float32', 10);
      const attrs = { strides: 2, pad: 'same', filterShape: [4, 4, 3, 4] };
      const nhwc = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const nchw = tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: x.transpose([0, 3, 1, 2]), dy: dy.transpose([0, 3, 1, 2]) },
        { ...attrs, dataFormat: 'NCHW' } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor;
      expect(nchw.shape).toEqual([4, 4, 3, 4]);
      expect(relativeError(Float32Array.from(nchw.dataSync()), Float32Array.from(nhwc.dataSync()))).toBeLessThanOrEqual(TOLERANCE);
    });
  });

  it("leaves the caller's tensors intact and leaks no tensors or backend buffers", () => {
    const backend = tf.engine().backend as unknown as { numDataIds(): number };
    for (const strategy of STRATEGIES) {
      configureFastWasmKernels({ backpropInputStrategy: strategy });
      for (const c of [CASES[1]!, CASES[6]!, CASES[9]!]) {
        const x = tf.randomUniform(c.x, -1, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomUniform(c.w, -1, 1, 'float32', 2) as tf.Tensor4D;
        const xBefore = Float32Array.from(x.dataSync());
        const wBefore = Float32Array.from(w.dataSync());
        const step = (): void => {
          tf.tidy(() => {
            const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(forward(c, a as tf.Tensor4D, b as tf.Tensor4D))))([x, w]);
            dx!.dataSync();
            dw!.dataSync();
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
    configureFastWasmKernels({ backpropInputStrategy: null });
  });
});
