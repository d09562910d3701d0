/**
 * A 3-task SLURM job array simulated with local processes on one results folder: the job scripts of
 * examples/slurm/ run under bash with the variables SLURM sets (ids 1-3, as `--array=1-3` gives
 * them) and the real CLI. Every stage runs exactly once, the shared segmenter is trained once,
 * `--status` reads the state from the files, and the collect job's CSV equals a single-process
 * run's CSV (timing columns aside).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/experiments/report.ts';
import type { ExperimentStatus } from '../../src/experiments/status.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'pix2pix.mjs');
const SLURM = path.join(ROOT, 'examples', 'slurm');

// 2 variants × 2 seeds = 4 (variant, seed) pairs, plus the FCN-score's two reference rows (one run
// each, no training), over 3 tasks: two pairs each.
const EXPERIMENT = `experiment: arr
title: Array check
table: Table 1
task: labels2photo
seeds: [1, 2]
dataset: { synthetic: { count: 8, size: 32, seed: 3, splits: { train: 0.5, val: 0.25, test: 0.25 } } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 1, nEpochsDecay: 0, engine: cpu, valLimit: 1, sampleRows: 1 }
scorer: { segmenter: train, segmenterTrain: { ngf: 4, epochs: 1, engine: cpu } }
variants:
  - { name: a, train: { loss: L1+cGAN } }
  - { name: b, train: { loss: L1 } }
profiles:
  ci: {}
`;
const PAIRS = ['a s1', 'a s2', 'b s1', 'b s2'];
/** Log labels of the reference rows (translate and score only). */
const REFERENCES = ['ground-truth', 'ground-truth-blurred'];
const TIMING = ['wall_seconds', 'train_seconds'];

let dir: string;
let file: string;

