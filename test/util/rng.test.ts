import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.ts';

describe('Rng.uniformSigned', () => {
  it('is 2·next() − 1 for each value, in draw order, and leaves the stream where next() would', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const xs = a.uniformSigned(5);
    expect(Array.from(xs)).toEqual(Array.from({ length: 5 }, () => Math.fround(b.next() * 2 - 1)));
    expect(a.next()).toBe(b.next());
    expect(xs.every((x) => x >= -1 && x < 1)).toBe(true);
  });
});
