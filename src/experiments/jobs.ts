/**
 * Step 3 of `eval run`: the worker jobs — one per run with generator stages left, plus the shared
 * segmenter — and who holds a stage when another process on the same results folder runs it.
 */
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { exists } from '../util/fs.ts';
import { describeHolder, judgeClaim, localProbe, readClaim } from './claims.ts';
import type { Prepared } from './prepare.ts';
import type { ResolvedExperiment, ResolvedRun } from './resolve.ts';
import { runInWorker, type PoolTask } from './scheduler.ts';
import { readSegmenterInfo, SEGMENTER_STAGE, type SegmenterJob } from './segmenter-stage.ts';
import { type ClaimSettings, readRunStages, type RunJob, type StageName, stagesOf } from './stages.ts';

/** "a s2" when the experiment has several seeds, else the variant. */
export function runLabel(exp: ResolvedExperiment, run: ResolvedRun): string {
  return exp.seeds.length > 1 && run.kind === 'generator' ? `${run.variant} s${run.seed}` : run.variant;
}

/** Who holds `stage` of `dir` now: null when free; else the holder, and whether its claim is stale. */
export async function holderOf(dir: string, stage: string): Promise<{ holder: string; stale: boolean } | null> {
  const c = await readClaim(dir, stage);
  if (!c || c.record?.released) return null;
  const v = judgeClaim(c, Date.now(), localProbe());
  return { holder: describeHolder(c, v.why), stale: v.stale };
}

/** The worker task of one run, or null (with a log line) when it has nothing to do here. */
export async function generatorJob(
  exp: ResolvedExperiment,
  run: ResolvedRun,
  out: string,
  prep: Prepared,
  o: { resume?: boolean; leaseSeconds?: number },
  threads: number,
  log: (l: string) => void,
): Promise<PoolTask | null> {
  const order: StageName[] = stagesOf(run).filter((s) => s !== 'score');
  const recorded = await readRunStages(exp, out, run);
  const dir = recorded.dir;
  const pending = recorded.pending.filter((s) => order.includes(s));
  if (pending.length === 0) {
    log(`[${runLabel(exp, run)}] ${order.join(', ')}: already done (skipped)`);
    return null;
  }
  const held = await holderOf(dir, pending[0]);
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
export async function awaitSegmenter(job: SegmenterJob, claims: ClaimSettings, log: (l: string) => void): Promise<void> {
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
