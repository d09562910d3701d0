/**
 * Batch translation of an image folder with an ONNX generator.
 *
 * Pipeline: while batch k runs in onnxruntime, the decodes of batch k+1 (libvips, on the libuv
 * pool) are already queued, and the encodes of batch k−1 are still running; `session.run` keeps the
 * JS thread busy but not libvips's threads. Every output is written to a temporary name and renamed,
 * so a killed run never leaves a truncated image; unreadable inputs are reported and skipped.
 */
import * as path from 'node:path';
import { explainNoImages, listInputImages } from '../data/listing.ts';
import type { ArgsOf } from '../options/define.ts';
import type { INFER_OPTIONS } from '../options/infer.ts';
import { InFlight, prefetch } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { checkDisjointTrees, checkNotRootOrHome, claimOutputFolder, describeFsError, resolveInside } from '../util/paths.ts';
import { ProgressBar } from '../util/progress.ts';
import { pixelBudget, UnreadableImage } from '../image/decode.ts';
import { type BandedImage, planBanded, translateBanded } from './banded.ts';
import { encodeRgb, type OutputFormat, type PreparedImage, prepareImage, setVipsThreads } from './images.ts';
import type { RgbView } from './native-size.ts';
import { outputNames } from './output-names.ts';
import { type ModelSession, openSession } from './session.ts';
import { describeSizeMode, resolveSizeMode, type SizeMode } from './size-mode.ts';
import type { TileBlend } from './tiles.ts';
import { type ImageWork, type Piece, ShapeBatcher, tiledImageWork, wholeImageWork } from './work.ts';
import { outputsExist, writeGallery, writeTriplet } from './gallery-files.ts';
import { tripletCollision, tripletNames } from './gallery.ts';

export { outputNames };

const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpg', 'webp'];

export interface Shard {
  index: number;
  count: number;
}

/**
 * The `infer` flags translateFolder takes as the CLI parsed them, derived from INFER_OPTIONS so a
 * new flag reaches it by type; --size, --shard and --max-model-memory arrive parsed (below), and
 * --json and --task-count are the CLI's own.
 */
type InferFlags = Partial<Omit<ArgsOf<typeof INFER_OPTIONS>, 'model' | 'input' | 'output' | 'size' | 'shard' | 'taskCount' | 'maxModelMemory' | 'json'>>;

export interface TranslateOptions extends InferFlags {
  /** Model file, or a session opened by the caller (kept open). */
  model: string | ModelSession;
  input: string;
  output: string;
  /**
   * Model input side: 'native' (default for models whose H and W are free) runs each image at its
   * own size, reflect-padded to the model's multiple and cropped back; a number resizes to N×N.
   */
  size?: number | 'native';
  shard?: Shard;
  /** Refuse models that may need more memory than this many bytes (see model-policy.ts). */
  maxModelMemory?: number;
  /** How tiles are blended: 'cosine' (default) or 'none' (hard cut mid-overlap, to show the seams). */
  tileBlend?: TileBlend;
  /** Where the provider line and per-file failures go (default stderr unless quiet). */
  log?: (line: string) => void;
}

export interface TranslateResult {
  /** Images in this shard. */
  total: number;
  translated: number;
  skipped: number;
  failed: { file: string; reason: string }[];
  seconds: number;
  /** Time inside session.run, for comparing with end-to-end throughput. */
  sessionSeconds: number;
  /**
   * Where the JS thread spent its time (seconds): waiting for decodes, building input tensors,
   * cropping/blending outputs, waiting for encodes to catch up. Decodes and encodes themselves run
   * on libuv's threads, overlapping these.
   */
  stageSeconds: { decodeWait: number; toTensor: number; fromTensor: number; encodeWait: number };
  provider: string;
  size: number | 'native';
}

