import * as tf from '../../src/train/tfjs.ts';
import { describe, expect, it } from 'vitest';
import { selectEngine } from '../../src/train/engines/registry.ts';
import { ortKernelCallCounts } from '../../src/train/engines/ort-cpu/kernels.ts';
import { Rng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/numeric.ts';

function random(shape: number[], rng: Rng): tf.Tensor {
  return tf.tensor(rng.uniformSigned(shape.reduce((a, b) => a * b, 1)), shape);
}

/** Plain triple loop on one [r, c] matrix each, with optional transposes. */
function referenceMatMul(a: Float32Array, [ar, ac]: number[], b: Float32Array, [br, bc]: number[], ta: boolean, tb: boolean): Float32Array {
  const [m, k] = ta ? [ac, ar] : [ar, ac];
  const n = tb ? br : bc;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * ac + i] : a[i * ac + p]) * (tb ? b[j * bc + p] : b[p * bc + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

const ortCalls = (): number => ortKernelCallCounts.get('BatchMatMul:ort') ?? 0;

describe('ort-cpu engine', () => {
  it('runs matrix products on onnxruntime, with every transpose combination, matching a plain loop', async () => {
    const e = await selectEngine('ort-cpu', { threads: 2 });
    expect(e).toMatchObject({ name: 'ort-cpu', backend: 'wasm', threads: 2 });
    const rng = new Rng(4);
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const [m, k, n] = [70, 150, 90];
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      const a = random(aShape, rng);
      const b = random(bShape, rng);
      const before = ortCalls();
      const y = tf.matMul(a, b, ta, tb);
      expect(ortCalls(), `transposeA=${ta} transposeB=${tb}`).toBe(before + 1);
      expect(y.shape).toEqual([m, n]);
      const want = referenceMatMul(a.dataSync() as Float32Array, aShape, b.dataSync() as Float32Array, bShape, ta, tb);
      expect(relativeError(y.dataSync() as Float32Array, want)).toBeLessThan(1e-5);
      tf.dispose([a, b, y]);
    }
  });

  it('keeps batched and tiny products on the built-in kernel, with the same results', async () => {
    await selectEngine('ort-cpu', { threads: 2 });
    const rng = new Rng(5);
    const a = random([3, 40, 60], rng);
    const b = random([3, 60, 50], rng);
    const before = ortCalls();
    const y = tf.matMul(a, b);
    const tiny = tf.matMul(random([4, 4], rng), random([4, 4], rng));
    expect(ortCalls()).toBe(before);
    const av = a.dataSync() as Float32Array;
    const bv = b.dataSync() as Float32Array;
    const yv = y.dataSync() as Float32Array;
    for (let i = 0; i < 3; i++) {
      const want = referenceMatMul(av.subarray(i * 2400, (i + 1) * 2400), [40, 60], bv.subarray(i * 3000, (i + 1) * 3000), [60, 50], false, false);
      expect(relativeError(yv.subarray(i * 2000, (i + 1) * 2000), want)).toBeLessThan(1e-5);
    }
    tf.dispose([a, b, y, tiny]);
  });

  it('sends a convolution and both of its gradients through onnxruntime', async () => {
    await selectEngine('ort-cpu', { threads: 1 });
    const rng = new Rng(6);
    const x = random([1, 32, 32, 16], rng) as tf.Tensor4D;
    const w = random([4, 4, 16, 32], rng) as tf.Tensor4D;
    const before = ortCalls();
    const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'))))([x, w]);
    expect(ortCalls() - before).toBeGreaterThanOrEqual(3);
    tf.dispose([x, w, dx, dw]);
  });

  it('reduces (Sum, Mean) over any axes on onnxruntime, matching a plain loop', async () => {
    await selectEngine('ort-cpu', { threads: 2 });
    const rng = new Rng(9);
    const shape = [2, 40, 30, 48];
    const x = random(shape, rng);
    const xv = x.dataSync() as Float32Array;
    const strides = [40 * 30 * 48, 30 * 48, 48, 1];
    for (const axes of [[0, 1, 2], [1, 2], [3], [-1], [0, 1, 2, 3]]) {
      for (const keepDims of [false, true]) {
        for (const op of ['sum', 'mean'] as const) {
          const norm = axes.map((a) => (a + 4) % 4);
          const kernel = op === 'sum' ? 'Sum' : 'Mean';
          const before = ortKernelCallCounts.get(`${kernel}:ort`) ?? 0;
          const y = op === 'sum' ? tf.sum(x, axes, keepDims) : tf.mean(x, axes, keepDims);
          expect(ortKernelCallCounts.get(`${kernel}:ort`), `${op} ${axes}`).toBe(before + 1);
          expect(y.shape).toEqual(keepDims ? shape.map((d, i) => (norm.includes(i) ? 1 : d)) : shape.filter((_, i) => !norm.includes(i)));
          // Reference: accumulate each element into the output cell its kept coordinates address.
          const keptDims = shape.map((d, i) => (norm.includes(i) ? 1 : d));
          const want = new Float64Array(keptDims.reduce((a, b) => a * b, 1));
          for (let i = 0; i < xv.length; i++) {
            let o = 0;
            for (let d = 0; d < 4; d++) o = o * keptDims[d] + (norm.includes(d) ? 0 : Math.floor(i / strides[d]) % shape[d]);
            want[o] += xv[i];
          }
          const count = norm.reduce((a, d) => a * shape[d], 1);
          const wantF = Float32Array.from(want, (v) => (op === 'mean' ? v / count : v));
          expect(relativeError(y.dataSync() as Float32Array, wantF), `${op} ${axes} keepDims=${keepDims}`).toBeLessThan(1e-5);
          y.dispose();
        }
      }
    }
    const small = tf.sum(random([10, 10], rng), 0);
    expect(ortKernelCallCounts.get('Sum:builtin')).toBeGreaterThan(0);
    tf.dispose([x, small]);
  });

  it('hands the wasm backend back unchanged when the wasm engine is selected', async () => {
    await selectEngine('ort-cpu');
    await selectEngine('wasm');
    const rng = new Rng(7);
    const before = ortCalls();
    const y = tf.matMul(random([70, 150], rng), random([150, 90], rng));
    expect(ortCalls()).toBe(before);
    y.dispose();
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(selectEngine('ort-cpu', { threads: 0 })).rejects.toThrow(/--threads must be a positive integer/);
    await expect(selectEngine('ort-cpu', { threads: 1.5 })).rejects.toThrow(/--threads must be a positive integer/);
  });

  it('large sums give the same bits wherever the tensor sits on the heap (results do not depend on allocation)', async () => {
    await selectEngine('ort-cpu', { threads: 1 });
    const rng = new Rng(9);
    const shape = [1, 64, 64, 24]; // 98,304 values: onnxruntime's reduction
    const values = Float32Array.from(rng.uniformSigned(64 * 64 * 24), (v, i) => v * 10 ** ((i % 7) - 3));
    const heap = tf.backend() as unknown as { typedArrayFromHeap(t: tf.Tensor): Float32Array };
    const bits = new Set<string>();
    const alignments = new Set<number>();
    const alive: tf.Tensor[] = [];
    const before = ortKernelCallCounts.get('Sum:ort') ?? 0;
    for (let pad = 1; pad <= 16; pad++) {
      // Small tensors kept alive in between move each copy of x to another address.
      alive.push(tf.zeros([3 * pad + 1]));
      const x = tf.tensor(values, shape);
      alive.push(x);
      alignments.add(heap.typedArrayFromHeap(x).byteOffset % 64);
      const sums = tf.tidy(() => tf.concat([tf.sum(x, [0, 1, 2]), tf.reshape(tf.sum(x), [1])]));
      bits.add(Buffer.from(Float32Array.from(sums.dataSync()).buffer).toString('hex'));
      sums.dispose();
    }
    tf.dispose(alive);
    expect(ortKernelCallCounts.get('Sum:ort')! - before).toBe(32);
    expect(alignments.size).toBeGreaterThan(3);
    expect(bits.size).toBe(1);
  });
});
