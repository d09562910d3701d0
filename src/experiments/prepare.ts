/**
 * Step 2 of `eval run`: everything the runs read, in place before any of them starts — the
 * synthetic dataset (written once), the label folder and the segmenter the scorers need — and the
 * check that every folder eval run writes stays inside --out.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { exists } from '../util/fs.ts';
import { resolveInside } from '../util/paths.ts';
import { datasetDir, isSynthetic, needsLabels, needsSegmenter, type ResolvedExperiment, segmenterDir, trainsSegmenter, WORK_DIR } from './resolve.ts';
import type { SyntheticDataset } from './schema.ts';
import { SEGMENTER_MODEL, type SegmenterJob } from './segmenter-stage.ts';
import { workPath } from './stages.ts';

/** Write the synthetic dataset once (into a temporary folder, renamed when complete). */
async function ensureSyntheticDataset(dir: string, spec: SyntheticDataset, log: (l: string) => void): Promise<void> {
  if (await exists(path.join(dir, 'dataset.json'))) return;
  const { synthesizeDataset } = await import('../data/synth.ts');
  const tmp = `${dir}.tmp-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  log(`dataset: writing synthetic scenes (${spec.synthetic.count} images, ${spec.synthetic.size}²) to ${dir}`);
  await synthesizeDataset({ out: tmp, ...spec.synthetic });
  try {
    await fsp.rename(tmp, dir);
  } catch (e) {
    // Another process finished the same dataset first; its copy is identical.
    await fsp.rm(tmp, { recursive: true, force: true });
    if (!(await exists(path.join(dir, 'dataset.json')))) throw e;
  }
}

export interface Prepared {
  data: string;
  labelsDir: string | null;
  segmenterModel: string | null;
  /** The segmenter to train (`segmenter: train`), whether or not it is done. */
  segmenterJob: SegmenterJob | null;
  segmenterDir: string | null;
}

/** The dataset, labels and segmenter of an experiment, checked and (synthetic data) written. */
export async function prepare(exp: ResolvedExperiment, out: string, log: (l: string) => void): Promise<Prepared> {
  const data = datasetDir(out, exp.dataset);
  const spec = exp.dataset.spec;
  if (isSynthetic(spec)) await ensureSyntheticDataset(data, spec, log);
  else if (!(await exists(path.join(data, exp.dataset.testSplit)))) {
    throw new UserError(`${exp.file}: dataset.path ${data} has no ${exp.dataset.testSplit}/ split to translate; set dataset.testSplit (Cityscapes: val)`);
  }
  let labelsDir: string | null = isSynthetic(spec) ? path.join(data, 'gtFine', exp.dataset.testSplit) : (spec.labels ?? null);
  if (!needsLabels(exp.scorer)) labelsDir = null;
  else if (!labelsDir)
    throw new UserError(
      `${exp.file}: dataset.labels is needed to score ${exp.task} (the folder of *_gtFine_labelIds.png of the ${exp.dataset.testSplit} split)`,
    );
  let segmenterModel: string | null = null;
  let segmenterJob: SegmenterJob | null = null;
  let segDir: string | null = null;
  if (needsSegmenter(exp.scorer)) {
    if (exp.scorer.segmenter === 'train') {
      segDir = segmenterDir(out, exp.scorer);
      segmenterModel = path.join(segDir, SEGMENTER_MODEL);
      const segData = isSynthetic(spec) ? data : spec.segmenterData;
      if (!segData)
        throw new UserError(
          `${exp.file}: scorer.segmenter is 'train' but dataset.segmenterData is not set: point it at a Cityscapes root (leftImg8bit/ + gtFine/), or set scorer.segmenter to an FCN .onnx`,
        );
      segmenterJob = { dir: segDir, data: segData, settings: exp.scorer.segmenterTrain, datasetDescription: exp.dataset.description };
    } else {
      segmenterModel = path.resolve(exp.scorer.segmenter);
      if (!(await exists(segmenterModel)))
        throw new UserError(
          `${exp.file}: scorer.segmenter ${exp.scorer.segmenter} does not exist; give the FCN .onnx (with its .onnx.json sidecar) or 'train'`,
        );
    }
  }
  return { data, labelsDir, segmenterModel, segmenterJob, segmenterDir: segDir };
}

/**
 * Every folder eval run writes is derived from --out; refuse (before any work) one that resolves,
 * through a symlink already there, to somewhere outside it.
 */
export async function checkDerivedInside(exp: ResolvedExperiment, out: string): Promise<void> {
  const dirs = [path.join(out, WORK_DIR), path.join(out, exp.name), ...exp.runs.map((r) => workPath(out, r))];
  if (isSynthetic(exp.dataset.spec)) dirs.push(datasetDir(out, exp.dataset));
  if (trainsSegmenter(exp.scorer)) dirs.push(segmenterDir(out, exp.scorer));
  for (const d of dirs) await resolveInside(out, path.relative(out, d), '--out');
}