/** This process's environment without any job-array variables (CI may itself run inside one). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_ARRAY_') || k === 'JOB_COMPLETION_INDEX') delete env[k];
  return env;
}

type Done = { code: number | null; stdout: string; stderr: string };

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Done> {
  return run(process.execPath, [BIN, ...args], env);
}

/** A job script of examples/slurm/, as sbatch would start it (in the checkout, with our settings). */
function sbatch(script: string, out: string, env: NodeJS.ProcessEnv = {}): Promise<Done> {
  return run('bash', [path.join(SLURM, script)], { EXPERIMENT: file, PROFILE: 'ci', OUT: out, PIX2PIX: `${process.execPath} ${BIN}`, ...env });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Done> {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

function slurmEnv(id: number): NodeJS.ProcessEnv {
  return {
    SLURM_ARRAY_JOB_ID: '77',
    SLURM_ARRAY_TASK_ID: String(id),
    SLURM_ARRAY_TASK_MIN: '1',
    SLURM_ARRAY_TASK_MAX: '3',
    SLURM_ARRAY_TASK_COUNT: '3',
    SLURM_ARRAY_TASK_STEP: '1',
  };
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

function withoutTiming(csv: string): Record<string, string>[] {
  return parseCsv(csv, 'csv').rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k))));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-array-'));
  file = path.join(dir, 'arr.yaml');
  await writeFile(file, EXPERIMENT);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('eval run as a 3-task job array on one results folder', () => {
  it('before any task ran: --status says every stage is missing, collect names every pair and exits 1', async () => {
    const out = path.join(dir, 'array');
    const st = await cli(['eval', 'run', file, '--profile', 'ci', '--out', out, '--status', '--json', '--task-count', '3']);
    expect(st.code, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout) as ExperimentStatus;
    expect(s.runs.map((r) => [`${r.variant} s${r.seed}`, r.task, r.state])).toEqual([
      ['a s1', 0, 'missing'],
      ['a s2', 1, 'missing'],
      ['b s1', 2, 'missing'],
      ['b s2', 0, 'missing'],
      ['ground-truth s1', 1, 'missing'],
      ['ground-truth-blurred s1', 2, 'missing'],
    ]);
    expect(s.counts).toEqual({ done: 0, running: 0, stale: 0, failed: 0, missing: 20 });
    const c = await cli(['results', 'collect', file, '--profile', 'ci', '--out', out, '--task-count', '3']);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('arr: 6 of 6 (variant, seed) pair(s) not done:\n  a s1 (task 0): missing at train\n  a s2 (task 1): missing at train');
  }, 60_000);

  it('three concurrent tasks run every stage once; collect equals a single-process run', async () => {
    const out = path.join(dir, 'array');
    const ref = path.join(dir, 'single');
    const [single, ...tasks] = await Promise.all([
      cli(['eval', 'run', file, '--out', ref, '--profile', 'ci', '--jobs', '1']),
      ...[1, 2, 3].map((id) => sbatch('eval-array.sbatch', out, slurmEnv(id))),
    ]);
    expect(single.code, single.stderr).toBe(0);
    for (const t of tasks) expect(t.code, t.stderr).toBe(0);
    expect(tasks[0].stderr).toContain('task 0/3 (SLURM_ARRAY_TASK_ID=1 of 1-3): 2 of 6 (variant, seed) pair(s): a s1, b s2');
    expect(tasks[2].stderr).toContain('task 2/3 (SLURM_ARRAY_TASK_ID=3 of 1-3): 2 of 6 (variant, seed) pair(s): b s1, ground-truth-blurred s1');
    const all = tasks.map((t) => t.stderr).join('\n');
    for (const p of PAIRS) for (const s of ['train', 'export', 'translate', 'score']) expect(count(all, `[${p}] ${s}: start`), `${p} ${s}`).toBe(1);
    for (const p of REFERENCES) for (const s of ['translate', 'score']) expect(count(all, `[${p}] ${s}: start`), `${p} ${s}`).toBe(1);
    expect(count(all, 'segmenter: start')).toBe(1);

    // The collect job: --status, then results collect.
    const c = await sbatch('collect.sbatch', out, { TASKS: '3' });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout.split('\n')[0]).toMatch(/: 6 of 6 \(variant, seed\) pair\(s\) done; 20 stage\(s\): 20 done, 0 running, 0 stale, 0 failed, 0 missing$/);
    expect(c.stdout).toMatch(/\(shared\)\s+segmenter\s+done/);
    expect(c.stdout).toContain(path.join(out, 'arr.csv'));
    const arrayCsv = await readFile(path.join(out, 'arr.csv'), 'utf8');
    const singleCsv = await readFile(path.join(ref, 'arr.csv'), 'utf8');
    const rows = withoutTiming(arrayCsv);
    expect(rows.map((r) => [r.variant, r.status, r.repeats, r.seeds])).toEqual([
      ['a', 'done', '2', '1;2'],
      ['b', 'done', '2', '1;2'],
      ['ground-truth', 'done', '1', '1'],
      ['ground-truth-blurred', 'done', '1', '1'],
    ]);
    expect(rows).toEqual(withoutTiming(singleCsv));
  }, 300_000);

  it('two plain eval run processes on one folder share the work and never run a stage twice', async () => {
    const out = path.join(dir, 'two');
    const both = await Promise.all([0, 1].map(() => cli(['eval', 'run', file, '--out', out, '--profile', 'ci', '--jobs', '1'])));
    // The one that ends while the other still runs pairs says so and exits 1; the last one to end has them all.
    for (const r of both) {
      if (r.code === 1)
        expect(r.stderr.trim().split('\n').at(-1)).toMatch(
          /^pix2pix: arr: \d of 6 \(variant, seed\) pair\(s\) of this run not done: .*(wait for the process running them to finish|run the same command again)/,
        );
      else expect(r.code, r.stderr).toBe(0);
    }
    expect(both.some((r) => r.code === 0)).toBe(true);
    const all = both.map((r) => r.stderr).join('\n');
    for (const p of PAIRS) for (const s of ['train', 'export', 'translate', 'score']) expect(count(all, `[${p}] ${s}: start`), `${p} ${s}`).toBe(1);
    for (const p of REFERENCES) for (const s of ['translate', 'score']) expect(count(all, `[${p}] ${s}: start`), `${p} ${s}`).toBe(1);
    expect(count(all, 'segmenter: start')).toBe(1);
    const c = await cli(['results', 'collect', file, '--profile', 'ci', '--out', out]);
    expect(c.code, c.stderr).toBe(0);
    expect(withoutTiming(await readFile(path.join(out, 'arr.csv'), 'utf8'))).toEqual(
      withoutTiming(await readFile(path.join(dir, 'single', 'arr.csv'), 'utf8')),
    );
  }, 300_000);
});
