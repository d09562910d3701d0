/**
 * Long loops that never wait on real I/O (training steps on a CPU engine, whose `data()` resolves
 * without leaving JavaScript; samples served from an in-memory cache) never give Node's event loop a
 * turn, so signal handlers, the IPC `disconnect` of a dead parent and claim heartbeats all wait until
 * the loop ends. Such loops await the function `eventLoopYielder()` returns once per iteration: it
 * gives the event loop a turn (one `setImmediate`: due timers, I/O callbacks and signal handlers run)
 * when `everyMs` have passed since the last one, and otherwise costs one clock read.
 */
export function eventLoopYielder(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = performance.now();
  };
}
