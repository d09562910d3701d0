import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { EXPORT_OPTIONS, fp16Mode } from '../../options/export.ts';
import { entry } from './index.ts';

export const exportCommand: CommandModule = {
  ...entry('export'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, EXPORT_OPTIONS), 'export').usage(
      '$0 export --checkpoint runs/NAME [options]\n\n' +
        'Writes an ONNX model with input `input` and output `output`: float32 NCHW [N,3,H,W] in [-1,1] (RGB);\n' +
        'N, H and W are dynamic (H, W multiples of 2^depth). Training settings are stored as metadata.',
    ),
  handler: async (argv) => {
    const a = readArgs(EXPORT_OPTIONS, argv);
    const { exportCheckpoint } = await import('../../export/run-export.ts');
    const log = a.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const r = await exportCheckpoint({
      checkpoint: a.checkpoint,
      out: a.out,
      opset: a.opset,
      norm: a.bn,
      dropout: a.dropout,
      net: a.net,
      verify: a.verify,
      fp16: fp16Mode(a),
      log,
    });
    process.stdout.write(`${r.out}\n`);
  },
};
