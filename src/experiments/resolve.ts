/**
 * Profile resolution: an experiment file + a profile name → the concrete runs (variant × seed),
 * each with its complete training configuration and the hash that names its work folder.
 *
 * Precedence, later wins: the file's top-level settings (the paper's), the profile's section, the
 * variant's overrides. `dataset` is replaced as a whole; `train` and `scorer` are merged key by key.
 */
import * as path from 'node:path';
import { discriminatorOptions, generatorOptions, resolveTrainConfig, sizedNetG, type TrainConfig } from '../train/config.ts';
import { assertGeneratorInput, discriminatorArch, discriminatorOutputSide, generatorArch } from '../nets/arch.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { SYNTH_GENERATOR_VERSION } from '../data/synth.ts';
import { hashOf } from './hash.ts';
import { PIPELINE_VERSION } from './version.ts';
import { SEGMENTER_DEFAULTS } from '../options/segmenter.ts';
import { l1BlurSigma } from '../eval/blur-reference.ts';
import { metricsOf, type ReferenceRow, referenceRowsOf, type ScorerConfig, scorersFor, scorersOf } from './scorers/index.ts';
import {
  type DatasetSpec,
  type ExperimentSpec,
  type FolderDataset,
  type ScorerSettings,
  type SegmenterTrainSettings,
  type SyntheticDataset,
  type Task,
  type TrainSettings,
  type VariantSpec,
} from './schema.ts';

export { PIPELINE_VERSION } from './version.ts';

export const WORK_DIR = '_work';

export interface ResolvedDataset {
  kind: 'synthetic' | 'folder';
  spec: DatasetSpec;
  hash: string;
  /** One line for every results file: what the data is. */
  description: string;
  /** Side of the label maps the segmenter judges (synthetic: the generated size). */
  labelSize?: number;
  testSplit: string;
}

/** The experiment's scorer settings with defaults, and which scorers use them (the task's own first). */
export interface ResolvedScorer extends ScorerConfig {
  /** Registry names (src/experiments/scorers); plain strings so the experiment stays plain JSON. */
  names: string[];
  /** Keys the score stage: changing it re-scores without retraining. */
  hash: string;
}

/** Whether any scorer of the experiment needs the ground-truth labels / a segmenter. */
export const needsLabels = (s: Pick<ResolvedScorer, 'names'>): boolean => scorersOf(s).some((x) => x.needsLabels);
export const needsSegmenter = (s: Pick<ResolvedScorer, 'names'>): boolean => scorersOf(s).some((x) => x.needsSegmenter);
/** The segmenter this experiment trains itself (`segmenter: train` and a scorer that needs one). */
export const trainsSegmenter = (s: Pick<ResolvedScorer, 'names' | 'segmenter'>): boolean => needsSegmenter(s) && s.segmenter === 'train';

export interface ResolvedRun {
  experiment: string;
  variant: string;
  label: string;
  kind: 'generator' | 'ground-truth';
  seed: number;
  /** Image side the generator works at and the outputs have. */
  size: number;
  direction: 'AtoB' | 'BtoA';
  /** Complete training settings (generator runs); `data` and `out` are filled in by the stage runner. */
  train: Omit<TrainConfig, 'data' | 'out'> | null;
  /** The variant's own overrides, as written in the file (for the CSV's settings column). */
  overrides: TrainSettings;
  hash: string;
  /** Translate with seeded test-time dropout (paper mode); not part of `hash`: training is the same. */
  testDropout: boolean;
  /** A ground-truth row of blurred photos: the Gaussian's σ in pixels at `size` (see ReferenceRow). */
  blurSigma?: number;
  /** `<out>/_work/<experiment>/<variant>-<hash>` relative to the results folder. */
  workDir: string;
}

export interface ResolvedVariant {
  name: string;
  label: string;
  kind: 'generator' | 'ground-truth';
  overrides: TrainSettings;
  paper: Record<string, number>;
  /** See ResolvedRun.blurSigma. */
  blurSigma?: number;
}

