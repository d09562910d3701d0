import { describe, expect, it } from 'vitest';
import { parseTask, resolveTask, taskOf, taskShare } from '../../src/util/task-array.ts';

describe('resolveTask', () => {
  it('--task i/n wins over the environment', () => {
    expect(resolveTask({ task: '2/3', env: { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '5' } })).toEqual({ index: 2, count: 3, source: '--task 2/3' });
  });

  it('a SLURM array starting at 0', () => {
    expect(resolveTask({ env: { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '2', SLURM_ARRAY_TASK_COUNT: '3' } })).toMatchObject(
      { index: 2, count: 3 },
    );
  });

  it('a SLURM array starting at 1 (--array=1-4): id 1 is task 0, id 4 is task 3', () => {
    const env = { SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '4', SLURM_ARRAY_TASK_COUNT: '4' };
    expect([1, 2, 3, 4].map((id) => resolveTask({ env: { ...env, SLURM_ARRAY_TASK_ID: String(id) } })?.index)).toEqual([0, 1, 2, 3]);
    expect(resolveTask({ env: { ...env, SLURM_ARRAY_TASK_ID: '3' } })?.source).toBe('SLURM_ARRAY_TASK_ID=3 of 1-4');
  });

  it('a SLURM array with a step (--array=10-16:3 → ids 10, 13, 16)', () => {
    const env = { SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '16', SLURM_ARRAY_TASK_STEP: '3', SLURM_ARRAY_TASK_COUNT: '3' };
    expect([10, 13, 16].map((id) => resolveTask({ env: { ...env, SLURM_ARRAY_TASK_ID: String(id) } })?.index)).toEqual([0, 1, 2]);
  });

  it('derives the count from min/max/step when SLURM_ARRAY_TASK_COUNT is missing', () => {
    expect(resolveTask({ env: { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '9' } })).toMatchObject({ index: 0, count: 5 });
  });

  it('refuses a SLURM id list, which has no position mapping', () => {
    // --array=1,4,9: 3 tasks, min 1, max 9
    expect(() => resolveTask({ env: { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_COUNT: '3' } })).toThrow(
      /not a plain range.*pass --task i\/n/,
    );
  });

  it('a Kubernetes Indexed Job needs --task-count', () => {
    expect(resolveTask({ taskCount: 4, env: { JOB_COMPLETION_INDEX: '3' } })).toEqual({
      index: 3,
      count: 4,
      source: 'JOB_COMPLETION_INDEX=3 of --task-count 4',
    });
    expect(() => resolveTask({ env: { JOB_COMPLETION_INDEX: '0' } })).toThrow(/pass --task-count N/);
    expect(() => resolveTask({ taskCount: 2, env: { JOB_COMPLETION_INDEX: '2' } })).toThrow(/not below --task-count 2/);
  });

  it('outside an array: undefined; bad input: one-line errors naming the flag', () => {
    expect(resolveTask({ env: {} })).toBeUndefined();
    expect(() => parseTask('3/3')).toThrow(/^--task 3\/3: i must be in 0..2/);
    expect(() => parseTask('1-3', '--shard')).toThrow(/^--shard '1-3' should be i\/n/);
    expect(() => parseTask('0/0')).toThrow(/n must be at least 1/);
    expect(() => resolveTask({ env: { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' } })).toThrow(/SLURM_ARRAY_TASK_ID must be a whole number/);
  });
});

describe('taskShare', () => {
  it('round robin: each task gets every n-th pair', () => {
    const pairs = ['a1', 'a2', 'b1', 'b2', 'c1'];
    expect([0, 1, 2].map((index) => taskShare(pairs, { index, count: 3 }))).toEqual([['a1', 'b2'], ['a2', 'c1'], ['b1']]);
  });

  it('the shares are disjoint and cover the list exactly, for every n (also n > items)', () => {
    for (let len = 0; len <= 9; len++) {
      const items = Array.from({ length: len }, (_, i) => i);
      for (let count = 1; count <= 11; count++) {
        const shares = Array.from({ length: count }, (_, index) => taskShare(items, { index, count }));
        expect(shares.flat().sort((x, y) => x - y)).toEqual(items);
        for (const [index, share] of shares.entries()) for (const x of share) expect(taskOf(items.indexOf(x), count)).toBe(index);
        // Balanced: sizes differ by at most one.
        const sizes = shares.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rejects an index outside 0..n-1', () => {
    expect(() => taskShare([1, 2], { index: 2, count: 2 })).toThrow();
  });
});
