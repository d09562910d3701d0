import { describe, expect, it } from 'vitest';
import { formatRfTable, rfTable } from '../../src/nets/rf-table.ts';

describe('receptive-field table', () => {
  it('lists the receptive fields, maps, params and MACs at 256² (docs/reference.md#discriminator)', () => {
    const rows = rfTable({ size: 256 });
    expect(rows.map((r) => r.receptiveField)).toEqual([1, 16, 34, 70, 142, 286, 574]);
    expect(rows.map((r) => r.outputSide)).toEqual([256, 126, 62, 30, 14, 6, 2]);
    expect(rows.map((r) => r.kind)).toEqual(['pixel', 'patch', 'patch', 'patch', 'patch', 'patch', 'patch']);
    expect(rows[3]).toMatchObject({ params: 2_768_705, macs: 3_197_140_992, paperName: '70×70 PatchGAN (default)' });
  });
  it('marks a discriminator too deep for small images', () => {
    const rows = rfTable({ size: 64, nLayers: [5] });
    expect(rows[0].outputSide).toBe(0);
    expect(formatRfTable(rows, 64)).toMatch(/\| 5 \| PatchGAN \| 286×286 .* too deep/);
    expect(rfTable({ size: 128, nLayers: [5] })[0].outputSide).toBe(2);
  });
});