export interface ResolvedExperiment {
  file: string;
  profile: string;
  profileDescription: string;
  name: string;
  title: string;
  table: string;
  task: Task;
  metrics: readonly string[];
  dataset: ResolvedDataset;
  scorer: ResolvedScorer;
  /** Shared training settings after the profile (before variant overrides). */
  train: TrainSettings;
  seeds: number[];
  variants: ResolvedVariant[];
  runs: ResolvedRun[];
  /** Paper mode's test-time dropout (see ResolvedRun.testDropout). */
  testDropout: boolean;
  /** The table's key comparison (b − a, paired by seed), when the file declares one. */
  compare?: { a: string; b: string };
}

/** The direction each task trains in on Cityscapes-style AB data (A = photo, B = colour labels). */
const TASK_DIRECTION: Readonly<Record<Task, 'AtoB' | 'BtoA'>> = { labels2photo: 'BtoA', photo2labels: 'AtoB', color: 'BtoA' };

export function isSynthetic(d: DatasetSpec): d is SyntheticDataset {
  return 'synthetic' in d;
}

function resolveDataset(d: DatasetSpec): ResolvedDataset {
  if (isSynthetic(d)) {
    const s = d.synthetic;
    return {
      kind: 'synthetic',
      spec: d,
      // The generator's version keys the folder, so a new generator regenerates cached datasets.
      hash: hashOf({ synthetic: s, generator: SYNTH_GENERATOR_VERSION, version: PIPELINE_VERSION }),
      description: `synthetic street scenes (pix2pix-ts synth v${SYNTH_GENERATOR_VERSION}: ${s.count} images, ${s.size}², seed ${s.seed})`,
      labelSize: s.size,
      testSplit: 'test',
    };
  }
  const f = d;
  return {
    kind: 'folder',
    spec: f,
    hash: hashOf({ folder: f, version: PIPELINE_VERSION }),
    description: f.name ?? `AB dataset at ${f.path}`,
    testSplit: f.testSplit ?? 'test',
  };
}

export { sizedNetG };

const EPOCH_KEYS = ['epochs', 'nEpochs', 'nEpochsDecay'] as const;

/**
 * `over` on top of `base`, key by key, except the epoch schedule (epochs, nEpochs, nEpochsDecay),
 * which a layer replaces as a whole: `epochs: 4` in a profile is not mixed with the file's `nEpochs: 100`.
 */
export function mergeTrainSettings(base: TrainSettings, over: TrainSettings | undefined): TrainSettings {
  if (!over) return { ...base };
  const merged: TrainSettings = { ...base, ...over };
  if (EPOCH_KEYS.some((k) => over[k] !== undefined)) for (const k of EPOCH_KEYS) if (over[k] === undefined) delete merged[k];
  return merged;
}

/** Deepest U-Net (≤ 4 levels) whose input side divides `size`: the segmenter needs no bottleneck. */
function segmenterDepthFor(size: number): number {
  let d = 4;
  while (d > 1 && size % 2 ** d !== 0) d--;
  return d;
}

function resolveScorer(task: Task, s: ScorerSettings, dataset: ResolvedDataset, imageSize: number, file: string): ResolvedScorer {
  const scorers = scorersFor(task, s.add, `${file}: scorer.add`);
  const segSize = s.segmenterTrain?.size ?? dataset.labelSize ?? imageSize;
  // Every setting is spelled out, defaults included, so that the folder's key changes when a default
  // does (a judge trained with an older default is not reused).
  const segmenterTrain: SegmenterTrainSettings = {
    ...SEGMENTER_DEFAULTS,
    ...s.segmenterTrain,
    size: segSize,
    depth: s.segmenterTrain?.depth ?? segmenterDepthFor(segSize),
  };
  // The engine and thread count change speed, not the model being trained: they do not key the folder.
  const { engine: _engine, threads: _threads, ...segKey } = segmenterTrain;
  const config: ScorerConfig = {
    segmenter: s.segmenter ?? 'train',
    segmenterTrain,
    segmenterHash: hashOf({ dataset: dataset.hash, segmenter: segKey, version: PIPELINE_VERSION }),
    mode: s.mode ?? 'strict',
    voidColors: s.voidColors ?? 'none',
    bins: s.bins ?? 256,
  };
  const keys = scorers.map((x) => x.key(config));
  const hash = hashOf({ scores: keys, version: PIPELINE_VERSION });
  return { ...config, names: scorers.map((x) => x.name), hash };
}

