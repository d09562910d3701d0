import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canvas, drawText, niceTicks, tickLabel } from '../../src/experiments/draw.ts';
import { markdownFromCsv, mean, parseCsv, std, summaryRows, toCsv, type ExperimentSummary } from '../../src/experiments/report.ts';
import { regenerateTables } from '../../src/experiments/tables.ts';
import type { RunResult } from '../../src/experiments/stages.ts';

// A CSV as `pix2pix eval run` writes it, typed by hand: one variant with two repeats, one not run.
const CSV = `experiment,title,table,task,profile,variant,label,kind,status,settings,pixelAcc_mean,pixelAcc_std,pixelAcc_paper,pixelAcc_runs,classAcc_mean,classAcc_std,classAcc_paper,classAcc_runs,classIoU_mean,classIoU_std,classIoU_paper,classIoU_runs,repeats,seeds,wall_seconds,train_seconds,engine,dataset_kind,dataset,image_size,epochs,segmenter
patch-size,Discriminator receptive field,Table 3,labels2photo,quick,rf16,16×16,generator,done,"{""rf"":16}",0.5,0.1,0.65,0.4;0.6,0.2,0,0.21,0.2;0.2,0.125,0.025,0.17,0.1;0.15,2,1;2,300,280,wasm,synthetic,synthetic street scenes (100 images),128,2+2,trained U-Net segmenter
patch-size,Discriminator receptive field,Table 3,labels2photo,quick,rf286,286×286,generator,missing,"{""rf"":286}",,,0.42,,,,0.16,,,,0.11,,0,,,,,synthetic,synthetic street scenes (100 images),,,
`;

describe('results markdown from the CSV alone', () => {
  it('puts our numbers (mean [95% CI] over seeds) beside the paper and marks missing rows, from an older CSV too', () => {
    const md = markdownFromCsv(CSV, 'patch-size.csv');
    expect(md.split('\n')[0]).toBe('# Table 3: Discriminator receptive field — synthetic data, not Cityscapes');
    expect(md).toContain(
      '| Variant | Per-pixel acc. ours (synthetic) | Per-pixel acc. paper (Cityscapes; ours is synthetic) | Per-class acc. ours (synthetic) | Per-class acc. paper (Cityscapes; ours is synthetic) | Class IOU ours (synthetic) | Class IOU paper (Cityscapes; ours is synthetic) |',
    );
    // 0.4, 0.6: mean 0.5, sd 0.1√2, half width t(0.975, 1) · 0.1√2 / √2 = 12.7062 · 0.1 = 1.27062.
    // 0.1, 0.15: mean 0.125, half width 12.7062 · 0.025 = 0.317655.
    expect(md).toContain('| 16×16 | 0.500 [-0.771, 1.771] | 0.65 | 0.200 [0.200, 0.200] | 0.21 | 0.125 [-0.193, 0.443] | 0.17 |');
    expect(md).toContain('- Seeds: n per variant: 16×16 2, 286×286 0 (seeds 1;2)');
    expect(md).not.toContain('Key comparison');
    expect(md).toContain('| 286×286 | not run | 0.42 | not run | 0.16 | not run | 0.11 |');
  });

  it('states dataset, image size, epochs, engine and segmenter', () => {
    const md = markdownFromCsv(CSV, 'patch-size.csv');
    expect(md).toContain('- Dataset: synthetic street scenes (100 images) (synthetic)');
    expect(md).toContain('- Image size: 128²');
    expect(md).toContain('- Epochs (constant + linear decay): 2+2');
    expect(md).toContain('- Engine: wasm');
    expect(md).toContain('- Scorer: trained U-Net segmenter');
    expect(md).toContain('![samples](patch-size/samples.png)');
  });

  it('says nothing about synthetic data for a real dataset', () => {
    const md = markdownFromCsv(CSV.replaceAll('synthetic,synthetic street scenes (100 images)', 'folder,Cityscapes val'), 'x.csv');
    expect(md).not.toMatch(/synthetic/i);
    expect(md).toContain('| Variant | Per-pixel acc. ours | Per-pixel acc. paper |');
  });

  it('regenerates <name>.md next to each CSV, and rejects files that are not results CSVs', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'p2p-table-'));
    const csv = path.join(dir, 'patch-size.csv');
    await writeFile(csv, CSV);
    expect(await regenerateTables([csv], () => {})).toEqual([path.join(dir, 'patch-size.md')]);
    expect(await readFile(path.join(dir, 'patch-size.md'), 'utf8')).toBe(markdownFromCsv(CSV, csv));
    expect(() => parseCsv('a,b\n1,2\n', 'odd.csv')).toThrow(/^odd\.csv: missing column\(s\) experiment, title/);
    await expect(regenerateTables([path.join(dir, 'nope.csv')], () => {})).rejects.toThrow(/nope\.csv: cannot read it/);
  });
});

