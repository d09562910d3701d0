import { describe, expect, it } from 'vitest';
import { lnGamma, meanInterval, minimalDetectableDifference, pairedDifference, tCdf, tQuantile, verdict } from '../../src/experiments/stats.ts';

describe('tQuantile', () => {
  it('matches the closed forms for 1 and 2 degrees of freedom', () => {
    // df 1 is the Cauchy distribution: t = tan(π (p − ½)).
    expect(tQuantile(0.975, 1)).toBeCloseTo(Math.tan(Math.PI * 0.475), 9);
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    // df 2: t = (2p − 1) / sqrt(2 p (1 − p)).
    expect(tQuantile(0.975, 2)).toBeCloseTo(0.95 / Math.sqrt(2 * 0.975 * 0.025), 9);
    expect(tQuantile(0.9, 2)).toBeCloseTo(0.8 / Math.sqrt(2 * 0.9 * 0.1), 9);
  });

  it('matches printed t tables', () => {
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(tQuantile(0.975, 9)).toBeCloseTo(2.262, 3);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042, 3);
    expect(tQuantile(0.95, 10)).toBeCloseTo(1.812, 3);
    expect(tQuantile(0.995, 5)).toBeCloseTo(4.032, 3);
    // Large df tends to the normal quantile.
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.95996, 4);
  });

  it('is antisymmetric and inverts the CDF', () => {
    expect(tQuantile(0.025, 4)).toBeCloseTo(-tQuantile(0.975, 4), 10);
    expect(tQuantile(0.5, 3)).toBe(0);
    for (const df of [1, 3, 7.5]) for (const p of [0.6, 0.9, 0.99]) expect(tCdf(tQuantile(p, df), df)).toBeCloseTo(p, 10);
    expect(() => tQuantile(1, 3)).toThrow(RangeError);
    expect(() => tQuantile(0.9, 0)).toThrow(RangeError);
  });

  it('lnGamma matches factorials and Γ(½) = √π', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
});

describe('meanInterval', () => {
  it('gives mean ± t(0.975, n−1)·sd/√n, computed by hand for 1, 2, 3', () => {
    // mean 2, sd 1, t(0.975, 2) = 4.302653 → half width 4.302653 / √3 = 2.484138.
    const ci = meanInterval([1, 2, 3]);
    expect(ci).toMatchObject({ n: 3, mean: 2, sd: 1 });
    expect(ci.lo).toBeCloseTo(2 - 2.484138, 5);
    expect(ci.hi).toBeCloseTo(2 + 2.484138, 5);
  });

  it('has no interval from one value, and nothing from none', () => {
    const one = meanInterval([0.7]);
    expect(one.mean).toBe(0.7);
    expect(Number.isNaN(one.lo) && Number.isNaN(one.hi)).toBe(true);
    expect(verdict(one)).toBe('no interval');
    expect(Number.isNaN(meanInterval([]).mean)).toBe(true);
  });
});

describe('pairedDifference', () => {
  it('pairs by seed, ignores unpaired seeds and computes b − a with its interval', () => {
    const a = new Map([
      [1, 0.5],
      [2, 0.6],
      [3, 0.7],
      [9, 0.1],
    ]);
    const b = new Map([
      [3, 0.7],
      [1, 0.6],
      [2, 0.8],
    ]);
    // Differences 0.1, 0.2, 0: mean 0.1, sd 0.1, half width 4.302653 · 0.1 / √3 = 0.2484138.
    const d = pairedDifference(a, b);
    expect(d.seeds).toEqual([1, 2, 3]);
    expect(d.mean).toBeCloseTo(0.1, 12);
    expect(d.lo).toBeCloseTo(0.1 - 0.2484138, 6);
    expect(d.hi).toBeCloseTo(0.1 + 0.2484138, 6);
    expect(verdict(d)).toBe('inconclusive');
  });

  it('says higher or lower only when the interval excludes 0', () => {
    const a = new Map([
      [1, 0.5],
      [2, 0.5],
      [3, 0.5],
    ]);
    const b = new Map([
      [1, 0.6],
      [2, 0.61],
      [3, 0.62],
    ]);
    expect(verdict(pairedDifference(a, b))).toBe('higher');
    expect(verdict(pairedDifference(b, a))).toBe('lower');
  });
});

describe('minimalDetectableDifference', () => {
  it('is (t(0.975, n − 1) + t(0.8, n − 1)) · sd / √n', () => {
    // Differences 1, 2, 3, 4: sd = √(5/3); t(0.975, 3) = 3.182446, t(0.8, 3) = 0.978472 (tables).
    const d = meanInterval([1, 2, 3, 4]);
    expect(minimalDetectableDifference(d)).toBeCloseTo(((3.182446 + 0.978472) * Math.sqrt(5 / 3)) / 2, 4);
  });

  it('is NaN with fewer than two pairs, and 0 when the differences do not vary', () => {
    expect(minimalDetectableDifference(meanInterval([0.3]))).toBeNaN();
    expect(minimalDetectableDifference(meanInterval([0.25, 0.25, 0.25]))).toBe(0);
  });
});
