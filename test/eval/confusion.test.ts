import { describe, expect, it } from 'vitest';
import { accumulateConfusion, confusionFromRows, createConfusion, mergeConfusion } from '../../src/eval/confusion.ts';
import { UserError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';

const u8 = (xs: number[]) => Uint8Array.from(xs);
const rows = (conf: ReturnType<typeof createConfusion>) =>
  Array.from({ length: conf.numClasses }, (_, g) => Array.from(conf.counts.subarray(g * conf.numClasses, (g + 1) * conf.numClasses)));

describe('accumulateConfusion (strict mode, the default)', () => {
  it('counts pixels with rows = ground truth and columns = prediction, skipping ground truth 255', () => {
    const conf = createConfusion(3);
    const outcome = accumulateConfusion(conf, u8([0, 0, 1, 1, 2, 255]), u8([0, 1, 1, 1, 0, 2]));
    expect(rows(conf)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(outcome).toEqual({ counted: true, pixels: 5 });
    expect(conf.frames).toBe(1);
  });

  it('sums frame after frame', () => {
    const conf = createConfusion(2);
    accumulateConfusion(conf, u8([0, 1]), u8([0, 0]));
    accumulateConfusion(conf, u8([1, 1, 0]), u8([1, 0, 1]));
    expect(rows(conf)).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect(conf.frames).toBe(2);
  });

  it('books a prediction of 255 in the ground-truth row only (predictedIgnore), not in any column', () => {
    const conf = createConfusion(3);
    accumulateConfusion(conf, u8([2, 2, 255]), u8([255, 2, 255]));
    expect(rows(conf)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 1],
    ]);
    expect(Array.from(conf.predictedIgnore)).toEqual([0, 0, 1]);
  });

  it('rejects ground-truth values that are neither a trainId nor 255, naming the file, and leaves the matrix untouched', () => {
    const conf = createConfusion();
    accumulateConfusion(conf, u8([0]), u8([0]));
    const bad = () => accumulateConfusion(conf, u8([0, 26]), u8([0, 0]), { source: 'frankfurt_000000_000294_gtFine_labelIds.png' });
    expect(bad).toThrow(UserError);
    expect(bad).toThrow(/frankfurt_000000_000294_gtFine_labelIds\.png: ground-truth value 26 is not a trainId/);
    expect(conf.counts[0]).toBe(1);
    expect(conf.frames).toBe(1);
  });

  it("rejects predictions outside 0..18 and 255 (e.g. the FCN's raw class 19)", () => {
    const conf = createConfusion();
    expect(() => accumulateConfusion(conf, u8([3]), u8([19]))).toThrow(/predicted value 19 is not a trainId/);
  });

  it('accepts any prediction where the ground truth is ignored', () => {
    const conf = createConfusion();
    expect(accumulateConfusion(conf, u8([255, 255]), u8([19, 200])).pixels).toBe(0);
  });

  it('rejects frames of different sizes with a one-line UserError', () => {
    expect(() => accumulateConfusion(createConfusion(), u8([0, 0]), u8([0]), { source: 'a.png' })).toThrow(
      /^a\.png: ground truth has 2 pixels but the prediction has 1/,
    );
  });
});

describe('accumulateConfusion (reference mode = fast_hist of the pix2pix scripts)', () => {
  it('drops every ground truth outside 0..18 silently, not only 255', () => {
    const conf = createConfusion();
    const outcome = accumulateConfusion(conf, u8([0, 20, 255, 33]), u8([0, 5, 5, 5]), { mode: 'reference' });
    expect(outcome).toEqual({ counted: true, pixels: 1 });
    expect(conf.counts[0]).toBe(1);
  });

  it('bins pred = 19 with gt = g < 18 at flat index 19·g + 19, i.e. cell [g+1][0]', () => {
    const conf = createConfusion();
    accumulateConfusion(conf, u8([0, 4]), u8([19, 19]), { mode: 'reference' });
    expect(conf.counts[1 * 19 + 0]).toBe(1);
    expect(conf.counts[5 * 19 + 0]).toBe(1);
    expect(conf.counts.reduce((s, v) => s + v, 0)).toBe(2);
  });

  it('drops the whole frame when any index reaches 361 (gt = 18, pred = 19), and counts the drop', () => {
    const conf = createConfusion();
    const outcome = accumulateConfusion(conf, u8([0, 0, 18]), u8([0, 0, 19]), { mode: 'reference' });
    expect(outcome).toEqual({ counted: false, pixels: 0 });
    expect(conf.counts.every((v) => v === 0)).toBe(true);
    expect(conf.frames).toBe(0);
    expect(conf.droppedFrames).toBe(1);
  });

  it('agrees with strict mode on well-formed frames', () => {
    const rng = new Rng(11);
    const n = 64 * 32;
    const gt = new Uint8Array(n);
    const pred = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      gt[i] = rng.int(10) === 0 ? 255 : rng.int(19);
      pred[i] = rng.int(19);
    }
    const strict = createConfusion();
    const reference = createConfusion();
    accumulateConfusion(strict, gt, pred);
    accumulateConfusion(reference, gt, pred, { mode: 'reference' });
    expect(Array.from(reference.counts)).toEqual(Array.from(strict.counts));
    // and both equal a naive per-pixel count
    const naive = new Float64Array(361);
    for (let i = 0; i < n; i++) if (gt[i] < 19) naive[gt[i] * 19 + pred[i]]++;
    expect(Array.from(strict.counts)).toEqual(Array.from(naive));
  });
});

describe('mergeConfusion and confusionFromRows', () => {
  it('adds counts, ignore predictions and frame tallies', () => {
    const a = confusionFromRows(
      [
        [1, 2],
        [3, 4],
      ],
      [1, 0],
    );
    const b = confusionFromRows(
      [
        [10, 0],
        [0, 10],
      ],
      [0, 5],
    );
    a.frames = 2;
    b.frames = 3;
    b.droppedFrames = 1;
    mergeConfusion(a, b);
    expect(rows(a)).toEqual([
      [11, 2],
      [3, 14],
    ]);
    expect(Array.from(a.predictedIgnore)).toEqual([1, 5]);
    expect([a.frames, a.droppedFrames]).toEqual([5, 1]);
  });
});
