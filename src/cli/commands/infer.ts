import type { CommandModule } from 'yargs';

interface InferArgs {
  model: string;
  input: string;
  output: string;
  'batch-size': number;
  provider: string;
  threads?: number;
  size?: number;
  'keep-size': boolean;
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
          'Each image is resized to the model side, translated, and written to OUTPUT under the same name.\n' +
          'Unreadable files are reported and skipped (exit status 1 if any failed).',
      )
      .option('model', { type: 'string', demandOption: true, describe: 'ONNX generator (from `pix2pix export`, or any pix2pix export: NCHW float in [-1,1])' })
      .option('input', { type: 'string', demandOption: true, describe: 'folder of images' })
      .option('output', { type: 'string', demandOption: true, describe: 'folder for the translated images (created)' })
      .option('batch-size', { type: 'number', default: 4, describe: 'images per session run' })
      .option('provider', { choices: ['auto', 'cuda', 'webgpu', 'cpu'], default: 'auto', describe: 'execution provider; auto = CUDA when installed and an NVIDIA GPU is present, else WebGPU on a GPU adapter (never a software one), else CPU; the log says which' })
      .option('threads', { type: 'number', describe: 'intra-op threads (default: all cores)' })
      .option('size', { type: 'number', describe: 'model input side (default: from the model metadata, else 256)' })
      .option('keep-size', { type: 'boolean', default: false, describe: "resize each output back to its source's size" })
      .option('format', { choices: ['png', 'jpg', 'webp'], default: 'png' })
      .option('recursive', { type: 'boolean', default: false, describe: 'include subfolders and mirror the tree in OUTPUT' })
      .option('skip-existing', { type: 'boolean', default: false, describe: 'leave outputs that already exist (resume an interrupted run)' })
      .option('ab-side', { choices: ['A', 'B'], describe: 'inputs are aligned AB pairs: feed this half' })
      .option('shard', { type: 'string', describe: 'i/n: process the i-th (0-based) of n disjoint slices of the sorted file list, e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar or summary' }),
  handler: async (a) => {
    const { translateFolder, parseShard } = await import('../../runtime/translate.ts');
    const r = await translateFolder({
      model: a.model,
      input: a.input,
      output: a.output,
      batchSize: a['batch-size'],
      provider: a.provider as 'auto' | 'cuda' | 'webgpu' | 'cpu',
      threads: a.threads,
      size: a.size,
      keepSize: a['keep-size'],
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
