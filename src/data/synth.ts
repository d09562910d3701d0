/**
 * The embedded synthetic street-scene dataset: procedurally composed Cityscapes-like scenes,
 * each rendered as a label map (Cityscapes label ids and palette colours) and as a "photo".
 *
 * Geometry is a pinhole street: ground plane, a road with sidewalks, facades and barriers as
 * vertical planes parallel to the street, a row of buildings closing the street, and upright
 * billboards (cars, people, poles, trees) placed on the ground at inverse depth t (t = 1 at the
 * bottom image row). The photo is shaded from the same geometry with per-class colours that are
 * not the palette colours, textures in world units (windows, tiles, lane marks, leaves), lighting,
 * haze and noise, so that photo→labels and labels→photo are learnable but not a colour lookup.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError, errorMessage } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { checkNotRootOrHome, resolveInside } from '../util/paths.ts';
import { Rng } from '../util/rng.ts';
import { LABEL_BY_ID, colorizeLabelIds } from './cityscapes.ts';
import { type GrayImage, type RgbImage, writeImage, writeLabelImage } from './image.ts';

/** Bump when the same arguments would produce different files. */
export const SYNTH_GENERATOR_VERSION = 1;

const ID = {
  ego: 1,
  road: 7,
  sidewalk: 8,
  building: 11,
  wall: 12,
  fence: 13,
  pole: 17,
  trafficLight: 19,
  trafficSign: 20,
  vegetation: 21,
  terrain: 22,
  sky: 23,
  person: 24,
  car: 26,
} as const;

/** Every Cityscapes label id the generator can draw (ego vehicle is void: ignored in evaluation). */
export const SYNTH_LABEL_IDS: readonly number[] = Object.freeze(Object.values(ID).slice().sort((a, b) => a - b));

/**
 * Classes that are not in every scene; scene i is made to contain OPTIONAL[i % 5], so any 5
 * consecutive scenes (e.g. the start of the train split) cover every class.
 */
const OPTIONAL: readonly number[] = [ID.wall, ID.fence, ID.terrain, ID.trafficLight, ID.ego];

export interface SynthSplits {
  train: number;
  val: number;
  test: number;
}

export interface SynthOptions {
  out: string;
  count: number;
  size: number;
  seed: number;
  /** Fractions of `count` per split (default 0.8 / 0.1 / 0.1; they are normalised to sum 1). */
  splits?: SynthSplits;
  onProgress?: (done: number, total: number) => void;
  /** Replace a previous synthetic dataset in `out` (its files are removed first). */
  overwrite?: boolean;
}

export interface SynthClassInfo {
  id: number;
  name: string;
  trainId: number;
  /** Pixels of this class in the label maps of each split. */
  pixels: Record<keyof SynthSplits, number>;
}

export interface SynthSummary {
  kind: 'synthetic';
  generator: string;
  generatorVersion: number;
  seed: number;
  count: number;
  size: number;
  splits: Record<keyof SynthSplits, number>;
  splitFractions: SynthSplits;
  layout: Record<string, string>;
  directions: Record<string, string>;
  classes: SynthClassInfo[];
}

// ---------------------------------------------------------------------------------------------
// Noise (pure functions of coordinates and a seed, so textures are stable under resampling)

