import * as path from 'node:path';
import type { CommandModule } from 'yargs';
import { ENGINE_NAMES } from '../../train/engines/registry.ts';
import { SEGMENTER_DEFAULTS } from '../../train/segmenter.ts';

interface SegTrainArgs {
  data: string;
  out: string;
  run?: string;
  size: number;
  ngf: number;
  depth: number;
  epochs: number;
  batch_size: number;
  lr: number;
  seed: number;
  engine: string;
  quiet: boolean;
}

const segmenterTrainCommand: CommandModule<object, SegTrainArgs> = {
  command: 'train',
  describe: 'Train the FCN-score segmenter on real photos (Cityscapes layout) and export it to ONNX with its sidecar',
  builder: (y) =>
    y
      .usage('$0 segmenter train --data DIR --out seg.onnx\n\nDATA has leftImg8bit/<split>/*_leftImg8bit.png and gtFine/<split>/*_gtFine_labelIds.png\n(Cityscapes, or what `pix2pix data synth` writes). Writes seg.onnx and seg.onnx.json (the sidecar\n`pix2pix eval fcn-score --segmenter seg.onnx` reads).')
      .option('data', { type: 'string', demandOption: true })
      .option('out', { type: 'string', demandOption: true, describe: 'the ONNX file to write' })
      .option('run', { type: 'string', describe: 'folder for the training checkpoint (default: OUT without .onnx, plus .run)' })
      .option('size', { type: 'number', default: SEGMENTER_DEFAULTS.size, describe: 'square side photos are resized to' })
      .option('ngf', { type: 'number', default: SEGMENTER_DEFAULTS.ngf })
      .option('depth', { type: 'number', default: SEGMENTER_DEFAULTS.depth, describe: 'U-Net levels (size must be a multiple of 2^depth)' })
      .option('epochs', { type: 'number', default: SEGMENTER_DEFAULTS.epochs })
      .option('batch_size', { type: 'number', default: SEGMENTER_DEFAULTS.batchSize })
      .option('lr', { type: 'number', default: SEGMENTER_DEFAULTS.lr })
      .option('seed', { type: 'number', default: SEGMENTER_DEFAULTS.seed })
      .option('engine', { choices: ['auto', ...ENGINE_NAMES], default: 'auto' })
      .option('quiet', { type: 'boolean', default: false }),
  handler: async (a) => {
    const { trainSegmenterToOnnx } = await import('../../experiments/train-segmenter.ts');
    const r = await trainSegmenterToOnnx({
      data: a.data,
      onnx: a.out,
      run: a.run ?? `${a.out.replace(/\.onnx$/i, '')}.run`,
      size: a.size,
      ngf: a.ngf,
      depth: a.depth,
      epochs: a.epochs,
      batchSize: a.batch_size,
      lr: a.lr,
      seed: a.seed,
      engine: a.engine as 'auto',
      quiet: a.quiet,
    });
    process.stdout.write(`${path.resolve(r.onnx)}\nval pixel accuracy on real photos: ${Number.isNaN(r.valPixelAccuracy) ? 'n/a' : r.valPixelAccuracy.toFixed(4)}\n`);
  },
};

export const segmenterCommand: CommandModule<object, object> = {
  command: 'segmenter <command>',
  describe: 'The segmenter behind FCN-score (train your own when the reference FCN-8s is not at hand)',
  builder: (y) => y.command(segmenterTrainCommand as CommandModule<object, SegTrainArgs>).demandCommand(1, 'Name a segmenter command.'),
  handler: () => {},
};