/**
 * Resolve `spec` under `profile`. `only` keeps one variant (for spreading variants over machines).
 * Every configuration problem is a UserError naming the file, the variant and the setting.
 */
export function resolveExperiment(spec: ExperimentSpec, file: string, profile: string, only?: string): ResolvedExperiment {
  const section = spec.profiles[profile];
  if (section === undefined) {
    const known = Object.keys(spec.profiles);
    throw new UserError(
      `${file}: has no profile '${profile}'; --profile must be one of ${known.length ? known.join(', ') : '(none defined: add a profiles: section)'}`,
    );
  }
  const dataset = resolveDataset(section.dataset ?? spec.dataset);
  const train: TrainSettings = mergeTrainSettings(spec.train, section.train);
  const seeds = section.seeds ?? spec.seeds;
  const testDropout = section.testDropout ?? spec.testDropout ?? false;
  const scorerSettings: ScorerSettings = {
    ...spec.scorer,
    ...section.scorer,
    segmenterTrain: { ...spec.scorer.segmenterTrain, ...section.scorer?.segmenterTrain },
  };
  const defaultSize = dataset.labelSize ?? 256;
  const baseSize = train.size ?? defaultSize;
  const scorer = resolveScorer(spec.task, scorerSettings, dataset, baseSize, file);

  const listed = new Set(section.variants ?? spec.variants.map((v) => v.name));
  const all = withReferenceRows(spec.variants.filter((v) => listed.has(v.name)).map(resolveVariant), spec, referenceRowsOf(scorersOf(scorer)), baseSize, file);
  const known = [...new Set([...spec.variants.map((v) => v.name), ...all.map((v) => v.name)])];
  if (only !== undefined && !known.includes(only)) {
    throw new UserError(`--only ${only}: ${file} has no such variant; its variants are ${known.join(', ')}`);
  }
  if (only !== undefined && !all.some((v) => v.name === only)) {
    throw new UserError(`--only ${only}: profile '${profile}' of ${file} does not run that variant; it runs ${all.map((v) => v.name).join(', ')}`);
  }
  const variants = all.filter((v) => only === undefined || v.name === only);

  const runs: ResolvedRun[] = [];
  for (const v of variants) {
    const merged: TrainSettings = mergeTrainSettings(train, v.overrides);
    const size = merged.size ?? defaultSize;
    for (const s of scorersOf(scorer)) {
      const problem = s.checkRun?.({ size });
      if (problem) throw new UserError(`${file}: variant '${v.name}' (profile '${profile}'): ${problem}`);
    }
    const direction = merged.direction ?? TASK_DIRECTION[spec.task];
    for (const seed of seeds) {
      if (v.kind === 'ground-truth') {
        const blur = v.blurSigma === undefined ? {} : { blurSigma: v.blurSigma };
        const hash = hashOf({ kind: 'ground-truth', dataset: dataset.hash, size, direction, version: PIPELINE_VERSION, ...blur });
        runs.push({
          experiment: spec.experiment,
          variant: v.name,
          label: v.label,
          kind: v.kind,
          seed,
          size,
          direction,
          train: null,
          overrides: {},
          hash,
          testDropout: false,
          ...blur,
          workDir: path.join(WORK_DIR, spec.experiment, `${v.name}-${hash}`),
        });
        // Real images are the same for every seed: one run stands for all repeats.
        break;
      }
      let config: TrainConfig;
      try {
        config = resolveTrainConfig({ ...merged, netG: sizedNetG(merged.netG, size), size, direction, seed, data: '', out: '' }, (key) => key);
        // Fail now, not after hours of other variants: the networks must exist at this image size.
        assertGeneratorInput(generatorArch(generatorOptions(config)), size);
        const d = discriminatorOptions(config);
        if (d) discriminatorOutputSide(discriminatorArch(d), size);
      } catch (e) {
        throw new UserError(`${file}: variant '${v.name}' (profile '${profile}'): ${errorMessage(e)}`);
      }
      const { data: _d, out: _o, ...rest } = config;
      // engine, threads, valLimit and sampleRows change speed and logs, not the trained model (the trainer lets
      // them change on resume too), so they do not key the folder.
      const { engine: _e, threads: _t, valLimit: _v, sampleRows: _s, ...key } = rest;
      const hash = hashOf({ kind: 'generator', dataset: dataset.hash, train: key, version: PIPELINE_VERSION });
      runs.push({
        experiment: spec.experiment,
        variant: v.name,
        label: v.label,
        kind: 'generator',
        seed,
        size,
        direction,
        train: rest,
        overrides: v.overrides,
        hash,
        testDropout,
        workDir: path.join(WORK_DIR, spec.experiment, `${v.name}-${hash}`),
      });
    }
  }
  return {
    file,
    profile,
    profileDescription: section.description ?? '',
    name: spec.experiment,
    title: spec.title,
    table: spec.table,
    task: spec.task,
    metrics: metricsOf(scorersOf(scorer)).map((m) => m.key),
    dataset,
    scorer,
    train,
    seeds,
    variants,
    runs,
    testDropout,
    compare: spec.compare,
  };
}

