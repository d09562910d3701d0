/**
 * Scene composition: a pinhole street (ground plane, road and sidewalks, facades and barriers as
 * vertical planes parallel to the street, a row of buildings closing it) and upright billboards
 * (cars, people, poles, trees) at inverse depth t (t = 1 at the bottom image row). One function per
 * element; each draws from the scene's Rng in a fixed order, so a scene is a pure function of its seed.
 */
import type { Rng } from '../../util/rng.ts';
import { valueNoise } from './noise.ts';
import { cameraCast, foliageColor, materialColor, paintColor, skinColor, terrainColor } from './appearance.ts';
import { ID, type Scene, SceneBuilder, type Vec3, jitterColor, pick, uni } from './scene.ts';

/** Upright objects are collected with their depth and drawn far to near. */
interface Billboard {
  t: number;
  draw: () => void;
}

/** The street's layout: camera, road, sidewalks, facades; shared by every element. */
interface Street {
  B: SceneBuilder;
  rng: Rng;
  /** Size of one output pixel in image units (keeps thin objects about a pixel wide). */
  pixel: number;
  /** A label id that must appear in this scene. */
  required: number | undefined;
  h: number;
  vx: number;
  /** Image units per metre at t = 1. */
  M: number;
  /** Metres of depth at t = 1. */
  Z1: number;
  xL: number;
  xR: number;
  curbL: number;
  curbR: number;
  facadeL: number;
  facadeR: number;
  terrainL: boolean;
  terrainR: boolean;
  tBack: number;
  zBack: number;
  tMin: number;
  sunSide: number;
  /** The side with more room in view (the vanishing point is away from it) shows forced classes best. */
  roomySide: number;
  billboards: Billboard[];
}

const vGround = (s: Street, t: number): number => s.h + (1 - s.h) * t;
const uAt = (s: Street, X: number, t: number): number => s.vx + X * s.M * t;
/** Largest t at which a point on the ground at lateral position X is still inside the image. */
const tVisible = (s: Street, X: number): number => (X < 0 ? (s.vx - 0.03) / (-X * s.M) : X > 0 ? (0.97 - s.vx) / (X * s.M) : Infinity);
const drawTAt = (s: Street, lo: number, hi: number): number => lo + (hi - lo) * s.rng.next() ** 1.6;

function layoutStreet(rng: Rng, pixel: number, required: number | undefined): Street {
  const B = new SceneBuilder(rng);
  const h = uni(rng, 0.34, 0.52);
  const vx = uni(rng, 0.3, 0.7);
  const camHeight = uni(rng, 2.4, 3.4);
  const M = (1 - h) / camHeight;
  const Z1 = 1 / (1.15 * M); // about a 60° field of view
  const roadW = uni(rng, 7, 13);
  const camX = uni(rng, -0.25, 0.25) * roadW;
  const xL = -roadW / 2 - camX;
  const xR = roadW / 2 - camX;
  const swL = uni(rng, 2, 4.5);
  const swR = uni(rng, 2, 4.5);
  const roomySide = vx > 0.5 ? -1 : 1;
  const terrainL = (required === ID.terrain && roomySide < 0) || rng.next() < 0.45;
  const terrainR = (required === ID.terrain && roomySide > 0) || rng.next() < 0.45;
  const gapL = terrainL ? uni(rng, 1.5, 5) : 0;
  const gapR = terrainR ? uni(rng, 1.5, 5) : 0;
  const curbL = xL - swL;
  const curbR = xR + swR;
  const tBack = uni(rng, 0.035, 0.09);
  const sunSide = rng.next() < 0.5 ? -1 : 1;
  return {
    B,
    rng,
    pixel,
    required,
    h,
    vx,
    M,
    Z1,
    xL,
    xR,
    curbL,
    curbR,
    facadeL: curbL - gapL,
    facadeR: curbR + gapR,
    terrainL,
    terrainR,
    tBack,
    zBack: Z1 / tBack,
    tMin: tBack * 1.4,
    sunSide,
    roomySide,
    billboards: [],
  };
}

interface Sky {
  weather: number;
  skyTop: Vec3;
  skyHorizon: Vec3;
}

function addSky(s: Street): Sky {
  const { B, rng, h } = s;

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
  return { weather, skyTop, skyHorizon };
}