/** Parse `i/n` (0-based i) as given to --shard. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new UserError(`--shard '${spec}' should be i/n with 0 ≤ i < n, e.g. --shard 0/4 or --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  checkShard(shard, spec);
  return shard;
}

function checkShard(s: Shard, spec = `${s.index}/${s.count}`): void {
  if (!Number.isInteger(s.count) || s.count < 1) throw new UserError(`--shard ${spec}: n must be at least 1`);
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) throw new UserError(`--shard ${spec}: i must be in 0..${s.count - 1} (it is 0-based)`);
}

/** The i-th of n contiguous, disjoint slices of `items` (sizes differ by at most one). */
export function shardSlice<T>(items: readonly T[], s: Shard): T[] {
  checkShard(s);
  const start = Math.floor((s.index * items.length) / s.count);
  const end = Math.floor(((s.index + 1) * items.length) / s.count);
  return items.slice(start, end);
}

interface Job {
  rel: string;
  outRel: string;
}

type Loaded = { job: Job; image: PreparedImage } | { job: Job; banded: BandedImage } | { job: Job; error: string };

function checkPositiveInt(v: number | undefined, flag: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UserError(`${flag} must be a positive integer (got ${v})`);
}

/** Flag values and combinations, checked before anything is read or created. */
function checkFlags(o: TranslateOptions): { batchSize: number; format: OutputFormat } {
  const batchSize = o.batchSize ?? 4;
  checkPositiveInt(batchSize, '--batch-size');
  if (o.size !== 'native') checkPositiveInt(o.size, '--size');
  const format = o.format ?? 'png';
  if (!OUTPUT_FORMATS.includes(format)) throw new UserError(`--format must be one of ${OUTPUT_FORMATS.join(', ')} (got '${format}')`);
  if (o.abSide !== undefined && o.abSide !== 'A' && o.abSide !== 'B') throw new UserError(`--ab-side must be A or B (got '${o.abSide}')`);
  if (o.html && o.shard)
    throw new UserError(
      '--html with --shard: each shard would overwrite the pages; after all shards finish, run once more with --skip-existing --html (no --shard) to write the gallery',
    );
  return { batchSize, format };
}

/** What the input folder holds for this run: every image, this shard's, their output names, and what infer will write. */
interface InputPlan {
  all: string[];
  mine: string[];
  names: Map<string, string>;
  /** Entries the listing could not use (reported by the first shard only). */
  unusable: { file: string; reason: string }[];
  triplets: boolean;
  /** Whether a top-level name in the output folder is one infer writes (outputs, triplets, gallery pages). */
  isOwn: (name: string) => boolean;
}

/** List and name the inputs; a folder with nothing to translate is a UserError saying why and what to do. */
async function planInputs(o: TranslateOptions, format: OutputFormat): Promise<InputPlan> {
  const recursive = o.recursive ?? false;
  const listed = await listInputImages(o.input, { recursive });
  if (listed.files.length === 0) throw new UserError(`no images to translate in ${o.input}: ${await explainNoImages(o.input, listed, recursive)}`);
  const all = listed.files;
  const names = outputNames(all, format);
  const triplets = Boolean(o.saveTriplets || o.html);
  if (triplets) {
    const clash = tripletCollision(names.values(), o.abSide !== undefined);
    if (clash) throw new UserError(`--save-triplets/--html would write ${clash.name} for ${clash.owner}, which is another input's output: rename one of them`);
  }
  const ownTop = new Set(
    [...names.values()].flatMap((n) => {
      const t = tripletNames(n);
      return [n, t.input, t.target].map((f) => f.split('/')[0]);
    }),
  );
  return {
    all,
    mine: o.shard ? shardSlice(all, o.shard) : all,
    names,
    unusable: !o.shard || o.shard.index === 0 ? listed.skipped : [],
    triplets,
    isOwn: (n) => ownTop.has(n) || /^index(-\d+)?\.html$/.test(n),
  };
}

