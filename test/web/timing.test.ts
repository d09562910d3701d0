import { afterEach, describe, expect, it, vi } from 'vitest';
import { Timings, debounce } from '../../web/src/timing.ts';

describe('Timings', () => {
  it('takes the median of odd and even counts', () => {
    const t = new Timings();
    expect(t.median()).toBeNaN();
    for (const ms of [900, 10, 12]) t.add(ms);
    expect(t.median()).toBe(12);
    t.add(11);
    expect(t.median()).toBe(11.5);
    expect(t.count).toBe(4);
  });
});

describe('debounce', () => {
  afterEach(() => vi.useRealTimers());

  it('calls once, after the last of a burst, and can be cancelled', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d();
    vi.advanceTimersByTime(60);
    d();
    vi.advanceTimersByTime(60);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(40);
    expect(fn).toHaveBeenCalledTimes(1);
    d();
    d.cancel();
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
