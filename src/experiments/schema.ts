/**
 * Experiment files (experiments/*.yaml): what one paper table needs — the dataset, the shared
 * training settings, the variants (name + overrides + the paper's numbers), the scorer, the seeds
 * and the profiles (quick / full / ci) that override those settings.
 *
 * Validation is done on the YAML syntax tree so that every error names the file, the line, the key
 * path and what is allowed, in one line: `experiments/x.yaml:12: variants[2].train.rf: …`.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { type OptionTable, problemOf, yamlKeys } from '../options/define.ts';
import { ENGINE_CHOICES, type EngineChoice } from '../options/common.ts';
import { LABELS_OPTIONS, COLOR_OPTIONS } from '../options/eval.ts';
import { SEGMENTER_OPTIONS, type SegmenterTrainSettings } from '../options/segmenter.ts';
import { TRAIN_OPTIONS, type TrainSettings } from '../options/train.ts';
import { nonRegularKind } from '../util/fs.ts';
import { formatBytes } from '../util/bytes.ts';
import { UserError } from '../util/errors.ts';
import { SCORERS, scorerNamed, taskScorer } from './scorers/index.ts';

export { ENGINE_CHOICES, type EngineChoice, type SegmenterTrainSettings, type TrainSettings };

export type Task = 'labels2photo' | 'photo2labels' | 'color';
export const TASKS: readonly Task[] = ['labels2photo', 'photo2labels', 'color'];

/** The metrics of each task's own score (the paper's), in table order. */
const ownMetrics = (t: Task): readonly string[] => taskScorer(t).metrics.map((m) => m.key);
export const TASK_METRICS: Readonly<Record<Task, readonly string[]>> = {
  labels2photo: ownMetrics('labels2photo'),
  photo2labels: ownMetrics('photo2labels'),
  color: ownMetrics('color'),
};

export interface SyntheticDataset {
  synthetic: { count: number; size: number; seed: number; splits?: { train: number; val: number; test: number } };
}

/** A dataset on disk: an AB folder (train/ and the test split), labels and real photos for scoring. */
export interface FolderDataset {
  /** Aligned AB (or paired A/ B/) dataset root. */
  path: string;
  /** Split that is translated and scored (Cityscapes: val). */
  testSplit?: string;
  /** Ground-truth label maps of the test split (`*_gtFine_labelIds.png`, any depth). */
  labels?: string;
  /** Cityscapes-layout root (leftImg8bit/ + gtFine/) a segmenter is trained on (`segmenter: train`). */
  segmenterData?: string;
  /** Says in every results file what the data is (e.g. "Cityscapes (pix2pix AB, 256²)"). */
  name?: string;
}

export type DatasetSpec = SyntheticDataset | FolderDataset;

export interface ScorerSettings {
  /** `train` (train a small U-Net segmenter on the real photos) or a segmenter .onnx with its sidecar. */
  segmenter?: string;
  segmenterTrain?: SegmenterTrainSettings;
  /** Confusion-matrix semantics: strict (default) or the reference fast_hist quirks. */
  mode?: 'strict' | 'reference';
  /** photo→labels: palette used to read generated colour maps (`eval labels --void-colors`). */
  voidColors?: (typeof LABELS_OPTIONS.voidColors.choices)[number];
  /** color: histogram bins per channel (`eval color --bins`). */
  bins?: number;
  /** Scores reported beside the task's own, by registry name (src/experiments/scorers), e.g. [similarity]. */
  add?: string[];
}

export interface ProfileSection {
  description?: string;
  dataset?: DatasetSpec;
  train?: TrainSettings;
  scorer?: ScorerSettings;
  seeds?: number[];
  /** Run only these variants in this profile. */
  variants?: string[];
  /** Paper mode: translate with dropout on at test time (seeded by the run's seed), as the paper did. */
  testDropout?: boolean;
}

export interface VariantSpec {
  name: string;
  /** The row label of the paper's table. */
  label?: string;
  /** `ground-truth`: no generator; the real test images are scored (Table 1's last row). */
  kind?: 'generator' | 'ground-truth';
  train?: TrainSettings;
  /** The paper's numbers for this row (docs/reference.md#paper-numbers), keyed by the task's metrics. */
  paper?: Record<string, number>;
}

