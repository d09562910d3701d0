/**
 * `pix2pix eval run`: an experiment file end to end, in named steps —
 *
 * 1. open: read and resolve the file, claim --out, take this task's share, check real data first;
 * 2. prepare (prepare.ts): the dataset, labels and segmenter the runs and scorers read;
 * 3. generate (jobs.ts): train, export and translate every run in parallel worker processes;
 * 4. score: every scorer of the experiment on each run whose images are done;
 * 5. collect (collect.ts): results/<experiment>.csv, .md and the figures (run-figures.ts).
 *
 * A progress line (progress.ts) follows the stages throughout. `results collect` and `results
 * table` are collect.ts and tables.ts.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { formatBytes } from '../util/bytes.ts';
import { UserError } from '../util/errors.ts';
import { claimOutputFolder } from '../util/paths.ts';
import { type ArrayTask, taskShare } from '../util/task-array.ts';
import { DEFAULT_LEASE, parseDuration } from './claims.ts';
import { collectExperiment, defaultLog, type ExperimentOutputs, isResultsEntry } from './collect.ts';
import { awaitSegmenter, generatorJob, holderOf, runLabel } from './jobs.ts';
import { checkDerivedInside, prepare, type Prepared } from './prepare.ts';
import { formatProgress, type ProgressEvent, type ProgressWatch, watchProgress } from './progress.ts';
import { type ResolvedExperiment, type ResolvedRun, resolveExperiment } from './resolve.ts';
import { runPool, type PoolTask } from './scheduler.ts';
import { readExperiment } from './schema.ts';
import { confusionModeOf, describeScorers } from './scorers/index.ts';
import { describeSegmenter, readSegmenterInfo, SEGMENTER_STAGE } from './segmenter-stage.ts';
import { type ClaimSettings, readRunStages, runScoreStage } from './stages.ts';

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
  /** Each overall progress report (also logged as one line); `eval run --json` prints them as events. */
  onProgress?: (p: ProgressEvent) => void;
  /** This process is one task of a job array: it runs its share of the (variant, seed) pairs only. */
  task?: ArrayTask;
  /** Lease of stage claims in seconds (default 1 h; see claims.ts). */
  leaseSeconds?: number;
}

/** What the steps share once the experiment is open. */
interface Session {
  o: RunExperimentOptions;
  exp: ResolvedExperiment;
  /** Absolute --out. */
  out: string;
  /** This process's runs (a job-array task's share, else all). */
  mine: ResolvedRun[];
  jobs: number;
  cores: number;
  claims: ClaimSettings;
  log: (line: string) => void;
}

/** Run (or resume) every stage of an experiment (or of this task's share), then write its results files (not for a task). */
export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentOutputs | null> {
  const s = await open(o);
  if (!s) return null;
  const prep = await prepare(s.exp, s.out, s.log);
  const segPending =
    prep.segmenterJob !== null && !(await readSegmenterInfo(prep.segmenterJob.dir)) && !(await holderOf(prep.segmenterJob.dir, SEGMENTER_STAGE));
  const lanes = Math.max(1, Math.min(s.jobs, s.mine.length + (segPending ? 1 : 0)));
  const progress = watchProgress({ exp: s.exp, out: s.out, runs: s.mine, segmenter: prep.segmenterJob !== null, lanes }, (p) => {
    s.log(formatProgress(p));
    o.onProgress?.(p);
  });
  try {
    await progress.update();
    await generate(s, prep, segPending, lanes);
    await score(s, prep, progress);
    await progress.update();
  } finally {
    await progress.stop();
  }
  // Pairs of this run that another process still holds, or whose stale claim waits for --resume: exit non-zero.
  const { assertPairsDone } = await import('./status.ts');
  if (o.task) {
    await assertPairsDone(s.exp, s.out, s.mine);
    s.log(
      `task ${o.task.index}/${o.task.count}: finished its share; when every task is done, merge with: pix2pix results collect ${o.file} --profile ${o.profile} --out ${o.out}`,
    );
    return null;
  }
  // Collect every variant of the profile (not only --only's), so partial runs show what is missing.
  const outputs = await collectExperiment(await readExperiment(o.file).then((x) => resolveExperiment(x, o.file, o.profile)), s.out, prep.data, s.log);
  await assertPairsDone(s.exp, s.out, s.mine);
  return outputs;
}

