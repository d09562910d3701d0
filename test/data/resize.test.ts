import { describe, expect, it } from 'vitest';
import { resizeBilinear, resizeNearest, resizePilBilinear, resizeWith } from '../../src/data/resize.ts';

const gray = (width: number, height: number, values: number[]) => ({ width, height, data: Uint8Array.from(values) });
const pil = (img: ReturnType<typeof gray>, w: number, h: number) => Array.from(resizePilBilinear(img, w, h, 1).data);

// Hand computations follow Pillow's Resample.c: centre = (x + 0.5)·scale; window
// [trunc(centre − support + 0.5), trunc(centre + support + 0.5)) clipped to the image;
// weight = triangle((i − centre + 0.5)/filterscale), normalised; 22-bit fixed point, +2^21, >> 22.
describe('resizePilBilinear (PIL Image.BILINEAR)', () => {
  it('upsamples 2 → 4: edges replicate, inner pixels weigh 3/4 and 1/4, halves round up', () => {
    // x=0: centre .25, window [0,1) → a; x=1: centre .75, weights .75/.25 → 63.75 → 64;
    // x=2: .25/.75 → 191.25 → 191; x=3: centre 1.75, window [1,2) → b
    expect(pil(gray(2, 1, [0, 255]), 4, 1)).toEqual([0, 64, 191, 255]);
  });

  it('downsamples 4 → 2 with the triangle widened ×2 (antialiasing)', () => {
    // x=0: centre 1, support 2, window [0,3), weights .75 .75 .25 → /1.75 → (0·3 + 100·3 + 200)/7 = 71.43 → 71
    // x=1: centre 3, window [1,4), weights .25 .75 .75 → (100 + 200·3 + 255·3)/7 = 209.29 → 209
    expect(pil(gray(4, 1, [0, 100, 200, 255]), 2, 1)).toEqual([71, 209]);
  });

  it('downsamples by a non-integer factor 3 → 2', () => {
    // scale 1.5: x=0: centre .75, window [0,2), weights 5/6 and 1/2 → 5/8, 3/8 → 80·3/8 = 30
    // x=1: centre 2.25, window [1,3), weights 1/2, 5/6 → 3/8, 5/8 → 30 + 100 = 130
    expect(pil(gray(3, 1, [0, 80, 160]), 2, 1)).toEqual([30, 130]);
  });

  it('runs the horizontal pass, rounds to uint8, then the vertical pass', () => {
    // rows → [0,64,191,255] and [255,191,64,0]; then each column as in the 2 → 4 case:
    // column [64,191] → 64, 95.75 → 96, 159.25 → 159, 191
    const out = pil(gray(2, 2, [0, 255, 255, 0]), 4, 4);
    expect(out.slice(0, 4)).toEqual([0, 64, 191, 255]);
    expect(out.slice(4, 8)).toEqual([64, 96, 159, 191]);
    expect(out.slice(8, 12)).toEqual([191, 159, 96, 64]);
    expect(out.slice(12, 16)).toEqual([255, 191, 64, 0]);
  });

  it('treats interleaved channels independently', () => {
    const rgb = { width: 2, height: 1, data: Uint8Array.from([0, 255, 10, 255, 0, 10]) };
    expect(Array.from(resizePilBilinear(rgb, 4, 1).data)).toEqual([0, 255, 10, 64, 191, 10, 191, 64, 10, 255, 0, 10]);
  });

  it('keeps constant images constant at every level for the FCN-score upsampling factors (×8 wide, ×4 high)', () => {
    for (const v of [0, 1, 127, 128, 254, 255]) {
      const out = resizePilBilinear(gray(16, 16, new Array(256).fill(v)), 128, 64, 1).data;
      expect(out.every((x) => x === v)).toBe(true);
    }
  });

  it('returns a copy when the size does not change', () => {
    const img = gray(2, 1, [3, 4]);
    const out = resizePilBilinear(img, 2, 1, 1);
    expect(Array.from(out.data)).toEqual([3, 4]);
    expect(out.data).not.toBe(img.data);
  });
});

describe('resizeNearest (PIL Image.NEAREST)', () => {
  it('takes the input pixel under each output centre', () => {
    expect(Array.from(resizeNearest(gray(2, 1, [1, 2]), 4, 1, 1).data)).toEqual([1, 1, 2, 2]);
    // centres 0.5·2 = 1 and 1.5·2 = 3
    expect(Array.from(resizeNearest(gray(4, 1, [0, 1, 2, 3]), 2, 1, 1).data)).toEqual([1, 3]);
  });
});

describe('resizeBilinear (no antialiasing, like OpenCV INTER_LINEAR)', () => {
  it('interpolates between the two nearest source centres', () => {
    expect(Array.from(resizeBilinear(gray(2, 1, [0, 255]), 4, 1, 1).data)).toEqual([0, 64, 191, 255]);
    // sources at 0.5 and 2.5: 50 and 227.5 → 228; PIL would give 71 and 209
    expect(Array.from(resizeBilinear(gray(4, 1, [0, 100, 200, 255]), 2, 1, 1).data)).toEqual([50, 228]);
  });

  it('is reachable by name, as the segmenter sidecar names filters', () => {
    expect(Array.from(resizeWith('bilinear', gray(4, 1, [0, 100, 200, 255]), 2, 1, 1).data)).toEqual([50, 228]);
    expect(Array.from(resizeWith('pil-bilinear', gray(4, 1, [0, 100, 200, 255]), 2, 1, 1).data)).toEqual([71, 209]);
  });
});
