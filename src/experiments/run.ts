/**
 * `pix2pix eval run` and `pix2pix results collect|table`: orchestrates an experiment file — prepare
 * the dataset, train the segmenter, train/export/translate every variant in parallel workers,
 * score, then write results/<experiment>.csv, .md, samples.png and losses.png.
 */
import { promises as fsp } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import Papa from 'papaparse';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { claimOutputFolder, resolveInside } from '../util/paths.ts';
import { labelledGrid } from './draw.ts';
import { datasetDir, isSynthetic, WORK_DIR, type ResolvedExperiment, type ResolvedRun, resolveExperiment, segmenterDir } from './resolve.ts';
import { type CsvRow, type ExperimentSummary, markdownFromRows, parseCsv, sharedRows, summaryRows, toCsv, type VariantSummary } from './report.ts';
import { runInWorker, runPool, type PoolTask } from './scheduler.ts';
import type { ExperimentStatus } from './status.ts';
import { readExperiment, type FolderDataset, type SyntheticDataset } from './schema.ts';
import { describeSegmenter, readSegmenterInfo, SEGMENTER_MODEL, SEGMENTER_STAGE, type SegmenterJob } from './segmenter-stage.ts';
import { type ArrayTask, taskShare } from '../util/task-array.ts';
import { DEFAULT_LEASE, describeHolder, judgeClaim, localProbe, parseDuration, readClaim } from './claims.ts';
import {
  halfDir,
  IMAGES_DIR,
  inputSide,
  pendingStages,
  readMarker,
  readRunResult,
  RESULT_FILE,
  type RunJob,
  type RunResult,
  type StageName,
  type ClaimSettings,
  runScoreStage,
  stageKeys,
  stagesOf,
  targetSide,
  workPath,
  materializeHalf,
} from './stages.ts';

export interface RunExperimentOptions {
  file: string;
  profile: string;
  out: string;
  only?: string;
  resume?: boolean;
  /** Parallel worker processes (default: every core). */
  jobs?: number;
  /** Write into an --out folder holding files eval run did not write. */
  force?: boolean;
  log?: (line: string) => void;
  /** This process is one task of a job array: it runs its share of the (variant, seed) pairs only. */
  task?: ArrayTask;
  /** Lease of stage claims in seconds (default 1 h; see claims.ts). */
  leaseSeconds?: number;
}

export interface ExperimentOutputs {
  csv: string;
  markdown: string;
  samples: string | null;
  losses: string | null;
  summary: ExperimentSummary;
}

