/**
 * The pix2pix training loop (docs/reference.md#losses): G and D with Adam(2e-4, 0.5), L1 + GAN/cGAN losses, constant then
 * linearly decaying learning rate, a checkpoint written atomically at the end of every epoch, and exact
 * resumption (weights, optimizer state, RNG streams, data order) after a crash or kill. Training stops
 * when the losses or weights stop being finite, keeping the last good checkpoint.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from './tfjs.ts';
import Papa from 'papaparse';
import { openPairedDataset, type PairedDataset } from '../data/dataset.ts';
import { writeImage, fromUnitRange, type RgbImage } from '../data/image.ts';
import { prefetch } from '../util/concurrency.ts';
import { eventLoopYielder } from '../util/event-loop.ts';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { checkNotRootOrHome, claimOutputFolder, resolveInside } from '../util/paths.ts';
import { ProgressBar } from '../util/progress.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { CHECKPOINT_FILE, type CheckpointModel, readCheckpoint, writeCheckpointStreaming } from './checkpoint.ts';
import { discriminatorOptions, generatorOptions, type TrainConfig, upgradeStoredConfig } from './config.ts';
import { DivergenceGuard, firstNonFinite } from './divergence.ts';
import { selectEngine, type LoadedEngine } from './engines/registry.ts';
import { DeferredReads } from './loss-readback.ts';
import { l1Loss, lrMultiplier } from './losses.ts';
import { Pix2PixModel, type Pix2PixArchs, Pix2PixStep, readLosses, type StepLosses, type StoredModel } from './model.ts';
import { canonicalFlag, problemOf } from '../options/define.ts';
import { TRAIN_OPTIONS } from '../options/train.ts';
import {
  assertGeneratorInput,
  countParams,
  discriminatorArch,
  discriminatorLabel,
  discriminatorOutputSide,
  type GeneratorArch,
  generatorArch,
  scaleOutputSides,
  scaleReceptiveFields,
} from '../nets/arch.ts';
import { generatorForward } from './nets/forward.ts';
import type { Net } from './nets/variables.ts';
import { appendStepLosses, STEP_LOSSES_FILE, type StepRow, truncateStepLosses } from './step-losses.ts';

export const PIX2PIX_TS_VERSION = '0.1.0';

export interface EpochRow {
  epoch: number;
  steps: number;
  lr: number;
  G_GAN: number;
  G_L1: number;
  D_real: number;
  D_fake: number;
  val_L1: number | '';
  seconds: number;
}

export interface TrainResult {
  out: string;
  engine: string;
  epochs: number;
  history: EpochRow[];
  checkpoint: string;
}

/** Machine-readable progress (`train --json` prints each as one NDJSON line). */
export type TrainEvent =
  | {
      event: 'start';
      config: TrainConfig;
      engine: string;
      totalEpochs: number;
      stepsPerEpoch: number;
      trainPairs: number;
      valPairs: number;
      resumedAfterEpoch: number;
    }
  | ({ event: 'step'; epoch: number; step: number; lr: number } & StepLosses)
  | ({ event: 'epoch' } & EpochRow)
  | { event: 'checkpoint'; epoch: number; file: string }
  | { event: 'done'; epochs: number; checkpoint: string; last: EpochRow | null };

export interface TrainHooks {
  /** Continue from `out/checkpoint.bin` (weights, optimizer state, RNG streams, data order). */
  resume?: boolean;
  /** Library use and tests: no progress bar, no log lines. */
  quiet?: boolean;
  log?: (line: string) => void;
  /** Called after each epoch's checkpoint is safely on disk. */
  onEpoch?: (row: EpochRow) => void | Promise<void>;
  /** Progress events, in order: start, step…, epoch, checkpoint (per epoch), done. */
  onEvent?: (e: TrainEvent) => void;
  /** Train into an --out folder that holds files train did not write (or /, or the home folder). */
  force?: boolean;
  /** Stop after this many consecutive steps with a non-finite loss (default: the --non-finite-steps default). */
  nonFiniteSteps?: number;
  /** How messages name an option (the CLI: as the user typed it, `--continue_train`); default its canonical flag. */
  flagName?: (key: string) => string;
}

/** What `train` (and `export` beside it) writes into a run folder: anything else there is someone else's. */
const RUN_FOLDER_FILES = new Set([CHECKPOINT_FILE, 'config.json', 'losses.csv', STEP_LOSSES_FILE, 'samples', 'model.onnx', 'model_D.onnx']);

