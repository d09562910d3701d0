import { describe, expect, it } from 'vitest';
import { outputNames } from '../../src/runtime/output-names.ts';
import { Rng } from '../../src/util/rng.ts';

const fold = (s: string): string => s.normalize('NFC').toLowerCase();

describe('outputNames', () => {
  it('maps a.png, a.jpg, a_png.png to three names; a_png.png keeps its own', () => {
    const m = outputNames(['a.jpg', 'a.png', 'a_png.png'], 'png');
    expect(Object.fromEntries(m)).toEqual({ 'a.jpg': 'a_jpg.png', 'a.png': 'a_png_2.png', 'a_png.png': 'a_png.png' });
  });

  it('separates names that differ only in case (A.png / a.png), in files and in folders', () => {
    expect(Object.fromEntries(outputNames(['A.png', 'a.png'], 'png'))).toEqual({ 'A.png': 'A_png.png', 'a.png': 'a_png_2.png' });
    const m = outputNames(['Sub/x.png', 'sub/x.png', 'sub/y.png'], 'jpg');
    expect(new Set([...m.values()].map(fold)).size).toBe(3);
    expect(m.get('sub/y.png')).toBe('sub/y.jpg');
  });

  it('keeps natural names when nothing clashes, and is the same for every shard (a function of the whole list)', () => {
    expect([...outputNames(['a.jpg', 'b.JPG', 'd/c.tif'], 'png').values()]).toEqual(['a.png', 'b.png', 'd/c.png']);
  });

  it('is injective on case-folded names for random lists of clashing names', () => {
    const rng = new Rng(7);
    const stems = ['a', 'A', 'a_png', 'a_PNG', 'a_jpg', 'a_png_2', 'b', 'x/a', 'X/a'];
    const exts = ['png', 'PNG', 'jpg', 'jpeg', 'tif'];
    for (let trial = 0; trial < 200; trial++) {
      const set = new Set<string>();
      const n = 1 + Math.floor(rng.next() * 12);
      for (let i = 0; i < n; i++) set.add(`${stems[Math.floor(rng.next() * stems.length)]}.${exts[Math.floor(rng.next() * exts.length)]}`);
      const inputs = [...set].sort();
      const names = [...outputNames(inputs, 'png').values()];
      expect(new Set(names.map(fold)).size).toBe(inputs.length);
      for (const name of names) expect(name.endsWith('.png')).toBe(true);
    }
  });
});