function resolveVariant(v: VariantSpec): ResolvedVariant {
  return { name: v.name, label: v.label ?? v.name, kind: v.kind ?? 'generator', overrides: v.train ?? {}, paper: v.paper ?? {} };
}

/**
 * The profile's variants followed by the scorers' reference rows (Scorer.referenceRows), whether or
 * not the profile lists them: the file's own ground-truth variant stands for the unblurred row (with
 * its label and paper values), a blurred row's label names its σ at the run's image side.
 */
function withReferenceRows(
  listed: readonly ResolvedVariant[],
  spec: ExperimentSpec,
  refs: readonly ReferenceRow[],
  size: number,
  file: string,
): ResolvedVariant[] {
  if (refs.length === 0) return [...listed];
  const own = spec.variants.find((v) => v.kind === 'ground-truth');
  const rows = refs.map((r): ResolvedVariant => {
    if (!r.blurred && own) return resolveVariant(own);
    const clash = spec.variants.find((v) => v.name === r.name);
    if (clash) throw new UserError(`${file}: variant name '${r.name}' is taken by the score's own reference row (${r.label}); rename that variant`);
    const base = { name: r.name, label: r.label, kind: 'ground-truth' as const, overrides: {}, paper: {} };
    if (!r.blurred) return base;
    const sigma = l1BlurSigma(size);
    return { ...base, label: `${r.label} (σ ${Number(sigma.toFixed(3))} px)`, blurSigma: sigma };
  });
  return [...listed.filter((v) => !rows.some((r) => r.name === v.name)), ...rows];
}

export function datasetDir(out: string, d: ResolvedDataset): string {
  return d.kind === 'synthetic' ? path.join(out, WORK_DIR, '_data', `synthetic-${d.hash}`) : (d.spec as FolderDataset).path;
}

export function segmenterDir(out: string, s: Pick<ResolvedScorer, 'segmenterHash'>): string {
  return path.join(out, WORK_DIR, '_segmenters', s.segmenterHash);
}
