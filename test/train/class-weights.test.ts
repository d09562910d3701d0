import { describe, expect, it } from 'vitest';
import { addImageFrequencies, classWeights, createClassFrequencies } from '../../src/train/class-weights.ts';

describe('median-frequency class weights', () => {
  // Three classes, two 4-pixel images (255 = ignored):
  //   image 1: 0 0 0 1        → class 0: 3 px, class 1: 1 px, 4 valid px
  //   image 2: 0 2 2 255      → class 0: 1 px, class 2: 2 px, 3 valid px
  // f0 = 4 / (4 + 3) = 4/7, f1 = 1 / 4, f2 = 2 / 3; median(4/7, 1/4, 2/3) = 4/7.
  const f = createClassFrequencies(3);
  addImageFrequencies(f, [0, 0, 0, 1]);
  addImageFrequencies(f, [0, 2, 2, 255]);

  it('counts each class over the valid pixels of the images it occurs in', () => {
    expect([...f.classPixels]).toEqual([4, 1, 2]);
    expect([...f.imagePixelsWherePresent]).toEqual([7, 4, 3]);
  });

  it('weighs each class by median(f) / f', () => {
    const w = classWeights(f, 'median-frequency');
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(4 / 7 / (1 / 4), 6); // 2.2857: the rare class counts more
    expect(w[2]).toBeCloseTo(4 / 7 / (2 / 3), 6); // 0.8571
  });

  it('gives absent classes weight 0 and takes the median over the classes present', () => {
    const g = createClassFrequencies(4);
    addImageFrequencies(g, [0, 1, 1, 1]); // f0 = 1/4, f1 = 3/4, classes 2 and 3 absent
    const w = classWeights(g, 'median-frequency');
    // median of (1/4, 3/4) = 1/2
    expect(w[0]).toBeCloseTo(2, 6);
    expect(w[1]).toBeCloseTo(2 / 3, 6);
    expect(w[2]).toBe(0);
    expect(w[3]).toBe(0);
  });

  it("weighs every class 1 with 'none'", () => {
    expect([...classWeights(f, 'none')]).toEqual([1, 1, 1]);
  });
});
