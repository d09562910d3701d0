/**
 * `eval run --status` and collect's list of unfinished pairs, from hand-made files: stage.json
 * records, claim files (live, stale) and a failure record.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPath, type ClaimRecord, type Probe } from '../../src/experiments/claims.ts';
import { resolveExperiment } from '../../src/experiments/resolve.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { failurePath, STAGE_FILE, stageKeys, workPath } from '../../src/experiments/stages.ts';
import { experimentStatus, type ExperimentStatus, formatStatus, incompleteLines, notDoneMessage, type RunStatus } from '../../src/experiments/status.ts';

const YAML = `experiment: st
title: Status check
table: Table 1
task: photo2labels
seeds: [1, 2]
dataset: { synthetic: { count: 8, size: 32, seed: 3 } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 1, nEpochsDecay: 0, engine: cpu }
variants:
  - { name: a }
  - { name: b, train: { loss: L1 } }
profiles:
  ci: {}
`;

const NOW = Date.parse('2026-12-01T12:00:00Z');
const probe: Probe = { host: 'here', alive: (pid) => pid !== 666, startOf: () => null, ownTokens: new Set(), pid: 1 };
let out: string;

function claim(over: Partial<ClaimRecord>): ClaimRecord {
  return {
    stage: 'train',
    host: 'node9',
    pid: 77,
    procStart: null,
    token: 't',
    startedAt: '2026-12-01T11:00:00Z',
    heartbeatAt: '2026-12-01T11:59:30Z',
    expiresAt: '2026-12-01T12:59:30Z',
    leaseSeconds: 3600,
    ...over,
  };
}

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'p2p-status-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('experimentStatus', () => {
  it('done, running, stale, failed and missing, per stage, from the files alone', async () => {
    const exp = resolveExperiment(parseExperiment(YAML, 'st.yaml'), 'st.yaml', 'ci');
    const [a1, a2, b1] = exp.runs;
    const keys = stageKeys(a1, exp.dataset.testSplit, exp.scorer.hash);
    const rec = (k: string) => ({ key: k, seconds: 2, finishedAt: '2026-12-01T10:00:00Z' });
    // a s1: all done
    await mkdir(workPath(out, a1), { recursive: true });
    await writeFile(
      path.join(workPath(out, a1), STAGE_FILE),
      JSON.stringify({
        variant: 'a',
        seed: 1,
        hash: a1.hash,
        stages: { train: rec(keys.train), export: rec(keys.export), translate: rec(keys.translate), score: rec(keys.score) },
      }),
    );
    // a s2: train running on another host
    await mkdir(workPath(out, a2), { recursive: true });
    await writeFile(claimPath(workPath(out, a2), 'train', 1), JSON.stringify(claim({})));
    // b s1: train done, export claimed by a dead process here (stale) after a failure record
    const kb = stageKeys(b1, exp.dataset.testSplit, exp.scorer.hash);
    await mkdir(workPath(out, b1), { recursive: true });
    await writeFile(path.join(workPath(out, b1), STAGE_FILE), JSON.stringify({ variant: 'b', seed: 1, hash: b1.hash, stages: { train: rec(kb.train) } }));
    await writeFile(claimPath(workPath(out, b1), 'export', 1), JSON.stringify(claim({ stage: 'export', host: 'here', pid: 666 })));
    // b s2: translate... never started, but its train failed once
    await writeFile(
      failurePath(await mkdir(workPath(out, exp.runs[3]), { recursive: true }).then(() => workPath(out, exp.runs[3])), 'train'),
      JSON.stringify({ stage: 'train', message: 'out of memory', host: 'node3', pid: 5, at: '2026-12-01T11:30:00Z' }),
    );

    const s = await experimentStatus(exp, out, { taskCount: 3, probe, now: NOW });
    expect(s.segmenter).toBeNull();
    expect(s.runs.map((r) => [r.variant, r.seed, r.task, r.state, r.stages.map((x) => x.state).join(' ')])).toEqual([
      ['a', 1, 0, 'done', 'done done done done'],
      ['a', 2, 1, 'running', 'running missing missing missing'],
      ['b', 1, 2, 'stale', 'done stale missing missing'],
      ['b', 2, 0, 'failed', 'failed missing missing missing'],
    ]);
    expect(s.counts).toEqual({ done: 5, running: 1, stale: 1, failed: 1, missing: 8 });
    expect(s.runs[1].stages[0].detail).toBe('node9 pid 77 since 2026-12-01T11:00:00Z, heartbeat 30 s ago');
    expect(s.runs[2].stages[1].detail).toBe('here pid 666 since 2026-12-01T11:00:00Z, stale: process 666 on here is gone');

    const text = formatStatus(s);
    expect(text.split('\n')[0]).toBe(
      `st (profile ci) in ${out}: 1 of 4 (variant, seed) pair(s) done; 16 stage(s): 5 done, 1 running, 1 stale, 1 failed, 8 missing`,
    );
    expect(text).toMatch(/^a s2 +1 +train +running +node9 pid 77/m);

    expect(incompleteLines(s)).toEqual([
      'a s2 (task 1): running at train (node9 pid 77 since 2026-12-01T11:00:00Z, heartbeat 30 s ago)',
      'b s1 (task 2): stale at export (here pid 666 since 2026-12-01T11:00:00Z, stale: process 666 on here is gone)',
      'b s2 (task 0): failed at train (node3 pid 5 at 2026-12-01T11:30:00Z: out of memory)',
    ]);
  });
});

describe('notDoneMessage (the last line of an eval run that could not finish its share)', () => {
  const run = (variant: string, seed: number, states: RunStatus['state'][], detail = ''): RunStatus => ({
    variant,
    seed,
    workDir: `${variant}-${seed}`,
    state: states.find((x) => x !== 'done') ?? 'done',
    stages: ['train', 'export', 'translate', 'score'].map((stage, i) => ({ stage, state: states[i], detail: states[i] === 'done' ? '' : detail })),
  });
  const status = (runs: RunStatus[]): ExperimentStatus => ({
    experiment: 'st',
    profile: 'ci',
    out: '/r',
    segmenter: null,
    runs,
    counts: { done: 0, running: 0, stale: 0, failed: 0, missing: 0 },
  });

  it('is null when every pair of the run is done, whatever the pairs outside it are', () => {
    const s = status([run('a', 1, ['done', 'done', 'done', 'done']), run('b', 1, ['missing', 'missing', 'missing', 'missing'])]);
    expect(notDoneMessage(s, [{ variant: 'a', seed: 1 }])).toBeNull();
  });

  it('names each unfinished pair of the run, where it stopped, and what to do for each state, on one line', () => {
    const s = status([
      run('a', 1, ['done', 'done', 'done', 'stale'], 'here pid 666, stale: process 666 on here is gone'),
      run('a', 2, ['running', 'missing', 'missing', 'missing'], 'node9 pid 77, heartbeat 3 s ago'),
      run('b', 1, ['done', 'done', 'done', 'done']),
      run('b', 2, ['missing', 'missing', 'missing', 'missing']),
    ]);
    const m = notDoneMessage(s, [
      { variant: 'a', seed: 1 },
      { variant: 'a', seed: 2 },
      { variant: 'b', seed: 1 },
    ]);
    expect(m).toBe(
      'st: 2 of 3 (variant, seed) pair(s) of this run not done: a s1: stale at score (here pid 666, stale: process 666 on here is gone); ' +
        'a s2: running at train (node9 pid 77, heartbeat 3 s ago); ' +
        'wait for the process running them to finish, then run the same command again (or results collect); run again with --resume to take over the stale ones',
    );
    expect(m).not.toContain('\n');
  });
});
