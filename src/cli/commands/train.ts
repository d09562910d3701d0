import type { Argv, CommandModule } from 'yargs';
import { addOptions, cliNamer, readArgs } from '../../options/cli.ts';
import { TRAIN_OPTIONS } from '../../options/train.ts';
import { entry } from './index.ts';
import { withExamples } from '../examples.ts';

export const trainCommand: CommandModule = {
  ...entry('train'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, TRAIN_OPTIONS), 'train').usage(
      '$0 train --data DIR --out runs/NAME [options]\n\nDATA holds train/ (and val/) splits of aligned AB images or A/ B/ paired folders.\n' +
        'Make a synthetic one with `pix2pix data synth --out data/synth`.\n' +
        "The PyTorch repo's flag names work too (--dataroot, --n_epochs, --batch_size, --netG, …): see docs/coming-from-pytorch.md.",
    ),
  handler: async (argv) => {
    const { resume, quiet, json, force, nonFiniteSteps, netD, rf, epochs, ...given } = readArgs(TRAIN_OPTIONS, argv, { defaults: false });
    const { resolveTrainConfig } = await import('../../train/config.ts');
    const { train } = await import('../../train/trainer.ts');
    const config = resolveTrainConfig({ ...given, netD, rf, epochs }, cliNamer(TRAIN_OPTIONS));
    const onEvent = json ? (e: object) => void process.stdout.write(`${JSON.stringify(e)}\n`) : undefined;
    await train(config, { resume: resume ?? false, quiet: quiet ?? false, force: force ?? false, nonFiniteSteps, onEvent, flagName: cliNamer(TRAIN_OPTIONS) });
  },
};
