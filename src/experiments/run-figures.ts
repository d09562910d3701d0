/** The figures of an experiment's results: the sample grid and the training curves of its finished runs. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import Papa from 'papaparse';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { labelledGrid } from './draw.ts';
import type { ResolvedExperiment, ResolvedRun } from './resolve.ts';
import { halfDir, IMAGES_DIR, inputSide, materializeHalf, targetSide, workPath } from './stages.ts';

const SAMPLE_COLUMNS = 4;

/** samples.png: inputs, ground truth, then one row of outputs per variant (its first finished run). */
export async function writeSamplesGrid(
  exp: ResolvedExperiment,
  out: string,
  data: string,
  firstRun: Map<string, ResolvedRun>,
  file: string,
): Promise<string | null> {
  const runs = [...firstRun.values()];
  if (runs.length === 0) return null;
  const { readImage, writeImage, listImages } = await import('../data/image.ts');
  const size = runs[0].size;
  const direction = runs[0].direction;
  const names = (await listImages(path.join(data, exp.dataset.testSplit))).slice(0, SAMPLE_COLUMNS).map((n) => n.replace(/\.[^./]+$/, '.png'));
  const dsHash = (await import('./hash.ts')).hashOf({ data: path.resolve(data) });
  const half = (side: ReturnType<typeof inputSide>): Promise<string> =>
    materializeHalf(data, exp.dataset.testSplit, side, size, halfDir(out, dsHash, exp.dataset.testSplit, side, size));
  const inputs = await half(inputSide(direction));
  const targets = await half(targetSide(direction));
  const load = async (dir: string): Promise<(import('../data/image.ts').RgbImage | null)[]> =>
    Promise.all(names.map(async (n) => ((await exists(path.join(dir, n))) ? readImage(path.join(dir, n), { resize: { width: size, height: size } }) : null)));
  const rows = [
    { label: 'input', images: await load(inputs) },
    { label: 'ground truth', images: await load(targets) },
  ];
  for (const run of runs) rows.push({ label: run.label, images: await load(path.join(workPath(out, run), IMAGES_DIR)) });
  await writeImage(file, labelledGrid(rows, size), 'png');
  return file;
}

/** Per-step losses, when the trainer wrote them; else the per-epoch means of losses.csv. */
const STEP_LOSSES = 'losses-steps.csv';

type LossRow = Record<string, string>;

const LOSS_PANELS: readonly { title: string; perStep: boolean; value: (r: LossRow) => number }[] = [
  { title: 'val L1 (test-time G on val pairs)', perStep: false, value: (r) => (r.val_L1 === '' || r.val_L1 === undefined ? Number.NaN : Number(r.val_L1)) },
  { title: 'G L1 (training)', perStep: true, value: (r) => Number(r.G_L1) },
  { title: 'G GAN (training)', perStep: true, value: (r) => Number(r.G_GAN) },
  { title: 'D (mean of real and fake terms)', perStep: true, value: (r) => (Number(r.D_real) + Number(r.D_fake)) / 2 },
];

async function readCsvRows(file: string): Promise<LossRow[] | null> {
  if (!(await exists(file))) return null;
  return Papa.parse<LossRow>(await fsp.readFile(file, 'utf8'), { header: true, skipEmptyLines: true }).data;
}

/** One run's curves on a common x axis (training step): per-step rows where written, epoch rows at each epoch's last step. */
async function runCurves(dir: string): Promise<{ epochs: { x: number; row: LossRow }[]; steps: { x: number; row: LossRow }[] } | null> {
  const epochRows = await readCsvRows(path.join(dir, 'train', 'losses.csv'));
  if (!epochRows) return null;
  let step = 0;
  const epochs = epochRows.map((row) => ({ x: (step += Number(row.steps) || 0), row }));
  const stepRows = await readCsvRows(path.join(dir, 'train', STEP_LOSSES));
  const steps = stepRows ? stepRows.map((row) => ({ x: Number(row.step), row })) : epochs;
  return { epochs, steps };
}

/** losses.png and .svg: the training curves of every finished run, one colour per variant. */
export async function writeLossPlot(exp: ResolvedExperiment, out: string, finished: Map<string, ResolvedRun[]>, file: string): Promise<string | null> {
  const { curvesNote, figurePng, figureSvg, lineFor, variantColors } = await import('./figures.ts');
  const colors = variantColors(exp.variants.map((v) => v.name));
  const variants: { name: string; label: string; runs: { seed: number; curves: NonNullable<Awaited<ReturnType<typeof runCurves>>> }[] }[] = [];
  for (const v of exp.variants) {
    const runs = (finished.get(v.name) ?? []).filter((r) => r.kind === 'generator');
    const loaded = [];
    for (const r of runs) {
      const curves = await runCurves(workPath(out, r));
      if (curves) loaded.push({ seed: r.seed, curves });
    }
    if (loaded.length) variants.push({ name: v.name, label: v.label, runs: loaded });
  }
  if (variants.length === 0) return null;
  const perStep = variants.some((v) => v.runs.some((r) => r.curves.steps !== r.curves.epochs));
  const panels = LOSS_PANELS.map((p) => ({
    title: p.title,
    xLabel: 'training step',
    yLabel: 'loss',
    lines: variants
      .map((v) => {
        const curves = v.runs.map((r) => ({
          seed: r.seed,
          points: (p.perStep ? r.curves.steps : r.curves.epochs).map(({ x, row }) => [x, p.value(row)] as const).filter(([, y]) => Number.isFinite(y)),
        }));
        // A loss a variant does not use is reported as 0: leave it out rather than draw a flat line.
        if (curves.every((c) => c.points.every(([, y]) => y === 0))) return null;
        return lineFor(v.label, colors.get(v.name)!, curves, p.perStep && perStep);
      })
      .filter((l) => l !== null),
  }));
  const figure = {
    title: `${exp.name}: training curves`,
    panels,
    legend: variants.map((v) => ({ name: v.label, color: colors.get(v.name)!, seeds: v.runs.length })),
    note: curvesNote(perStep),
  };
  const { writeImage } = await import('../data/image.ts');
  await writeImage(file, figurePng(figure), 'png');
  await writeFileAtomic(file.replace(/\.png$/, '.svg'), figureSvg(figure));
  return file;
}
