/**
 * Runs independent jobs in parallel worker processes, at most `jobs` at once, each worker's output
 * prefixed by its job label. The first failure stops new jobs from starting; running ones finish.
 * A stop (SIGINT, SIGTERM: src/util/stop.ts) ends the workers and this process; a worker that exits
 * then is not reported as failed.
 */
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mapBounded } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { trainingEnv } from '../util/malloc-tunables.ts';
import { holdStopHandlers, stopSignal, trackChild } from '../util/stop.ts';
import { STOP_HINT } from './claims.ts';
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

/** Run one task in a fresh worker process. While this process stops, it starts none and never resolves. */
export function runInWorker(task: PoolTask, write: (line: string) => void): Promise<PoolOutcome> {
  return new Promise((resolve) => {
    if (stopSignal()) return;
    const releaseStopHandlers = holdStopHandlers(STOP_HINT);
    // Workers train: they get the malloc settings that keep onnxruntime's output copies off fresh pages.
    const child = fork(WORKER, [], { execArgv: workerExecArgv(), env: trainingEnv(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    trackChild(child);
    const prefix = `[${task.label}] `;
    pipeLines(child.stdout, prefix, write);
    pipeLines(child.stderr, prefix, write);
    let reply: WorkerReply | null = null;
    child.on('message', (m: WorkerReply) => (reply = m));
    child.on('exit', (code, signal) => {
      releaseStopHandlers();
      // Stopping: the stop handler reports it and exits this process.
      if (stopSignal()) return;
      const r = reply;
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
  let failed = false;
  // After a failure the remaining tasks are not started (their outcome stays undefined).
  await mapBounded(tasks, jobs, async (task, i) => {
    if (failed) return;
    const o = await runInWorker(task, write);
    outcomes[i] = o;
    if (!o.ok) failed = true;
  });
  return outcomes.filter((o): o is PoolOutcome => o !== undefined);
}
