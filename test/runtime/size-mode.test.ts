import { describe, expect, it } from 'vitest';
import { parseSizeFlag, resolveSizeMode } from '../../src/runtime/size-mode.ts';

const free = { staticSize: false, size: 256, sizeMultiple: 256 };
const fixed = { staticSize: true, size: 256, sizeMultiple: 1 };

describe('resolveSizeMode', () => {
  it('defaults to native for free-size models and to the fixed side otherwise', () => {
    expect(resolveSizeMode({}, free)).toEqual({ kind: 'native', multiple: 256, overlap: 0 });
    expect(resolveSizeMode({}, fixed)).toEqual({ kind: 'square', size: 256 });
    expect(resolveSizeMode({ size: 512 }, free)).toEqual({ kind: 'square', size: 512 });
  });

  it('takes tiles at native size, overlap defaulting to a quarter tile', () => {
    expect(resolveSizeMode({ tile: 512 }, free)).toEqual({ kind: 'native', multiple: 256, tile: 512, overlap: 128 });
    expect(resolveSizeMode({ tile: 256, overlap: 0 }, free)).toMatchObject({ tile: 256, overlap: 0 });
  });

  it('refuses what the model cannot take, saying why', () => {
    expect(() => resolveSizeMode({ size: 'native' }, fixed)).toThrow(/fixed at 256×256; use --size 256/);
    expect(() => resolveSizeMode({ size: 300 }, free)).toThrow(/multiples of 256/);
    expect(() => resolveSizeMode({ size: 256, tile: 256 }, free)).toThrow(/--tile runs at native size/);
    expect(() => resolveSizeMode({ tile: 300 }, free)).toThrow(/multiples of 256/);
    expect(() => resolveSizeMode({ tile: 256, overlap: 256 }, free)).toThrow(/below --tile/);
    expect(() => resolveSizeMode({ overlap: 16 }, free)).toThrow(/needs --tile/);
  });
});

describe('parseSizeFlag', () => {
  it("accepts 'native' and positive integers", () => {
    expect(parseSizeFlag('native')).toBe('native');
    expect(parseSizeFlag('256')).toBe(256);
    expect(parseSizeFlag(undefined)).toBeUndefined();
    expect(() => parseSizeFlag('0')).toThrow(/'native' or a positive integer/);
  });
});
