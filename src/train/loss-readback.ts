/**
 * Deferred loss read-back: a step's losses stay on the device and are read a few steps at a time, in
 * step order, so a GPU engine never waits for the CPU inside a step (each read waits for the device to
 * finish everything queued before it). The values arrive in the same order as reading each step at once.
 */
import * as tf from './tfjs.ts';

/** Steps between loss read-backs in the training loops. */
export const LOSS_READ_EVERY = 8;

export class DeferredReads<P, V> {
  private readonly pending: P[] = [];

  /**
   * @param read reads one step's pending values back and frees them
   * @param onValue receives each step's values, in step order
   */
  constructor(
    private readonly read: (p: P) => Promise<V>,
    private readonly onValue: (v: V) => void,
    private readonly every = LOSS_READ_EVERY,
  ) {}

  /** Queue a step's values; every `every` steps, read the queue back. */
  async push(p: P): Promise<void> {
    this.pending.push(p);
    if (this.pending.length >= this.every) await this.flush();
  }

  /** Read back everything queued (end of an epoch). */
  async flush(): Promise<void> {
    for (const v of await Promise.all(this.pending.splice(0).map(this.read))) this.onValue(v);
  }
}

/** Read a scalar's value back and free it. */
export async function readScalar(t: tf.Scalar): Promise<number> {
  const v = (await t.data())[0] ?? Number.NaN;
  t.dispose();
  return v;
}
