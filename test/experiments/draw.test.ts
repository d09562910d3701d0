import { describe, expect, it } from 'vitest';
import { canDraw, labelledGrid } from '../../src/experiments/draw.ts';

describe('labelledGrid', () => {
  // One 8×8 cell per row, a 2-pixel gap after it; the glyphs are 6 pixels wide with 8 pixels of margin.
  it('keeps the 132-pixel label column for short labels', () => {
    expect(labelledGrid([{ label: '1×1', images: [null] }], 8).width).toBe(132 + 8 + 2);
  });

  it('widens the label column to the longest label instead of cutting it', () => {
    const label = 'Ground truth, blurred (σ 2.5 px)';
    expect(labelledGrid([{ label, images: [null] }], 8).width).toBe(8 + 6 * label.length + 8 + 2);
  });

  it('draws every character of the blurred reference row (σ included)', () => {
    expect(canDraw('Ground truth, blurred (σ 2.5 px)')).toBe(true);
  });
});
