/**
 * The free-space check of `eval run` on a folder dataset: it asks the filesystem that will hold
 * --out (a folder not made yet) and refuses in one line when the runs will not fit.
 */
import { promises as fsp } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeImage } from '../../src/data/image.ts';
import { preflightExperiment } from '../../src/experiments/preflight.ts';
import { resolveExperiment } from '../../src/experiments/resolve.ts';
import { readExperiment } from '../../src/experiments/schema.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'p2p-preflight-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe('preflightExperiment: free space', () => {
  it('asks about the nearest existing folder above --out and refuses when the runs need more than is free', async () => {
    const data = path.join(root, 'data');
    for (const n of [1, 2]) await writeImage(path.join(data, 'test', `${n}.png`), { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(n * 50) });
    const file = path.join(root, 'gt.yaml');
    await writeFile(
      file,
      `experiment: e\ntitle: t\ntable: Figure 7\ntask: color\ndataset: { path: ${data} }\nvariants:\n  - { name: gt, kind: ground-truth }\nprofiles:\n  quick: {}\n`,
    );
    const exp = resolveExperiment(await readExperiment(file), file, 'quick');
    const out = path.join(root, 'results', 'not', 'made');
    const asked: string[] = [];
    let blocks = 1e9;
    const real = fsp.statfs.bind(fsp);
    vi.spyOn(fsp, 'statfs').mockImplementation((async (p: string) => {
      asked.push(p);
      return { ...(await real(p)), bavail: blocks, bsize: 1 };
    }) as typeof fsp.statfs);
    const report = await preflightExperiment(exp, out);
    expect(asked).toEqual([root]);
    expect(report.freeBytes).toBe(1e9);
    // A ground-truth row writes its test images only: 2 × size² × 3 bytes.
    expect(report.neededBytes).toBe(2 * exp.runs[0].size ** 2 * 3);
    blocks = report.neededBytes - 1;
    await expect(preflightExperiment(exp, out)).rejects.toThrow(
      new RegExp(`^${out}: .* free but the 1 run\\(s\\) need about .*; free space or pass another --out$`),
    );
    await expect(fsp.stat(path.join(root, 'results'))).rejects.toThrow(/ENOENT/);
  });
});
