/**
 * What an experiment asks a score: which tasks it scores, what it needs (ground-truth labels, a
 * segmenter), the metrics it reports and their names, the key that decides when to re-score, how
 * to score one folder of generated images, and how to describe itself in the results files.
 *
 * Each score is one file in this folder plus one line in index.ts (the registry); the experiment
 * code asks the registry and never branches on a score's name.
 */
import type { ScorerSettings, SegmenterTrainSettings, Task } from '../schema.ts';

export interface MetricInfo {
  /** Key in result.json, the CSV column prefix (`<key>_mean`) and the experiment file's `paper:`. */
  key: string;
  /** Column header of the results tables (the paper's wording where the paper has the metric). */
  name: string;
  /** A few characters for log lines (the score stage logs each run's scores by these). */
  short: string;
}

/** The scorer settings of an experiment after the profile, with defaults filled in (shared by its scorers). */
export interface ScorerConfig {
  /** 'train' or the path of a segmenter .onnx. */
  segmenter: string;
  segmenterTrain: SegmenterTrainSettings;
  /** Keys the trained segmenter's folder (dataset + settings). */
  segmenterHash: string;
  mode: 'strict' | 'reference';
  voidColors: NonNullable<ScorerSettings['voidColors']>;
  bins: number;
}

/** One folder of generated images to score, and what the run provides beside it. */
export interface ScoreInput {
  /** The generated (translated) test images, named after the test split's files. */
  imagesDir: string;
  /** Ground-truth label maps of the test split (when a scorer of the experiment needs labels). */
  labelsDir: string | null;
  /** The segmenter .onnx (when a scorer needs one). */
  segmenterModel: string | null;
  config: ScorerConfig;
  /** The real target images of the test split at the run's size (written once, on first use). */
  targetsDir: () => Promise<string>;
  /** Names the run in errors, e.g. "patch-size". */
  experiment: string;
}

export interface ScoreOutput {
  /** One value per metric key of the scorer. */
  metrics: Record<string, number>;
  /** Per-class IoU / accuracy, for scorers that classify pixels. */
  perClass?: { classAcc: number[]; classIoU: number[]; classPixels: number[] };
  /** Images (or frames) scored. */
  frames: number;
}

export interface Scorer {
  /** The name experiment files use (`scorer: { add: [NAME] }`) and the registry's key. */
  name: string;
  /** One line for docs and errors: what it measures. */
  summary: string;
  /** Tasks whose own (paper) score this is; each task has exactly one. */
  defaultFor: readonly Task[];
  /** Tasks it can score (its default tasks included). */
  tasks: readonly Task[];
  metrics: readonly MetricInfo[];
  needsLabels: boolean;
  needsSegmenter: boolean;
  /** What its numbers depend on besides the images: a change re-scores without retraining. */
  key(config: ScorerConfig): Record<string, unknown>;
  score(input: ScoreInput): Promise<ScoreOutput>;
  /** A one-line problem scoring a run of this image side would meet, found when the file is resolved (before any training). */
  checkRun?(run: { size: number }): string | undefined;
  /** The results files' "Scorer:" text; `trainedSegmenter` describes the segmenter eval run trained (`segmenter: train`), else null. */
  describe(config: ScorerConfig, trainedSegmenter: string | null): string;
  /** Confusion semantics ('strict' | 'reference') for scorers that count a confusion matrix. */
  confusionMode?(config: ScorerConfig): string;
}
