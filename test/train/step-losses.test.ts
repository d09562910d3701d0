import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendStepLosses, truncateStepLosses } from '../../src/train/step-losses.ts';

const row = (step: number) => ({ step, G_GAN: step / 10, G_L1: 0.5, D_real: 0.25, D_fake: 0.125 });

describe('losses-steps.csv', () => {
  it('writes the header once and appends rows', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'p2p-steps-')), 'losses-steps.csv');
    await appendStepLosses(file, [row(1), row(2)]);
    await appendStepLosses(file, [row(3)]);
    expect(await readFile(file, 'utf8')).toBe('step,G_GAN,G_L1,D_real,D_fake\n1,0.1,0.5,0.25,0.125\n2,0.2,0.5,0.25,0.125\n3,0.3,0.5,0.25,0.125\n');
  });

  it('on resume drops rows past the checkpoint step and a torn last line; a fresh run removes the file', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'p2p-steps-')), 'losses-steps.csv');
    await appendStepLosses(file, [row(1), row(2), row(3), row(4)]);
    await writeFile(file, `${await readFile(file, 'utf8')}5,0.5,0.`, { flag: 'w' });
    await truncateStepLosses(file, 2);
    expect(await readFile(file, 'utf8')).toBe('step,G_GAN,G_L1,D_real,D_fake\n1,0.1,0.5,0.25,0.125\n2,0.2,0.5,0.25,0.125\n');
    await appendStepLosses(file, [row(3)]);
    expect(
      (await readFile(file, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(',')[0]),
    ).toEqual(['step', '1', '2', '3']);
    await truncateStepLosses(file, 0);
    expect(existsSync(file)).toBe(false);
    await truncateStepLosses(file, 3); // nothing to do without a file
    expect(existsSync(file)).toBe(false);
  });
});
