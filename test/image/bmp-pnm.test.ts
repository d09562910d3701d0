import { describe, expect, it } from 'vitest';
import { decodeBmp, decodePnm } from '../../src/image/bmp-pnm.ts';
import { ascii, bmp } from './fixtures.ts';

describe('decodeBmp', () => {
  it('reads 24-bit bottom-up rows in BGR order, skipping row padding', () => {
    // File order is bottom row first: bottom = (blue, white), top = (red, green).
    const img = decodeBmp(
      bmp(2, 2, 24, [
        [255, 0, 0, 255, 255, 255],
        [0, 0, 255, 0, 255, 0],
      ]),
    );
    expect(img).toEqual({ width: 2, height: 2, data: new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]) });
  });

  it('reads 32-bit top-down rows (negative height) and drops the 4th byte', () => {
    const img = decodeBmp(
      bmp(1, -2, 32, [
        [10, 20, 30, 0],
        [40, 50, 60, 255],
      ]),
    );
    expect(Array.from(img.data)).toEqual([30, 20, 10, 60, 50, 40]);
  });

  it('reads 8-bit palette images', () => {
    const palette = [0, 0, 200, 0, 0, 200, 0, 0]; // index 0 = red (BGRA), 1 = green
    const img = decodeBmp(bmp(3, 1, 8, [[1, 0, 1]], palette));
    expect(Array.from(img.data)).toEqual([0, 200, 0, 200, 0, 0, 0, 200, 0]);
  });

  it('rejects truncated pixel data and unsupported depths', () => {
    const whole = bmp(4, 4, 24, []);
    expect(() => decodeBmp(whole.subarray(0, whole.length - 5))).toThrow(/truncated/);
    expect(() => decodeBmp(bmp(4, 4, 16, []))).toThrow(/16-bit BMP is not supported/);
  });
});

describe('decodePnm', () => {
  it('reads binary P6 and P5 (gray replicated to RGB)', () => {
    expect(Array.from(decodePnm(new Uint8Array([...ascii('P6\n2 1\n255\n'), 255, 0, 0, 1, 2, 3])).data)).toEqual([255, 0, 0, 1, 2, 3]);
    expect(Array.from(decodePnm(new Uint8Array([...ascii('P5 2 1 255 '), 7, 9])).data)).toEqual([7, 7, 7, 9, 9, 9]);
  });

  it('reads ASCII P3 with comments and scales a maxval other than 255', () => {
    const img = decodePnm(ascii('P3\n# a comment\n2 1 # more\n15\n15 0 0  0 15 5\n'));
    expect([img.width, img.height]).toEqual([2, 1]);
    expect(Array.from(img.data)).toEqual([255, 0, 0, 0, 255, 85]);
  });

  it('reads 16-bit big-endian samples', () => {
    expect(Array.from(decodePnm(new Uint8Array([...ascii('P5\n1 1\n65535\n'), 0x80, 0x00])).data)).toEqual([128, 128, 128]);
  });

  it('rejects truncated data', () => {
    expect(() => decodePnm(new Uint8Array([...ascii('P6\n2 2\n255\n'), 1, 2, 3]))).toThrow(/truncated/);
    expect(() => decodePnm(ascii('P3\n2 1\n255\n1 2 3'))).toThrow(/truncated or malformed/);
  });
});