interface ResumeState {
  epoch: number;
  step: number;
  dataRng: RngState;
  dropoutRng: RngState;
  adamG: number;
  adamD: number;
  history: EpochRow[];
}

/** Fields that may differ between a run and its resumption. */
const RESUMABLE_CHANGES = new Set(['nEpochs', 'nEpochsDecay', 'engine', 'threads', 'valLimit', 'sampleRows', 'skipBad', 'data', 'out']);

/**
 * The settings of `c` that a resumption may not change from the stored `prev`: every training option
 * either of them holds, so a setting only some runs carry (one without a default) counts when it is
 * dropped as well as when it is added or changed.
 */
export function changedSettings(prev: Partial<TrainConfig>, c: Partial<TrainConfig>): string[] {
  const keys = new Set([...Object.keys(c), ...Object.keys(prev).filter((k) => k in TRAIN_OPTIONS)]);
  return [...keys].filter((k) => !RESUMABLE_CHANGES.has(k) && JSON.stringify(prev[k as keyof TrainConfig]) !== JSON.stringify(c[k as keyof TrainConfig]));
}

interface TrainData {
  train: PairedDataset;
  /** null: the dataset has no val split (val L1 is then left empty). */
  val: PairedDataset | null;
}

/** Where training starts: a fresh state and weights, or a checkpoint's. */
interface StartingPoint {
  state: ResumeState;
  stored?: StoredModel;
}

/** Everything the epoch steps share. */
interface TrainingRun {
  c: TrainConfig;
  hooks: TrainHooks;
  log: (line: string) => void;
  emit: (e: TrainEvent) => void;
  model: Pix2PixModel;
  step: Pix2PixStep;
  data: TrainData;
  dataRng: Rng;
  dropoutRng: Rng;
  bar: ProgressBar;
  guard: DivergenceGuard;
  ckptFile: string;
  stepFile: string;
  totalEpochs: number;
}

/** What one epoch's optimisation steps produced, before validation and the checkpoint. */
interface EpochSteps {
  lr: number;
  rows: StepRow[];
  startedAt: number;
}

export async function train(c: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((line: string) => (hooks.quiet ? undefined : process.stderr.write(`${line}\n`)));
  const flag = hooks.flagName ?? ((key: string) => canonicalFlag(TRAIN_OPTIONS, key));
  const archs = checkedArchs(c);
  const nonFiniteSteps = hooks.nonFiniteSteps ?? TRAIN_OPTIONS.nonFiniteSteps.default;
  const nonFiniteProblem = problemOf(TRAIN_OPTIONS.nonFiniteSteps, nonFiniteSteps);
  if (nonFiniteProblem) throw new UserError(`${flag('nonFiniteSteps')} ${nonFiniteProblem} (got ${nonFiniteSteps})`);
  // `/` and the home folder are refused before anything is read; the data and --resume are checked
  // before the run folder is created, so a failed start leaves nothing behind.
  await checkNotRootOrHome(c.out, flag('out'), hooks.force);
  const data = await openTrainData(c);
  const { ckptFile, resuming } = await prepareRunFolder(c, hooks, log, flag);
  const engine = await openEngine(c, log);
  const start = resuming ? await resumePoint(c, ckptFile, log, flag) : freshStart(c);
  await fsp.mkdir(path.join(c.out, 'samples'), { recursive: true });
  await writeFileAtomic(path.join(c.out, 'config.json'), `${JSON.stringify({ ...c, engine: engine.name }, null, 2)}\n`);
  const model = Pix2PixModel.create(c, archs, start.stored);
  try {
    describeRun(c, archs, data, log);
    const run = startRun({ c, hooks, log, model, data, state: start.state, engine: engine.name, ckptFile });
    let state = start.state;
    await truncateStepLosses(run.stepFile, state.step);
    for (let epoch = state.epoch + 1; epoch <= run.totalEpochs; epoch++) {
      const steps = await trainEpoch(run, epoch, state.step);
      state = await finishEpoch(run, epoch, steps, state);
    }
    return finishRun(run, state, engine.name);
  } finally {
    model.dispose();
  }
}

/** G and D for the config, checked against the crop size before anything is written. */
function checkedArchs(c: TrainConfig): Pix2PixArchs {
  const G = generatorArch(generatorOptions(c));
  assertGeneratorInput(G, c.size);
  const dOpts = discriminatorOptions(c);
  const D = dOpts ? discriminatorArch(dOpts) : null;
  if (D) discriminatorOutputSide(D, c.size);
  return { G, D };
}