/** What infer needs of the model: RGB in, RGB or gray out, and how this run sizes its inputs. */
function checkModelFits(session: ModelSession, o: TranslateOptions): SizeMode {
  const { io, inputName, outputName } = session;
  if (io.inputChannels !== 3)
    throw new UserError(
      `the model's input '${inputName}' takes ${io.inputChannels} channel(s); infer feeds RGB images (3 channels) as [batch, 3, height, width]`,
    );
  if (io.outputChannels !== 3 && io.outputChannels !== 1)
    throw new UserError(`the model's output '${outputName}' has ${io.outputChannels} channels; infer writes RGB or gray images (3 or 1)`);
  return resolveSizeMode({ size: o.size, tile: o.tile, overlap: o.overlap }, io);
}

function describeRun(session: ModelSession, mode: SizeMode, plan: InputPlan, o: TranslateOptions, batchSize: number): string {
  const shard = o.shard ? ` (shard ${o.shard.index}/${o.shard.count} of ${plan.all.length})` : '';
  const device = session.device ? ` on ${session.device}` : '';
  const skipped = session.skippedProviders.length ? ` (skipped ${session.skippedProviders.join('; ')})` : '';
  return `infer: ${plan.mine.length} image(s)${shard}, provider ${session.provider}${device}${skipped}, ${session.threads} thread(s), ${describeSizeMode(mode, session.io)}, batch ${session.io.fixedBatch ?? batchSize}`;
}

/** This shard's images minus those whose outputs exist (with --skip-existing). */
async function pendingJobs(o: TranslateOptions, plan: InputPlan): Promise<{ jobs: Job[]; skipped: number }> {
  const jobs: Job[] = [];
  let skipped = 0;
  for (const rel of plan.mine) {
    const outRel = plan.names.get(rel)!;
    if (o.skipExisting && (await outputsExist(o.output, outRel, plan.triplets, o.abSide !== undefined))) skipped++;
    else jobs.push({ rel, outRel });
  }
  return { jobs, skipped };
}

/** One image's model inputs: whole (square or native, padded) or in tiles. */
function imageWork(mode: SizeMode, image: PreparedImage, outputChannels: number, blend: TileBlend | undefined): ImageWork {
  if (mode.kind === 'square') return wholeImageWork(image, 1);
  if (mode.tile !== undefined && (image.width > mode.tile || image.height > mode.tile))
    return tiledImageWork(image, mode.multiple, mode.tile, mode.overlap, outputChannels, blend);
  return wholeImageWork(image, mode.multiple);
}

type StageSeconds = TranslateResult['stageSeconds'];

/**
 * Decode → batch → run → encode for every job, overlapped: decodes run ahead of inference, encodes
 * behind it, and every output is written atomically. Unreadable inputs and failed writes are counted
 * in `failed` and logged.
 */
