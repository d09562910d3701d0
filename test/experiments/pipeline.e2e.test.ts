/**
 * The experiment pipeline end to end on a tiny profile (32² synthetic, ngf 4, cpu engine), in real
 * child processes: a run SIGKILLed during training resumes from its last epoch checkpoint, finished
 * stages are skipped, `--only` runs one variant and `results collect` merges the rest; the FCN-score's
 * Ground truth and Ground truth, blurred rows run through the CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureStdout, runCli } from '../helpers/capture.ts';
import yargs from 'yargs';
import { parseCsv } from '../../src/experiments/report.ts';
import { collectResults } from '../../src/experiments/collect.ts';
import { runExperiment } from '../../src/experiments/run.ts';
import { readMarker } from '../../src/experiments/stages.ts';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'run-experiment.ts');
const EPOCHS = 5;

const EXPERIMENT = `experiment: tiny
title: Tiny pipeline check
table: Table 1
task: labels2photo
dataset: { synthetic: { count: 10, size: 32, seed: 2, splits: { train: 0.6, val: 0.2, test: 0.2 } } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: ${EPOCHS}, nEpochsDecay: 0, engine: cpu, valLimit: 1, sampleRows: 1 }
scorer: { segmenter: train, segmenterTrain: { ngf: 4, epochs: 1, engine: cpu } }
variants:
  - { name: a, train: { loss: L1+cGAN }, paper: { pixelAcc: 0.66, classAcc: 0.23, classIoU: 0.17 } }
  - { name: b, train: { loss: L1 }, paper: { pixelAcc: 0.42, classAcc: 0.15, classIoU: 0.11 } }
profiles:
  ci: {}
`;

let dir: string;
let file: string;
let out: string;

function start(args: string[]): { child: ChildProcess; output: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file, out, 'ci', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, done };
}

function workDirOf(variant: string): string | null {
  const base = path.join(out, '_work', 'tiny');
  if (!existsSync(base)) return null;
  const d = readdirSync(base).find((n) => n.startsWith(`${variant}-`));
  return d ? path.join(base, d) : null;
}

async function lossRows(variant: string): Promise<Record<string, string>[]> {
  const f = path.join(workDirOf(variant)!, 'train', 'losses.csv');
  return parseLosses(await readFile(f, 'utf8'));
}

function parseLosses(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const keys = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-exp-'));
  file = path.join(dir, 'tiny.yaml');
  out = path.join(dir, 'results');
  await writeFile(file, EXPERIMENT);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval run pipeline (tiny profile, real worker processes)', () => {
  let killedRows: Record<string, string>[] = [];

  it('a run SIGKILLed during training refuses to restart silently and resumes with --resume', async () => {
    const run = start(['--only', 'a']);
    // Kill once the first epoch checkpoint of variant a exists and training is not finished.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const w = workDirOf('a');
      const losses = w ? path.join(w, 'train', 'losses.csv') : null;
      if (losses && existsSync(losses)) {
        const rows = parseLosses(await readFile(losses, 'utf8'));
        if (rows.length >= 1 && rows.length < EPOCHS) break;
        if (rows.length >= EPOCHS) throw new Error('training finished before it could be killed; raise EPOCHS');
      }
      if (Date.now() > deadline) throw new Error(`no checkpoint appeared:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.done;
    killedRows = await lossRows('a');
    expect(killedRows.length).toBeGreaterThanOrEqual(1);
    expect(killedRows.length).toBeLessThan(EPOCHS);
    const marker = await readMarker(workDirOf('a')!);
    expect(marker?.stages.train).toBeUndefined();

    const refused = start(['--only', 'a']);
    expect(await refused.done, refused.output()).toBe(2);
    expect(refused.output()).toMatch(/holds an interrupted training run; pass --resume to continue it/);

    const resumed = start(['--only', 'a', '--resume']);
    const code = await resumed.done;
    expect(code, resumed.output()).toBe(0);
    expect(resumed.output()).toContain(`[a] resuming from ${path.join(workDirOf('a')!, 'train', 'checkpoint.bin')} after epoch ${killedRows.length}`);
    expect(resumed.output()).toMatch(/segmenter: already trained \(skipped\)|running 1 job\(s\), 1 at once/);
    const rows = await lossRows('a');
    expect(rows.map((r) => r.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => String(i + 1)));
    // The epochs finished before the kill are kept as they were, not retrained.
    expect(rows.slice(0, killedRows.length)).toEqual(killedRows);
    const marker2 = await readMarker(workDirOf('a')!);
    expect(Object.keys(marker2!.stages)).toEqual(['train', 'export', 'translate', 'score']);
  }, 180_000);

  it('--only leaves the other variants missing in the tables; a second --only run and collect merge them', async () => {
    const partial = parseCsv(await readFile(path.join(out, 'tiny.csv'), 'utf8'), 'tiny.csv').rows;
    expect(partial.map((r) => [r.variant, r.status])).toEqual([
      ['a', 'done'],
      ['b', 'missing'],
      ['ground-truth', 'missing'],
      ['ground-truth-blurred', 'missing'],
    ]);
    const b = start(['--only', 'b']);
    expect(await b.done, b.output()).toBe(0);
    expect(b.output()).toContain('[b] train: start');
    expect(b.output()).not.toContain('[a] train');

    await rm(path.join(out, 'tiny.csv'));
    await collectResults({ files: [file], profile: 'ci', out, log: () => {} });
    const merged = parseCsv(await readFile(path.join(out, 'tiny.csv'), 'utf8'), 'tiny.csv').rows;
    expect(merged.map((r) => [r.variant, r.status, r.dataset_kind, r.image_size, r.epochs, r.engine])).toEqual([
      ['a', 'done', 'synthetic', '32', `${EPOCHS}+0`, 'cpu'],
      ['b', 'done', 'synthetic', '32', `${EPOCHS}+0`, 'cpu'],
      ['ground-truth', 'missing', 'synthetic', '', '', ''],
      ['ground-truth-blurred', 'missing', 'synthetic', '', '', ''],
    ]);
    for (const r of merged.slice(0, 2)) {
      for (const m of ['pixelAcc', 'classAcc', 'classIoU']) {
        const v = Number(r[`${m}_mean`]);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
    expect(merged[0].pixelAcc_paper).toBe('0.66');
    const md = await readFile(path.join(out, 'tiny.md'), 'utf8');
    expect(md.split('\n')[0]).toBe('# Table 1: Tiny pipeline check — synthetic data, not Cityscapes');
    expect(existsSync(path.join(out, 'tiny', 'samples.png'))).toBe(true);
    expect(existsSync(path.join(out, 'tiny', 'losses.png'))).toBe(true);
    expect(await readFile(path.join(out, 'tiny', 'losses.svg'), 'utf8')).toMatch(/<polyline /);
    const page = await readFile(path.join(out, 'tiny', 'index.html'), 'utf8');
    expect(page).toContain('<table>');
    expect(page).toContain('src="losses.svg"');
  }, 180_000);

  it('eval run (the CLI) adds the Ground truth and Ground truth, blurred rows and the blur check to the table', async () => {
    const r = await runCli(['eval', 'run', file, '--profile', 'ci', '--out', out, '--jobs', '1']);
    expect(r.code ?? 0, r.stderr).toBe(0);
    expect(r.stderr).toContain('tiny (Table 1), profile ci: 2 variant(s) × 1 seed(s) + 2 ground-truth row(s) = 4 run(s)');
    // Only the reference rows were left: translate (real photos; blurred) and score each, nothing trained.
    expect(r.stderr).toContain('[ground-truth-blurred] translate: start');
    expect(r.stderr).toContain('[ground-truth-blurred] score: start');
    expect(r.stderr).not.toContain('train: start');
    const rows = parseCsv(await readFile(path.join(out, 'tiny.csv'), 'utf8'), 'tiny.csv').rows;
    const [truth, blurred] = rows.slice(-2);
    // The ci profile's 32² photos: σ 2.5 px at 128² scales to 0.625 px.
    expect([truth, blurred].map((x) => [x.label, x.kind, x.status, x.settings, x.repeats])).toEqual([
      ['Ground truth', 'ground-truth', 'done', '{}', '1'],
      ['Ground truth, blurred (σ 0.625 px)', 'ground-truth', 'done', '{"blurSigma":0.625}', '1'],
    ]);
    const blurredImages = path.join(workDirOf('ground-truth-blurred')!, 'images');
    const realImages = path.join(workDirOf('ground-truth')!, 'images');
    const name = readdirSync(realImages)[0];
    expect(await readFile(path.join(blurredImages, name))).not.toEqual(await readFile(path.join(realImages, name)));
    const md = await readFile(path.join(out, 'tiny.md'), 'utf8');
    expect(md).toContain(`| Ground truth | ${Number(truth.pixelAcc_mean).toFixed(3)} | — |`);
    expect(md).toContain(`| Ground truth, blurred (σ 0.625 px) | ${Number(blurred.pixelAcc_mean).toFixed(3)} | — |`);
    const ratio = Number(blurred.classAcc_mean) / Number(truth.classAcc_mean);
    expect(md).toContain(
      `| ours | ${Number(truth.classAcc_mean).toFixed(3)} | ${Number(blurred.classAcc_mean).toFixed(3)} | ${ratio.toFixed(3)} | ≤ 0.75 | 0.58 |`,
    );
  }, 120_000);

  it('a rerun skips every finished stage and starts no worker', async () => {
    const before = await readMarker(workDirOf('b')!);
    const lines: string[] = [];
    await runExperiment({ file, profile: 'ci', out, jobs: 1, log: (l) => lines.push(l) });
    expect(lines).toContain('[a] train, export, translate: already done (skipped)');
    expect(lines).toContain('[b] score: already done (skipped)');
    expect(lines.some((l) => l.startsWith('running '))).toBe(false);
    expect(await readMarker(workDirOf('b')!)).toEqual(before);
  }, 60_000);

  it('eval run --json prints progress events, then the results rows as one JSON object', async () => {
    const { evalRunCommand } = await import('../../src/cli/commands/experiments.ts');
    const stdout = await captureStdout(() =>
      yargs(['run', file, '--profile', 'ci', '--out', out, '--jobs', '1', '--json']).command(evalRunCommand).strict().parseAsync(),
    );
    const lines = stdout.trim().split('\n');
    // Every stage is done already (2 runs × 4 stages, the segmenter, 2 reference rows × 2 stages): one progress report, then the results.
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ event: 'progress', done: 13, total: 13, secondsLeft: 0 })]);
    const r = JSON.parse(lines.at(-1)!);
    expect(r).toMatchObject({ experiment: 'tiny', profile: 'ci', csv: path.join(out, 'tiny.csv') });
    const csvRows = parseCsv(await readFile(path.join(out, 'tiny.csv'), 'utf8'), 'tiny.csv').rows;
    expect(r.rows.map((x: Record<string, unknown>) => [x.variant, x.status, x.epochs])).toEqual(csvRows.map((x) => [x.variant, x.status, x.epochs]));
  }, 60_000);
});
