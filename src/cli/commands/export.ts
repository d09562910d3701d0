import type { CommandModule } from 'yargs';
import { FP16_OPTIONS, fp16Mode } from './import.ts';

interface ExportArgs {
  checkpoint: string;
  out?: string;
  opset: number;
  bn: string;
  dropout: boolean;
  net: string;
  verify: boolean;
  fp16: boolean;
  'fp16-compute': boolean;
  quiet: boolean;
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a trained generator (or discriminator) to ONNX, checked against the training forward pass',
  builder: (y) =>
    y
      .usage(
        '$0 export --checkpoint runs/NAME [options]\n\n' +
          'Writes an ONNX model with input `input` and output `output`: float32 NCHW [N,3,H,W] in [-1,1] (RGB);\n' +
          'N, H and W are dynamic (H, W multiples of 2^depth). Training settings are stored as metadata.',
      )
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'run folder (runs/NAME) or its checkpoint.bin' })
      .option('out', { type: 'string', describe: 'output file (default: model.onnx, or model_D.onnx for --net D, beside the checkpoint)' })
      .option('opset', { type: 'number', default: 17, describe: 'ONNX opset (12–21)' })
      .option('bn', {
        choices: ['instance', 'running'],
        default: 'instance',
        describe: 'norm statistics: instance = per image (the paper\'s test-time behaviour; batching never changes a result), running = training-set running averages (PyTorch --eval)',
      })
      .option('dropout', {
        type: 'boolean',
        default: false,
        describe: "keep the paper's test-time Dropout(0.5) noise; outputs then vary from run to run",
      })
      .option('net', { choices: ['G', 'D'], default: 'G', describe: 'G = generator; D = PatchGAN discriminator (input [N,6|3,H,W], output logits)' })
      .option('verify', { type: 'boolean', default: true, describe: 'run the file with onnxruntime and compare with the tfjs forward (fails above 1e-4); --no-verify skips' })
      .options(FP16_OPTIONS)
      .option('quiet', { type: 'boolean', default: false }),
  handler: async (a) => {
    const { exportCheckpoint } = await import('../../export/run-export.ts');
    const log = a.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const r = await exportCheckpoint({
      checkpoint: a.checkpoint,
      out: a.out,
      opset: a.opset,
      norm: a.bn as 'instance' | 'running',
      dropout: a.dropout,
      net: a.net as 'G' | 'D',
      verify: a.verify,
      fp16: fp16Mode(a),
      log,
    });
    process.stdout.write(`${r.out}\n`);
  },
};
