/**
 * The similarity score (SSIM and PSNR against the real targets) as a scorer: averaged over a folder
 * of generated images paired by name with their targets, and added to an experiment through
 * `scorer.add` from the command line.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeImage } from '../../../src/data/image.ts';
import { parseCsv } from '../../../src/experiments/report.ts';
import { resolveExperiment } from '../../../src/experiments/resolve.ts';
import { parseExperiment } from '../../../src/experiments/schema.ts';
import { scorerNamed, type ScoreInput } from '../../../src/experiments/scorers/index.ts';
import { runCli } from '../../helpers/capture.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-similarity-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const flat = (v: number, side = 12) => ({ width: side, height: side, data: new Uint8Array(side * side * 3).fill(v) });

async function folders(pairs: Record<string, [number, number]>): Promise<{ generated: string; targets: string }> {
  const base = await mkdtemp(path.join(dir, 'f-'));
  const generated = path.join(base, 'images');
  const targets = path.join(base, 'targets');
  await mkdir(generated);
  await mkdir(targets);
  for (const [name, [g, t]] of Object.entries(pairs)) {
    await writeImage(path.join(generated, name), flat(g), 'png');
    await writeImage(path.join(targets, name), flat(t), 'png');
  }
  return { generated, targets };
}

const input = (generated: string, targets: string): ScoreInput => ({
  imagesDir: generated,
  labelsDir: null,
  segmenterModel: null,
  config: { segmenter: 'train', segmenterTrain: {}, segmenterHash: '', mode: 'strict', voidColors: 'none', bins: 256 },
  targetsDir: async () => targets,
  experiment: 'x',
});

describe('the similarity scorer', () => {
  const scorer = scorerNamed('similarity')!;

  it('averages SSIM and PSNR over the generated images, each paired with the target of its name', async () => {
    const { generated, targets } = await folders({ 'a.png': [110, 100], 'b.png': [70, 50] });
    const r = await scorer.score(input(generated, targets));
    // Flat images: SSIM is the luminance term, (2·110·100 + C1) / (110² + 100² + C1) and (2·70·50 + C1) / (70² + 50² + C1);
    // PSNR: MSE 100 and 400, i.e. 10·log10(650.25) and 10·log10(162.5625).
    expect(r.metrics.ssim).toBeCloseTo((22006.5025 / 22106.5025 + 7006.5025 / 7406.5025) / 2, 10);
    expect(r.metrics.psnr).toBeCloseTo((10 * Math.log10(650.25) + 10 * Math.log10(162.5625)) / 2, 10);
    expect(r.frames).toBe(2);
  });

  it('says which generated image has no target', async () => {
    const { generated, targets } = await folders({ 'a.png': [1, 1] });
    await writeImage(path.join(generated, 'extra.png'), flat(3), 'png');
    await expect(scorer.score(input(generated, targets))).rejects.toThrow(/generated extra\.png has no target .*extra\.png/);
  });

  it('scores photo tasks only', () => {
    expect(scorer.tasks).toEqual(['labels2photo', 'color']);
  });

  it('refuses, when the file is read, runs smaller than the SSIM window', () => {
    const text = `experiment: x
title: t
table: Figure 7
task: color
dataset: { synthetic: { count: 10, size: 8, seed: 1 } }
scorer: { add: [similarity] }
variants:
  - { name: gt, kind: ground-truth }
profiles:
  quick: {}
`;
    expect(() => resolveExperiment(parseExperiment(text, 'x.yaml'), 'x.yaml', 'quick')).toThrow(
      "x.yaml: variant 'gt' (profile 'quick'): SSIM needs images of at least 11×11 (its window) but the run is 8²; raise train.size or drop similarity from scorer.add",
    );
    expect(() => resolveExperiment(parseExperiment(text.replace('size: 8', 'size: 11'), 'x.yaml'), 'x.yaml', 'quick')).not.toThrow();
  });
});

describe('eval run with scorer.add: [similarity]', () => {
  it('adds SSIM and PSNR columns beside the task’s own score', { timeout: 120_000 }, async () => {
    const file = path.join(dir, 'sim.yaml');
    await writeFile(
      file,
      `experiment: sim
title: similarity check
table: Figure 7
task: color
dataset: { synthetic: { count: 10, size: 16, seed: 3, splits: { train: 0.6, val: 0.2, test: 0.2 } } }
scorer: { bins: 8, add: [similarity] }
variants:
  - { name: gt, kind: ground-truth }
profiles:
  quick: {}
`,
    );
    const out = path.join(dir, 'out');
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const r = await runCli(['eval', 'run', file, '--profile', 'quick', '--out', out, '--jobs', '1']).finally(() => quiet.mockRestore());
    expect(r.code ?? 0, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[gt\] scores: L 1\.000, a 1\.000, b 1\.000, SSIM 1\.000, PSNR Infinity$/m);
    const { fields, rows } = parseCsv(await readFile(path.join(out, 'sim.csv'), 'utf8'), 'sim.csv');
    expect(fields).toEqual(expect.arrayContaining(['L_mean', 'a_mean', 'b_mean', 'ssim_mean', 'psnr_mean']));
    // The ground-truth row is the targets themselves: SSIM 1; PSNR +∞ has no mean to write.
    expect(Number(rows[0].ssim_mean)).toBeCloseTo(1, 9);
    expect(rows[0].psnr_mean).toBe('');
    expect(rows[0].segmenter).toBe('none (Lab histogram intersection needs no segmenter); SSIM and PSNR against the real target photos');
    const md = await readFile(path.join(out, 'sim.md'), 'utf8');
    // The paper's columns stay for its own metrics; the added scores have none (the paper did not report them).
    expect(md).toContain('| b | paper | SSIM | PSNR (dB) |');
    expect(md).toMatch(/^\| gt \| 1\.000 \| — \| 1\.000 \| — \| 1\.000 \| — \| 1\.000 \| — \|$/m);
  });
});
