import { describe, expect, it } from 'vitest';
import { fillPlanar } from '../../src/runtime/native-size.ts';
import { axisSums, axisWeights, planTiles, TileBlender, tileAlignment, tileCount, tileRect, tileStarts } from '../../src/runtime/tiles.ts';

describe('tileStarts', () => {
  it('covers the line with evenly spread, aligned tiles overlapping at least the requested amount', () => {
    for (const [length, tile, overlap, align] of [
      [104, 48, 16, 8],
      [1024, 256, 64, 64],
      [81 * 8, 64, 8, 8],
      [264, 256, 32, 8],
    ] as const) {
      const s = tileStarts(length, tile, overlap, align);
      expect(s[0]).toBe(0);
      expect(s.at(-1)! + tile).toBe(length);
      for (const x of s) expect(x % align).toBe(0);
      for (let i = 1; i < s.length; i++) {
        expect(s[i] - s[i - 1]).toBeGreaterThan(0);
        expect(s[i - 1] + tile - s[i]).toBeGreaterThanOrEqual(overlap);
      }
    }
    expect(tileStarts(40, 48, 16, 8)).toEqual([0]);
    expect(tileStarts(104, 48, 16, 8)).toEqual([0, 32, 56]);
  });

  it('aligns to gcd(2^depth, tile, overlap)', () => {
    expect(tileAlignment(8, 48, 16)).toBe(8);
    expect(tileAlignment(256, 256, 64)).toBe(64);
    expect(tileAlignment(8, 48, 0)).toBe(8);
  });
});

describe('blending weights', () => {
  it('are 0 in the quarter of each overlap nearest a tile edge, rise smoothly, and sum to 1 for two tiles', () => {
    const starts = [0, 32];
    const w = axisWeights(starts, 48, 'cosine');
    // Overlap [32, 48): tile 0 keeps weight 1 up to 36, falls over [36, 44), is 0 from 44.
    expect(Array.from(w[0].slice(0, 36)).every((v) => v === 1)).toBe(true);
    expect(Array.from(w[0].slice(44)).every((v) => v === 0)).toBe(true);
    expect(Array.from(w[1].slice(0, 4)).every((v) => v === 0)).toBe(true);
    for (let t = 37; t < 44; t++) expect(w[0][t]).toBeLessThan(w[0][t - 1]);
    const sum = axisSums(starts, w, 80);
    for (const v of sum) expect(v).toBeCloseTo(1, 6);
  });

  it('stay positive where three tiles overlap (uneven spread), so normalising is defined', () => {
    const starts = tileStarts(120, 64, 16, 8);
    expect(starts).toEqual([0, 32, 56]);
    const sum = axisSums(starts, axisWeights(starts, 64, 'cosine'), 120);
    for (const v of sum) expect(v).toBeGreaterThan(0);
  });

  it("'none' cuts hard in the middle of the overlap", () => {
    const w = axisWeights([0, 32], 48, 'none');
    expect(Array.from(w[0].slice(38, 42))).toEqual([1, 1, 0, 0]);
    expect(Array.from(w[1].slice(6, 10))).toEqual([0, 0, 1, 1]);
  });
});

describe('TileBlender', () => {
  it('reassembles an identity "model" into the exact image, including ragged edges and one-tile axes', () => {
    for (const [width, height, tile, overlap] of [
      [75, 50, 32, 8],
      [130, 20, 48, 16],
      [64, 64, 64, 16],
      [120, 70, 64, 16],
    ] as const) {
      const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 37 + (i >> 5)) & 255);
      const plan = planTiles(width, height, 8, tile, overlap);
      const blender = new TileBlender(plan, 3);
      for (let k = 0; k < tileCount(plan); k++) {
        const r = tileRect(plan, k);
        const buf = new Float32Array(3 * r.width * r.height);
        fillPlanar({ rgb, width, height }, plan.pad, r, buf, 0);
        blender.add(k, buf, 0);
      }
      expect(blender.complete).toBe(true);
      expect(Buffer.compare(Buffer.from(blender.toRgb()), Buffer.from(rgb))).toBe(0);
    }
  });
});
