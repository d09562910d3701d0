import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../util/errors.ts';

interface SynthArgs {
  out: string;
  count: number;
  size: number;
  seed: number;
  splits: string;
  overwrite: boolean;
  quiet: boolean;
}

/** "0.8,0.1,0.1" → fractions; a UserError naming the flag otherwise. */
function parseSplits(text: string): { train: number; val: number; test: number } {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x) || x < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new UserError(`--splits must be three non-negative numbers train,val,test such as 0.8,0.1,0.1 (got '${text}').`);
  }
  return { train: parts[0]!, val: parts[1]!, test: parts[2]! };
}

const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe: 'Generate the synthetic street-scene dataset (aligned AB photo|labels, Cityscapes-style gtFine/leftImg8bit)',
  builder: (y: Argv<object>) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'Output folder (must be empty or missing)' })
      .option('count', { type: 'number', default: 200, describe: 'Number of scenes' })
      .option('size', { type: 'number', default: 64, describe: 'Side of each square image in pixels' })
      .option('seed', { type: 'number', default: 1, describe: 'Random seed (same arguments → byte-identical files)' })
      .option('splits', { type: 'string', default: '0.8,0.1,0.1', describe: 'Fractions for train,val,test' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'Replace a synthetic dataset already in --out' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress bar' })
      .example('$0 data synth --out data/synth --count 200 --size 64', 'labels→photo is --direction BtoA, photo→labels AtoB') as unknown as Argv<SynthArgs>,
  handler: async (argv) => {
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
  command: 'data <command>',
  describe: 'Dataset utilities (synthetic dataset generator)',
  builder: (y: Argv<object>) => y.command(synthCommand as CommandModule<object, SynthArgs>).demandCommand(1, 'Name a data command, e.g. synth.'),
  handler: () => {},
};
