/**
 * Appearance statistics of the synthetic scenes (generator v3). Street photos do not tell classes
 * apart by colour: road, sidewalk, walls and facades are made of the same few materials (asphalt,
 * concrete, stone, brick, plaster), so their colour distributions overlap; each car, building,
 * person and tree has its own colour; grass and foliage range from green to dry brown. Identity is
 * carried by structure and texture (lane marks, paving joints, windows, brick courses, blades,
 * leaves, wheels), which the shaders in render.ts draw. Every colour here is drawn per instance
 * from one of these distributions.
 */
import type { Rng } from '../../util/rng.ts';
import { type Vec3, jitterColor, pick, uni } from './scene.ts';

/** Paving and building materials, shared by road, sidewalk, building and wall. */
const MATERIALS: readonly Vec3[] = [
  [0.34, 0.34, 0.35], // asphalt, dark concrete
  [0.48, 0.47, 0.46], // concrete
  [0.6, 0.59, 0.56], // light concrete
  [0.58, 0.5, 0.41], // sandstone
  [0.52, 0.34, 0.28], // brick, red paving
  [0.7, 0.66, 0.58], // plaster
  [0.4, 0.42, 0.46], // slate
  [0.45, 0.41, 0.35], // brown stone, gravel
];

/** A surface material: one of MATERIALS with per-instance variation. */
export function materialColor(rng: Rng): Vec3 {
  return jitterColor(rng, pick(rng, MATERIALS), 0.15);
}

/** Brick and red paving get courses/joints drawn in their shaders. */
export const isBrickLike = (c: Vec3): boolean => c[0] > c[2] * 1.6;

/** Colour from hue (0..1), saturation and value. */
function hsv(h: number, s: number, v: number): Vec3 {
  const k = (n: number): number => {
    const x = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(x, 4 - x, 1));
  };
  return [k(5), k(3), k(1)];
}

/**
 * Paint of a vehicle or colour of clothing: about half achromatic (black, grey, silver, white, as on
 * real streets), the rest any hue at moderate saturation.
 */
export function paintColor(rng: Rng): Vec3 {
  if (rng.next() < 0.5) {
    const v = uni(rng, 0.06, 0.9);
    return hsv(uni(rng, 0, 1), uni(rng, 0, 0.08), v);
  }
  return hsv(uni(rng, 0, 1), uni(rng, 0.25, 0.8), uni(rng, 0.2, 0.85));
}

/** Foliage: green of varying hue and lightness, sometimes yellowing or autumn brown. */
export function foliageColor(rng: Rng): Vec3 {
  const r = rng.next();
  if (r < 0.7) return hsv(uni(rng, 0.2, 0.33), uni(rng, 0.4, 0.75), uni(rng, 0.25, 0.55));
  if (r < 0.85) return hsv(uni(rng, 0.1, 0.17), uni(rng, 0.45, 0.7), uni(rng, 0.4, 0.6));
  return hsv(uni(rng, 0.04, 0.1), uni(rng, 0.35, 0.6), uni(rng, 0.3, 0.5));
}

/** Terrain: grass (foliage-like), dry grass, bare soil or gravel (a paving material). */
export function terrainColor(rng: Rng): Vec3 {
  const r = rng.next();
  if (r < 0.45) return foliageColor(rng);
  if (r < 0.65) return hsv(uni(rng, 0.1, 0.16), uni(rng, 0.3, 0.5), uni(rng, 0.45, 0.65));
  if (r < 0.85) return hsv(uni(rng, 0.06, 0.1), uni(rng, 0.3, 0.5), uni(rng, 0.3, 0.45));
  return materialColor(rng);
}

/** Skin tones. */
export function skinColor(rng: Rng): Vec3 {
  return hsv(uni(rng, 0.04, 0.08), uni(rng, 0.25, 0.55), uni(rng, 0.35, 0.95));
}

/** The camera's exposure and white balance for one scene (a colour cast over the whole photo). */
export function cameraCast(rng: Rng): Vec3 {
  const exposure = uni(rng, 0.8, 1.15);
  return [exposure * uni(rng, 0.9, 1.1), exposure, exposure * uni(rng, 0.9, 1.1)];
}
