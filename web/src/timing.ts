/** Small timing helpers for the page: per-translation statistics and a debounce. */

/** Milliseconds per translation; the median hides the first WebGPU run's shader compilation. */
export class Timings {
  private readonly ms: number[] = [];

  add(ms: number): void {
    this.ms.push(ms);
  }

  get count(): number {
    return this.ms.length;
  }

  median(): number {
    if (this.ms.length === 0) return NaN;
    const s = [...this.ms].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
}

export interface Debounced {
  (): void;
  cancel(): void;
}

/** Call `fn` once, `ms` after the last call (drawing fires many events; translate when it pauses). */
export function debounce(fn: () => void, ms: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const d = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
  d.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return d;
}