const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Write the synthetic dataset once (into a temporary folder, renamed when complete). */
async function ensureSyntheticDataset(dir: string, spec: SyntheticDataset, log: (l: string) => void): Promise<void> {
  if (await exists(path.join(dir, 'dataset.json'))) return;
  const { synthesizeDataset } = await import('../data/synth.ts');
  const tmp = `${dir}.tmp-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  log(`dataset: writing synthetic scenes (${spec.synthetic.count} images, ${spec.synthetic.size}²) to ${dir}`);
  await synthesizeDataset({ out: tmp, ...spec.synthetic });
  try {
    await fsp.rename(tmp, dir);
  } catch (e) {
    // Another process finished the same dataset first; its copy is identical.
    await fsp.rm(tmp, { recursive: true, force: true });
    if (!(await exists(path.join(dir, 'dataset.json')))) throw e;
  }
}

interface Prepared {
  data: string;
  labelsDir: string | null;
  segmenterModel: string | null;
  /** The segmenter to train (`segmenter: train`), whether or not it is done. */
  segmenterJob: SegmenterJob | null;
  segmenterDir: string | null;
}

async function prepare(exp: ResolvedExperiment, out: string, log: (l: string) => void): Promise<Prepared> {
  const data = datasetDir(out, exp.dataset);
  const spec = exp.dataset.spec;
  if (isSynthetic(spec)) await ensureSyntheticDataset(data, spec, log);
  else if (!(await exists(path.join(data, exp.dataset.testSplit)))) {
    throw new UserError(`${exp.file}: dataset.path ${data} has no ${exp.dataset.testSplit}/ split to translate; set dataset.testSplit (Cityscapes: val)`);
  }
  let labelsDir: string | null = isSynthetic(spec) ? path.join(data, 'gtFine', exp.dataset.testSplit) : ((spec as FolderDataset).labels ?? null);
  if (exp.scorer.metric === 'color') labelsDir = null;
  else if (!labelsDir)
    throw new UserError(
      `${exp.file}: dataset.labels is needed to score ${exp.task} (the folder of *_gtFine_labelIds.png of the ${exp.dataset.testSplit} split)`,
    );
  let segmenterModel: string | null = null;
  let segmenterJob: SegmenterJob | null = null;
  let segDir: string | null = null;
  if (exp.scorer.metric === 'fcn') {
    if (exp.scorer.segmenter === 'train') {
      segDir = segmenterDir(out, exp.scorer);
      segmenterModel = path.join(segDir, SEGMENTER_MODEL);
      const segData = isSynthetic(spec) ? data : (spec as FolderDataset).segmenterData;
      if (!segData)
        throw new UserError(
          `${exp.file}: scorer.segmenter is 'train' but dataset.segmenterData is not set: point it at a Cityscapes root (leftImg8bit/ + gtFine/), or set scorer.segmenter to an FCN .onnx`,
        );
      segmenterJob = { dir: segDir, data: segData, settings: exp.scorer.segmenterTrain, datasetDescription: exp.dataset.description };
    } else {
      segmenterModel = path.resolve(exp.scorer.segmenter);
      if (!(await exists(segmenterModel)))
        throw new UserError(
          `${exp.file}: scorer.segmenter ${exp.scorer.segmenter} does not exist; give the FCN .onnx (with its .onnx.json sidecar) or 'train'`,
        );
    }
  }
  return { data, labelsDir, segmenterModel, segmenterJob, segmenterDir: segDir };
}

function runLabel(exp: ResolvedExperiment, run: ResolvedRun): string {
  return exp.seeds.length > 1 && run.kind === 'generator' ? `${run.variant} s${run.seed}` : run.variant;
}

/**
 * What eval run and results collect write into a results folder: _work/, and per experiment
 * NAME.csv + NAME.md and the figure folder NAME/ (recognised by its NAME.csv beside it).
 */
export function isResultsEntry(name: string, siblings: ReadonlySet<string>): boolean {
  if (name === WORK_DIR) return true;
  const m = /^(.*)\.(csv|md)$/.exec(name);
  if (m) return siblings.has(`${m[1]}.csv`) && siblings.has(`${m[1]}.md`);
  return siblings.has(`${name}.csv`);
}

/**
 * Every folder eval run writes is derived from --out; refuse (before any work) one that resolves,
 * through a symlink already there, to somewhere outside it.
 */
async function checkDerivedInside(exp: ResolvedExperiment, out: string): Promise<void> {
  const dirs = [path.join(out, WORK_DIR), path.join(out, exp.name), ...exp.runs.map((r) => workPath(out, r))];
  if (isSynthetic(exp.dataset.spec)) dirs.push(datasetDir(out, exp.dataset));
  if (exp.scorer.metric === 'fcn' && exp.scorer.segmenter === 'train') dirs.push(segmenterDir(out, exp.scorer));
  for (const d of dirs) await resolveInside(out, path.relative(out, d), '--out');
}

/** Who holds `stage` of `dir` now: null when free; else the holder, and whether its claim is stale. */
async function holderOf(dir: string, stage: string): Promise<{ holder: string; stale: boolean } | null> {
  const c = await readClaim(dir, stage);
  if (!c || c.record?.released) return null;
  const v = judgeClaim(c, Date.now(), localProbe());
  return { holder: describeHolder(c, v.why), stale: v.stale };
}

/** The worker task of one run, or null (with a log line) when it has nothing to do here. */
async function runTask(
  exp: ResolvedExperiment,
  run: ResolvedRun,
  out: string,
  prep: Prepared,
  o: RunExperimentOptions,
  threads: number,
  log: (l: string) => void,
): Promise<PoolTask | null> {
  const dir = workPath(out, run);
  const keys = stageKeys(run, exp.dataset.testSplit, exp.scorer.hash);
  const order: StageName[] = stagesOf(run).filter((s) => s !== 'score');
  const pending = pendingStages(await readMarker(dir), stagesOf(run), keys).filter((s) => order.includes(s));
  if (pending.length === 0) {
    log(`[${runLabel(exp, run)}] ${order.join(', ')}: already done (skipped)`);
    return null;
  }
  const held = await holderOf(dir, pending[0]!);
  if (held && !held.stale) {
    log(`[${runLabel(exp, run)}] ${pending[0]}: running in ${held.holder} (skipped here)`);
    return null;
  }
  if (pending.includes('train') && !o.resume && (await exists(path.join(dir, 'train', 'checkpoint.bin')))) {
    throw new UserError(
      `${run.variant} (seed ${run.seed}): ${path.join(dir, 'train')} holds an interrupted training run; pass --resume to continue it (or delete that folder to start over)`,
    );
  }
  if (held && !o.resume)
    throw new UserError(
      `${run.variant} (seed ${run.seed}): stage ${pending[0]} was claimed by ${held.holder}, and that claim is stale; pass --resume to take it over`,
    );
  const job: RunJob = {
    out,
    run,
    data: prep.data,
    testSplit: exp.dataset.testSplit,
    datasetDescription: exp.dataset.description,
    resume: o.resume ?? false,
    threads,
    leaseSeconds: o.leaseSeconds,
  };
  return { label: runLabel(exp, run), message: { kind: 'run', job } };
}

const SEGMENTER_POLL_MS = 2000;

/** Make sure the trained segmenter exists: wait while another process trains it, train it here when nobody does. */
async function awaitSegmenter(job: SegmenterJob, claims: ClaimSettings, log: (l: string) => void): Promise<void> {
  let waiting = false;
  while (!(await readSegmenterInfo(job.dir))) {
    const held = await holderOf(job.dir, SEGMENTER_STAGE);
    if (held && !held.stale) {
      if (!waiting) log(`segmenter: waiting for ${held.holder} to finish training it`);
      waiting = true;
      await new Promise((r) => setTimeout(r, SEGMENTER_POLL_MS));
      continue;
    }
    if (held && !claims.resume)
      throw new UserError(`segmenter in ${job.dir} was claimed by ${held.holder}, and that claim is stale; pass --resume to take it over`);
    const r = await runInWorker(
      { label: 'segmenter', message: { kind: 'segmenter', job: { ...job, leaseSeconds: claims.leaseSeconds, resume: claims.resume } } },
      log,
    );
    if (!r.ok) throw r.userError ? new UserError(`segmenter: ${r.message}`) : new Error(`segmenter: ${r.message}`);
  }
}

/** Run (or resume) every stage of an experiment (or of this task's share), then write its results files (not for a task). */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentOutputs | null> {
  const log = o.log ?? defaultLog;
  const out = path.resolve(o.out);
  const spec = await readExperiment(o.file);
  const exp = resolveExperiment(spec, o.file, o.profile, o.only);
  await claimOutputFolder(out, { flag: '--out', command: 'eval run', force: o.force, recursive: true, isOwn: isResultsEntry, log });
  await checkDerivedInside(exp, out);
  const cores = availableParallelism();
  const jobs = o.jobs ?? cores;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs must be a positive integer (got ${o.jobs})`);
  const claims: ClaimSettings = { leaseSeconds: o.leaseSeconds ?? parseDuration(DEFAULT_LEASE), resume: o.resume ?? false };
  log(
    `${exp.name} (${exp.table}), profile ${exp.profile}: ${exp.variants.length} variant(s) × ${exp.seeds.length} seed(s) = ${exp.runs.length} run(s); data: ${exp.dataset.description}`,
  );
  const mine = o.task ? taskShare(exp.runs, o.task) : exp.runs;
  if (o.task) {
    log(
      `task ${o.task.index}/${o.task.count} (${o.task.source}): ${mine.length} of ${exp.runs.length} (variant, seed) pair(s): ${mine.map((r) => `${r.variant} s${r.seed}`).join(', ') || 'none'}`,
    );
    if (mine.length === 0) return null;
  }
  if (exp.dataset.kind === 'folder') {
    // Real data: check everything the last stage needs before the first one trains for days.
    const { preflightExperiment } = await import('./preflight.ts');
    const c = await preflightExperiment(exp, out);
    log(
      `preflight: ${c.trainImages} train / ${c.testImages} test images, every test output pairs with a label; segmenter ${c.segmenter}; ${(c.freeBytes / 2 ** 30).toFixed(1)} GiB free (about ${(c.neededBytes / 2 ** 30).toFixed(1)} GiB needed)`,
    );
  }
  log(
    `paper mode: test-time dropout ${exp.testDropout ? "on (seeded by each run's seed)" : 'off'}; confusion mode ${exp.scorer.metric === 'color' ? 'n/a' : exp.scorer.mode}`,
  );
  const prep = await prepare(exp, out, log);

  const tasks: PoolTask[] = [];
  const segJob = prep.segmenterJob;
  const segPending = segJob !== null && !(await readSegmenterInfo(segJob.dir)) && !(await holderOf(segJob.dir, SEGMENTER_STAGE));
  const lanes = Math.max(1, Math.min(jobs, mine.length + (segPending ? 1 : 0)));
  const threads = Math.max(1, Math.floor(cores / lanes));
  if (segJob && segPending) {
    tasks.push({ label: 'segmenter', message: { kind: 'segmenter', job: { ...segJob, leaseSeconds: claims.leaseSeconds, resume: claims.resume, threads } } });
  }
  for (const run of mine) {
    const t = await runTask(exp, run, out, prep, o, threads, log);
    if (t) tasks.push(t);
  }
  if (tasks.length) {
    const atOnce = Math.min(jobs, tasks.length);
    log(`running ${tasks.length} job(s), ${atOnce} at once (--jobs ${jobs}; ${cores} cores; training uses one core per job)`);
    const outcomes = await runPool(tasks, jobs, log);
    const bad = outcomes.find((x) => !x.ok);
    if (bad) {
      const msg = `${bad.label}: ${bad.message}`;
      throw bad.userError ? new UserError(msg) : new Error(msg);
    }
  }

  // Score the runs whose generator stages are done (others are still running elsewhere).
  const ready: ResolvedRun[] = [];
  for (const run of mine) {
    const keys = stageKeys(run, exp.dataset.testSplit, exp.scorer.hash);
    const before = pendingStages(await readMarker(workPath(out, run)), stagesOf(run), keys).filter((s) => s !== 'score');
    if (before.length) log(`[${runLabel(exp, run)}] not scored here: ${before.join(', ')} not done (another process holds it)`);
    else ready.push(run);
  }
  let segmenterDescription =
    exp.scorer.metric === 'color'
      ? 'none (Lab histogram intersection needs no segmenter)'
      : exp.scorer.metric === 'labels'
        ? 'none (generated colour maps → trainIds by nearest Cityscapes colour)'
        : `FCN ${exp.scorer.segmenter}`;
  if (segJob && ready.length) {
    await awaitSegmenter(segJob, claims, log);
    segmenterDescription = describeSegmenter((await readSegmenterInfo(segJob.dir))!);
  }
  for (const run of ready) {
    await runScoreStage(
      {
        out,
        run,
        data: prep.data,
        testSplit: exp.dataset.testSplit,
        labelsDir: prep.labelsDir,
        scorer: exp.scorer,
        segmenterModel: prep.segmenterModel,
        segmenterDescription,
        datasetDescription: exp.dataset.description,
        claims,
      },
      (l) => log(`[${runLabel(exp, run)}] ${l}`),
    );
  }
  // Pairs of this run that another process still holds, or whose stale claim waits for --resume: exit non-zero.
  const { assertPairsDone } = await import('./status.ts');
  if (o.task) {
    await assertPairsDone(exp, out, mine);
    log(
      `task ${o.task.index}/${o.task.count}: finished its share; when every task is done, merge with: pix2pix results collect ${o.file} --profile ${o.profile} --out ${o.out}`,
    );
    return null;
  }
  // Collect every variant of the profile (not only --only's), so partial runs show what is missing.
  const outputs = await collectExperiment(await readExperiment(o.file).then((s) => resolveExperiment(s, o.file, o.profile)), out, prep.data, log);
  await assertPairsDone(exp, out, mine);
  return outputs;
}

