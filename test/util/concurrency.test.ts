import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InFlight, mapBounded, prefetch } from '../../src/util/concurrency.ts';

/** A promise settled from outside, to order events by hand. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ticks = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

// Any rejection nobody observed fails the test that caused it.
let unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await ticks();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('prefetch', () => {
  it('yields in item order even when later loads finish first', async () => {
    const delays = [30, 1, 15, 0, 5];
    const load = (d: number, i: number): Promise<string> => new Promise((r) => setTimeout(() => r(`#${i}`), d));
    const got: string[] = [];
    for await (const v of prefetch(delays, load, 3)) got.push(v);
    expect(got).toEqual(['#0', '#1', '#2', '#3', '#4']);
  });

  it('keeps exactly the next `depth` loads started while the consumer works, started in order', async () => {
    for (const depth of [1, 2, 4]) {
      const started: number[] = [];
      const seen: number[][] = [];
      const items = [0, 1, 2, 3, 4, 5];
      for await (const v of prefetch(
        items,
        async (x, i) => {
          started.push(i);
          return x;
        },
        depth,
      )) {
        seen.push([v, started.length]);
      }
      // While item i is handled, loads 0..i+depth have started (capped at the item count).
      expect(seen).toEqual(items.map((i) => [i, Math.min(items.length, i + 1 + depth)]));
      expect(started).toEqual(items);
    }
  });

  it('starts each load synchronously, before the consumer sees the previous result', async () => {
    const log: string[] = [];
    for await (const v of prefetch(['a', 'b', 'c'], async (x) => (log.push(`load ${x}`), x))) log.push(`use ${v}`);
    expect(log).toEqual(['load a', 'load b', 'use a', 'load c', 'use b', 'use c']);
  });

  it('throws a failed load when the consumer reaches it, after the results before it, and starts nothing more', async () => {
    const started: number[] = [];
    const got: number[] = [];
    const run = async (): Promise<void> => {
      for await (const v of prefetch(
        [0, 1, 2, 3, 4, 5, 6],
        async (x, i) => {
          started.push(i);
          if (x === 2) throw new Error('bad item 2');
          if (x === 3) throw new Error('bad item 3 (never reported)');
          return x;
        },
        2,
      ))
        got.push(v);
    };
    await expect(run()).rejects.toThrow('bad item 2');
    expect(got).toEqual([0, 1]);
    // Item 1 was handled while 2 and 3 were loading; item 3's rejection is observed, not unhandled.
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('turns a synchronous throw of the loader into an error at that item', async () => {
    const got: number[] = [];
    const run = async (): Promise<void> => {
      for await (const v of prefetch([0, 1], (x) => {
        if (x === 1) throw new Error('sync throw');
        return Promise.resolve(x);
      }))
        got.push(v);
    };
    await expect(run()).rejects.toThrow('sync throw');
    expect(got).toEqual([0]);
  });

  it('stops loading when the consumer stops, and a pending load that fails later stays quiet', async () => {
    const started: number[] = [];
    const late = deferred<number>();
    for await (const v of prefetch(
      [0, 1, 2, 3],
      (x, i) => {
        started.push(i);
        return x === 1 ? late.promise : Promise.resolve(x);
      },
      1,
    )) {
      expect(v).toBe(0);
      break;
    }
    late.reject(new Error('nobody waits for this'));
    await ticks();
    expect(started).toEqual([0, 1]);
  });

  it('rejects a depth that is not a positive integer', async () => {
    await expect(prefetch([1], async (x) => x, 0).next()).rejects.toThrow(/positive integer/);
  });
});

describe('mapBounded', () => {
  it('returns results in input order, never runs more than `limit` at once, and reaches the limit', async () => {
    let running = 0;
    let peak = 0;
    const delays = [20, 1, 10, 1, 5, 0, 15, 2];
    const out = await mapBounded(delays, 3, async (d, i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, d));
      running--;
      return `${i}:${d}`;
    });
    expect(out).toEqual(delays.map((d, i) => `${i}:${d}`));
    expect(peak).toBe(3);
  });

  it('handles an empty list and a limit above the item count', async () => {
    expect(await mapBounded([], 4, async (x: number) => x)).toEqual([]);
    expect(await mapBounded([5, 6], 10, async (x) => x * 2)).toEqual([10, 12]);
  });

  it('rejects with the first failure, starts no further item, and a second failure stays quiet', async () => {
    const started: number[] = [];
    const second = deferred<number>();
    const run = mapBounded([0, 1, 2, 3, 4, 5], 2, async (x) => {
      started.push(x);
      if (x === 0) return second.promise;
      if (x === 1) throw new Error('first failure');
      return x;
    });
    await expect(run).rejects.toThrow('first failure');
    second.reject(new Error('second failure'));
    await ticks();
    expect(started).toEqual([0, 1]);
  });

  it('rejects a limit that is not a positive integer', async () => {
    await expect(mapBounded([1], 0, async (x) => x)).rejects.toThrow(/positive integer/);
  });
});

describe('InFlight', () => {
  it('atMost(n) waits until no more than n tasks run; drain() until none', async () => {
    const pool = new InFlight();
    const ds = [deferred(), deferred(), deferred()];
    for (const d of ds) pool.add(d.promise);
    expect(pool.size).toBe(3);
    let below = false;
    const wait = pool.atMost(1).then(() => (below = true));
    ds[2].resolve();
    await ticks();
    expect([below, pool.size]).toEqual([false, 2]);
    ds[0].resolve();
    await wait;
    expect(pool.size).toBe(1);
    let drained = false;
    const all = pool.drain().then(() => (drained = true));
    await ticks();
    expect(drained).toBe(false);
    ds[1].resolve();
    await all;
    expect(pool.size).toBe(0);
  });

  it('wakes every waiter', async () => {
    const pool = new InFlight();
    const d = deferred();
    pool.add(d.promise);
    const waits = [pool.atMost(0), pool.drain()];
    d.resolve();
    await Promise.all(waits);
  });

  it('reports the first task failure at the next wait (even below the limit) and drops later ones', async () => {
    const pool = new InFlight();
    const a = deferred();
    const b = deferred();
    pool.add(a.promise);
    pool.add(b.promise);
    a.reject(new Error('first'));
    await ticks();
    b.reject(new Error('second'));
    await expect(pool.atMost(5)).rejects.toThrow('first');
    await expect(pool.drain()).rejects.toThrow('first');
  });
});
