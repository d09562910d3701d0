import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../util/errors.ts';
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

interface ImportCaffeArgs {
  prototxt: string;
  caffemodel: string;
  out: string;
  preset: string;
  'input-size'?: string;
  quiet: boolean;
}

/** "2048x1024" → [2048, 1024]; "label" → null (resize to each label's size). */
function parseInputSize(text: string | undefined): [number, number] | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'label') return null;
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UserError(`--input-size must be WIDTHxHEIGHT (e.g. 2048x1024) or 'label'; got '${text}'`);
  return [Number(m[1]), Number(m[2])];
}

const importCaffeCommand: CommandModule<object, ImportCaffeArgs> = {
  command: 'import-caffe',
  describe: "Convert a Caffe segmenter (deploy.prototxt + .caffemodel, e.g. the paper's FCN-8s) to ONNX with its sidecar; no Caffe needed",
  builder: (y) =>
    y
      .usage(
        '$0 segmenter import-caffe --prototxt deploy.prototxt --caffemodel fcn-8s-cityscapes.caffemodel --out fcn8s.onnx\n\nWrites OUT (ONNX, dynamic height/width) and OUT.json (the sidecar `eval fcn-score --segmenter OUT` reads).\nLayers: Input, Convolution, Deconvolution, ReLU, Pooling (MAX/AVE), Crop, Eltwise, Dropout, Softmax, Concat, Split; prototxt and caffemodel in the current (layer) or legacy V1 (layers) format. Weights are streamed, not loaded. See docs/cityscapes.md.',
      )
      .option('prototxt', { type: 'string', demandOption: true, describe: 'the deploy net (text)' })
      .option('caffemodel', { type: 'string', demandOption: true, describe: 'the trained weights (binary)' })
      .option('out', { type: 'string', demandOption: true, describe: 'the ONNX file to write' })
      .option('preset', { type: 'string', default: 'fcn8s-cityscapes', describe: "segmenter preset the sidecar names (input contract and classes); 'none' writes no sidecar" })
      .option('input-size', { type: 'string', describe: "override the preset's input size in the sidecar: WIDTHxHEIGHT, or 'label' to feed each label's size" })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar' }) as unknown as Argv<ImportCaffeArgs>,
  handler: async (a) => {
    const inputSize = parseInputSize(a['input-size']);
    const { importCaffe } = await import('../../import/caffe/import.ts');
    const { ProgressBar } = await import('../../util/progress.ts');
    let bar: InstanceType<typeof ProgressBar> | undefined;
    let shown = -1;
    const r = await importCaffe({
      prototxt: a.prototxt,
      caffemodel: a.caffemodel,
      out: a.out,
      preset: a.preset,
      ...(inputSize !== undefined ? { inputSize } : {}),
      onProgress: (done, total) => {
        bar ??= new ProgressBar({ label: 'weights', total: Math.max(1, Math.round(total / 2 ** 20)), unit: 'MiB', quiet: a.quiet });
        const mib = Math.round(done / 2 ** 20);
        if (mib !== shown) bar.set((shown = mib));
      },
    });
    bar?.finish();
    process.stdout.write(
      `${path.resolve(r.onnx)}\n${r.layers} layers (${r.formats.prototxt} prototxt, ${r.formats.caffemodel} caffemodel), ${(r.weightBytes / 2 ** 20).toFixed(1)} MiB of weights; input "${r.inputName}", output "${r.outputName}"${r.outputChannels !== undefined ? ` (${r.outputChannels} channels)` : ''}\n${r.sidecar ? `sidecar: ${path.resolve(r.sidecar)}` : 'no sidecar written (--preset none): write OUT.json before scoring'}\n`,
    );
  },
};

export const segmenterCommand: CommandModule<object, object> = {
  command: 'segmenter <command>',
  describe: 'The segmenter behind FCN-score: import the paper\'s Caffe FCN-8s, or train your own',
  builder: (y) => y.command(segmenterTrainCommand as CommandModule<object, SegTrainArgs>).command(importCaffeCommand as CommandModule<object, ImportCaffeArgs>).demandCommand(1, 'Name a segmenter command.'),
  handler: () => {},
};