async function readFinished(out: string, run: ResolvedRun): Promise<RunResult | null> {
  const dir = workPath(out, run);
  if (!(await exists(path.join(dir, RESULT_FILE)))) return null;
  const r = await readRunResult(dir);
  return r.hash === run.hash ? r : null;
}

/** Merge the finished runs of one resolved experiment into its results files. */
export async function collectExperiment(exp: ResolvedExperiment, out: string, data: string, log: (l: string) => void = defaultLog): Promise<ExperimentOutputs> {
  const variants: VariantSummary[] = [];
  const firstRun = new Map<string, ResolvedRun>();
  const finished = new Map<string, ResolvedRun[]>();
  for (const v of exp.variants) {
    const runs = exp.runs.filter((r) => r.variant === v.name);
    const results = (await Promise.all(runs.map((r) => readFinished(out, r)))).filter((r): r is RunResult => r !== null);
    const done = runs.filter((r) => results.some((x) => x.seed === r.seed));
    finished.set(v.name, done);
    if (done[0]) firstRun.set(v.name, done[0]);
    variants.push({
      variant: v.name,
      label: v.label,
      kind: v.kind,
      settings: v.overrides as Record<string, unknown>,
      paper: v.paper,
      results,
      expectedRuns: runs.length,
    });
  }
  const summary: ExperimentSummary = {
    experiment: exp.name,
    title: exp.title,
    table: exp.table,
    task: exp.task,
    profile: exp.profile,
    metrics: exp.metrics,
    datasetKind: exp.dataset.kind,
    compare: exp.compare,
    dataset: exp.dataset.description,
    variants,
  };
  const { fields, rows } = summaryRows(summary);
  const csv = path.join(out, `${exp.name}.csv`);
  const md = path.join(out, `${exp.name}.md`);
  await writeFileAtomic(csv, toCsv(fields, rows));
  await writeFileAtomic(md, markdownFromRows(rows, fields, sharedRows(rows, await siblingResults(out, csv))));
  const figDir = path.join(out, exp.name);
  const samples = await writeSamplesGrid(exp, out, data, firstRun, path.join(figDir, 'samples.png'));
  const losses = await writeLossPlot(exp, out, finished, path.join(figDir, 'losses.png'));
  const { experimentIndexHtml } = await import('./index-page.ts');
  await writeFileAtomic(path.join(figDir, 'index.html'), experimentIndexHtml(await fsp.readFile(md, 'utf8'), exp.name, `${exp.table}: ${exp.title}`));
  const missing = variants.filter((v) => v.results.length < v.expectedRuns).map((v) => v.variant);
  log(`${exp.name}: wrote ${csv} and ${md}${missing.length ? ` (not finished: ${missing.join(', ')})` : ''}`);
  return { csv, markdown: md, samples, losses, summary };
}

