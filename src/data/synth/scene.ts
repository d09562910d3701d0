/** The synthetic scene description shared by composition (compose.ts) and rendering (render.ts). */
import type { Rng } from '../../util/rng.ts';
import { clamp01 } from './noise.ts';

/** The Cityscapes label ids the generator draws. */
export const ID = {
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
  rider: 25,
  car: 26,
  truck: 27,
  bus: 28,
  train: 31,
  motorcycle: 32,
  bicycle: 33,
} as const;

export type Vec3 = [number, number, number];

/** What a primitive reports for a covered sample: sub-part, texture coordinates, inverse depth. */
export interface Hit {
  part: number;
  tu: number;
  tv: number;
  t: number;
}

export interface Prim {
  label: number;
  obj: number;
  box: [number, number, number, number];
  hit(u: number, v: number, out: Hit): boolean;
}

export interface Shadow {
  box: [number, number, number, number];
  /** Multiplier in (0, 1] at (u, v). */
  factor(u: number, v: number): number;
}

export interface Obj {
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

export interface Scene {
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
  /** The camera's exposure and white balance, multiplied into every sample. */
  cast: Vec3;
  seed: number;
}

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
export const uni = (rng: Rng, a: number, b: number): number => a + (b - a) * rng.next();
export const jitterColor = (rng: Rng, c: Vec3, amount: number): Vec3 => [
  clamp01(c[0] * (1 + uni(rng, -amount, amount))),
  clamp01(c[1] * (1 + uni(rng, -amount, amount))),
  clamp01(c[2] * (1 + uni(rng, -amount, amount))),
];

export class SceneBuilder {
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
