/**
 * The per-run pipeline: train → export ONNX (verified) → translate the test split → score, each
 * stage recorded in `<work>/stage.json` (written atomically) once its output is complete.
 *
 * A stage is skipped when stage.json records it with the same key (a hash of what it depends on);
 * once a stage runs, every later stage runs again. A run killed at any point (even SIGKILL) leaves
 * stage.json at its last completed stage; training then resumes from its last epoch checkpoint.
 *
 * Heavy modules (tfjs, onnxruntime, sharp) are imported inside the stage functions, so reading
 * markers (the scheduler, `results collect`) stays light.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError, errorMessage } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { resolveInside } from '../util/paths.ts';
import { acquireClaim, DEFAULT_LEASE, describeHolder, type HeldClaim, parseDuration } from './claims.ts';
import { hashOf } from './hash.ts';
import type { ResolvedExperiment, ResolvedRun, ResolvedScorer } from './resolve.ts';
import { confusionModeOf, type ScoreInput, scorersOf, scoresLine } from './scorers/index.ts';

export const STAGE_FILE = 'stage.json';
export const RESULT_FILE = 'result.json';
export const STAGES = ['train', 'export', 'translate', 'score'] as const;
export type StageName = (typeof STAGES)[number];

export interface StageRecord {
  key: string;
  seconds: number;
  finishedAt: string;
  info?: Record<string, unknown>;
}

export interface StageMarker {
  variant: string;
  seed: number;
  hash: string;
  stages: Partial<Record<StageName, StageRecord>>;
}

/** Everything a worker needs to run one run's stages (plain JSON, sent over IPC). */
export interface RunJob {
  /** Absolute results folder. */
  out: string;
  run: ResolvedRun;
  /** Dataset root (AB splits). */
  data: string;
  testSplit: string;
  datasetDescription: string;
  /** Continue interrupted training instead of refusing. */
  resume: boolean;
  /** Intra-op threads for onnxruntime (the scheduler shares the cores). */
  threads: number;
  /** Lease of this process's stage claims, in seconds (default: claims.ts DEFAULT_LEASE). */
  leaseSeconds?: number;
}

export interface ScoreJob {
  out: string;
  run: ResolvedRun;
  data: string;
  testSplit: string;
  labelsDir: string | null;
  scorer: ResolvedScorer;
  /** Segmenter .onnx (fcn) and what it is, for the results files. */
  segmenterModel: string | null;
  segmenterDescription: string;
  datasetDescription: string;
  claims?: ClaimSettings;
}

export interface RunResult {
  experiment: string;
  variant: string;
  label: string;
  kind: 'generator' | 'ground-truth';
  seed: number;
  hash: string;
  metrics: Record<string, number>;
  /** Per-class IoU / accuracy (fcn, labels) for the detailed report. */
  perClass?: { classAcc: number[]; classIoU: number[]; classPixels: number[] };
  frames: number;
  engine: string;
  epochs: number;
  epochsDecay: number;
  size: number;
  direction: string;
  trainSeconds: number;
  /** Sum of every stage's own time (training counted from its epoch times, across resumes). */
  wallSeconds: number;
  segmenter: string;
  dataset: string;
  /** Test-time dropout of the generator (paper mode: on, seeded by `seed`); absent in older results. */
  testDropout?: boolean;
  /** Confusion semantics of the score: 'strict' or 'reference' (evaluate.py's fast_hist); '' for colour. */
  scorerMode?: string;
  finishedAt: string;
}

export function workPath(out: string, run: ResolvedRun): string {
  return path.join(out, run.workDir);
}

export async function readMarker(dir: string): Promise<StageMarker | null> {
  try {
    return JSON.parse(await fsp.readFile(path.join(dir, STAGE_FILE), 'utf8')) as StageMarker;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(`${path.join(dir, STAGE_FILE)} is unreadable (${errorMessage(e)}); delete that folder to redo the run`);
  }
}

async function writeMarker(dir: string, m: StageMarker): Promise<void> {
  await writeFileAtomic(path.join(dir, STAGE_FILE), `${JSON.stringify(m, null, 2)}\n`);
}

