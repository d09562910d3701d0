/**
 * Paired image datasets (docs/reference.md#data): aligned "AB" files (A = left half, B = right half) or paired
 * A/B folders, with the reference's training-time jitter (resize to loadSize, shared random crop
 * and horizontal flip) and test-time preprocessing (resize to cropSize).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { mapBounded } from '../util/concurrency.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { type RgbImage, IMAGE_EXTENSIONS, listImages, probeImage, readImage, resizeRgb, toUnitRange } from './image.ts';

export type Direction = 'AtoB' | 'BtoA';

/**
 * `aligned`: DIR/<split>/x.png holds A|B side by side. `paired-split-first`: DIR/<split>/A/x + DIR/<split>/B/x.
 * `paired-ab-first`: DIR/A/<split>/x + DIR/B/<split>/x (the input layout of combine_A_and_B).
 */
export type DatasetLayout = 'aligned' | 'paired-split-first' | 'paired-ab-first';

/**
 * `resize_and_crop` (the reference default): resize both halves to loadSize² (or cropSize² at test
 * time), then crop. `crop`: no resize; crop cropSize² out of the image at its own size (random when
 * jittering, centred otherwise), so images must be at least cropSize on each side.
 */
export type Preprocess = 'resize_and_crop' | 'crop';

export interface LoadOptions {
  direction: Direction;
  loadSize: number;
  cropSize: number;
  /** Training-time random crop and flip; false = test-time (deterministic, no rng needed). */
  jitter: boolean;
  /** Required when jitter is true. Exactly three numbers are drawn per call, at call time. */
  rng?: Rng;
  /** Random horizontal flip while jittering (default true; the reference's --no_flip sets false). */
  flip?: boolean;
  preprocess?: Preprocess;
}

/** One example: HWC float32 in [−1, 1], size×size×3 each. */
export interface Pair {
  name: string;
  input: Float32Array;
  target: Float32Array;
  size: number;
}

/** The same example as 8-bit images (input/target already in `direction` order). */
export interface RgbPair {
  name: string;
  input: RgbImage;
  target: RgbImage;
}

export interface OpenOptions {
  /** Skip files whose headers cannot be read (and pairs whose A and B sizes differ), with a warning line each, instead of failing. */
  skipBad?: boolean;
  /** Keep decoded, resized 8-bit pairs in memory up to this many bytes (default 0 = no cache). */
  cacheBytes?: number;
  /** Where warnings go (default: a line on stderr). */
  warn?: (line: string) => void;
}

export interface PairedDataset {
  readonly root: string;
  readonly split: string;
  readonly layout: DatasetLayout;
  readonly size: number;
  /** Relative path of each example (the AB file, or the shared A/B file name), sorted. */
  readonly names: string[];
  /** Files skipped at open time (skipBad), as "path: reason". */
  readonly skipped: readonly string[];
  loadPair(index: number, opts: LoadOptions): Promise<Pair>;
  loadPairRgb(index: number, opts: LoadOptions): Promise<RgbPair>;
  /** Bytes currently held by the decoded-pair cache. */
  cachedBytes(): number;
}

interface Entry {
  name: string;
  /** The AB file (aligned) or the A file (paired). */
  fileA: string;
  /** The B file (paired layouts only). */
  fileB?: string;
}

/** Split an aligned AB image at w/2: A = columns [0, floor(w/2)), B = the rest (docs/reference.md#data). */
export function splitAB(img: RgbImage): { a: RgbImage; b: RgbImage } {
  const w2 = Math.floor(img.width / 2);
  return { a: cropRgb(img, 0, 0, w2, img.height), b: cropRgb(img, w2, 0, img.width - w2, img.height) };
}

/** Copy the rectangle [x, x+w) × [y, y+h) out of `img`. */
function cropRgb(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  if (x < 0 || y < 0 || w < 0 || h < 0 || x + w > img.width || y + h > img.height) {
    throw new Error(`crop ${w}×${h}+${x}+${y} is outside a ${img.width}×${img.height} image`);
  }
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * img.width + x) * 3;
    out.set(img.data.subarray(src, src + w * 3), r * w * 3);
  }
  return { width: w, height: h, data: out };
}

