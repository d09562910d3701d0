/**
 * Results files of an experiment: `results/<experiment>.csv` (one row per variant, everything the
 * tables need) and `results/<experiment>.md` (our table beside the paper's), generated from the CSV
 * alone so that `pix2pix results table results/*.csv` can regenerate it anywhere.
 *
 * Honesty rule: every file states dataset, image size, epochs, engine and segmenter, and results on
 * synthetic data say "synthetic" in the title line and beside the paper's column header.
 */
import Papa from 'papaparse';
import { UserError } from '../util/errors.ts';
import { BLUR_CHECK_TARGET, PAPER_L1_CLASS_ACC_RATIO, PAPER_TABLE1_CLASS_ACC } from '../eval/blur-reference.ts';
import { TASK_METRICS, TASKS, type Task } from './schema.ts';
import { metricInfo, referenceRowsOf, SCORERS, type Scorer, taskScorer } from './scorers/index.ts';
import type { RunResult } from './stages.ts';
import { PIPELINE_VERSION } from './version.ts';
import { type Interval, meanInterval, minimalDetectableDifference, pairedDifference, verdict } from './stats.ts';

/** Column header of metric `m` (the scorer's name for it; the key for a metric no scorer registers). */
function metricName(m: string): string {
  return metricInfo(m)?.name ?? m;
}

/** What the first column of each task's table lists. */
const ROW_HEADER: Readonly<Record<string, string>> = {
  labels2photo: 'Variant',
  photo2labels: 'Loss',
  color: 'Loss',
};

/**
 * The fixed columns, in order; metric columns (`<m>_mean`, `<m>_std`, `<m>_paper`, `<m>_runs`,
 * `<m>_ci95_lo`, `<m>_ci95_hi`: the Student t interval of the mean over seeds) follow `settings`.
 */
const FIXED_COLUMNS = ['experiment', 'title', 'table', 'task', 'profile', 'variant', 'label', 'kind', 'status', 'settings'] as const;
const TRAILING_COLUMNS = [
  'repeats',
  'seeds',
  'wall_seconds',
  'train_seconds',
  'engine',
  'dataset_kind',
  'dataset',
  'image_size',
  'epochs',
  'segmenter',
] as const;

/** Written by every run since paper mode; optional when reading, so older CSVs still regenerate. */
const SETTINGS_COLUMNS = ['test_dropout', 'scorer_mode'] as const;

/**
 * Optional when reading (older CSVs lack them): `run_hashes` (the work-folder hash of each run, in
 * the order of `seeds`; equal hashes in two tables mean the same trained model) and `compare` (the
 * table's key comparison `a;b`, reported as b − a paired by seed; on every row) and `pipeline_version`
 * (the PIPELINE_VERSION of the code that wrote the file).
 */
const STATS_COLUMNS = ['run_hashes', 'compare', 'pipeline_version'] as const;

export type CsvRow = Record<string, string>;

export interface VariantSummary {
  variant: string;
  label: string;
  kind: 'generator' | 'ground-truth';
  settings: Record<string, unknown>;
  paper: Record<string, number>;
  /** Finished runs of this variant (one per seed). */
  results: RunResult[];
  /** Seeds the profile asked for. */
  expectedRuns: number;
}

export interface ExperimentSummary {
  experiment: string;
  title: string;
  table: string;
  task: string;
  profile: string;
  metrics: readonly string[];
  datasetKind: 'synthetic' | 'folder';
  dataset: string;
  variants: VariantSummary[];
  /** The key comparison (b − a, paired by seed). */
  compare?: { a: string; b: string };
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for a single run. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : '';
}

function unique(xs: readonly string[]): string {
  return [...new Set(xs.filter((x) => x !== ''))].join('; ');
}

