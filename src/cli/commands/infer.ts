import type { CommandModule } from 'yargs';

interface InferArgs {
  model: string;
  input: string;
  output: string;
  'batch-size': number;
  provider: string;
  threads?: number;
  size?: string;
  'keep-size': boolean;
  tile?: number;
  overlap?: number;
  html: boolean;
  'save-triplets': boolean;
  format: string;
  recursive: boolean;
  'skip-existing': boolean;
  'ab-side'?: string;
  shard?: string;
  quiet: boolean;
}

export const inferCommand: CommandModule<object, InferArgs> = {
  command: 'infer',
  describe: 'Translate a folder of images with an ONNX generator (ours or a PyTorch export)',
  builder: (y) =>
    y
      .usage(
        '$0 infer --model M.onnx --input DIR --output DIR [options]\n\n' +
          'Each image is translated at its own size (reflect-padded to the model\'s multiple of 2^depth, cropped back),\n' +
          'or resized to N×N with --size N, and written to OUTPUT under the same name.\n' +
          'Unreadable files are reported and skipped (exit status 1 if any failed).',
      )
      .option('model', { type: 'string', demandOption: true, describe: 'ONNX generator (from `pix2pix export`, or any pix2pix export: NCHW float in [-1,1])' })
      .option('input', { type: 'string', demandOption: true, describe: 'folder of images' })
      .option('output', { type: 'string', demandOption: true, describe: 'folder for the translated images (created)' })
      .option('batch-size', { type: 'number', default: 4, describe: 'images per session run' })
      .option('provider', { choices: ['auto', 'cuda', 'webgpu', 'cpu'], default: 'auto', describe: 'execution provider; auto = CUDA when installed and a GPU is present, else CPU' })
      .option('threads', { type: 'number', describe: 'intra-op threads (default: all cores)' })
      .option('size', { type: 'string', describe: "'native' (default for models with free H and W): each image at its own size; N: resize to N×N (default for fixed-size models)" })
      .option('keep-size', { type: 'boolean', default: false, describe: "with --size N: resize each output back to its source's size" })
      .option('tile', { type: 'number', describe: 'translate images larger than N×N in overlapping N×N tiles, blended (N a multiple of 2^depth); deep nets see each tile alone: see docs/infer.md' })
      .option('overlap', { type: 'number', describe: 'pixels shared by neighbouring tiles (default tile/4)' })
      .option('html', { type: 'boolean', default: false, describe: 'write index.html (50 rows a page) with input | output (| target for AB pairs); implies --save-triplets' })
      .option('save-triplets', { type: 'boolean', default: false, describe: 'also write NAME_input.EXT (and NAME_target.EXT with --ab-side) beside each output' })
      .option('format', { choices: ['png', 'jpg', 'webp'], default: 'png' })
      .option('recursive', { type: 'boolean', default: false, describe: 'include subfolders and mirror the tree in OUTPUT' })
      .option('skip-existing', { type: 'boolean', default: false, describe: 'leave outputs that already exist (resume an interrupted run)' })
      .option('ab-side', { choices: ['A', 'B'], describe: 'inputs are aligned AB pairs: feed this half' })
      .option('shard', { type: 'string', describe: 'i/n: process the i-th (0-based) of n disjoint slices of the sorted file list, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar or summary' }),
  handler: async (a) => {
    const { translateFolder, parseShard } = await import('../../runtime/translate.ts');
    const { parseSizeFlag } = await import('../../runtime/size-mode.ts');
    const r = await translateFolder({
      model: a.model,
      input: a.input,
      output: a.output,
      batchSize: a['batch-size'],
      provider: a.provider as 'auto' | 'cuda' | 'webgpu' | 'cpu',
      threads: a.threads,
      size: parseSizeFlag(a.size),
      keepSize: a['keep-size'],
      tile: a.tile,
      overlap: a.overlap,
      html: a.html,
      saveTriplets: a['save-triplets'],
      format: a.format as 'png' | 'jpg' | 'webp',
      recursive: a.recursive,
      skipExisting: a['skip-existing'],
      abSide: a['ab-side'] as 'A' | 'B' | undefined,
      shard: a.shard !== undefined ? parseShard(a.shard) : undefined,
      quiet: a.quiet,
    });
    if (!a.quiet) {
      const rate = r.translated / Math.max(r.seconds, 1e-9);
      process.stderr.write(
        `infer: ${r.translated} translated, ${r.skipped} skipped (existing), ${r.failed.length} failed of ${r.total} in ${r.seconds.toFixed(1)} s ` +
          `(${rate.toFixed(2)} img/s; provider ${r.provider})\n`,
      );
    }
    if (r.failed.length > 0) {
      if (a.quiet) for (const f of r.failed) process.stderr.write(`infer: failed ${f.file}: ${f.reason}\n`);
      process.exitCode = 1;
    }
  },
};
