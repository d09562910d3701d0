import { describe, expect, it } from 'vitest';
import { gaussianBlurRgb, gaussianKernel, meanGradientEnergy, shrinkEnlargeRgb } from '../../src/image/blur.ts';

const gray = (width: number, height: number, values: number[]) => ({ width, height, data: Uint8Array.from(values.flatMap((v) => [v, v, v])) });
const channel0 = (img: { data: Uint8Array }) => Array.from(img.data.filter((_, i) => i % 3 === 0));

describe('gaussianKernel', () => {
  it('is the normalised Gaussian truncated at ⌈3σ⌉', () => {
    const k = gaussianKernel(1);
    expect(k.length).toBe(7);
    // exp(−i²/2) for i = 0, ±1, ±2, ±3 sums to 2.505950; the centre weight is 1 / 2.505950
    expect(k[3]).toBeCloseTo(0.39905, 5);
    expect(k[4]).toBeCloseTo(0.242036, 5);
    expect(k[6]).toBeCloseTo(0.004433, 5);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('rejects a width that is not positive', () => {
    expect(() => gaussianKernel(0)).toThrow(/positive/);
  });
});

describe('gaussianBlurRgb', () => {
  it('spreads a step by the kernel weights, replicating the border pixels', () => {
    // σ 0.5: weights ∝ 1, e^−2, e^−8 (sum 1.271341); pixel 0 sees 255 at offsets +1 and +2 (clamped)
    // → 255 · (0.135335 + 0.000335) / 1.271341 = 27.2
    const out = gaussianBlurRgb(gray(2, 1, [0, 255]), 0.5);
    expect(channel0(out)).toEqual([27, 228]);
  });

  it('keeps a uniform image and blurs an impulse to the kernel product', () => {
    expect(channel0(gaussianBlurRgb(gray(3, 3, Array(9).fill(90)), 2))).toEqual(Array(9).fill(90));
    const impulse = Array(49).fill(0);
    impulse[24] = 255;
    const out = channel0(gaussianBlurRgb(gray(7, 7, impulse), 1));
    expect(out[24]).toBe(Math.round(255 * 0.39905 ** 2)); // 40.6
    expect(out[25]).toBe(Math.round(255 * 0.39905 * 0.242036)); // 24.6
  });
});

describe('shrinkEnlargeRgb', () => {
  it('averages blocks and interpolates linearly between block centres', () => {
    // blocks [0, 0] and [100, 100] with centres 0.5 and 2.5: x = 1 and 2 lie a quarter and three quarters between
    expect(channel0(shrinkEnlargeRgb(gray(4, 1, [0, 0, 100, 100]), 2))).toEqual([0, 25, 75, 100]);
    expect(channel0(shrinkEnlargeRgb(gray(3, 1, [0, 60, 30]), 1))).toEqual([0, 60, 30]);
  });

  it('takes a smaller block at the edge when the size is not a multiple of the factor', () => {
    // blocks [10, 20] (centre 0.5) and [40] (centre 2)
    expect(channel0(shrinkEnlargeRgb(gray(3, 1, [10, 20, 40]), 2))).toEqual([15, 23, 40]);
  });
});

describe('meanGradientEnergy', () => {
  it('is the mean squared luminance gradient, one-sided at the border, and falls under blur', () => {
    // central differences (20 − 0) / 2 inside, one-sided 10 at both ends: 10² everywhere
    expect(meanGradientEnergy(gray(3, 1, [0, 10, 20]))).toBeCloseTo(100, 10);
    expect(meanGradientEnergy(gray(2, 2, [50, 50, 50, 50]))).toBe(0);
    // a blurred step has less edge energy than the step
    const step = gray(8, 1, [0, 0, 0, 0, 255, 255, 255, 255]);
    expect(meanGradientEnergy(gaussianBlurRgb(step, 1.5))).toBeLessThan(meanGradientEnergy(step));
  });
});
