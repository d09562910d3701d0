import * as path from 'node:path';
import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { IMPORT_CAFFE_OPTIONS, SEGMENTER_OPTIONS } from '../../options/segmenter.ts';
import { formatBytes } from '../../util/bytes.ts';
import { byteProgress } from '../../util/progress.ts';
import { entry } from './index.ts';

const segmenterTrainCommand: CommandModule = {
  command: 'train',
  describe: 'Train the FCN-score segmenter on real photos (Cityscapes layout) and export it to ONNX with its sidecar',
  builder: (y: Argv) =>
    withExamples(addOptions(y, SEGMENTER_OPTIONS), 'segmenter train').usage(
      '$0 segmenter train --data DIR --out seg.onnx\n\nDATA has leftImg8bit/<split>/*_leftImg8bit.png and gtFine/<split>/*_gtFine_labelIds.png\n(Cityscapes, or what `pix2pix data synth` writes). Writes seg.onnx and seg.onnx.json (the sidecar\n`pix2pix eval fcn-score --segmenter seg.onnx` reads).',
    ),
  handler: async (argv) => {
    const { out, run, quiet, ...settings } = readArgs(SEGMENTER_OPTIONS, argv);
    const { trainSegmenterToOnnx } = await import('../../experiments/train-segmenter.ts');
    const r = await trainSegmenterToOnnx({ ...settings, onnx: out, run: run ?? `${out.replace(/\.onnx$/i, '')}.run`, quiet });
    process.stdout.write(
      `${path.resolve(r.onnx)}\nval pixel accuracy on real photos: ${Number.isNaN(r.valPixelAccuracy) ? 'n/a' : r.valPixelAccuracy.toFixed(4)}\n`,
    );
  },
};

/** "2048x1024" → [2048, 1024]; "label" → null (resize to each label's size). The table checks the form. */
function parseInputSize(text: string | undefined): [number, number] | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'label') return null;
  const [w, h] = text.split('x').map(Number);
  return [w, h];
}

const importCaffeCommand: CommandModule = {
  command: 'import-caffe',
  describe: "Convert a Caffe segmenter (deploy.prototxt + .caffemodel, e.g. the paper's FCN-8s) to ONNX with its sidecar; no Caffe needed",
  builder: (y: Argv) =>
    withExamples(addOptions(y, IMPORT_CAFFE_OPTIONS), 'segmenter import-caffe').usage(
      '$0 segmenter import-caffe --prototxt deploy.prototxt --caffemodel fcn-8s-cityscapes.caffemodel --out fcn8s.onnx\n\nWrites OUT (ONNX, dynamic height/width) and OUT.json (the sidecar `eval fcn-score --segmenter OUT` reads).\nLayers: Input, Convolution, Deconvolution, ReLU, Pooling (MAX/AVE), Crop, Eltwise, Dropout, Softmax, Concat, Split; prototxt and caffemodel in the current (layer) or legacy V1 (layers) format. Weights are streamed, not loaded. See docs/cityscapes.md.',
    ),
  handler: async (argv) => {
    const a = readArgs(IMPORT_CAFFE_OPTIONS, argv);
    const inputSize = parseInputSize(a.inputSize);
    const { importCaffe } = await import('../../import/caffe/import.ts');
    const progress = byteProgress({ label: 'weights', quiet: a.quiet });
    const r = await importCaffe({
      prototxt: a.prototxt,
      caffemodel: a.caffemodel,
      out: a.out,
      preset: a.preset,
      ...(inputSize !== undefined ? { inputSize } : {}),
      onProgress: progress.update,
    });
    progress.finish();
    process.stdout.write(
      `${path.resolve(r.onnx)}\n${r.layers} layers (${r.formats.prototxt} prototxt, ${r.formats.caffemodel} caffemodel), ${formatBytes(r.weightBytes)} of weights; input "${r.inputName}", output "${r.outputName}"${r.outputChannels !== undefined ? ` (${r.outputChannels} channels)` : ''}\n${r.sidecar ? `sidecar: ${path.resolve(r.sidecar)}` : 'no sidecar written (--preset none): write OUT.json before scoring'}\n`,
    );
  },
};

export const segmenterCommand: CommandModule = {
  ...entry('segmenter'),
  builder: (y: Argv) => y.command(segmenterTrainCommand).command(importCaffeCommand).demandCommand(1, 'Name a segmenter command.'),
  handler: () => {},
};