export interface ExperimentSpec {
  experiment: string;
  title: string;
  /** Which table or figure of the paper this reproduces. */
  table: string;
  task: Task;
  description?: string;
  dataset: DatasetSpec;
  train: TrainSettings;
  scorer: ScorerSettings;
  seeds: number[];
  variants: VariantSpec[];
  profiles: Record<string, ProfileSection>;
  /** Test-time dropout for every profile that does not set it (default false). */
  testDropout?: boolean;
  /** The table's key comparison: variant b against variant a, paired by seed (reported as b − a). */
  compare?: { a: string; b: string };
}

type Path = (string | number)[];

// ------------------------------------------------------------------------------------------------
// Locating nodes

function formatPath(p: Path): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${k}` : k;
  return s || '(top level)';
}

class Locator {
  constructor(
    private readonly root: YamlNode | null,
    private readonly lines: LineCounter,
  ) {}

  /** Line of the value at `path` (or of its key, or of the deepest node that exists on the way). */
  line(path: Path, atKey = false): number {
    let node: unknown = this.root;
    let best = this.offsetOf(node);
    for (let i = 0; i < path.length; i++) {
      const k = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === k);
        if (!pair) break;
        best = this.offsetOf(pair.key) ?? best;
        if (atKey && i === path.length - 1) break;
        node = pair.value;
      } else if (isSeq(node) && typeof k === 'number') {
        node = node.items[k];
      } else break;
      best = this.offsetOf(node) ?? best;
    }
    return best === undefined ? 1 : this.lines.linePos(best).line;
  }

  private offsetOf(n: unknown): number | undefined {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? r[0] : undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// Validation

interface Ctx {
  file: string;
  loc: Locator;
}

function fail(ctx: Ctx, path: Path, message: string, atKey = false): never {
  throw new UserError(`${ctx.file}:${ctx.loc.line(path, atKey)}: ${formatPath(path)}: ${message}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

function obj(ctx: Ctx, v: unknown, path: Path, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(ctx, path, `must be a mapping (${what}), got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function onlyKeys(ctx: Ctx, o: Record<string, unknown>, path: Path, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(ctx, [...path, k], `unknown key; allowed here: ${allowed.join(', ')}`, true);
  }
}

function str(ctx: Ctx, v: unknown, path: Path): string {
  if (typeof v !== 'string' || v === '') fail(ctx, path, `must be a non-empty string, got ${describe(v)}`);
  return v;
}

function num(ctx: Ctx, v: unknown, path: Path, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  const ok =
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!opts.int || Number.isInteger(v)) &&
    (opts.min === undefined || v >= opts.min) &&
    (opts.max === undefined || v <= opts.max);
  if (!ok) {
    const kind = opts.int ? 'an integer' : 'a number';
    const range = opts.min !== undefined && opts.max !== undefined ? ` from ${opts.min} to ${opts.max}` : opts.min !== undefined ? ` ≥ ${opts.min}` : '';
    fail(ctx, path, `must be ${kind}${range}, got ${describe(v)}`);
  }
  return v;
}

function bool(ctx: Ctx, v: unknown, path: Path): boolean {
  if (typeof v !== 'boolean') fail(ctx, path, `must be true or false, got ${describe(v)}`);
  return v;
}

function oneOf<T extends string>(ctx: Ctx, v: unknown, path: Path, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(ctx, path, `must be one of ${allowed.join(', ')}; got ${describe(v)}`);
  return v as T;
}

type FieldCheck = (ctx: Ctx, v: unknown, path: Path) => unknown;
const choice =
  (allowed: readonly string[]): FieldCheck =>
  (c, v, p) =>
    oneOf(c, v, p, allowed);

/** The YAML checks of a table's `yaml: true` options, keyed by YAML key: the table's own checks and wording. */
function tableFields(table: OptionTable, keys: readonly string[] = yamlKeys(table)): Record<string, FieldCheck> {
  return Object.fromEntries(
    keys.map((k) => [
      k,
      (c: Ctx, v: unknown, p: Path) => {
        const problem = problemOf(table[k], v);
        if (problem) fail(c, p, `${problem}, got ${describe(v)}`);
        return v;
      },
    ]),
  );
}

const TRAIN_FIELDS = tableFields(TRAIN_OPTIONS);
const SEGMENTER_FIELDS = tableFields(SEGMENTER_OPTIONS);

function fields<T>(ctx: Ctx, v: unknown, path: Path, spec: Record<string, FieldCheck>, what: string): T {
  const o = obj(ctx, v, path, what);
  onlyKeys(ctx, o, path, Object.keys(spec));
  for (const [k, val] of Object.entries(o)) spec[k](ctx, val, [...path, k]);
  return o as T;
}

/** Keys older experiment files used, with what replaced them. */
const RENAMED_TRAIN_KEYS: Readonly<Record<string, string>> = {
  epochsDecay: 'renamed nEpochsDecay; note that epochs is now the total number of epochs (nEpochs + nEpochsDecay)',
};

function trainSettings(ctx: Ctx, v: unknown, path: Path): TrainSettings {
  if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) if (RENAMED_TRAIN_KEYS[k]) fail(ctx, [...path, k], RENAMED_TRAIN_KEYS[k], true);
  }
  return fields<TrainSettings>(ctx, v, path, TRAIN_FIELDS, 'training settings');
}

/** `scorer.add`: registered scores that fit the task, each once. */
function addedScores(ctx: Ctx, v: unknown, path: Path, task: Task): string[] {
  const names = SCORERS.map((s) => s.name);
  if (!Array.isArray(v)) fail(ctx, path, `must be a list of score names (${names.join(', ')}), got ${describe(v)}`);
  v.forEach((x, i) => {
    const s = scorerNamed(oneOf(ctx, x, [...path, i], names));
    if (!s!.tasks.includes(task)) fail(ctx, [...path, i], `'${s!.name}' does not score task ${task}; it scores ${s!.tasks.join(', ')}`);
    if (s === taskScorer(task)) fail(ctx, [...path, i], `'${s.name}' is already the task's own score`);
  });
  if (new Set(v).size !== v.length) fail(ctx, path, 'lists a score twice');
  return v as string[];
}

