import { describe, expect, it } from 'vitest';
import { cropPlanarToRgb, fillPlanar, padPlan, reflectIndex, unitToByte } from '../../src/runtime/native-size.ts';

describe('padPlan', () => {
  it('pads up to the multiple, split evenly with the odd pixel right/bottom', () => {
    expect(padPlan(75, 50, 8)).toEqual({ width: 75, height: 50, paddedWidth: 80, paddedHeight: 56, left: 2, top: 3 });
    expect(padPlan(64, 64, 32)).toMatchObject({ paddedWidth: 64, paddedHeight: 64, left: 0, top: 0 });
    expect(padPlan(1, 3, 256)).toMatchObject({ paddedWidth: 256, paddedHeight: 256, left: 127, top: 126 });
  });
});

describe('reflectIndex', () => {
  it('mirrors about the edge pixels without repeating them, and keeps folding for wide pads', () => {
    // n = 4: … 2 1 | 0 1 2 3 | 2 1 0 1 2 3 …
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => reflectIndex(i, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3]);
    expect([-5, 0, 7].map((i) => reflectIndex(i, 1))).toEqual([0, 0, 0]);
  });
});

/** 3×2 image whose red channel is 10·x + 100·y, green = red + 1, blue = red + 2. */
function tiny(): { rgb: Uint8Array; width: number; height: number } {
  const width = 3;
  const height = 2;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = 10 * x + 100 * y + c;
  return { rgb, width, height };
}

describe('fillPlanar', () => {
  it('writes the reflect-padded image as planar floats x/127.5 − 1', () => {
    const src = tiny();
    const plan = padPlan(3, 2, 4); // 4×4 canvas, left 0, top 1
    expect([plan.left, plan.top]).toEqual([0, 1]);
    const out = new Float32Array(3 * 16);
    fillPlanar(src, plan, { x: 0, y: 0, width: 4, height: 4 }, out, 0);
    const red = Array.from(out.slice(0, 16), (v) => Math.round((v + 1) * 127.5));
    // Rows: reflect(−1) = 1, 0, 1, reflect(2) = 0; columns 0 1 2 then reflect(3) = 1.
    expect(red).toEqual([100, 110, 120, 110, 0, 10, 20, 10, 100, 110, 120, 110, 0, 10, 20, 10]);
    const blue = Array.from(out.slice(32, 48), (v) => Math.round((v + 1) * 127.5));
    expect(blue).toEqual(red.map((v) => v + 2));
    expect(out[0]).toBe(Math.fround(100 / 127.5 - 1));
  });

  it('fills a window of the padded canvas at an offset', () => {
    const out = new Float32Array(1 + 3 * 2).fill(9);
    fillPlanar(tiny(), { left: 2, top: 0 }, { x: 1, y: 1, width: 2, height: 1 }, out, 1);
    // Padded columns 1, 2 = source columns reflect(−1) = 1 and 0, row 1.
    expect(out[0]).toBe(9);
    expect(Array.from(out.slice(1, 3), (v) => Math.round((v + 1) * 127.5))).toEqual([110, 100]);
  });
});

describe('cropPlanarToRgb', () => {
  it('cuts exactly the crop rectangle and interleaves the channels', () => {
    const w = 4;
    const h = 3;
    const data = new Float32Array(2 + 3 * w * h);
    for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) data[2 + c * w * h + i] = (i + 20 * c) / 127.5 - 1;
    const rgb = cropPlanarToRgb(data, 2, 3, w, h, { x: 1, y: 1, width: 2, height: 2 });
    // pixels (1,1)=5 (2,1)=6 (1,2)=9 (2,2)=10
    expect(Array.from(rgb)).toEqual([5, 25, 45, 6, 26, 46, 9, 29, 49, 10, 30, 50]);
    const gray = cropPlanarToRgb(data, 2, 1, w, h, { x: 3, y: 2, width: 1, height: 1 });
    expect(Array.from(gray)).toEqual([11, 11, 11]);
  });

  it('rounds like Math.round((x + 1)·127.5) and clamps, NaN → 0', () => {
    for (let i = 0; i < 20000; i++) {
      const x = -1.1 + (i / 20000) * 2.2 + 1e-7 * Math.sin(i);
      const v = Math.round((Math.fround(x) + 1) * 127.5);
      expect(unitToByte(Math.fround(x))).toBe(v >= 255 ? 255 : v > 0 ? v : 0);
    }
    expect(unitToByte(Number.NaN)).toBe(0);
  });
});