const SAMPLE_COLUMNS = 4;

async function writeSamplesGrid(exp: ResolvedExperiment, out: string, data: string, firstRun: Map<string, ResolvedRun>, file: string): Promise<string | null> {
  const runs = [...firstRun.values()];
  if (runs.length === 0) return null;
  const { readImage, writeImage, listImages } = await import('../data/image.ts');
  const size = runs[0]!.size;
  const direction = runs[0]!.direction;
  const names = (await listImages(path.join(data, exp.dataset.testSplit))).slice(0, SAMPLE_COLUMNS).map((n) => n.replace(/\.[^./]+$/, '.png'));
  const dsHash = (await import('./hash.ts')).hashOf({ data: path.resolve(data) });
  const half = (side: ReturnType<typeof inputSide>): Promise<string> =>
    materializeHalf(data, exp.dataset.testSplit, side, size, halfDir(out, dsHash, exp.dataset.testSplit, side, size));
  const inputs = await half(inputSide(direction));
  const targets = await half(targetSide(direction));
  const load = async (dir: string): Promise<(import('../data/image.ts').RgbImage | null)[]> =>
    Promise.all(names.map(async (n) => ((await exists(path.join(dir, n))) ? readImage(path.join(dir, n), { resize: { width: size, height: size } }) : null)));
  const rows = [
    { label: 'input', images: await load(inputs) },
    { label: 'ground truth', images: await load(targets) },
  ];
  for (const run of runs) rows.push({ label: run.label, images: await load(path.join(workPath(out, run), IMAGES_DIR)) });
  await writeImage(file, labelledGrid(rows, size), 'png');
  return file;
}

