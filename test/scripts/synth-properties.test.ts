import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNTH_GENERATOR_VERSION, synthesizeDataset } from '../../src/data/synth.ts';
import { writeTinySegmenter } from '../eval/tiny-segmenter.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/synth-properties.ts');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { encoding: 'utf8' });

describe('scripts/synth-properties.ts', () => {
  it('colour: fits class-mean colours on the train scenes and scores the test scenes', () => {
    const r = run('colour', '--count', '12', '--size', '32', '--seed', '5');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.split('\n')[0]) as {
      generatorVersion: number;
      dataset: { fit: number; scored: number };
      nearestMeanColour: { pixelAcc: { value: number; lo: number; hi: number } };
    };
    // 12 scenes split 45/5/50: 5 train (fit), 1 val, 6 test (scored)
    expect(report).toMatchObject({ generatorVersion: SYNTH_GENERATOR_VERSION, dataset: { fit: 5, scored: 6 } });
    const { value, lo, hi } = report.nearestMeanColour.pixelAcc;
    expect(lo).toBeLessThanOrEqual(value);
    expect(hi).toBeGreaterThanOrEqual(value);
    expect(r.stdout).toMatch(/nearest class-mean colour, per pixel: +per-pixel 0\.\d{3} \[/);
  });

  it('blur: scores a dataset as it is, blurred and shrunk with a given segmenter', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'synth-properties-'));
    const data = path.join(root, 'synth');
    await synthesizeDataset({ out: data, count: 6, size: 16, seed: 2, splits: { train: 0.5, val: 0, test: 0.5 } });
    const seg = writeTinySegmenter(root);
    writeFileSync(`${seg}.json`, JSON.stringify({ numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] }));
    const r = run('blur', '--data', data, '--segmenter', seg, '--sigma', '1', '--shrink', '4');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 test photos/m);
    expect(r.stdout).toMatch(/^Gaussian blur σ 1 +per-pixel 0\.\d{3}/m);
    expect(r.stdout).toMatch(/^shrunk 4× and enlarged +per-pixel/m);
    expect(r.stdout).toMatch(/^ {2}road +\d\.\d{3} \/ \d\.\d{3} \/ \d\.\d{3}$/m);
  });

  it('says what is missing in one line and exits 2', () => {
    const r = run('blur');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('synth-properties: blur needs --data DIR (a synthetic dataset) and --segmenter seg.onnx');
    expect(run('nothing').stderr).toMatch(/name a measurement: colour, blur or sigma/);
  });
});
