/**
 * Checks an experiment on real data can finish before any training starts: a full profile trains
 * for days, and a wrong folder, a label that will not pair or a segmenter without its sidecar would
 * otherwise only show at the score stage. Each check fails with one line saying what to fix:
 *
 * 1. dataset layout: dataset.path with train/ (when a generator trains) and the test split;
 * 2. pairing: every test output (`<test file stem>.png`) pairs with a label in dataset.labels, by the
 *    same function the score stage uses;
 * 3. free disk space for checkpoints, exported models and translated images (an estimate);
 * 4. segmenter: the .onnx exists, its sidecar (or preset) is valid, and one small dummy input runs
 *    and gives [1, numClasses, H, W] at the input's H×W; for `segmenter: train`, the training data exists.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { listImages } from '../data/image.ts';
import { pairFileLists, selectLabelFiles } from '../eval/pairing.ts';
import { formatBytes } from '../util/bytes.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { exists, freeBytesAt } from '../util/fs.ts';
import { needsLabels, needsSegmenter, type ResolvedExperiment } from './resolve.ts';
import type { FolderDataset } from './schema.ts';

export interface PreflightReport {
  testImages: number;
  trainImages: number;
  segmenter: string;
  freeBytes: number;
  neededBytes: number;
}

async function isDir(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function imagesIn(dir: string, what: string, fix: string): Promise<string[]> {
  if (!(await isDir(dir))) throw new UserError(`${what} ${dir}: folder not found; ${fix}`);
  const files = await listImages(dir);
  if (files.length === 0) throw new UserError(`${what} ${dir}: no images; ${fix}`);
  return files;
}

/** Small dummy input side for a segmenter: the sidecar's aspect, longest side ≤ 128, multiples of 32. */
function dummyInputSize(inputSize: readonly [number, number] | undefined): [number, number] {
  if (!inputSize) return [128, 64];
  const k = Math.min(1, 128 / Math.max(...inputSize));
  const round = (x: number): number => Math.max(32, Math.round((x * k) / 32) * 32);
  return [round(inputSize[0]), round(inputSize[1])];
}

async function checkSegmenterOnnx(file: string, model: string): Promise<string> {
  const { loadSegmenterSpec, runSegmenterOnnx } = await import('../eval/segmenter.ts');
  if (!(await exists(model)))
    throw new UserError(
      `${file}: scorer.segmenter ${model} not found; convert the paper's FCN-8s with \`pix2pix segmenter import-caffe\` (see docs/cityscapes.md)`,
    );
  const spec = await loadSegmenterSpec(model);
  const session = await runSegmenterOnnx(model, spec, { provider: 'cpu' });
  try {
    const tries = [dummyInputSize(spec.inputSize), ...(spec.inputSize ? [spec.inputSize] : [])];
    let last = '';
    for (const [w, h] of tries) {
      let out;
      try {
        out = await session.model(new Float32Array(3 * w * h), [1, 3, h, w]);
      } catch (e) {
        last = errorMessage(e);
        continue;
      }
      const d = out.dims;
      if (d.length !== 4 || d[0] !== 1 || d[1] !== spec.numClasses || d[2] !== h || d[3] !== w) {
        throw new UserError(
          `${model}: a ${w}×${h} dummy input gives output [${d.join(', ')}]; the sidecar needs [1, ${spec.numClasses}, ${h}, ${w}] (numClasses logits at the input's size)`,
        );
      }
      return `${path.basename(model)} (${spec.numClasses} classes, ${spec.channelOrder}, ran a ${w}×${h} dummy input)`;
    }
    throw new UserError(`${model}: a dummy input does not run: ${last}`);
  } finally {
    await session.release();
  }
}

