import * as tf from '../../src/train/tfjs.ts';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastWasmKernels } from '../../src/train/engines/wasm-kernels.ts';
import {
  batchNormBackward,
  channelMoments,
  fusedBatchNormAvailable,
  fusedBatchNormTrain,
  heapChannelLoops,
  inverseStd,
  jsChannelLoops,
} from '../../src/train/engines/wasm-kernels/batch-norm.ts';
import { batchNormSimdFor } from '../../src/train/engines/wasm-kernels/batch-norm-simd.ts';
import { copyRows } from '../../src/train/engines/wasm-kernels/copy-kernels.ts';
import { fusedLeakyRelu, fusedLeakyReluAvailable } from '../../src/train/engines/wasm-kernels/leaky-relu.ts';
import { Rng } from '../../src/util/rng.ts';
import { relativeError } from '../helpers/numeric.ts';

describe('batch-norm arithmetic', () => {
  it('channel moments are the per-channel mean and biased variance over rows', () => {
    // Rows (1, 10), (3, 20): channel 0 has mean 2, variance 1; channel 1 mean 15, variance 25.
    const { mean, variance } = channelMoments(new Float32Array([1, 10, 3, 20]), 2);
    expect([...mean]).toEqual([2, 15]);
    expect([...variance]).toEqual([1, 25]);
  });

  it('the backward pass is the derivative of the forward (central differences)', () => {
    const rng = new Rng(3);
    const rows = 5;
    const c = 2;
    const x = Float64Array.from(rng.uniformSigned(rows * c));
    const gamma = new Float32Array([1.5, -0.5]);
    const beta = new Float32Array([0.1, 0.2]);
    const w = Float64Array.from(rng.uniformSigned(rows * c)); // loss = Σ w·y + Σ wm·mean + Σ wv·var
    const wm = new Float32Array([0.3, -0.7]);
    const wv = new Float32Array([0.4, 0.9]);
    const eps = 1e-5;
    const loss = (xs: Float64Array): number => {
      // float64 forward, so the differences are exact enough to check against
      const mean = [0, 0];
      const variance = [0, 0];
      for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) mean[j] += xs[i * c + j] / rows;
      for (let i = 0; i < rows; i++) for (let j = 0; j < c; j++) variance[j] += (xs[i * c + j] - mean[j]) ** 2 / rows;
      let l = 0;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < c; j++) l += w[i * c + j] * (((xs[i * c + j] - mean[j]) / Math.sqrt(variance[j] + eps)) * gamma[j] + beta[j]);
      }
      for (let j = 0; j < c; j++) l += wm[j] * mean[j] + wv[j] * variance[j];
      return l;
    };
    const x32 = Float32Array.from(x);
    const { mean, variance } = channelMoments(x32, c);
    const dx = new Float32Array(rows * c);
    const dGamma = new Float32Array(c);
    const dBeta = new Float32Array(c);
    batchNormBackward(Float32Array.from(w), x32, Float32Array.from(mean), inverseStd(variance, eps), gamma, wm, wv, dx, dGamma, dBeta);
    const h = 1e-6;
    const numeric = Array.from(x, (_, i) => {
      const plus = Float64Array.from(x32);
      const minus = Float64Array.from(x32);
      plus[i] += h;
      minus[i] -= h;
      return (loss(plus) - loss(minus)) / (2 * h);
    });
    expect(relativeError(dx, numeric)).toBeLessThan(1e-4);
    // dβ = Σ w per channel; dγ = Σ w·x̂.
    expect(dBeta[0]).toBeCloseTo(
      w.filter((_, i) => i % c === 0).reduce((s, v) => s + v, 0),
      5,
    );
  });
});

