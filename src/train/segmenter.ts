/**
 * A small fully-convolutional segmenter (the "FCN" of FCN-score when the reference FCN-8s is not at hand):
 * the U-Net generator with 19 logit outputs, trained with softmax cross-entropy over Cityscapes trainIds
 * (255 ignored) on real photos. Reads the Cityscapes layout (`leftImg8bit/<split>/…_leftImg8bit.png` +
 * `gtFine/<split>/…_gtFine_labelIds.png`), which `pix2pix data synth` also writes.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from './tfjs.ts';
import { LABEL_ID_TO_TRAIN_ID, NUM_TRAIN_IDS, TRAIN_ID_NAMES } from '../data/cityscapes.ts';
import { readImage, readLabelImage, toUnitRange } from '../data/image.ts';
import { resizeNearest } from '../data/resize.ts';
import { UserError } from '../util/errors.ts';
import { eventLoopYielder } from '../util/event-loop.ts';
import { ProgressBar } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { Adam, type AdamConfig, PIX2PIX_ADAM } from './adam.ts';
import { CHECKPOINT_FILE, type CheckpointModel, writeCheckpoint } from './checkpoint.ts';
import { selectEngine } from './engines/registry.ts';
import { type GeneratorArch, generatorArch } from '../nets/arch.ts';
import { generatorForward, type ParamTensors } from './nets/forward.ts';
import { initParams } from './nets/init.ts';
import { disposeNet, gradsByParamName, makeNet } from './nets/variables.ts';
import { DeferredReads, readScalar } from './loss-readback.ts';
import { PIX2PIX_TS_VERSION } from './trainer.ts';
import { addImageFrequencies, classWeights, createClassFrequencies } from './class-weights.ts';

// Options (names, defaults, checks) are declared once in src/options/segmenter.ts.
export { SEGMENTER_DEFAULTS, type SegmenterConfig } from '../options/segmenter.ts';
import type { SegmenterConfig } from '../options/segmenter.ts';

export interface SegmentationSample {
  id: string;
  photo: string;
  labels: string;
}

const PHOTO_SUFFIX = '_leftImg8bit.png';
const LABEL_SUFFIX = '_gtFine_labelIds.png';
/** A classifier's usual β1 = 0.9; pix2pix's 0.5 suits the adversarial game, not plain cross-entropy. */
const SEGMENTER_ADAM: AdamConfig = { ...PIX2PIX_ADAM, beta1: 0.9 };

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** Pair `<id>_leftImg8bit.png` with `<id>_gtFine_labelIds.png` under DATA/leftImg8bit/<split> and DATA/gtFine/<split>. */
async function listSegmentationSamples(data: string, split: string): Promise<SegmentationSample[]> {
  const photoDir = path.join(data, 'leftImg8bit', split);
  const labelDir = path.join(data, 'gtFine', split);
  let photos: string[];
  let labels: string[];
  try {
    photos = (await walk(photoDir)).filter((f) => f.endsWith(PHOTO_SUFFIX));
    labels = (await walk(labelDir)).filter((f) => f.endsWith(LABEL_SUFFIX));
  } catch {
    throw new UserError(
      `segmenter data needs ${photoDir}/…${PHOTO_SUFFIX} and ${labelDir}/…${LABEL_SUFFIX} (the Cityscapes layout, which \`pix2pix data synth\` writes)`,
    );
  }
  const byId = new Map(labels.map((f) => [path.basename(f).slice(0, -LABEL_SUFFIX.length), f]));
  const samples: SegmentationSample[] = [];
  const missing: string[] = [];
  for (const p of photos.sort()) {
    const id = path.basename(p).slice(0, -PHOTO_SUFFIX.length);
    const l = byId.get(id);
    if (l) samples.push({ id, photo: p, labels: l });
    else missing.push(id);
  }
  if (missing.length)
    throw new UserError(`${missing.length} photos in ${photoDir} have no ${LABEL_SUFFIX} in ${labelDir}, e.g. ${missing.slice(0, 3).join(', ')}`);
  if (!samples.length) throw new UserError(`no ${PHOTO_SUFFIX} photos in ${photoDir}`);
  return samples;
}

/**
 * Photo (HWC 8-bit RGB) and trainIds (255 = ignore) at size×size. Kept as bytes: the training cache
 * holds every photo, and floats would take 4× the memory (2.3 GB for Cityscapes train at 256²).
 */
