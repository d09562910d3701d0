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
 *
 * Scene composition lives in synth/compose.ts, rendering in synth/render.ts; this module writes datasets.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InFlight } from '../util/concurrency.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { checkNotRootOrHome, resolveInside } from '../util/paths.ts';
import { Rng } from '../util/rng.ts';
import { LABEL_BY_ID, colorizeLabelIds } from './cityscapes.ts';
import { type GrayImage, type RgbImage, writeImage, writeLabelImage } from './image.ts';
import { composeScene } from './synth/compose.ts';
import { rasterize, renderPhoto } from './synth/render.ts';
import { ID } from './synth/scene.ts';

/** Bump when the same arguments would produce different files. */
export const SYNTH_GENERATOR_VERSION = 3;

/** Every Cityscapes label id the generator can draw (ego vehicle is void: ignored in evaluation). */
export const SYNTH_LABEL_IDS: readonly number[] = Object.freeze(
  Object.values(ID)
    .slice()
    .sort((a, b) => a - b),
);

/**
 * Classes that are not in every scene; scene i is made to contain OPTIONAL[i % 10], so any 10
 * consecutive scenes (e.g. the start of the train split) cover every class.
 */
const OPTIONAL: readonly number[] = [ID.wall, ID.fence, ID.terrain, ID.trafficLight, ID.ego, ID.truck, ID.bus, ID.train, ID.motorcycle, ID.bicycle];

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
  const scene = composeScene(rng, 1 / size, OPTIONAL[index % OPTIONAL.length]);
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
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new UserError(`--out ${out} is a file, not a folder: name a new or empty folder`);
    throw new UserError(`--out ${out} cannot be used: ${errorMessage(e)}`);
  }
  if (entries.length === 0) return;
  if (!overwrite) throw new UserError(`--out ${out} is not empty; choose a new folder, or pass --force to replace a synthetic dataset there.`);
  let kind: unknown;
  try {
    kind = (JSON.parse(await fsp.readFile(path.join(out, 'dataset.json'), 'utf8')) as { kind?: unknown }).kind;
  } catch {
    kind = undefined;
  }
  const foreign = entries.filter((e) => !OUTPUT_ENTRIES.includes(e));
  if (kind !== 'synthetic' || foreign.length > 0) {
    throw new UserError(
      `--out ${out} is not empty and does not hold only a synthetic dataset${foreign.length ? ` (found ${foreign.slice(0, 3).join(', ')})` : ''}; refusing to overwrite it.`,
    );
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
  const inFlight = new InFlight();
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
      done++;
      opts.onProgress?.(done, count);
    });
    inFlight.add(job);
    await inFlight.atMost(3);
  }
  await inFlight.drain();

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
      return { id, name: l.name, trainId: l.trainId, pixels: { train: pixels.train[id], val: pixels.val[id], test: pixels.test[id] } };
    }),
  };
  await writeFileAtomic(await resolveInside(out, 'dataset.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
