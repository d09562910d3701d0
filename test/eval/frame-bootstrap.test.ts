import { describe, expect, it } from 'vitest';
import { accumulateConfusion, createConfusion, type ConfusionMatrix } from '../../src/eval/confusion.ts';
import { bootstrapFrames, sumConfusions } from '../../src/eval/frame-bootstrap.ts';
import { fcnScores } from '../../src/eval/scores.ts';

function frame(gt: number[], pred: number[]): ConfusionMatrix {
  const c = createConfusion(2);
  accumulateConfusion(c, Uint8Array.from(gt), Uint8Array.from(pred));
  return c;
}

describe('sumConfusions', () => {
  it('adds the picked frames, repeats included', () => {
    const a = frame([0, 1], [0, 0]);
    const b = frame([1], [1]);
    const s = sumConfusions([a, b], [0, 0, 1]);
    // a twice: (0,0) ×2, (1,0) ×2; b once: (1,1)
    expect(Array.from(s.counts)).toEqual([2, 0, 2, 1]);
    expect(s.frames).toBe(3);
  });
});

describe('bootstrapFrames', () => {
  const pixelAcc = (s: ConfusionMatrix[]) => fcnScores(s[0]).pixelAcc;

  it('collapses to the value when every frame is alike', () => {
    const f = frame([0, 1], [0, 0]);
    const r = bootstrapFrames([[f, f, f]], pixelAcc, { resamples: 50 });
    for (const x of [r.value, r.lo, r.hi]) expect(x).toBeCloseTo(0.5, 10);
    expect(r.resamples).toBe(50);
  });

  it('scores the pooled frames and brackets the value by resampled ones', () => {
    const right = frame([0, 0], [0, 0]);
    const wrong = frame([1], [0]);
    const r = bootstrapFrames([[right, wrong, right, wrong]], pixelAcc, { resamples: 400, seed: 3 });
    // pooled: 4 of 6 pixels right
    expect(r.value).toBeCloseTo(4 / 6, 12);
    expect(r.lo).toBeLessThan(r.value);
    expect(r.hi).toBeGreaterThan(r.value);
    expect(r.lo).toBeGreaterThanOrEqual(0);
    expect(r.hi).toBeLessThanOrEqual(1);
    // the same seed resamples the same frames
    expect(bootstrapFrames([[right, wrong, right, wrong]], pixelAcc, { resamples: 400, seed: 3 })).toEqual(r);
  });

  it('pairs conditions: a ratio of two identical conditions is exactly 1 in every resample', () => {
    const fs = [frame([0, 1], [0, 1]), frame([1, 1], [0, 1]), frame([0], [1])];
    const r = bootstrapFrames([fs, fs], (s) => fcnScores(s[1]).pixelAcc / fcnScores(s[0]).pixelAcc, { resamples: 100 });
    expect([r.value, r.lo, r.hi]).toEqual([1, 1, 1]);
  });

  it('needs conditions with the same frames', () => {
    expect(() => bootstrapFrames([[frame([0], [0])], []], pixelAcc)).toThrow(/same, non-zero number of frames/);
  });
});
