import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { PULL_OPTIONS } from '../../options/pull.ts';
import { UserError } from '../../util/errors.ts';
import { byteProgress } from '../../util/progress.ts';
import { withExamples } from '../examples.ts';
import { entry } from './index.ts';

/** `pix2pix pull NAME`: a published PyTorch pix2pix generator as models/NAME.onnx. */
export const pullCommand: CommandModule = {
  ...entry('pull'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, PULL_OPTIONS), 'pull')
      .positional('name', { type: 'string', describe: 'a published model (pix2pix pull --list)' })
      .usage(
        '$0 pull NAME [--out models] [--mirror URL] [--cache-dir DIR]\n\n' +
          "Downloads one of the pix2pix authors' PyTorch generators (resumable, into the cache), converts it\n" +
          'like `pix2pix import`, and writes OUT/NAME.onnx with a model card in its metadata (what it\n' +
          'translates, its input kind and palette, source URL, sha256, licence). Details: docs/pull.md.',
      ),
  handler: async (argv) => {
    const a = readArgs(PULL_OPTIONS, argv);
    const { modelTable } = await import('../../pull/catalog.ts');
    if (a.list) {
      process.stdout.write(`${modelTable()}\n`);
      return;
    }
    const name = (argv as { name?: unknown }).name;
    if (typeof name !== 'string' || name === '')
      throw new UserError('name a model to pull, e.g. `pix2pix pull facades_label2photo` (pix2pix pull --list shows them)');
    const { pullModel } = await import('../../pull/pull.ts');
    const progress = byteProgress({ label: name, quiet: a.quiet });
    const r = await pullModel({
      name,
      out: a.out,
      cacheDir: a.cacheDir,
      mirror: a.mirror,
      onProgress: progress.update,
      log: a.quiet ? () => {} : (l) => process.stderr.write(`${l}\n`),
    });
    progress.finish();
    process.stdout.write(`${r.out}\n`);
  },
};