function scorerSettings(ctx: Ctx, v: unknown, path: Path, task: Task): ScorerSettings {
  return fields<ScorerSettings>(
    ctx,
    v,
    path,
    {
      segmenter: (c, x, p) => {
        const s = str(c, x, p);
        if (s !== 'train' && !s.endsWith('.onnx'))
          fail(c, p, `must be 'train' (train a segmenter on the real photos) or a path to a segmenter .onnx (with its .onnx.json sidecar); got ${describe(x)}`);
        return s;
      },
      segmenterTrain: (c, x, p) => fields(c, x, p, SEGMENTER_FIELDS, 'segmenter training settings'),
      mode: choice(['strict', 'reference']),
      ...tableFields(LABELS_OPTIONS, ['voidColors']),
      ...tableFields(COLOR_OPTIONS, ['bins']),
      add: (c, x, p) => addedScores(c, x, p, task),
    },
    'scorer settings',
  );
}

function datasetSpec(ctx: Ctx, v: unknown, path: Path): DatasetSpec {
  const o = obj(ctx, v, path, 'either synthetic: {count, size, seed} or path: DIR');
  if ('synthetic' in o) {
    onlyKeys(ctx, o, path, ['synthetic']);
    const s = obj(ctx, o.synthetic, [...path, 'synthetic'], 'count, size, seed');
    onlyKeys(ctx, s, [...path, 'synthetic'], ['count', 'size', 'seed', 'splits']);
    for (const k of ['count', 'size', 'seed'] as const) if (s[k] === undefined) fail(ctx, [...path, 'synthetic'], `needs ${k}`);
    num(ctx, s.count, [...path, 'synthetic', 'count'], { int: true, min: 3 });
    num(ctx, s.size, [...path, 'synthetic', 'size'], { int: true, min: 8 });
    num(ctx, s.seed, [...path, 'synthetic', 'seed'], { int: true, min: 0 });
    if (s.splits !== undefined) {
      const sp = obj(ctx, s.splits, [...path, 'synthetic', 'splits'], 'train, val, test fractions');
      onlyKeys(ctx, sp, [...path, 'synthetic', 'splits'], ['train', 'val', 'test']);
      for (const k of ['train', 'val', 'test']) num(ctx, sp[k], [...path, 'synthetic', 'splits', k], { min: 0 });
    }
    return o as unknown as SyntheticDataset;
  }
  if ('path' in o) {
    onlyKeys(ctx, o, path, ['path', 'testSplit', 'labels', 'segmenterData', 'name']);
    for (const k of Object.keys(o)) str(ctx, o[k], [...path, k]);
    return o as unknown as FolderDataset;
  }
  return fail(ctx, path, 'must have either synthetic: {count, size, seed} (the embedded synthetic street scenes) or path: DIR (an AB dataset)');
}

