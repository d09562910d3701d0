import { describe, expect, it } from 'vitest';
import { nchwToRgba, rgbaToNchw, toByte } from '../../web/src/tensor.ts';

describe('rgbaToNchw', () => {
  it('maps bytes to [-1, 1] planes in R, G, B order and ignores alpha', () => {
    // 2×1 image: pixel 0 = (0, 51, 255, 7), pixel 1 = (255, 0, 102, 0)
    const x = rgbaToNchw(new Uint8ClampedArray([0, 51, 255, 7, 255, 0, 102, 0]), 2, 1);
    expect(Array.from(x)).toEqual([-1, 1, 51 / 127.5 - 1, -1, 1, 102 / 127.5 - 1].map((v) => Math.fround(v)));
  });

  it('refuses a buffer of the wrong size', () => {
    expect(() => rgbaToNchw(new Uint8Array(12), 2, 2)).toThrow(/16 RGBA bytes/);
  });
});

describe('nchwToRgba', () => {
  it('rounds (y + 1)·127.5 and clamps, NaN to 0', () => {
    expect([-1, 1, 0, -2, 2, NaN, -0.996, 0.999].map(toByte)).toEqual([0, 255, 128, 0, 255, 0, 1, 255]);
  });

  it('interleaves three planes into opaque RGBA', () => {
    // 1×2 image; planes R = [-1, 1], G = [0, -1], B = [1, 0]
    const out = nchwToRgba(new Float32Array([-1, 1, 0, -1, 1, 0]), 3, 1, 2);
    expect(Array.from(out)).toEqual([0, 128, 255, 255, 255, 0, 128, 255]);
  });

  it('shows one channel as gray and refuses other counts', () => {
    expect(Array.from(nchwToRgba(new Float32Array([1]), 1, 1, 1))).toEqual([255, 255, 255, 255]);
    expect(() => nchwToRgba(new Float32Array(2), 2, 1, 1)).toThrow(/2-channel/);
  });

  it('round-trips every byte value exactly', () => {
    const rgba = new Uint8ClampedArray(256 * 4);
    for (let v = 0; v < 256; v++) rgba.set([v, 255 - v, v, 255], v * 4);
    expect(Array.from(nchwToRgba(rgbaToNchw(rgba, 256, 1), 3, 256, 1))).toEqual(Array.from(rgba));
  });
});
