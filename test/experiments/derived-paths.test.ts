import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { halfDir, safeFolderName } from '../../src/experiments/stages.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { isInside } from '../../src/util/paths.ts';

describe('derived folders of eval run', () => {
  it('keep plain split names (existing results stay valid) and flatten any other path into one hashed component', () => {
    expect(safeFolderName('test')).toBe('test');
    expect(safeFolderName('val')).toBe('val');
    const odd = ['../../../../elsewhere/test', '/abs/test', '..', '.', 'a/b', 'a b'];
    const names = odd.map(safeFolderName);
    for (const n of names) {
      expect(n).toMatch(/^[A-Za-z0-9_.+-]+$/);
      expect(n.startsWith('.')).toBe(false);
    }
    expect(new Set(names).size).toBe(odd.length);
    expect(safeFolderName('../../../../elsewhere/test')).toMatch(/^elsewhere_test-[0-9a-f]{8}$/);
  });

  it('halfDir stays inside --out whatever the split says', () => {
    const out = '/results';
    for (const split of ['test', '../../../../elsewhere/test', '/etc', '..']) expect(isInside(out, path.resolve(halfDir(out, 'h', split, 'A', 64)))).toBe(true);
  });
});

describe('experiment file limits', () => {
  it('refuses text over 1 MiB without parsing it', () => {
    expect(() => parseExperiment(`experiment: x\n#${'y'.repeat(2 ** 20)}\n`, 'big.yaml')).toThrow(
      /^big\.yaml: the experiment file is 1\.0 MiB; experiment files are limited to 1\.0 MiB$/,
    );
  });

  it('accepts ordinary anchors and aliases', () => {
    const text = `experiment: x
title: t
table: T
task: color
dataset: { synthetic: { count: 4, size: 8, seed: 1 } }
train: &base { ngf: 4 }
variants:
  - { name: a, train: *base }
  - { name: b, train: *base }
`;
    expect(parseExperiment(text, 'ok.yaml').variants.map((v) => v.train)).toEqual([{ ngf: 4 }, { ngf: 4 }]);
  });
});