async function translateJobs(
  o: TranslateOptions,
  session: ModelSession,
  mode: SizeMode,
  jobs: Job[],
  run: { perRun: number; format: OutputFormat; triplets: boolean; skipped: number; failed: { file: string; reason: string }[]; log: (line: string) => void },
): Promise<{ translated: number; sessionSeconds: number; stageSeconds: StageSeconds }> {
  const { perRun, format, triplets } = run;
  const fail = (file: string, reason: string): void => {
    run.failed.push({ file, reason });
    run.log(`infer: skipped ${file}: ${reason}`);
  };
  const io = session.io;
  const outC = io.outputChannels;
  const prepareSize = mode.kind === 'square' ? mode.size : 'native';
  const bar = new ProgressBar({ label: 'infer', total: jobs.length, unit: 'img', quiet: o.quiet });
  const stageSeconds: StageSeconds = { decodeWait: 0, toTensor: 0, fromTensor: 0, encodeWait: 0 };
  const since = (t: number): number => (performance.now() - t) / 1000;
  let translated = 0;
  let sessionSeconds = 0;

  // With --tile, an image over the pixel budget goes band by band (banded.ts) instead of whole.
  const tiled = mode.kind === 'native' && mode.tile !== undefined ? { ...mode, tile: mode.tile } : undefined;
  const maxPixels = o.maxPixels ?? pixelBudget();
  const load = async (job: Job): Promise<Loaded> => {
    const file = path.join(o.input, job.rel);
    try {
      const route = tiled ? await planBanded({ file, half: o.abSide, ...tiled, maxPixels, format, triplets }) : {};
      if (route.banded) return { job, banded: route.banded };
      return { job, image: await prepareImage(file, prepareSize, o.abSide, o.maxPixels, route.header) };
    } catch (e) {
      return { job, error: e instanceof UnreadableImage ? e.message : String(e) };
    }
  };

  const runBanded = async (job: Job, image: BandedImage): Promise<void> => {
    const rows = new ProgressBar({ label: `infer ${job.rel}`, total: image.height, unit: 'row', quiet: o.quiet });
    try {
      await translateBanded(image, await resolveInside(o.output, job.outRel), {
        ...tiled!,
        session,
        blend: o.tileBlend,
        perRun,
        progress: (n) => rows.set(n),
      });
      translated++;
      bar.tick(1, session.provider);
    } catch (e) {
      // One image's problem (an unreadable input, a refused write, which the atomic writer words as
      // "cannot write …"): skip it. Anything else (the model failing, a bug) stops the run, as in runBatch.
      if (!(e instanceof UserError || e instanceof UnreadableImage)) throw e;
      fail(job.rel, e.message);
      bar.tick(1);
    }
  };

  const pending = new InFlight();
  const encode = (job: Job, image: PreparedImage, result: RgbView): void => {
    const target = path.join(o.output, job.outRel);
    const resizeTo = mode.kind === 'square' && o.keepSize ? { width: image.sourceWidth, height: image.sourceHeight } : undefined;
    const writes = [encodeRgb(result, format, resizeTo).then(async (bytes) => writeFileAtomic(await resolveInside(o.output, job.outRel), bytes))];
    if (triplets) writes.push(writeTriplet(o.input, o.output, job, image, prepareSize, format, resizeTo, o.abSide, o.maxPixels));
    pending.add(
      Promise.all(writes).then(
        () => {
          translated++;
          bar.tick(1, session.provider);
        },
        (e: unknown) => {
          fail(job.rel, e instanceof UserError ? e.message : `cannot write ${target}: ${describeFsError(e)}`);
          bar.tick(1);
        },
      ),
    );
  };

  const owners = new Map<ImageWork, Extract<Loaded, { image: PreparedImage }>>();
  const runBatch = async (pieces: Piece<ImageWork>[]): Promise<void> => {
    const { height, width } = pieces[0].work;
    const plane = height * width;
    // A fixed-batch model gets zero padding; a dynamic one gets exactly the pieces we have.
    const n = io.fixedBatch ?? pieces.length;
    let ts = performance.now();
    const input = new Float32Array(n * 3 * plane);
    pieces.forEach((p, i) => p.work.fill(p.k, input, i * 3 * plane));
    stageSeconds.toTensor += since(ts);
    ts = performance.now();
    const out = await session.run(input, [n, 3, height, width]);
    sessionSeconds += since(ts);
    ts = performance.now();
    if (out.dims[2] !== height || out.dims[3] !== width)
      throw new UserError(
        `the model returned ${out.dims.join('×')} for a ${height}×${width} input; infer needs an image-to-image model with output the size of its input`,
      );
    pieces.forEach((p, i) => {
      p.work.accept(p.k, out.data, i * outC * plane, outC);
      if (p.work.complete) {
        const owner = owners.get(p.work)!;
        owners.delete(p.work);
        encode(owner.job, owner.image, p.work.result());
      }
    });
    stageSeconds.fromTensor += since(ts);
    // Keep memory bounded if encoding falls behind inference.
    ts = performance.now();
    await pending.atMost(2 * perRun);
    stageSeconds.encodeWait += since(ts);
  };

  // Decodes run ahead of inference by one batch; pieces wait in shape groups until a group fills a
  // batch, or too many images are open (sizes that rarely repeat), or the decodes run out.
  const batcher = new ShapeBatcher<ImageWork>();
  // Tiled images can be huge: then decode only one image ahead.
  const ahead = mode.kind === 'native' && mode.tile !== undefined ? 1 : perRun;
  const maxOpen = 2 * perRun;
  let decoded = 0;
  let waitFrom = performance.now();
  for await (const l of prefetch(jobs, load, ahead)) {
    stageSeconds.decodeWait += since(waitFrom);
    // After the last decode every group may go out as a partial batch.
    const lastDecode = ++decoded === jobs.length;
    if ('error' in l) {
      fail(l.job.rel, l.error);
      bar.tick(1);
    } else if ('banded' in l) await runBanded(l.job, l.banded);
    else {
      const work = imageWork(mode, l.image, outC, o.tileBlend);
      owners.set(work, l);
      for (let k = 0; k < work.pieces; k++) batcher.add({ work, k, owner: work });
    }
    for (;;) {
      const batch = batcher.take(perRun, lastDecode || owners.size > maxOpen);
      if (!batch) break;
      await runBatch(batch);
    }
    waitFrom = performance.now();
  }
  const ts = performance.now();
  await pending.drain();
  stageSeconds.encodeWait += since(ts);
  bar.finish(`${translated} translated, ${run.skipped} skipped, ${run.failed.length} failed`);
  return { translated, sessionSeconds, stageSeconds };
}

