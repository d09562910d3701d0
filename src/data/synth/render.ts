/**
 * Rendering of a composed scene: rasterisation (primitives painted in order at sample centres) and
 * the photo's shading, one shader per class (SHADERS), with textures in world units, lighting, haze,
 * anti-aliasing and sensor noise. The label map is the rasterised labels alone.
 */
import type { Rng } from '../../util/rng.ts';
import { isBrickLike } from './appearance.ts';
import { clamp01, fbm, frac, hash3, valueNoise } from './noise.ts';
import { type Hit, ID, type Obj, type Scene, type Vec3 } from './scene.ts';

export interface Raster {
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
export function rasterize(scene: Scene, n: number, withTexture: boolean): Raster {
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
          if (l === ID.road || l === ID.sidewalk || l === ID.terrain) r.shade[k] *= s.factor((i + 0.5) / n, (j + 0.5) / n);
        }
      }
    }
  }
  return r;
}

/** One sample as a shader sees it. */
interface Sample {
  scene: Scene;
  o: Obj;
  part: number;
  /** Texture coordinates (metres for world-textured surfaces) and the image position. */
  tu: number;
  tv: number;
  u: number;
  v: number;
}

/**
 * Sets `out` to the sample's base colour (it arrives holding the object's c1) and returns the
 * brightness multiplier; or returns undefined when `out` already holds the final colour (sky).
 */
type Shader = (s: Sample, out: Vec3) => number | undefined;

const set = (out: Vec3, r: number, g: number, b: number): void => {
  out[0] = r;
  out[1] = g;
  out[2] = b;
};

const shadeSky: Shader = ({ scene, u, v }, out) => {
  const g = clamp01(v / scene.h);
  const cloud = clamp01((fbm(u * 5, v * 9, scene.seed) - (1 - scene.cloudiness)) * 3);
  for (let i = 0; i < 3; i++) out[i] = scene.skyTop[i] + (scene.skyHorizon[i] - scene.skyTop[i]) * g ** 1.5;
  for (let i = 0; i < 3; i++) out[i] = out[i] + (0.93 - out[i]) * cloud * 0.8;
  return undefined;
};

const shadeRoad: Shader = ({ scene, o, tu, tv }, out) => {
  const { lane, dash, edgeLines, xL, xR } = scene.road;
  const Z = tv;
  const onDash = Math.abs(tu - lane) < 0.08 && frac(Z / (dash * 2)) < 0.5;
  const onEdge = edgeLines && (Math.abs(tu - (xL + 0.35)) < 0.07 || Math.abs(tu - (xR - 0.35)) < 0.07);
  if (onDash || onEdge) {
    set(out, 0.82, 0.82, 0.78);
    return 0.9 + 0.1 * valueNoise(tu * 8, Z * 8, o.seed);
  }
  // Asphalt grain and wear; a brick-like material is a cobbled street with joints.
  if (isBrickLike(o.c1) && (frac(tu / 0.22) < 0.15 || frac(Z / 0.14 + (Math.floor(tu / 0.22) % 2) * 0.5) < 0.15)) return 0.62;
  const grain = hash3(Math.floor(tu * 6), Math.floor(Z * 6), o.seed) - 0.5;
  const patch = fbm(tu * 0.4, Z * 0.15, o.seed + 7);
  return 0.82 + 0.3 * patch + 0.3 * grain;
};

const shadeSidewalk: Shader = ({ o, part, tu, tv }, out) => {
  if (part === 2) {
    set(out, 0.7, 0.69, 0.66); // the kerb stone
    return 0.95;
  }
  const tile = o.gridX;
  const gx = frac(tu / tile);
  const gz = frac(tv / tile);
  const grout = gx < 0.08 || gz < 0.08;
  const cellShade = hash3(Math.floor(tu / tile), Math.floor(tv / tile), o.seed);
  let m = grout ? 0.6 : 0.92 + 0.16 * cellShade;
  m *= 0.9 + 0.2 * fbm(tu * 0.3, tv * 0.3, o.seed + 3);
  return m;
};

