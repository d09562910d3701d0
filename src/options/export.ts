/** `pix2pix export` (and the options `pix2pix import` shares with it). */
import type { Fp16Mode } from '../onnx/fp16.ts';
import { opt, pytorch } from './define.ts';
import { quiet } from './common.ts';

/** Float16 storage and compute, shared by `export` and `import`. */
const FP16_OPTIONS = {
  fp16: opt.boolean({
    help: 'store weights as float16 (file about half the size); they are cast back to float32 at load, so every provider computes in float32',
    default: false,
  }),
  fp16Compute: opt.boolean({
    help: 'float16 weights AND a float16 graph (float32 input/output): half-precision compute on CUDA / WebGPU with shader-f16; see docs/import.md',
    default: false,
  }),
} as const;

/** `--fp16` / `--fp16-compute` → the export option. */
export function fp16Mode(a: { fp16: boolean; fp16Compute: boolean }): Fp16Mode | undefined {
  return a.fp16Compute ? 'compute' : a.fp16 ? 'weights' : undefined;
}

const OPSET = opt.int({ help: 'ONNX opset', default: 17, min: 12, max: 21 });

export const EXPORT_OPTIONS = {
  checkpoint: opt.string({ help: 'run folder (runs/NAME) or its checkpoint.bin', required: true }),
  out: opt.string({ help: 'output file (default: model.onnx, or model_D.onnx for --net D, beside the checkpoint)' }),
  opset: OPSET,
  bn: opt.choice(['instance', 'running'], {
    help: "norm statistics: instance = per image (the paper's test-time behaviour; batching never changes a result), running = training-set running averages (PyTorch --eval)",
    default: 'instance',
  }),
  dropout: opt.boolean({ help: "keep the paper's test-time Dropout(0.5) noise; outputs then vary from run to run", default: false }),
  net: opt.choice(['G', 'D'], { help: 'G = generator; D = PatchGAN discriminator (input [N,6|3,H,W], output logits)', default: 'G' }),
  verify: opt.boolean({ help: 'run the file with onnxruntime and compare with the tfjs forward (fails above 1e-4); --no-verify skips', default: true }),
  ...FP16_OPTIONS,
  quiet,
  eval: pytorch.boolean({ help: "test.py's --eval: running statistics (--bn running)", pytorch: { mapsTo: ['bn'], map: () => ({ bn: 'running' }) } }),
} as const;

export const IMPORT_OPTIONS = {
  pth: opt.string({ help: 'the generator state_dict (e.g. checkpoints/NAME/latest_net_G.pth)', required: true }),
  out: opt.string({ help: 'ONNX file to write (.onnx)', required: true }),
  eval: opt.boolean({ help: 'as test.py --eval: BatchNorm uses its running (training-set) statistics, no dropout', default: false }),
  dropout: opt.boolean({
    help: "keep test.py's test-time Dropout(0.5) (where the PyTorch repo puts it); outputs then vary from run to run. Not with --eval",
    default: false,
  }),
  ...FP16_OPTIONS,
  opset: OPSET,
  imageSize: opt.int({ help: "training side recorded in the metadata (default 256, the repo's --crop_size)", min: 1 }),
  verify: opt.boolean({ help: 'with --fp16: check the float16 file against float32 on a random image (≤ 2/255); --no-verify skips', default: true }),
  quiet,
} as const;