/** One CSV row per variant: metrics aggregated over its finished repeats. */
export function summaryRows(s: ExperimentSummary): { fields: string[]; rows: CsvRow[] } {
  const metricCols = s.metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_paper`, `${m}_runs`, `${m}_ci95_lo`, `${m}_ci95_hi`]);
  const fields = [...FIXED_COLUMNS, ...metricCols, ...TRAILING_COLUMNS, ...SETTINGS_COLUMNS, ...STATS_COLUMNS];
  const rows = s.variants.map((v) => {
    const rs = v.results;
    const row: CsvRow = {
      experiment: s.experiment,
      title: s.title,
      table: s.table,
      task: s.task,
      profile: s.profile,
      variant: v.variant,
      label: v.label,
      kind: v.kind,
      status: rs.length === 0 ? 'missing' : rs.length < v.expectedRuns ? `partial ${rs.length}/${v.expectedRuns}` : 'done',
      settings: JSON.stringify(v.settings),
    };
    for (const m of s.metrics) {
      const vals = rs.map((r) => r.metrics[m]).filter((x): x is number => Number.isFinite(x));
      row[`${m}_mean`] = vals.length ? num(mean(vals)) : '';
      // One run has no spread: blank, not 0.
      row[`${m}_std`] = vals.length >= 2 ? num(std(vals)) : '';
      row[`${m}_paper`] = v.paper[m] !== undefined ? String(v.paper[m]) : '';
      // One cell per run, blank where a run has no finite value, so the cells stay aligned with `seeds`.
      row[`${m}_runs`] = vals.length ? rs.map((r) => num(r.metrics[m] ?? NaN)).join(';') : '';
      const ci = meanInterval(vals);
      row[`${m}_ci95_lo`] = num(ci.lo);
      row[`${m}_ci95_hi`] = num(ci.hi);
    }
    row.run_hashes = rs.map((r) => r.hash).join(';');
    row.compare = s.compare ? `${s.compare.a};${s.compare.b}` : '';
    row.pipeline_version = String(PIPELINE_VERSION);
    row.repeats = String(rs.length);
    row.seeds = rs.map((r) => r.seed).join(';');
    row.wall_seconds = rs.length ? num(rs.reduce((a, r) => a + r.wallSeconds, 0)) : '';
    row.train_seconds = rs.length ? num(rs.reduce((a, r) => a + r.trainSeconds, 0)) : '';
    row.engine = unique(rs.map((r) => r.engine));
    row.dataset_kind = s.datasetKind;
    row.dataset = s.dataset;
    row.image_size = unique(rs.map((r) => String(r.size)));
    row.epochs = unique(rs.map((r) => (r.kind === 'ground-truth' ? '' : `${r.epochs}+${r.epochsDecay}`)));
    row.segmenter = unique(rs.map((r) => r.segmenter));
    row.test_dropout = unique(rs.map((r) => (r.kind === 'ground-truth' || r.testDropout === undefined ? '' : r.testDropout ? `on (seed ${r.seed})` : 'off')));
    row.scorer_mode = unique(rs.map((r) => r.scorerMode ?? ''));
    return row;
  });
  return { fields, rows };
}

export function toCsv(fields: readonly string[], rows: readonly CsvRow[]): string {
  return `${Papa.unparse({ fields: [...fields], data: rows.map((r) => fields.map((f) => r[f] ?? '')) }, { newline: '\n' })}\n`;
}

/** Parse an experiment CSV, checking it has the columns the tables need. */
export function parseCsv(text: string, source: string): { fields: string[]; rows: CsvRow[] } {
  const parsed = Papa.parse<CsvRow>(text, { header: true, skipEmptyLines: true });
  if (parsed.errors.length) {
    const e = parsed.errors[0];
    throw new UserError(`${source}: not a valid CSV (row ${(e.row ?? 0) + 2}: ${e.message})`);
  }
  const fields = parsed.meta.fields ?? [];
  const missing = [...FIXED_COLUMNS, ...TRAILING_COLUMNS].filter((c) => !fields.includes(c));
  if (missing.length) throw new UserError(`${source}: missing column(s) ${missing.join(', ')}; is this a results CSV written by \`pix2pix eval run\`?`);
  if (metricsOf(fields).length === 0)
    throw new UserError(`${source}: no metric columns (<metric>_mean); is this a results CSV written by \`pix2pix eval run\`?`);
  if (parsed.data.length === 0) throw new UserError(`${source}: has no rows`);
  return { fields, rows: parsed.data };
}

