import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { COLLECT_OPTIONS, EVAL_RUN_OPTIONS } from '../../options/data.ts';
import { entry } from './index.ts';

/** `pix2pix eval run FILE`: the `run` sub-command of `pix2pix eval`. */
export const evalRunCommand: CommandModule = {
  command: 'run <file>',
  describe: 'Reproduce a paper table: train, export, translate and score every variant of an experiment file',
  builder: (y: Argv) =>
    withExamples(addOptions(y, EVAL_RUN_OPTIONS), 'eval run')
      .usage(
        '$0 eval run experiments/NAME.yaml [--profile quick|full|ci] [--out results/] [--only VARIANT] [--resume] [--jobs N] [--task i/n] [--status] [--collect]',
      )
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment file (experiments/*.yaml)' }),
  handler: async (argv) => {
    const { json, task, taskCount, lease, status, collect, ...a } = readArgs(EVAL_RUN_OPTIONS, argv);
    const file = String(argv.file);
    const { resolveTask } = await import('../../util/task-array.ts');
    const { printStatus, printCollect } = await import('./experiments-report.ts');
    if (status) return printStatus(file, a.profile, a.out, json, task ? resolveTask({ task, env: {} })?.count : taskCount);
    if (collect) return printCollect([file], a.profile, a.out, json, taskCount);
    const { runExperiment } = await import('../../experiments/run.ts');
    const { parseDuration, STOP_HINT } = await import('../../experiments/claims.ts');
    // A stop (Ctrl-C, SIGTERM) at any point of the run is reported as one (src/util/stop.ts), also while it only waits.
    (await import('../../util/stop.ts')).holdStopHandlers(STOP_HINT);
    const arrayTask = resolveTask({ task, taskCount, env: process.env });
    // --json: each overall progress report is one JSON line on stdout before the result object.
    const onProgress = json ? (e: object) => void process.stdout.write(`${JSON.stringify(e)}\n`) : undefined;
    const r = await runExperiment({ ...a, file, task: arrayTask, leaseSeconds: parseDuration(lease), onProgress });
    if (!r) {
      if (json) process.stdout.write(`${JSON.stringify({ task: arrayTask })}\n`);
      return;
    }
    if (json) {
      const { summaryRows } = await import('../../experiments/report.ts');
      const { rows } = summaryRows(r.summary);
      process.stdout.write(
        `${JSON.stringify({ experiment: r.summary.experiment, profile: r.summary.profile, csv: r.csv, markdown: r.markdown, samples: r.samples, losses: r.losses, rows })}\n`,
      );
    } else process.stdout.write(`${r.markdown}\n${r.csv}\n`);
  },
};

interface TableArgs {
  csv: string[];
}

const collectCommand: CommandModule<object, TableArgs & { files: string[] }> = {
  command: 'collect <files..>',
  describe:
    'Merge finished runs (from --only runs or array tasks) into results/<experiment>.csv and .md; lists the (variant, seed) pairs not done and exits 1 while any is missing, running or failed',
  builder: (y) =>
    withExamples(addOptions(y, COLLECT_OPTIONS), 'results collect').positional('files', {
      type: 'string',
      array: true,
      demandOption: true,
      describe: 'experiment files (experiments/*.yaml)',
    }) as unknown as Argv<TableArgs & { files: string[] }>,
  handler: async (argv) => {
    const a = readArgs(COLLECT_OPTIONS, argv);
    const { printCollect } = await import('./experiments-report.ts');
    await printCollect(argv.files, a.profile, a.out, false, a.taskCount);
  },
};

const tableCommand: CommandModule<object, TableArgs> = {
  command: 'table <csv..>',
  describe: 'Regenerate the markdown tables from results CSVs alone',
  // The CLI keeps only the last of repeated arguments (for flags); a list of files needs them all.
  builder: (y) =>
    withExamples(y, 'results table')
      .parserConfiguration({ 'duplicate-arguments-array': true })
      .positional('csv', { type: 'string', array: true, demandOption: true, describe: 'results/*.csv' }),
  handler: async (a) => {
    const { regenerateTables } = await import('../../experiments/tables.ts');
    for (const f of await regenerateTables(a.csv)) process.stdout.write(`${f}\n`);
  },
};

/** `pix2pix results collect|table`. */
export const resultsCommand: CommandModule<object, object> = {
  ...entry('results'),
  builder: (y) => y.command(collectCommand).command(tableCommand).demandCommand(1, 'Name a sub-command: collect or table.'),
  handler: () => {},
};
