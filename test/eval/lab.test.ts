import { describe, expect, it } from 'vitest';
import { rgbImageToLab, srgbToLab, srgbToLinear } from '../../src/eval/lab.ts';

// Published CIELab (D65) values of the sRGB primaries (e.g. Lindbloom's calculator) use the 7-digit
// IEC matrix; ours has 6 digits (as pix2pix-tensorflow), which moves results by < 0.005, so 2
// decimal places is the right tolerance. Values from the formulas themselves are checked tightly.
describe('srgbToLab', () => {
  it('maps white to L = 100, a = b = 0 (the matrix rows sum exactly to the D65 white)', () => {
    const [L, a, b] = srgbToLab(255, 255, 255);
    expect(L).toBeCloseTo(100, 10);
    expect(a).toBeCloseTo(0, 10);
    expect(b).toBeCloseTo(0, 10);
  });

  it('maps black to 0, 0, 0', () => {
    const [L, a, b] = srgbToLab(0, 0, 0);
    expect(L).toBeCloseTo(0, 10);
    expect(a).toBeCloseTo(0, 10);
    expect(b).toBeCloseTo(0, 10);
  });

  it.each([
    ['red', [255, 0, 0], [53.24, 80.09, 67.2]],
    ['green', [0, 255, 0], [87.73, -86.18, 83.18]],
    ['blue', [0, 0, 255], [32.3, 79.19, -107.86]],
    ['mid grey 128', [128, 128, 128], [53.59, 0, 0]],
  ] as const)('matches the published values for %s', (_name, rgb, lab) => {
    const got = srgbToLab(rgb[0], rgb[1], rgb[2]);
    for (let k = 0; k < 3; k++) expect(Math.abs(got[k] - lab[k])).toBeLessThan(0.01);
  });

  it('uses the linear branches near black: L = 116·(Y/(3·(6/29)²)) with Y = (1/255)/12.92', () => {
    const y = 1 / 255 / 12.92;
    expect(srgbToLinear(1 / 255)).toBeCloseTo(y, 15);
    expect(srgbToLab(1, 1, 1)[0]).toBeCloseTo((116 * y) / (3 * (6 / 29) ** 2), 10);
  });

  it('switches linearisation at 0.04045', () => {
    expect(srgbToLinear(0.04045)).toBeCloseTo(0.04045 / 12.92, 15);
    expect(srgbToLinear(0.5)).toBeCloseTo(((0.5 + 0.055) / 1.055) ** 2.4, 15);
  });

  it('converts interleaved images pixel by pixel', () => {
    const lab = rgbImageToLab(Uint8Array.from([255, 255, 255, 255, 0, 0]));
    expect(lab[0]).toBeCloseTo(100, 4);
    expect(lab[3]).toBeCloseTo(53.2406, 3);
    expect(lab[4]).toBeCloseTo(80.0942, 3);
    expect(lab[5]).toBeCloseTo(67.2015, 3);
  });
});
