import { describe, expect, it } from 'vitest';
import { binIndex, createLabHistograms, DEFAULT_LAB_RANGES, histogramIntersection, labHistograms, labIntersections } from '../../src/eval/color.ts';

const WHITE = Uint8Array.from([255, 255, 255]);
const BLACK = Uint8Array.from([0, 0, 0]);

describe('binIndex', () => {
  it('splits [lo, hi] into equal bins, the upper edge in the last bin, outside values clamped', () => {
    expect(binIndex(0, 0, 100, 4)).toBe(0);
    expect(binIndex(24.99, 0, 100, 4)).toBe(0);
    expect(binIndex(25, 0, 100, 4)).toBe(1);
    expect(binIndex(100, 0, 100, 4)).toBe(3);
    expect(binIndex(-5, 0, 100, 4)).toBe(0);
    expect(binIndex(130, 0, 100, 4)).toBe(3);
  });
});

describe('labHistograms', () => {
  it('defaults to 256 bins over L [0,100], a and b [−128,127]', () => {
    const h = createLabHistograms();
    expect(h.bins).toBe(256);
    expect(h.ranges).toEqual({ L: [0, 100], a: [-128, 127], b: [-128, 127] });
  });

  it('pools pixel counts of all images per channel', () => {
    // bins = 2: L splits at 50 (black 0 → bin 0, white 100 → bin 1); a, b split at −0.5, and the
    // greys' a = b = 0 fall in bin 1.
    const h = labHistograms([WHITE, Uint8Array.from([0, 0, 0, 255, 255, 255])], 2);
    expect(Array.from(h.L)).toEqual([1, 2]);
    expect(Array.from(h.a)).toEqual([0, 3]);
    expect(Array.from(h.b)).toEqual([0, 3]);
    expect(h.pixels).toBe(3);
    expect(h.images).toBe(2);
  });

  it('puts pure red (a ≈ 80.09) in the a-bin floor((80.09 + 128) / 255 · 256) = 208', () => {
    const h = labHistograms([Uint8Array.from([255, 0, 0])]);
    expect(h.a[208]).toBe(1);
    expect(h.L[Math.floor((53.2406 / 100) * 256)]).toBe(1);
  });
});

describe('histogramIntersection', () => {
  it('sums the bin-wise minimum of the two normalised histograms', () => {
    // [1,3] → [.25,.75]; [2,2] → [.5,.5]; min → .25 + .5
    expect(histogramIntersection([1, 3], [2, 2])).toBeCloseTo(0.75, 12);
    // totals do not matter, only shapes
    expect(histogramIntersection([1, 1], [10, 30])).toBeCloseTo(0.75, 12);
  });

  it('is 1 for identical distributions and 0 for disjoint ones', () => {
    expect(histogramIntersection([2, 0, 6], [1, 0, 3])).toBeCloseTo(1, 12);
    expect(histogramIntersection([1, 0], [0, 5])).toBe(0);
  });

  it('refuses empty histograms and mismatched bin counts', () => {
    expect(() => histogramIntersection([0, 0], [1, 1])).toThrow(/empty/);
    expect(() => histogramIntersection([1], [1, 1])).toThrow(/bins/);
  });
});

describe('labIntersections', () => {
  it('compares generated against real per channel', () => {
    const generated = labHistograms([WHITE], 2);
    const real = labHistograms([WHITE, BLACK], 2);
    // L: [0,1] vs [.5,.5] → .5; a and b: every pixel in bin 1 for both → 1
    expect(labIntersections(generated, real)).toEqual({ L: 0.5, a: 1, b: 1 });
  });

  it('refuses histograms with different bins or ranges', () => {
    expect(() => labIntersections(createLabHistograms(2), createLabHistograms(4))).toThrow(/bins/);
    expect(() => labIntersections(createLabHistograms(2), createLabHistograms(2, { ...DEFAULT_LAB_RANGES, L: [0, 50] }))).toThrow(/ranges/);
  });
});
