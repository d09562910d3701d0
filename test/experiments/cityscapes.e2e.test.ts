/**
 * The Cityscapes route end to end on a Cityscapes-shaped sample tree, through the CLI: `data
 * cityscapes` → `segmenter import-caffe` (a tiny FCN-8s-topology Caffe net) → `eval run --profile
 * full` (tiny training settings, paper mode). And a broken full-profile setup fails before any
 * training, with one line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/experiments/report.ts';
import { runExperiment } from '../../src/experiments/run.ts';
import { writeCityscapesTree } from '../data/cityscapes-tree.ts';
import { encodeCaffemodel, fcn8sPrototxt, parseNet, randomWeights, writeNet } from '../import/caffe/fixtures.ts';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'pix2pix.mjs');

let dir: string;
const experiment = (name: string, root = ''): string => `experiment: ${name}
title: Cityscapes route check
table: Table 2
task: labels2photo
dataset: { path: ${root}data, testSplit: val, labels: ${root}data/gtFine/val, name: "Cityscapes-shaped sample (synthetic scenes)" }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 1, nEpochsDecay: 0, engine: cpu, valLimit: 1, sampleRows: 1 }
scorer: { segmenter: ${root}models/fcn8s.onnx }
variants:
  - { name: unet-L1, train: { loss: L1 }, paper: { pixelAcc: 0.48, classAcc: 0.18, classIoU: 0.13 } }
profiles:
  full:
    testDropout: true
    scorer: { mode: reference }
`;

function cli(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cs-e2e-'));
  await writeCityscapesTree(path.join(dir, 'cityscapes'), { train: 3, val: 2, width: 64 });
  mkdirSync(path.join(dir, 'caffe'));
  const text = fcn8sPrototxt({ c1: 2, c2: 2, c3: 3, c4: 3, c5: 3, fc: 4, classes: 20 });
  const net = parseNet(text);
  writeNet(path.join(dir, 'caffe'), text, encodeCaffemodel(net, randomWeights(net, 2), 'v2'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Cityscapes route (prepare, import-caffe, eval run --profile full)', () => {
  it('runs the three commands end to end and the results state paper mode', async () => {
    const prep = cli(['data', 'cityscapes', '--cityscapes', 'cityscapes', '--out', 'data', '--size', '32', '--quiet']);
    expect(prep.out).toContain('Wrote 3 train and 2 val pairs');
    expect(prep.code).toBe(0);
    const imp = cli([
      'segmenter',
      'import-caffe',
      '--prototxt',
      'caffe/deploy.prototxt',
      '--caffemodel',
      'caffe/net.caffemodel',
      '--out',
      'models/fcn8s.onnx',
      '--input-size',
      'label',
      '--quiet',
    ]);
    expect(imp.out).toContain('output "score" (20 channels)');
    expect(imp.code).toBe(0);
    writeFileSync(path.join(dir, 'route.yaml'), experiment('route'));
    const run = cli(['eval', 'run', 'route.yaml', '--profile', 'full', '--out', 'results', '--jobs', '1']);
    expect(run.out).toMatch(/preflight: 3 train \/ 2 test images, every test output pairs with a label; segmenter fcn8s.onnx \(20 classes, BGR/);
    expect(run.code).toBe(0);
    const { rows } = parseCsv(await readFile(path.join(dir, 'results', 'route.csv'), 'utf8'), 'route.csv');
    expect(rows[0].status).toBe('done');
    // Scored through the imported net: a real fraction (2 frames; reference mode may drop none here).
    expect(rows[0].pixelAcc_mean).toMatch(/^(0(\.\d+)?|1)$/);
    expect(rows[0].test_dropout).toBe('on (seed 1)');
    expect(rows[0].scorer_mode).toBe('reference');
    const md = await readFile(path.join(dir, 'results', 'route.md'), 'utf8');
    expect(md).toContain('- Test-time dropout: on (seed 1)');
    expect(md).toContain("- Confusion mode: reference (the paper's evaluate.py");
  }, 600_000);

  // Each broken setup must fail in the preflight: no run folder may exist afterwards.
  const broken: [string, () => void, RegExp][] = [
    [
      'missing labels',
      () => renameSync(path.join(dir, 'data', 'gtFine'), path.join(dir, 'data', 'gtFine-away')),
      /dataset.labels \S*data\/gtFine\/val: folder not found/,
    ],
    [
      'an unpaired test image',
      () => {
        const city = readdirSync(path.join(dir, 'data', 'gtFine', 'val'))[0];
        const f = readdirSync(path.join(dir, 'data', 'gtFine', 'val', city))[0];
        renameSync(path.join(dir, 'data', 'gtFine', 'val', city, f), path.join(dir, `${f}.away`));
      },
      /1 of 2 images in test outputs .* have no label \(.*_000000_.*\.png\).*rebuild with `pix2pix data cityscapes`/,
    ],
    [
      'a missing sidecar',
      () => renameSync(path.join(dir, 'models', 'fcn8s.onnx.json'), path.join(dir, 'models', 'away.json')),
      /No segmenter sidecar for .*fcn8s\.onnx/,
    ],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`a full profile with ${what} fails before training, in one line`, async () => {
      // Work on a fresh copy of the prepared folders so the cases do not interact.
      const copy = mkdtempSync(path.join(tmpdir(), 'cs-broken-'));
      spawnSync('cp', ['-r', path.join(dir, 'data'), path.join(dir, 'models'), copy]);
      const saved = dir;
      dir = copy;
      try {
        breakIt();
        writeFileSync(path.join(dir, 'broken.yaml'), experiment('broken', `${dir}/`));
        const err = await runExperiment({ file: path.join(dir, 'broken.yaml'), profile: 'full', out: path.join(dir, 'results'), jobs: 1, log: () => {} }).catch(
          (e: Error) => e,
        );
        expect((err as Error).name).toBe('UserError');
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).not.toContain('\n');
        expect(existsSync(path.join(dir, 'results', '_work'))).toBe(false);
      } finally {
        dir = saved;
        rmSync(copy, { recursive: true, force: true });
      }
    });
  }
});
