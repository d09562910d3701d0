/**
 * The pix2pix training loop (spec §3): G and D with Adam(2e-4, 0.5), L1 + GAN/cGAN losses, constant then
 * linearly decaying learning rate, a checkpoint written atomically at the end of every epoch, and exact
 * resumption (weights, optimizer state, RNG streams, data order) after a crash or kill.
 *
 * Update order: both gradients are taken from the same forward pass with the pre-update D (the [TF-A] /
 * [LUA] ordering, spec §3.3); this costs one G forward per step, like the reference.
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
import { claimOutputFolder, resolveInside } from '../util/paths.ts';
import { ProgressBar } from '../util/progress.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { Adam } from './adam.ts';
import { CHECKPOINT_FILE, type CheckpointModel, type CheckpointTensorSource, readCheckpoint, writeCheckpointStreaming } from './checkpoint.ts';
import { conditionalD, discriminatorOptions, generatorOptions, type TrainConfig, upgradeStoredConfig, usesGan, usesL1 } from './config.ts';
import { selectEngine, type LoadedEngine } from './engines/registry.ts';
import { ganLoss, l1Loss, lrMultiplier } from './losses.ts';
import { canonicalFlag } from '../options/define.ts';
import { TRAIN_OPTIONS } from '../options/train.ts';
import {
  assertGeneratorInput,
  BN_MOMENTUM,
  countParams,
  type DiscriminatorArch,
  discriminatorArch,
  discriminatorOutputSide,
  type GeneratorArch,
  generatorArch,
  receptiveField,
} from '../nets/arch.ts';
import { discriminatorForward, generatorForward } from './nets/forward.ts';
import { initParams, type ParamArrays } from './nets/init.ts';
import { disposeNet, gradsByParamName, makeNet, type Net } from './nets/variables.ts';
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
}

/** What `train` (and `export` beside it) writes into a run folder: anything else there is someone else's. */
const RUN_FOLDER_FILES = new Set([CHECKPOINT_FILE, 'config.json', 'losses.csv', STEP_LOSSES_FILE, 'samples', 'model.onnx', 'model_D.onnx']);

function toBatch(items: Float32Array[], size: number): tf.Tensor4D {
  const buf = new Float32Array(items.length * size * size * 3);
  items.forEach((a, i) => buf.set(a, i * size * size * 3));
  return tf.tensor4d(buf, [items.length, size, size, 3]);
}

/** Exponential running averages with PyTorch's rule (unbiased batch variance). */
function updateRunningStats(net: Net, stats: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>): void {
  tf.tidy(() => {
    for (const [layer, { mean, variance, count }] of stats) {
      const rm = net.vars.get(`${layer}.running_mean`)!;
      const rv = net.vars.get(`${layer}.running_var`)!;
      const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
      rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
      rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
    }
  });
  for (const { mean, variance } of stats.values()) {
    mean.dispose();
    variance.dispose();
  }
  stats.clear();
}

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

async function saveCheckpoint(file: string, c: TrainConfig, G: Net, D: Net | null, optG: Adam, optD: Adam | null, state: ResumeState): Promise<void> {
  const sources: CheckpointTensorSource[] = [];
  // Read lazily: each tensor is copied out of the backend only when the writer reaches it.
  const put = (name: string, t: tf.Tensor): void => {
    sources.push({ name, shape: [...t.shape], read: async () => (await t.data()) as Float32Array });
  };
  for (const [n, v] of G.vars) put(`G/${n}`, v);
  if (D) for (const [n, v] of D.vars) put(`D/${n}`, v);
  for (const [n, v] of optG.m) put(`optG/m/${n}`, v);
  for (const [n, v] of optG.v) put(`optG/v/${n}`, v);
  if (optD) {
    for (const [n, v] of optD.m) put(`optD/m/${n}`, v);
    for (const [n, v] of optD.v) put(`optD/v/${n}`, v);
  }
  const model: CheckpointModel = {
    kind: 'pix2pix',
    generator: (G.arch as GeneratorArch).options,
    discriminator: D ? (D.arch as DiscriminatorArch).options : null,
    config: { ...c },
    epoch: state.epoch,
    version: PIX2PIX_TS_VERSION,
  };
  await writeCheckpointStreaming(file, { model, state: { ...state } }, sources);
}