function result(variant: string, seed: number, pixelAcc: number, metrics?: Record<string, number>, hash = `h${seed}`): RunResult {
  return {
    experiment: 'demo',
    variant,
    label: variant,
    kind: 'generator',
    seed,
    hash,
    metrics: metrics ?? { pixelAcc, classAcc: pixelAcc / 2, classIoU: pixelAcc / 4 },
    frames: 3,
    engine: 'cpu',
    epochs: 1,
    epochsDecay: 1,
    size: 32,
    direction: 'BtoA',
    trainSeconds: 10,
    wallSeconds: 12,
    segmenter: 'seg',
    dataset: 'synthetic x',
    finishedAt: '2025-01-01T00:00:00Z',
  };
}

describe('summary rows', () => {
  it('computes mean and sample std over repeats (hand-computed)', () => {
    expect(mean([0.4, 0.6, 0.8])).toBeCloseTo(0.6, 12);
    // deviations −0.2, 0, 0.2 → (0.04 + 0 + 0.04) / 2 = 0.04 → 0.2
    expect(std([0.4, 0.6, 0.8])).toBeCloseTo(0.2, 12);
    expect(std([0.7])).toBe(0);
  });

  it('writes one row per variant with per-run values, status and the paper value, and round-trips through CSV', () => {
    const s: ExperimentSummary = {
      experiment: 'demo',
      title: 'Demo',
      table: 'Table 1',
      task: 'labels2photo',
      profile: 'ci',
      metrics: ['pixelAcc', 'classAcc', 'classIoU'],
      datasetKind: 'synthetic',
      dataset: 'synthetic x',
      variants: [
        {
          variant: 'L1',
          label: 'L1',
          kind: 'generator',
          settings: { loss: 'L1' },
          paper: { pixelAcc: 0.42 },
          results: [result('L1', 1, 0.4), result('L1', 2, 0.8)],
          expectedRuns: 2,
        },
        { variant: 'cGAN', label: 'cGAN', kind: 'generator', settings: { loss: 'cGAN' }, paper: {}, results: [result('cGAN', 1, 0.5)], expectedRuns: 2 },
      ],
    };
    const { fields, rows } = summaryRows(s);
    expect(rows[0]).toMatchObject({
      variant: 'L1',
      status: 'done',
      pixelAcc_mean: '0.6',
      pixelAcc_paper: '0.42',
      pixelAcc_runs: '0.4;0.8',
      repeats: '2',
      seeds: '1;2',
      wall_seconds: '24',
      epochs: '1+1',
      engine: 'cpu',
      settings: '{"loss":"L1"}',
    });
    expect(Number(rows[0]!.pixelAcc_std)).toBeCloseTo(Math.SQRT2 * 0.2, 5);
    expect(rows[1]).toMatchObject({ variant: 'cGAN', status: 'partial 1/2', pixelAcc_std: '0', pixelAcc_paper: '' });
    const back = parseCsv(toCsv(fields, rows), 'demo.csv');
    expect(back.fields).toEqual(fields);
    expect(back.rows).toEqual(rows);
  });
});

/** Three seeds of two variants with a declared key comparison, run hashes `<variant>-<seed>`. */
function comparedSummary(experiment: string, table: string): ExperimentSummary {
  const runs = (v: string, px: number[], ca: number[]): RunResult[] =>
    px.map((p, i) => ({ ...result(v, i + 1, p, { pixelAcc: p, classAcc: ca[i]!, classIoU: 0.1 }, `${v}-${i + 1}`), experiment }));
  return {
    experiment,
    title: 'Demo',
    table,
    task: 'labels2photo',
    profile: 'quick',
    metrics: ['pixelAcc', 'classAcc', 'classIoU'],
    datasetKind: 'synthetic',
    dataset: 'synthetic x',
    compare: { a: 'rf1', b: 'rf70' },
    variants: [
      {
        variant: 'rf1',
        label: '1×1',
        kind: 'generator',
        settings: { rf: 1 },
        paper: {},
        results: runs('rf1', [0.5, 0.6, 0.7], [0.2, 0.2, 0.2]),
        expectedRuns: 3,
      },
      // Listed in seed order 3, 1, 2 to check pairing by seed, not by position.
      {
        variant: 'rf70',
        label: '70×70',
        kind: 'generator',
        settings: { rf: 70 },
        paper: {},
        results: runs('rf70', [0.6, 0.8, 0.7], [0.3, 0.31, 0.32]).sort((x, y) => (x.seed % 3) - (y.seed % 3)),
        expectedRuns: 3,
      },
    ],
  };
}