/** Check that a checkpoint is there exactly when --resume asks for one, then claim --out. */
async function prepareRunFolder(
  c: TrainConfig,
  hooks: TrainHooks,
  log: (line: string) => void,
  flag: (key: string) => string,
): Promise<{ ckptFile: string; resuming: boolean }> {
  const ckptFile = path.join(c.out, CHECKPOINT_FILE);
  const resuming = await exists(ckptFile);
  if (resuming && !hooks.resume)
    throw new UserError(`${c.out} already holds a checkpoint: pass ${flag('resume')} to continue it, or choose another ${flag('out')}`);
  if (!resuming && hooks.resume) throw new UserError(`${flag('resume')}: no ${CHECKPOINT_FILE} in ${c.out} to resume from`);
  await claimOutputFolder(c.out, {
    flag: flag('out'),
    command: 'train',
    force: hooks.force,
    recursive: true,
    isOwn: (n) => RUN_FOLDER_FILES.has(n) || /\.onnx(\.json)?$/.test(n),
    log,
  });
  // Everything train writes is one of these names in --out; none may lead elsewhere through a symlink.
  for (const name of [CHECKPOINT_FILE, 'config.json', 'losses.csv', STEP_LOSSES_FILE, 'samples']) await resolveInside(c.out, name, flag('out'));
  return { ckptFile, resuming };
}

async function openTrainData(c: TrainConfig): Promise<TrainData> {
  // Decoded pairs are cached (small datasets then train without re-decoding every epoch).
  const cacheBytes = 1 << 30;
  const train = await openPairedDataset(c.data, 'train', { skipBad: c.skipBad, cacheBytes });
  if (train.size === 0) throw new UserError(`no training pairs in ${c.data}/train`);
  let val: PairedDataset | null;
  try {
    val = await openPairedDataset(c.data, 'val', { skipBad: c.skipBad, cacheBytes: cacheBytes / 4 });
  } catch {
    val = null; // a dataset without a val split trains fine
  }
  return { train, val };
}

async function openEngine(c: TrainConfig, log: (line: string) => void): Promise<LoadedEngine> {
  const engine = await selectEngine(c.engine, c.threads === undefined ? {} : { threads: c.threads });
  log(
    `engine: ${engine.name}${engine.device ? ` on ${engine.device}` : ''}${engine.threads !== undefined ? ` (${engine.threads} threads)` : ''}${engine.skipped.length ? ` (skipped ${engine.skipped.map((s) => s.split(':')[0]).join(', ')})` : ''}`,
  );
  return engine;
}

/** Epoch 0, with the data and dropout RNG streams drawn from the seed (the weights come from Pix2PixModel.create). */
function freshStart(c: TrainConfig): StartingPoint {
  return { state: { epoch: 0, step: 0, dataRng: new Rng(c.seed + 1).state(), dropoutRng: new Rng(c.seed + 2).state(), adamG: 0, adamD: 0, history: [] } };
}

/** The checkpoint's state and tensors, refused when it was trained with settings that cannot change on resume. */
async function resumePoint(c: TrainConfig, ckptFile: string, log: (line: string) => void, flag: (key: string) => string): Promise<StartingPoint> {
  const ckpt = await readCheckpoint(ckptFile);
  const prev = upgradeStoredConfig(ckpt.header.model.config ?? {}) as unknown as TrainConfig;
  const diffs = changedSettings(prev, c);
  if (diffs.length) {
    throw new UserError(
      `${ckptFile} was trained with different settings (${diffs.map((k) => `${flag(k)} ${JSON.stringify(prev[k as keyof TrainConfig])}`).join(', ')}); use the same flags or another ${flag('out')}`,
    );
  }
  const state = ckpt.header.state as unknown as ResumeState;
  log(`resuming from ${ckptFile} after epoch ${state.epoch}`);
  return { state, stored: { tensors: ckpt.tensors, adamG: state.adamG, adamD: state.adamD } };
}

