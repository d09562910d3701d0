/**
 * Deliberate stops: SIGINT (Ctrl-C), SIGTERM (`kill`, a job scheduler's time limit or preemption,
 * Kubernetes deleting a pod) and SIGHUP (the terminal closed). While anything holds the handlers
 * (`holdStopHandlers`: a held stage claim, a running worker), a stop
 * 1. runs the synchronous cleanups registered with `onStop` (claims.ts marks its claims released),
 * 2. passes SIGTERM to the worker processes it started (`trackChild`) and waits for them, at most
 *    STOP_GRACE_MS, then SIGKILLs the rest,
 * 3. prints one line saying it stopped and what to run next (not in a worker, whose parent speaks),
 * 4. exits with 128 + the signal's number: 130 SIGINT, 143 SIGTERM, 129 SIGHUP.
 * A second signal during the wait exits at once. A worker (`actAsWorker`) also stops when its
 * parent is gone (the IPC channel closes even when the parent was SIGKILLed), so none outlives its run.
 *
 * Handlers run only when the event loop gets a turn: long loops yield (event-loop.ts).
 */
import type { ChildProcess } from 'node:child_process';

const EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof EXIT_CODES;
const SIGNALS = Object.keys(EXIT_CODES) as StopSignal[];

/** How long a stopping process waits for its workers before it SIGKILLs them. */
const STOP_GRACE_MS = 3000;

const children = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let holders = 0;
let stopping: StopSignal | null = null;
let isWorker = false;
let hint = '';

function stopExitCode(signal: StopSignal): number {
  return EXIT_CODES[signal];
}

/** The signal this process is stopping on, or null. Work that ends while stopping is not a failure. */
export function stopSignal(): StopSignal | null {
  return stopping;
}

/** Run `cleanup` (synchronous: the process exits right after) when a stop begins; returns the unregister. */
export function onStop(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** A worker this process started: a stop passes SIGTERM to it and waits for it to exit. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/**
 * Keep the stop handlers installed until the returned release is called (counted: several holders
 * share one set of handlers). `next` is the second half of the line printed on a stop
 * ("stopped by SIGTERM; …"), e.g. what to run to continue.
 */
export function holdStopHandlers(next = ''): () => void {
  if (next) hint = next;
  if (holders++ === 0) for (const s of SIGNALS) process.on(s, onSignal);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0 && !stopping) for (const s of SIGNALS) process.off(s, onSignal);
  };
}

/** This process is a worker: stop handlers for its whole life, no stop line, and the parent's death stops it. */
export function actAsWorker(): void {
  isWorker = true;
  holdStopHandlers();
  process.on('disconnect', () => onSignal('SIGHUP'));
}

function onSignal(signal: StopSignal): void {
  if (stopping) {
    for (const c of children) c.kill('SIGKILL');
    process.exit(stopExitCode(stopping));
  }
  stopping = signal;
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is going away.
    }
  }
  for (const c of children) c.kill('SIGTERM');
  void childrenGone(STOP_GRACE_MS).then(() => {
    for (const c of children) c.kill('SIGKILL');
    if (!isWorker) process.stderr.write(`pix2pix: stopped by ${signal}${hint ? `; ${hint}` : ''}\n`);
    process.exit(stopExitCode(signal));
  });
}

async function childrenGone(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (children.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
}
