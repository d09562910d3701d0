/**
 * The overall progress of `eval run`: the time-left estimate from finished stages (hand-computed
 * cases), its one-line form, and the line and the `--json` events of a real `eval run`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { estimateSecondsLeft, formatProgress, type ProgressEvent } from '../../src/experiments/progress.ts';
import { runCli } from '../helpers/capture.ts';

describe('estimateSecondsLeft', () => {
  it('gives each pending stage the mean time of its finished kind, jobs in parallel lanes, scoring one by one', () => {
    // train: (100 + 120) / 2 = 110, export 10; translate and score never finished (untimed).
    // Jobs: 110 + 10 (+ translate) = 120 and 10 (+ translate); over 2 lanes: max(120, 130 / 2) = 120.
    const done = [
      { stage: 'train', seconds: 100 },
      { stage: 'train', seconds: 120 },
      { stage: 'export', seconds: 10 },
    ];
    expect(
      estimateSecondsLeft(
        done,
        [
          ['train', 'export', 'translate'],
          ['export', 'translate'],
        ],
        ['score', 'score'],
        2,
      ),
    ).toEqual({ seconds: 120, untimed: 4 });
  });

  it('spreads many short jobs over the lanes and adds the serial scores', () => {
    // Four jobs of 30 s on 2 lanes: max(30, 120 / 2) = 60; three scores of 4 s: 12.
    const done = [
      { stage: 'translate', seconds: 30 },
      { stage: 'score', seconds: 2 },
      { stage: 'score', seconds: 6 },
    ];
    expect(estimateSecondsLeft(done, [['translate'], ['translate'], ['translate'], ['translate']], ['score', 'score', 'score'], 2)).toEqual({
      seconds: 72,
      untimed: 0,
    });
  });

  it('is 0 with nothing pending, and counts every stage as untimed before any finished', () => {
    expect(estimateSecondsLeft([{ stage: 'train', seconds: 5 }], [], [], 3)).toEqual({ seconds: 0, untimed: 0 });
    expect(estimateSecondsLeft([], [['train', 'export']], ['score'], 1)).toEqual({ seconds: 0, untimed: 3 });
  });
});

describe('formatProgress', () => {
  const p = (x: Partial<ProgressEvent>): ProgressEvent => ({
    event: 'progress',
    done: 3,
    total: 8,
    elapsedSeconds: 65,
    secondsLeft: 160,
    untimedStages: 0,
    ...x,
  });
  it('says stages done of all, the time elapsed and the time left', () => {
    expect(formatProgress(p({}))).toBe('progress: 3/8 stages done, 1:05 elapsed, about 2:40 left');
    expect(formatProgress(p({ untimedStages: 2 }))).toBe('progress: 3/8 stages done, 1:05 elapsed, about 2:40 left (+2 stages not yet timed)');
    expect(formatProgress(p({ secondsLeft: null }))).toBe(
      'progress: 3/8 stages done, 1:05 elapsed, time left known once a stage of each pending kind has finished',
    );
    expect(formatProgress(p({ done: 8, secondsLeft: 0 }))).toBe('progress: 8/8 stages done, 1:05 elapsed, all done');
  });
});

describe('eval run shows one overall progress line and --json events', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'p2p-progress-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports 0/2 before the first stage and 2/2 at the end of a ground-truth row (translate, score)', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'gt.yaml');
    await writeFile(
      file,
      `experiment: gt
title: progress check
table: Figure 7
task: color
dataset: { synthetic: { count: 10, size: 16, seed: 3, splits: { train: 0.6, val: 0.2, test: 0.2 } } }
scorer: { bins: 8 }
variants:
  - { name: gt, kind: ground-truth }
profiles:
  quick: {}
`,
    );
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(['eval', 'run', file, '--profile', 'quick', '--out', path.join(dir, 'out'), '--jobs', '1', '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(r.code ?? 0, r.stderr).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.filter((l) => l.event === 'progress') as unknown as ProgressEvent[];
    expect(events[0]).toMatchObject({ done: 0, total: 2, secondsLeft: null, untimedStages: 2 });
    expect(events.at(-1)).toMatchObject({ done: 2, total: 2, secondsLeft: 0, untimedStages: 0 });
    expect(events.map((e) => e.done)).toEqual([...events.map((e) => e.done)].sort((a, b) => a - b));
    // The results object still comes last.
    expect(lines.at(-1)).toMatchObject({ experiment: 'gt', profile: 'quick' });
    expect(r.stderr).toMatch(/^progress: 0\/2 stages done, 0:0\d elapsed, time left known once/m);
    expect(r.stderr).toMatch(/^progress: 2\/2 stages done, \d+:\d\d elapsed, all done$/m);
  });
});
