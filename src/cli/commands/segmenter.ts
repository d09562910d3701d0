import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { SEGMENTER_OPTIONS } from '../../options/segmenter.ts';
import { entry } from './index.ts';

const segmenterTrainCommand: CommandModule = {
  command: 'train',
  describe: 'Train the FCN-score segmenter on real photos (Cityscapes layout) and export it to ONNX with its sidecar',
  builder: (y: Argv) =>
    addOptions(y, SEGMENTER_OPTIONS).usage(
      '$0 segmenter train --data DIR --out seg.onnx\n\nDATA has leftImg8bit/<split>/*_leftImg8bit.png and gtFine/<split>/*_gtFine_labelIds.png\n(Cityscapes, or what `pix2pix data synth` writes). Writes seg.onnx and seg.onnx.json (the sidecar\n`pix2pix eval fcn-score --segmenter seg.onnx` reads).',
    ),
  handler: async (argv) => {
    const { out, run, quiet, ...settings } = readArgs(SEGMENTER_OPTIONS, argv);
    const { trainSegmenterToOnnx } = await import('../../experiments/train-segmenter.ts');
    const r = await trainSegmenterToOnnx({ ...settings, onnx: out, run: run ?? `${out.replace(/\.onnx$/i, '')}.run`, quiet });
    process.stdout.write(`${path.resolve(r.onnx)}\nval pixel accuracy on real photos: ${Number.isNaN(r.valPixelAccuracy) ? 'n/a' : r.valPixelAccuracy.toFixed(4)}\n`);
  },
};

export const segmenterCommand: CommandModule = {
  ...entry('segmenter'),
  builder: (y: Argv) => y.command(segmenterTrainCommand).demandCommand(1, 'Name a segmenter command.'),
  handler: () => {},
};
