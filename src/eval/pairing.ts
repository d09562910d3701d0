/**
 * Pairs evaluated images with ground-truth label maps by frame id. A file's id is its name without
 * extension and without a Cityscapes suffix, so `<id>_leftImg8bit.png` (generated photo, renamed to
 * the Cityscapes id as the reference script expects) pairs with `<id>_gtFine_labelIds.png`, and
 * `x.png` pairs with `x.png`. Both folders are searched recursively, so the Cityscapes tree
 * (`gtFine/<split>/<city>/…`, `leftImg8bit/<split>/<city>/…`) works as well as flat folders.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listImages } from '../data/image.ts';
import { UserError } from '../util/errors.ts';

/** Fail with the flag's name when a folder argument is missing or is a file. */
export async function requireFolder(dir: string, flag: string): Promise<void> {
  const st = await fsp.stat(dir).catch(() => undefined);
  if (!st) throw new UserError(`${flag} ${dir}: folder not found.`);
  if (!st.isDirectory()) throw new UserError(`${flag} ${dir}: is a file; pass a folder.`);
}

const CITYSCAPES_SUFFIXES: readonly string[] = ['_leftImg8bit', '_gtFine_labelIds', '_gtFine_labelTrainIds', '_gtFine_color', '_gtFine_instanceIds'];

export type LabelEncoding = 'labelIds' | 'trainIds';

export interface FramePair {
  id: string;
  /** Absolute (or as given) paths. */
  image: string;
  label: string;
}

/** The frame id of a file: stem without a Cityscapes suffix. */
export function frameId(file: string): string {
  const stem = path.basename(file, path.extname(file));
  for (const s of CITYSCAPES_SUFFIXES) if (stem.endsWith(s) && stem.length > s.length) return stem.slice(0, -s.length);
  return stem;
}

/**
 * Which of the label folder's files are ground truth: with Cityscapes naming, only the
 * `_gtFine_labelIds` maps (or `_gtFine_labelTrainIds` for trainId-encoded labels); the colour,
 * instance and polygon files beside them are skipped. Otherwise every image file.
 */
export function selectLabelFiles(files: readonly string[], encoding: LabelEncoding): string[] {
  const suffix = encoding === 'trainIds' ? '_gtFine_labelTrainIds' : '_gtFine_labelIds';
  const cityscapes = files.filter((f) => path.basename(f, path.extname(f)).endsWith(suffix));
  return cityscapes.length > 0 ? cityscapes : [...files];
}

function byId(files: readonly string[], dir: string, what: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of files) {
    const id = frameId(f);
    const prev = m.get(id);
    if (prev !== undefined) throw new UserError(`Two ${what} in ${dir} have the frame id "${id}": ${prev} and ${f}; keep one per frame.`);
    m.set(id, f);
  }
  return m;
}

function firstNames(xs: readonly string[], k = 3): string {
  return xs.slice(0, k).join(', ') + (xs.length > k ? ', …' : '');
}

/** Pure pairing of relative file lists; throws one UserError describing every mismatch. */
export function pairFileLists(
  images: readonly string[],
  labels: readonly string[],
  dirs: { images: string; labels: string; imagesFlag: string; labelsFlag: string },
): FramePair[] {
  if (images.length === 0) throw new UserError(`No image files in ${dirs.images} (${dirs.imagesFlag}).`);
  if (labels.length === 0) throw new UserError(`No label files in ${dirs.labels} (${dirs.labelsFlag}).`);
  const img = byId(images, dirs.images, 'images');
  const lab = byId(labels, dirs.labels, 'labels');
  const pairs: FramePair[] = [];
  const noLabel: string[] = [];
  for (const [id, f] of img) {
    const l = lab.get(id);
    if (l === undefined) noLabel.push(f);
    else pairs.push({ id, image: path.join(dirs.images, f), label: path.join(dirs.labels, l) });
  }
  const noImage = [...lab].filter(([id]) => !img.has(id)).map(([, f]) => f);
  if (noLabel.length > 0 || noImage.length > 0) {
    const parts: string[] = [];
    if (noLabel.length > 0) parts.push(`${noLabel.length} of ${img.size} images in ${dirs.imagesFlag} have no label (${firstNames(noLabel)})`);
    if (noImage.length > 0) parts.push(`${noImage.length} of ${lab.size} labels in ${dirs.labelsFlag} have no image (${firstNames(noImage)})`);
    throw new UserError(
      `${parts.join('; ')}. Files pair by Cityscapes id (<id>_leftImg8bit.png ↔ <id>_gtFine_labelIds.png) or by identical name without extension.`,
    );
  }
  return pairs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** List both folders (recursively) and pair them. */
export async function pairFrames(
  imagesDir: string,
  labelsDir: string,
  opts: { encoding?: LabelEncoding; imagesFlag?: string; labelsFlag?: string } = {},
): Promise<FramePair[]> {
  await requireFolder(imagesDir, opts.imagesFlag ?? '--images');
  await requireFolder(labelsDir, opts.labelsFlag ?? '--labels');
  const [images, labelFiles] = await Promise.all([listImages(imagesDir, { recursive: true }), listImages(labelsDir, { recursive: true })]);
  const labels = selectLabelFiles(labelFiles, opts.encoding ?? 'labelIds');
  return pairFileLists(images, labels, {
    images: imagesDir,
    labels: labelsDir,
    imagesFlag: `${opts.imagesFlag ?? '--images'} ${imagesDir}`,
    labelsFlag: `${opts.labelsFlag ?? '--labels'} ${labelsDir}`,
  });
}
