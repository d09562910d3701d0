/**
 * Runs independent jobs in parallel worker processes, at most `jobs` at once, each worker's output
 * prefixed by its job label. The first failure stops new jobs from starting; running ones finish.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mapBounded } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { trainingEnv } from '../util/malloc-tunables.ts';
import type { WorkerJob, WorkerReply } from './worker.ts';

export interface PoolTask {
  /** Prefix of every output line of this job (e.g. the variant name). */
  label: string;
  message: WorkerJob;
}

export interface PoolOutcome {
  label: string;
  ok: boolean;
  message?: string;
  userError?: boolean;
}

// Built (dist/*.js) workers start as plain Node; from a source checkout (src/*.ts) they load tsx.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url));

function workerExecArgv(): string[] {
  // Absolute, so workers start whatever the current directory is.
  return FROM_SOURCE ? ['--import', import.meta.resolve('tsx')] : [];
}

function pipeLines(stream: NodeJS.ReadableStream | null, prefix: string, write: (line: string) => void): void {
  if (!stream) return;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  rl.on('line', (l) => write(`${prefix}${l}`));
}

/** Run one task in a fresh worker process. */
export function runInWorker(task: PoolTask, write: (line: string) => void, children: Set<ChildProcess>): Promise<PoolOutcome> {
  return new Promise((resolve) => {
    // Workers train: they get the malloc settings that keep onnxruntime's output copies off fresh pages.
    const child = fork(WORKER, [], { execArgv: workerExecArgv(), env: trainingEnv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    children.add(child);
    const prefix = `[${task.label}] `;
    pipeLines(child.stdout, prefix, write);
    pipeLines(child.stderr, prefix, write);
    let reply: WorkerReply | null = null;
    child.on('message', (m: WorkerReply) => (reply = m));
    child.on('exit', (code, signal) => {
      children.delete(child);
      const r = reply as WorkerReply | null;
      if (r && r.ok) resolve({ label: task.label, ok: true });
      else if (r && !r.ok) resolve({ label: task.label, ok: false, message: r.message, userError: r.userError });
      else resolve({ label: task.label, ok: false, message: `worker exited with ${signal ?? `code ${code}`} before reporting` });
    });
    child.send(task.message);
  });
}

/** Run every task, `jobs` at a time. Resolves with one outcome per started task, in input order. */
export async function runPool(tasks: readonly PoolTask[], jobs: number, write: (line: string) => void): Promise<PoolOutcome[]> {
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs must be a positive integer (got ${jobs})`);
  const outcomes: (PoolOutcome | undefined)[] = new Array(tasks.length);
  const children = new Set<ChildProcess>();
  const stopChildren = (): void => {
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', stopChildren);
  process.once('SIGTERM', stopChildren);
  let failed = false;
  try {
    // After a failure the remaining tasks are not started (their outcome stays undefined).
    await mapBounded(tasks, jobs, async (task, i) => {
      if (failed) return;
      const o = await runInWorker(task, write, children);
      outcomes[i] = o;
      if (!o.ok) failed = true;
    });
  } finally {
    process.off('SIGINT', stopChildren);
    process.off('SIGTERM', stopChildren);
  }
  return outcomes.filter((o): o is PoolOutcome => o !== undefined);
}