/** Metric keys, in column order, from `<m>_mean` headers. */
export function metricsOf(fields: readonly string[]): string[] {
  return fields.filter((f) => f.endsWith('_mean')).map((f) => f.slice(0, -'_mean'.length));
}

function fmt(v: string, digits = 3): string {
  if (v === '') return '—';
  const x = Number(v);
  return Number.isFinite(x) ? x.toFixed(digits) : v;
}

/** The per-seed values of metric `m` in a row (`<m>_runs`, in the order of `seeds`). */
function seedValues(row: CsvRow, m: string): Map<number, number> {
  // Blank cells are runs without a value: they keep their place, so value i belongs to seed i.
  const vals = (row[`${m}_runs`] ?? '').split(';').map((x) => (x === '' ? NaN : Number(x)));
  const seeds = (row.seeds ?? '')
    .split(';')
    .filter((x) => x !== '')
    .map(Number);
  const out = new Map<number, number>();
  vals.forEach((v, i) => {
    if (Number.isFinite(v)) out.set(seeds[i] ?? i, v);
  });
  return out;
}

function interval(row: CsvRow, m: string): Interval {
  return meanInterval([...seedValues(row, m).values()]);
}

/** Mean over seeds and its 95% interval, computed from the per-seed values (older CSVs too). */
function cell(row: CsvRow, m: string): string {
  if (row[`${m}_mean`] === '') return row.status === 'missing' ? 'not run' : '—';
  const ci = interval(row, m);
  return ci.n >= 2 ? `${fmt(row[`${m}_mean`])} [${ci.lo.toFixed(3)}, ${ci.hi.toFixed(3)}]` : fmt(row[`${m}_mean`]);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

/** The key-comparison section: b − a per metric, paired by seed, and what its interval supports. */
function comparisonLines(rows: readonly CsvRow[], metrics: readonly string[]): string[] {
  const spec = rows.find((r) => r.compare)?.compare;
  if (!spec) return [];
  const [a, b] = spec.split(';');
  const ra = rows.find((r) => r.variant === a);
  const rb = rows.find((r) => r.variant === b);
  const name = (r: CsvRow | undefined, v: string | undefined): string => (r?.label || v) ?? '?';
  const lines = [`## Key comparison: ${name(rb, b)} − ${name(ra, a)} (paired by seed)`, ''];
  if (!ra || !rb || ra.status === 'missing' || rb.status === 'missing') {
    lines.push(`Not computed: ${[ra, rb].some((r) => !r) ? 'this profile does not run both variants' : 'a variant has no finished runs'}.`, '');
    return lines;
  }
  lines.push('| Metric | Seed pairs | Mean difference | 95% CI | What the interval supports | Detectable (80% power) |', '|---|---|---|---|---|---|');
  for (const m of metrics) {
    const d = pairedDifference(seedValues(ra, m), seedValues(rb, m));
    const v = verdict(d);
    const says =
      v === 'higher'
        ? `${name(rb, b)} higher than ${name(ra, a)}`
        : v === 'lower'
          ? `${name(rb, b)} lower than ${name(ra, a)}`
          : v === 'inconclusive'
            ? 'no difference shown (the interval includes 0)'
            : 'nothing (fewer than 2 seed pairs: no interval)';
    const ci = Number.isNaN(d.lo) ? '—' : `[${signed(d.lo)}, ${signed(d.hi)}]`;
    const mdd = minimalDetectableDifference(d);
    lines.push(`| ${metricName(m)} | ${d.n} | ${d.n ? signed(d.mean) : '—'} | ${ci} | ${says} | ${Number.isNaN(mdd) ? '—' : mdd.toFixed(3)} |`);
  }
  lines.push(
    '',
    'Detectable: the smallest true difference these seed pairs would show (interval excluding 0) four times in five, given the spread of their differences: (t(0.975, n − 1) + t(0.8, n − 1)) · sd / √n.',
  );
  lines.push('');
  return lines;
}

/**
 * Rows of `mine` that ran the very same trainings (equal run hashes) as rows of other results CSVs:
 * variant → where else it appears, e.g. "Table 1 (`losses`, L1+cGAN)".
 */
export function sharedRows(mine: readonly CsvRow[], others: readonly (readonly CsvRow[])[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of mine) {
    const hashes = new Set((r.run_hashes ?? '').split(';').filter((h) => h !== ''));
    if (hashes.size === 0) continue;
    for (const rows of others) {
      for (const o of rows) {
        if (o.experiment === r.experiment) continue;
        if (!(o.run_hashes ?? '').split(';').some((h) => hashes.has(h))) continue;
        const where = `${o.table} (\`${o.experiment}\`, ${o.label || o.variant})`;
        out.set(r.variant, [...(out.get(r.variant) ?? []), where]);
      }
    }
  }
  return out;
}

/** The scorers of a table: the task's own, and those that score its task and whose metrics are all columns. */
function tableScorers(task: string, metrics: readonly string[]): Scorer[] {
  if (!TASKS.includes(task as Task)) return SCORERS.filter((s) => s.metrics.every((m) => metrics.includes(m.key)));
  const own = taskScorer(task as Task);
  return [own, ...SCORERS.filter((s) => s !== own && s.tasks.includes(task as Task) && s.metrics.every((m) => metrics.includes(m.key)))];
}

/** Whether a scorer of the table counts a confusion matrix. */
function countsConfusion(task: string, metrics: readonly string[]): boolean {
  return tableScorers(task, metrics).some((s) => s.confusionMode !== undefined);
}

/** Two CSV cells hold the same number (or are both empty). */
function sameValue(a: string | undefined, b: string | undefined): boolean {
  return (a ?? '') === (b ?? '') || (a !== '' && b !== '' && Number(a) === Number(b));
}

/** The metric columns worth showing: a metric that restricts another (MetricInfo.restricts) is dropped where every row equals it. */
function shownMetrics(rows: readonly CsvRow[], metrics: readonly string[]): string[] {
  return metrics.filter((m) => {
    const base = metricInfo(m)?.restricts;
    if (!base || !metrics.includes(base)) return true;
    const runs = (r: CsvRow, k: string) => (r[`${k}_runs`] ?? '').split(';');
    return !rows.every(
      (r) =>
        sameValue(r[`${m}_mean`], r[`${base}_mean`]) &&
        runs(r, m).length === runs(r, base).length &&
        runs(r, m).every((v, i) => sameValue(v, runs(r, base)[i])),
    );
  });
}

/** The judge's blur check is read in per-class accuracy: the paper's L1 ratio and the target are in it. */
const BLUR_RATIO_METRIC = 'classAcc';

/**
 * The blur-check section of a table whose scorer has a blurred reference row: the blurred row's
 * per-class accuracy over the ground truth's, beside the target and the paper's L1-only ratio.
 */
function blurCheckLines(rows: readonly CsvRow[], task: string, metrics: readonly string[]): string[] {
  const refs = referenceRowsOf(tableScorers(task, metrics));
  const blurredRef = refs.find((r) => r.blurred);
  if (!blurredRef || !metrics.includes(BLUR_RATIO_METRIC)) return [];
  const blurredNames = new Set(refs.filter((r) => r.blurred).map((r) => r.name));
  const truth = rows.find((r) => r.kind === 'ground-truth' && !blurredNames.has(r.variant));
  const blurred = rows.find((r) => r.variant === blurredRef.name);
  const m = BLUR_RATIO_METRIC;
  const paper = `the paper's L1-only row is ${PAPER_TABLE1_CLASS_ACC.l1} / ${PAPER_TABLE1_CLASS_ACC.groundTruth} = ${PAPER_L1_CLASS_ACC_RATIO.toFixed(2)}× its ground truth (Table 1, Cityscapes)`;
  const lines = [`## The judge's blur check`, ''];
  const absent = [!truth && '`Ground truth`', !blurred && `\`${blurredRef.label}\``].filter(Boolean);
  if (absent.length) {
    lines.push(
      `Not computed: this results file has no ${absent.join(' and no ')} row (written before every FCN table had one; \`pix2pix eval run\` adds it). The target is ${metricName(m)} blurred ≤ ${BLUR_CHECK_TARGET} × ground truth; ${paper}.`,
      '',
    );
    return lines;
  }
  const a = Number(truth![`${m}_mean`] || NaN);
  const b = Number(blurred![`${m}_mean`] || NaN);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === 0) {
    lines.push(`Not computed: ${!Number.isFinite(b) ? blurred!.label : truth!.label} has no ${metricName(m)} (not run, or a ground truth of 0).`, '');
    return lines;
  }
  const ratio = b / a;
  lines.push(
    `| ${metricName(m)} | ${escapeMd(truth!.label || truth!.variant)} | ${escapeMd(blurred!.label || blurred!.variant)} | blurred ÷ ground truth | target | paper's L1 ÷ ground truth |`,
    '|---|---|---|---|---|---|',
    `| ours | ${a.toFixed(3)} | ${b.toFixed(3)} | ${ratio.toFixed(3)} | ≤ ${BLUR_CHECK_TARGET} | ${PAPER_L1_CLASS_ACC_RATIO.toFixed(2)} |`,
    '',
    ratio <= BLUR_CHECK_TARGET
      ? `Blurred photos keep ${ratio.toFixed(2)}× of the ground truth's per-class accuracy: the target is met, so this judge penalises blur; ${paper}.`
      : `Blurred photos keep ${ratio.toFixed(2)}× of the ground truth's per-class accuracy: the target (≤ ${BLUR_CHECK_TARGET}) is not met, so this judge reads little of what blur removes and cannot show much loss from blurry outputs; ${paper}.`,
    '',
  );
  return lines;
}

