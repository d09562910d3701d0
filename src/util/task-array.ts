/**
 * Which task of a scheduler's job array this process is: `--task i/n`, else a SLURM array
 * (SLURM_ARRAY_TASK_ID / _MIN / _STEP / _COUNT), else a Kubernetes Indexed Job
 * (JOB_COMPLETION_INDEX, with the task count given by `--task-count`). Pure: the environment is a
 * parameter, so the mapping is tested without a scheduler. `eval run` and `infer` share it.
 */
import { UserError } from './errors.ts';

export interface ArrayTask {
  /** 0-based position of this task in the array. */
  index: number;
  /** Number of tasks in the array. */
  count: number;
  /** Where the numbers came from, for log lines ("SLURM_ARRAY_TASK_ID=4 of 1-4"). */
  source: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

function intOf(text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UserError(`${what} must be a whole number ≥ 0 (got '${text}')`);
  return Number(text);
}

/** `i/n` with 0 ≤ i < n. */
export function parseTask(spec: string, flag = '--task'): ArrayTask {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new UserError(`${flag} '${spec}' should be i/n with 0 ≤ i < n (i is 0-based), e.g. ${flag} 0/3`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UserError(`${flag} ${spec}: n must be at least 1`);
  if (index >= count) throw new UserError(`${flag} ${spec}: i must be in 0..${count - 1} (it is 0-based)`);
  return { index, count, source: `${flag} ${spec}` };
}

/**
 * A SLURM array task. Ids run from SLURM_ARRAY_TASK_MIN in steps of SLURM_ARRAY_TASK_STEP
 * (`--array=1-8` starts at 1, `--array=0-14:2` steps by 2), so the position is (id − min) / step.
 * Lists of ids (`--array=1,4,9`) have no such mapping and are refused.
 */
function slurmTask(env: Env): ArrayTask | undefined {
  const idText = env.SLURM_ARRAY_TASK_ID;
  if (idText === undefined || idText === '') return undefined;
  const id = intOf(idText, 'SLURM_ARRAY_TASK_ID');
  const min = env.SLURM_ARRAY_TASK_MIN ? intOf(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN') : 0;
  const step = env.SLURM_ARRAY_TASK_STEP ? intOf(env.SLURM_ARRAY_TASK_STEP, 'SLURM_ARRAY_TASK_STEP') : 1;
  const max = env.SLURM_ARRAY_TASK_MAX ? intOf(env.SLURM_ARRAY_TASK_MAX, 'SLURM_ARRAY_TASK_MAX') : undefined;
  if (step < 1) throw new UserError(`SLURM_ARRAY_TASK_STEP must be ≥ 1 (got ${step})`);
  const fromRange = max !== undefined ? Math.floor((max - min) / step) + 1 : undefined;
  const count = env.SLURM_ARRAY_TASK_COUNT ? intOf(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT') : fromRange;
  if (count === undefined) throw new UserError('SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --task i/n');
  const range = `${min}-${max ?? '?'}${step > 1 ? `:${step}` : ''}`;
  if ((fromRange !== undefined && fromRange !== count) || (id - min) % step !== 0 || id < min) {
    throw new UserError(
      `SLURM array ids are not a plain range (id ${id}, ${range}, ${count} tasks): submit with --array=A-B or --array=A-B:STEP, or pass --task i/n yourself`,
    );
  }
  const index = (id - min) / step;
  if (index >= count) throw new UserError(`SLURM_ARRAY_TASK_ID=${id} is beyond the ${count} tasks of array ${range}`);
  return { index, count, source: `SLURM_ARRAY_TASK_ID=${id} of ${range}` };
}

/** A Kubernetes Indexed Job pod: JOB_COMPLETION_INDEX is 0-based; the count is the Job's `completions`. */
function indexedJobTask(env: Env, taskCount: number | undefined): ArrayTask | undefined {
  const idxText = env.JOB_COMPLETION_INDEX;
  if (idxText === undefined || idxText === '') return undefined;
  const index = intOf(idxText, 'JOB_COMPLETION_INDEX');
  if (taskCount === undefined) {
    throw new UserError("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but the number of tasks is not: pass --task-count N (the Job's completions)");
  }
  if (index >= taskCount) throw new UserError(`JOB_COMPLETION_INDEX=${index} is not below --task-count ${taskCount}`);
  return { index, count: taskCount, source: `JOB_COMPLETION_INDEX=${index} of --task-count ${taskCount}` };
}

/**
 * This process's task: the explicit `--task i/n` first, then SLURM's array variables, then a
 * Kubernetes Indexed Job's index. Undefined when none is given (not part of an array).
 */
export function resolveTask(o: { task?: string; taskCount?: number; env: Env; flag?: string }): ArrayTask | undefined {
  if (o.task !== undefined) return parseTask(o.task, o.flag);
  return slurmTask(o.env) ?? indexedJobTask(o.env, o.taskCount);
}

/**
 * Task `t`'s share of `items`: every n-th item starting at i (round robin, so each task gets a mix
 * of the variants, whose costs differ). Disjoint across tasks, together exactly `items`, and the
 * same in every process given the same list.
 */
export function taskShare<T>(items: readonly T[], t: Pick<ArrayTask, 'index' | 'count'>): T[] {
  if (!Number.isInteger(t.count) || t.count < 1 || !Number.isInteger(t.index) || t.index < 0 || t.index >= t.count) {
    throw new Error(`taskShare: task ${t.index}/${t.count} is not 0 ≤ i < n`);
  }
  return items.filter((_, k) => k % t.count === t.index);
}

/** Which task runs item number `k` of the list (the inverse of taskShare). */
export function taskOf(k: number, count: number): number {
  return k % count;
}