describe('confidence intervals and the key comparison', () => {
  it('writes the 95% interval of each mean, the run hashes and the comparison into the CSV', () => {
    const { rows } = summaryRows(comparedSummary('demo', 'Table 3'));
    // 0.5, 0.6, 0.7: mean 0.6, sd 0.1, half width t(0.975, 2) · 0.1 / √3 = 4.302653 · 0.057735 = 0.248414.
    expect(Number(rows[0]!.pixelAcc_ci95_lo)).toBeCloseTo(0.6 - 0.248414, 5);
    expect(Number(rows[0]!.pixelAcc_ci95_hi)).toBeCloseTo(0.6 + 0.248414, 5);
    expect(rows[0]).toMatchObject({ run_hashes: 'rf1-1;rf1-2;rf1-3', compare: 'rf1;rf70' });
  });

  it('reports b − a paired by seed with its interval, and claims a direction only when the interval excludes 0', () => {
    const { fields, rows } = summaryRows(comparedSummary('demo', 'Table 3'));
    const md = markdownFromCsv(toCsv(fields, rows), 'demo.csv');
    expect(md).toContain('## Key comparison: 70×70 − 1×1 (paired by seed)');
    // pixel: differences 0.1, 0.2, 0 → +0.100, half width 0.248414 → includes 0.
    expect(md).toContain('| Per-pixel acc. | 3 | +0.100 | [−0.148, +0.348] | no difference shown (the interval includes 0) |');
    // class acc.: differences 0.1, 0.11, 0.12 → +0.110, sd 0.01, half width 0.024841.
    expect(md).toContain('| Per-class acc. | 3 | +0.110 | [+0.085, +0.135] | 70×70 higher than 1×1 |');
    expect(md).toContain('| 1×1 | 0.600 [0.352, 0.848] |');
  });

  it('says when the profile does not run both compared variants', () => {
    const s = comparedSummary('demo', 'Table 3');
    s.variants = s.variants.slice(0, 1);
    const { fields, rows } = summaryRows(s);
    expect(markdownFromCsv(toCsv(fields, rows), 'demo.csv')).toContain('Not computed: this profile does not run both variants.');
  });

  it('marks rows whose runs also appear in another table (results table over several CSVs)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'p2p-shared-'));
    const a = summaryRows(comparedSummary('patch-size', 'Table 3'));
    const other = comparedSummary('losses', 'Table 1');
    other.variants = [{ ...other.variants[1]!, variant: 'l1cgan', label: 'L1+cGAN' }];
    const b = summaryRows(other);
    await writeFile(path.join(dir, 'patch-size.csv'), toCsv(a.fields, a.rows));
    await writeFile(path.join(dir, 'losses.csv'), toCsv(b.fields, b.rows));
    await writeFile(path.join(dir, 'old.csv'), CSV);
    await regenerateTables(
      ['patch-size', 'losses', 'old'].map((n) => path.join(dir, `${n}.csv`)),
      () => {},
    );
    const md = await readFile(path.join(dir, 'patch-size.md'), 'utf8');
    expect(md).toContain('| 70×70 † |');
    expect(md).toContain('| 1×1 | ');
    expect(md).toContain('† 70×70: the same trained runs (same settings and seeds) also appear in Table 1 (`losses`, L1+cGAN); not independent evidence.');
    expect(await readFile(path.join(dir, 'losses.md'), 'utf8')).toContain('also appear in Table 3 (`patch-size`, 70×70)');
    expect(await readFile(path.join(dir, 'old.md'), 'utf8')).not.toContain('†');
  });
});

describe('figure drawing', () => {
  it('picks round ticks and labels them with the decimals their step needs', () => {
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.3605, 0.3612).map((t) => tickLabel(t, 0.0002))).toEqual(['0.3606', '0.3608', '0.3610', '0.3612']);
  });

  it('draws text as pixels', () => {
    const c = canvas(20, 10);
    drawText(c, 'I', 0, 0);
    // 'I' row 0 is 0x0e: columns 1–3 black.
    expect([...c.data.subarray(0, 15)]).toEqual([255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255]);
  });
});
