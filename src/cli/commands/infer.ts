import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { INFER_OPTIONS } from '../../options/infer.ts';
import { entry } from './index.ts';

export const inferCommand: CommandModule = {
  ...entry('infer'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, INFER_OPTIONS), 'infer').usage(
      '$0 infer --model M.onnx --input DIR --out DIR [options]\n\n' +
        "Each image is translated at its own size (reflect-padded to the model's multiple of 2^depth, cropped back),\n" +
        'or resized to N×N with --size N, and written to OUT under the same name.\n' +
        'Unreadable files are reported and skipped (exit status 1 if any failed).',
    ),
  handler: async (argv) => {
    const { json, shard, taskCount, maxModelMemory, size, out, ...a } = readArgs(INFER_OPTIONS, argv);
    const { translateFolder } = await import('../../runtime/translate.ts');
    const { parseMaxModelMemory } = await import('../../runtime/model-policy.ts');
    const { parseSizeFlag } = await import('../../runtime/size-mode.ts');
    const { resolveTask } = await import('../../util/task-array.ts');
    // --shard, else the array index of a SLURM array task or a Kubernetes Indexed Job pod.
    const t = resolveTask({ task: shard, taskCount, env: process.env, flag: '--shard' });
    if (t && shard === undefined && !a.quiet) process.stderr.write(`infer: shard ${t.index}/${t.count} from ${t.source}\n`);
    const r = await translateFolder({
      ...a,
      output: out,
      size: parseSizeFlag(size),
      shard: t ? { index: t.index, count: t.count } : undefined,
      maxModelMemory: parseMaxModelMemory(maxModelMemory),
    });
    const rate = r.translated / Math.max(r.seconds, 1e-9);
    if (json) {
      const summary = {
        total: r.total,
        translated: r.translated,
        skipped: r.skipped,
        failed: r.failed,
        seconds: r.seconds,
        sessionSeconds: r.sessionSeconds,
        imagesPerSecond: rate,
        provider: r.provider,
        size: r.size,
        output: out,
      };
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else if (!a.quiet) {
      process.stderr.write(
        `infer: ${r.translated} translated, ${r.skipped} skipped (existing), ${r.failed.length} failed of ${r.total} in ${r.seconds.toFixed(1)} s ` +
          `(${rate.toFixed(2)} img/s; provider ${r.provider})\n`,
      );
    }
    if (r.failed.length > 0) {
      if (a.quiet && !json) for (const f of r.failed) process.stderr.write(`infer: failed ${f.file}: ${f.reason}\n`);
      process.exitCode = 1;
    }
  },
};