function arraysFrom(tensors: Map<string, Float32Array>, prefix: string): ParamArrays {
  const out: ParamArrays = new Map();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

async function writeLosses(file: string, rows: EpochRow[]): Promise<void> {
  await writeFileAtomic(file, `${Papa.unparse(rows, { newline: '\n' })}\n`);
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

export async function train(c: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((line: string) => (hooks.quiet ? undefined : process.stderr.write(`${line}\n`)));
  const gArch = generatorArch(generatorOptions(c));
  assertGeneratorInput(gArch, c.size);
  const dOpts = discriminatorOptions(c);
  const dArch = dOpts ? discriminatorArch(dOpts) : null;
  if (dArch) discriminatorOutputSide(dArch, c.size);

  await claimOutputFolder(c.out, {
    flag: '--out',
    command: 'train',
    force: hooks.force,
    recursive: true,
    isOwn: (n) => RUN_FOLDER_FILES.has(n) || /\.onnx(\.json)?$/.test(n),
    log,
  });
  // Everything train writes is one of these names in --out; none may lead elsewhere through a symlink.
  for (const name of [CHECKPOINT_FILE, 'config.json', 'losses.csv', STEP_LOSSES_FILE, 'samples']) await resolveInside(c.out, name, '--out');
  const ckptFile = path.join(c.out, CHECKPOINT_FILE);
  const resuming = await exists(ckptFile);
  if (resuming && !hooks.resume) throw new UserError(`${c.out} already holds a checkpoint: pass --resume to continue it, or choose another --out`);
  if (!resuming && hooks.resume) throw new UserError(`--resume: no ${CHECKPOINT_FILE} in ${c.out} to resume from`);
  // Decoded pairs are cached (small datasets then train without re-decoding every epoch).
  const cacheBytes = 1 << 30;
  const trainSet = await openPairedDataset(c.data, 'train', { skipBad: c.skipBad, cacheBytes });
  if (trainSet.size === 0) throw new UserError(`no training pairs in ${c.data}/train`);
  let valSet: PairedDataset | null;
  try {
    valSet = await openPairedDataset(c.data, 'val', { skipBad: c.skipBad, cacheBytes: cacheBytes / 4 });
  } catch {
    valSet = null; // a dataset without a val split trains fine; val L1 is then left empty
  }

  const engine: LoadedEngine = await selectEngine(c.engine, c.threads === undefined ? {} : { threads: c.threads });
  log(
    `engine: ${engine.name}${engine.device ? ` on ${engine.device}` : ''}${engine.threads !== undefined ? ` (${engine.threads} threads)` : ''}${engine.skipped.length ? ` (skipped ${engine.skipped.map((s) => s.split(':')[0]).join(', ')})` : ''}`,
  );

  let state: ResumeState;
  let gArrays: ParamArrays;
  let dArrays: ParamArrays | null = null;
  let optArrays: Map<string, Float32Array> | null = null;
  if (resuming) {
    const ckpt = await readCheckpoint(ckptFile);
    const prev = upgradeStoredConfig(ckpt.header.model.config ?? {}) as unknown as TrainConfig;
    const diffs = Object.keys(c).filter(
      (k) => !RESUMABLE_CHANGES.has(k) && JSON.stringify(prev[k as keyof TrainConfig]) !== JSON.stringify(c[k as keyof TrainConfig]),
    );
    if (diffs.length) {
      throw new UserError(
        `${ckptFile} was trained with different settings (${diffs.map((k) => `${canonicalFlag(TRAIN_OPTIONS, k)} ${JSON.stringify(prev[k as keyof TrainConfig])}`).join(', ')}); use the same flags or another --out`,
      );
    }
    state = ckpt.header.state as unknown as ResumeState;
    gArrays = arraysFrom(ckpt.tensors, 'G/');
    if (dArch) dArrays = arraysFrom(ckpt.tensors, 'D/');
    optArrays = ckpt.tensors;
    log(`resuming from ${ckptFile} after epoch ${state.epoch}`);
  } else {
    const initRng = new Rng(c.seed);
    gArrays = initParams(gArch, initRng);
    if (dArch) dArrays = initParams(dArch, initRng);
    state = { epoch: 0, step: 0, dataRng: new Rng(c.seed + 1).state(), dropoutRng: new Rng(c.seed + 2).state(), adamG: 0, adamD: 0, history: [] };
  }
  await fsp.mkdir(path.join(c.out, 'samples'), { recursive: true });
  await writeFileAtomic(path.join(c.out, 'config.json'), `${JSON.stringify({ ...c, engine: engine.name }, null, 2)}\n`);

  const G = makeNet(gArch, gArrays);
  const D = dArch && dArrays ? makeNet(dArch, dArrays) : null;
  const optG = new Adam(G.trainable, { beta1: c.beta1, beta2: 0.999, epsilon: 1e-8 });
  const optD = D ? new Adam(D.trainable, { beta1: c.beta1, beta2: 0.999, epsilon: 1e-8 }) : null;
  if (optArrays) {
    const restore = (opt: Adam, prefix: string, step: number): void => {
      opt.step = step;
      const load = (v: tf.Variable, key: string): void => {
        const t = tf.tensor(optArrays!.get(key)!, v.shape);
        v.assign(t);
        t.dispose();
      };
      for (const [n, v] of opt.m) load(v, `${prefix}/m/${n}`);
      for (const [n, v] of opt.v) load(v, `${prefix}/v/${n}`);
    };
    restore(optG, 'optG', state.adamG);
    if (optD) restore(optD, 'optD', state.adamD);
  }

  log(`G: ${c.netG} (${gArch.options.kind}, ngf ${c.ngf}, ${c.norm} norm), ${countParams(gArch).toLocaleString('en-US')} parameters`);
  if (dArch) {
    log(
      `D: ${dArch.options.nLayers === 0 ? 'PixelGAN' : 'PatchGAN'} n_layers ${dArch.options.nLayers}, receptive field ${receptiveField(dArch.layers)}×${receptiveField(dArch.layers)}, ${dArch.options.conditional ? 'conditional' : 'unconditional'}, ${countParams(dArch).toLocaleString('en-US')} parameters, ${discriminatorOutputSide(dArch, c.size)}² logits`,
    );
  } else log('D: none (L1 loss only)');
  log(
    `data: ${trainSet.size} train pairs${valSet ? `, ${valSet.size} val pairs` : ''}, ${c.direction}, load ${c.loadSize} → crop ${c.size}, batch ${c.batchSize}`,
  );

  const totalEpochs = c.nEpochs + c.nEpochsDecay;
  const stepsPerEpoch = Math.ceil(trainSet.size / c.batchSize);
  log(
    `schedule: ${totalEpochs} epoch${totalEpochs === 1 ? '' : 's'} in all (${c.nEpochs} at lr ${c.lr}, then ${c.nEpochsDecay} decaying linearly to 0), ${stepsPerEpoch} steps each`,
  );
  const emit = hooks.onEvent ?? (() => undefined);
  emit({
    event: 'start',
    config: c,
    engine: engine.name,
    totalEpochs,
    stepsPerEpoch,
    trainPairs: trainSet.size,
    valPairs: valSet?.size ?? 0,
    resumedAfterEpoch: state.epoch,
  });
  const bar = new ProgressBar({ label: 'train', total: totalEpochs * stepsPerEpoch, unit: 'step', quiet: hooks.quiet });
  bar.set(state.epoch * stepsPerEpoch);
  const dataRng = new Rng(state.dataRng);
  const dropoutRng = new Rng(state.dropoutRng);
  const model = new Pix2PixStep(c, G, D, optG, optD, dropoutRng);

  const loadBatch = (indices: number[]): Promise<{ input: Float32Array; target: Float32Array }[]> => {
    // One forked Rng per sample, drawn synchronously in order, keeps jitter reproducible under prefetch.
    const rngs = indices.map(() => dataRng.fork());
    return Promise.all(
      indices.map((i, k) =>
        trainSet.loadPair(i, {
          direction: c.direction,
          loadSize: c.loadSize,
          cropSize: c.size,
          jitter: true,
          rng: rngs[k]!,
          flip: c.flip,
          preprocess: c.preprocess,
        }),
      ),
    );
  };

  const stepFile = path.join(c.out, STEP_LOSSES_FILE);
  await truncateStepLosses(stepFile, state.step);
  // Cached samples and CPU engines never wait on I/O: without this, a SIGTERM waits for the last epoch.
  const yieldToEventLoop = eventLoopYielder();
  try {
    for (let epoch = state.epoch + 1; epoch <= totalEpochs; epoch++) {
      const t0 = performance.now();
      const lr = c.lr * lrMultiplier(epoch, c.nEpochs, c.nEpochsDecay);
      const order = dataRng.shuffle([...Array(trainSet.size).keys()]);
      const batches: number[][] = [];
      for (let i = 0; i < order.length; i += c.batchSize) batches.push(order.slice(i, i + c.batchSize));
      const sums = { G_GAN: 0, G_L1: 0, D_real: 0, D_fake: 0 };
      let read = 0;
      const stepRows: StepRow[] = [];
      const firstStep = state.step;
      // Losses stay on the device and are read back a few steps at a time, in step order (the sums are
      // the same as reading each step at once): a GPU then never waits for the CPU inside a step.
      const pending: PendingLosses[] = [];
      const flush = async (): Promise<void> => {
        for (const l of await Promise.all(pending.splice(0).map(readLosses))) {
          sums.G_GAN += l.G_GAN;
          sums.G_L1 += l.G_L1;
          sums.D_real += l.D_real;
          sums.D_fake += l.D_fake;
          read += 1;
          stepRows.push({ step: firstStep + read, G_GAN: l.G_GAN, G_L1: l.G_L1, D_real: l.D_real, D_fake: l.D_fake });
          emit({ event: 'step', epoch, step: firstStep + read, lr, ...l });
          bar.tick(
            1,
            `epoch ${epoch}/${totalEpochs} G_GAN ${(sums.G_GAN / read).toFixed(3)} G_L1 ${(sums.G_L1 / read).toFixed(3)} D ${((sums.D_real + sums.D_fake) / (2 * read)).toFixed(3)}`,
          );
        }
      };
      // The next batch loads (on libuv's threads) while this one trains.
      for await (const pairs of prefetch(batches, loadBatch)) {
        const A = toBatch(
          pairs.map((p) => p.input),
          c.size,
        );
        const B = toBatch(
          pairs.map((p) => p.target),
          c.size,
        );
        pending.push(model.run(A, B, lr));
        tf.dispose([A, B]);
        state.step += 1;
        if (pending.length >= LOSS_READ_EVERY) await flush();
        await yieldToEventLoop();
      }
      await flush();
      const n = batches.length;
      const valL1 = valSet ? await validate(gArch, G, valSet, c) : null;
      const row: EpochRow = {
        epoch,
        steps: n,
        lr,
        G_GAN: sums.G_GAN / n,
        G_L1: sums.G_L1 / n,
        D_real: sums.D_real / n,
        D_fake: sums.D_fake / n,
        val_L1: valL1 ?? '',
        seconds: (performance.now() - t0) / 1000,
      };
      await writeSamples(gArch, G, valSet ?? trainSet, c, path.join(c.out, 'samples', `epoch_${String(epoch).padStart(3, '0')}.png`));
      state = {
        epoch,
        step: state.step,
        dataRng: dataRng.state(),
        dropoutRng: dropoutRng.state(),
        adamG: optG.step,
        adamD: optD?.step ?? 0,
        history: [...state.history, row],
      };
      // Before the checkpoint: a kill between the two leaves rows past the checkpoint's step, which
      // the resume truncates (after it, the kill would lose this epoch's rows for good).
      await appendStepLosses(stepFile, stepRows);
      await saveCheckpoint(ckptFile, c, G, D, optG, optD, state);
      await writeLosses(path.join(c.out, 'losses.csv'), state.history);
      emit({ event: 'epoch', ...row });
      emit({ event: 'checkpoint', epoch, file: ckptFile });
      await hooks.onEpoch?.(row);
    }
    bar.finish();
    const last = state.history.at(-1);
    emit({ event: 'done', epochs: state.epoch, checkpoint: ckptFile, last: last ?? null });
    if (last)
      log(
        `done: ${state.epoch} epochs, last G_L1 ${last.G_L1.toFixed(4)}${last.val_L1 !== '' ? `, val L1 ${last.val_L1.toFixed(4)}` : ''}; checkpoint ${ckptFile}`,
      );
    return { out: c.out, engine: engine.name, epochs: state.epoch, history: state.history, checkpoint: ckptFile };
  } finally {
    optG.dispose();
    optD?.dispose();
    disposeNet(G);
    disposeNet(D);
  }
}

export interface StepLosses {
  G_GAN: number;
  G_L1: number;
  D_real: number;
  D_fake: number;
}

/** A step's losses still on the device (null: that loss is not used); `readLosses` reads and disposes them. */
export type PendingLosses = { [K in keyof StepLosses]: tf.Scalar | null };

/** Steps between loss read-backs in the training loop (each read waits for the device to finish). */
export const LOSS_READ_EVERY = 8;

/** Read a step's losses back (async: GPU backends cannot read synchronously in Node) and free them. */
export async function readLosses(p: PendingLosses): Promise<StepLosses> {
  const keys = Object.keys(p) as (keyof StepLosses)[];
  const values = await Promise.all(keys.map(async (k) => (p[k] ? ((await p[k]!.data())[0] ?? 0) : 0)));
  tf.dispose(keys.map((k) => p[k]).filter((t): t is tf.Scalar => t !== null));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!])) as unknown as StepLosses;
}

