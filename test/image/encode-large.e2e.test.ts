/**
 * An image above sharp's default input limit (0x3FFF², 268 Mpx) that is already in memory encodes:
 * the limit guards file headers, and applied to infer's own output it failed a 20000×20000 image
 * after the whole translation ("Input image exceeds pixel limit").
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeRgb } from '../../src/image/encode.ts';

describe('encodeRgb above 268 Mpx', () => {
  it('writes a 16385×16385 PNG', { timeout: 120_000 }, async () => {
    const [width, height] = [16385, 16385];
    expect(width * height).toBeGreaterThan(0x3fff * 0x3fff);
    const png = await encodeRgb({ width, height, data: new Uint8Array(width * height * 3) }, 'png');
    expect(await sharp(png, { limitInputPixels: false }).metadata()).toMatchObject({ format: 'png', width, height });
  });
});
