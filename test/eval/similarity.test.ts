/**
 * SSIM and PSNR (src/eval/similarity.ts): hand-computed cases, reference values from scikit-image,
 * and a live cross-check against scikit-image where python3 has it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { gaussianTaps, meanSquaredError, psnr, SSIM_C1, SSIM_C2, ssim } from '../../src/eval/similarity.ts';
import type { RgbImage } from '../../src/image/decode.ts';

const constant = (w: number, h: number, v: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v) });
/** (i·a + b) mod 256 over the interleaved RGB values: a deterministic, high-contrast pattern. */
const pattern = (w: number, h: number, a: number, b: number): RgbImage => ({
  width: w,
  height: h,
  data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * a + b) % 256),
});
/** A smooth gradient and the same with a small periodic perturbation (clipped to 0..255). */
function gradientPair(w: number, h: number): [RgbImage, RgbImage] {
  const g = new Uint8Array(w * h * 3);
  const g2 = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = [(x * 12) & 255, (y * 14) & 255, ((x + y) * 6) & 255];
      for (let c = 0; c < 3; c++) {
        g[3 * (y * w + x) + c] = v[c];
        g2[3 * (y * w + x) + c] = Math.min(255, Math.max(0, v[c] + (((x * y) % 7) - 3) * 5));
      }
    }
  return [
    { width: w, height: h, data: g },
    { width: w, height: h, data: g2 },
  ];
}

describe('SSIM (Wang et al. 2004; 11×11 Gaussian σ 1.5, per RGB channel)', () => {
  it('uses C1 = (0.01·255)² = 6.5025 and C2 = (0.03·255)² = 58.5225', () => {
    expect(SSIM_C1).toBeCloseTo(6.5025, 10);
    expect(SSIM_C2).toBeCloseTo(58.5225, 10);
  });

  it('has 11 symmetric Gaussian taps summing to 1, the edge tap exp(−25/4.5) of the centre one', () => {
    const t = gaussianTaps();
    expect(t).toHaveLength(11);
    expect(t.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let i = 0; i < 5; i++) expect(t[i]).toBeCloseTo(t[10 - i], 15);
    expect(t[0] / t[5]).toBeCloseTo(Math.exp(-25 / 4.5), 12);
  });

  it('is 1 for identical images', () => {
    const x = pattern(16, 12, 37, 11);
    expect(ssim(x, x)).toBeCloseTo(1, 12);
  });

  it('is the luminance term alone for two flat images: (2·100·110 + C1) / (100² + 110² + C1)', () => {
    // No variance: the contrast-structure term is C2 / C2 = 1. 22006.5025 / 22106.5025 = 0.9954764…
    expect(ssim(constant(12, 11, 100), constant(12, 11, 110))).toBeCloseTo(22006.5025 / 22106.5025, 12);
    expect(ssim(constant(12, 11, 100), constant(12, 11, 110))).toBeCloseTo(0.995476, 6);
    // 7006.5025 / 7406.5025 = 0.9459934…
    expect(ssim(constant(20, 20, 50), constant(20, 20, 70))).toBeCloseTo(0.945993, 6);
  });

  it("matches scikit-image's structural_similarity on textured images", () => {
    // Values from skimage 0.19.3: structural_similarity(x, y, channel_axis=-1, gaussian_weights=True,
    // sigma=1.5, use_sample_covariance=False, data_range=255) on the same arrays.
    expect(ssim(pattern(16, 13, 37, 11), pattern(16, 13, 91, 3))).toBeCloseTo(-0.05949897720398572, 12);
    expect(ssim(pattern(24, 24, 37, 11), pattern(24, 24, 91, 3))).toBeCloseTo(-0.10054701948546325, 12);
    expect(ssim(...gradientPair(20, 17))).toBeCloseTo(0.840669783887057, 12);
  });

  it('refuses images smaller than its window or of two sizes', () => {
    expect(() => ssim(constant(10, 20, 1), constant(10, 20, 1))).toThrow(/at least 11×11 .* got 10×20/);
    expect(() => ssim(constant(12, 12, 1), constant(12, 13, 1))).toThrow(/differ in size \(12×12 and 12×13\)/);
  });
});

describe('PSNR', () => {
  it('is 10·log10(255² / MSE) over every R, G and B value', () => {
    // One pixel (10, 10, 10) against black, one black against black: MSE = 3·100 / 6 = 50.
    const a: RgbImage = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 10, 10, 10]) };
    const b: RgbImage = { width: 2, height: 1, data: new Uint8Array(6) };
    expect(meanSquaredError(a, b)).toBe(50);
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10(65025 / 50), 12);
    expect(psnr(a, b)).toBeCloseTo(31.1411, 4);
    // Flat 100 against flat 110: MSE 100, 10·log10(650.25) = 28.1308 dB.
    expect(psnr(constant(4, 4, 100), constant(4, 4, 110))).toBeCloseTo(28.1308, 4);
  });

  it('is +∞ for identical images', () => {
    expect(psnr(constant(3, 3, 7), constant(3, 3, 7))).toBe(Number.POSITIVE_INFINITY);
  });

  it("matches scikit-image's peak_signal_noise_ratio", () => {
    // skimage 0.19.3: peak_signal_noise_ratio(x, y, data_range=255).
    expect(psnr(pattern(16, 13, 37, 11), pattern(16, 13, 91, 3))).toBeCloseTo(7.326296398768725, 12);
    expect(psnr(...gradientPair(20, 17))).toBeCloseTo(27.592677870146673, 12);
  });
});

const PYTHON = '/usr/bin/python3';
const hasSkimage = spawnSync(PYTHON, ['-c', 'import skimage.metrics'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasSkimage)('live cross-check against scikit-image (python3 with skimage installed)', () => {
  it('agrees on seeded random images of several sizes to 1e-9', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    const cases = [
      [11, 11],
      [32, 17],
      [40, 40],
    ].map(([w, h]) => {
      const x = Uint8Array.from({ length: w * h * 3 }, rand);
      // y: x plus bounded noise, so SSIM is far from 0 and from 1.
      const y = x.map((v) => Math.min(255, Math.max(0, v + (rand() % 41) - 20)));
      return { w: w, h: h, x: [...x], y: [...y] };
    });
    const script = `
import json, sys, numpy as np
from skimage.metrics import structural_similarity as S, peak_signal_noise_ratio as P
out = []
for c in json.load(sys.stdin):
    x = np.array(c['x'], np.uint8).reshape(c['h'], c['w'], 3); y = np.array(c['y'], np.uint8).reshape(c['h'], c['w'], 3)
    out.append([S(x, y, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255), P(x, y, data_range=255)])
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as [number, number][];
    cases.forEach((c, i) => {
      const a = { width: c.w, height: c.h, data: Uint8Array.from(c.x) };
      const b = { width: c.w, height: c.h, data: Uint8Array.from(c.y) };
      expect(Math.abs(ssim(a, b) - ref[i][0])).toBeLessThan(1e-9);
      expect(Math.abs(psnr(a, b) - ref[i][1])).toBeLessThan(1e-9);
    });
  });
});
