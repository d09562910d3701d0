/** Noise for the synthetic scenes: pure functions of coordinates and a seed, so textures are stable under resampling. */

export function hash3(x: number, y: number, s: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(s | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export function valueNoise(x: number, y: number, s: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash3(ix, iy, s);
  const b = hash3(ix + 1, iy, s);
  const c = hash3(ix, iy + 1, s);
  const d = hash3(ix + 1, iy + 1, s);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

export function fbm(x: number, y: number, s: number): number {
  return 0.5 * valueNoise(x, y, s) + 0.3 * valueNoise(2.03 * x, 2.03 * y, s + 1) + 0.2 * valueNoise(4.1 * x, 4.1 * y, s + 2);
}

export const frac = (x: number): number => x - Math.floor(x);
export const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
