/**
 * The library API as docs/api.md shows it, end to end at a tiny size: synthesize, train, export,
 * translate, then score the translations with a segmenter opened through the root entry.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isUserError, translateFolder, openSession } from '../src/index.ts';
import { exportCheckpoint } from '../src/export/index.ts';
import { resolveTrainConfig, synthesizeDataset, train } from '../src/train/index.ts';

const work = mkdtempSync(path.join(tmpdir(), 'pix2pix-api-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('library API (docs/api.md)', () => {
  it('synthesizes, trains, exports and translates through the package entries', async () => {
    const data = path.join(work, 'synth');
    await synthesizeDataset({ out: data, count: 10, size: 32, seed: 1, splits: { train: 0.6, val: 0.2, test: 0.2 } });
    const config = resolveTrainConfig({
      data,
      out: path.join(work, 'run'),
      direction: 'BtoA',
      size: 32,
      epochs: 1,
      ngf: 4,
      ndf: 4,
      engine: 'cpu',
      valLimit: 1,
      sampleRows: 1,
    });
    expect(config.nEpochs + config.nEpochsDecay).toBe(1);
    const trained = await train(config, { quiet: true });
    expect(trained.history).toHaveLength(1);
    const { out: model } = await exportCheckpoint({ checkpoint: path.join(work, 'run'), verifyImages: 1 });
    const result = await translateFolder({ model, input: path.join(data, 'test'), output: path.join(work, 'out'), abSide: 'B', quiet: true });
    expect(result.failed).toEqual([]);
    expect(result.translated).toBe(readdirSync(path.join(data, 'test')).filter((f) => /\.(png|jpg)$/.test(f)).length);

    const session = await openSession(model, { provider: 'cpu' });
    const { dims } = await session.run(new Float32Array(1 * 3 * 32 * 32), [1, 3, 32, 32]);
    expect(dims).toEqual([1, 3, 32, 32]);
    expect(session.provider).toBe('cpu');
    await session.close();
  });

  it('reports bad input as a UserError with a one-line message', async () => {
    const err = await translateFolder({ model: path.join(work, 'missing.onnx'), input: work, output: path.join(work, 'o2'), quiet: true }).catch(
      (e: unknown) => e,
    );
    expect(isUserError(err)).toBe(true);
    expect(String((err as Error).message)).not.toContain('\n');
  });
});