function seeds(ctx: Ctx, v: unknown, path: Path): number[] {
  if (!Array.isArray(v) || v.length === 0) fail(ctx, path, `must be a non-empty list of integer seeds (one run per seed), got ${describe(v)}`);
  v.forEach((s, i) => num(ctx, s, [...path, i], { int: true, min: 0 }));
  if (new Set(v).size !== v.length) fail(ctx, path, 'lists a seed twice; repeats need different seeds');
  return v as number[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

/** Validate a parsed experiment object; `ctx` locates errors in the source. */
function validate(ctx: Ctx, raw: unknown): ExperimentSpec {
  const o = obj(ctx, raw, [], 'an experiment');
  const TOP = ['experiment', 'title', 'table', 'task', 'description', 'dataset', 'train', 'scorer', 'seeds', 'variants', 'profiles', 'testDropout', 'compare'];
  onlyKeys(ctx, o, [], TOP);
  for (const k of ['experiment', 'title', 'table', 'task', 'dataset', 'variants'] as const) {
    if (o[k] === undefined)
      fail(ctx, [], `missing required key '${k}' (an experiment needs ${['experiment', 'title', 'table', 'task', 'dataset', 'variants'].join(', ')})`);
  }
  const name = str(ctx, o.experiment, ['experiment']);
  if (!NAME_RE.test(name)) fail(ctx, ['experiment'], `must be a file-name-safe name (letters, digits, . _ + -), got ${describe(name)}`);
  str(ctx, o.title, ['title']);
  str(ctx, o.table, ['table']);
  if (o.description !== undefined) str(ctx, o.description, ['description']);
  const task = oneOf(ctx, o.task, ['task'], TASKS);
  datasetSpec(ctx, o.dataset, ['dataset']);
  if (o.train !== undefined) trainSettings(ctx, o.train, ['train']);
  else o.train = {};
  if (o.scorer !== undefined) scorerSettings(ctx, o.scorer, ['scorer'], task);
  else o.scorer = {};
  if (o.seeds !== undefined) seeds(ctx, o.seeds, ['seeds']);
  else o.seeds = [1];
  if (o.testDropout !== undefined) bool(ctx, o.testDropout, ['testDropout']);

  if (!Array.isArray(o.variants) || o.variants.length === 0)
    fail(ctx, ['variants'], `must be a non-empty list of variants (name + overrides), got ${describe(o.variants)}`);
  const names = new Set<string>();
  const metrics = TASK_METRICS[task];
  o.variants.forEach((v, i) => {
    const p: Path = ['variants', i];
    const vo = obj(ctx, v, p, 'a variant: name, label, train, paper');
    onlyKeys(ctx, vo, p, ['name', 'label', 'kind', 'train', 'paper']);
    if (vo.name === undefined) fail(ctx, p, 'needs a name');
    const vn = str(ctx, vo.name, [...p, 'name']);
    if (!NAME_RE.test(vn)) fail(ctx, [...p, 'name'], `must be a folder-name-safe name (letters, digits, . _ + -), got ${describe(vn)}`);
    if (names.has(vn)) fail(ctx, [...p, 'name'], `repeats the variant name '${vn}'; names must be unique`);
    names.add(vn);
    if (vo.label !== undefined) str(ctx, vo.label, [...p, 'label']);
    if (vo.kind !== undefined) oneOf(ctx, vo.kind, [...p, 'kind'], ['generator', 'ground-truth']);
    if (vo.kind === 'ground-truth' && vo.train !== undefined) fail(ctx, [...p, 'train'], 'a ground-truth row trains nothing; remove train', true);
    if (vo.train !== undefined) trainSettings(ctx, vo.train, [...p, 'train']);
    if (vo.paper !== undefined) {
      const po = obj(ctx, vo.paper, [...p, 'paper'], `the paper's numbers: ${metrics.join(', ')}`);
      onlyKeys(ctx, po, [...p, 'paper'], metrics);
      for (const [k, x] of Object.entries(po)) num(ctx, x, [...p, 'paper', k]);
    }
  });

  if (o.compare !== undefined) {
    const co = obj(ctx, o.compare, ['compare'], 'the key comparison: { a: VARIANT, b: VARIANT } (reported as b − a, paired by seed)');
    onlyKeys(ctx, co, ['compare'], ['a', 'b']);
    for (const k of ['a', 'b'] as const) {
      if (co[k] === undefined) fail(ctx, ['compare'], `needs '${k}' (a variant name)`);
      if (!names.has(co[k] as string)) fail(ctx, ['compare', k], `is not a variant of this file; variants: ${[...names].join(', ')}`);
    }
    if (co.a === co.b) fail(ctx, ['compare', 'b'], 'must name another variant than a');
  }

  if (o.profiles === undefined) o.profiles = {};
  const profiles = obj(ctx, o.profiles, ['profiles'], 'profile name → overrides');
  for (const [pn, pv] of Object.entries(profiles)) {
    const p: Path = ['profiles', pn];
    if (!NAME_RE.test(pn)) fail(ctx, p, 'profile names must be simple names (letters, digits, . _ + -)', true);
    if (pv === null) {
      profiles[pn] = {};
      continue;
    }
    const po = obj(ctx, pv, p, 'overrides: dataset, train, scorer, seeds, variants');
    onlyKeys(ctx, po, p, ['description', 'dataset', 'train', 'scorer', 'seeds', 'variants', 'testDropout']);
    if (po.testDropout !== undefined) bool(ctx, po.testDropout, [...p, 'testDropout']);
    if (po.description !== undefined) str(ctx, po.description, [...p, 'description']);
    if (po.dataset !== undefined) datasetSpec(ctx, po.dataset, [...p, 'dataset']);
    if (po.train !== undefined) trainSettings(ctx, po.train, [...p, 'train']);
    if (po.scorer !== undefined) scorerSettings(ctx, po.scorer, [...p, 'scorer'], task);
    if (po.seeds !== undefined) seeds(ctx, po.seeds, [...p, 'seeds']);
    if (po.variants !== undefined) {
      if (!Array.isArray(po.variants) || po.variants.length === 0) fail(ctx, [...p, 'variants'], 'must be a non-empty list of variant names');
      po.variants.forEach((x, i) => {
        if (!names.has(x as string)) fail(ctx, [...p, 'variants', i], `is not a variant of this file; variants: ${[...names].join(', ')}`);
      });
    }
  }
  return o as unknown as ExperimentSpec;
}

/** Parse and validate the text of an experiment file; `file` is used in every error. */
export function parseExperiment(text: string, file: string): ExperimentSpec {
  if (text.length > MAX_EXPERIMENT_BYTES)
    throw new UserError(`${file}: the experiment file is ${formatBytes(text.length)}; experiment files are limited to ${formatBytes(MAX_EXPERIMENT_BYTES)}`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.pos ? lines.linePos(e.pos[0]).line : 1;
    throw new UserError(`${file}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const ctx: Ctx = { file, loc: new Locator(doc.contents, lines) };
  let value: unknown;
  try {
    // Bounded alias expansion: a "billion laughs" file would otherwise expand into gigabytes.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      const line = firstAliasLine(text, lines);
      throw new UserError(
        `${file}:${line}: too many aliases: the file expands anchors more than ${MAX_ALIAS_COUNT} times (a YAML alias bomb?); write the values out instead`,
      );
    }
    throw e;
  }
  return validate(ctx, value);
}

/** yaml's own guard: an anchor may be expanded at most this many times (its default, made explicit). */
const MAX_ALIAS_COUNT = 100;

/** Experiment files are a few KB; anything over this is not one (and would cost memory to parse). */
const MAX_EXPERIMENT_BYTES = 2 ** 20;

function firstAliasLine(text: string, lines: LineCounter): number {
  const m = /(^|[\s,[{:])\*[^\s,\]}]+/m.exec(text);
  return m ? lines.linePos(m.index + m[1].length).line : 1;
}

/**
 * Read and validate an experiment file. Its type and size are checked before any byte is read, and
 * at most MAX_EXPERIMENT_BYTES + 1 bytes are read even if the file grows meanwhile: a device such as
 * /dev/zero (size 0 to stat, endless to read) or a FIFO (a read that may never return) is refused.
 */
export async function readExperiment(file: string): Promise<ExperimentSpec> {
  const { open, stat } = await import('node:fs/promises');
  let text: string;
  const tooBig = (bytes: number): UserError =>
    new UserError(`${file}: the experiment file is ${formatBytes(bytes)}; experiment files are limited to ${formatBytes(MAX_EXPERIMENT_BYTES)}`);
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new UserError(`${file}: ${nonRegularKind(st)}, not an experiment file; pass a YAML file such as experiments/patch-size.yaml`);
    if (st.size > MAX_EXPERIMENT_BYTES) throw tooBig(st.size);
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_EXPERIMENT_BYTES + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_EXPERIMENT_BYTES) throw tooBig(bytesRead);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${file}: cannot read the experiment file (permission denied)`);
    throw new UserError(
      `${file}: cannot read the experiment file (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}); pass a path such as experiments/patch-size.yaml`,
    );
  }
  return parseExperiment(text, file);
}