/** Crop a size×size square at (x, y), mirrored left-right when `flip`. */
export function cropAndFlip(img: RgbImage, x: number, y: number, size: number, flip: boolean): RgbImage {
  const c = cropRgb(img, x, y, size, size);
  if (!flip) return c;
  const out = new Uint8Array(c.data.length);
  for (let r = 0; r < size; r++) {
    for (let col = 0; col < size; col++) {
      const s = (r * size + col) * 3;
      const d = (r * size + (size - 1 - col)) * 3;
      out[d] = c.data[s];
      out[d + 1] = c.data[s + 1];
      out[d + 2] = c.data[s + 2];
    }
  }
  return { width: size, height: size, data: out };
}

/**
 * The random parameters of one jittered example, drawn in a fixed order (x, y, flip) so that a
 * given Rng state always yields the same crop and flip. Offsets are uniform in [0, range].
 */
export interface JitterDraw {
  ux: number;
  uy: number;
  flip: boolean;
}

function drawJitter(rng: Rng): JitterDraw {
  const ux = rng.next();
  const uy = rng.next();
  const flip = rng.next() < 0.5;
  return { ux, uy, flip };
}

/** A uniform draw u ∈ [0,1) → integer offset in [0, range] (same as rng.int(range + 1)). */
function offsetFromUniform(u: number, range: number): number {
  return Math.min(range, Math.floor(u * (range + 1)));
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

const extList = IMAGE_EXTENSIONS.map((e) => `*${e}`).join(',');

async function findLayout(root: string, split: string): Promise<{ layout: DatasetLayout; dirA: string; dirB?: string }> {
  if (!(await isDir(root))) throw new UserError(`Dataset folder ${root} does not exist (or is not a folder).`);
  const splitDir = path.join(root, split);
  if ((await isDir(path.join(splitDir, 'A'))) && (await isDir(path.join(splitDir, 'B')))) {
    return { layout: 'paired-split-first', dirA: path.join(splitDir, 'A'), dirB: path.join(splitDir, 'B') };
  }
  if ((await isDir(path.join(root, 'A', split))) && (await isDir(path.join(root, 'B', split)))) {
    return { layout: 'paired-ab-first', dirA: path.join(root, 'A', split), dirB: path.join(root, 'B', split) };
  }
  if (await isDir(splitDir)) return { layout: 'aligned', dirA: splitDir };
  throw new UserError(
    `No '${split}' split in ${root}: looked for ${splitDir}/ (aligned AB images), ${path.join(splitDir, 'A')} + ${path.join(splitDir, 'B')}, and ${path.join(root, 'A', split)} + ${path.join(root, 'B', split)} (paired folders).`,
  );
}

function listPreview(xs: string[], n = 5): string {
  return xs.slice(0, n).join(', ') + (xs.length > n ? `, … (${xs.length - n} more)` : '');
}

async function listEntries(root: string, split: string): Promise<{ layout: DatasetLayout; entries: Entry[] }> {
  const { layout, dirA, dirB } = await findLayout(root, split);
  const namesA = await listImages(dirA, { recursive: true });
  if (dirB === undefined) {
    if (namesA.length === 0) throw new UserError(`Split '${split}' is empty: no images (${extList}) under ${dirA}.`);
    return { layout, entries: namesA.map((name) => ({ name, fileA: path.join(dirA, name) })) };
  }
  const namesB = await listImages(dirB, { recursive: true });
  const setA = new Set(namesA);
  const setB = new Set(namesB);
  const onlyA = namesA.filter((n) => !setB.has(n));
  const onlyB = namesB.filter((n) => !setA.has(n));
  if (onlyA.length > 0 || onlyB.length > 0) {
    const parts: string[] = [];
    if (onlyA.length) parts.push(`${onlyA.length} only in ${dirA} (${listPreview(onlyA)})`);
    if (onlyB.length) parts.push(`${onlyB.length} only in ${dirB} (${listPreview(onlyB)})`);
    throw new UserError(`Paired folders do not match: ${parts.join('; ')}. Every A image needs a B image with the same file name.`);
  }
  if (namesA.length === 0) throw new UserError(`Split '${split}' is empty: no images (${extList}) under ${dirA} and ${dirB}.`);
  return { layout, entries: namesA.map((name) => ({ name, fileA: path.join(dirA, name), fileB: path.join(dirB, name) })) };
}

/** Header check: the size, or why the file cannot be an image (the reason without the file name). */
async function probe(file: string): Promise<{ width: number; height: number } | { error: string }> {
  try {
    return await probeImage(file);
  } catch (e) {
    const msg = errorMessage(e);
    const prefix = `Cannot read image ${file}: `;
    return { error: msg.startsWith(prefix) ? msg.slice(prefix.length).replace(/\.$/, '') : msg };
  }
}

async function dropBadEntries(entries: Entry[], layout: DatasetLayout, warn: (line: string) => void): Promise<{ kept: Entry[]; skipped: string[] }> {
  const verdicts = await mapBounded(entries, 16, async (e): Promise<string | undefined> => {
    const a = await probe(e.fileA);
    if ('error' in a) return `${e.fileA}: ${a.error}`;
    if (layout === 'aligned') return a.width < 2 ? `${e.fileA}: ${a.width} px wide, too narrow to split into A and B` : undefined;
    const b = await probe(e.fileB!);
    if ('error' in b) return `${e.fileB}: ${b.error}`;
    if (a.width !== b.width || a.height !== b.height) return `${e.fileA} is ${a.width}×${a.height} but ${e.fileB} is ${b.width}×${b.height}`;
    return undefined;
  });
  const kept: Entry[] = [];
  const skipped: string[] = [];
  const maxLines = 20;
  verdicts.forEach((v, i) => {
    if (v === undefined) {
      kept.push(entries[i]);
      return;
    }
    skipped.push(v);
    if (skipped.length <= maxLines) warn(`warning: skipping ${v}`);
  });
  if (skipped.length > maxLines) warn(`warning: skipped ${skipped.length - maxLines} more unreadable file(s) (${skipped.length} in all)`);
  return { kept, skipped };
}

function checkLoadOptions(opts: LoadOptions): void {
  const { loadSize, cropSize } = opts;
  if (!Number.isInteger(cropSize) || cropSize < 1) throw new UserError(`--crop-size must be a positive integer (got ${cropSize}).`);
  const preprocess = opts.preprocess ?? 'resize_and_crop';
  if (preprocess === 'resize_and_crop') {
    if (!Number.isInteger(loadSize) || loadSize < 1) throw new UserError(`--load-size must be a positive integer (got ${loadSize}).`);
    if (opts.jitter && loadSize < cropSize) throw new UserError(`--load-size (${loadSize}) must be at least --crop-size (${cropSize}).`);
  }
  if (opts.direction !== 'AtoB' && opts.direction !== 'BtoA') throw new UserError(`--direction must be AtoB or BtoA (got ${String(opts.direction)}).`);
  if (opts.jitter && !opts.rng) throw new Error('loadPair: jitter needs an rng');
}

/**
 * Open split `split` of the dataset at `root`, detecting the layout. Fails with a UserError that
 * says what was looked for if the split is missing or empty, or if paired folders do not match.
 */
export async function openPairedDataset(root: string, split: string, options: OpenOptions = {}): Promise<PairedDataset> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const listed = await listEntries(root, split);
  let entries = listed.entries;
  let skipped: string[] = [];
  if (options.skipBad) {
    ({ kept: entries, skipped } = await dropBadEntries(entries, listed.layout, warn));
    if (entries.length === 0) throw new UserError(`Split '${split}' of ${root} has no readable images (${skipped.length} skipped).`);
  }
  return new FolderDataset(root, split, listed.layout, entries, skipped, Math.max(0, options.cacheBytes ?? 0));
}