/** Keys of each stage: what its output depends on. */
export function stageKeys(run: ResolvedRun, testSplit: string, scorerHash: string): Record<StageName, string> {
  return {
    train: run.hash,
    // Dropout-off keeps its original key, so work done before paper mode existed stays valid.
    export: run.testDropout
      ? hashOf({ run: run.hash, export: 'instance-norm, seeded test-time dropout, verified with dropout off', seed: run.seed })
      : hashOf({ run: run.hash, export: 'instance-norm, dropout off, verified' }),
    translate: hashOf({ run: run.hash, split: testSplit }),
    score: hashOf({ run: run.hash, split: testSplit, scorer: scorerHash }),
  };
}

/** The stages of a run in order (a ground-truth row has no generator to train or export). */
export function stagesOf(run: ResolvedRun): StageName[] {
  return run.kind === 'ground-truth' ? ['translate', 'score'] : ['train', 'export', 'translate', 'score'];
}

/**
 * Which of `wanted` stages still have to run: the first stage whose record is missing or has
 * another key, and every stage after it.
 */
export function pendingStages(marker: StageMarker | null, order: readonly StageName[], keys: Record<StageName, string>): StageName[] {
  const i = order.findIndex((s) => marker?.stages[s]?.key !== keys[s]);
  return i < 0 ? [] : order.slice(i);
}

/** One run's stages as its stage.json records them for the experiment's current keys. */
export interface RunStages {
  /** The run's work folder. */
  dir: string;
  /** Every stage in order, with its record when it is done (null when it still has to run). */
  stages: { stage: StageName; record: StageRecord | null }[];
  /** The stages still to run, in order. */
  pending: StageName[];
}

/** Read where `run` of `exp` stands: the one walk that status, progress, the job list and scoring share. */
export async function readRunStages(exp: Pick<ResolvedExperiment, 'dataset' | 'scorer'>, out: string, run: ResolvedRun): Promise<RunStages> {
  const dir = workPath(out, run);
  const marker = await readMarker(dir);
  const all = stagesOf(run);
  const pending = pendingStages(marker, all, stageKeys(run, exp.dataset.testSplit, exp.scorer.hash));
  const stages = all.map((stage) => ({ stage, record: pending.includes(stage) ? null : (marker?.stages[stage] ?? null) }));
  return { dir, stages, pending };
}

export type Log = (line: string) => void;

export type StageFn = (dir: string) => Promise<{ info?: Record<string, unknown>; seconds?: number } | void>;

/** How stages are claimed (see claims.ts): the lease a holder keeps, and whether stale claims are taken over. */
export interface ClaimSettings {
  leaseSeconds: number;
  resume: boolean;
}

const DEFAULT_CLAIMS: ClaimSettings = { leaseSeconds: parseDuration(DEFAULT_LEASE), resume: false };

/** Why a stage did not run here: another process holds it (or held it and its claim is stale). */
export interface Blocked {
  stage: StageName;
  holder: string;
  stale: boolean;
}

export interface StagesOutcome {
  ran: StageName[];
  blocked: Blocked | null;
}

/** `<stage>.failed.json`: the last failure of a stage, until it completes (read by --status and collect). */
export interface FailureRecord {
  stage: string;
  message: string;
  host: string;
  pid: number;
  at: string;
}

export const failurePath = (dir: string, stage: string): string => path.join(dir, `${stage}.failed.json`);

export async function readFailure(dir: string, stage: string): Promise<FailureRecord | null> {
  try {
    return JSON.parse(await fsp.readFile(failurePath(dir, stage), 'utf8')) as FailureRecord;
  } catch {
    return null;
  }
}

/**
 * Run `fns` for the pending stages among `order` (a subset of the run's stages `all`), recording each
 * in stage.json as it completes. Each stage is claimed first (claims.ts), so two processes on one
 * results folder never run the same stage; a stage another process holds stops this run's stages
 * there (`blocked`). A failing stage leaves `<stage>.failed.json`.
 */