/** Per-step losses, when the trainer wrote them; else the per-epoch means of losses.csv. */
const STEP_LOSSES = 'losses-steps.csv';

type LossRow = Record<string, string>;

const LOSS_PANELS: readonly { title: string; perStep: boolean; value: (r: LossRow) => number }[] = [
  { title: 'val L1 (test-time G on val pairs)', perStep: false, value: (r) => (r.val_L1 === '' || r.val_L1 === undefined ? Number.NaN : Number(r.val_L1)) },
  { title: 'G L1 (training)', perStep: true, value: (r) => Number(r.G_L1) },
  { title: 'G GAN (training)', perStep: true, value: (r) => Number(r.G_GAN) },
  { title: 'D (mean of real and fake terms)', perStep: true, value: (r) => (Number(r.D_real) + Number(r.D_fake)) / 2 },
];

async function readCsvRows(file: string): Promise<LossRow[] | null> {
  if (!(await exists(file))) return null;
  return Papa.parse<LossRow>(await fsp.readFile(file, 'utf8'), { header: true, skipEmptyLines: true }).data;
}

/** One run's curves on a common x axis (training step): per-step rows where written, epoch rows at each epoch's last step. */
async function runCurves(dir: string): Promise<{ epochs: { x: number; row: LossRow }[]; steps: { x: number; row: LossRow }[] } | null> {
  const epochRows = await readCsvRows(path.join(dir, 'train', 'losses.csv'));
  if (!epochRows) return null;
  let step = 0;
  const epochs = epochRows.map((row) => ({ x: (step += Number(row.steps) || 0), row }));
  const stepRows = await readCsvRows(path.join(dir, 'train', STEP_LOSSES));
  const steps = stepRows ? stepRows.map((row) => ({ x: Number(row.step), row })) : epochs;
  return { epochs, steps };
}