function describeRun(c: TrainConfig, archs: Pix2PixArchs, data: TrainData, log: (line: string) => void): void {
  const { G, D } = archs;
  log(`G: ${c.netG} (${G.options.kind}, ngf ${c.ngf}, ${c.norm} norm), ${countParams(G).toLocaleString('en-US')} parameters`);
  if (D) {
    const rfs = scaleReceptiveFields(D).map((r) => `${r}×${r}`);
    const logits = scaleOutputSides(D, c.size).map((s) => `${s}²`);
    log(
      `D: ${discriminatorLabel(D)}, receptive field ${rfs.join(' / ')}, ${D.options.conditional ? 'conditional' : 'unconditional'}, ${countParams(D).toLocaleString('en-US')} parameters, ${logits.join(' / ')} logits`,
    );
  } else log('D: none (L1 loss only)');
  log(
    `data: ${data.train.size} train pairs${data.val ? `, ${data.val.size} val pairs` : ''}, ${c.direction}, load ${c.loadSize} → crop ${c.size}, batch ${c.batchSize}`,
  );
  const total = c.nEpochs + c.nEpochsDecay;
  log(
    `schedule: ${total} epoch${total === 1 ? '' : 's'} in all (${c.nEpochs} at lr ${c.lr}, then ${c.nEpochsDecay} decaying linearly to 0), ${Math.ceil(data.train.size / c.batchSize)} steps each`,
  );
}

/** The shared run state, with the RNG streams where the starting point left them; emits `start`. */
function startRun(o: {
  c: TrainConfig;
  hooks: TrainHooks;
  log: (line: string) => void;
  model: Pix2PixModel;
  data: TrainData;
  state: ResumeState;
  engine: string;
  ckptFile: string;
}): TrainingRun {
  const { c, hooks, log, model, data, state, engine, ckptFile } = o;
  const totalEpochs = c.nEpochs + c.nEpochsDecay;
  const stepsPerEpoch = Math.ceil(data.train.size / c.batchSize);
  const emit = hooks.onEvent ?? (() => undefined);
  emit({
    event: 'start',
    config: c,
    engine,
    totalEpochs,
    stepsPerEpoch,
    trainPairs: data.train.size,
    valPairs: data.val?.size ?? 0,
    resumedAfterEpoch: state.epoch,
  });
  const finished = state.epoch >= totalEpochs;
  if (finished) {
    const flag = hooks.flagName ?? ((key: string) => canonicalFlag(TRAIN_OPTIONS, key));
    log(
      `${c.out} has finished its ${totalEpochs} epoch${totalEpochs === 1 ? '' : 's'}: nothing to train (raise ${flag('nEpochs')} or ${flag('nEpochsDecay')} to continue it; pix2pix export --checkpoint ${c.out} exports it)`,
    );
  }
  // `initial`: the speed counts only the steps this process takes (a resumed run would look fast).
  const bar = new ProgressBar({
    label: 'train',
    total: totalEpochs * stepsPerEpoch,
    unit: 'step',
    quiet: hooks.quiet || finished,
    initial: state.epoch * stepsPerEpoch,
  });
  const dropoutRng = new Rng(state.dropoutRng);
  const guard = new DivergenceGuard({
    limit: hooks.nonFiniteSteps ?? TRAIN_OPTIONS.nonFiniteSteps.default,
    lr: c.lr,
    lastGood: state.epoch > 0 ? { epoch: state.epoch, file: ckptFile } : null,
  });
  return {
    c,
    hooks,
    log,
    emit,
    model,
    step: new Pix2PixStep(c, model, dropoutRng),
    data,
    dataRng: new Rng(state.dataRng),
    dropoutRng,
    bar,
    guard,
    ckptFile,
    stepFile: path.join(c.out, STEP_LOSSES_FILE),
    totalEpochs,
  };
}

/** Load a batch's pairs with training jitter; one forked Rng per sample, drawn in order, keeps it reproducible under prefetch. */
function loadBatch(run: TrainingRun, indices: number[]): Promise<{ input: Float32Array; target: Float32Array }[]> {
  const { c } = run;
  const rngs = indices.map(() => run.dataRng.fork());
  return Promise.all(
    indices.map((i, k) =>
      run.data.train.loadPair(i, {
        direction: c.direction,
        loadSize: c.loadSize,
        cropSize: c.size,
        jitter: true,
        rng: rngs[k],
        flip: c.flip,
        preprocess: c.preprocess,
      }),
    ),
  );
}

function toBatch(items: Float32Array[], size: number): tf.Tensor4D {
  const buf = new Float32Array(items.length * size * size * 3);
  items.forEach((a, i) => buf.set(a, i * size * size * 3));
  return tf.tensor4d(buf, [items.length, size, size, 3]);
}

