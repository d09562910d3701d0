/**
 * `pix2pix eval run --status` and the completeness check of `results collect`: the state of every
 * stage of every (variant, seed) pair, read from the files alone (stage.json, claim files, failure
 * records), so it works from any machine that mounts the results folder, while tasks run.
 */
import * as path from 'node:path';
import { IncompleteError } from '../util/errors.ts';
import { taskOf } from '../util/task-array.ts';
import { type ClaimRecord, judgeClaim, localProbe, type Probe, readClaim } from './claims.ts';
import { type ResolvedExperiment, type ResolvedRun, segmenterDir, trainsSegmenter } from './resolve.ts';
import { readSegmenterInfo, SEGMENTER_STAGE } from './segmenter-stage.ts';
import { type FailureRecord, readFailure, readRunStages } from './stages.ts';

const STAGE_STATES = ['done', 'running', 'stale', 'failed', 'missing'] as const;
export type StageState = (typeof STAGE_STATES)[number];

export interface StageStatus {
  stage: string;
  state: StageState;
  /** One line: when it finished, who holds it since when, or why it failed. */
  detail: string;
  claim?: ClaimRecord;
  failure?: FailureRecord;
}

export interface RunStatus {
  variant: string;
  seed: number;
  /** The task of a `count`-task array that runs this pair (when a count was given). */
  task?: number;
  workDir: string;
  state: StageState;
  stages: StageStatus[];
}

export interface ExperimentStatus {
  experiment: string;
  profile: string;
  out: string;
  taskCount?: number;
  segmenter: StageStatus | null;
  runs: RunStatus[];
  /** Stages per state, over every run (not the segmenter). */
  counts: Record<StageState, number>;
}

/** The state of a stage that is not done: its claim, else its failure record, else missing. */
async function openStage(dir: string, stage: string, now: number, probe: Probe): Promise<StageStatus> {
  const c = await readClaim(dir, stage);
  if (c && !c.record?.released) {
    const v = judgeClaim(c, now, probe);
    const who = c.record ? `${c.record.host} pid ${c.record.pid} since ${c.record.startedAt}` : 'an unknown process';
    return { stage, state: v.stale ? 'stale' : 'running', detail: `${who}, ${v.stale ? `stale: ${v.why}` : v.why}`, ...(c.record ? { claim: c.record } : {}) };
  }
  const f = await readFailure(dir, stage);
  if (f) return { stage, state: 'failed', detail: `${f.host} pid ${f.pid} at ${f.at}: ${f.message}`, failure: f };
  return { stage, state: 'missing', detail: '' };
}

/** A run is as far as its least finished stage: failed or stale beat running, running beats missing. */
function runState(stages: readonly StageStatus[]): StageState {
  for (const s of ['failed', 'stale', 'running', 'missing'] as const) if (stages.some((x) => x.state === s)) return s;
  return 'done';
}

export async function experimentStatus(
  exp: ResolvedExperiment,
  out: string,
  o: { taskCount?: number; probe?: Probe; now?: number } = {},
): Promise<ExperimentStatus> {
  const probe = o.probe ?? localProbe();
  const now = o.now ?? Date.now();
  const runs: RunStatus[] = [];
  for (const [k, run] of exp.runs.entries()) {
    const recorded = await readRunStages(exp, out, run);
    const stages: StageStatus[] = [];
    for (const { stage, record } of recorded.stages) {
      if (record) stages.push({ stage, state: 'done', detail: `${record.seconds.toFixed(1)} s, finished ${record.finishedAt}` });
      else stages.push(await openStage(recorded.dir, stage, now, probe));
    }
    runs.push({
      variant: run.variant,
      seed: run.seed,
      ...(o.taskCount ? { task: taskOf(k, o.taskCount) } : {}),
      workDir: run.workDir,
      state: runState(stages),
      stages,
    });
  }
  let segmenter: StageStatus | null = null;
  if (trainsSegmenter(exp.scorer)) {
    const dir = segmenterDir(out, exp.scorer);
    const info = await readSegmenterInfo(dir);
    segmenter = info
      ? { stage: SEGMENTER_STAGE, state: 'done', detail: `${info.seconds.toFixed(1)} s, ${info.epochs} epoch(s)` }
      : await openStage(dir, SEGMENTER_STAGE, now, probe);
  }
  const counts = Object.fromEntries(STAGE_STATES.map((s) => [s, 0])) as Record<StageState, number>;
  for (const r of runs) for (const s of r.stages) counts[s.state]++;
  return { experiment: exp.name, profile: exp.profile, out: path.resolve(out), ...(o.taskCount ? { taskCount: o.taskCount } : {}), segmenter, runs, counts };
}

