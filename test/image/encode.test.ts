import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeRgb } from '../../src/image/encode.ts';

const img = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 10, 20, 30]) };

async function decoded(bytes: Uint8Array): Promise<{ format?: string; width?: number; height?: number; data: number[] }> {
  const s = sharp(bytes);
  const meta = await s.metadata();
  const raw = await s.removeAlpha().raw().toBuffer();
  return { format: meta.format, width: meta.width, height: meta.height, data: Array.from(raw) };
}

describe('encodeRgb', () => {
  it('writes PNG losslessly and deterministically', async () => {
    const png = await encodeRgb(img, 'png');
    expect(await decoded(png)).toEqual({ format: 'png', width: 2, height: 1, data: Array.from(img.data) });
    expect(Buffer.compare(Buffer.from(png), Buffer.from(await encodeRgb(img, 'png')))).toBe(0);
  });

  it('writes JPEG and WebP, a flat block within 3 levels at the default quality 95', async () => {
    const flat = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(140) };
    for (const format of ['jpg', 'webp'] as const) {
      const d = await decoded(await encodeRgb(flat, format));
      expect(d.format).toBe(format === 'jpg' ? 'jpeg' : 'webp');
      for (const v of d.data) expect(Math.abs(v - 140)).toBeLessThanOrEqual(3);
    }
  });

  it('resizes first when asked, and only when the size differs', async () => {
    const d = await decoded(await encodeRgb(img, 'png', { resizeTo: { width: 4, height: 3 } }));
    expect([d.width, d.height]).toEqual([4, 3]);
    expect((await decoded(await encodeRgb(img, 'png', { resizeTo: { width: 2, height: 1 } }))).data).toEqual(Array.from(img.data));
  });

  it('rejects pixels that do not match the size', async () => {
    await expect(encodeRgb({ width: 2, height: 2, data: img.data }, 'png')).rejects.toThrow(/2×2×3 does not match 6 bytes/);
  });
});