function describeMode(mode: string): string {
  if (mode === 'reference') return "reference (the paper's evaluate.py: fast_hist on the FCN's raw classes, with its quirks)";
  if (mode === 'strict') return 'strict (classes mapped to trainIds, out-of-range pixels ignored)';
  return mode || 'not recorded (results written before paper mode)';
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/**
 * The markdown report of one experiment from its CSV rows: title line, what was run (dataset, image
 * size, epochs, engine, segmenter), our table beside the paper's, run details, and the figures.
 */
export function markdownFromRows(rows: readonly CsvRow[], fields: readonly string[], shared: ReadonlyMap<string, string[]> = new Map()): string {
  const first = rows[0];
  const allMetrics = metricsOf(fields);
  const metrics = shownMetrics(rows, allMetrics);
  const synthetic = rows.some((r) => r.dataset_kind === 'synthetic');
  const all = (col: string): string => unique(rows.map((r) => r[col] ?? ''));
  const lines: string[] = [];
  lines.push(`# ${first.table}: ${first.title}${synthetic ? ' — synthetic data, not Cityscapes' : ''}`);
  lines.push('');
  lines.push(
    `Reproduction of pix2pix (Isola et al., CVPR 2017) ${first.table} with pix2pix-ts, experiment \`${first.experiment}\`, profile \`${first.profile}\`.`,
  );
  lines.push('');
  lines.push(`Produced by: \`npx pix2pix eval run experiments/${first.experiment}.yaml --profile ${first.profile}\``);
  if (synthetic) {
    lines.push('');
    lines.push(
      `**These numbers come from the embedded synthetic street scenes, not from Cityscapes.** They show the pipeline and the relative behaviour of the variants; they are not comparable in absolute value to the paper's column.`,
    );
  }
  lines.push('');
  lines.push(`- Dataset: ${all('dataset')}${synthetic ? ' (synthetic)' : ''}`);
  lines.push(`- Image size: ${all('image_size') || '—'}²`);
  lines.push(`- Epochs (constant + linear decay): ${all('epochs') || '—'}`);
  lines.push(`- Engine: ${all('engine') || '—'}`);
  lines.push(`- Scorer: ${all('segmenter') || '—'}`);
  if (countsConfusion(first.task ?? '', allMetrics)) lines.push(`- Confusion mode: ${describeMode(all('scorer_mode'))}`);
  lines.push(
    `- Test-time dropout: ${all('test_dropout') || (fields.includes('test_dropout') ? 'n/a (no generator)' : 'not recorded (results written before paper mode)')}`,
  );
  const ns = new Set(rows.map((r) => r.repeats));
  const n = ns.size === 1 ? `n = ${first.repeats} per variant` : `n per variant: ${rows.map((r) => `${r.label || r.variant} ${r.repeats}`).join(', ')}`;
  lines.push(`- Seeds: ${n} (seeds ${all('seeds') || '—'}); a seed sets the initial weights, the data order and dropout.`);
  lines.push(
    '- Cells: the mean over seeds and, with two or more seeds, its 95% confidence interval [low, high] (Student t, n − 1 degrees of freedom). A difference between rows is only supported where an interval of the paired difference excludes 0 (see the key comparison); overlapping rows are not ranked.',
  );
  // Scores added to the task's own (scorer.add) have no paper column: the paper did not report them.
  // The paper reports no means over the classes present: their paper columns only where a file gives values.
  const paper = new Set(
    (TASKS.includes(first.task as Task) ? TASK_METRICS[first.task as Task] : metrics).filter(
      (m) => !metricInfo(m)?.restricts || rows.some((r) => r[`${m}_paper`]),
    ),
  );
  const dropped = allMetrics.filter((m) => !metrics.includes(m));
  lines.push(
    `- Columns: each metric is ours${synthetic ? ' (synthetic data)' : ''}; \`paper\` beside it is the paper's value${synthetic ? ' (Cityscapes; not comparable in absolute value)' : ''}.${dropped.length ? ` ${dropped.map(metricName).join(' and ')}: not shown, equal in every row to ${dropped.map((m) => metricName(metricInfo(m)!.restricts!)).join(' and ')}.` : ''}`,
  );
  lines.push('');
  const header = [ROW_HEADER[first.task] ?? 'Variant', ...metrics.flatMap((m) => [metricName(m), ...(paper.has(m) ? ['paper'] : [])])];
  lines.push(`| ${header.map(escapeMd).join(' | ')} |`);
  lines.push(`|${header.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const mark = shared.has(r.variant) ? ' †' : '';
    const cells = [
      escapeMd(r.label || r.variant) + mark,
      ...metrics.flatMap((m) => [cell(r, m), ...(paper.has(m) ? [r[`${m}_paper`] ? fmt(r[`${m}_paper`], 2) : '—'] : [])]),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const [variant, where] of shared) {
    const r = rows.find((x) => x.variant === variant);
    lines.push(
      `† ${escapeMd(r?.label || variant)}: the same trained runs (same settings and seeds) also appear in ${where.join('; ')}; not independent evidence.`,
    );
    lines.push('');
  }
  lines.push(...blurCheckLines(rows, first.task ?? '', allMetrics));
  lines.push(...comparisonLines(rows, metrics));
  lines.push('## Runs');
  lines.push('');
  lines.push('| Variant | Settings | Status | Repeats | Wall time (s) | Training (s) | Engine | Image size | Epochs |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(
      `| ${escapeMd(r.variant)} | \`${escapeMd(r.settings)}\` | ${r.status} | ${r.repeats} | ${fmt(r.wall_seconds, 0)} | ${fmt(r.train_seconds, 0)} | ${r.engine || '—'} | ${r.image_size || '—'} | ${r.epochs || '—'} |`,
    );
  }
  lines.push('');
  lines.push('## Figures');
  lines.push('');
  lines.push(`Sample outputs on test images (first row: inputs, second: ground truth, then one row per variant): \`${first.experiment}/samples.png\``);
  lines.push('');
  lines.push(`![samples](${first.experiment}/samples.png)`);
  lines.push('');
  lines.push(`Training curves (one line per variant): \`${first.experiment}/losses.png\``);
  lines.push('');
  lines.push(`![losses](${first.experiment}/losses.png)`);
  lines.push('');
  return lines.join('\n');
}

export function markdownFromCsv(text: string, source: string, shared?: ReadonlyMap<string, string[]>): string {
  const { fields, rows } = parseCsv(text, source);
  return markdownFromRows(rows, fields, shared);
}
