/**
 * `pix2pix data cityscapes`: the pix2pix Cityscapes AB dataset (photo | colour label map, each
 * resized to size×size, side by side) from either
 *
 * 1. the official release: `leftImg8bit/{train,val}/CITY/*_leftImg8bit.png` and
 *    `gtFine/{train,val}/CITY/*_gtFine_color.png`, paired by frame id (as the pix2pix repo's
 *    prepare_cityscapes_dataset.py does: both halves bicubic, JPEG quality 100, no chroma
 *    subsampling); or
 * 2. the numbered pix2pix download (`train/1.jpg`, `val/1.jpg`, …) plus the official `gtFine`.
 *    The download's numbers say nothing about the frame, so the val id map is rebuilt by content:
 *    the B half (colour labels) of every numbered val image is compared with every gtFine val colour
 *    map shrunk to 16×16, each image takes its nearest map, and the match must be clear (distance well
 *    below the runner-up's) and one-to-one. Anything else fails with one line. The download's val order
 *    is the sorted official order; the rebuilt map is checked against that too and written to
 *    `id-map.csv` either way.
 *
 * Output: `OUT/train/<id>.jpg` and `OUT/val/<id>.jpg` named by Cityscapes frame id (plus a copy of the
 * val `gtFine/val/CITY/<id>_gtFine_labelIds.png`, so OUT is all the experiments need), so generated images
 * (`<id>.png`) pair with `gtFine/val/CITY/<id>_gtFine_labelIds.png` at scoring; numbered train images
 * keep their numbers (training needs no ids). Files are written atomically; an interrupted run resumes
 * (finished files are kept), and at most `concurrency` images are in flight.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { mapBounded } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { compareCodePoints, encodeImage, listImages, readImage, resizeRgb, type RgbImage } from './image.ts';
import { concatAB } from './synth.ts';

export type CityscapesSplit = 'train' | 'val';
const CITYSCAPES_SPLITS: readonly CityscapesSplit[] = ['train', 'val'];

export interface PrepareCityscapesOptions {
  /** Official Cityscapes root (gtFine/ and, without `numbered`, leftImg8bit/). */
  cityscapes: string;
  out: string;
  size: number;
  /** The numbered pix2pix download (folder with train/ and val/ of N.jpg). */
  numbered?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PrepareCityscapesSummary {
  source: 'official' | 'pix2pix-numbered';
  size: number;
  counts: Record<CityscapesSplit, number>;
  /** Numbered mode: how many val numbers sat at their sorted-order position. */
  idMapInSortedOrder?: number;
}

interface Job {
  target: string;
  make: () => Promise<Uint8Array>;
}

const ID_RE = /^(.*)_(leftImg8bit|gtFine_color|gtFine_labelIds)\.png$/;

/** Frame id → path of each `*_<suffix>.png` under dir (CITY/ subfolders), sorted by id. */
async function framesIn(dir: string, suffix: 'leftImg8bit' | 'gtFine_color' | 'gtFine_labelIds'): Promise<Map<string, string>> {
  if (!(await exists(dir))) return new Map();
  const files = await listImages(dir, { recursive: true });
  const m = new Map<string, string>();
  for (const f of files) {
    const base = path.basename(f);
    const hit = ID_RE.exec(base);
    if (hit && hit[2] === suffix) m.set(hit[1], path.join(dir, f));
  }
  return new Map([...m].sort((a, b) => compareCodePoints(a[0], b[0])));
}

const firstFew = (xs: string[]): string => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ', …' : '');

async function readSquare(file: string, size: number): Promise<RgbImage> {
  return readImage(file, { resize: { width: size, height: size, kernel: 'cubic' } });
}

const encodeAB = async (a: RgbImage, b: RgbImage): Promise<Uint8Array> => encodeImage(concatAB(a, b), 'jpg', { quality: 100 });

/** Jobs for the official layout. */
async function officialJobs(root: string, out: string, size: number): Promise<{ jobs: Job[]; counts: Record<CityscapesSplit, number> }> {
  const jobs: Job[] = [];
  const counts = { train: 0, val: 0 };
  for (const split of CITYSCAPES_SPLITS) {
    const photos = await framesIn(path.join(root, 'leftImg8bit', split), 'leftImg8bit');
    const labels = await framesIn(path.join(root, 'gtFine', split), 'gtFine_color');
    if (photos.size === 0 && labels.size === 0) continue;
    const noLabel = [...photos.keys()].filter((id) => !labels.has(id));
    const noPhoto = [...labels.keys()].filter((id) => !photos.has(id));
    if (noLabel.length || noPhoto.length) {
      throw new UserError(
        `--cityscapes ${root}: ${split} split does not pair: ${noLabel.length} photos without gtFine colour map (${firstFew(noLabel)}), ${noPhoto.length} colour maps without photo (${firstFew(noPhoto)})`,
      );
    }
    for (const [id, photo] of photos) {
      jobs.push({
        target: path.join(out, split, `${id}.jpg`),
        make: async () => encodeAB(await readSquare(photo, size), await readSquare(labels.get(id)!, size)),
      });
    }
    counts[split] = photos.size;
  }
  if (counts.val === 0) {
    throw new UserError(
      `--cityscapes ${root}: no leftImg8bit/val/CITY/*_leftImg8bit.png with gtFine/val/CITY/*_gtFine_color.png; point it at the folder holding leftImg8bit/ and gtFine/`,
    );
  }
  return { jobs, counts };
}

