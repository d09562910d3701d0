/**
 * The registry of scores: adding one is a file in this folder and one line in SCORERS (see
 * docs/extending.md, "Add a score"). Everything else — the experiment file's `scorer.add`, the
 * metric columns, the table headers, what is prepared and checked before training — is asked of
 * the scorers listed here.
 */
import { UserError } from '../../util/errors.ts';
import type { Task } from '../schema.ts';
import { colorScorer } from './color.ts';
import { fcnScorer } from './fcn.ts';
import { labelsScorer } from './labels.ts';
import type { MetricInfo, ReferenceRow, Scorer, ScorerConfig } from './scorer.ts';
import { similarityScorer } from './similarity.ts';

export type { MetricInfo, ReferenceRow, ScoreInput, ScoreOutput, Scorer, ScorerConfig } from './scorer.ts';

export const SCORERS: readonly Scorer[] = [fcnScorer, labelsScorer, colorScorer, similarityScorer];

export function scorerNamed(name: string): Scorer | undefined {
  return SCORERS.find((s) => s.name === name);
}

/** The task's own score (the paper's metric for its table). */
export function taskScorer(task: Task): Scorer {
  const s = SCORERS.find((x) => x.defaultFor.includes(task));
  if (!s) throw new Error(`no scorer is registered as the default of task ${task}`);
  return s;
}

/** The scorers of an experiment: the task's own, then the ones its file adds (checked: known, fit the task, not repeated). */
export function scorersFor(task: Task, add: readonly string[] = [], where = 'scorer.add'): Scorer[] {
  const out = [taskScorer(task)];
  for (const name of add) {
    const s = scorerNamed(name);
    if (!s) throw new UserError(`${where}: unknown score '${name}'; known: ${SCORERS.map((x) => x.name).join(', ')}`);
    if (!s.tasks.includes(task)) throw new UserError(`${where}: '${name}' does not score task ${task}; it scores ${s.tasks.join(', ')} (${s.summary})`);
    if (out.includes(s)) throw new UserError(`${where}: '${name}' is listed twice (or is already the task's own score)`);
    out.push(s);
  }
  return out;
}

/** The scorers named in a resolved experiment, in table order. */
export function scorersOf(s: { names: readonly string[] }): Scorer[] {
  return s.names.map((n) => {
    const x = scorerNamed(n);
    if (!x) throw new Error(`scorer '${n}' is not registered`);
    return x;
  });
}

/** The confusion semantics of the scorers that count a confusion matrix ('' when none does). */
export function confusionModeOf(s: ScorerConfig & { names: readonly string[] }): string {
  return [...new Set(scorersOf(s).flatMap((x) => (x.confusionMode ? [x.confusionMode(s)] : [])))].join('; ');
}

/** The results files' "Scorer:" text: each scorer's own, joined (`trainedSegmenter`: see Scorer.describe). */
export function describeScorers(s: ScorerConfig & { names: readonly string[] }, trainedSegmenter: string | null): string {
  return scorersOf(s)
    .map((x) => x.describe(s, trainedSegmenter))
    .join('; ');
}

/** One log line of a run's scores by their short names: "pixel 0.812, class 0.301, SSIM 0.412, PSNR 21.07". */
export function scoresLine(scorers: readonly Scorer[], metrics: Readonly<Record<string, number>>): string {
  return metricsOf(scorers)
    .filter((m) => m.key in metrics)
    .map((m) => `${m.short} ${Math.abs(metrics[m.key]) >= 10 ? metrics[m.key].toFixed(2) : metrics[m.key].toFixed(3)}`)
    .join(', ');
}

/** The reference rows of `scorers` (see Scorer.referenceRows), each name once, in table order. */
export function referenceRowsOf(scorers: readonly Scorer[]): ReferenceRow[] {
  const out: ReferenceRow[] = [];
  for (const r of scorers.flatMap((s) => s.referenceRows ?? [])) if (!out.some((x) => x.name === r.name)) out.push(r);
  return out;
}

/** The metrics of `scorers`, in table order. */
export function metricsOf(scorers: readonly Scorer[]): MetricInfo[] {
  return scorers.flatMap((s) => s.metrics);
}

/** Every metric any scorer reports, by key (for tables regenerated from a CSV alone). */
export function metricInfo(key: string): MetricInfo | undefined {
  for (const s of SCORERS) for (const m of s.metrics) if (m.key === key) return m;
  return undefined;
}