export async function runStages(
  dir: string,
  ident: Pick<StageMarker, 'variant' | 'seed' | 'hash'>,
  all: readonly StageName[],
  order: readonly StageName[],
  keys: Record<StageName, string>,
  fns: Partial<Record<StageName, StageFn>>,
  log: Log,
  claims: ClaimSettings = DEFAULT_CLAIMS,
): Promise<StagesOutcome> {
  await fsp.mkdir(dir, { recursive: true });
  const pendingNow = async (): Promise<StageName[]> => pendingStages(await readMarker(dir), all, keys).filter((s) => order.includes(s));
  const pending = await pendingNow();
  const skipped = order.filter((s) => !pending.includes(s));
  if (skipped.length) log(`${skipped.join(', ')}: already done (skipped)`);
  const ran: StageName[] = [];
  for (const s of pending) {
    const fn = fns[s];
    if (!fn) throw new Error(`runStages: no implementation for stage ${s}`);
    const attempt = await acquireClaim(dir, s, claims);
    if (!attempt.ok) {
      const holder = describeHolder(attempt.holder, attempt.why);
      log(`${s}: claimed by ${holder}${attempt.stale ? '; the claim is stale: pass --resume to take it over' : ''} (skipped here)`);
      return { ran, blocked: { stage: s, holder, stale: attempt.stale } };
    }
    try {
      // Another process may have finished it between our look and our claim.
      if (!(await pendingNow()).includes(s)) {
        log(`${s}: done by another process meanwhile (skipped)`);
        continue;
      }
      await runOneStage(dir, s, ident, all, keys, fn, log, attempt.claim);
      ran.push(s);
    } finally {
      await attempt.claim.release();
    }
  }
  return { ran, blocked: null };
}

async function runOneStage(
  dir: string,
  s: StageName,
  ident: Pick<StageMarker, 'variant' | 'seed' | 'hash'>,
  all: readonly StageName[],
  keys: Record<StageName, string>,
  fn: StageFn,
  log: Log,
  claim: HeldClaim,
): Promise<void> {
  const marker: StageMarker = (await readMarker(dir)) ?? { ...ident, stages: {} };
  // Later records are stale once an earlier stage reruns.
  for (const later of all.slice(all.indexOf(s))) delete marker.stages[later];
  await writeMarker(dir, marker);
  log(`${s}: start`);
  const t0 = performance.now();
  let r: Awaited<ReturnType<StageFn>>;
  try {
    r = await fn(dir);
  } catch (e) {
    const rec: FailureRecord = { stage: s, message: errorMessage(e), host: claim.record.host, pid: claim.record.pid, at: new Date().toISOString() };
    await writeFileAtomic(failurePath(dir, s), `${JSON.stringify(rec, null, 2)}\n`);
    throw e;
  }
  // A holder whose lease ran out (a frozen machine) and was taken over must not record the stage.
  if (!(await claim.stillMine()))
    throw new Error(`${s}: this process lost its claim on ${dir} (its lease ran out and another process took the stage over); nothing recorded`);
  const seconds = r?.seconds ?? (performance.now() - t0) / 1000;
  marker.stages[s] = { key: keys[s], seconds, finishedAt: new Date().toISOString(), ...(r?.info ? { info: r.info } : {}) };
  await writeMarker(dir, marker);
  await fsp.rm(failurePath(dir, s), { force: true });
  log(`${s}: done in ${seconds.toFixed(1)} s`);
}

// ------------------------------------------------------------------------------------------------
// Stage implementations

const TRAIN_DIR = 'train';
const MODEL_FILE = 'generator.onnx';
export const IMAGES_DIR = 'images';

/** A half of the test split's AB images at `size`² (inputs, real targets), written once per dataset. */
export async function materializeHalf(data: string, split: string, side: 'A' | 'B', size: number, outDir: string): Promise<string> {
  const { listImages } = await import('../data/image.ts');
  const { prepareImage, encodeOutput } = await import('../runtime/images.ts');
  const files = await listImages(path.join(data, split));
  if (files.length === 0) throw new UserError(`no images in ${path.join(data, split)}: the test split to translate is empty`);
  for (const rel of files) {
    const target = await resolveInside(outDir, rel.replace(/\.[^./]+$/, '.png'));
    if (await exists(target)) continue;
    const img = await prepareImage(path.join(data, split, rel), size, side);
    await writeFileAtomic(target, await encodeOutput(img.rgb, size, 'png'));
  }
  return outDir;
}

/**
 * Where the real halves of the test split live at one size (shared by every run on that data).
 * The split comes from the experiment file and may be any relative path (`../other/test`): it only
 * says where to read; the folder name here is a flattened, hashed form of it, always inside `out`.
 */
export function halfDir(out: string, datasetHash: string, split: string, side: 'A' | 'B', size: number): string {
  return path.join(out, '_work', '_data', `halves-${datasetHash}`, `${safeFolderName(split)}-${side}-${size}`);
}