/** Road, sidewalks and terrain strips on the ground plane (beyond the facades they are hidden anyway); returns the sidewalk tint. */
function addGround(s: Street): Vec3 {
  const { B, rng, h, vx, M, Z1, xL, xR, curbL, curbR, terrainL, terrainR } = s;

  const roadObj = B.obj('road', materialColor(rng));
  const sidewalkTint = materialColor(rng);
  const sidewalkObj = B.obj('sidewalk', sidewalkTint, { gridX: uni(rng, 0.3, 0.6) });
  const terrainObj = B.obj('terrain', terrainColor(rng), { c2: terrainColor(rng) });
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
  return sidewalkTint;
}

/** The row of buildings (and trees) closing the street at depth tBack. */
function addBackRow(s: Street): void {
  const { B, rng, vx, M, tBack, facadeL, facadeR } = s;
  const uFrom = uAt(s, facadeL, tBack) - 0.02;
  const uTo = uAt(s, facadeR, tBack) + 0.02;
  let X = (uFrom - vx) / (M * tBack);
  const XEnd = (uTo - vx) / (M * tBack);
  const vb = vGround(s, tBack);

  while (X < XEnd) {
    const w = uni(rng, 8, 22);
    const x0 = X;
    const x1 = X + w;
    X = x1;
    const isTrees = rng.next() < 0.2;
    const height = isTrees ? uni(rng, 6, 12) : uni(rng, 8, 40);
    const top = vb - height * M * tBack;
    const box: [number, number, number, number] = [uAt(s, x0, tBack), top - 0.02, uAt(s, x1, tBack), vb];
    if (isTrees) {
      const o = B.obj('tree', foliageColor(rng), { c2: [0.3, 0.22, 0.15] });
      const ns = B.objs[o].seed;
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
      const o = B.obj('building', materialColor(rng), {
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
function plane(s: Street, label: number, obj: number, Xp: number, zNear: number, zFar: number, height: (Z: number) => number, maxH: number): void {
  const { M, Z1, vx } = s;

  const tNear = Z1 / zNear;
  const tFar = Z1 / zFar;
  const us = [uAt(s, Xp, tNear), uAt(s, Xp, tFar)];
  const vs = [vGround(s, tNear), vGround(s, tFar), vGround(s, tNear) - maxH * M * tNear, vGround(s, tFar) - maxH * M * tFar];
  const box: [number, number, number, number] = [Math.min(...us), Math.min(...vs), Math.max(...us), Math.max(...vs)];
  s.B.add(label, obj, box, (u, v, out) => {
    const t = (u - vx) / (Xp * M);
    if (!(t >= tFar && t <= tNear)) return false;
    const Y = (vGround(s, t) - v) / (M * t);
    const Z = Z1 / t;
    if (Y < 0 || Y > height(Z)) return false;
    out.part = 1;
    out.tu = Z;
    out.tv = Y;
    out.t = t;
    return true;
  });
}

/** Facades along both sides, from the back row to behind the camera. */
function addFacades(s: Street): void {
  const { B, rng, Z1, zBack, sunSide, facadeL, facadeR } = s;

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
        const o = B.obj('tree', foliageColor(rng), { bright: lit * uni(rng, 0.9, 1.1) });
        const ns = B.objs[o].seed;
        plane(s, ID.vegetation, o, Xp, zNear, z, (Z) => height * (0.7 + 0.4 * valueNoise(Z * 0.5, 0, ns)), height * 1.1);
      } else {
        const height = uni(rng, 9, 38);
        const o = B.obj('building', materialColor(rng), {
          bright: lit * uni(rng, 0.88, 1.1),
          gridX: uni(rng, 2.5, 4.5),
          gridY: uni(rng, 2.8, 3.6),
          variant: rng.int(3),
        });
        plane(s, ID.building, o, Xp, zNear, z, () => height, height);
      }
      z = zNear;
    }
  }
}

/** Walls and fences on the outer sidewalk edges. */
function addBarriers(s: Street): void {
  const { B, rng, Z1, tBack, curbL, curbR, sunSide, required, roomySide } = s;

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
    const tFar = uni(rng, tBack * 1.2, Math.max(tBack * 1.3, Math.min(0.6, 0.8 * tVisible(s, Xp))));
    const zFar = Z1 / tFar;
    const zNear = Math.max(Z1 * 0.4, zFar - uni(rng, 8, 30));
    const lit = Math.sign(k) === sunSide ? 1.05 : 0.72;
    if (label === ID.wall) {
      const height = uni(rng, 1.2, 2.8);
      const o = B.obj('wall', materialColor(rng), { bright: lit * uni(rng, 0.9, 1.1) });
      plane(s, ID.wall, o, Xp, zNear, zFar, () => height, height);
    } else {
      const height = uni(rng, 1.0, 1.8);
      const o = B.obj('fence', rng.next() < 0.4 ? jitterColor(rng, [0.5, 0.36, 0.22], 0.15) : paintColor(rng), {
        bright: lit * uni(rng, 0.9, 1.1),
        gridX: uni(rng, 0.12, 0.25),
        gridY: uni(rng, 2, 3),
        variant: rng.int(2),
      });
      plane(s, ID.fence, o, Xp, zNear, zFar, () => height, height);
    }
  }
}

/** Shape in metres (lx from the object's centre line, ly above the ground) → part or 0. */
type Shape = (lx: number, ly: number, widen: number) => number;

function upright(s: Street, label: number, obj: number, X: number, t: number, halfW: number, H: number, minPx: number, shape: Shape): void {
  const { pixel } = s;

  const sc = s.M * t; // image units per metre here
  // Thin shapes are widened to about a pixel so they survive at small sizes.
  const widen = Math.max(1, (minPx * pixel) / (2 * halfW * sc));
  const uc = uAt(s, X, t);
  const vg = vGround(s, t);
  const box: [number, number, number, number] = [uc - halfW * sc * widen - pixel, vg - H * sc - pixel, uc + halfW * sc * widen + pixel, vg + pixel];
  s.B.add(label, obj, box, (u, v, out) => {
    const lx = (u - uc) / (sc * widen);
    const ly = (vg - v) / sc;
    const part = shape(lx, ly, widen);
    if (part === 0) return false;
    out.part = part;
    out.tu = lx;
    out.tv = ly;
    out.t = t;
    return true;
  });
}

function shadowAt(s: Street, X: number, t: number, halfW: number, depth: number, strength: number): void {
  const { h, pixel } = s;
  const sc = s.M * t;
  const uc = uAt(s, X, t);
  const vg = vGround(s, t);
  const ru = halfW * sc * 1.15;
  const rv = Math.max(depth * sc * (1 - h) * 0.12, pixel);
  s.B.shadows.push({
    box: [uc - ru, vg - rv, uc + ru, vg + rv],
    factor: (u, v) => {
      const d = ((u - uc) / ru) ** 2 + ((v - vg) / rv) ** 2;
      return d >= 1 ? 1 : 1 - strength * (1 - d * d);
    },
  });
}

/** Cars on the road. */
function addCars(s: Street): void {
  const { B, rng, xL, xR, tMin, billboards } = s;

  const nCars = 1 + rng.int(5);
  for (let i = 0; i < nCars; i++) {
    const width = uni(rng, 1.7, 1.95);
    const X = uni(rng, xL + width / 2 + 0.3, xR - width / 2 - 0.3);
    const t = drawTAt(s, tMin, Math.max(tMin, Math.min(0.95, tVisible(s, X))));
    const tall = rng.next() < 0.25; // vans/SUVs
    const bodyTop = tall ? uni(rng, 1.1, 1.4) : uni(rng, 0.85, 1.0);
    const roof = bodyTop + (tall ? uni(rng, 0.4, 0.6) : uni(rng, 0.4, 0.55));
    const body = paintColor(rng);
    const o = B.obj('car', body, { c2: [0.1, 0.12, 0.15], c3: [0.75, 0.08, 0.06] });
    const hw = width / 2;
    billboards.push({
      t,
      draw: () => {
        shadowAt(s, X, t, hw, 2.0, 0.55);
        upright(s, ID.car, o, X, t, hw, roof, 3, (lx, ly) => {
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
}

/** Rear view of a truck (cargo box), bus or tram: the heavy vehicles (Cityscapes truck, bus, train). */
const HEAVY: readonly { label: number; kind: string; width: [number, number]; height: [number, number] }[] = [
  {
    label: ID.truck,
    kind: 'truck',
    width: [2.3, 2.5],
    height: [3.0, 3.8],
  },
  {
    label: ID.bus,
    kind: 'bus',
    width: [2.45, 2.55],
    height: [2.9, 3.3],
  },
  {
    label: ID.train,
    kind: 'train',
    width: [2.3, 2.65],
    height: [3.3, 3.7],
  },
];

function heavyShape(label: number, hw: number, H: number): Shape {
  return (lx, ly) => {
    const ax = Math.abs(lx);
    if (ly < 0 || ly > H || ax > hw) return 0;
    if (label === ID.train) {
      if (ly < 0.35) return ax < hw - 0.1 ? 3 : 0; // bogie
      if (ly > H - 0.3) return ax < 0.5 ? 3 : 0; // roof equipment
      if (ly > 1.4 && ly < 2.6 && ax < hw - 0.15) return 2; // windscreen
      if (ly > 0.8 && ly < 0.95 && ax > hw - 0.35) return 4; // lights
      return 1;
    }
    if (ly < 0.5) return ax > hw - 0.5 ? 3 : 0; // wheels, road between them
    if (label === ID.bus) {
      if (ly > 1.9 && ly < H - 0.35 && ax < hw - 0.2) return 2; // rear window
      if (ly > H - 0.3 && ly < H - 0.08 && ax < 0.6) return 5; // destination display
      if (ly > 0.6 && ly < 0.9 && ax > hw - 0.25) return 4;
      return 1;
    }
    if (ly < 0.9) return ax < hw - 0.1 ? 3 : 0; // chassis and underride bar
    if (ax < 0.03) return 2; // cargo door seam
    if (ly > 0.95 && ly < 1.15 && ax > hw - 0.25) return 4;
    return 1;
  };
}

/** Trucks, buses and trams on the road (none in most scenes; the required one when asked). */
function addHeavyVehicles(s: Street): void {
  const { B, rng, xL, xR, tMin, billboards, required } = s;
  const kinds = HEAVY.filter((k) => k.label === required);
  if (rng.next() < 0.35) kinds.push(pick(rng, HEAVY));
  for (const k of kinds) {
    const width = uni(rng, ...k.width);
    const H = uni(rng, ...k.height);
    const X = k.label === ID.train ? (xL + xR) / 2 + uni(rng, -0.3, 0.3) : uni(rng, xL + width / 2 + 0.2, Math.max(xL + width / 2 + 0.2, xR - width / 2 - 0.2));
    const t = drawTAt(s, tMin, Math.max(tMin, Math.min(0.7, tVisible(s, X))));
    const o = B.obj(k.kind, paintColor(rng), { c2: [0.1, 0.12, 0.15], c3: [0.8, 0.1, 0.06] });
    const hw = width / 2;
    billboards.push({
      t,
      draw: () => {
        shadowAt(s, X, t, hw, 3.0, 0.55);
        upright(s, k.label, o, X, t, hw, H, 3, heavyShape(k.label, hw, H));
      },
    });
  }
}

/** Distance from (x, y) to the segment (x0, y0)–(x1, y1). */
function segDist(x: number, y: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const k = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - x0 - k * dx, y - y0 - k * dy);
}

/** A bicycle or motorcycle from the side, facing +lx; parts: 1 frame/body, 2 tyres, 3 seat and lamp. */
function twoWheelerShape(motor: boolean): Shape {
  return (lx, ly) => {
    if (motor) {
      for (const wx of [-0.7, 0.7]) if (Math.hypot(lx - wx, ly - 0.3) < 0.3) return 2;
      if (((lx - 0.02) / 0.62) ** 2 + ((ly - 0.65) / 0.24) ** 2 < 1) return 1;
      if (ly > 0.84 && ly < 0.95 && lx > -0.5 && lx < 0.1) return 3;
      return segDist(lx, ly, 0.45, 0.8, 0.62, 1.05) < 0.05 || segDist(lx, ly, 0.7, 0.3, 0.5, 0.85) < 0.05 ? 1 : 0;
    }
    for (const wx of [-0.52, 0.52]) if (Math.abs(Math.hypot(lx - wx, ly - 0.35) - 0.32) < 0.045) return 2;
    const tubes: [number, number, number, number][] = [
      [-0.1, 0.35, -0.2, 0.88],
      [-0.2, 0.85, 0.35, 0.85],
      [-0.1, 0.35, 0.35, 0.85],
      [-0.1, 0.35, -0.52, 0.35],
      [-0.2, 0.85, -0.52, 0.35],
      [0.35, 0.85, 0.52, 0.35],
      [0.35, 0.85, 0.3, 1.02],
    ];
    if (tubes.some(([x0, y0, x1, y1]) => segDist(lx, ly, x0, y0, x1, y1) < 0.035)) return 1;
    return ly > 0.88 && ly < 0.93 && lx > -0.3 && lx < -0.08 ? 3 : 0;
  };
}

/** A rider astride a two-wheeler, facing +lx; parts as a person's (1 skin, 2 top, 3 legs) plus 4 helmet. */
function riderShape(motor: boolean): Shape {
  const hip: [number, number] = motor ? [-0.2, 0.95] : [-0.2, 0.95];
  const shoulder: [number, number] = [hip[0] + 0.2, hip[1] + 0.55];
  const bar: [number, number] = motor ? [0.55, 1.05] : [0.3, 1.02];
  return (lx, ly) => {
    if (Math.hypot(lx - shoulder[0] - 0.04, ly - shoulder[1] - 0.17) < (motor ? 0.15 : 0.11)) return motor ? 4 : 1;
    if (segDist(lx, ly, hip[0], hip[1], shoulder[0], shoulder[1]) < 0.14) return 2;
    if (segDist(lx, ly, shoulder[0], shoulder[1], bar[0], bar[1]) < 0.05) return 2;
    const knee: [number, number] = [hip[0] + 0.38, hip[1] - 0.2];
    if (segDist(lx, ly, hip[0], hip[1], knee[0], knee[1]) < 0.08 || segDist(lx, ly, knee[0], knee[1], knee[0] - 0.12, 0.3) < 0.06) return 3;
    return 0;
  };
}

/** Bicycles and motorcycles seen from the side: ridden across the road (with a rider) or parked on the sidewalk. */
function addTwoWheelers(s: Street): void {
  const { B, rng, xL, xR, curbL, curbR, tMin, billboards, required } = s;
  const n = (required === ID.bicycle || required === ID.motorcycle || required === ID.rider ? 1 : 0) + (rng.next() < 0.4 ? 1 + rng.int(2) : 0);
  for (let i = 0; i < n; i++) {
    const motor = i === 0 && required === ID.motorcycle ? true : i === 0 && required === ID.bicycle ? false : rng.next() < 0.4;
    const parked = i > 0 && !motor && rng.next() < 0.3;
    const left = rng.next() < 0.5;
    const X = parked ? (left ? uni(rng, curbL + 0.9, xL - 0.9) : uni(rng, xR + 0.9, curbR - 0.9)) : uni(rng, xL + 1, xR - 1);
    // Near the camera (a two-wheeler far away is a few pixels), in front of most cars.
    // The required one nearer still, so that cars rarely hide it.
    const near = i === 0 && n > 0 && (required === ID.bicycle || required === ID.motorcycle || required === ID.rider) ? 0.55 : 0.25;
    const t = uni(rng, Math.max(tMin, near), Math.max(tMin, near, Math.min(0.8, tVisible(s, X))));
    const body = B.obj(motor ? 'motorcycle' : 'bicycle', paintColor(rng), { c2: [0.06, 0.06, 0.07], c3: [0.8, 0.08, 0.06] });
    const rider = parked ? -1 : B.obj('rider', skinColor(rng), { c2: paintColor(rng), c3: paintColor(rng) });
    const hw = motor ? 1.05 : 0.9;
    const dir = rng.next() < 0.5 ? -1 : 1;
    const flip =
      (shape: Shape): Shape =>
      (lx, ly, w) =>
        shape(dir * lx, ly, w);
    billboards.push({
      t,
      draw: () => {
        shadowAt(s, X, t, hw, 0.8, 0.35);
        upright(s, motor ? ID.motorcycle : ID.bicycle, body, X, t, hw, 1.1, 1, flip(twoWheelerShape(motor)));
        if (rider >= 0) upright(s, ID.rider, rider, X, t, hw, 1.9, 1, flip(riderShape(motor)));
      },
    });
  }
}

/** People on the sidewalks. */
function addPeople(s: Street): void {
  const { B, rng, xL, xR, curbL, curbR, tMin, billboards } = s;

  const nPeople = 1 + rng.int(4);
  for (let i = 0; i < nPeople; i++) {
    const left = rng.next() < 0.5;
    const X = left ? uni(rng, curbL + 0.4, xL - 0.5) : uni(rng, xR + 0.5, curbR - 0.4);
    const t = drawTAt(s, tMin, Math.max(tMin, Math.min(0.9, tVisible(s, X))));
    const H = uni(rng, 1.55, 1.92);
    const stride = uni(rng, 0, 0.16);
    const o = B.obj('person', skinColor(rng), { c2: paintColor(rng), c3: paintColor(rng) });
    billboards.push({
      t,
      draw: () => {
        shadowAt(s, X, t, 0.3, 0.6, 0.4);
        upright(s, ID.person, o, X, t, 0.28, H, 2, (lx, ly) => {
          const ax = Math.abs(lx);
          const headR = (0.115 * H) / 1.75;
          const headY = H - headR;
          if (lx * lx + (ly - headY) ** 2 <= headR * headR) return 1;
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
}

/** Poles with signs or traffic lights near the kerb. */
function addPoles(s: Street): void {
  const { B, rng, xL, xR, tMin, required, billboards } = s;

  const nPoles = 2 + rng.int(4);
  for (let i = 0; i < nPoles; i++) {
    const left = rng.next() < 0.5;
    const X = left ? xL - uni(rng, 0.3, 0.8) : xR + uni(rng, 0.3, 0.8);
    const t = drawTAt(s, tMin, Math.max(tMin, Math.min(0.75, tVisible(s, X))));
    const H = uni(rng, 3.2, 5.2);
    const light = (i === 0 && required === ID.trafficLight) || rng.next() < 0.3;
    const r = uni(rng, 0.05, 0.09);
    const poleObj = B.obj('pole', jitterColor(rng, [0.5, 0.52, 0.54], 0.12));
    billboards.push({
      t,
      draw: () => upright(s, ID.pole, poleObj, X, t, r, H, 1.2, (lx, ly) => (ly >= 0 && ly <= H && Math.abs(lx) <= r ? 1 : 0)),
    });
    if (light) {
      const o = B.obj('light', [0.12, 0.12, 0.13], { variant: rng.int(3) });
      const bw = 0.18;
      const bh = 0.45;
      billboards.push({
        t: t + 1e-6,
        draw: () =>
          upright(s, ID.trafficLight, o, X, t, bw, H + bh * 2, 2, (lx, ly) => {
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
          upright(s, ID.trafficSign, o, X, t, sr, cy + sr, 2.5, (lx, ly, widen) => {
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
}

/** Street trees at the outer edge of the sidewalks, or else a hedge (every scene has vegetation). */
function addStreetTrees(s: Street): void {
  const { B, rng, Z1, zBack, curbL, curbR, billboards } = s;

  const treeSides = [-1, 1].filter(() => rng.next() < 0.55);
  for (const side of treeSides) {
    const X = side < 0 ? curbL + 0.7 : curbR - 0.7;
    const spacing = uni(rng, 7, 14);
    for (let z = uni(rng, Z1 * 0.9, Z1 * 0.9 + spacing); z < zBack * 0.8; z += spacing * uni(rng, 0.8, 1.25)) {
      if (rng.next() < 0.2) continue;
      const t = Z1 / z;
      const trunkH = uni(rng, 1.8, 3.2);
      const R = uni(rng, 1.4, 2.8);
      const o = B.obj('tree', foliageColor(rng), { c2: [0.28, 0.2, 0.13] });
      const ns = B.objs[o].seed;
      const cy = trunkH + R * 0.75;
      billboards.push({
        t,
        draw: () =>
          upright(s, ID.vegetation, o, X, t, R * 1.2, cy + R * 1.2, 1, (lx, ly) => {
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
    const o = B.obj('hedge', foliageColor(rng));
    const ns = B.objs[o].seed;
    billboards.push({
      t: Z1 / zFar,
      draw: () => plane(s, ID.vegetation, o, Xp, zNear, zFar, (Z) => height * (0.85 + 0.3 * valueNoise(Z * 1.5, 1, ns)), height * 1.2),
    });
  }
}

/** The camera car's bonnet (void "ego vehicle" in Cityscapes). */
function addEgo(s: Street): void {
  const { B, rng, required } = s;

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
}

/**
 * Compose one scene. `required` is a label id that must appear; `pixel` is the size of one output
 * pixel in image units, used to keep thin objects at least about a pixel wide.
 */
export function composeScene(rng: Rng, pixel: number, required: number | undefined): Scene {
  const s = layoutStreet(rng, pixel, required);
  const sky = addSky(s);
  const sidewalkTint = addGround(s);
  addBackRow(s);
  addFacades(s);
  addBarriers(s);
  addCars(s);
  addHeavyVehicles(s);
  addTwoWheelers(s);
  addPeople(s);
  addPoles(s);
  addStreetTrees(s);
  s.billboards.sort((a, b) => a.t - b.t);
  for (const b of s.billboards) b.draw();
  addEgo(s);
  const { B, h, vx, sunSide, xL, xR } = s;
  const { weather, skyTop, skyHorizon } = sky;

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
    cast: cameraCast(rng),
    seed: rng.nextUint32(),
  };
}
