/**
 * The file side of --save-triplets and --html: writing the input and target images beside each
 * output, checking what exists, and writing the gallery pages (gallery.ts builds them).
 */
import * as path from 'node:path';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { resolveInside } from '../util/paths.ts';
import { type GalleryRow, galleryPages, tripletNames } from './gallery.ts';
import { type AbSide, encodeRgb, type OutputFormat, type PreparedImage, prepareImage } from './images.ts';

/** Whether a job's outputs are all there (for --skip-existing). */
export async function outputsExist(outputDir: string, outRel: string, triplets: boolean, withTarget: boolean): Promise<boolean> {
  const t = tripletNames(outRel);
  const files = [outRel, ...(triplets ? [t.input, ...(withTarget ? [t.target] : [])] : [])];
  for (const f of files) if (!(await exists(path.join(outputDir, f)))) return false;
  return true;
}

/**
 * Write NAME_input.EXT (what the model was fed, at the output's size) and, for AB pairs,
 * NAME_target.EXT (the other half, prepared the same way).
 */
export async function writeTriplet(
  inputDir: string,
  outputDir: string,
  job: { rel: string; outRel: string },
  image: PreparedImage,
  size: number | 'native',
  format: OutputFormat,
  resizeTo: { width: number; height: number } | undefined,
  abSide: AbSide | undefined,
  maxPixels?: number,
): Promise<void> {
  const t = tripletNames(job.outRel);
  await writeFileAtomic(await resolveInside(outputDir, t.input), await encodeRgb(image, format, resizeTo));
  if (abSide) {
    const target = await prepareImage(path.join(inputDir, job.rel), size, abSide === 'A' ? 'B' : 'A', maxPixels);
    await writeFileAtomic(await resolveInside(outputDir, t.target), await encodeRgb(target, format, resizeTo));
  }
}

/** Write index.html (and index-2.html …) for every input whose output exists. */
export async function writeGallery(
  outputDir: string,
  inputs: readonly string[],
  names: ReadonlyMap<string, string>,
  withTarget: boolean,
  title: string,
): Promise<void> {
  const rows: GalleryRow[] = [];
  const present = async (rel: string): Promise<string | undefined> => ((await exists(path.join(outputDir, rel))) ? rel : undefined);
  for (const rel of inputs) {
    const outRel = names.get(rel)!;
    const output = await present(outRel);
    if (!output) continue;
    const t = tripletNames(outRel);
    rows.push({ name: rel, input: await present(t.input), output, target: withTarget ? await present(t.target) : undefined });
  }
  for (const page of galleryPages(rows, { title: `pix2pix infer: ${title}`, withTarget }))
    await writeFileAtomic(await resolveInside(outputDir, page.file), page.html);
}