// ------------------------------------------------------------------------------------------------
// Rebuilding the numbered download's id map

const THUMB = 16;

async function thumbnail(img: RgbImage): Promise<Float32Array> {
  const t = await resizeRgb(img, THUMB, THUMB, 'linear');
  return Float32Array.from(t.data);
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** The right half of an AB image. */
function rightHalf(img: RgbImage): RgbImage {
  const w = Math.floor(img.width / 2);
  const out = new Uint8Array(w * img.height * 3);
  for (let y = 0; y < img.height; y++) out.set(img.data.subarray((y * img.width + img.width - w) * 3, (y + 1) * img.width * 3), y * w * 3);
  return { width: w, height: img.height, data: out };
}

/** Mean absolute difference (0–255) a match must stay under, and the factor the runner-up must exceed it by. */
const MATCH_MAX_DISTANCE = 12;
const MATCH_MARGIN = 1.5;

export interface IdMatch {
  file: string;
  id: string;
  distance: number;
  runnerUp: number;
}

/**
 * Pure matching: each numbered thumbnail → nearest gtFine thumbnail. Throws one UserError when a
 * match is not clear or two numbered images claim the same frame.
 */
function matchThumbnails(numbered: { file: string; thumb: Float32Array }[], frames: { id: string; thumb: Float32Array }[], where: string): IdMatch[] {
  const matches: IdMatch[] = [];
  const unclear: string[] = [];
  for (const n of numbered) {
    let best = Infinity;
    let second = Infinity;
    let id = '';
    for (const f of frames) {
      const d = distance(n.thumb, f.thumb);
      if (d < best) {
        second = best;
        best = d;
        id = f.id;
      } else if (d < second) second = d;
    }
    if (!(best <= MATCH_MAX_DISTANCE) || (Number.isFinite(second) && second < best * MATCH_MARGIN && second - best < 2))
      unclear.push(`${n.file} (nearest ${id || 'none'} at ${best.toFixed(1)})`);
    matches.push({ file: n.file, id, distance: best, runnerUp: second });
  }
  if (unclear.length) {
    throw new UserError(
      `${where}: cannot rebuild the frame-id map: ${unclear.length} of ${numbered.length} numbered val images match no gtFine/val colour map clearly (${firstFew(unclear)}); use the official leftImg8bit release instead`,
    );
  }
  const byId = new Map<string, string>();
  for (const m of matches) {
    const prev = byId.get(m.id);
    if (prev)
      throw new UserError(`${where}: cannot rebuild the frame-id map: ${prev} and ${m.file} both match ${m.id}; use the official leftImg8bit release instead`);
    byId.set(m.id, m.file);
  }
  return matches;
}

const numberOf = (f: string): number => Number(path.basename(f).replace(/\.[^.]+$/, ''));

async function numberedFiles(dir: string): Promise<string[]> {
  if (!(await exists(dir))) return [];
  return (await listImages(dir)).filter((f) => /^\d+\.(jpe?g|png)$/i.test(f)).sort((a, b) => numberOf(a) - numberOf(b));
}

async function numberedJobs(
  download: string,
  root: string,
  out: string,
  size: number,
  concurrency: number,
): Promise<{ jobs: Job[]; counts: Record<CityscapesSplit, number>; inOrder: number; map: IdMatch[] }> {
  const val = await numberedFiles(path.join(download, 'val'));
  if (val.length === 0)
    throw new UserError(`--pix2pix-download ${download}: no numbered images in val/ (expected val/1.jpg, val/2.jpg, … from the pix2pix cityscapes download)`);
  const frames = await framesIn(path.join(root, 'gtFine', 'val'), 'gtFine_color');
  if (frames.size === 0)
    throw new UserError(`--cityscapes ${root}: no gtFine/val/CITY/*_gtFine_color.png; the id map is rebuilt from the official gtFine colour maps`);
  const frameThumbs = await mapBounded([...frames], concurrency, async ([id, file]) => ({ id, thumb: await thumbnail(await readImage(file)) }));
  const numThumbs = await mapBounded(val, concurrency, async (f) => ({
    file: `val/${f}`,
    thumb: await thumbnail(rightHalf(await readImage(path.join(download, 'val', f)))),
  }));
  const map = matchThumbnails(numThumbs, frameThumbs, `--pix2pix-download ${download}`);
  const sortedIds = [...frames.keys()];
  const inOrder = map.filter((m, i) => sortedIds[i] === m.id).length;
  const jobs: Job[] = map.map((m) => {
    const f = m.file.slice('val/'.length);
    return {
      target: path.join(out, 'val', `${m.id}.jpg`),
      make: async () => reencode(await readImage(path.join(download, 'val', f)), path.join(download, 'val', f), size),
    };
  });
  const train = await numberedFiles(path.join(download, 'train'));
  for (const f of train)
    jobs.push({
      target: path.join(out, 'train', f.replace(/\.[^.]+$/, '.jpg')),
      make: async () => reencode(await readImage(path.join(download, 'train', f)), path.join(download, 'train', f), size),
    });
  return { jobs, counts: { train: train.length, val: val.length }, inOrder, map };
}

/** The download's own bytes when it is already size×2 by size JPEG; else resized halves. */
async function reencode(img: RgbImage, file: string, size: number): Promise<Uint8Array> {
  if (img.width === 2 * size && img.height === size && /\.jpe?g$/i.test(file)) return new Uint8Array(await fsp.readFile(file));
  const w = Math.floor(img.width / 2);
  const left: RgbImage = { width: w, height: img.height, data: new Uint8Array(w * img.height * 3) };
  for (let y = 0; y < img.height; y++) left.data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  return encodeAB(await resizeRgb(left, size, size), await resizeRgb(rightHalf(img), size, size));
}

/**
 * The val split's `*_gtFine_labelIds.png` copied to OUT/gtFine/val/CITY/, so the dataset folder holds
 * everything scoring needs (the experiment files point dataset.labels at OUT/gtFine/val).
 */
async function labelCopyJobs(root: string, out: string): Promise<Job[]> {
  const src = path.join(root, 'gtFine', 'val');
  const labels = await framesIn(src, 'gtFine_labelIds');
  if (labels.size === 0) throw new UserError(`--cityscapes ${root}: no gtFine/val/CITY/*_gtFine_labelIds.png; scoring needs the official val label ids`);
  return [...labels.values()].map((file) => ({
    target: path.join(out, 'gtFine', 'val', path.relative(src, file)),
    make: async () => new Uint8Array(await fsp.readFile(file)),
  }));
}

export async function prepareCityscapes(o: PrepareCityscapesOptions): Promise<PrepareCityscapesSummary> {
  if (!Number.isInteger(o.size) || o.size < 8) throw new UserError(`--size must be an integer ≥ 8 (got ${o.size})`);
  const st = await fsp.stat(o.cityscapes).catch(() => undefined);
  if (!st?.isDirectory()) throw new UserError(`--cityscapes ${o.cityscapes}: folder not found (the Cityscapes root holding gtFine/ and leftImg8bit/)`);
  const concurrency = o.concurrency ?? 4;
  let jobs: Job[];
  let counts: Record<CityscapesSplit, number>;
  let summary: PrepareCityscapesSummary;
  if (o.numbered) {
    const r = await numberedJobs(o.numbered, o.cityscapes, o.out, o.size, concurrency);
    jobs = r.jobs;
    counts = r.counts;
    summary = { source: 'pix2pix-numbered', size: o.size, counts, idMapInSortedOrder: r.inOrder };
    const csv = [
      'number,id,distance,runner_up',
      ...r.map.map((m) => `${m.file},${m.id},${m.distance.toFixed(2)},${Number.isFinite(m.runnerUp) ? m.runnerUp.toFixed(2) : ''}`),
    ].join('\n');
    await writeFileAtomic(path.join(o.out, 'id-map.csv'), `${csv}\n`);
  } else {
    const r = await officialJobs(o.cityscapes, o.out, o.size);
    jobs = r.jobs;
    counts = r.counts;
    summary = { source: 'official', size: o.size, counts };
  }
  jobs.push(...(await labelCopyJobs(o.cityscapes, o.out)));
  let done = 0;
  await mapBounded(jobs, concurrency, async (j) => {
    if (!(await exists(j.target))) await writeFileAtomic(j.target, await j.make());
    o.onProgress?.(++done, jobs.length);
  });
  await writeFileAtomic(
    path.join(o.out, 'dataset.json'),
    `${JSON.stringify({ kind: 'cityscapes', ...summary, layout: { '<split>/<id>.jpg': 'aligned AB: A (left) = photo, B (right) = Cityscapes colour label map; <id> = Cityscapes frame id (numbered train images keep their numbers)' } }, null, 2)}\n`,
  );
  return summary;
}