class FolderDataset implements PairedDataset {
  readonly names: string[];
  private readonly cache = new Map<string, { a: RgbImage; b: RgbImage }>();
  private cacheUsed = 0;

  constructor(
    readonly root: string,
    readonly split: string,
    readonly layout: DatasetLayout,
    private readonly entries: Entry[],
    readonly skipped: readonly string[],
    private readonly cacheBudget: number,
  ) {
    this.names = entries.map((e) => e.name);
  }

  get size(): number {
    return this.entries.length;
  }

  cachedBytes(): number {
    return this.cacheUsed;
  }

  async loadPair(index: number, opts: LoadOptions): Promise<Pair> {
    const p = await this.loadPairRgb(index, opts);
    return { name: p.name, input: toUnitRange(p.input), target: toUnitRange(p.target), size: p.input.width };
  }

  loadPairRgb(index: number, opts: LoadOptions): Promise<RgbPair> {
    if (!Number.isInteger(index) || index < 0 || index >= this.entries.length) {
      return Promise.reject(new RangeError(`pair index ${index} is outside 0..${this.entries.length - 1}`));
    }
    try {
      checkLoadOptions(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    // Draw before the first await: concurrent calls then consume the rng in call order, so
    // prefetching several examples gives the same numbers as loading them one by one.
    const draw = opts.jitter ? drawJitter(opts.rng!) : undefined;
    return this.finishLoad(this.entries[index], index, opts, draw);
  }

  private async finishLoad(entry: Entry, index: number, opts: LoadOptions, draw: JitterDraw | undefined): Promise<RgbPair> {
    const preprocess = opts.preprocess ?? 'resize_and_crop';
    const { cropSize } = opts;
    const work = preprocess === 'resize_and_crop' ? (opts.jitter ? opts.loadSize : cropSize) : undefined;
    const { a, b } = await this.halves(entry, index, work);
    if (a.width < cropSize || a.height < cropSize || b.width < cropSize || b.height < cropSize) {
      const what =
        entry.fileB === undefined ? `${entry.fileA} (halves ${a.width}×${a.height} and ${b.width}×${b.height})` : `${entry.fileA} (${a.width}×${a.height})`;
      throw new UserError(`Image ${what} is smaller than the crop size ${cropSize}×${cropSize}; use a smaller --crop-size or --preprocess resize_and_crop.`);
    }
    let x: number;
    let y: number;
    let flip = false;
    const rangeX = Math.min(a.width, b.width) - cropSize;
    const rangeY = Math.min(a.height, b.height) - cropSize;
    if (draw) {
      x = offsetFromUniform(draw.ux, rangeX);
      y = offsetFromUniform(draw.uy, rangeY);
      flip = draw.flip && opts.flip !== false;
    } else {
      x = Math.floor(rangeX / 2);
      y = Math.floor(rangeY / 2);
    }
    const ca = cropAndFlip(a, x, y, cropSize, flip);
    const cb = cropAndFlip(b, x, y, cropSize, flip);
    return opts.direction === 'AtoB' ? { name: entry.name, input: ca, target: cb } : { name: entry.name, input: cb, target: ca };
  }

  /** Decoded A and B, resized to work×work when `work` is given; cached while the budget lasts. */
  private async halves(entry: Entry, index: number, work: number | undefined): Promise<{ a: RgbImage; b: RgbImage }> {
    const key = `${index}@${work ?? 'native'}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let a: RgbImage;
    let b: RgbImage;
    if (entry.fileB === undefined) {
      const ab = await readImage(entry.fileA);
      if (ab.width < 2) throw new UserError(`Image ${entry.fileA} is ${ab.width} px wide, too narrow to split into A (left) and B (right).`);
      ({ a, b } = splitAB(ab));
    } else {
      [a, b] = await Promise.all([readImage(entry.fileA), readImage(entry.fileB)]);
      if (a.width !== b.width || a.height !== b.height) {
        throw new UserError(
          `Pair ${entry.name}: ${entry.fileA} is ${a.width}×${a.height} but ${entry.fileB} is ${b.width}×${b.height}; A and B must have the same size.`,
        );
      }
    }
    if (work !== undefined) [a, b] = await Promise.all([resizeRgb(a, work, work, 'cubic'), resizeRgb(b, work, work, 'cubic')]);
    const bytes = a.data.length + b.data.length;
    // Fill-until-full rather than LRU: epochs visit every example once in shuffled order, and LRU
    // would evict exactly the entries needed next; a fixed resident subset always gives hits.
    if (this.cacheUsed + bytes <= this.cacheBudget) {
      this.cache.set(key, { a, b });
      this.cacheUsed += bytes;
    }
    return { a, b };
  }
}