/** One path component naming `p`: its safe characters, plus a hash when anything was changed. Pure. */
export function safeFolderName(p: string): string {
  const flat = p.replace(/[^A-Za-z0-9_.+-]+/g, '_').replace(/^[._]+|[._]+$/g, '') || 'split';
  return flat === p ? p : `${flat.slice(0, 60)}-${hashOf({ split: p }).slice(0, 8)}`;
}

export function inputSide(direction: string): 'A' | 'B' {
  return direction === 'AtoB' ? 'A' : 'B';
}
export function targetSide(direction: string): 'A' | 'B' {
  return direction === 'AtoB' ? 'B' : 'A';
}

/** train, export and translate of one run (a worker process runs this). */
export async function runGeneratorStages(job: RunJob, log: Log): Promise<StagesOutcome> {
  const { run } = job;
  const dir = workPath(job.out, run);
  const keys = stageKeys(run, job.testSplit, '');
  const trainDir = path.join(dir, TRAIN_DIR);
  const modelFile = path.join(dir, MODEL_FILE);
  const imagesDir = path.join(dir, IMAGES_DIR);
  const fns: Partial<Record<StageName, StageFn>> = {
    train: async () => {
      const { train } = await import('../train/trainer.ts');
      const resuming = await exists(path.join(trainDir, 'checkpoint.bin'));
      if (resuming && !job.resume) {
        throw new UserError(
          `${run.variant} (seed ${run.seed}): ${trainDir} holds an interrupted training run; pass --resume to continue it (or delete that folder to start over)`,
        );
      }
      // The scheduler shares the cores between the jobs it runs at once; a YAML `threads:` wins.
      const r = await train({ threads: job.threads, ...run.train!, data: job.data, out: trainDir }, { resume: resuming, log });
      const trainSeconds = r.history.reduce((s, row) => s + row.seconds, 0);
      return { seconds: trainSeconds, info: { engine: r.engine, epochs: r.epochs, resumed: resuming } };
    },
    export: async () => {
      const { loadGenerator } = await import('../train/checkpoint.ts');
      const { exportGeneratorOnnx } = await import('../export/export.ts');
      const { verifyOnnxAgainstTfjs, randomInputs } = await import('../export/verify.ts');
      const loaded = await loadGenerator(trainDir);
      const onnx = exportGeneratorOnnx(loaded, { norm: 'instance', dropout: false });
      const v = await verifyOnnxAgainstTfjs(onnx, { arch: loaded.arch, params: loaded.params }, [randomInputs(1, 3, run.size, run.seed)], 'instance');
      if (!v.ok) throw new Error(`${run.variant}: the exported ONNX differs from the tfjs forward pass by ${v.maxAbsError} (> ${v.tolerance})`);
      // Paper mode: the same graph plus seeded dropout masks (random, so verified in its dropout-off form above).
      const final = run.testDropout ? exportGeneratorOnnx(loaded, { norm: 'instance', dropout: true, dropoutSeed: run.seed }) : onnx;
      await writeFileAtomic(modelFile, final);
      return { info: { maxAbsError: v.maxAbsError, bytes: final.length, testDropout: run.testDropout, ...(run.testDropout ? { dropoutSeed: run.seed } : {}) } };
    },
    translate: async () => {
      if (run.kind === 'ground-truth') {
        // The "generator" of the ground-truth row is the identity: the real target images at the run's size.
        const side = targetSide(run.direction);
        if (run.blurSigma === undefined) {
          await materializeHalf(job.data, job.testSplit, side, run.size, imagesDir);
          return { info: { source: 'real test images' } };
        }
        const real = await materializeHalf(job.data, job.testSplit, side, run.size, halfDir(job.out, hashOfData(job), job.testSplit, side, run.size));
        const images = await blurFolder(real, imagesDir, run.blurSigma);
        return { info: { source: `real test images, Gaussian blur σ ${run.blurSigma} px`, images } };
      }
      const { translateFolder } = await import('../runtime/translate.ts');
      const r = await translateFolder({
        model: modelFile,
        input: path.join(job.data, job.testSplit),
        output: imagesDir,
        abSide: inputSide(run.direction),
        size: run.size,
        format: 'png',
        skipExisting: true,
        threads: job.threads,
        quiet: true,
      });
      if (r.failed.length)
        throw new UserError(`${run.variant}: ${r.failed.length} test images could not be translated, e.g. ${r.failed[0].file}: ${r.failed[0].reason}`);
      return { info: { images: r.total, provider: r.provider } };
    },
  };
  const order = stagesOf(run).filter((s) => s !== 'score');
  const claims: ClaimSettings = { leaseSeconds: job.leaseSeconds ?? DEFAULT_CLAIMS.leaseSeconds, resume: job.resume };
  return runStages(dir, { variant: run.variant, seed: run.seed, hash: run.hash }, stagesOf(run), order, keys, fns, log, claims);
}

