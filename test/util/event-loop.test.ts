/**
 * eventLoopYielder: a loop that never waits on I/O (training on a CPU engine, cached samples) still
 * lets timers, signal handlers and IPC events run, every `everyMs`, and costs nothing in between.
 */
import { describe, expect, it } from 'vitest';
import { eventLoopYielder } from '../../src/util/event-loop.ts';

/** Spin for `ms` without leaving JavaScript: one training step's worth of synchronous work. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Run a 300 ms loop of 1 ms steps; returns when (ms after the start) a timer due at once fired, or -1 if not during the loop. */
async function timerDuringLoop(step: () => Promise<void>): Promise<number> {
  let firedAt = -1;
  const t0 = performance.now();
  setTimeout(() => (firedAt = performance.now() - t0), 0);
  while (performance.now() - t0 < 300) {
    busy(1);
    await step();
  }
  return firedAt;
}

describe('eventLoopYielder', () => {
  it('without it, awaiting resolved work starves a due timer for the whole loop', async () => {
    expect(await timerDuringLoop(async () => undefined)).toBe(-1);
  });

  it('with it, a due timer runs within about everyMs', async () => {
    const firedAt = await timerDuringLoop(eventLoopYielder(20));
    expect(firedAt).toBeGreaterThanOrEqual(0);
    // Due at once, run at the first or second yield (20-40 ms); generous for a loaded machine.
    expect(firedAt).toBeLessThan(150);
  });

  it('gives no turn to the event loop when called again before everyMs have passed', async () => {
    const yieldNow = eventLoopYielder(60_000);
    let turns = 0;
    const tick = (): void => {
      turns++;
    };
    setImmediate(tick);
    for (let i = 0; i < 1000; i++) await yieldNow();
    expect(turns).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(turns).toBe(1);
  });
});