/** "a s1" */
const pairName = (r: Pick<RunStatus, 'variant' | 'seed'>): string => `${r.variant} s${r.seed}`;

/** The text report: a summary line, then one line per stage. */
export function formatStatus(s: ExperimentStatus): string {
  const total = STAGE_STATES.reduce((n, k) => n + s.counts[k], 0);
  const done = s.runs.filter((r) => r.state === 'done').length;
  const lines = [
    `${s.experiment} (profile ${s.profile}) in ${s.out}: ${done} of ${s.runs.length} (variant, seed) pair(s) done; ${total} stage(s): ${STAGE_STATES.map((k) => `${s.counts[k]} ${k}`).join(', ')}`,
  ];
  const rows: string[][] = [];
  if (s.segmenter) rows.push(['(shared)', '', s.segmenter.stage, s.segmenter.state, s.segmenter.detail]);
  for (const r of s.runs) for (const st of r.stages) rows.push([pairName(r), r.task === undefined ? '' : String(r.task), st.stage, st.state, st.detail]);
  const head = ['pair', s.taskCount ? 'task' : '', 'stage', 'state', 'detail'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .filter((_, i) => i !== 1 || s.taskCount)
      .join('  ')
      .trimEnd();
  lines.push(line(head), ...rows.map(line));
  return lines.join('\n');
}

/** One line per unfinished pair, for collect: "b s2: failed at train (node3 pid 7 at …: out of memory)". */
export function incompleteLines(s: ExperimentStatus): string[] {
  return s.runs
    .filter((r) => r.state !== 'done')
    .map((r) => {
      const first = r.stages.find((x) => x.state !== 'done')!;
      return `${pairName(r)}${r.task === undefined ? '' : ` (task ${r.task})`}: ${r.state} at ${first.stage}${first.detail ? ` (${first.detail})` : ''}`;
    });
}

/** What to do about unfinished pairs, by their state. */
const NEXT_STEP: Record<Exclude<StageState, 'done'>, string> = {
  running: 'wait for the process running them to finish, then run the same command again (or results collect)',
  stale: 'run again with --resume to take over the stale ones',
  failed: 'run the same command again to retry the failed ones',
  missing: 'run the same command again to do the missing ones',
};

/**
 * The one-line message of an `eval run` that ends with pairs of its share not done (another process
 * holds them, a stale claim waits for --resume, a holder died): which pairs, where each stopped, and
 * what to do. null when every pair of `scope` is done. Pure.
 */
export function notDoneMessage(s: ExperimentStatus, scope: readonly Pick<ResolvedRun, 'variant' | 'seed'>[]): string | null {
  const wanted = new Set(scope.map(pairName));
  const open = s.runs.filter((r) => wanted.has(pairName(r)) && r.state !== 'done');
  if (open.length === 0) return null;
  const states = STAGE_STATES.filter((st): st is Exclude<StageState, 'done'> => st !== 'done' && open.some((r) => r.state === st));
  const lines = incompleteLines({ ...s, runs: open });
  return `${s.experiment}: ${open.length} of ${wanted.size} (variant, seed) pair(s) of this run not done: ${lines.join('; ')}; ${states.map((st) => NEXT_STEP[st]).join('; ')}`;
}

/** A pair between two stages: one done, the next neither claimed nor failed (its holder may be claiming it now). */
const betweenStages = (r: RunStatus): boolean => r.state === 'missing' && r.stages.some((x) => x.state === 'done');

const RECHECKS = 3;
const RECHECK_MS = 1000;

/**
 * Throw an IncompleteError (exit status 1) when some pair of `scope` is not done, reading the state
 * from the files. Another process moves from one stage to the next within moments: a pair seen
 * between two stages is looked at again, so that it is reported as running rather than missing.
 */
export async function assertPairsDone(exp: ResolvedExperiment, out: string, scope: readonly ResolvedRun[]): Promise<void> {
  const wanted = new Set(scope.map(pairName));
  let s = await experimentStatus(exp, out);
  for (let i = 0; i < RECHECKS && s.runs.some((r) => wanted.has(pairName(r)) && betweenStages(r)); i++) {
    await new Promise((r) => setTimeout(r, RECHECK_MS));
    s = await experimentStatus(exp, out);
  }
  const message = notDoneMessage(s, scope);
  if (message) throw new IncompleteError(message);
}