/** One epoch's optimisation steps: shuffled batches, each loading while the one before trains. */
async function trainEpoch(run: TrainingRun, epoch: number, firstStep: number): Promise<EpochSteps> {
  const { c } = run;
  const startedAt = performance.now();
  const lr = c.lr * lrMultiplier(epoch, c.nEpochs, c.nEpochsDecay);
  const order = run.dataRng.shuffle([...Array(run.data.train.size).keys()]);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += c.batchSize) batches.push(order.slice(i, i + c.batchSize));
  const rows: StepRow[] = [];
  // Running sums for the progress line (a mean over all rows each step would grow with the epoch).
  const sums: StepLosses = { G_GAN: 0, G_L1: 0, D_real: 0, D_fake: 0 };
  const reads = new DeferredReads(readLosses, (l: StepLosses) => {
    const step = firstStep + rows.length + 1;
    run.guard.check(step, epoch, l);
    rows.push({ step, ...l });
    run.emit({ event: 'step', epoch, step, lr, ...l });
    for (const k of Object.keys(sums) as (keyof StepLosses)[]) sums[k] += l[k];
    const n = rows.length;
    const mean = { G_GAN: sums.G_GAN / n, G_L1: sums.G_L1 / n, D: (sums.D_real + sums.D_fake) / (2 * n) };
    run.bar.tick(1, `epoch ${epoch}/${run.totalEpochs} G_GAN ${mean.G_GAN.toFixed(3)} G_L1 ${mean.G_L1.toFixed(3)} D ${mean.D.toFixed(3)}`);
  });
  // Cached samples and CPU engines never wait on I/O: without this, a SIGTERM waits for the last epoch.
  const yieldToEventLoop = eventLoopYielder();
  for await (const pairs of prefetch(batches, (b) => loadBatch(run, b))) {
    const A = toBatch(
      pairs.map((p) => p.input),
      c.size,
    );
    const B = toBatch(
      pairs.map((p) => p.target),
      c.size,
    );
    const pending = run.step.run(A, B, lr);
    tf.dispose([A, B]);
    await reads.push(pending);
    await yieldToEventLoop();
  }
  await reads.flush();
  return { lr, rows, startedAt };
}

function meanLosses(rows: readonly StepLosses[]): StepLosses {
  const n = Math.max(rows.length, 1);
  const sum = (k: keyof StepLosses): number => rows.reduce((s, r) => s + r[k], 0) / n;
  return { G_GAN: sum('G_GAN'), G_L1: sum('G_L1'), D_real: sum('D_real'), D_fake: sum('D_fake') };
}

/** Validate, write samples, the step losses, the checkpoint and losses.csv; returns the new resume state. */
async function finishEpoch(run: TrainingRun, epoch: number, steps: EpochSteps, prev: ResumeState): Promise<ResumeState> {
  const { c, model, data } = run;
  const valL1 = data.val ? await validate(model.archs.G, model.G, data.val, c) : null;
  run.guard.checkValidation(epoch, valL1);
  const row: EpochRow = {
    epoch,
    steps: steps.rows.length,
    lr: steps.lr,
    ...meanLosses(steps.rows),
    val_L1: valL1 ?? '',
    seconds: (performance.now() - steps.startedAt) / 1000,
  };
  const state: ResumeState = {
    epoch,
    step: prev.step + steps.rows.length,
    dataRng: run.dataRng.state(),
    dropoutRng: run.dropoutRng.state(),
    adamG: model.optG.step,
    adamD: model.optD?.step ?? 0,
    history: [...prev.history, row],
  };
  // Before the checkpoint: a kill between the two leaves rows past the checkpoint's step, which
  // the resume truncates (after it, the kill would lose this epoch's rows for good).
  await appendStepLosses(run.stepFile, steps.rows);
  try {
    await saveCheckpoint(run, state);
  } catch (e) {
    // The checkpoint was refused (non-finite weights) or failed: its rows go, as a resume would drop them.
    await truncateStepLosses(run.stepFile, prev.step);
    throw e;
  }
  run.guard.passed(epoch, run.ckptFile);
  // After the checkpoint, so a refused one leaves no sample of an epoch that has no checkpoint.
  await writeSamples(model.archs.G, model.G, data.val ?? data.train, c, path.join(c.out, 'samples', `epoch_${String(epoch).padStart(3, '0')}.png`));
  await writeLosses(path.join(c.out, 'losses.csv'), state.history);
  run.emit({ event: 'epoch', ...row });
  run.emit({ event: 'checkpoint', epoch, file: run.ckptFile });
  await run.hooks.onEpoch?.(row);
  return state;
}

