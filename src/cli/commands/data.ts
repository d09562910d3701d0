import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { CITYSCAPES_OPTIONS, SYNTH_OPTIONS } from '../../options/data.ts';
import { UserError } from '../../util/errors.ts';
import { dataCombineCommand, dataDownloadCommand } from './data-fetch.ts';
import { entry } from './index.ts';
import { withExamples } from '../examples.ts';

/** "0.8,0.1,0.1" → fractions; a UserError naming the flag otherwise. */
function parseSplits(text: string): { train: number; val: number; test: number } {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x) || x < 0) || parts[0] + parts[1] + parts[2] <= 0) {
    throw new UserError(`--splits must be three non-negative numbers train,val,test such as 0.8,0.1,0.1 (got '${text}').`);
  }
  return { train: parts[0], val: parts[1], test: parts[2] };
}

const synthCommand: CommandModule = {
  command: 'synth',
  describe: 'Generate the synthetic street-scene dataset (aligned AB photo|labels, Cityscapes-style gtFine/leftImg8bit)',
  builder: (y: Argv) => withExamples(addOptions(y, SYNTH_OPTIONS), 'data synth'),
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
      overwrite: argv.force,
      onProgress: (done) => bar.set(done),
    });
    bar.finish();
    const { train, val, test } = summary.splits;
    process.stdout.write(`Wrote ${summary.count} scenes of ${summary.size}×${summary.size} to ${argv.out} (train ${train}, val ${val}, test ${test}).\n`);
  },
};

const cityscapesCommand: CommandModule = {
  command: 'cityscapes',
  describe: 'Build the pix2pix Cityscapes AB dataset (photo | colour labels) named by frame id, from the official release',
  builder: (y: Argv) =>
    withExamples(addOptions(y, CITYSCAPES_OPTIONS), 'data cityscapes').usage(
      '$0 data cityscapes --cityscapes DIR --out DIR [--size 256]\n\nDIR holds leftImg8bit/{train,val}/CITY/*_leftImg8bit.png and gtFine/{train,val}/CITY/*_gtFine_{color,labelIds}.png. Writes OUT/train/<id>.jpg and OUT/val/<id>.jpg named by frame id (val is the test split: the paper scores on Cityscapes val) and copies the val label ids to OUT/gtFine/val.\n\nWith --pix2pix-download (the numbered pix2pix cityscapes download: train/1.jpg, val/1.jpg, …) the pairs come from there and the val frame ids are rebuilt by matching each label half against the gtFine colour maps. See docs/cityscapes.md.',
    ),
  handler: async (raw) => {
    const argv = readArgs(CITYSCAPES_OPTIONS, raw);
    const { prepareCityscapes } = await import('../../data/cityscapes-prepare.ts');
    const { ProgressBar } = await import('../../util/progress.ts');
    let bar: InstanceType<typeof ProgressBar> | undefined;
    const s = await prepareCityscapes({
      cityscapes: argv.cityscapes,
      out: argv.out,
      size: argv.size,
      ...(argv.pix2pixDownload ? { numbered: argv.pix2pixDownload } : {}),
      concurrency: argv.jobs,
      onProgress: (done, total) => {
        bar ??= new ProgressBar({ label: 'cityscapes', total, unit: 'img', quiet: argv.quiet });
        bar.set(done);
      },
    });
    bar?.finish();
    const order =
      s.idMapInSortedOrder !== undefined
        ? `; id map rebuilt by content (${s.idMapInSortedOrder} of ${s.counts.val} in sorted official order), see ${argv.out}/id-map.csv`
        : '';
    process.stdout.write(`Wrote ${s.counts.train} train and ${s.counts.val} val pairs of ${s.size}² to ${argv.out} (${s.source})${order}.\n`);
  },
};

/** `pix2pix data <command>`: dataset utilities. */
export const dataCommand: CommandModule<object, object> = {
  ...entry('data'),
  builder: (y: Argv<object>) =>
    y
      .command(synthCommand)
      .command(cityscapesCommand)
      .command(dataDownloadCommand)
      .command(dataCombineCommand)
      .demandCommand(1, 'Name a data command, e.g. synth.'),
  handler: () => {},
};