/** Step 1: the resolved experiment and this process's share of it, or null when the share is empty. */
async function open(o: RunExperimentOptions): Promise<Session | null> {
  const log = o.log ?? defaultLog;
  const out = path.resolve(o.out);
  const exp = resolveExperiment(await readExperiment(o.file), o.file, o.profile, o.only);
  await claimOutputFolder(out, { flag: '--out', command: 'eval run', force: o.force, recursive: true, isOwn: isResultsEntry, log });
  await checkDerivedInside(exp, out);
  const cores = availableParallelism();
  const jobs = o.jobs ?? cores;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs must be a positive integer (got ${o.jobs})`);
  const claims: ClaimSettings = { leaseSeconds: o.leaseSeconds ?? parseDuration(DEFAULT_LEASE), resume: o.resume ?? false };
  log(`${exp.name} (${exp.table}), profile ${exp.profile}: ${plannedRuns(exp)} = ${exp.runs.length} run(s); data: ${exp.dataset.description}`);
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
      `preflight: ${c.trainImages} train / ${c.testImages} test images, every test output pairs with a label; segmenter ${c.segmenter}; ${formatBytes(c.freeBytes)} free (about ${formatBytes(c.neededBytes)} needed)`,
    );
  }
  log(`paper mode: test-time dropout ${exp.testDropout ? "on (seeded by each run's seed)" : 'off'}; confusion mode ${confusionModeOf(exp.scorer) || 'n/a'}`);
  return { o, exp, out, mine, jobs, cores, claims, log };
}

/** "5 variant(s) × 3 seed(s) + 2 ground-truth row(s)": real-photo rows run once, whatever the seeds. */
function plannedRuns(exp: ResolvedExperiment): string {
  const truth = exp.variants.filter((v) => v.kind === 'ground-truth').length;
  const generators = `${exp.variants.length - truth} variant(s) × ${exp.seeds.length} seed(s)`;
  return truth ? `${generators} + ${truth} ground-truth row(s)` : generators;
}

/** Step 3: the segmenter (when it is still to train) and every run's generator stages, `lanes` worker processes at once. */
async function generate(s: Session, prep: Prepared, segPending: boolean, lanes: number): Promise<void> {
  const tasks: PoolTask[] = [];
  const threads = Math.max(1, Math.floor(s.cores / lanes));
  if (prep.segmenterJob && segPending) {
    tasks.push({
      label: 'segmenter',
      message: { kind: 'segmenter', job: { ...prep.segmenterJob, leaseSeconds: s.claims.leaseSeconds, resume: s.claims.resume, threads } },
    });
  }
  for (const run of s.mine) {
    const t = await generatorJob(s.exp, run, s.out, prep, s.o, threads, s.log);
    if (t) tasks.push(t);
  }
  if (tasks.length === 0) return;
  s.log(`running ${tasks.length} job(s), ${Math.min(s.jobs, tasks.length)} at once (--jobs ${s.jobs}; ${s.cores} cores; training uses one core per job)`);
  const bad = (await runPool(tasks, s.jobs, s.log)).find((x) => !x.ok);
  if (bad) {
    const msg = `${bad.label}: ${bad.message}`;
    throw bad.userError ? new UserError(msg) : new Error(msg);
  }
}

/** Step 4: score the runs whose generator stages are done (others are still running elsewhere). */
async function score(s: Session, prep: Prepared, progress: ProgressWatch): Promise<void> {
  const { exp, out, log } = s;
  const ready: ResolvedRun[] = [];
  for (const run of s.mine) {
    const before = (await readRunStages(exp, out, run)).pending.filter((x) => x !== 'score');
    if (before.length) log(`[${runLabel(exp, run)}] not scored here: ${before.join(', ')} not done (another process holds it)`);
    else ready.push(run);
  }
  let trained: string | null = null;
  if (prep.segmenterJob && ready.length) {
    await awaitSegmenter(prep.segmenterJob, s.claims, log);
    trained = describeSegmenter((await readSegmenterInfo(prep.segmenterJob.dir))!);
  }
  const segmenterDescription = describeScorers(exp.scorer, trained);
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
        claims: s.claims,
      },
      (l) => log(`[${runLabel(exp, run)}] ${l}`),
    );
    await progress.update();
  }
}