const shadeTerrain: Shader = ({ o, tu, tv }, out) => {
  const n = fbm(tu * 0.5, tv * 0.5, o.seed);
  const blade = valueNoise(tu * 10, tv * 3, o.seed + 11);
  const tuft = hash3(Math.floor(tu * 6), Math.floor(tv * 2), o.seed + 13) - 0.5;
  set(out, o.c1[0] + (o.c2[0] - o.c1[0]) * n * 0.7, o.c1[1] + (o.c2[1] - o.c1[1]) * n * 0.7, o.c1[2] + (o.c2[2] - o.c1[2]) * n * 0.7);
  return 0.9 + 0.15 * blade + 0.35 * tuft;
};

/** tu: metres along the facade, tv: metres above ground. */
const shadeBuilding: Shader = ({ o, tu, tv }, out) => {
  const col = Math.floor(tu / o.gridX);
  const floor = Math.floor(tv / o.gridY);
  const fx = frac(tu / o.gridX);
  const fy = frac(tv / o.gridY);
  const ground = tv < o.gridY * 1.1;
  const winW = o.variant === 2 ? 0.7 : 0.5;
  const isWindow = ground ? fx > 0.12 && fx < 0.88 && fy > 0.2 && fy < 0.85 && o.variant !== 1 : Math.abs(fx - 0.5) < winW / 2 && fy > 0.3 && fy < 0.78;
  if (isWindow) {
    const lit = hash3(col, floor, o.seed);
    if (lit > 0.85) set(out, 0.62, 0.6, 0.5);
    else set(out, 0.13 + 0.12 * lit, 0.16 + 0.12 * lit, 0.22 + 0.12 * lit);
    return 1 - 0.3 * (fy - 0.3); // sky reflection fades downwards
  }
  const sill = !ground && Math.abs(fx - 0.5) < winW / 2 + 0.05 && fy > 0.24 && fy < 0.3;
  let m = sill ? 1.15 : 0.92 + 0.14 * fbm(tu * 0.7, tv * 0.7, o.seed);
  if (isBrickLike(o.c1)) m *= frac(tv / 0.25) < 0.15 ? 0.8 : 1; // brick courses
  return m;
};

const shadeWall: Shader = ({ o, tu, tv }) => {
  const blockY = frac(tv / 0.5) < 0.06;
  const blockZ = frac(tu / 1.0 + (Math.floor(tv / 0.5) % 2) * 0.5) < 0.03;
  const stain = fbm(tu * 0.4, tv * 1.2, o.seed);
  return (blockY || blockZ ? 0.8 : 1) * (0.85 + 0.25 * stain);
};

const shadeFence: Shader = ({ o, tu, tv }, out) => {
  const post = frac(tu / o.gridY) < 0.05;
  const slat = frac(tu / o.gridX) < (o.variant === 0 ? 0.55 : 0.3);
  const rail = Math.abs(tv - 0.25) < 0.06 || Math.abs(tv - (o.variant === 0 ? 0.9 : 1.0)) < 0.06;
  if (post || slat || rail) return post ? 0.8 : 1.0;
  set(out, 0.16, 0.2, 0.14); // greenery seen through the gaps
  return 1;
};

const shadePole: Shader = ({ scene, tu }) => 0.65 + 0.55 * Math.max(0, 1 - Math.abs(tu / 0.08 - 0.3 * scene.sunSide));

const shadeSign: Shader = ({ o, part }, out) => {
  if (part === 2) set(out, ...o.c2);
  return 1.05;
};

