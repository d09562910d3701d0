import { describe, expect, it } from 'vitest';
import {
  accumulateNearestMeanColor,
  addClassColors,
  classMeanColors,
  createClassColorSums,
  nearestMeanColorClasses,
} from '../../src/eval/color-separability.ts';
import { createConfusion } from '../../src/eval/confusion.ts';
import { fcnScores } from '../../src/eval/scores.ts';

const rgb = (...px: [number, number, number][]) => Uint8Array.from(px.flat());

describe('the nearest class-mean colour classifier', () => {
  it('fits each class its mean colour, skipping ignored pixels; absent classes get NaN', () => {
    const acc = createClassColorSums(3);
    addClassColors(acc, rgb([10, 20, 30], [30, 40, 50], [200, 0, 0], [9, 9, 9]), Uint8Array.from([0, 0, 2, 255]));
    const means = classMeanColors(acc);
    expect(Array.from(means.subarray(0, 3))).toEqual([20, 30, 40]);
    expect(Number.isNaN(means[3])).toBe(true);
    expect(Array.from(means.subarray(6, 9))).toEqual([200, 0, 0]);
    expect(Array.from(acc.counts)).toEqual([2, 0, 1]);
  });

  it('gives each pixel the nearest mean (ties to the lower class, never an absent class)', () => {
    const means = Float64Array.from([0, 0, 0, NaN, NaN, NaN, 100, 0, 0]);
    // 40 is nearer 0; 60 nearer 100; 50 ties and goes to class 0
    expect(Array.from(nearestMeanColorClasses(rgb([40, 0, 0], [60, 0, 0], [50, 0, 0]), means))).toEqual([0, 2, 0]);
    expect(Array.from(nearestMeanColorClasses(rgb([1, 2, 3]), Float64Array.from([NaN, NaN, NaN])))).toEqual([255]);
  });

  it('scores its predictions with the FCN-score confusion matrix', () => {
    // two classes with the same mean colour cannot both be right: road and sidewalk grey, sky blue
    const photo = rgb([120, 120, 120], [120, 120, 120], [80, 120, 220]);
    const gt = Uint8Array.from([0, 1, 10]);
    const acc = createClassColorSums();
    addClassColors(acc, photo, gt);
    const conf = createConfusion();
    accumulateNearestMeanColor(conf, photo, gt, classMeanColors(acc));
    const s = fcnScores(conf);
    expect(s.pixelAcc).toBeCloseTo(2 / 3, 10);
    expect(s.classAcc[0]).toBeCloseTo(1, 10);
    expect(s.classAcc[1]).toBe(0);
    expect(s.presentClassAcc).toBeCloseTo(2 / 3, 10);
  });

  it('rejects a photo and labels of different sizes', () => {
    expect(() => addClassColors(createClassColorSums(), rgb([1, 2, 3]), Uint8Array.from([0, 0]))).toThrow(/1 photo pixels but 2 labels/);
  });
});
