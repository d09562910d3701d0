import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SYNTH_GENERATOR_VERSION } from '../../src/data/synth.ts';
import { parseCsv } from '../../src/experiments/report.ts';
import { PIPELINE_VERSION } from '../../src/experiments/version.ts';

// The committed results must come from the code in this checkout: a change that alters what a stage
// produces bumps PIPELINE_VERSION (or the synthetic generator's version), and this test then fails
// until every results file has been regenerated.
const ROOT = path.resolve(import.meta.dirname, '../..');
const RESULTS = path.join(ROOT, 'results');
const csvFiles = readdirSync(RESULTS)
  .filter((f) => f.endsWith('.csv'))
  .sort();
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('the committed results', () => {
  it('hold the five quick tables', () => {
    expect(csvFiles).toEqual(['color.csv', 'generator.csv', 'losses.csv', 'patch-size.csv', 'photo2labels.csv']);
  });

  for (const file of csvFiles) {
    const name = file.slice(0, -'.csv'.length);
    const { rows } = parseCsv(readFileSync(path.join(RESULTS, file), 'utf8'), file);
    const regenerate = `regenerate it: npx pix2pix eval run experiments/${name}.yaml --profile quick`;

    it(`${file} was written by this pipeline version (${PIPELINE_VERSION}) on this synthetic generator (v${SYNTH_GENERATOR_VERSION})`, () => {
      for (const r of rows) {
        expect(r.pipeline_version, `${file} ${r.variant}: pipeline version; ${regenerate}`).toBe(String(PIPELINE_VERSION));
        if (r.dataset_kind === 'synthetic')
          expect(r.dataset, `${file} ${r.variant}: synthetic generator; ${regenerate}`).toContain(`synth v${SYNTH_GENERATOR_VERSION}:`);
      }
    });

    it(`${file}: every trained row finished with at least three seeds`, () => {
      for (const r of rows.filter((x) => x.kind === 'generator')) {
        expect(r.status, `${file} ${r.variant}`).toBe('done');
        expect(Number(r.repeats), `${file} ${r.variant}: seeds`).toBeGreaterThanOrEqual(3);
      }
    });

    it(`${file} is named in the README`, () => {
      expect(README).toContain(`results/${name}.`);
    });
  }
});