const shadeTrafficLight: Shader = ({ o, part }, out) => {
  if (part >= 2) {
    const lamp = part - 2; // 0 bottom (green), 1 amber, 2 top (red)
    const k = lamp === o.variant ? 1 : 0.25;
    if (lamp === 0) set(out, 0.2 * k, 0.9 * k, 0.45 * k);
    else if (lamp === 1) set(out, 0.95 * k, 0.65 * k, 0.1 * k);
    else set(out, 0.95 * k, 0.15 * k, 0.1 * k);
  }
  return 1;
};

const shadeVegetation: Shader = ({ o, part, tu, tv }, out) => {
  if (part === 2) {
    set(out, ...o.c2); // trunk
    return 0.9 + 0.2 * valueNoise(tv * 6, tu * 30, o.seed);
  }
  const leaf = hash3(Math.floor(tu * 7), Math.floor(tv * 7), o.seed);
  const cluster = fbm(tu * 1.3, tv * 1.3, o.seed + 5);
  let m = 0.55 + 0.55 * cluster + 0.35 * (leaf - 0.5);
  m *= 0.85 + 0.3 * clamp01(tv / 6); // lit from above
  return m;
};

const shadePerson: Shader = ({ scene, o, part, tu }, out) => {
  set(out, ...(part === 1 ? o.c1 : part === 2 ? o.c2 : o.c3));
  return 0.9 + 0.15 * Math.max(0, -tu * scene.sunSide * 3);
};

const shadeCar: Shader = ({ o, part, tu, tv }, out) => {
  if (part === 1) return 0.75 + 0.35 * clamp01(tv / 1.2) + (Math.abs(tv - 0.62) < 0.04 ? 0.15 : 0);
  if (part === 2) {
    set(out, 0.12, 0.14, 0.17); // rear window
    return 0.8 + 0.9 * clamp01((tv - tu * 0.3) % 1) * 0.4;
  }
  if (part === 3) set(out, 0.05, 0.05, 0.05);
  else if (part === 4) set(out, ...o.c3);
  else if (part === 5) set(out, 0.9, 0.9, 0.88);
  return 1;
};

/** Trucks and buses share wheels (3) and lights (4); part 2 is the truck's door seam or the bus's rear window, 5 the bus's display. */
const shadeHeavy: Shader = ({ o, part, tu, tv }, out) => {
  if (part === 1) return 0.78 + 0.3 * clamp01(tv / 3) + (frac(tv / 0.6) < 0.04 ? -0.12 : 0);
  if (part === 2) {
    set(out, 0.12, 0.14, 0.17);
    return 0.8 + 0.5 * clamp01((tv - tu * 0.3) % 1) * 0.4;
  }
  if (part === 3) set(out, 0.05, 0.05, 0.05);
  else if (part === 4) set(out, ...o.c3);
  else if (part === 5) set(out, 1.0, 0.6, 0.1);
  return 1;
};

/** Trams: a body with a dark band, a large windscreen (2), dark bogie and roof gear (3), head lights (4). */
const shadeTrain: Shader = ({ part, tu, tv }, out) => {
  if (part === 1) {
    if (tv > 1.0 && tv < 1.2) set(out, 0.3, 0.3, 0.32);
    return 0.85 + 0.2 * clamp01(tv / 3);
  }
  if (part === 2) {
    set(out, 0.1, 0.13, 0.16);
    return 0.9 + 0.6 * clamp01(((tv - tu * 0.5) % 1.2) / 1.2) * 0.4;
  }
  if (part === 3) set(out, 0.08, 0.08, 0.09);
  else if (part === 4) set(out, 0.95, 0.95, 0.8);
  return 1;
};

/** Bicycles and motorcycles: painted frame/body (1), black tyres (2), red tail light (3). */
const shadeTwoWheeler: Shader = ({ o, part, tv }, out) => {
  if (part === 2) set(out, 0.05, 0.05, 0.05);
  else if (part === 3) set(out, ...o.c3);
  return part === 1 ? 0.85 + 0.25 * clamp01(tv) : 1;
};

