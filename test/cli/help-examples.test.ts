import type { Argv } from 'yargs';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../src/cli/main.ts';
import { COMMANDS, commandName } from '../../src/cli/commands/index.ts';
import { EXAMPLES } from '../../src/cli/examples.ts';
import { readArgs } from '../../src/options/cli.ts';
import type { OptionTable } from '../../src/options/define.ts';
import { COLLECT_OPTIONS, CITYSCAPES_OPTIONS, EVAL_RUN_OPTIONS, SYNTH_OPTIONS } from '../../src/options/data.ts';
import { COLOR_OPTIONS, FCN_SCORE_OPTIONS, LABELS_OPTIONS, RF_OPTIONS } from '../../src/options/eval.ts';
import { EXPORT_OPTIONS, IMPORT_OPTIONS } from '../../src/options/export.ts';
import { INFER_OPTIONS } from '../../src/options/infer.ts';
import { IMPORT_CAFFE_OPTIONS, SEGMENTER_OPTIONS } from '../../src/options/segmenter.ts';
import { SERVE_OPTIONS } from '../../src/options/serve.ts';
import { TEST_PY_OPTIONS } from '../../src/options/test-py.ts';
import { TRAIN_OPTIONS } from '../../src/options/train.ts';

/** Each command's option table (undefined: the command has positionals only). */
const TABLES: Record<string, OptionTable | undefined> = {
  'data synth': SYNTH_OPTIONS,
  'data cityscapes': CITYSCAPES_OPTIONS,
  train: TRAIN_OPTIONS,
  export: EXPORT_OPTIONS,
  import: IMPORT_OPTIONS,
  infer: INFER_OPTIONS,
  test: TEST_PY_OPTIONS,
  serve: SERVE_OPTIONS,
  'segmenter train': SEGMENTER_OPTIONS,
  'segmenter import-caffe': IMPORT_CAFFE_OPTIONS,
  'eval fcn-score': FCN_SCORE_OPTIONS,
  'eval labels': LABELS_OPTIONS,
  'eval color': COLOR_OPTIONS,
  'eval rf': RF_OPTIONS,
  'eval run': EVAL_RUN_OPTIONS,
  'results collect': COLLECT_OPTIONS,
  'results table': undefined,
};

class Parsed extends Error {
  constructor(
    readonly argv: Record<string, unknown>,
    readonly help: string,
  ) {
    super('parsed');
  }
}

/** Parse `args` with the real CLI up to the handler (which never runs); the parsed flags and the command's help. */
async function parseOnly(args: string[]): Promise<Parsed> {
  const cli = await buildCli(args);
  // Middleware runs after yargs' checks (unknown flags, required ones) and before the handler.
  const stop = async (argv: Record<string, unknown>, y: unknown): Promise<never> => {
    throw new Parsed(argv, await (y as Argv).getHelp());
  };
  cli.middleware(stop as unknown as Parameters<Argv['middleware']>[0]);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof Parsed) return e;
    throw e;
  }
  throw new Error(`pix2pix ${args.join(' ')}: the handler ran before the test's middleware`);
}

describe('--help examples', () => {
  it('every command has examples (and the top level, which shows the quick start)', () => {
    const paths = Object.keys(TABLES);
    expect(Object.keys(EXAMPLES).sort()).toEqual(['', ...paths].sort());
    for (const c of COMMANDS)
      expect(
        paths.some((p) => p.split(' ')[0] === commandName(c.command)),
        commandName(c.command),
      ).toBe(true);
  });

  it('every example parses with the real CLI, its values pass the checks, and it is in that command’s --help', async () => {
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      for (const [line] of examples) {
        const args = line.split(/\s+/);
        if (path !== '') expect(line.startsWith(`${path} `) || line === path, line).toBe(true);
        const parsed = await parseOnly(args).catch((e: unknown) => {
          throw new Error(`pix2pix ${line}: ${String(e)}`);
        });
        const table = TABLES[path === '' ? Object.keys(TABLES).find((p) => line.startsWith(`${p} `))! : path];
        if (table) expect(() => readArgs(table, parsed.argv), line).not.toThrow();
        if (path !== '') expect(parsed.help.replace(/\s+/g, ' '), line).toContain(`pix2pix ${line}`);
      }
    }
  });

  it('the top-level help shows the quick start', async () => {
    const cli = await buildCli(['--help']);
    const help = (await cli.getHelp()).replace(/\s+/g, ' ');
    for (const [line] of EXAMPLES['']!) expect(help).toContain(`pix2pix ${line}`);
  });
});
