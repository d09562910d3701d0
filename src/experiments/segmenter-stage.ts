/**
 * The judge of the FCN-score when no reference FCN-8s is given (`segmenter: train`): train the small
 * U-Net segmenter of src/train/segmenter.ts on the dataset's real photos, export it to ONNX
 * (verified against tfjs), and write the sidecar that tells src/eval/segmenter.ts how to feed it.
 * Its folder is keyed by the dataset and the segmenter settings, so experiments on the same data
 * share one segmenter.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/fs.ts';
import type { HeldClaim } from './claims.ts';
import type { SegmenterTrainSettings } from './schema.ts';
import type { ClassWeighting } from '../options/segmenter.ts';

export const SEGMENTER_MODEL = 'segmenter.onnx';
const SEGMENTER_DONE = 'segmenter.json';

export interface SegmenterJob {
  dir: string;
  /** Cityscapes-layout root (leftImg8bit/ + gtFine/). */
  data: string;
  settings: SegmenterTrainSettings;
  /** Says in results files what the data is. */
  datasetDescription: string;
  /** Claim settings (claims.ts): several processes on one results folder train it once. */
  leaseSeconds?: number;
  resume?: boolean;
  /** Intra-op threads for the ort-cpu engine: the scheduler's share of the cores (a YAML `threads:` wins). */
  threads?: number;
}

/** The claim name of the segmenter stage in its folder. */
export const SEGMENTER_STAGE = 'segmenter';

export interface SegmenterInfo {
  model: string;
  /** null when the data has no val split. */
  valPixelAccuracy: number | null;
  size: number;
  depth: number;
  ngf: number;
  epochs: number;
  classWeights: ClassWeighting;
  engine: string;
  seconds: number;
  dataset: string;
}

export async function readSegmenterInfo(dir: string): Promise<SegmenterInfo | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dir, SEGMENTER_DONE), 'utf8')) as SegmenterInfo;
  } catch {
    return null;
  }
}

/** One line for results files. */
export function describeSegmenter(info: SegmenterInfo): string {
  return `trained U-Net segmenter (depth ${info.depth}, ngf ${info.ngf}, ${info.epochs} epochs, ${info.size}², ${info.classWeights} class weights, on ${info.dataset}; real-photo val pixel acc. ${typeof info.valPixelAccuracy === 'number' && Number.isFinite(info.valPixelAccuracy) ? info.valPixelAccuracy.toFixed(3) : 'n/a'})`;
}

/**
 * Train, export and verify the segmenter unless `dir` already holds a finished one. Claimed like a
 * stage: returns null when another process is training it.
 */
export async function ensureTrainedSegmenter(job: SegmenterJob, log: (l: string) => void): Promise<SegmenterInfo | null> {
  const done = await readSegmenterInfo(job.dir);
  if (done) {
    log(`segmenter: already trained (skipped): ${job.dir}`);
    return done;
  }
  const { acquireClaim, describeHolder, parseDuration, DEFAULT_LEASE } = await import('./claims.ts');
  const attempt = await acquireClaim(job.dir, SEGMENTER_STAGE, { leaseSeconds: job.leaseSeconds ?? parseDuration(DEFAULT_LEASE), resume: job.resume ?? false });
  if (!attempt.ok) {
    log(
      `segmenter: claimed by ${describeHolder(attempt.holder, attempt.why)}${attempt.stale ? '; the claim is stale: pass --resume to take it over' : ''} (skipped here)`,
    );
    return null;
  }
  try {
    const meanwhile = await readSegmenterInfo(job.dir);
    if (meanwhile) {
      log('segmenter: trained by another process meanwhile (skipped)');
      return meanwhile;
    }
    return await trainSegmenterStage(job, log, attempt.claim);
  } finally {
    await attempt.claim.release();
  }
}

async function trainSegmenterStage(job: SegmenterJob, log: (l: string) => void, claim: HeldClaim): Promise<SegmenterInfo> {
  log('segmenter: start');
  const t0 = performance.now();
  const { SEGMENTER_DEFAULTS } = await import('../train/segmenter.ts');
  const { trainSegmenterToOnnx } = await import('./train-segmenter.ts');
  const config = { ...SEGMENTER_DEFAULTS, ...job.settings };
  const model = path.join(job.dir, SEGMENTER_MODEL);
  // Training restarts from scratch after a kill: it is short, and has no resumable state.
  const r = await trainSegmenterToOnnx({
    ...(job.threads ? { threads: job.threads } : {}),
    ...config,
    data: job.data,
    onnx: model,
    run: path.join(job.dir, 'train'),
    log,
  });
  const info: SegmenterInfo = {
    model,
    valPixelAccuracy: Number.isFinite(r.valPixelAccuracy) ? r.valPixelAccuracy : null,
    size: config.size,
    depth: config.depth,
    ngf: config.ngf,
    epochs: config.epochs,
    classWeights: config.classWeights,
    engine: r.engine,
    seconds: (performance.now() - t0) / 1000,
    dataset: job.datasetDescription,
  };
  // A holder whose lease ran out and was taken over must not record the segmenter as its own.
  if (!(await claim.stillMine()))
    throw new Error(`segmenter: this process lost its claim on ${job.dir} (its lease ran out and another process took the stage over); nothing recorded`);
  // Written last: its presence means the model and sidecar are complete.
  await writeFileAtomic(path.join(job.dir, SEGMENTER_DONE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}
