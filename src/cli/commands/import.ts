import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { fp16Mode, IMPORT_OPTIONS } from '../../options/export.ts';
import { entry } from './index.ts';

export const importCommand: CommandModule = {
  ...entry('import'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, IMPORT_OPTIONS), 'import').usage(
      '$0 import --pth latest_net_G.pth --out model.onnx [--eval]\n\n' +
        'Reads a UnetGenerator state_dict saved by pytorch-CycleGAN-and-pix2pix (zip or legacy torch.save\n' +
        'format, float32/float16 tensors) with a restricted reader that never executes the file. Depth\n' +
        '(unet_128, unet_256, ...), ngf, channels and batch/instance norm are read from the tensors.\n' +
        'Default = test.py without --eval: each image is normalised with its own statistics.\n' +
        'Details: docs/import.md.',
    ),
  handler: async (argv) => {
    const a = readArgs(IMPORT_OPTIONS, argv);
    const { importPth } = await import('../../import/run-import.ts');
    const log = a.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const r = await importPth({
      pth: a.pth,
      out: a.out,
      eval: a.eval,
      dropout: a.dropout,
      fp16: fp16Mode(a),
      opset: a.opset,
      imageSize: a.imageSize,
      verify: a.verify,
      log,
    });
    process.stdout.write(`${r.out}\n`);
  },
};
