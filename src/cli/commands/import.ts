import type { CommandModule } from 'yargs';
import type { Fp16Mode } from '../../onnx/fp16.ts';

interface ImportArgs {
  pth: string;
  out: string;
  eval: boolean;
  dropout: boolean;
  fp16: boolean;
  'fp16-compute': boolean;
  opset: number;
  'image-size'?: number;
  verify: boolean;
  quiet: boolean;
}

/** `--fp16` / `--fp16-compute` (shared with `export`) → the export option. */
export function fp16Mode(a: { fp16: boolean; 'fp16-compute': boolean }): Fp16Mode | undefined {
  return a['fp16-compute'] ? 'compute' : a.fp16 ? 'weights' : undefined;
}

export const FP16_OPTIONS = {
  fp16: {
    type: 'boolean',
    default: false,
    describe: 'store weights as float16 (file about half the size); they are cast back to float32 at load, so every provider computes in float32',
  },
  'fp16-compute': {
    type: 'boolean',
    default: false,
    describe: 'float16 weights AND a float16 graph (float32 input/output): half-precision compute on CUDA / WebGPU with shader-f16; see docs/import.md',
  },
} as const;

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import',
  describe: 'Convert a PyTorch pix2pix generator (latest_net_G.pth) to ONNX, without Python',
  builder: (y) =>
    y
      .usage(
        '$0 import --pth latest_net_G.pth --out model.onnx [--eval]\n\n' +
          'Reads a UnetGenerator state_dict saved by pytorch-CycleGAN-and-pix2pix (zip or legacy torch.save\n' +
          'format, float32/float16 tensors) with a restricted reader that never executes the file. Depth\n' +
          '(unet_128, unet_256, ...), ngf, channels and batch/instance norm are read from the tensors.\n' +
          'Default = test.py without --eval: each image is normalised with its own statistics.\n' +
          'Details: docs/import.md.',
      )
      .option('pth', { type: 'string', demandOption: true, describe: 'the generator state_dict (e.g. checkpoints/NAME/latest_net_G.pth)' })
      .option('out', { type: 'string', demandOption: true, describe: 'ONNX file to write (.onnx)' })
      .option('eval', { type: 'boolean', default: false, describe: 'as test.py --eval: BatchNorm uses its running (training-set) statistics, no dropout' })
      .option('dropout', {
        type: 'boolean',
        default: false,
        describe: "keep test.py's test-time Dropout(0.5) (where the PyTorch repo puts it); outputs then vary from run to run. Not with --eval",
      })
      .options(FP16_OPTIONS)
      .option('opset', { type: 'number', default: 17, describe: 'ONNX opset (12–21)' })
      .option('image-size', { type: 'number', describe: 'training side recorded in the metadata (default 256, the repo\'s --crop_size)' })
      .option('verify', { type: 'boolean', default: true, describe: 'with --fp16: check the float16 file against float32 on a random image (≤ 2/255); --no-verify skips' })
      .option('quiet', { type: 'boolean', default: false }),
  handler: async (a) => {
    const { importPth } = await import('../../import/run-import.ts');
    const log = a.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const r = await importPth({ pth: a.pth, out: a.out, eval: a.eval, dropout: a.dropout, fp16: fp16Mode(a), opset: a.opset, imageSize: a['image-size'], verify: a.verify, log });
    process.stdout.write(`${r.out}\n`);
  },
};
