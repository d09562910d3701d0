/**
 * Entry of a worker process (child_process.fork with `--import tsx`): receives one job over IPC,
 * runs it, reports the outcome and exits. Training on wasm uses one core, so the scheduler runs
 * several of these at once.
 */
import { errorMessage, isUserError } from '../util/errors.ts';
import { releaseHeldSync } from './claims.ts';
import { ensureTrainedSegmenter, type SegmenterJob } from './segmenter-stage.ts';
import { runGeneratorStages, type RunJob } from './stages.ts';

export type WorkerJob = { kind: 'run'; job: RunJob } | { kind: 'segmenter'; job: SegmenterJob };
export type WorkerReply = { ok: true } | { ok: false; userError: boolean; message: string };

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function handle(msg: WorkerJob): Promise<void> {
  if (msg.kind === 'run') await runGeneratorStages(msg.job, log);
  else await ensureTrainedSegmenter(msg.job, log);
}

function reply(r: WorkerReply, code: number): void {
  // Exit only once the reply is flushed; tfjs/onnxruntime handles would otherwise keep the process alive.
  process.send!(r, () => process.exit(code));
}

process.once('message', (msg: WorkerJob) => {
  handle(msg).then(
    () => reply({ ok: true }, 0),
    (e: unknown) => {
      if (!isUserError(e)) process.stderr.write(`${(e as Error)?.stack ?? errorMessage(e)}\n`);
      reply({ ok: false, userError: isUserError(e), message: errorMessage(e) }, 1);
    },
  );
});
// The parent going away (killed, Ctrl-C) ends the worker too.
process.on('disconnect', () => process.exit(130));
// A scheduler's time limit or preemption (SIGTERM): free this worker's stage claims first, so a
// requeued task takes them over at once instead of after the lease.
for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  process.once(signal, () => {
    releaseHeldSync();
    process.exit(code);
  });
}