async function writeLossPlot(exp: ResolvedExperiment, out: string, finished: Map<string, ResolvedRun[]>, file: string): Promise<string | null> {
  const { curvesNote, figurePng, figureSvg, lineFor, variantColors } = await import('./figures.ts');
  const colors = variantColors(exp.variants.map((v) => v.name));
  const variants: { name: string; label: string; runs: { seed: number; curves: NonNullable<Awaited<ReturnType<typeof runCurves>>> }[] }[] = [];
  for (const v of exp.variants) {
    const runs = (finished.get(v.name) ?? []).filter((r) => r.kind === 'generator');
    const loaded = [];
    for (const r of runs) {
      const curves = await runCurves(workPath(out, r));
      if (curves) loaded.push({ seed: r.seed, curves });
    }
    if (loaded.length) variants.push({ name: v.name, label: v.label, runs: loaded });
  }
  if (variants.length === 0) return null;
  const perStep = variants.some((v) => v.runs.some((r) => r.curves.steps !== r.curves.epochs));
  const panels = LOSS_PANELS.map((p) => ({
    title: p.title,
    xLabel: 'training step',
    yLabel: 'loss',
    lines: variants
      .map((v) => {
        const curves = v.runs.map((r) => ({
          seed: r.seed,
          points: (p.perStep ? r.curves.steps : r.curves.epochs).map(({ x, row }) => [x, p.value(row)] as const).filter(([, y]) => Number.isFinite(y)),
        }));
        // A loss a variant does not use is reported as 0: leave it out rather than draw a flat line.
        if (curves.every((c) => c.points.every(([, y]) => y === 0))) return null;
        return lineFor(v.label, colors.get(v.name)!, curves, p.perStep && perStep);
      })
      .filter((l) => l !== null),
  }));
  const figure = {
    title: `${exp.name}: training curves`,
    panels,
    legend: variants.map((v) => ({ name: v.label, color: colors.get(v.name)!, seeds: v.runs.length })),
    note: curvesNote(perStep),
  };
  const { writeImage } = await import('../data/image.ts');
  await writeImage(file, figurePng(figure), 'png');
  await writeFileAtomic(file.replace(/\.png$/, '.svg'), figureSvg(figure));
  return file;
}