/** Riders: skin (1), top (2), trousers (3), helmet (4). */
const shadeRider: Shader = ({ scene, o, part, tu }, out) => {
  if (part === 4) set(out, 0.85 * o.c2[0] + 0.1, 0.85 * o.c2[1] + 0.1, 0.85 * o.c2[2] + 0.1);
  else set(out, ...(part === 1 ? o.c1 : part === 2 ? o.c2 : o.c3));
  return 0.92 + 0.15 * Math.max(0, -tu * scene.sunSide * 3);
};

const shadeEgo: Shader = ({ u, tv }) => 1 + 2.5 * (1 - tv) ** 4 * (0.5 + 0.5 * Math.cos((u - 0.5) * 5)); // sky reflected near the edge

/** The photo's shader per label id; a class without one is its object colour. */
const SHADERS: ReadonlyMap<number, Shader> = new Map([
  [ID.sky, shadeSky],
  [ID.road, shadeRoad],
  [ID.sidewalk, shadeSidewalk],
  [ID.terrain, shadeTerrain],
  [ID.building, shadeBuilding],
  [ID.wall, shadeWall],
  [ID.fence, shadeFence],
  [ID.pole, shadePole],
  [ID.trafficSign, shadeSign],
  [ID.trafficLight, shadeTrafficLight],
  [ID.vegetation, shadeVegetation],
  [ID.person, shadePerson],
  [ID.car, shadeCar],
  [ID.truck, shadeHeavy],
  [ID.bus, shadeHeavy],
  [ID.train, shadeTrain],
  [ID.motorcycle, shadeTwoWheeler],
  [ID.bicycle, shadeTwoWheeler],
  [ID.rider, shadeRider],
  [ID.ego, shadeEgo],
]);

/** Colour of one sample before lighting and haze (components roughly in [0, 1]). */
function shadeSample(scene: Scene, r: Raster, k: number, u: number, v: number, out: Vec3): void {
  const o = scene.objs[r.obj[k]];
  set(out, o.c1[0], o.c1[1], o.c1[2]);
  const shader = SHADERS.get(r.label[k]);
  const m = shader ? shader({ scene, o, part: r.part[k], tu: r.tu[k], tv: r.tv[k], u, v }, out) : 1;
  if (m === undefined) return;
  const b = m * o.bright;
  out[0] = out[0] * b;
  out[1] = out[1] * b;
  out[2] = out[2] * b;
}

/** The scene as a photo at n = size·ss samples per side, box-filtered down to `size` (anti-aliasing). */
export function renderPhoto(scene: Scene, size: number, ss: number, noiseRng: Rng): Uint8Array {
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
      const label = r.label[k];
      if (label !== ID.sky) {
        const light = 1 + 0.18 * scene.sunSide * (u - 0.5) * 2;
        const s = r.shade[k] * light;
        const t = r.depth[k];
        // Distant things fade towards the horizon colour (aerial perspective).
        const hz = scene.haze * clamp01(1 - t / 0.3) ** 2;
        for (let c = 0; c < 3; c++) col[c] = col[c] * s * (1 - hz) + hazeColor[c] * hz;
      }
      const o = (Math.floor(j / ss) * size + Math.floor(i / ss)) * 3;
      acc[o] = acc[o] + col[0] * scene.cast[0];
      acc[o + 1] = acc[o + 1] + col[1] * scene.cast[1];
      acc[o + 2] = acc[o + 2] + col[2] * scene.cast[2];
    }
  }
  const out = new Uint8Array(size * size * 3);
  const inv = 1 / (ss * ss);
  for (let p = 0; p < size * size; p++) {
    // Sensor-like noise: shared luminance part plus a little per channel.
    const lum = noiseRng.normal() * scene.noiseSigma;
    for (let c = 0; c < 3; c++) {
      const x = acc[p * 3 + c] * inv + lum + noiseRng.normal() * scene.noiseSigma * 0.4;
      out[p * 3 + c] = Math.round(255 * clamp01(x));
    }
  }
  return out;
}
