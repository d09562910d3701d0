/**
 * Entry of a worker process (child_process.fork with `--import tsx`): receives one job over IPC,
 * runs it, reports the outcome and exits. Training on wasm uses one core, so the scheduler runs
 * several of these at once.
 */
import { errorMessage, isUserError } from '../util/errors.ts';
import { actAsWorker } from '../util/stop.ts';
import { onLostClaim } from './claims.ts';
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

let replied = false;
function reply(r: WorkerReply, code: number): void {
  if (replied) return;
  replied = true;
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
// SIGINT, SIGTERM, SIGHUP and the parent's death (src/util/stop.ts): free this worker's stage claims
// and exit, so a requeued task takes them over at once instead of after the lease.
actAsWorker();
// Another process took this stage over (this one stalled past its lease): stop now, so that two
// processes never write the same stage's files; nothing of this attempt is recorded.
onLostClaim((stage, dir, holder) =>
  reply(
    {
      ok: false,
      userError: true,
      message: `${holder} took over stage ${stage} in ${dir} after this process's lease ran out; stopped here, nothing recorded (a longer --lease avoids this)`,
    },
    1,
  ),
);