async function loadSegmentationSample(s: SegmentationSample, size: number): Promise<{ photo: Uint8Array; trainIds: Uint8Array }> {
  const img = await readImage(s.photo, { resize: { width: size, height: size, kernel: 'linear' } });
  const lab = await readLabelImage(s.labels);
  // Labels are never interpolated: nearest neighbour, one channel.
  const ids = lab.width === size && lab.height === size ? lab.data : resizeNearest(lab, size, size, 1).data;
  const trainIds = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) trainIds[i] = LABEL_ID_TO_TRAIN_ID[ids[i]];
  return { photo: img.data, trainIds };
}

function segmenterArch(c: Pick<SegmenterConfig, 'depth' | 'ngf'>): GeneratorArch {
  return generatorArch({ kind: 'unet', depth: c.depth, ngf: c.ngf, outChannels: NUM_TRAIN_IDS, dropout: 'none', norm: 'batch', outputActivation: 'none' });
}

/**
 * Weighted mean softmax cross-entropy: Σ w·nll / Σ w, where `pixelWeights` holds each pixel's class
 * weight (0 where the trainId is 255), as PyTorch's CrossEntropyLoss(weight, ignore_index=255) does.
 */
export function segmentationLoss(logits: tf.Tensor4D, trainIds: tf.Tensor3D, pixelWeights: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const ids = tf.cast(tf.minimum(trainIds, NUM_TRAIN_IDS - 1), 'int32');
    const onehot = tf.oneHot(ids, NUM_TRAIN_IDS);
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), -1));
    return tf.div<tf.Scalar>(tf.sum(tf.mul(nll, pixelWeights)), tf.maximum(tf.sum(pixelWeights), 1e-12));
  });
}

/** The weight of each class in the loss, from the train labels; 255 (ignored) pixels get 0. */
function lossWeightsByTrainId(cache: readonly { trainIds: Uint8Array }[], weighting: SegmenterConfig['classWeights']): Float32Array {
  const freq = createClassFrequencies(NUM_TRAIN_IDS);
  for (const s of cache) addImageFrequencies(freq, s.trainIds);
  const byId = new Float32Array(256);
  byId.set(classWeights(freq, weighting));
  return byId;
}

export interface SegmenterResult {
  checkpoint: string;
  valPixelAccuracy: number;
  engine: string;
}

/** Pixel accuracy of the segmenter on a split (real photos), per-image statistics, ignoring 255. */
async function pixelAccuracy(arch: GeneratorArch, params: ParamTensors, samples: SegmentationSample[], size: number): Promise<number> {
  let right = 0;
  let total = 0;
  for (const s of samples) {
    const { photo, trainIds } = await loadSegmentationSample(s, size);
    const predT = tf.tidy(() =>
      tf.argMax(
        generatorForward(arch, params, tf.tensor4d(toUnitRange({ width: size, height: size, data: photo }), [1, size, size, 3]), {
          normStats: 'instance',
          dropout: false,
        }),
        -1,
      ),
    );
    const pred = (await predT.data()) as Int32Array;
    predT.dispose();
    for (let i = 0; i < pred.length; i++) {
      if (trainIds[i] >= NUM_TRAIN_IDS) continue;
      total++;
      if (pred[i] === trainIds[i]) right++;
    }
  }
  return total ? right / total : 0;
}

