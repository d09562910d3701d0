/** `pix2pix data download` and `pix2pix data combine`: the paper's datasets, and your own A/B folders. */
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { DATA_COMBINE_OPTIONS, DATA_DOWNLOAD_OPTIONS } from '../../options/pull.ts';
import { UserError } from '../../util/errors.ts';
import { byteProgress } from '../../util/progress.ts';
import { withExamples } from '../examples.ts';

/** At most this many names per list in the summary; the rest are counted. */
const LISTED = 10;

function listLine(what: string, names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return `${names.length} ${what}: ${shown}${names.length > LISTED ? `, … (${names.length - LISTED} more)` : ''}`;
}

export const dataDownloadCommand: CommandModule = {
  command: 'download [name]',
  describe: "Download one of the pix2pix authors' paired datasets (facades, maps, edges2shoes, edges2handbags, night2day)",
  builder: (y: Argv) =>
    withExamples(addOptions(y, DATA_DOWNLOAD_OPTIONS), 'data download')
      .positional('name', { type: 'string', describe: 'a dataset (pix2pix data download --list)' })
      .usage(
        '$0 data download NAME [--out datasets] [--mirror URL] [--cache-dir DIR]\n\n' +
          "Downloads NAME.tar.gz from the authors' server (resumable, into the cache), extracts it into\n" +
          'OUT/NAME (refusing archives with absolute paths, .., outside links or devices) and checks every\n' +
          'split as training opens it. cityscapes is not redistributable: see `pix2pix data cityscapes`. Details: docs/data.md.',
      ),
  handler: async (argv) => {
    const a = readArgs(DATA_DOWNLOAD_OPTIONS, argv);
    const { datasetTable, downloadDataset } = await import('../../data/download.ts');
    if (a.list) {
      process.stdout.write(`${datasetTable()}\n`);
      return;
    }
    const name = (argv as { name?: unknown }).name;
    if (typeof name !== 'string' || name === '')
      throw new UserError('name a dataset, e.g. `pix2pix data download facades` (pix2pix data download --list shows them)');
    const log = a.quiet ? () => {} : (l: string) => process.stderr.write(`${l}\n`);
    const progress = byteProgress({ label: name, quiet: a.quiet });
    const r = await downloadDataset({ name, out: a.out, cacheDir: a.cacheDir, mirror: a.mirror, onProgress: progress.update, log });
    progress.finish();
    const counts = Object.entries(r.splits)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    process.stdout.write(`${r.dir}: ${counts} pairs${r.skipped.length ? `; ${r.skipped.length} unreadable file(s) skipped` : ''}\n`);
  },
};

export const dataCombineCommand: CommandModule = {
  command: 'combine',
  describe: 'Put A and B images of the same name side by side (AB images per split), like combine_A_and_B.py',
  builder: (y: Argv) =>
    withExamples(addOptions(y, DATA_COMBINE_OPTIONS), 'data combine').usage(
      '$0 data combine --a DIR --b DIR --out DIR\n\n' +
        'For each split folder of --a (train/, val/, test/), writes OUT/<split>/<name> = A | B for every file\n' +
        'name present in both --a/<split> and --b/<split>; names on one side only are listed. `train` also\n' +
        'reads A/ and B/ folders directly (docs/data.md), so combining is optional.',
    ),
  handler: async (argv) => {
    const a = readArgs(DATA_COMBINE_OPTIONS, argv);
    const { combineAB } = await import('../../data/combine.ts');
    const { ProgressBar } = await import('../../util/progress.ts');
    const log = a.quiet ? () => {} : (l: string) => process.stderr.write(`${l}\n`);
    let bar: InstanceType<typeof ProgressBar> | undefined;
    const r = await combineAB({
      a: a.a,
      b: a.b,
      out: a.out,
      log,
      onProgress: (done, total) => {
        bar ??= new ProgressBar({ label: 'combine', total, unit: 'img', quiet: a.quiet });
        bar.set(done);
      },
    });
    bar?.finish();
    if (r.onlyA.length) log(listLine(`only in --a ${a.a}`, r.onlyA));
    if (r.onlyB.length) log(listLine(`only in --b ${a.b}`, r.onlyB));
    if (r.refused.length) log(listLine('not combined', r.refused));
    const counts = Object.entries(r.written)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    process.stdout.write(`${a.out}: ${counts} AB images\n`);
  },
};
