/** `pix2pix data synth`, `pix2pix data cityscapes` and `pix2pix eval run`. */
import { opt } from './define.ts';
import { force, json, quiet } from './common.ts';

export const SYNTH_OPTIONS = {
  out: opt.string({ help: 'output folder (must be empty or missing)', required: true }),
  count: opt.int({ help: 'number of scenes', default: 200, min: 3 }),
  size: opt.int({ help: 'side of each square image in pixels', default: 64, min: 8 }),
  seed: opt.int({ help: 'random seed (same arguments → byte-identical files)', default: 1, min: 0 }),
  splits: opt.string({ help: 'fractions for train,val,test', default: '0.8,0.1,0.1' }),
  force: { ...force, help: 'replace a synthetic dataset already in --out', aliases: ['overwrite'] },
  quiet: { ...quiet, help: 'no progress bar' },
} as const;

export const CITYSCAPES_OPTIONS = {
  cityscapes: opt.string({ help: 'official Cityscapes root (gtFine/, and leftImg8bit/ unless --pix2pix-download)', required: true }),
  out: opt.string({ help: 'output dataset folder (train/, val/, dataset.json)', required: true }),
  size: opt.int({ help: 'side of each half in pixels', default: 256, min: 8 }),
  pix2pixDownload: opt.string({ help: 'the numbered pix2pix cityscapes download (folder with train/ and val/)' }),
  jobs: opt.int({ help: 'images decoded and encoded at once', default: 4, min: 1 }),
  quiet: { ...quiet, help: 'no progress bar' },
} as const;

export const EVAL_RUN_OPTIONS = {
  profile: opt.string({ help: 'quick: synthetic data, this machine; full: paper settings (GPU + real data); ci: tiny', default: 'quick' }),
  out: opt.string({ help: 'results folder: <experiment>.csv/.md, figures, and _work/ (per-stage outputs)', default: 'results' }),
  only: opt.string({ help: 'run one variant (spread variants over machines, then `pix2pix results collect`)' }),
  resume: opt.boolean({
    help: 'continue interrupted training runs from their last epoch checkpoint, and take over stale stage claims (crashed tasks; see --lease)',
    default: false,
  }),
  force,
  jobs: opt.int({ help: 'variants trained at once in worker processes (default: number of cores)', min: 1 }),
  task: opt.string({
    help: 'i/n: run task i (0-based) of an n-task job array: its share of the (variant, seed) pairs. Default: from SLURM_ARRAY_TASK_ID (and _MIN, _STEP, _COUNT), else JOB_COMPLETION_INDEX with --task-count; 0/1 runs everything',
    check: (v) => (/^\s*\d+\s*\/\s*\d+\s*$/.test(v) ? undefined : 'must be i/n, e.g. 0/3'),
    scope: 'cli',
  }),
  taskCount: opt.int({
    help: 'number of tasks of a Kubernetes Indexed Job (its completions), whose pod index comes from JOB_COMPLETION_INDEX',
    min: 1,
    scope: 'cli',
  }),
  lease: opt.string({
    help: 'how long a stage claim holds without a heartbeat (the holder renews it every quarter lease); a claim older than that, or whose process is gone from this host, is stale and --resume takes it over (90s, 30m, 6h, 1d)',
    default: '1h',
    check: (v) => (/^\s*\d+(\.\d+)?\s*[smhd]?\s*$/.test(v) && Number.parseFloat(v) > 0 ? undefined : 'must be a duration like 90s, 30m, 6h or 1d'),
    scope: 'cli',
  }),
  status: opt.boolean({
    help: 'run nothing: print each stage of each (variant, seed) pair as done / running (by whom, since when, stale or not) / failed / missing, from the files in --out',
    default: false,
    scope: 'cli',
  }),
  collect: opt.boolean({
    help: 'run nothing: merge the finished pairs into the results files (as `results collect`); exit status 1 while any pair is not done',
    default: false,
    scope: 'cli',
  }),
  json: {
    ...json,
    help: 'print one JSON line per progress report ({"event":"progress",…}), then the results rows (with --status: the stage states) as one JSON object on stdout',
  },
} as const;

export const COLLECT_OPTIONS = {
  profile: opt.string({ help: 'the profile the runs used', default: 'quick' }),
  out: opt.string({ help: 'results folder the runs wrote to', default: 'results' }),
  taskCount: opt.int({ help: 'name, for each unfinished (variant, seed) pair, the task of an n-task array that runs it', min: 1, scope: 'cli' }),
} as const;
