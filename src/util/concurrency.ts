/**
 * The project's three ways of overlapping async work, written once:
 * - `prefetch`: consume results in order while the next `depth` loads already run (decode the next
 *   batch while this one computes);
 * - `mapBounded`: map a list with at most `limit` calls in flight, results in input order;
 * - `InFlight`: a set of fire-and-forget tasks (encodes, writes) the producer throttles itself against.
 *
 * Shared rules: the first failure is the one reported; once something failed no new work starts;
 * the rejections of work already running are observed, so none surfaces as an unhandled rejection.
 */

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer (got ${n})`);
}

/**
 * Yield `load(item, index)` for each item, in item order, keeping the next `depth` loads started
 * while the consumer handles the current result. Loads start synchronously, in item order (a load
 * that draws from an RNG draws in that order), and never past what the consumer will reach: after
 * the consumer stops (break, throw) or a load fails, nothing new is started. A failed load is thrown
 * when the consumer reaches it, so the results before it are consumed first.
 */
export async function* prefetch<T, R>(items: Iterable<T>, load: (item: T, index: number) => Promise<R>, depth = 1): AsyncGenerator<R, void, undefined> {
  checkCount('prefetch depth', depth);
  const source = items[Symbol.iterator]();
  const queue: Promise<R>[] = [];
  let index = 0;
  let exhausted = false;
  const fill = (): void => {
    while (!exhausted && queue.length < depth) {
      const next = source.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const i = index++;
      // async wrapper: a synchronous throw from `load` becomes a rejection like any other.
      const p = (async () => load(next.value, i))();
      p.catch(() => undefined); // observed here; thrown to the consumer when it reaches this item
      queue.push(p);
    }
  };
  try {
    fill();
    while (queue.length > 0) {
      const value = await queue.shift()!;
      fill();
      yield value;
    }
  } finally {
    exhausted = true;
  }
}

/**
 * `fn` over `items` with at most `limit` calls in flight; results in input order. The first
 * rejection rejects the whole call and no further item is started.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  checkCount('concurrency limit', limit);
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  // Promise.all observes every lane, so a second failure is not an unhandled rejection.
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * Tasks started by a producer that throttles itself: `add` never waits, `atMost(n)` waits until
 * no more than n tasks run, `drain()` until none. The first task failure rejects the next (or
 * current) wait; later failures are observed and dropped.
 */
export class InFlight {
  private readonly running = new Set<Promise<void>>();
  private error: { value: unknown } | undefined;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.running.size;
  }

  add(task: Promise<unknown>): void {
    const p: Promise<void> = task.then(
      () => this.settle(p),
      (e: unknown) => {
        this.error ??= { value: e };
        this.settle(p);
      },
    );
    this.running.add(p);
  }

  async atMost(n: number): Promise<void> {
    for (;;) {
      if (this.error) throw this.error.value;
      if (this.running.size <= n) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  drain(): Promise<void> {
    return this.atMost(0);
  }

  private settle(p: Promise<void>): void {
    this.running.delete(p);
    for (const wake of this.waiters.splice(0)) wake();
  }
}
