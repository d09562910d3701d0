/**
 * The overall progress of `eval run`: stages done of all, time elapsed, and the time left estimated
 * from the measured time of finished stages. The estimate is pure (estimateSecondsLeft); the
 * watcher reads the stage records (stage.json, segmenter.json) the workers write, so it counts
 * stages finished by any process on the results folder, and earlier invocations' times count too.
 */
import { formatDuration } from '../util/progress.ts';
import { type ResolvedExperiment, type ResolvedRun, segmenterDir } from './resolve.ts';
import { readSegmenterInfo, SEGMENTER_STAGE } from './segmenter-stage.ts';
import { readRunStages } from './stages.ts';

/** A finished stage and how long it took. */
export interface StageTime {
  stage: string;
  seconds: number;
}

export interface TimeLeft {
  /** Estimated seconds for the pending stages whose kind has been timed. */
  seconds: number;
  /** Pending stages of a kind no finished stage has timed yet (not in `seconds`). */
  untimed: number;
}

/**
 * Time left: each pending stage takes the mean time of the finished stages of its kind. `jobs` are
 * the pending stages of each worker job (run one after another inside a job); the jobs share
 * `lanes` parallel workers, so they take the longer of the longest job and their total over the
 * lanes. `serial` stages (scoring, in the parent) follow one by one.
 */
export function estimateSecondsLeft(done: readonly StageTime[], jobs: readonly (readonly string[])[], serial: readonly string[], lanes: number): TimeLeft {
  const sums = new Map<string, { total: number; n: number }>();
  for (const d of done) {
    const s = sums.get(d.stage) ?? { total: 0, n: 0 };
    sums.set(d.stage, { total: s.total + d.seconds, n: s.n + 1 });
  }
  let untimed = 0;
  const cost = (stages: readonly string[]): number =>
    stages.reduce((t, stage) => {
      const s = sums.get(stage);
      if (!s) untimed++;
      return t + (s ? s.total / s.n : 0);
    }, 0);
  const jobSeconds = jobs.map(cost);
  const parallel = jobSeconds.length ? Math.max(...jobSeconds, jobSeconds.reduce((a, b) => a + b, 0) / Math.max(1, lanes)) : 0;
  return { seconds: parallel + cost(serial), untimed };
}

export interface ProgressEvent {
  event: 'progress';
  done: number;
  total: number;
  elapsedSeconds: number;
  /** null until a pending stage's kind has been timed. */
  secondsLeft: number | null;
  untimedStages: number;
}

/** "progress: 3/8 stages done, 1:05 elapsed, about 2:40 left (+2 stages not yet timed)". */
export function formatProgress(p: ProgressEvent): string {
  const head = `progress: ${p.done}/${p.total} stages done, ${formatDuration(p.elapsedSeconds)} elapsed`;
  if (p.done === p.total) return `${head}, all done`;
  if (p.secondsLeft === null) return `${head}, time left known once a stage of each pending kind has finished`;
  const untimed = p.untimedStages ? ` (+${p.untimedStages} stage${p.untimedStages === 1 ? '' : 's'} not yet timed)` : '';
  return `${head}, about ${formatDuration(p.secondsLeft)} left${untimed}`;
}

/** The stage records of `runs` (and of the trained segmenter): what is done with its time, what is pending. */
async function readProgress(
  exp: ResolvedExperiment,
  out: string,
  runs: readonly ResolvedRun[],
  segmenter: boolean,
): Promise<{ done: StageTime[]; jobs: string[][]; serial: string[]; total: number }> {
  const done: StageTime[] = [];
  const jobs: string[][] = [];
  const serial: string[] = [];
  let total = 0;
  if (segmenter) {
    total++;
    const info = await readSegmenterInfo(segmenterDir(out, exp.scorer));
    if (info) done.push({ stage: SEGMENTER_STAGE, seconds: info.seconds });
    else jobs.push([SEGMENTER_STAGE]);
  }
  for (const run of runs) {
    const { stages, pending } = await readRunStages(exp, out, run);
    total += stages.length;
    for (const { stage, record } of stages) if (record) done.push({ stage, seconds: record.seconds });
    const inWorker = pending.filter((s) => s !== 'score');
    if (inWorker.length) jobs.push(inWorker);
    if (pending.includes('score')) serial.push('score');
  }
  return { done, jobs, serial, total };
}

export interface ProgressWatch {
  /** Read the records now and report when the count of done stages changed. */
  update(): Promise<void>;
  stop(): Promise<void>;
}

/** Report progress whenever a stage finishes (checked every `intervalMs` and on update()). */
export function watchProgress(
  o: { exp: ResolvedExperiment; out: string; runs: readonly ResolvedRun[]; segmenter: boolean; lanes: number; intervalMs?: number },
  report: (p: ProgressEvent) => void,
): ProgressWatch {
  const t0 = performance.now();
  let last = -1;
  let chain: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    const r = await readProgress(o.exp, o.out, o.runs, o.segmenter);
    if (r.done.length === last) return;
    last = r.done.length;
    const left = estimateSecondsLeft(r.done, r.jobs, r.serial, o.lanes);
    const pending = r.total - r.done.length;
    report({
      event: 'progress',
      done: r.done.length,
      total: r.total,
      elapsedSeconds: (performance.now() - t0) / 1000,
      secondsLeft: pending > 0 && left.untimed === pending ? null : left.seconds,
      untimedStages: left.untimed,
    });
  };
  // One check at a time: a slow disk must not interleave two reports.
  const update = (): Promise<void> => (chain = chain.then(check, check));
  const timer = setInterval(() => void update().catch(() => {}), o.intervalMs ?? 2000);
  timer.unref();
  return {
    update,
    stop: async () => {
      clearInterval(timer);
      await chain.catch(() => {});
    },
  };
}
