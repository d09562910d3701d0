/**
 * The Figure 7 colour experiment over two folders: pooled L/a/b histograms of every generated and
 * every real image, and their per-channel histogram intersections (see color.ts for the bins,
 * which the paper does not publish). Images are used at their stored size.
 */
import * as path from 'node:path';
import { listImages, readImage } from '../data/image.ts';
import { prefetch } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { requireFolder } from './pairing.ts';
import { addImageToLabHistograms, createLabHistograms, DEFAULT_LAB_BINS, labIntersections, type LabHistograms, type LabIntersections } from './color.ts';

export interface ColorScoreOptions {
  generatedDir: string;
  realDir: string;
  bins?: number;
  onImage?: (done: number, total: number) => void;
}

export interface ColorScoreResult {
  generated: LabHistograms;
  real: LabHistograms;
  intersections: LabIntersections;
}

export async function runColorScore(opts: ColorScoreOptions): Promise<ColorScoreResult> {
  const bins = opts.bins ?? DEFAULT_LAB_BINS;
  if (!Number.isInteger(bins) || bins < 1) throw new UserError(`--bins must be a positive integer, got ${bins}.`);
  await requireFolder(opts.generatedDir, '--generated');
  await requireFolder(opts.realDir, '--real');
  const [gen, real] = await Promise.all([listImages(opts.generatedDir, { recursive: true }), listImages(opts.realDir, { recursive: true })]);
  if (gen.length === 0) throw new UserError(`No image files in ${opts.generatedDir} (--generated).`);
  if (real.length === 0) throw new UserError(`No image files in ${opts.realDir} (--real).`);
  const jobs: [LabHistograms, string][] = [];
  const generated = createLabHistograms(bins);
  const realH = createLabHistograms(bins);
  for (const f of gen) jobs.push([generated, path.join(opts.generatedDir, f)]);
  for (const f of real) jobs.push([realH, path.join(opts.realDir, f)]);
  let done = 0;
  const load = async ([hist, file]: [LabHistograms, string]) => ({ hist, img: await readImage(file) });
  for await (const { hist, img } of prefetch(jobs, load)) {
    addImageToLabHistograms(hist, img.data);
    opts.onImage?.(++done, jobs.length);
  }
  return { generated, real: realH, intersections: labIntersections(generated, realH) };
}
