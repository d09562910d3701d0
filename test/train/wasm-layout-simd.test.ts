/**
 * The WebAssembly im2col/col2im (the ort-cpu and wasm engines' rearrangements on the tfjs heap) write
 * exactly what the JS versions write, bit for bit, on every geometry the networks use and on the awkward
 * ones: chunks that start mid-batch, runs that are not a multiple of four floats, taps wholly outside
 * the image, unaligned heap offsets.
 */
import { describe, expect, it } from 'vitest';
import type { ConvGeometry } from '../../src/train/engines/wasm-kernels/geometry.ts';
import { col2imRowsAdd, im2colRows } from '../../src/train/engines/wasm-kernels/layout.ts';
import { col2imRowsAddOn, im2colRowsOn, layoutSimdFor } from '../../src/train/engines/wasm-kernels/layout-simd.ts';

function geometry(g: Omit<ConvGeometry, 'outC' | 'padBottom' | 'padRight'>): ConvGeometry {
  return { ...g, outC: 1, padBottom: 0, padRight: 0 };
}

const k4s2 = (batch: number, side: number, inC: number): ConvGeometry =>
  geometry({ batch, inH: side, inW: side, inC, outH: side / 2, outW: side / 2, kH: 4, kW: 4, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 });

const CASES: { name: string; g: ConvGeometry; row0: number; rows: number }[] = [
  { name: 'U-Net first layer, 3 channels (12-float runs)', g: k4s2(1, 16, 3), row0: 0, rows: 8 },
  { name: 'PatchGAN first layer, 6 channels', g: k4s2(1, 16, 6), row0: 0, rows: 8 },
  { name: '16 channels, batch 2, a chunk starting mid-batch', g: k4s2(2, 8, 16), row0: 3, rows: 4 },
  { name: 'innermost 2×2 → 1×1 (most taps outside)', g: k4s2(1, 2, 8), row0: 0, rows: 1 },
  {
    name: 'k4 s1 p1, 5 channels (20-float runs)',
    g: geometry({ batch: 1, inH: 6, inW: 5, inC: 5, outH: 5, outW: 4, kH: 4, kW: 4, strideH: 1, strideW: 1, padTop: 1, padLeft: 1 }),
    row0: 1,
    rows: 3,
  },
  {
    name: 'k3, 5 channels (15-float runs: the scalar tail), padding wider than the image',
    g: geometry({ batch: 1, inH: 2, inW: 2, inC: 5, outH: 3, outW: 4, kH: 3, kW: 3, strideH: 1, strideW: 1, padTop: 2, padLeft: 3 }),
    row0: 0,
    rows: 3,
  },
];

/** A fresh memory with the image and the column matrix at unaligned byte offsets, filled with random floats. */
function heapWith(imageFloats: number, colFloats: number): { memory: WebAssembly.Memory; image: Float32Array; cols: Float32Array } {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const image = new Float32Array(memory.buffer, 4, imageFloats);
  const cols = new Float32Array(memory.buffer, 4 + 4 * imageFloats + 12, colFloats);
  for (const a of [image, cols]) for (let i = 0; i < a.length; i++) a[i] = Math.fround(Math.random() * 2 - 1);
  return { memory, image, cols };
}

const sizes = (g: ConvGeometry, rows: number): [number, number] => [g.batch * g.inH * g.inW * g.inC, rows * g.outW * g.kH * g.kW * g.inC];

describe('WebAssembly im2col / col2im on the heap', () => {
  it('is available on this Node (SIMD and bulk memory)', () => {
    expect(layoutSimdFor(new WebAssembly.Memory({ initial: 1 }))).not.toBeNull();
  });

  for (const { name, g, row0, rows } of CASES) {
    it(`im2colRows: ${name}: bit-identical to the JS version`, () => {
      const { memory, image, cols } = heapWith(...sizes(g, rows));
      const expected = new Float32Array(cols.length).fill(Number.NaN);
      im2colRows(image, g, row0, rows, expected);
      im2colRowsOn(layoutSimdFor(memory), image, g, row0, rows, cols);
      expect(Buffer.from(cols.buffer, cols.byteOffset, cols.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
    });

    it(`col2imRowsAdd: ${name}: adds into dx bit-identically to the JS version`, () => {
      const { memory, image: dx, cols } = heapWith(...sizes(g, rows));
      const expected = Float32Array.from(dx);
      col2imRowsAdd(cols, g, row0, rows, expected);
      col2imRowsAddOn(layoutSimdFor(memory), cols, g, row0, rows, dx);
      expect(Buffer.from(dx.buffer, dx.byteOffset, dx.byteLength).equals(Buffer.from(expected.buffer))).toBe(true);
    });
  }

  it('refuses views too short for the geometry instead of writing past them', () => {
    const g = k4s2(1, 8, 4);
    const [imageFloats, colFloats] = sizes(g, 4);
    const { memory, image, cols } = heapWith(imageFloats, colFloats);
    const simd = layoutSimdFor(memory);
    expect(() => im2colRowsOn(simd, image, g, 0, 4, cols.subarray(1))).toThrow(/need an image of 256 and columns of 1024 floats/);
    expect(() => col2imRowsAddOn(simd, cols, g, 1, 4, image)).toThrow(/rows \[1, 5\)/);
  });

  it('falls back to the JS version for arrays that are not on the memory', () => {
    const g = k4s2(1, 8, 4);
    const [imageFloats, colFloats] = sizes(g, 4);
    const { memory } = heapWith(1, 1);
    const image = Float32Array.from({ length: imageFloats }, (_, i) => i);
    const cols = new Float32Array(colFloats);
    const expected = new Float32Array(colFloats);
    im2colRows(image, g, 0, 4, expected);
    im2colRowsOn(layoutSimdFor(memory), image, g, 0, 4, cols);
    expect(cols).toEqual(expected);
  });
});