/**
 * Translate every image of `o.input` into `o.output`. Everything that can be checked is checked
 * before the output folder is created: the flags, where the output goes, the inputs (a folder with
 * nothing to translate is refused with the likely fix), and the model (it opens, and takes and
 * gives images).
 */
export async function translateFolder(o: TranslateOptions): Promise<TranslateResult> {
  const t0 = performance.now();
  const log = o.log ?? (o.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`));
  const { batchSize, format } = checkFlags(o);
  await checkNotRootOrHome(o.output, '--output', o.force);
  await checkDisjointTrees(o.input, o.output, { recursive: o.recursive ?? false });
  const plan = await planInputs(o, format);
  const ownSession = typeof o.model === 'string';
  const session =
    typeof o.model === 'string' ? await openSession(o.model, { provider: o.provider, threads: o.threads, maxModelMemory: o.maxModelMemory }) : o.model;
  const vipsThreads = setVipsThreads(1);
  try {
    const mode = checkModelFits(session, o);
    await claimOutputFolder(o.output, { flag: '--output', command: 'infer', force: o.force, recursive: o.recursive, isOwn: plan.isOwn, log });
    log(describeRun(session, mode, plan, o, batchSize));
    const { jobs, skipped } = await pendingJobs(o, plan);
    const failed = [...plan.unusable];
    for (const u of failed) log(`infer: skipped ${u.file}: ${u.reason}`);
    const perRun = session.io.fixedBatch ?? batchSize;
    const done = await translateJobs(o, session, mode, jobs, { perRun, format, triplets: plan.triplets, skipped, failed, log });
    if (o.html) await writeGallery(o.output, plan.mine, plan.names, o.abSide !== undefined, o.input);
    return {
      total: plan.mine.length + plan.unusable.length,
      translated: done.translated,
      skipped,
      failed,
      seconds: (performance.now() - t0) / 1000,
      sessionSeconds: done.sessionSeconds,
      stageSeconds: done.stageSeconds,
      provider: session.provider,
      size: mode.kind === 'square' ? mode.size : 'native',
    };
  } finally {
    setVipsThreads(vipsThreads);
    if (ownSession) await session.close();
  }
}