/** The checkpoint, written atomically; a non-finite tensor stops the write and keeps the previous file. */
async function saveCheckpoint(run: TrainingRun, state: ResumeState): Promise<void> {
  const { model, c } = run;
  const sources = model.checkpointSources().map((s) => ({
    ...s,
    read: async () => {
      const data = await s.read();
      if (firstNonFinite(data) !== undefined) run.guard.nonFiniteWeight(state.epoch, s.name);
      return data;
    },
  }));
  const header: CheckpointModel = {
    kind: 'pix2pix',
    generator: model.archs.G.options,
    discriminator: model.archs.D?.options ?? null,
    config: { ...c },
    epoch: state.epoch,
    version: PIX2PIX_TS_VERSION,
  };
  await writeCheckpointStreaming(run.ckptFile, { model: header, state: { ...state } }, sources);
}

async function writeLosses(file: string, rows: EpochRow[]): Promise<void> {
  await writeFileAtomic(file, `${Papa.unparse(rows, { newline: '\n' })}\n`);
}

function finishRun(run: TrainingRun, state: ResumeState, engine: string): TrainResult {
  run.bar.finish();
  const last = state.history.at(-1);
  run.emit({ event: 'done', epochs: state.epoch, checkpoint: run.ckptFile, last: last ?? null });
  if (last)
    run.log(
      `done: ${state.epoch} epochs, last G_L1 ${last.G_L1.toFixed(4)}${last.val_L1 !== '' ? `, val L1 ${last.val_L1.toFixed(4)}` : ''}; checkpoint ${run.ckptFile}`,
    );
  return { out: run.c.out, engine, epochs: state.epoch, history: state.history, checkpoint: run.ckptFile };
}

/** input | output | target, one row per sample, as an RGB image. */
function sampleGrid(rows: { input: Float32Array; output: Float32Array; target: Float32Array }[], size: number): RgbImage {
  const w = size * 3;
  const h = size * rows.length;
  const data = new Uint8Array(w * h * 3);
  rows.forEach((r, i) => {
    [r.input, r.output, r.target].forEach((panel, j) => {
      const img = fromUnitRange(panel, size, size);
      for (let y = 0; y < size; y++) {
        data.set(img.data.subarray(y * size * 3, (y + 1) * size * 3), ((i * size + y) * w + j * size) * 3);
      }
    });
  });
  return { width: w, height: h, data };
}

/** Mean L1 of G on val pairs, test-time preprocessing, per-image statistics, dropout off (deterministic). */
async function validate(gArch: GeneratorArch, G: Net, valSet: PairedDataset, c: TrainConfig): Promise<number> {
  const n = c.valLimit > 0 ? Math.min(c.valLimit, valSet.size) : valSet.size;
  let sum = 0;
  const yieldToEventLoop = eventLoopYielder();
  for (let i = 0; i < n; i++) {
    await yieldToEventLoop();
    const p = await valSet.loadPair(i, { direction: c.direction, loadSize: c.size, cropSize: c.size, jitter: false, preprocess: c.preprocess });
    const loss = tf.tidy(() => {
      const A = tf.tensor4d(p.input, [1, c.size, c.size, 3]);
      const B = tf.tensor4d(p.target, [1, c.size, c.size, 3]);
      return l1Loss(generatorForward(gArch, G.params, A, { normStats: 'instance', dropout: false }), B);
    });
    sum += (await loss.data())[0];
    loss.dispose();
  }
  return sum / n;
}

async function writeSamples(gArch: GeneratorArch, G: Net, set: PairedDataset, c: TrainConfig, file: string): Promise<void> {
  const rows: { input: Float32Array; output: Float32Array; target: Float32Array }[] = [];
  for (let i = 0; i < Math.min(c.sampleRows, set.size); i++) {
    const p = await set.loadPair(i, { direction: c.direction, loadSize: c.size, cropSize: c.size, jitter: false, preprocess: c.preprocess });
    const out = tf.tidy(() => generatorForward(gArch, G.params, tf.tensor4d(p.input, [1, c.size, c.size, 3]), { normStats: 'instance', dropout: false }));
    const output = (await out.data()) as Float32Array;
    out.dispose();
    rows.push({ input: p.input, output, target: p.target });
  }
  if (rows.length) await writeImage(file, sampleGrid(rows, c.size));
}