export interface CollectOptions {
  files: string[];
  profile: string;
  out: string;
  log?: (line: string) => void;
  /** Name each unfinished pair's task in a `taskCount`-task array. */
  taskCount?: number;
}

export interface CollectOutcome extends ExperimentOutputs {
  /** Every (variant, seed) pair's stages, from the files. */
  status: ExperimentStatus;
  /** One line per pair that is not done (missing, running, stale or failed); empty when complete. */
  incomplete: string[];
}

/** `pix2pix results collect`: merge per-variant results (e.g. from `--only` runs or array tasks) into the tables, and say what is not done. */
export async function collectResults(o: CollectOptions): Promise<CollectOutcome[]> {
  const log = o.log ?? defaultLog;
  const out = path.resolve(o.out);
  const { experimentStatus, incompleteLines } = await import('./status.ts');
  const outcomes: CollectOutcome[] = [];
  for (const file of o.files) {
    const exp = resolveExperiment(await readExperiment(file), file, o.profile);
    const data = datasetDir(out, exp.dataset);
    const status = await experimentStatus(exp, out, { taskCount: o.taskCount });
    const incomplete = incompleteLines(status);
    const outputs = await collectExperiment(exp, out, data, log);
    if (incomplete.length) log(`${exp.name}: ${incomplete.length} of ${status.runs.length} (variant, seed) pair(s) not done:\n  ${incomplete.join('\n  ')}`);
    outcomes.push({ ...outputs, status, incomplete });
  }
  return outcomes;
}

/** The rows of the other results CSVs in `out` (unreadable or foreign CSVs are skipped). */
async function siblingResults(out: string, except: string): Promise<CsvRow[][]> {
  const names = (await fsp.readdir(out)).filter((f) => f.endsWith('.csv') && path.join(out, f) !== except);
  const all: CsvRow[][] = [];
  for (const f of names) {
    try {
      all.push(parseCsv(await fsp.readFile(path.join(out, f), 'utf8'), f).rows);
    } catch {
      // Not a results CSV: it shares nothing.
    }
  }
  return all;
}

/** `pix2pix results table`: regenerate each CSV's markdown from the CSVs alone (rows shared between them are marked). */
export async function regenerateTables(csvFiles: string[], log: (l: string) => void = defaultLog): Promise<string[]> {
  if (csvFiles.length === 0) throw new UserError('results table: name at least one CSV, e.g. results/*.csv');
  const written: string[] = [];
  const parsed: { fields: string[]; rows: CsvRow[] }[] = [];
  for (const f of csvFiles) {
    if (!f.endsWith('.csv')) throw new UserError(`${f}: not a .csv file; pass the results CSVs (results/*.csv)`);
    let text: string;
    try {
      text = await fsp.readFile(f, 'utf8');
    } catch {
      throw new UserError(`${f}: cannot read it; pass existing results CSVs (results/*.csv)`);
    }
    parsed.push(parseCsv(text, f));
  }
  for (const [i, f] of csvFiles.entries()) {
    const { fields, rows } = parsed[i]!;
    const md = f.replace(/\.csv$/, '.md');
    const markdown = markdownFromRows(
      rows,
      fields,
      sharedRows(
        rows,
        parsed.filter((_, j) => j !== i).map((p) => p.rows),
      ),
    );
    await writeFileAtomic(md, markdown);
    const figDir = f.replace(/\.csv$/, '');
    if (await exists(figDir)) {
      const { experimentIndexHtml } = await import('./index-page.ts');
      await writeFileAtomic(path.join(figDir, 'index.html'), experimentIndexHtml(markdown, path.basename(figDir), path.basename(figDir)));
    }
    log(`wrote ${md}`);
    written.push(md);
  }
  return written;
}