describe('batch-norm loops as WebAssembly', () => {
  it('give the JS loops’ bits: moments, backward (sums and dx), on an unaligned heap layout', () => {
    const rng = new Rng(5);
    const rows = 37;
    const c = 6;
    const memory = new WebAssembly.Memory({ initial: 2 });
    const simd = batchNormSimdFor(memory);
    expect(simd).not.toBeNull();
    let at = 4;
    const f32 = (values: ArrayLike<number>): Float32Array => {
      const a = new Float32Array(memory.buffer, at, values.length);
      a.set(values);
      at += 4 * values.length;
      return a;
    };
    const x = f32(rng.uniformSigned(rows * c).map((v) => v * 3 + 1));
    const dy = f32(rng.uniformSigned(rows * c));
    const [gamma, dMean, dVar] = [0, 1, 2].map(() => f32(rng.uniformSigned(c)));
    const outs = (): Float32Array[] => [f32(Array(rows * c).fill(0)), f32(Array(c).fill(0)), f32(Array(c).fill(0))];
    const [dxJs, dGammaJs, dBetaJs] = outs();
    const [dxWasm, dGammaWasm, dBetaWasm] = outs();
    const arenaAt = Math.ceil(at / 8) * 8 + 8 * 64;
    const loops = heapChannelLoops(simd!, new Float64Array(memory.buffer, arenaAt, 5 * c));
    const bits = (a: ArrayLike<number>): string => Buffer.from(Float64Array.from(a).buffer).toString('hex');

    const js = channelMoments(x, c);
    const wasm = channelMoments(x, c, loops);
    expect(bits(wasm.mean)).toBe(bits(js.mean));
    expect(bits(wasm.variance)).toBe(bits(js.variance));

    const mean = Float32Array.from(js.mean);
    const invStd = inverseStd(js.variance, 1e-5);
    batchNormBackward(dy, x, mean, invStd, gamma, dMean, dVar, dxJs, dGammaJs, dBetaJs);
    batchNormBackward(
      dy,
      x,
      mean,
      invStd,
      gamma,
      dMean,
      dVar,
      dxWasm,
      dGammaWasm,
      dBetaWasm,
      heapChannelLoops(simd!, new Float64Array(memory.buffer, arenaAt, 5 * c)),
    );
    expect(bits(dxWasm)).toBe(bits(dxJs));
    expect(bits(dGammaWasm)).toBe(bits(dGammaJs));
    expect(bits(dBetaWasm)).toBe(bits(dBetaJs));
    expect(dxJs.some((v) => v !== 0)).toBe(true);

    // The forward's normalisation, y = x·scale + shift per channel.
    const arena = heapChannelLoops(simd!, new Float64Array(memory.buffer, arenaAt, 5 * c));
    const [scale, shift] = [arena.f64(c), arena.f64(c)];
    scale.set(invStd);
    shift.set(js.mean.map((m) => -m));
    jsChannelLoops.affine(x, scale, shift, dxJs);
    arena.affine(x, scale, shift, dxWasm);
    expect(bits(dxWasm)).toBe(bits(dxJs));
  });
});

describe('copy kernels', () => {
  it('copyRows copies short rows element by element and long rows whole, between strided layouts', () => {
    for (const len of [3, 70]) {
      const src = Float32Array.from({ length: 2 * (len + 1) }, (_, i) => i);
      const dst = new Float32Array(2 * (len + 2)).fill(-1);
      copyRows(src, 1, len + 1, dst, 2, len + 2, len, 2);
      for (let r = 0; r < 2; r++) {
        expect([...dst.subarray(r * (len + 2) + 2, r * (len + 2) + 2 + len)]).toEqual([...src.subarray(r * (len + 1) + 1, r * (len + 1) + 1 + len)]);
        expect(dst[r * (len + 2)]).toBe(-1);
      }
    }
  });
});