/** Bytes the runs will write: checkpoint with Adam moments and the exported model (~1 GiB at ngf 64), plus images. */
function estimateDiskBytes(exp: ResolvedExperiment, testImages: number): number {
  let total = 0;
  for (const run of exp.runs) {
    const ngf = run.train?.ngf ?? 64;
    if (run.kind === 'generator') total += 2 ** 30 * (ngf / 64) ** 2;
    total += testImages * run.size * run.size * 3;
  }
  return total;
}

/** Run every check of a folder-dataset experiment; throws the first problem as a one-line UserError. */
export async function preflightExperiment(exp: ResolvedExperiment, out: string): Promise<PreflightReport> {
  const spec = exp.dataset.spec as FolderDataset;
  const data = spec.path;
  const prepare = `build it with \`pix2pix data cityscapes --cityscapes CITYSCAPES_DIR --out ${data}\` (see docs/cityscapes.md)`;
  if (!(await isDir(data))) throw new UserError(`${exp.file}: dataset.path ${data}: folder not found; ${prepare}`);
  const trains = exp.runs.some((r) => r.kind === 'generator');
  const trainImages = trains ? (await imagesIn(path.join(data, 'train'), `${exp.file}: dataset.path`, prepare)).length : 0;
  const tests = await imagesIn(path.join(data, exp.dataset.testSplit), `${exp.file}: dataset.path (testSplit ${exp.dataset.testSplit})`, prepare);

  if (needsLabels(exp.scorer)) {
    const labels = spec.labels;
    if (!labels)
      throw new UserError(
        `${exp.file}: dataset.labels is not set; point it at the ${exp.dataset.testSplit} split's *_gtFine_labelIds.png (e.g. ${data}/gtFine/${exp.dataset.testSplit})`,
      );
    if (!(await isDir(labels)))
      throw new UserError(
        `${exp.file}: dataset.labels ${labels}: folder not found; it holds gtFine/${exp.dataset.testSplit}/CITY/*_gtFine_labelIds.png (\`pix2pix data cityscapes\` copies them into the dataset)`,
      );
    const labelFiles = selectLabelFiles(await listImages(labels, { recursive: true }), 'labelIds');
    const outputs = tests.map((f) => f.replace(/\.[^./]+$/, '.png'));
    try {
      pairFileLists(outputs, labelFiles, {
        images: path.join(data, exp.dataset.testSplit),
        labels,
        imagesFlag: `test outputs (named after ${path.join(data, exp.dataset.testSplit)})`,
        labelsFlag: `dataset.labels ${labels}`,
      });
    } catch (e) {
      throw new UserError(`${exp.file}: ${errorMessage(e)} Test images must be named by Cityscapes frame id: rebuild with \`pix2pix data cityscapes\`.`);
    }
  }

  // Cheap checks first: loading the segmenter is the slow one (~30 s for the 513 MB FCN-8s on 2 cores).
  const free = await freeBytesAt(out);
  const need = estimateDiskBytes(exp, tests.length);
  if (free < need) {
    throw new UserError(
      `${out}: ${formatBytes(free)} free but the ${exp.runs.length} run(s) need about ${formatBytes(need)} (checkpoints, exported models, translated images); free space or pass another --out`,
    );
  }

  let segmenter = 'none';
  if (needsSegmenter(exp.scorer)) {
    if (exp.scorer.segmenter === 'train') {
      const segData = spec.segmenterData;
      if (!segData || !(await isDir(path.join(segData, 'leftImg8bit'))) || !(await isDir(path.join(segData, 'gtFine')))) {
        throw new UserError(
          `${exp.file}: scorer.segmenter is 'train' but dataset.segmenterData ${segData ?? '(unset)'} has no leftImg8bit/ and gtFine/; point it at the Cityscapes root, or use the paper's FCN-8s`,
        );
      }
      segmenter = `trained on ${segData}`;
    } else segmenter = await checkSegmenterOnnx(exp.file, path.resolve(exp.scorer.segmenter));
  }

  return { testImages: tests.length, trainImages, segmenter, freeBytes: free, neededBytes: need };
}
