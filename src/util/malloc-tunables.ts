/**
 * glibc malloc settings for processes that train on the ort-cpu engine.
 *
 * onnxruntime-node's binding copies every output of a run into a new ArrayBuffer, even when the
 * output was pre-allocated (our kernels pass wasm-heap views that onnxruntime writes in place; the
 * copy is then garbage). A 256² pix2pix step makes ~420 MB of such copies. With glibc's defaults
 * each large buffer is a fresh mmap, so every page of every copy is a page fault: ~1 GB/s on the
 * development machine, ~0.4 s of a 2.8 s step on the main thread. Serving buffers up to 32 MiB from
 * the heap and never trimming it lets the freed copies' memory be reused (bench/kernels.ts --step
 * 256, same run: 2,832 → 2,466 ms per step at 2 threads). The cost is that the process keeps its
 * peak heap until it exits (peak RSS +70 MiB in that run).
 *
 * GLIBC_TUNABLES is read when the process starts, so it is set for child processes (the CLI
 * re-executes itself once for `train` and `segmenter`; the experiment scheduler sets it for its workers).
 * Other C libraries ignore the variable.
 */
const TUNABLES: Readonly<Record<string, string>> = {
  'glibc.malloc.mmap_threshold': String(32 * 1024 * 1024),
  'glibc.malloc.trim_threshold': String(2 ** 32),
};

/** GLIBC_TUNABLES with ours added (a value the user set for the same tunable wins). */
export function withMallocTunables(current: string | undefined): string {
  const entries = (current ?? '').split(':').filter((e) => e.includes('='));
  const set = new Set(entries.map((e) => e.slice(0, e.indexOf('='))));
  const ours = Object.entries(TUNABLES)
    .filter(([k]) => !set.has(k))
    .map(([k, v]) => `${k}=${v}`);
  return [...entries, ...ours].join(':');
}

/** Whether this environment already carries every tunable (set by us or by the user). */
export function hasMallocTunables(current: string | undefined): boolean {
  return withMallocTunables(current) === (current ?? '');
}

/** The environment for a child process that trains: the parent's, plus the tunables. */
export function trainingEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GLIBC_TUNABLES: withMallocTunables(env.GLIBC_TUNABLES) };
}
