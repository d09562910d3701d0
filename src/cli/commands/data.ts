import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { SYNTH_OPTIONS } from '../../options/data.ts';
import { UserError } from '../../util/errors.ts';
import { entry } from './index.ts';

/** "0.8,0.1,0.1" → fractions; a UserError naming the flag otherwise. */
function parseSplits(text: string): { train: number; val: number; test: number } {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x) || x < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new UserError(`--splits must be three non-negative numbers train,val,test such as 0.8,0.1,0.1 (got '${text}').`);
  }
  return { train: parts[0]!, val: parts[1]!, test: parts[2]! };
}

const synthCommand: CommandModule = {
  command: 'synth',
  describe: 'Generate the synthetic street-scene dataset (aligned AB photo|labels, Cityscapes-style gtFine/leftImg8bit)',
  builder: (y: Argv) =>
    addOptions(y, SYNTH_OPTIONS).example('$0 data synth --out data/synth --count 200 --size 64', 'labels→photo is --direction BtoA, photo→labels AtoB'),
  handler: async (raw) => {
    const argv = readArgs(SYNTH_OPTIONS, raw);
    const splits = parseSplits(argv.splits);
    const { synthesizeDataset } = await import('../../data/synth.ts');
    const { ProgressBar } = await import('../../util/progress.ts');
    const bar = new ProgressBar({ label: 'synth', total: argv.count, unit: 'img', quiet: argv.quiet });
    const summary = await synthesizeDataset({
      out: argv.out,
      count: argv.count,
      size: argv.size,
      seed: argv.seed,
      splits,
      overwrite: argv.overwrite,
      onProgress: (done) => bar.set(done),
    });
    bar.finish();
    const { train, val, test } = summary.splits;
    process.stdout.write(`Wrote ${summary.count} scenes of ${summary.size}×${summary.size} to ${argv.out} (train ${train}, val ${val}, test ${test}).\n`);
  },
};

/** `pix2pix data <command>`: dataset utilities. */
export const dataCommand: CommandModule<object, object> = {
  ...entry('data'),
  builder: (y: Argv<object>) => y.command(synthCommand).demandCommand(1, 'Name a data command, e.g. synth.'),
  handler: () => {},
};
