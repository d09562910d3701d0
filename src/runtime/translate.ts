/**
 * Batch translation of an image folder with an ONNX generator.
 *
 * Pipeline: while batch k runs in onnxruntime, the decodes of batch k+1 (libvips, on the libuv
 * pool) are already queued, and the encodes of batch k−1 are still running; `session.run` keeps the
 * JS thread busy but not libvips's threads. Every output is written to a temporary name and renamed,
 * so a killed run never leaves a truncated image; unreadable inputs are reported and skipped.
 */
import * as path from 'node:path';
import { listImages } from '../data/image.ts';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { ProgressBar } from '../util/progress.ts';
import { type AbSide, encodeOutput, type OutputFormat, type PreparedImage, planarUnitToRgb, prepareImage, rgbToPlanarUnit, UnreadableImage } from './images.ts';
import type { ProviderRequest } from './providers.ts';
import { type ModelSession, openSession } from './session.ts';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpg', 'webp'];

export interface Shard {
  index: number;
  count: number;
}

export interface TranslateOptions {
  /** Model file, or a session opened by the caller (kept open). */
  model: string | ModelSession;
  input: string;
  output: string;
  batchSize?: number;
  provider?: ProviderRequest;
  threads?: number;
  /** Model input side (default: from the model, else 256). */
  size?: number;
  /** Resize each output back to its source's size (default: the model's size). */
  keepSize?: boolean;
  format?: OutputFormat;
  recursive?: boolean;
  skipExisting?: boolean;
  abSide?: AbSide;
  shard?: Shard;
  quiet?: boolean;
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
  provider: string;
  size: number;
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

/**
 * Output path (relative, '/'-separated) for each input: the same name with the new extension. When
 * two inputs would collide (a.png and a.jpg), each keeps its old extension in the name (a_png.png).
 * Computed over the whole sorted list, so every shard names files the same way.
 */
export function outputNames(inputs: readonly string[], format: OutputFormat): Map<string, string> {
  const stem = (rel: string): string => rel.slice(0, rel.length - path.posix.extname(rel).length);
  const counts = new Map<string, number>();
  for (const rel of inputs) counts.set(stem(rel), (counts.get(stem(rel)) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const rel of inputs) {
    const s = stem(rel);
    const ext = path.posix.extname(rel).slice(1).toLowerCase();
    out.set(rel, (counts.get(s)! > 1 ? `${s}_${ext}` : s) + `.${format}`);
  }
  return out;
}

interface Job {
  rel: string;
  outRel: string;
}

type Loaded = { job: Job; image: PreparedImage } | { job: Job; error: string };

function checkPositiveInt(v: number | undefined, flag: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new UserError(`${flag} must be a positive integer (got ${v})`);
}

export async function translateFolder(o: TranslateOptions): Promise<TranslateResult> {
  const t0 = performance.now();
  const log = o.log ?? (o.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`));
  const batchSize = o.batchSize ?? 4;
  checkPositiveInt(batchSize, '--batch-size');
  checkPositiveInt(o.size, '--size');
  const format = o.format ?? 'png';
  if (!OUTPUT_FORMATS.includes(format)) throw new UserError(`--format must be one of ${OUTPUT_FORMATS.join(', ')} (got '${format}')`);
  if (o.abSide !== undefined && o.abSide !== 'A' && o.abSide !== 'B') throw new UserError(`--ab-side must be A or B (got '${o.abSide}')`);
  if (path.resolve(o.input) === path.resolve(o.output)) throw new UserError(`--output must differ from --input (${o.input}): outputs would overwrite the sources`);

  const all = await listImages(o.input, { recursive: o.recursive ?? false });
  const names = outputNames(all, format);
  const mine = o.shard ? shardSlice(all, o.shard) : all;

  const session = typeof o.model === 'string' ? await openSession(o.model, { provider: o.provider, threads: o.threads }) : o.model;
  const ownSession = typeof o.model === 'string';
  try {
    const io = session.io;
    if (io.inputChannels !== 3) throw new UserError(`the model takes ${io.inputChannels} input channels; infer feeds RGB images (3 channels)`);
    if (io.outputChannels !== 3 && io.outputChannels !== 1) throw new UserError(`the model outputs ${io.outputChannels} channels; infer writes RGB or gray images (3 or 1)`);
    const size = o.size ?? io.size;
    if (io.staticSize && size !== io.size) throw new UserError(`--size ${size} does not fit this model: its input is fixed at ${io.size}×${io.size}`);
    if (size % io.sizeMultiple !== 0) throw new UserError(`--size ${size} does not fit this model: sides must be multiples of ${io.sizeMultiple}`);
    log(`infer: ${mine.length} image(s)${o.shard ? ` (shard ${o.shard.index}/${o.shard.count} of ${all.length})` : ''}, provider ${session.provider}${session.device ? ` on ${session.device}` : ''}${session.skippedProviders.length ? ` (skipped ${session.skippedProviders.join('; ')})` : ''}, ${session.threads} thread(s), ${size}×${size} (${o.size ? '--size' : io.sizeSource}), batch ${io.fixedBatch ?? batchSize}`);

    const jobs: Job[] = [];
    let skipped = 0;
    for (const rel of mine) {
      const outRel = names.get(rel)!;
      if (o.skipExisting && (await exists(path.join(o.output, outRel)))) skipped++;
      else jobs.push({ rel, outRel });
    }
    const failed: { file: string; reason: string }[] = [];
    const fail = (file: string, reason: string): void => {
      failed.push({ file, reason });
      log(`infer: skipped ${file}: ${reason}`);
    };
    const bar = new ProgressBar({ label: 'infer', total: jobs.length, unit: 'img', quiet: o.quiet });
    let translated = 0;
    let sessionSeconds = 0;

    const load = (job: Job): Promise<Loaded> =>
      prepareImage(path.join(o.input, job.rel), size, o.abSide).then(
        (image) => ({ job, image }),
        (e: unknown) => ({ job, error: e instanceof UnreadableImage ? e.message : String(e) }),
      );
    const perRun = io.fixedBatch ?? batchSize;
    const batches: Job[][] = [];
    for (let i = 0; i < jobs.length; i += perRun) batches.push(jobs.slice(i, i + perRun));

    const pending = new Set<Promise<void>>();
    const encode = (job: Job, rgb: Uint8Array, image: PreparedImage): void => {
      const target = path.join(o.output, job.outRel);
      const p = encodeOutput(rgb, size, format, o.keepSize ? { width: image.sourceWidth, height: image.sourceHeight } : undefined)
        .then((bytes) => writeFileAtomic(target, bytes))
        .then(
          () => {
            translated++;
            bar.tick(1, session.provider);
          },
          (e: unknown) => {
            fail(job.rel, `cannot write ${target}: ${e instanceof Error ? e.message : String(e)}`);
            bar.tick(1);
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    };

    const pixels = size * size;
    let next: Promise<Loaded[]> | undefined = batches.length ? Promise.all(batches[0]!.map(load)) : undefined;
    for (let b = 0; b < batches.length; b++) {
      const loaded = await next!;
      // Queue the next batch's decodes before run() occupies the JS thread.
      next = b + 1 < batches.length ? Promise.all(batches[b + 1]!.map(load)) : undefined;
      const ok: { job: Job; image: PreparedImage }[] = [];
      for (const l of loaded) {
        if ('error' in l) {
          fail(l.job.rel, l.error);
          bar.tick(1);
        } else ok.push(l);
      }
      if (ok.length === 0) continue;
      // A fixed-batch model gets zero padding; a dynamic one gets exactly the images we have.
      const n = io.fixedBatch ?? ok.length;
      const input = new Float32Array(n * 3 * pixels);
      ok.forEach((l, i) => rgbToPlanarUnit(l.image.rgb, pixels, input, i * 3 * pixels));
      const ts = performance.now();
      const out = await session.run(input, [n, 3, size, size]);
      sessionSeconds += (performance.now() - ts) / 1000;
      const outC = io.outputChannels;
      if (out.dims[2] !== size || out.dims[3] !== size) throw new UserError(`the model returned ${out.dims.join('×')} for a ${size}×${size} input; infer needs an image-to-image model with output the size of its input`);
      ok.forEach((l, i) => encode(l.job, planarUnitToRgb(out.data, i * outC * pixels, outC, pixels), l.image));
      // Keep memory bounded if encoding falls behind inference.
      while (pending.size > 2 * perRun) await Promise.race(pending);
    }
    await Promise.all(pending);
    const seconds = (performance.now() - t0) / 1000;
    bar.finish(`${translated} translated, ${skipped} skipped, ${failed.length} failed`);
    return { total: mine.length, translated, skipped, failed, seconds, sessionSeconds, provider: session.provider, size };
  } finally {
    if (ownSession) await session.close();
  }
}
