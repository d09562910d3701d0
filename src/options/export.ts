/** `pix2pix export`. */
import { opt } from './define.ts';
import { quiet } from './common.ts';

export const EXPORT_OPTIONS = {
  checkpoint: opt.string({ help: 'run folder (runs/NAME) or its checkpoint.bin', required: true }),
  out: opt.string({ help: 'output file (default: model.onnx, or model_D.onnx for --net D, beside the checkpoint)' }),
  opset: opt.int({ help: 'ONNX opset', default: 17, min: 12, max: 21 }),
  bn: opt.choice(['instance', 'running'], {
    help: "norm statistics: instance = per image (the paper's test-time behaviour; batching never changes a result), running = training-set running averages (PyTorch --eval)",
    default: 'instance',
  }),
  dropout: opt.boolean({ help: "keep the paper's test-time Dropout(0.5) noise; outputs then vary from run to run", default: false }),
  net: opt.choice(['G', 'D'], { help: 'G = generator; D = PatchGAN discriminator (input [N,6|3,H,W], output logits)', default: 'G' }),
  verify: opt.boolean({ help: 'run the file with onnxruntime and compare with the tfjs forward (fails above 1e-4); --no-verify skips', default: true }),
  quiet,
} as const;