export async function trainSegmenter(c: SegmenterConfig, opts: { quiet?: boolean; log?: (l: string) => void } = {}): Promise<SegmenterResult> {
  const log = opts.log ?? ((l: string) => (opts.quiet ? undefined : process.stderr.write(`${l}\n`)));
  if (c.size % 2 ** c.depth !== 0) throw new UserError(`segmenter --size ${c.size} must be a multiple of 2^depth = ${2 ** c.depth}`);
  const train = await listSegmentationSamples(c.data, 'train');
  let val: SegmentationSample[];
  try {
    val = await listSegmentationSamples(c.data, 'val');
  } catch {
    val = [];
  }
  const engine = await selectEngine(c.engine, c.threads === undefined ? {} : { threads: c.threads });
  log(`segmenter: U-Net depth ${c.depth}, ngf ${c.ngf}, ${train.length} train photos, ${val.length} val photos, ${c.size}², engine ${engine.name}`);
  const arch = segmenterArch(c);
  const rng = new Rng(c.seed);
  const net = makeNet(arch, initParams(arch, rng));
  const { vars, trainable, params } = net;
  const opt = new Adam(trainable, SEGMENTER_ADAM);
  const cache = await Promise.all(train.map((s) => loadSegmentationSample(s, c.size)));
  const weightOf = lossWeightsByTrainId(cache, c.classWeights);
  if (c.classWeights !== 'none')
    log(`segmenter class weights (${c.classWeights}): ${TRAIN_ID_NAMES.map((n, id) => `${n} ${weightOf[id].toFixed(2)}`).join(', ')}`);
  const steps = Math.ceil(cache.length / c.batchSize);
  const bar = new ProgressBar({ label: 'segmenter', total: c.epochs * steps, unit: 'step', quiet: opts.quiet });
  const px = c.size * c.size;
  // The samples are cached in memory: without this the loop never lets a signal or heartbeat run.
  const yieldToEventLoop = eventLoopYielder();
  try {
    for (let epoch = 1; epoch <= c.epochs; epoch++) {
      const order = rng.shuffle([...cache.keys()]);
      // Cosine decay to 5% keeps the last epochs from bouncing around.
      const lr = c.lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / c.epochs)));
      let sum = 0;
      let read = 0;
      const reads = new DeferredReads(readScalar, (v: number) => {
        sum += v;
        read += 1;
        bar.tick(1, `epoch ${epoch}/${c.epochs} loss ${(sum / read).toFixed(3)}`);
      });
      for (let b = 0; b < steps; b++) {
        const idx = order.slice(b * c.batchSize, (b + 1) * c.batchSize);
        const x = new Float32Array(idx.length * px * 3);
        const y = new Uint8Array(idx.length * px);
        const w = new Float32Array(idx.length * px);
        idx.forEach((i, k) => {
          const s = cache[i];
          // Random horizontal flip, applied to photo and labels alike.
          const flip = rng.next() < 0.5;
          for (let r = 0; r < c.size; r++) {
            for (let col = 0; col < c.size; col++) {
              const src = r * c.size + (flip ? c.size - 1 - col : col);
              const dst = k * px + r * c.size + col;
              y[dst] = s.trainIds[src];
              w[dst] = weightOf[y[dst]];
              // The same x/127.5 − 1 mapping as toUnitRange, fused with the flip.
              x[dst * 3] = s.photo[src * 3] / 127.5 - 1;
              x[dst * 3 + 1] = s.photo[src * 3 + 1] / 127.5 - 1;
              x[dst * 3 + 2] = s.photo[src * 3 + 2] / 127.5 - 1;
            }
          }
        });
        const X = tf.tensor4d(x, [idx.length, c.size, c.size, 3]);
        const Y = tf.tensor3d(y, [idx.length, c.size, c.size], 'int32');
        const W = tf.tensor3d(w, [idx.length, c.size, c.size]);
        const { value, grads } = tf.variableGrads(
          () => segmentationLoss(generatorForward(arch, params, X, { normStats: 'batch', dropout: false }), Y, W),
          [...trainable.values()],
        );
        opt.apply(gradsByParamName(net, grads), lr);
        tf.dispose([X, Y, W, ...Object.values(grads)]);
        await reads.push(value);
        await yieldToEventLoop();
      }
      await reads.flush();
    }
    bar.finish();
    const valPixelAccuracy = val.length ? await pixelAccuracy(arch, params, val, c.size) : Number.NaN;
    log(`segmenter val pixel accuracy on real photos: ${Number.isNaN(valPixelAccuracy) ? 'n/a (no val split)' : valPixelAccuracy.toFixed(4)}`);
    const tensors = new Map<string, Float32Array>();
    const shapes = new Map<string, number[]>();
    for (const [n, v] of vars) {
      tensors.set(`G/${n}`, (await v.data()) as Float32Array);
      shapes.set(`G/${n}`, [...v.shape]);
    }
    const model: CheckpointModel = {
      kind: 'segmenter',
      generator: arch.options,
      discriminator: null,
      config: { ...c, valPixelAccuracy, inputSize: c.size, classes: NUM_TRAIN_IDS },
      epoch: c.epochs,
      version: PIX2PIX_TS_VERSION,
    };
    const file = path.join(c.out, CHECKPOINT_FILE);
    await writeCheckpoint(file, { model, state: {} }, tensors, shapes);
    return { checkpoint: file, valPixelAccuracy, engine: engine.name };
  } finally {
    opt.dispose();
    disposeNet(net);
  }
}
