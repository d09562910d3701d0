import { describe, expect, it } from 'vitest';
import { describeUnknownFlags, editDistance, suggestFlags, unknownFlags } from '../../src/options/suggest.ts';

const SPELLINGS = new Map([
  ['batch-size', 'batch-size'],
  ['batch_size', 'batch-size'],
  ['out', 'out'],
  ['output', 'out'],
  ['lr', 'lr'],
  ['rf', 'rf'],
  ['flip', 'flip'],
  ['help', 'help'],
  ['h', 'help'],
]);

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one edit each', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('batch', 'batch')).toBe(0);
    expect(editDistance('batch', 'bacth')).toBe(1); // swap
    expect(editDistance('batch', 'batc')).toBe(1); // deletion
    expect(editDistance('batch', 'bxtch')).toBe(1); // substitution
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ca', 'abc')).toBe(3); // optimal string alignment: no edit of a swapped pair
  });
});

describe('suggestFlags', () => {
  it('finds the canonical flag through any spelling, ignoring case and _ versus -', () => {
    expect(suggestFlags('batch_sise', SPELLINGS)).toEqual(['batch-size']);
    expect(suggestFlags('Batch-Size', SPELLINGS)).toEqual(['batch-size']);
    expect(suggestFlags('outptu', SPELLINGS)).toEqual(['out']);
    expect(suggestFlags('batch', SPELLINGS)).toEqual(['batch-size']); // a prefix
  });

  it('suggests nothing for a far or very short flag', () => {
    expect(suggestFlags('bogus-flag', SPELLINGS)).toEqual([]);
    expect(suggestFlags('x', SPELLINGS)).toEqual([]);
  });
});

describe('unknownFlags', () => {
  it('names each unknown flag once, as typed, skipping values, negative numbers, --no- forms and what follows --', () => {
    const args = ['train', '--out', 'o', '--bogus-flag', '1', '--bogus-flag=2', '--gpu-ids', '-1', '--no-flip', '-h', '--x=3', '--', '--after'];
    expect(unknownFlags(args, SPELLINGS)).toEqual(['--bogus-flag', '--gpu-ids', '--x']);
  });

  it('describes them in one line with the suggestions', () => {
    expect(describeUnknownFlags(['--bogus-flag', '--batch_sise'], SPELLINGS)).toBe('--bogus-flag, --batch_sise (did you mean --batch-size?)');
  });
});