describe('fused kernels on the wasm backend', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerFastWasmKernels();
  });

  it('Concat along channels and along rows gives the interleaved values; SplitV undoes it', () => {
    const a = tf.tensor4d([1, 2, 3, 4], [1, 2, 1, 2]);
    const b = tf.tensor4d([5, 6], [1, 2, 1, 1]);
    const cat = tf.concat([a, b], 3);
    expect(cat.shape).toEqual([1, 2, 1, 3]);
    expect([...cat.dataSync()]).toEqual([1, 2, 5, 3, 4, 6]);
    expect([...tf.concat([a, a], 1).dataSync()]).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    const [a2, b2] = tf.split(cat, [2, 1], 3);
    expect([...a2.dataSync()]).toEqual([1, 2, 3, 4]);
    expect([...b2.dataSync()]).toEqual([5, 6]);
    expect([...tf.concat([tf.tensor1d([1, 0], 'bool'), tf.tensor1d([1], 'bool')]).dataSync()]).toEqual([1, 0, 1]);
    expect([...tf.concat([tf.tensor2d([7], [1, 1], 'int32'), tf.tensor2d([8], [1, 1], 'int32')], 1).dataSync()]).toEqual([7, 8]);
  });

  it('Cast to the same dtype shares the buffer; a real conversion still converts', () => {
    const x = tf.tensor1d([1.5, -2.7]);
    const buffers = (): number => tf.engine().backend.numDataIds();
    const before = buffers();
    const same = tf.cast(x, 'float32');
    expect(buffers()).toBe(before);
    expect([...same.dataSync()]).toEqual([1.5, Float32Array.from([-2.7])[0]]);
    same.dispose();
    expect([...x.dataSync()]).toEqual([1.5, Float32Array.from([-2.7])[0]]);
    expect([...tf.cast(x, 'int32').dataSync()]).toEqual([1, -2]);
  });

  it.each([5, 6])(
    'batch norm, %i channels (odd: JS loops, even: SIMD): the fused kernels give the composed ops’ values and gradients, also through mean and variance',
    (channels) => {
      expect(fusedBatchNormAvailable()).toBe(true);
      const rng = new Rng(7);
      const shape: [number, number, number, number] = [2, 3, 4, channels];
      const x = tf.tensor4d(rng.uniformSigned(24 * channels), shape);
      const gamma = tf.tensor1d(rng.uniformSigned(channels));
      const beta = tf.tensor1d(rng.uniformSigned(channels));
      const w = tf.tensor4d(rng.uniformSigned(24 * channels), shape);
      const wm = tf.tensor1d(rng.uniformSigned(channels));
      const wv = tf.tensor1d(rng.uniformSigned(channels));
      const eps = 1e-5;
      const composed = (xx: tf.Tensor4D, g: tf.Tensor, b: tf.Tensor): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        const y = tf.add(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, eps))), g), b);
        return { y, mean, variance };
      };
      const lossOf = (f: typeof composed) => (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { y, mean, variance } = f(xx as tf.Tensor4D, g, b);
        return tf.addN([tf.sum(tf.mul(y, w)), tf.sum(tf.mul(mean, wm)), tf.sum(tf.mul(variance, wv))]) as tf.Scalar;
      };
      const want = tf.grads(lossOf(composed))([x, gamma, beta]);
      const got = tf.grads(lossOf((xx, g, b) => fusedBatchNormTrain(xx, g, b, eps)))([x, gamma, beta]);
      for (let i = 0; i < 3; i++) expect(relativeError(got[i].dataSync(), want[i].dataSync())).toBeLessThan(1e-5);
      const fused = fusedBatchNormTrain(x, gamma, beta, eps);
      const ref = composed(x, gamma, beta);
      expect(relativeError(fused.y.dataSync(), ref.y.dataSync())).toBeLessThan(1e-6);
      expect(relativeError(fused.variance.dataSync(), ref.variance.dataSync())).toBeLessThan(1e-6);
    },
  );

  it('LeakyReLU: the fused kernels give tf.leakyRelu’s values and gradient bit for bit (SIMD lanes, the scalar tail, ±0, ±∞)', () => {
    expect(fusedLeakyReluAvailable()).toBe(true);
    const rng = new Rng(11);
    const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-30, -1e-30, 3, -3];
    for (const n of [8, 37, 1029]) {
      const values = [...special, ...rng.uniformSigned(n - special.length).map((v) => v * 10)];
      const x = tf.tensor1d(values);
      const dy = tf.tensor1d(rng.uniformSigned(n));
      const bits = (t: tf.Tensor): number[] => [...new Uint32Array(Float32Array.from(t.dataSync()).buffer)];
      expect(bits(fusedLeakyRelu(x, 0.2))).toEqual(bits(tf.leakyRelu(x, 0.2)));
      const gradOf = (f: (t: tf.Tensor) => tf.Tensor): tf.Tensor => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), dy)))(x);
      expect(bits(gradOf((t) => fusedLeakyRelu(t, 0.2)))).toEqual(bits(gradOf((t) => tf.leakyRelu(t, 0.2))));
    }
  });
});
