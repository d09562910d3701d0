/**
 * Confidence intervals over seeds: Student t intervals of a mean and of a paired difference. Pure
 * functions; the t quantile is computed (regularised incomplete beta, inverted by bisection), not
 * looked up, so any number of seeds works.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error below 1e-13 in double precision). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` > 0 degrees of freedom (0 < p < 1). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`tQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Interval {
  /** Number of values (seeds, or seed pairs). */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 when n = 1. */
  sd: number;
  /** Bounds of the two-sided interval; NaN when n < 2 (no interval from one value). */
  lo: number;
  hi: number;
}

/** Mean of `xs` with its two-sided Student t confidence interval (default 95%). */
export function meanInterval(xs: readonly number[], level = 0.95): Interval {
  const n = xs.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, lo: NaN, hi: NaN };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, mean, sd: 0, lo: NaN, hi: NaN };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (tQuantile(1 - (1 - level) / 2, n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, lo: mean - half, hi: mean + half };
}

/**
 * The paired difference b − a over the seeds both have (runs with the same seed share the dataset
 * and differ only in the variant), with its t interval.
 */
export function pairedDifference(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>, level = 0.95): Interval & { seeds: number[] } {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  return {
    ...meanInterval(
      seeds.map((s) => b.get(s)! - a.get(s)!),
      level,
    ),
    seeds,
  };
}

/**
 * The minimal detectable difference of a paired comparison: the true mean difference that a
 * two-sided t test at 1 − level would detect with probability `power`, given the spread of the
 * observed differences: (t(1 − α/2, n − 1) + t(power, n − 1)) · sd / √n (the usual normal-theory
 * formula with t quantiles). NaN below two pairs.
 */
export function minimalDetectableDifference(d: Interval, level = 0.95, power = 0.8): number {
  if (!(d.n >= 2)) return NaN;
  return ((tQuantile(1 - (1 - level) / 2, d.n - 1) + tQuantile(power, d.n - 1)) * d.sd) / Math.sqrt(d.n);
}

/** What an interval supports about the sign of a difference. */
export function verdict(d: Interval): 'higher' | 'lower' | 'inconclusive' | 'no interval' {
  if (!(d.n >= 2) || Number.isNaN(d.lo)) return 'no interval';
  if (d.lo > 0) return 'higher';
  if (d.hi < 0) return 'lower';
  return 'inconclusive';
}
