import { describe, expect, it } from 'vitest';
import {
  CITYSCAPES_PALETTE,
  UndoStack,
  createLabelMap,
  floodFill,
  labelMapFromRgba,
  paintDisc,
  paintStroke,
  paletteTable,
  renderLabelMap,
} from '../../web/src/labelmap.ts';

const rows = (m: { width: number; data: Uint8Array }): string[] => {
  const out: string[] = [];
  for (let i = 0; i < m.data.length; i += m.width) out.push(Array.from(m.data.subarray(i, i + m.width)).join(''));
  return out;
};

describe('palette', () => {
  it('lists the 19 evaluated classes in trainId order, then unlabeled', () => {
    expect(CITYSCAPES_PALETTE).toHaveLength(20);
    expect(CITYSCAPES_PALETTE[0]).toEqual({ id: 7, name: 'road', color: [128, 64, 128] });
    expect(CITYSCAPES_PALETTE[18]).toEqual({ id: 33, name: 'bicycle', color: [119, 11, 32] });
    expect(CITYSCAPES_PALETTE[19]).toEqual({ id: 0, name: 'unlabeled', color: [0, 0, 0] });
  });

  it('renders label ids through the Cityscapes colours, opaque', () => {
    const m = createLabelMap(3, 1);
    m.data.set([7, 26, 200]);
    expect(Array.from(renderLabelMap(m))).toEqual([128, 64, 128, 255, 0, 0, 142, 255, 0, 0, 0, 255]);
    // The license plate (id −1) shares car's colour but is not a byte value: the table skips it.
    expect(Array.from(paletteTable().subarray(26 * 3, 27 * 3))).toEqual([0, 0, 142]);
  });

  it('snaps colours to the nearest palette entry', () => {
    const rgba = new Uint8ClampedArray([127, 65, 129, 255, 250, 170, 30, 255, 3, 2, 1, 255, 70, 131, 179, 255]);
    expect(Array.from(labelMapFromRgba(rgba, 4, 1).data)).toEqual([7, 19, 0, 23]);
  });
});

describe('painting', () => {
  it('paints a radius-1 disc centred on a pixel as a plus (diagonals are √2 away)', () => {
    const m = createLabelMap(5, 5);
    paintDisc(m, 2.5, 2.5, 1, 7);
    expect(rows(m)).toEqual(['00000', '00700', '07770', '00700', '00000']);
  });

  it('clips discs at the border', () => {
    const m = createLabelMap(3, 3);
    paintDisc(m, 0.5, 0.5, 1, 8);
    expect(rows(m)).toEqual(['880', '800', '000']);
  });

  it('strokes leave no gaps between far-apart pointer events', () => {
    const m = createLabelMap(10, 3);
    paintStroke(m, 0.5, 1.5, 9.5, 1.5, 0.5, 9);
    expect(rows(m)).toEqual(['0000000000', '9999999999', '0000000000']);
  });
});

describe('floodFill', () => {
  it('fills the 4-connected region and stops at other labels and diagonals', () => {
    const m = createLabelMap(5, 4);
    // A wall of 1s with a diagonal-only gap: 4-connected fill must not leak through it.
    m.data.set([0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(rows(m)).toEqual(['00100', '00100', '11000', '00100']);
    const n = floodFill(m, 0, 0, 5);
    expect(rows(m)).toEqual(['55100', '55100', '11000', '00100']);
    expect(n).toBe(4);
  });

  it('fills a whole empty map, and changes nothing when the label is already there or outside', () => {
    const m = createLabelMap(64, 64);
    expect(floodFill(m, 10, 20, 3)).toBe(64 * 64);
    expect(floodFill(m, 10, 20, 3)).toBe(0);
    expect(floodFill(m, -1, 0, 4)).toBe(0);
    expect(m.data.every((v) => v === 3)).toBe(true);
  });

  it('fills around an island', () => {
    const m = createLabelMap(5, 5);
    paintDisc(m, 2.5, 2.5, 1, 7);
    expect(floodFill(m, 0, 0, 8)).toBe(25 - 5);
    expect(rows(m)).toEqual(['88888', '88788', '87778', '88788', '88888']);
  });
});

describe('UndoStack', () => {
  it('restores states in reverse order and stays within its limit', () => {
    const m = createLabelMap(2, 1);
    const u = new UndoStack(2);
    for (const v of [1, 2, 3]) {
      u.push(m);
      m.data.fill(v);
    }
    expect(u.size).toBe(2);
    expect(u.undo(m)).toBe(true);
    expect(Array.from(m.data)).toEqual([2, 2]);
    expect(u.undo(m)).toBe(true);
    expect(Array.from(m.data)).toEqual([1, 1]);
    // The oldest state (all 0) fell off the bounded stack.
    expect(u.undo(m)).toBe(false);
    expect(Array.from(m.data)).toEqual([1, 1]);
  });

  it('keeps copies, not views of the live map', () => {
    const m = createLabelMap(1, 1);
    const u = new UndoStack();
    u.push(m);
    m.data[0] = 9;
    u.undo(m);
    expect(m.data[0]).toBe(0);
  });
});
