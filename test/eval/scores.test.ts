import { describe, expect, it } from 'vitest';
import { accumulateConfusion, confusionFromRows, createConfusion } from '../../src/eval/confusion.ts';
import { fcnScores } from '../../src/eval/scores.ts';

describe('fcnScores (get_scores of the pix2pix scripts)', () => {
  // 3 classes; class 2 never occurs in the ground truth but is predicted once.
  //          pred 0  1  2
  //   gt 0  [   3, 1, 1 ]   row 5
  //   gt 1  [   1, 2, 0 ]   row 3
  //   gt 2  [   0, 0, 0 ]   row 0
  //   cols      4  3  1     diag 3 + 2 + 0 = 5, total 8
  const conf = confusionFromRows([
    [3, 1, 1],
    [1, 2, 0],
    [0, 0, 0],
  ]);

  it('per-pixel accuracy = Σ diag / Σ all', () => {
    expect(fcnScores(conf).pixelAcc).toBeCloseTo(5 / 8, 12);
  });

  it('per-class accuracy = diag / row; a class absent from GT scores 0 even when predicted', () => {
    const s = fcnScores(conf);
    expect(s.classAcc[0]).toBeCloseTo(3 / 5, 12);
    expect(s.classAcc[1]).toBeCloseTo(2 / 3, 12);
    expect(s.classAcc[2]).toBe(0);
  });

  it('IoU = diag / (row + col − diag)', () => {
    const s = fcnScores(conf);
    expect(s.classIoU[0]).toBeCloseTo(3 / (5 + 4 - 3), 12);
    expect(s.classIoU[1]).toBeCloseTo(2 / (3 + 3 - 2), 12);
    expect(s.classIoU[2]).toBe(0);
  });

  it('averages over ALL classes, absent ones included (nanmean never sees a NaN because of +1e-12)', () => {
    const s = fcnScores(conf);
    expect(s.meanClassAcc).toBeCloseTo((3 / 5 + 2 / 3 + 0) / 3, 12);
    expect(s.meanClassIoU).toBeCloseTo((1 / 2 + 1 / 2 + 0) / 3, 12);
    expect(s.classPixels).toEqual([5, 3, 0]);
  });

  it('also averages over the classes present in the ground truth only', () => {
    const s = fcnScores(conf);
    // Class 2 has no ground-truth pixels: the means run over classes 0 and 1.
    expect(s.presentClasses).toBe(2);
    expect(s.presentClassAcc).toBeCloseTo((3 / 5 + 2 / 3) / 2, 12);
    expect(s.presentClassIoU).toBeCloseTo((1 / 2 + 1 / 2) / 2, 12);
  });

  it('gives zeros, not NaN, for an empty matrix', () => {
    const s = fcnScores(createConfusion());
    expect([s.pixelAcc, s.meanClassAcc, s.meanClassIoU, s.presentClassAcc, s.presentClassIoU, s.presentClasses]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(s.classAcc.every((v) => v === 0)).toBe(true);
  });

  it('is unaffected by ignored ground-truth pixels', () => {
    const a = createConfusion(2);
    const b = createConfusion(2);
    accumulateConfusion(a, Uint8Array.from([0, 1, 1]), Uint8Array.from([0, 0, 1]));
    accumulateConfusion(b, Uint8Array.from([0, 255, 1, 255, 1]), Uint8Array.from([0, 1, 0, 0, 1]));
    expect(fcnScores(b)).toEqual(fcnScores(a));
    expect(fcnScores(a).pixelAcc).toBeCloseTo(2 / 3, 12);
  });

  it('counts predictions of 255 as misses of their ground-truth class (row), not as a column', () => {
    const withIgnore = confusionFromRows(
      [
        [3, 1, 1],
        [1, 2, 0],
        [0, 0, 0],
      ],
      [0, 1, 0],
    );
    const s = fcnScores(withIgnore);
    expect(s.pixelAcc).toBeCloseTo(5 / 9, 12);
    expect(s.classAcc[1]).toBeCloseTo(2 / 4, 12);
    expect(s.classIoU[1]).toBeCloseTo(2 / (4 + 3 - 2), 12);
    expect(s.classIoU[0]).toBeCloseTo(3 / 6, 12);
  });

  it('keeps the +1e-12 of the reference in every denominator', () => {
    // one pixel, correct: 1 / (1 + 1e-12) is a hair below 1, exactly as numpy computes it
    const s = fcnScores(confusionFromRows([[1]]));
    expect(s.pixelAcc).toBe(1 / (1 + 1e-12));
    expect(s.classIoU[0]).toBe(1 / (1 + 1 - 1 + 1e-12));
  });
});
