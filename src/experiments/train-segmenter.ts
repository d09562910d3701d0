/**
 * Train our own FCN-score segmenter and ship it as a scorer: ONNX (verified against tfjs) plus the
 * sidecar that tells `eval fcn-score` how to feed it. Lives in eval because it joins train and export.
 */
import * as path from 'node:path';
import { exportCheckpoint } from '../export/run-export.ts';
import { NUM_TRAIN_IDS } from '../data/cityscapes.ts';
import { trainSegmenter, type SegmenterConfig, SEGMENTER_DEFAULTS } from '../train/segmenter.ts';
import { writeFileAtomic } from '../util/fs.ts';
import type { SegmenterSpec } from '../eval/segmenter.ts';

export interface TrainSegmenterOptions extends Partial<Omit<SegmenterConfig, 'data' | 'out'>> {
  data: string;
  onnx: string;
  /** Folder for the training checkpoint. */
  run: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

/** The sidecar of a segmenter trained by pix2pix-ts: square input, [−1,1] scaling, logits over the 19 trainIds. */
function ownSegmenterSpec(size: number): SegmenterSpec {
  return {
    inputSize: [size, size],
    resize: 'bilinear',
    channelOrder: 'RGB',
    mean: [127.5, 127.5, 127.5],
    std: [127.5, 127.5, 127.5],
    outputLayout: 'NCHW',
    numClasses: NUM_TRAIN_IDS,
    classToTrainId: Array.from({ length: NUM_TRAIN_IDS }, (_, i) => i),
  };
}

export async function trainSegmenterToOnnx(o: TrainSegmenterOptions): Promise<{ onnx: string; sidecar: string; valPixelAccuracy: number; engine: string }> {
  const log = o.log ?? ((l: string) => (o.quiet ? undefined : process.stderr.write(`${l}\n`)));
  const config: SegmenterConfig = { ...SEGMENTER_DEFAULTS, ...stripUndefined(o), data: o.data, out: o.run };
  const r = await trainSegmenter(config, { quiet: o.quiet, log });
  const exported = await exportCheckpoint({ checkpoint: r.checkpoint, out: o.onnx, verify: true, verifySize: config.size, log });
  const sidecar = `${exported.out}.json`;
  await writeFileAtomic(
    sidecar,
    `${JSON.stringify({ ...ownSegmenterSpec(config.size), info: { trainedBy: 'pix2pix-ts segmenter train', valPixelAccuracy: r.valPixelAccuracy, data: path.resolve(o.data), epochs: config.epochs } }, null, 2)}\n`,
  );
  return { onnx: exported.out, sidecar, valPixelAccuracy: r.valPixelAccuracy, engine: r.engine };
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}