/** The score stage (run in the parent: onnxruntime and sharp only). Returns the run's result, or null when another process holds the stage. */
export async function runScoreStage(job: ScoreJob, log: Log): Promise<RunResult | null> {
  const { run, scorer } = job;
  const dir = workPath(job.out, run);
  const keys = stageKeys(run, job.testSplit, scorer.hash);
  const imagesDir = path.join(dir, IMAGES_DIR);
  const outcome = await runStages(
    dir,
    { variant: run.variant, seed: run.seed, hash: run.hash },
    stagesOf(run),
    ['score'],
    keys,
    {
      score: async () => {
        const result = await scoreRun(job, imagesDir);
        await writeFileAtomic(path.join(dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
        log(`scores: ${scoresLine(scorersOf(scorer), result.metrics)}`);
        return { info: { metrics: result.metrics } };
      },
    },
    log,
    job.claims,
  );
  return outcome.blocked ? null : readRunResult(dir);
}

export async function readRunResult(dir: string): Promise<RunResult> {
  return JSON.parse(await fsp.readFile(path.join(dir, RESULT_FILE), 'utf8')) as RunResult;
}

/** Every scorer of the experiment on the run's images; their metrics merged in table order. */
async function scoreRun(job: ScoreJob, imagesDir: string): Promise<RunResult> {
  const { run, scorer } = job;
  const dir = workPath(job.out, run);
  const marker = await readMarker(dir);
  const side = targetSide(run.direction);
  const input: ScoreInput = {
    imagesDir,
    labelsDir: job.labelsDir,
    segmenterModel: job.segmenterModel,
    config: scorer,
    targetsDir: () => materializeHalf(job.data, job.testSplit, side, run.size, halfDir(job.out, hashOfData(job), job.testSplit, side, run.size)),
    experiment: run.experiment,
  };
  const metrics: Record<string, number> = {};
  let perClass: RunResult['perClass'];
  let frames = 0;
  for (const s of scorersOf(scorer)) {
    const r = await s.score(input);
    Object.assign(metrics, r.metrics);
    perClass ??= r.perClass;
    frames = Math.max(frames, r.frames);
  }
  const trainRec = marker?.stages.train;
  const stageSeconds = Object.values(marker?.stages ?? {}).reduce((s, rec) => s + (rec?.seconds ?? 0), 0);
  return {
    experiment: run.experiment,
    variant: run.variant,
    label: run.label,
    kind: run.kind,
    seed: run.seed,
    hash: run.hash,
    metrics,
    ...(perClass ? { perClass } : {}),
    frames,
    engine: run.kind === 'ground-truth' ? '' : String(trainRec?.info?.engine ?? ''),
    epochs: run.train?.nEpochs ?? 0,
    epochsDecay: run.train?.nEpochsDecay ?? 0,
    size: run.size,
    direction: run.direction,
    trainSeconds: trainRec?.seconds ?? 0,
    wallSeconds: stageSeconds,
    segmenter: job.segmenterDescription,
    dataset: job.datasetDescription,
    testDropout: run.testDropout,
    scorerMode: confusionModeOf(scorer),
    finishedAt: new Date().toISOString(),
  };
}

function hashOfData(job: { data: string }): string {
  return hashOf({ data: path.resolve(job.data) });
}

/** Every image of `src` Gaussian-blurred (σ pixels) into `out` as PNG; rewritten whole, so a rerun after a crash is exact. */
async function blurFolder(src: string, out: string, sigma: number): Promise<number> {
  const { listImages, readImage, encodeImage } = await import('../data/image.ts');
  const { gaussianBlurRgb } = await import('../image/blur.ts');
  const names = await listImages(src);
  for (const n of names) {
    const target = await resolveInside(out, n);
    await writeFileAtomic(target, await encodeImage(gaussianBlurRgb(await readImage(path.join(src, n)), sigma), 'png'));
  }
  return names.length;
}
