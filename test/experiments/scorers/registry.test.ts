/**
 * The score registry: every task has exactly one own score, every scorer describes its metrics,
 * experiment files add scores by registry name, and the experiment code never branches on a score.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashOf } from '../../../src/experiments/hash.ts';
import { PIPELINE_VERSION, resolveExperiment } from '../../../src/experiments/resolve.ts';
import { parseExperiment, TASKS } from '../../../src/experiments/schema.ts';
import { describeScorers, SCORERS, scorerNamed, scoresLine, scorersFor, taskScorer } from '../../../src/experiments/scorers/index.ts';

const BASE = `experiment: x
title: t
table: Table 1
task: labels2photo
dataset: { synthetic: { count: 10, size: 32, seed: 1 } }
scorer: { segmenter: models/fcn.onnx }
variants:
  - { name: a }
profiles:
  quick: {}
`;

describe('the score registry', () => {
  it('gives every task exactly one own score, which scores that task', () => {
    for (const t of TASKS) {
      const own = SCORERS.filter((s) => s.defaultFor.includes(t));
      expect(own, t).toHaveLength(1);
      expect(own[0].tasks).toContain(t);
    }
  });

  it('names every scorer once and every metric once within a scorer, each with a table name and a short name', () => {
    expect(new Set(SCORERS.map((s) => s.name)).size).toBe(SCORERS.length);
    for (const s of SCORERS) {
      expect(new Set(s.metrics.map((m) => m.key)).size, s.name).toBe(s.metrics.length);
      for (const m of s.metrics) {
        expect(m.name.length, `${s.name}.${m.key}`).toBeGreaterThan(0);
        expect(m.short.length, `${s.name}.${m.key}`).toBeGreaterThan(0);
      }
    }
  });

  it('refuses an unknown score, one that does not fit the task, and a repeat, naming what is allowed', () => {
    const known = SCORERS.map((s) => s.name).join(', ');
    expect(() => scorersFor('labels2photo', ['nope'])).toThrow(`unknown score 'nope'; known: ${known}`);
    expect(() => scorersFor('labels2photo', ['color'])).toThrow(/'color' does not score task labels2photo; it scores color/);
    expect(() => scorersFor('color', ['color'])).toThrow(/listed twice \(or is already the task's own score\)/);
    expect(scorersFor('photo2labels').map((s) => s.name)).toEqual(['labels']);
  });

  it('keys the score stage by every scorer it runs and the pipeline version', () => {
    const exp = resolveExperiment(parseExperiment(BASE, 'x.yaml'), 'x.yaml', 'quick');
    expect(exp.scorer.names).toEqual(['fcn']);
    expect(exp.scorer.hash).toBe(
      hashOf({ scores: [{ metric: 'fcn', segmenter: path.resolve('models/fcn.onnx'), mode: 'strict' }], version: PIPELINE_VERSION }),
    );
    expect(exp.metrics).toEqual(taskScorer('labels2photo').metrics.map((m) => m.key));
  });

  it('rejects scorer.add entries in the experiment file with the line and the allowed names', () => {
    expect(() => parseExperiment(BASE.replace('scorer: { segmenter: models/fcn.onnx }', 'scorer: { add: [nope] }'), 'x.yaml')).toThrow(
      `x.yaml:6: scorer.add[0]: must be one of ${SCORERS.map((s) => s.name).join(', ')}`,
    );
    expect(() => parseExperiment(BASE.replace('scorer: { segmenter: models/fcn.onnx }', 'scorer: { add: [fcn] }'), 'x.yaml')).toThrow(
      /scorer\.add\[0\]: 'fcn' is already the task's own score/,
    );
    expect(() => parseExperiment(BASE.replace('scorer: { segmenter: models/fcn.onnx }', 'scorer: { add: [color] }'), 'x.yaml')).toThrow(
      /scorer\.add\[0\]: 'color' does not score task labels2photo; it scores color/,
    );
  });
});

describe('describeScorers', () => {
  const config = { segmenter: 'models/fcn.onnx', segmenterTrain: {}, segmenterHash: '', mode: 'strict' as const, voidColors: 'none' as const, bins: 256 };
  it("joins each scorer's own line; the FCN-score names the segmenter eval run trained, else the given file", () => {
    expect(describeScorers({ ...config, names: ['fcn', 'similarity'] }, null)).toBe('FCN models/fcn.onnx; SSIM and PSNR against the real target photos');
    expect(describeScorers({ ...config, names: ['fcn'] }, 'trained U-Net segmenter (…)')).toBe('trained U-Net segmenter (…)');
    expect(describeScorers({ ...config, names: ['color'] }, null)).toBe('none (Lab histogram intersection needs no segmenter)');
  });
});

describe('scoresLine', () => {
  it('names each score by its short name, 3 decimals below 10 and 2 from 10 on, in table order', () => {
    const [fcn, similarity] = [scorerNamed('fcn')!, scorerNamed('similarity')!];
    expect(
      scoresLine([fcn, similarity], {
        psnr: 21.0749,
        ssim: 0.41234,
        pixelAcc: 0.8124,
        classAcc: 0.3,
        classIoU: 0.25,
        classAccPresent: 0.5,
        classIoUPresent: 0.4,
      }),
    ).toBe('pixel 0.812, class 0.300, IoU 0.250, class* 0.500, IoU* 0.400, SSIM 0.412, PSNR 21.07');
  });
});

describe('the experiment code asks the scorers instead of naming them', () => {
  it('no module of src/experiments outside scorers/ compares with a score name', async () => {
    const dir = path.resolve(import.meta.dirname, '../../../src/experiments');
    const files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.ts'));
    const offending: string[] = [];
    for (const f of files) {
      const text = await fsp.readFile(path.join(dir, f), 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        if (/\.metric\b|[=!]==? *'(fcn|labels|color)'|'(fcn|labels|color)' *[=!]==?/.test(line)) offending.push(`${f}:${i + 1}: ${line.trim()}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
