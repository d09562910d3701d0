/**
 * Percentile bootstrap over frames for scores computed from summed confusion matrices (FCN-scores
 * are ratios of sums, not means of per-frame values, so the frames are resampled and the scores
 * recomputed). Paired: every condition is summed over the same resampled frames, so a ratio of two
 * conditions gets its own interval.
 */
import { Rng } from '../util/rng.ts';
import { type ConfusionMatrix, createConfusion, mergeConfusion } from './confusion.ts';

export interface BootstrapInterval {
  value: number;
  lo: number;
  hi: number;
  resamples: number;
}

/** Sum the confusion matrices of the frames listed in `picks` (a frame may be listed repeatedly). */
export function sumConfusions(frames: readonly ConfusionMatrix[], picks: ArrayLike<number>): ConfusionMatrix {
  const out = createConfusion(frames[0]?.numClasses);
  for (let i = 0; i < picks.length; i++) mergeConfusion(out, frames[picks[i]]);
  return out;
}

/**
 * `statistic` of the frames' conditions (conditions[c][frame]) on all frames, with the
 * (1 − level) percentile interval over `resamples` resamples of the frames with replacement.
 */
export function bootstrapFrames(
  conditions: readonly (readonly ConfusionMatrix[])[],
  statistic: (summed: ConfusionMatrix[]) => number,
  opts: { resamples?: number; seed?: number; level?: number } = {},
): BootstrapInterval {
  const n = conditions[0]?.length ?? 0;
  if (n === 0 || conditions.some((c) => c.length !== n)) throw new Error('bootstrapFrames: every condition needs the same, non-zero number of frames');
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  const rng = new Rng(opts.seed ?? 1);
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const value = statistic(conditions.map((c) => sumConfusions(c, all)));
  const draws = new Float64Array(resamples);
  const picks = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) picks[i] = rng.int(n);
    draws[r] = statistic(conditions.map((c) => sumConfusions(c, picks)));
  }
  draws.sort();
  const at = (q: number): number => draws[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { value, lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2), resamples };
}