function hash3(x: number, y: number, s: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(s | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function valueNoise(x: number, y: number, s: number): number {
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

function fbm(x: number, y: number, s: number): number {
  return 0.5 * valueNoise(x, y, s) + 0.3 * valueNoise(2.03 * x, 2.03 * y, s + 1) + 0.2 * valueNoise(4.1 * x, 4.1 * y, s + 2);
}

const frac = (x: number): number => x - Math.floor(x);
const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

// ---------------------------------------------------------------------------------------------
// Scene description

type Vec3 = [number, number, number];

/** What a primitive reports for a covered sample: sub-part, texture coordinates, inverse depth. */
interface Hit {
  part: number;
  tu: number;
  tv: number;
  t: number;
}

interface Prim {
  label: number;
  obj: number;
  box: [number, number, number, number];
  hit(u: number, v: number, out: Hit): boolean;
}

interface Shadow {
  box: [number, number, number, number];
  /** Multiplier in (0, 1] at (u, v). */
  factor(u: number, v: number): number;
}

interface Obj {
  kind: string;
  c1: Vec3;
  c2: Vec3;
  c3: Vec3;
  bright: number;
  seed: number;
  variant: number;
  /** Facade/window grid in metres. */
  gridX: number;
  gridY: number;
}

interface Scene {
  prims: Prim[];
  shadows: Shadow[];
  objs: Obj[];
  h: number;
  vx: number;
  skyTop: Vec3;
  skyHorizon: Vec3;
  cloudiness: number;
  haze: number;
  sunSide: number;
  noiseSigma: number;
  road: { xL: number; xR: number; lane: number; dash: number; edgeLines: boolean };
  sidewalkTint: Vec3;
  seed: number;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const uni = (rng: Rng, a: number, b: number): number => a + (b - a) * rng.next();
const jitterColor = (rng: Rng, c: Vec3, amount: number): Vec3 => [
  clamp01(c[0] * (1 + uni(rng, -amount, amount))),
  clamp01(c[1] * (1 + uni(rng, -amount, amount))),
  clamp01(c[2] * (1 + uni(rng, -amount, amount))),
];

const BUILDING_COLORS: Vec3[] = [
  [0.74, 0.66, 0.52],
  [0.58, 0.3, 0.24],
  [0.55, 0.55, 0.53],
  [0.84, 0.8, 0.68],
  [0.44, 0.46, 0.5],
  [0.7, 0.55, 0.42],
  [0.8, 0.74, 0.62],
];
const CAR_COLORS: Vec3[] = [
  [0.7, 0.08, 0.07],
  [0.1, 0.18, 0.5],
  [0.88, 0.88, 0.86],
  [0.06, 0.06, 0.07],
  [0.6, 0.62, 0.64],
  [0.12, 0.3, 0.18],
  [0.85, 0.7, 0.12],
  [0.35, 0.37, 0.4],
];
const CLOTHES: Vec3[] = [
  [0.1, 0.1, 0.12],
  [0.75, 0.15, 0.15],
  [0.15, 0.25, 0.55],
  [0.85, 0.85, 0.82],
  [0.4, 0.3, 0.2],
  [0.2, 0.45, 0.3],
  [0.55, 0.5, 0.45],
  [0.8, 0.6, 0.2],
];
const SKIN: Vec3[] = [
  [0.87, 0.7, 0.58],
  [0.72, 0.52, 0.4],
  [0.45, 0.3, 0.22],
  [0.93, 0.78, 0.66],
];

class SceneBuilder {
  readonly prims: Prim[] = [];
  readonly shadows: Shadow[] = [];
  readonly objs: Obj[] = [];

  constructor(private readonly rng: Rng) {}

  obj(kind: string, c1: Vec3, extra: Partial<Omit<Obj, 'kind' | 'c1'>> = {}): number {
    this.objs.push({
      kind,
      c1,
      c2: extra.c2 ?? c1,
      c3: extra.c3 ?? c1,
      bright: extra.bright ?? uni(this.rng, 0.88, 1.12),
      seed: extra.seed ?? this.rng.nextUint32(),
      variant: extra.variant ?? 0,
      gridX: extra.gridX ?? 3,
      gridY: extra.gridY ?? 3,
    });
    return this.objs.length - 1;
  }

  add(label: number, obj: number, box: [number, number, number, number], hit: Prim['hit']): void {
    if (box[2] <= 0 || box[3] <= 0 || box[0] >= 1 || box[1] >= 1 || box[2] <= box[0] || box[3] <= box[1]) return;
    this.prims.push({ label, obj, box, hit });
  }
}

/**
 * Compose one scene. `required` is a label id that must appear (see OPTIONAL); `pixel` is the
 * size of one output pixel in image units, used to keep thin objects at least about a pixel wide.
 */
function buildScene(rng: Rng, pixel: number, required: number | undefined): Scene {
  const B = new SceneBuilder(rng);
  const h = uni(rng, 0.34, 0.52);
  const vx = uni(rng, 0.3, 0.7);
  const camHeight = uni(rng, 2.4, 3.4);
  const M = (1 - h) / camHeight; // image units per metre at t = 1
  const Z1 = 1 / (1.15 * M); // metres of depth at t = 1 (about a 60° field of view)
  const vGround = (t: number): number => h + (1 - h) * t;
  const uAt = (X: number, t: number): number => vx + X * M * t;

  const roadW = uni(rng, 7, 13);
  const camX = uni(rng, -0.25, 0.25) * roadW;
  const xL = -roadW / 2 - camX;
  const xR = roadW / 2 - camX;
  const swL = uni(rng, 2, 4.5);
  const swR = uni(rng, 2, 4.5);
  // The side with more room in view (the vanishing point is away from it) shows forced classes best.
  const roomySide = vx > 0.5 ? -1 : 1;
  const terrainL = (required === ID.terrain && roomySide < 0) || rng.next() < 0.45;
  const terrainR = (required === ID.terrain && roomySide > 0) || rng.next() < 0.45;
  const gapL = terrainL ? uni(rng, 1.5, 5) : 0;
  const gapR = terrainR ? uni(rng, 1.5, 5) : 0;
  const curbL = xL - swL;
  const curbR = xR + swR;
  const facadeL = curbL - gapL;
  const facadeR = curbR + gapR;
  const tBack = uni(rng, 0.035, 0.09);
  const sunSide = rng.next() < 0.5 ? -1 : 1;
  /** Largest t at which a point on the ground at lateral position X is still inside the image. */
  const tVisible = (X: number): number => (X < 0 ? (vx - 0.03) / (-X * M) : X > 0 ? (0.97 - vx) / (X * M) : Infinity);

  // Sky.
  const weather = rng.int(3);
  const skyTop: Vec3 = weather === 0 ? [0.3, 0.5, 0.85] : weather === 1 ? [0.6, 0.62, 0.66] : [0.32, 0.36, 0.58];
  const skyHorizon: Vec3 = weather === 0 ? [0.75, 0.83, 0.92] : weather === 1 ? [0.82, 0.82, 0.83] : [0.95, 0.72, 0.52];
  const skyObj = B.obj('sky', skyTop, { bright: 1 });
  B.add(ID.sky, skyObj, [0, 0, 1, h + 0.01], (u, v, o) => {
    o.part = 1;
    o.tu = u;
    o.tv = v;
    o.t = 0;
    return true;
  });

  // Ground: road, sidewalks, terrain strips (beyond the facades it is hidden anyway).
  const roadObj = B.obj('road', jitterColor(rng, [0.33, 0.34, 0.36], 0.12));
  const sidewalkTint = pick(rng, [
    [0.62, 0.6, 0.58],
    [0.66, 0.56, 0.52],
    [0.56, 0.57, 0.6],
  ] as Vec3[]);
  const sidewalkObj = B.obj('sidewalk', jitterColor(rng, sidewalkTint, 0.06));
  const terrainObj = B.obj('terrain', rng.next() < 0.7 ? jitterColor(rng, [0.46, 0.56, 0.28], 0.1) : jitterColor(rng, [0.52, 0.44, 0.32], 0.1), {
    c2: [0.4, 0.36, 0.26],
  });
  B.add(ID.road, roadObj, [0, h, 1, 1], (u, v, o) => {
    if (v <= h) return false;
    const t = (v - h) / (1 - h);
    const X = (u - vx) / (M * t);
    o.t = t;
    o.tu = X;
    o.tv = Z1 / t;
    o.part = 1;
    if (X >= xL && X <= xR) return true;
    return false;
  });
  // Sidewalk and terrain are separate primitives so each has its own label.
  B.add(ID.sidewalk, sidewalkObj, [0, h, 1, 1], (u, v, o) => {
    if (v <= h) return false;
    const t = (v - h) / (1 - h);
    const X = (u - vx) / (M * t);
    const left = X < xL && (X >= curbL || !terrainL);
    const right = X > xR && (X <= curbR || !terrainR);
    if (!left && !right) return false;
    o.t = t;
    o.tu = X;
    o.tv = Z1 / t;
    // part 2: the kerb stone next to the road
    o.part = (left && X > xL - 0.2) || (right && X < xR + 0.2) ? 2 : 1;
    return true;
  });
  if (terrainL || terrainR) {
    B.add(ID.terrain, terrainObj, [0, h, 1, 1], (u, v, o) => {
      if (v <= h) return false;
      const t = (v - h) / (1 - h);
      const X = (u - vx) / (M * t);
      if (!((terrainL && X < curbL) || (terrainR && X > curbR))) return false;
      o.t = t;
      o.tu = X;
      o.tv = Z1 / t;
      o.part = 1;
      return true;
    });
  }

  // The row of buildings (and trees) closing the street at depth tBack.
  {
    const uFrom = uAt(facadeL, tBack) - 0.02;
    const uTo = uAt(facadeR, tBack) + 0.02;
    let X = (uFrom - vx) / (M * tBack);
    const XEnd = (uTo - vx) / (M * tBack);
    const vb = vGround(tBack);
    while (X < XEnd) {
      const w = uni(rng, 8, 22);
      const x0 = X;
      const x1 = X + w;
      X = x1;
      const isTrees = rng.next() < 0.2;
      const height = isTrees ? uni(rng, 6, 12) : uni(rng, 8, 40);
      const top = vb - height * M * tBack;
      const box: [number, number, number, number] = [uAt(x0, tBack), top - 0.02, uAt(x1, tBack), vb];
      if (isTrees) {
        const o = B.obj('tree', jitterColor(rng, [0.22, 0.36, 0.14], 0.15), { c2: [0.3, 0.22, 0.15] });
        const ns = B.objs[o]!.seed;
        B.add(ID.vegetation, o, box, (u, v, out) => {
          const Xw = (u - vx) / (M * tBack);
          if (Xw < x0 || Xw > x1 || v > vb) return false;
          const Y = (vb - v) / (M * tBack);
          if (Y > height * (0.75 + 0.35 * valueNoise(Xw * 0.6, 0, ns))) return false;
          out.part = 1;
          out.tu = Xw;
          out.tv = Y;
          out.t = tBack;
          return true;
        });
      } else {
        const o = B.obj('building', jitterColor(rng, pick(rng, BUILDING_COLORS), 0.1), {
          gridX: uni(rng, 2.5, 4.5),
          gridY: uni(rng, 2.8, 3.6),
          variant: rng.int(3),
          bright: uni(rng, 0.85, 1.05),
        });
        B.add(ID.building, o, box, (u, v, out) => {
          const Xw = (u - vx) / (M * tBack);
          if (Xw < x0 || Xw > x1 || v > vb) return false;
          const Y = (vb - v) / (M * tBack);
          if (Y > height) return false;
          out.part = 1;
          out.tu = Xw - x0;
          out.tv = Y;
          out.t = tBack;
          return true;
        });
      }
    }
  }

  /**
   * A vertical plane X = Xp (parallel to the street) from depth zNear..zFar (metres) and height
   * 0..height(Z). Texture coordinates: distance along the street (m) and height (m).
   */
  const plane = (label: number, obj: number, Xp: number, zNear: number, zFar: number, height: (Z: number) => number, maxH: number): void => {
    const tNear = Z1 / zNear;
    const tFar = Z1 / zFar;
    const us = [uAt(Xp, tNear), uAt(Xp, tFar)];
    const vs = [vGround(tNear), vGround(tFar), vGround(tNear) - maxH * M * tNear, vGround(tFar) - maxH * M * tFar];
    const box: [number, number, number, number] = [Math.min(...us), Math.min(...vs), Math.max(...us), Math.max(...vs)];
    B.add(label, obj, box, (u, v, out) => {
      const t = (u - vx) / (Xp * M);
      if (!(t >= tFar && t <= tNear)) return false;
      const Y = (vGround(t) - v) / (M * t);
      const Z = Z1 / t;
      if (Y < 0 || Y > height(Z)) return false;
      out.part = 1;
      out.tu = Z;
      out.tv = Y;
      out.t = t;
      return true;
    });
  };

  const zBack = Z1 / tBack;
  // Facades along both sides, from the back row to behind the camera.
  for (const [Xp, side] of [
    [facadeL, -1],
    [facadeR, 1],
  ] as const) {
    let z = zBack;
    const lit = side === sunSide ? uni(rng, 1.0, 1.15) : uni(rng, 0.62, 0.8);
    while (z > Z1 * 0.3) {
      const len = uni(rng, 8, 26);
      const zNear = Math.max(Z1 * 0.25, z - len);
      const isTrees = rng.next() < 0.12;
      if (isTrees) {
        const height = uni(rng, 5, 11);
        const o = B.obj('tree', jitterColor(rng, [0.2, 0.34, 0.12], 0.15), { bright: lit * uni(rng, 0.9, 1.1) });
        const ns = B.objs[o]!.seed;
        plane(ID.vegetation, o, Xp, zNear, z, (Z) => height * (0.7 + 0.4 * valueNoise(Z * 0.5, 0, ns)), height * 1.1);
      } else {
        const height = uni(rng, 9, 38);
        const o = B.obj('building', jitterColor(rng, pick(rng, BUILDING_COLORS), 0.1), {
          bright: lit * uni(rng, 0.88, 1.1),
          gridX: uni(rng, 2.5, 4.5),
          gridY: uni(rng, 2.8, 3.6),
          variant: rng.int(3),
        });
        plane(ID.building, o, Xp, zNear, z, () => height, height);
      }
      z = zNear;
    }
  }

  // Walls and fences on the outer sidewalk edges.
  const barrierKinds: number[] = [];
  for (const side of [-1, 1]) {
    if (rng.next() < 0.35) barrierKinds.push(side * ID.wall);
    if (rng.next() < 0.3) barrierKinds.push(side * ID.fence);
  }
  if (required === ID.wall && !barrierKinds.includes(roomySide * ID.wall)) barrierKinds.push(roomySide * ID.wall);
  if (required === ID.fence && !barrierKinds.includes(roomySide * ID.fence)) barrierKinds.push(roomySide * ID.fence);
  for (const k of barrierKinds) {
    const label = Math.abs(k);
    const Xp = k < 0 ? curbL : curbR;
    // The far end lies where the barrier is in view; it then runs towards (and maybe past) the camera.
    const tFar = uni(rng, tBack * 1.2, Math.max(tBack * 1.3, Math.min(0.6, 0.8 * tVisible(Xp))));
    const zFar = Z1 / tFar;
    const zNear = Math.max(Z1 * 0.4, zFar - uni(rng, 8, 30));
    const lit = Math.sign(k) === sunSide ? 1.05 : 0.72;
    if (label === ID.wall) {
      const height = uni(rng, 1.2, 2.8);
      const o = B.obj('wall', jitterColor(rng, pick(rng, [[0.62, 0.6, 0.56], [0.7, 0.66, 0.58], [0.5, 0.5, 0.52]] as Vec3[]), 0.06), {
        bright: lit * uni(rng, 0.9, 1.1),
      });
      plane(ID.wall, o, Xp, zNear, zFar, () => height, height);
    } else {
      const height = uni(rng, 1.0, 1.8);
      const o = B.obj('fence', rng.next() < 0.5 ? jitterColor(rng, [0.5, 0.36, 0.22], 0.1) : jitterColor(rng, [0.36, 0.42, 0.38], 0.1), {
        bright: lit * uni(rng, 0.9, 1.1),
        gridX: uni(rng, 0.12, 0.25),
        gridY: uni(rng, 2, 3),
        variant: rng.int(2),
      });
      plane(ID.fence, o, Xp, zNear, zFar, () => height, height);
    }
  }

  // Upright objects: collected with their depth, drawn far to near.
  const billboards: { t: number; draw: () => void }[] = [];
  const tMin = tBack * 1.4;
  const drawTAt = (lo: number, hi: number): number => lo + (hi - lo) * rng.next() ** 1.6;
  /** Shape in metres (lx from the object's centre line, ly above the ground) → part or 0. */
  const upright = (label: number, obj: number, X: number, t: number, halfW: number, H: number, minPx: number, shape: (lx: number, ly: number, s: number) => number): void => {
    const s = M * t; // image units per metre here
    // Thin shapes are widened to about a pixel so they survive at small sizes.
    const widen = Math.max(1, (minPx * pixel) / (2 * halfW * s));
    const uc = uAt(X, t);
    const vg = vGround(t);
    const box: [number, number, number, number] = [uc - halfW * s * widen - pixel, vg - H * s - pixel, uc + halfW * s * widen + pixel, vg + pixel];
    B.add(label, obj, box, (u, v, out) => {
      const lx = (u - uc) / (s * widen);
      const ly = (vg - v) / s;
      const part = shape(lx, ly, widen);
      if (part === 0) return false;
      out.part = part;
      out.tu = lx;
      out.tv = ly;
      out.t = t;
      return true;
    });
  };
  const shadowAt = (X: number, t: number, halfW: number, depth: number, strength: number): void => {
    const s = M * t;
    const uc = uAt(X, t);
    const vg = vGround(t);
    const ru = halfW * s * 1.15;
    const rv = Math.max(depth * s * (1 - h) * 0.12, pixel);
    B.shadows.push({
      box: [uc - ru, vg - rv, uc + ru, vg + rv],
      factor: (u, v) => {
        const d = ((u - uc) / ru) ** 2 + ((v - vg) / rv) ** 2;
        return d >= 1 ? 1 : 1 - strength * (1 - d * d);
      },
    });
  };

  // Cars on the road.
  const nCars = 1 + rng.int(5);
  for (let i = 0; i < nCars; i++) {
    const width = uni(rng, 1.7, 1.95);
    const X = uni(rng, xL + width / 2 + 0.3, xR - width / 2 - 0.3);
    const t = drawTAt(tMin, Math.max(tMin, Math.min(0.95, tVisible(X))));
    const tall = rng.next() < 0.25; // vans/SUVs
    const bodyTop = tall ? uni(rng, 1.1, 1.4) : uni(rng, 0.85, 1.0);
    const roof = bodyTop + (tall ? uni(rng, 0.4, 0.6) : uni(rng, 0.4, 0.55));
    const body = jitterColor(rng, pick(rng, CAR_COLORS), 0.08);
    const o = B.obj('car', body, { c2: [0.1, 0.12, 0.15], c3: [0.75, 0.08, 0.06] });
    const hw = width / 2;
    billboards.push({
      t,
      draw: () => {
        shadowAt(X, t, hw, 2.0, 0.55);
        upright(ID.car, o, X, t, hw, roof, 3, (lx, ly) => {
          const ax = Math.abs(lx);
          if (ly < 0 || ly > roof || ax > hw) return 0;
          if (ly < 0.3) return ax > hw - 0.38 ? 3 : 0; // wheels, with road visible between them
          if (ly <= bodyTop) {
            // rounded lower corners
            if (ly < 0.4 && ax > hw - 0.08) return 0;
            if (ly > bodyTop - 0.28 && ly < bodyTop - 0.1 && ax > hw - 0.3) return 4; // tail lights
            if (ly > 0.38 && ly < 0.52 && ax < 0.26) return 5; // number plate
            return 1;
          }
          const k = (ly - bodyTop) / (roof - bodyTop);
          const half = hw * (0.92 - 0.2 * k);
          if (ax > half) return 0;
          return k > 0.08 && k < 0.85 && ax < half - 0.08 ? 2 : 1; // rear window
        });
      },
    });
  }

  // People on the sidewalks.
  const nPeople = 1 + rng.int(4);
  for (let i = 0; i < nPeople; i++) {
    const left = rng.next() < 0.5;
    const X = left ? uni(rng, curbL + 0.4, xL - 0.5) : uni(rng, xR + 0.5, curbR - 0.4);
    const t = drawTAt(tMin, Math.max(tMin, Math.min(0.9, tVisible(X))));
    const H = uni(rng, 1.55, 1.92);
    const stride = uni(rng, 0, 0.16);
    const o = B.obj('person', pick(rng, SKIN), { c2: jitterColor(rng, pick(rng, CLOTHES), 0.1), c3: jitterColor(rng, pick(rng, CLOTHES), 0.1) });
    billboards.push({
      t,
      draw: () => {
        shadowAt(X, t, 0.3, 0.6, 0.4);
        upright(ID.person, o, X, t, 0.28, H, 2, (lx, ly) => {
          const ax = Math.abs(lx);
          const headR = 0.115 * H / 1.75;
          const headY = H - headR;
          if ((lx * lx + (ly - headY) ** 2) <= headR * headR) return 1;
          if (ly > 0.47 * H && ly < H - 2 * headR + 0.03) {
            const k = (ly - 0.47 * H) / (0.53 * H - 2 * headR);
            return ax < 0.15 + 0.08 * k || (ax < 0.25 && ax > 0.19 && k > 0.15) ? 2 : 0; // torso, arms
          }
          if (ly >= 0 && ly <= 0.47 * H) {
            const l1 = Math.abs(lx + 0.07 + stride * (1 - ly / (0.47 * H)));
            const l2 = Math.abs(lx - 0.07 - stride * (1 - ly / (0.47 * H)));
            return l1 < 0.065 || l2 < 0.065 ? 3 : 0;
          }
          return 0;
        });
      },
    });
  }

  // Poles with signs or traffic lights near the kerb.
  const nPoles = 1 + rng.int(3);
  for (let i = 0; i < nPoles; i++) {
    const left = rng.next() < 0.5;
    const X = left ? xL - uni(rng, 0.3, 0.8) : xR + uni(rng, 0.3, 0.8);
    const t = drawTAt(tMin, Math.max(tMin, Math.min(0.75, tVisible(X))));
    const H = uni(rng, 3.2, 5.2);
    const light = (i === 0 && required === ID.trafficLight) || rng.next() < 0.3;
    const r = uni(rng, 0.05, 0.09);
    const poleObj = B.obj('pole', jitterColor(rng, [0.5, 0.52, 0.54], 0.12));
    billboards.push({
      t,
      draw: () => upright(ID.pole, poleObj, X, t, r, H, 1.2, (lx, ly) => (ly >= 0 && ly <= H && Math.abs(lx) <= r ? 1 : 0)),
    });
    if (light) {
      const o = B.obj('light', [0.12, 0.12, 0.13], { variant: rng.int(3) });
      const bw = 0.18;
      const bh = 0.45;
      billboards.push({
        t: t + 1e-6,
        draw: () =>
          upright(ID.trafficLight, o, X, t, bw, H + bh * 2, 2, (lx, ly) => {
            if (Math.abs(lx) > bw || ly < H - 0.2 || ly > H - 0.2 + bh * 2) return 0;
            const lamp = Math.floor(((ly - (H - 0.2)) / (bh * 2)) * 3);
            const cy = H - 0.2 + ((lamp + 0.5) * bh * 2) / 3;
            return lx * lx + (ly - cy) ** 2 < (bw * 0.6) ** 2 ? 2 + lamp : 1;
          }),
      });
    } else {
      const shape = rng.int(3); // 0 circle, 1 square, 2 triangle
      const plate = pick(rng, [
        [0.8, 0.1, 0.1],
        [0.1, 0.3, 0.72],
        [0.92, 0.76, 0.12],
      ] as Vec3[]);
      const o = B.obj('sign', plate, { c2: [0.92, 0.92, 0.9], variant: shape });
      const sr = uni(rng, 0.3, 0.42);
      const cy = H - sr * 0.6;
      billboards.push({
        t: t + 1e-6,
        draw: () =>
          upright(ID.trafficSign, o, X, t, sr, cy + sr, 2.5, (lx, ly, widen) => {
            const dx = lx;
            const dy = (ly - cy) / widen; // keep the sign's aspect when widened
            let inside: number;
            if (shape === 0) inside = Math.hypot(dx, dy) / sr;
            else if (shape === 1) inside = Math.max(Math.abs(dx), Math.abs(dy)) / (sr * 0.9);
            else inside = Math.max((-dy + sr * 0.5) / (sr * 1.5), (Math.abs(dx) * 1.732 + dy - sr) / (sr * 1.5) + 0.5);
            if (inside > 1) return 0;
            return inside > 0.78 ? 2 : 1;
          }),
      });
    }
  }

  // Street trees at the outer edge of the sidewalks.
  const treeSides = [-1, 1].filter(() => rng.next() < 0.55);
  for (const side of treeSides) {
    const X = side < 0 ? curbL + 0.7 : curbR - 0.7;
    const spacing = uni(rng, 7, 14);
    for (let z = uni(rng, Z1 * 0.9, Z1 * 0.9 + spacing); z < zBack * 0.8; z += spacing * uni(rng, 0.8, 1.25)) {
      if (rng.next() < 0.2) continue;
      const t = Z1 / z;
      const trunkH = uni(rng, 1.8, 3.2);
      const R = uni(rng, 1.4, 2.8);
      const o = B.obj('tree', jitterColor(rng, pick(rng, [[0.2, 0.36, 0.12], [0.28, 0.4, 0.14], [0.16, 0.3, 0.14]] as Vec3[]), 0.1), {
        c2: [0.28, 0.2, 0.13],
      });
      const ns = B.objs[o]!.seed;
      const cy = trunkH + R * 0.75;
      billboards.push({
        t,
        draw: () =>
          upright(ID.vegetation, o, X, t, R * 1.2, cy + R * 1.2, 1, (lx, ly) => {
            const dx = lx;
            const dy = ly - cy;
            const rr = Math.hypot(dx, dy);
            const ang = Math.atan2(dy, dx);
            const rad = R * (0.88 + 0.3 * valueNoise((ang + Math.PI) * 2.2, 0.5, ns));
            if (rr <= rad) return 1;
            return ly >= 0 && ly < cy && Math.abs(lx) < 0.16 ? 2 : 0;
          }),
      });
    }
  }
  // Guarantee vegetation: a hedge along a sidewalk when no tree was placed.
  if (!treeSides.length) {
    const side = rng.next() < 0.5 ? -1 : 1;
    const Xp = side < 0 ? curbL + 0.4 : curbR - 0.4;
    const zFar = uni(rng, Z1 * 1.5, Z1 * 5);
    const height = uni(rng, 0.8, 1.5);
    const zNear = Math.max(Z1 * 0.4, zFar - uni(rng, 6, 20));
    const o = B.obj('hedge', jitterColor(rng, [0.2, 0.34, 0.13], 0.1));
    const ns = B.objs[o]!.seed;
    billboards.push({
      t: Z1 / zFar,
      draw: () => plane(ID.vegetation, o, Xp, zNear, zFar, (Z) => height * (0.85 + 0.3 * valueNoise(Z * 1.5, 1, ns)), height * 1.2),
    });
  }

  billboards.sort((a, b) => a.t - b.t);
  for (const b of billboards) b.draw();

  // The camera car's bonnet (void "ego vehicle" in Cityscapes).
  if (required === ID.ego || rng.next() < 0.2) {
    const eh = uni(rng, 0.07, 0.13);
    const o = B.obj('ego', [0.08, 0.08, 0.09]);
    B.add(ID.ego, o, [0, 1 - eh - 0.01, 1, 1], (u, v, out) => {
      const top = 1 - eh * (1 - 0.55 * (2 * u - 1) ** 2);
      if (v < top) return false;
      out.part = 1;
      out.tu = u;
      out.tv = (v - top) / eh;
      out.t = 1;
      return true;
    });
  }

  return {
    prims: B.prims,
    shadows: B.shadows,
    objs: B.objs,
    h,
    vx,
    skyTop,
    skyHorizon,
    cloudiness: weather === 1 ? uni(rng, 0.1, 0.3) : uni(rng, 0.1, 0.55),
    haze: uni(rng, 0.25, 0.6),
    sunSide,
    noiseSigma: uni(rng, 1.5, 5) / 255,
    road: { xL, xR, lane: (xL + xR) / 2 + uni(rng, -0.5, 0.5), dash: uni(rng, 2.5, 4.5), edgeLines: rng.next() < 0.5 },
    sidewalkTint,
    seed: rng.nextUint32(),
  };
}

// ---------------------------------------------------------------------------------------------
// Rasterisation and shading

interface Raster {
  n: number;
  label: Uint8Array;
  obj: Uint16Array;
  part: Uint8Array;
  tu: Float32Array;
  tv: Float32Array;
  depth: Float32Array;
  shade: Float32Array;
}

/** Sample the scene at the centres of an n×n grid, painting primitives in order. */
function rasterize(scene: Scene, n: number, withTexture: boolean): Raster {
  const size = n * n;
  const r: Raster = {
    n,
    label: new Uint8Array(size),
    obj: new Uint16Array(size),
    part: new Uint8Array(size),
    tu: new Float32Array(withTexture ? size : 0),
    tv: new Float32Array(withTexture ? size : 0),
    depth: new Float32Array(withTexture ? size : 0),
    shade: new Float32Array(withTexture ? size : 0).fill(1),
  };
  const hit: Hit = { part: 0, tu: 0, tv: 0, t: 0 };
  const range = (a: number, b: number): [number, number] => [Math.max(0, Math.floor(a * n - 0.5)), Math.min(n - 1, Math.ceil(b * n - 0.5))];
  for (const p of scene.prims) {
    const [i0, i1] = range(p.box[0], p.box[2]);
    const [j0, j1] = range(p.box[1], p.box[3]);
    for (let j = j0; j <= j1; j++) {
      const v = (j + 0.5) / n;
      for (let i = i0; i <= i1; i++) {
        const u = (i + 0.5) / n;
        if (!p.hit(u, v, hit)) continue;
        const k = j * n + i;
        r.label[k] = p.label;
        r.obj[k] = p.obj;
        r.part[k] = hit.part;
        if (withTexture) {
          r.tu[k] = hit.tu;
          r.tv[k] = hit.tv;
          r.depth[k] = hit.t;
        }
      }
    }
  }
  if (withTexture) {
    for (const s of scene.shadows) {
      const [i0, i1] = range(s.box[0], s.box[2]);
      const [j0, j1] = range(s.box[1], s.box[3]);
      for (let j = j0; j <= j1; j++) {
        for (let i = i0; i <= i1; i++) {
          const k = j * n + i;
          const l = r.label[k];
          if (l === ID.road || l === ID.sidewalk || l === ID.terrain) r.shade[k]! *= s.factor((i + 0.5) / n, (j + 0.5) / n);
        }
      }
    }
  }
  return r;
}

/** Colour of one sample before lighting and haze (components roughly in [0, 1]). */
function shadeSample(scene: Scene, r: Raster, k: number, u: number, v: number, out: Vec3): void {
  const label = r.label[k]!;
  const o = scene.objs[r.obj[k]!]!;
  const part = r.part[k]!;
  const tu = r.tu[k]!;
  const tv = r.tv[k]!;
  let cr = o.c1[0];
  let cg = o.c1[1];
  let cb = o.c1[2];
  let m = 1;
  switch (label) {
    case ID.sky: {
      const g = clamp01(v / scene.h);
      const cloud = clamp01((fbm(u * 5, v * 9, scene.seed) - (1 - scene.cloudiness)) * 3);
      for (let i = 0; i < 3; i++) out[i] = scene.skyTop[i]! + (scene.skyHorizon[i]! - scene.skyTop[i]!) * g ** 1.5;
      for (let i = 0; i < 3; i++) out[i] = out[i]! + (0.93 - out[i]!) * cloud * 0.8;
      return;
    }
    case ID.road: {
      const { lane, dash, edgeLines, xL, xR } = scene.road;
      const Z = tv;
      const onDash = Math.abs(tu - lane) < 0.08 && frac(Z / (dash * 2)) < 0.5;
      const onEdge = edgeLines && (Math.abs(tu - (xL + 0.35)) < 0.07 || Math.abs(tu - (xR - 0.35)) < 0.07);
      if (onDash || onEdge) {
        cr = 0.82;
        cg = 0.82;
        cb = 0.78;
        m = 0.9 + 0.1 * valueNoise(tu * 8, Z * 8, o.seed);
      } else {
        const grain = hash3(Math.floor(tu * 12), Math.floor(Z * 12), o.seed) - 0.5;
        const patch = fbm(tu * 0.4, Z * 0.15, o.seed + 7);
        m = 0.82 + 0.3 * patch + 0.18 * grain;
      }
      break;
    }
    case ID.sidewalk: {
      if (part === 2) {
        cr = 0.7;
        cg = 0.69;
        cb = 0.66;
        m = 0.95;
        break;
      }
      const tile = 0.5;
      const gx = frac(tu / tile);
      const gz = frac(tv / tile);
      const grout = gx < 0.08 || gz < 0.08;
      const cellShade = hash3(Math.floor(tu / tile), Math.floor(tv / tile), o.seed);
      m = grout ? 0.72 : 0.92 + 0.14 * cellShade;
      m *= 0.9 + 0.2 * fbm(tu * 0.3, tv * 0.3, o.seed + 3);
      break;
    }
    case ID.terrain: {
      const n = fbm(tu * 0.5, tv * 0.5, o.seed);
      const blade = valueNoise(tu * 10, tv * 3, o.seed + 11);
      cr = o.c1[0] + (o.c2[0] - o.c1[0]) * n * 0.7;
      cg = o.c1[1] + (o.c2[1] - o.c1[1]) * n * 0.7;
      cb = o.c1[2] + (o.c2[2] - o.c1[2]) * n * 0.7;
      m = 0.9 + 0.15 * blade;
      break;
    }
    case ID.building: {
      // tu: metres along the facade, tv: metres above ground
      const col = Math.floor(tu / o.gridX);
      const floor = Math.floor(tv / o.gridY);
      const fx = frac(tu / o.gridX);
      const fy = frac(tv / o.gridY);
      const ground = tv < o.gridY * 1.1;
      const winW = o.variant === 2 ? 0.7 : 0.5;
      const isWindow = ground ? fx > 0.12 && fx < 0.88 && fy > 0.2 && fy < 0.85 && o.variant !== 1 : Math.abs(fx - 0.5) < winW / 2 && fy > 0.3 && fy < 0.78;
      if (isWindow) {
        const lit = hash3(col, floor, o.seed);
        if (lit > 0.85) {
          cr = 0.62;
          cg = 0.6;
          cb = 0.5;
        } else {
          cr = 0.13 + 0.12 * lit;
          cg = 0.16 + 0.12 * lit;
          cb = 0.22 + 0.12 * lit;
        }
        m = 1 - 0.3 * (fy - 0.3); // sky reflection fades downwards
      } else {
        const sill = !ground && Math.abs(fx - 0.5) < winW / 2 + 0.05 && fy > 0.24 && fy < 0.3;
        m = sill ? 1.15 : 0.92 + 0.14 * fbm(tu * 0.7, tv * 0.7, o.seed);
        if (o.c1[0] > o.c1[2] * 1.5) m *= frac(tv / 0.25) < 0.15 ? 0.88 : 1; // brick courses
      }
      break;
    }
    case ID.wall: {
      const blockY = frac(tv / 0.5) < 0.06;
      const blockZ = frac(tu / 1.0 + (Math.floor(tv / 0.5) % 2) * 0.5) < 0.03;
      const stain = fbm(tu * 0.4, tv * 1.2, o.seed);
      m = (blockY || blockZ ? 0.8 : 1) * (0.85 + 0.25 * stain);
      break;
    }
    case ID.fence: {
      const post = frac(tu / o.gridY) < 0.05;
      const slat = frac(tu / o.gridX) < (o.variant === 0 ? 0.55 : 0.3);
      const rail = Math.abs(tv - 0.25) < 0.06 || Math.abs(tv - (o.variant === 0 ? 0.9 : 1.0)) < 0.06;
      if (post || slat || rail) m = post ? 0.8 : 1.0;
      else {
        cr = 0.16;
        cg = 0.2;
        cb = 0.14;
        m = 1;
      }
      break;
    }
    case ID.pole: {
      m = 0.65 + 0.55 * Math.max(0, 1 - Math.abs(tu / 0.08 - 0.3 * scene.sunSide));
      break;
    }
    case ID.trafficSign: {
      if (part === 2) [cr, cg, cb] = o.c2;
      m = 1.05;
      break;
    }
    case ID.trafficLight: {
      if (part >= 2) {
        const lamp = part - 2; // 0 bottom (green), 1 amber, 2 top (red)
        const on = lamp === o.variant;
        const k = on ? 1 : 0.25;
        if (lamp === 0) [cr, cg, cb] = [0.2 * k, 0.9 * k, 0.45 * k];
        else if (lamp === 1) [cr, cg, cb] = [0.95 * k, 0.65 * k, 0.1 * k];
        else [cr, cg, cb] = [0.95 * k, 0.15 * k, 0.1 * k];
      }
      break;
    }
    case ID.vegetation: {
      if (part === 2) {
        [cr, cg, cb] = o.c2;
        m = 0.9 + 0.2 * valueNoise(tv * 6, tu * 30, o.seed);
        break;
      }
      const leaf = hash3(Math.floor(tu * 7), Math.floor(tv * 7), o.seed);
      const cluster = fbm(tu * 1.3, tv * 1.3, o.seed + 5);
      m = 0.55 + 0.55 * cluster + 0.35 * (leaf - 0.5);
      m *= 0.85 + 0.3 * clamp01(tv / 6); // lit from above
      break;
    }
    case ID.person: {
      [cr, cg, cb] = part === 1 ? o.c1 : part === 2 ? o.c2 : o.c3;
      m = 0.9 + 0.15 * Math.max(0, -tu * scene.sunSide * 3);
      break;
    }
    case ID.car: {
      if (part === 1) m = 0.75 + 0.35 * clamp01(tv / 1.2) + (Math.abs(tv - 0.62) < 0.04 ? 0.15 : 0);
      else if (part === 2) {
        cr = 0.12;
        cg = 0.14;
        cb = 0.17;
        m = 0.8 + 0.9 * clamp01((tv - tu * 0.3) % 1) * 0.4;
      } else if (part === 3) cr = cg = cb = 0.05;
      else if (part === 4) [cr, cg, cb] = o.c3;
      else if (part === 5) [cr, cg, cb] = [0.9, 0.9, 0.88];
      break;
    }
    case ID.ego: {
      m = 1 + 2.5 * (1 - tv) ** 4 * (0.5 + 0.5 * Math.cos((u - 0.5) * 5)); // sky reflected near the edge
      break;
    }
    default:
      break;
  }
  const b = m * o.bright;
  out[0] = cr * b;
  out[1] = cg * b;
  out[2] = cb * b;
}

/** The scene as a photo at n = size·ss samples per side, box-filtered down to `size` (anti-aliasing). */
function renderPhoto(scene: Scene, size: number, ss: number, noiseRng: Rng): Uint8Array {
  const n = size * ss;
  const r = rasterize(scene, n, true);
  const acc = new Float32Array(size * size * 3);
  const col: Vec3 = [0, 0, 0];
  const hazeColor = scene.skyHorizon;
  for (let j = 0; j < n; j++) {
    const v = (j + 0.5) / n;
    for (let i = 0; i < n; i++) {
      const u = (i + 0.5) / n;
      const k = j * n + i;
      shadeSample(scene, r, k, u, v, col);
      const label = r.label[k]!;
      if (label !== ID.sky) {
        const light = 1 + 0.18 * scene.sunSide * (u - 0.5) * 2;
        const s = r.shade[k]! * light;
        const t = r.depth[k]!;
        // Distant things fade towards the horizon colour (aerial perspective).
        const hz = scene.haze * clamp01(1 - t / 0.3) ** 2;
        for (let c = 0; c < 3; c++) col[c] = col[c]! * s * (1 - hz) + hazeColor[c]! * hz;
      }
      const o = (Math.floor(j / ss) * size + Math.floor(i / ss)) * 3;
      acc[o] = acc[o]! + col[0];
      acc[o + 1] = acc[o + 1]! + col[1];
      acc[o + 2] = acc[o + 2]! + col[2];
    }
  }
  const out = new Uint8Array(size * size * 3);
  const inv = 1 / (ss * ss);
  for (let p = 0; p < size * size; p++) {
    // Sensor-like noise: shared luminance part plus a little per channel.
    const lum = noiseRng.normal() * scene.noiseSigma;
    for (let c = 0; c < 3; c++) {
      const x = acc[p * 3 + c]! * inv + lum + noiseRng.normal() * scene.noiseSigma * 0.4;
      out[p * 3 + c] = Math.round(255 * clamp01(x));
    }
  }
  return out;
}

/** The seed of scene `index` for dataset seed `seed` (scenes are independent, so order does not matter). */
function sceneSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

export interface SynthScene {
  /** Cityscapes label ids, one byte per pixel. */
  labelIds: GrayImage;
  /** The rendered photo. */
  photo: RgbImage;
  /** The label ids as Cityscapes palette colours. */
  labelColors: RgbImage;
}

/** Render scene `index` of the dataset with seed `seed` at size×size. Pure and deterministic. */
export function renderSynthScene(seed: number, index: number, size: number): SynthScene {
  const rng = new Rng(sceneSeed(seed, index));
  const scene = buildScene(rng, 1 / size, OPTIONAL[index % OPTIONAL.length]);
  const labels = rasterize(scene, size, false).label;
  const ss = 2;
  const photo = renderPhoto(scene, size, ss, rng.fork());
  return {
    labelIds: { width: size, height: size, data: labels },
    photo: { width: size, height: size, data: photo },
    labelColors: { width: size, height: size, data: colorizeLabelIds(labels) },
  };
}

/** Put two equally tall images side by side (A left, B right). */
export function concatAB(a: RgbImage, b: RgbImage): RgbImage {
  if (a.height !== b.height) throw new Error('concatAB: heights differ');
  const w = a.width + b.width;
  const out = new Uint8Array(w * a.height * 3);
  for (let y = 0; y < a.height; y++) {
    out.set(a.data.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * w * 3);
    out.set(b.data.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * w + a.width) * 3);
  }
  return { width: w, height: a.height, data: out };
}

/** `synth_000000_000123`, mimicking Cityscapes' `city_sequence_frame`. */
export function synthId(index: number): string {
  return `synth_000000_${String(index).padStart(6, '0')}`;
}

/** Split sizes for `count` images: train and val rounded, test takes the rest. */
export function splitCounts(count: number, fractions: SynthSplits): Record<keyof SynthSplits, number> {
  const total = fractions.train + fractions.val + fractions.test;
  const train = Math.round((count * fractions.train) / total);
  const val = Math.min(count - train, Math.round((count * fractions.val) / total));
  return { train, val, test: count - train - val };
}

function checkOptions(o: SynthOptions): SynthSplits {
  if (!Number.isInteger(o.count) || o.count < 1) throw new UserError(`--count must be a positive integer (got ${o.count}).`);
  if (!Number.isInteger(o.size) || o.size < 8 || o.size > 4096) throw new UserError(`--size must be an integer from 8 to 4096 (got ${o.size}).`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new UserError(`--seed must be an integer from 0 to 4294967295 (got ${o.seed}).`);
  const f = o.splits ?? { train: 0.8, val: 0.1, test: 0.1 };
  const parts = [f.train, f.val, f.test];
  if (parts.some((x) => !Number.isFinite(x) || x < 0) || parts.reduce((a, b) => a + b, 0) <= 0) {
    throw new UserError(`--splits must be three non-negative fractions with a positive sum (got ${parts.join(',')}).`);
  }
  return f;
}

const OUTPUT_ENTRIES = ['train', 'val', 'test', 'gtFine', 'leftImg8bit', 'dataset.json'];

/**
 * `out` must be empty or missing, so that files of an earlier, larger run cannot mix in; with
 * `overwrite`, a folder holding a previous synthetic dataset (and nothing else) is cleared.
 */
async function prepareOutputFolder(out: string, overwrite: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UserError(`--out ${out} cannot be used: ${errorMessage(e)}`);
  }
  if (entries.length === 0) return;
  if (!overwrite) throw new UserError(`--out ${out} is not empty; choose a new folder, or pass --overwrite to replace a synthetic dataset there.`);
  let kind: unknown;
  try {
    kind = (JSON.parse(await fsp.readFile(path.join(out, 'dataset.json'), 'utf8')) as { kind?: unknown }).kind;
  } catch {
    kind = undefined;
  }
  const foreign = entries.filter((e) => !OUTPUT_ENTRIES.includes(e));
  if (kind !== 'synthetic' || foreign.length > 0) {
    throw new UserError(`--out ${out} is not empty and does not hold only a synthetic dataset${foreign.length ? ` (found ${foreign.slice(0, 3).join(', ')})` : ''}; refusing to overwrite it.`);
  }
  for (const e of OUTPUT_ENTRIES) await fsp.rm(path.join(out, e), { recursive: true, force: true });
}

/**
 * Write the synthetic dataset under `out` (see the module comment and README): aligned AB images per
 * split, Cityscapes-style gtFine labelIds and leftImg8bit photos, and dataset.json. Same arguments →
 * byte-identical files.
 */
export async function synthesizeDataset(opts: SynthOptions): Promise<SynthSummary> {
  const fractions = checkOptions(opts);
  const { out, count, size, seed } = opts;
  await checkNotRootOrHome(out, '--out');
  await prepareOutputFolder(out, opts.overwrite ?? false);
  const counts = splitCounts(count, fractions);
  const splitOf = (i: number): keyof SynthSplits => (i < counts.train ? 'train' : i < counts.train + counts.val ? 'val' : 'test');
  const pixels = { train: new Float64Array(256), val: new Float64Array(256), test: new Float64Array(256) };

  // Rendering is synchronous CPU work; encoding and writing run on the libuv pool meanwhile.
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for (let i = 0; i < count; i++) {
    const split = splitOf(i);
    const id = synthId(i);
    const scene = renderSynthScene(seed, i, size);
    const hist = pixels[split];
    for (const l of scene.labelIds.data) hist[l]++;
    const job = Promise.all([
      resolveInside(out, path.join(split, `${id}.png`)).then((f) => writeImage(f, concatAB(scene.photo, scene.labelColors), 'png')),
      resolveInside(out, path.join('gtFine', split, `${id}_gtFine_labelIds.png`)).then((f) => writeLabelImage(f, scene.labelIds)),
      resolveInside(out, path.join('leftImg8bit', split, `${id}_leftImg8bit.png`)).then((f) => writeImage(f, scene.photo, 'png')),
    ]).then(() => {
      inFlight.delete(job);
      done++;
      opts.onProgress?.(done, count);
    });
    inFlight.add(job);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);

  const summary: SynthSummary = {
    kind: 'synthetic',
    generator: 'pix2pix-ts synth (procedural street scenes)',
    generatorVersion: SYNTH_GENERATOR_VERSION,
    seed,
    count,
    size,
    splits: counts,
    splitFractions: fractions,
    layout: {
      '<split>/<id>.png': 'aligned AB: A (left) = photo, B (right) = Cityscapes colour label map',
      'gtFine/<split>/<id>_gtFine_labelIds.png': 'Cityscapes label ids (not trainIds), 8-bit grayscale',
      'leftImg8bit/<split>/<id>_leftImg8bit.png': 'the photo alone',
    },
    directions: { 'labels→photo': 'BtoA', 'photo→labels': 'AtoB' },
    classes: SYNTH_LABEL_IDS.map((id) => {
      const l = LABEL_BY_ID.get(id)!;
      return { id, name: l.name, trainId: l.trainId, pixels: { train: pixels.train[id]!, val: pixels.val[id]!, test: pixels.test[id]! } };
    }),
  };
  await writeFileAtomic(await resolveInside(out, 'dataset.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
