/**
 * The last step of `eval run`, and `pix2pix results collect`: merge the finished runs of an
 * experiment into results/<experiment>.csv and .md and its figure folder, and say what is not done.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { type CsvRow, type ExperimentSummary, markdownFromRows, parseCsv, sharedRows, summaryRows, toCsv, type VariantSummary } from './report.ts';
import { datasetDir, type ResolvedExperiment, type ResolvedRun, resolveExperiment, WORK_DIR } from './resolve.ts';
import { writeLossPlot, writeSamplesGrid } from './run-figures.ts';
import { readExperiment } from './schema.ts';
import { readRunResult, RESULT_FILE, type RunResult, workPath } from './stages.ts';
import type { ExperimentStatus } from './status.ts';

export interface ExperimentOutputs {
  csv: string;
  markdown: string;
  samples: string | null;
  losses: string | null;
  summary: ExperimentSummary;
}

export const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * What eval run and results collect write into a results folder: _work/, and per experiment
 * NAME.csv + NAME.md and the figure folder NAME/ (recognised by its NAME.csv beside it).
 */
export function isResultsEntry(name: string, siblings: ReadonlySet<string>): boolean {
  if (name === WORK_DIR) return true;
  const m = /^(.*)\.(csv|md)$/.exec(name);
  if (m) return siblings.has(`${m[1]}.csv`) && siblings.has(`${m[1]}.md`);
  return siblings.has(`${name}.csv`);
}

async function readFinished(out: string, run: ResolvedRun): Promise<RunResult | null> {
  const dir = workPath(out, run);
  if (!(await exists(path.join(dir, RESULT_FILE)))) return null;
  const r = await readRunResult(dir);
  return r.hash === run.hash ? r : null;
}

/** Merge the finished runs of one resolved experiment into its results files. */
export async function collectExperiment(exp: ResolvedExperiment, out: string, data: string, log: (l: string) => void = defaultLog): Promise<ExperimentOutputs> {
  const variants: VariantSummary[] = [];
  const firstRun = new Map<string, ResolvedRun>();
  const finished = new Map<string, ResolvedRun[]>();
  for (const v of exp.variants) {
    const runs = exp.runs.filter((r) => r.variant === v.name);
    const results = (await Promise.all(runs.map((r) => readFinished(out, r)))).filter((r): r is RunResult => r !== null);
    const done = runs.filter((r) => results.some((x) => x.seed === r.seed));
    finished.set(v.name, done);
    if (done[0]) firstRun.set(v.name, done[0]);
    variants.push({
      variant: v.name,
      label: v.label,
      kind: v.kind,
      settings: v.blurSigma === undefined ? v.overrides : { blurSigma: v.blurSigma },
      paper: v.paper,
      results,
      expectedRuns: runs.length,
    });
  }
  const summary: ExperimentSummary = {
    experiment: exp.name,
    title: exp.title,
    table: exp.table,
    task: exp.task,
    profile: exp.profile,
    metrics: exp.metrics,
    datasetKind: exp.dataset.kind,
    compare: exp.compare,
    dataset: exp.dataset.description,
    variants,
  };
  const { fields, rows } = summaryRows(summary);
  const csv = path.join(out, `${exp.name}.csv`);
  const md = path.join(out, `${exp.name}.md`);
  await writeFileAtomic(csv, toCsv(fields, rows));
  await writeFileAtomic(md, markdownFromRows(rows, fields, sharedRows(rows, await siblingResults(out, csv))));
  const figDir = path.join(out, exp.name);
  const samples = await writeSamplesGrid(exp, out, data, firstRun, path.join(figDir, 'samples.png'));
  const losses = await writeLossPlot(exp, out, finished, path.join(figDir, 'losses.png'));
  const { experimentIndexHtml } = await import('./index-page.ts');
  await writeFileAtomic(path.join(figDir, 'index.html'), experimentIndexHtml(await fsp.readFile(md, 'utf8'), exp.name, `${exp.table}: ${exp.title}`));
  const missing = variants.filter((v) => v.results.length < v.expectedRuns).map((v) => v.variant);
  log(`${exp.name}: wrote ${csv} and ${md}${missing.length ? ` (not finished: ${missing.join(', ')})` : ''}`);
  return { csv, markdown: md, samples, losses, summary };
}

export interface CollectOptions {
  files: string[];
  profile: string;
  out: string;
  log?: (line: string) => void;
  /** Name each unfinished pair's task in a `taskCount`-task array. */
  taskCount?: number;
}

export interface CollectOutcome extends ExperimentOutputs {
  /** Every (variant, seed) pair's stages, from the files. */
  status: ExperimentStatus;
  /** One line per pair that is not done (missing, running, stale or failed); empty when complete. */
  incomplete: string[];
}

/** `pix2pix results collect`: merge per-variant results (e.g. from `--only` runs or array tasks) into the tables, and say what is not done. */
export async function collectResults(o: CollectOptions): Promise<CollectOutcome[]> {
  const log = o.log ?? defaultLog;
  const out = path.resolve(o.out);
  const { experimentStatus, incompleteLines } = await import('./status.ts');
  const outcomes: CollectOutcome[] = [];
  for (const file of o.files) {
    const exp = resolveExperiment(await readExperiment(file), file, o.profile);
    const data = datasetDir(out, exp.dataset);
    const status = await experimentStatus(exp, out, { taskCount: o.taskCount });
    const incomplete = incompleteLines(status);
    const outputs = await collectExperiment(exp, out, data, log);
    if (incomplete.length) log(`${exp.name}: ${incomplete.length} of ${status.runs.length} (variant, seed) pair(s) not done:\n  ${incomplete.join('\n  ')}`);
    outcomes.push({ ...outputs, status, incomplete });
  }
  return outcomes;
}

/** The rows of the other results CSVs in `out` (unreadable or foreign CSVs are skipped). */
async function siblingResults(out: string, except: string): Promise<CsvRow[][]> {
  const names = (await fsp.readdir(out)).filter((f) => f.endsWith('.csv') && path.join(out, f) !== except);
  const all: CsvRow[][] = [];
  for (const f of names) {
    try {
      all.push(parseCsv(await fsp.readFile(path.join(out, f), 'utf8'), f).rows);
    } catch {
      // Not a results CSV: it shares nothing.
    }
  }
  return all;
}
