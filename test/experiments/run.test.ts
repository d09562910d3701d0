/**
 * `pix2pix eval run` that cannot finish its share: pairs that another live process holds, or whose
 * stage a dead process's stale claim blocks, leave the run incomplete. The CLI says which and what to
 * do on one line, and exits 1 (it used to write an incomplete CSV and exit 0). Hand-made claim files
 * stand in for the other processes, so nothing trains here.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPath, type ClaimRecord, processStart } from '../../src/experiments/claims.ts';
import { parseCsv } from '../../src/experiments/report.ts';
import { resolveExperiment } from '../../src/experiments/resolve.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { STAGE_FILE, stageKeys, workPath } from '../../src/experiments/stages.ts';
import { runCli } from '../helpers/capture.ts';

// The colour scorer needs no segmenter, so the run reaches its end without training anything.
const YAML = `experiment: nd
title: Not-done check
table: Figure 7(d)
task: color
dataset: { synthetic: { count: 6, size: 32, seed: 3, splits: { train: 0.5, val: 0.17, test: 0.33 } } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 1, nEpochsDecay: 0, engine: cpu }
scorer: { bins: 16 }
variants:
  - { name: a }
profiles:
  ci: {}
`;

let dir: string;
let file: string;
let sleeper: ReturnType<typeof spawn>;

function claim(stage: string, pid: number): ClaimRecord {
  const now = Date.now();
  return {
    stage,
    host: hostname(),
    pid,
    procStart: processStart(pid),
    token: 'other',
    startedAt: new Date(now).toISOString(),
    heartbeatAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3600_000).toISOString(),
    leaseSeconds: 3600,
  };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-notdone-'));
  file = path.join(dir, 'nd.yaml');
  await writeFile(file, YAML);
  // A live process on this host: the "other eval run" holding a stage.
  sleeper = spawn('sleep', ['120']);
});

afterAll(async () => {
  sleeper.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('eval run with pairs of its share not done', () => {
  it('a pair another live process is training: exit 1, one line saying to wait for it', async () => {
    const out = path.join(dir, 'live');
    const run = resolveExperiment(parseExperiment(YAML, file), file, 'ci').runs[0];
    await mkdir(workPath(out, run), { recursive: true });
    await writeFile(claimPath(workPath(out, run), 'train', 1), JSON.stringify(claim('train', sleeper.pid!)));

    const r = await runCli(['eval', 'run', file, '--profile', 'ci', '--out', out, '--jobs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`[a] train: running in ${hostname()} pid ${sleeper.pid} since`);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(
      new RegExp(
        `^pix2pix: nd: 1 of 1 \\(variant, seed\\) pair\\(s\\) of this run not done: a s1: running at train \\(${hostname()} pid ${sleeper.pid} since .*\\); wait for the process running them to finish, then run the same command again \\(or results collect\\)$`,
      ),
    );
    expect(r.stderr).not.toContain('internal error');
    // The tables are still written, with the row marked missing.
    const rows = parseCsv(await readFile(path.join(out, 'nd.csv'), 'utf8'), 'nd.csv').rows;
    expect(rows.map((x) => [x.variant, x.status])).toEqual([['a', 'missing']]);
  });

  it('a score stage whose claim a dead process left (stale): exit 1 saying --resume, not exit 0 with the row missing', async () => {
    const out = path.join(dir, 'stale');
    const exp = resolveExperiment(parseExperiment(YAML, file), file, 'ci');
    const run = exp.runs[0];
    const keys = stageKeys(run, exp.dataset.testSplit, exp.scorer.hash);
    const rec = (key: string) => ({ key, seconds: 1, finishedAt: new Date().toISOString() });
    const work = workPath(out, run);
    await mkdir(work, { recursive: true });
    await writeFile(
      path.join(work, STAGE_FILE),
      JSON.stringify({ variant: 'a', seed: 1, hash: run.hash, stages: { train: rec(keys.train), export: rec(keys.export), translate: rec(keys.translate) } }),
    );
    const dead = await deadPid();
    await writeFile(claimPath(work, 'score', 1), JSON.stringify(claim('score', dead)));

    const r = await runCli(['eval', 'run', file, '--profile', 'ci', '--out', out, '--jobs', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[a] score: claimed by');
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(
      /^pix2pix: nd: 1 of 1 \(variant, seed\) pair\(s\) of this run not done: a s1: stale at score \(.*is gone\); run again with --resume to take over the stale ones$/,
    );
  });
});
