/**
 * readRunStages: where one (variant, seed) pair stands, from its stage.json and the experiment's
 * current stage keys. Status, progress, the job list and scoring all read a run through it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveExperiment } from '../../src/experiments/resolve.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { readRunStages, STAGE_FILE, stageKeys, workPath } from '../../src/experiments/stages.ts';

const YAML = `experiment: st
title: Stage walk
table: Table 1
task: photo2labels
seeds: [1]
dataset: { synthetic: { count: 8, size: 32, seed: 3 } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 1, nEpochsDecay: 0, engine: cpu }
variants:
  - { name: a }
  - { name: truth, kind: ground-truth }
profiles:
  ci: {}
`;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'p2p-stages-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const rec = (key: string, seconds: number) => ({ key, seconds, finishedAt: '2026-12-01T10:00:00Z' });

describe('readRunStages', () => {
  const exp = resolveExperiment(parseExperiment(YAML, 'st.yaml'), 'st.yaml', 'ci');
  const [a, truth] = exp.runs;

  it('a pair with no stage.json has every stage of its kind pending', async () => {
    const r = await readRunStages(exp, out, a);
    expect(r.dir).toBe(workPath(out, a));
    expect(r.pending).toEqual(['train', 'export', 'translate', 'score']);
    expect(r.stages.every((s) => s.record === null)).toBe(true);
    expect((await readRunStages(exp, out, truth)).pending).toEqual(['translate', 'score']);
  });

  it('counts a stage done only up to the first record whose key changed: everything after it runs again', async () => {
    const keys = stageKeys(a, exp.dataset.testSplit, exp.scorer.hash);
    const dir = workPath(out, a);
    await mkdir(dir, { recursive: true });
    const stages = { train: rec(keys.train, 30), export: rec(keys.export, 2), translate: rec('an older split', 5), score: rec(keys.score, 1) };
    await writeFile(path.join(dir, STAGE_FILE), JSON.stringify({ variant: a.variant, seed: a.seed, hash: a.hash, stages }));
    const r = await readRunStages(exp, out, a);
    expect(r.pending).toEqual(['translate', 'score']);
    expect(r.stages).toEqual([
      { stage: 'train', record: stages.train },
      { stage: 'export', record: stages.export },
      { stage: 'translate', record: null },
      { stage: 'score', record: null },
    ]);
  });
});
