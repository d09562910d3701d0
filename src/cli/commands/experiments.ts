import type { CommandModule } from 'yargs';

interface EvalRunArgs {
  file: string;
  profile: string;
  out: string;
  only?: string;
  resume: boolean;
  force: boolean;
  jobs?: number;
}

/** `pix2pix eval run FILE`: the `run` sub-command of `pix2pix eval`. */
export const evalRunCommand: CommandModule<object, EvalRunArgs> = {
  command: 'run <file>',
  describe: "Reproduce a paper table: train, export, translate and score every variant of an experiment file",
  builder: (y) =>
    y
      .usage('$0 eval run experiments/NAME.yaml [--profile quick|full|ci] [--out results/] [--only VARIANT] [--resume] [--jobs N]')
      .positional('file', { type: 'string', demandOption: true, describe: 'experiment file (experiments/*.yaml)' })
      .option('profile', { type: 'string', default: 'quick', describe: 'quick: synthetic data, this machine; full: paper settings (GPU + real data); ci: tiny' })
      .option('out', { type: 'string', default: 'results', describe: 'results folder: <experiment>.csv/.md, figures, and _work/ (per-stage outputs)' })
      .option('only', { type: 'string', describe: 'run one variant (spread variants over machines, then `pix2pix results collect`)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue interrupted training runs from their last epoch checkpoint' })
      .option('force', { type: 'boolean', default: false, describe: 'write into an --out folder that holds files eval run did not write (or /, or your home folder)' })
      .option('jobs', { type: 'number', describe: 'variants trained at once in worker processes (default: number of cores)' }),
  handler: async (a) => {
    const { runExperiment } = await import('../../experiments/run.ts');
    const r = await runExperiment({ file: a.file, profile: a.profile, out: a.out, only: a.only, resume: a.resume, jobs: a.jobs, force: a.force });
    process.stdout.write(`${r.markdown}\n${r.csv}\n`);
  },
};

interface CollectArgs {
  files: string[];
  profile: string;
  out: string;
}

interface TableArgs {
  csv: string[];
}

const collectCommand: CommandModule<object, CollectArgs> = {
  command: 'collect <files..>',
  describe: 'Merge finished per-variant results (e.g. from --only runs) into results/<experiment>.csv and .md',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'experiment files (experiments/*.yaml)' })
      .option('profile', { type: 'string', default: 'quick', describe: 'the profile the runs used' })
      .option('out', { type: 'string', default: 'results', describe: 'results folder the runs wrote to' }),
  handler: async (a) => {
    const { collectResults } = await import('../../experiments/run.ts');
    const outs = await collectResults({ files: a.files, profile: a.profile, out: a.out });
    for (const o of outs) process.stdout.write(`${o.csv}\n${o.markdown}\n`);
  },
};

const tableCommand: CommandModule<object, TableArgs> = {
  command: 'table <csv..>',
  describe: 'Regenerate the markdown tables from results CSVs alone',
  builder: (y) => y.positional('csv', { type: 'string', array: true, demandOption: true, describe: 'results/*.csv' }),
  handler: async (a) => {
    const { regenerateTables } = await import('../../experiments/run.ts');
    for (const f of await regenerateTables(a.csv)) process.stdout.write(`${f}\n`);
  },
};

/** `pix2pix results collect|table`. */
export const resultsCommand: CommandModule<object, object> = {
  command: 'results <command>',
  describe: 'Merge experiment results and regenerate their tables',
  builder: (y) => y.command(collectCommand).command(tableCommand).demandCommand(1, 'Name a sub-command: collect or table.'),
  handler: () => {},
};