type BatchStats = Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>;

/**
 * One pix2pix optimisation step on a batch: G and D gradients from one forward pass
 * (G loss = GAN(D(A, G(A)), real) + λ·L1; D loss = ½[GAN(D(A,B), real) + GAN(D(A, G(A)), fake)]),
 * then Adam updates and running-statistics updates.
 */
export class Pix2PixStep {
  private readonly gStats: BatchStats = new Map();
  private readonly dStats: BatchStats = new Map();
  private readonly useGan: boolean;
  private readonly useL1: boolean;
  private readonly cond: boolean;

  constructor(
    private readonly c: Pick<TrainConfig, 'loss' | 'ganMode' | 'lambdaL1'>,
    private readonly G: Net,
    private readonly D: Net | null,
    private readonly optG: Adam,
    private readonly optD: Adam | null,
    private readonly dropoutRng: Rng,
  ) {
    this.useGan = usesGan(c.loss) && D !== null;
    this.useL1 = usesL1(c.loss);
    this.cond = conditionalD(c.loss);
  }

  /** One step, reading its losses back before returning. */
  async step(A: tf.Tensor4D, B: tf.Tensor4D, lr: number): Promise<StepLosses> {
    return readLosses(this.run(A, B, lr));
  }

  /** One step, without waiting for the device: the losses are returned as tensors for `readLosses`. */
  run(A: tf.Tensor4D, B: tf.Tensor4D, lr: number): PendingLosses {
    const { G, D, c } = this;
    const gArch = G.arch as GeneratorArch;
    const dArch = D?.arch as DiscriminatorArch | undefined;
    let fake: tf.Tensor4D | null = null;
    let gGan: tf.Scalar | null = null;
    let gL1: tf.Scalar | null = null;
    const gOut = tf.variableGrads(() => {
      const out = generatorForward(gArch, G.params, A, { normStats: 'batch', dropout: true, rng: this.dropoutRng, batchStats: this.gStats });
      fake = tf.keep(out);
      let loss = tf.scalar(0);
      if (this.useGan) {
        const pred = discriminatorForward(dArch!, D!.params, this.cond ? tf.concat([A, out], 3) : out, { normStats: 'batch', dropout: false });
        gGan = tf.keep(ganLoss(pred, 1, c.ganMode));
        loss = tf.add(loss, gGan);
      }
      if (this.useL1) {
        gL1 = tf.keep(l1Loss(out, B));
        loss = tf.add(loss, tf.mul(gL1, c.lambdaL1));
      }
      return loss as tf.Scalar;
    }, [...G.trainable.values()]);
    let dReal: tf.Scalar | null = null;
    let dFake: tf.Scalar | null = null;
    let dOut: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
    if (this.useGan) {
      const fakeIn = this.cond ? tf.concat([A, fake!], 3) : fake!;
      const realIn = this.cond ? tf.concat([A, B], 3) : B;
      dOut = tf.variableGrads(() => {
        const pr = discriminatorForward(dArch!, D!.params, realIn, { normStats: 'batch', dropout: false, batchStats: this.dStats });
        const pf = discriminatorForward(dArch!, D!.params, fakeIn, { normStats: 'batch', dropout: false });
        dReal = tf.keep(ganLoss(pr, 1, c.ganMode));
        dFake = tf.keep(ganLoss(pf, 0, c.ganMode));
        return tf.mul(tf.add(dReal, dFake), 0.5) as tf.Scalar;
      }, [...D!.trainable.values()]);
      if (fakeIn !== fake) fakeIn.dispose();
      if (realIn !== B) realIn.dispose();
    }
    this.optG.apply(gradsByParamName(G, gOut.grads), lr);
    updateRunningStats(G, this.gStats);
    if (dOut && D && this.optD) {
      this.optD.apply(gradsByParamName(D, dOut.grads), lr);
      updateRunningStats(D, this.dStats);
    }
    const losses: PendingLosses = { G_GAN: gGan, G_L1: gL1, D_real: dReal, D_fake: dFake };
    tf.dispose([fake, gOut.value, ...Object.values(gOut.grads)].filter((t): t is tf.Tensor => t !== null));
    if (dOut) tf.dispose([dOut.value, ...Object.values(dOut.grads)]);
    return losses;
  }
}

/** Build G, D and their optimizers from freshly initialised weights (benchmarks, library use). */
export function createPix2Pix(
  c: Pick<TrainConfig, 'loss' | 'ganMode' | 'lambdaL1' | 'beta1' | 'seed'>,
  gArch: GeneratorArch,
  dArch: DiscriminatorArch | null,
): { step: Pix2PixStep; dispose(): void } {
  const rng = new Rng(c.seed);
  const G = makeNet(gArch, initParams(gArch, rng));
  const D = dArch ? makeNet(dArch, initParams(dArch, rng)) : null;
  const optG = new Adam(G.trainable, { beta1: c.beta1, beta2: 0.999, epsilon: 1e-8 });
  const optD = D ? new Adam(D.trainable, { beta1: c.beta1, beta2: 0.999, epsilon: 1e-8 }) : null;
  return {
    step: new Pix2PixStep(c, G, D, optG, optD, new Rng(c.seed + 2)),
    dispose() {
      optG.dispose();
      optD?.dispose();
      disposeNet(G);
      disposeNet(D);
    },
  };
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
    sum += (await loss.data())[0]!;
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
