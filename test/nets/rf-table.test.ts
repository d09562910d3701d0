import { describe, expect, it } from 'vitest';
import { formatRfTable, type RfRow, rfTable } from '../../src/nets/rf-table.ts';

describe('receptive-field table', () => {
  it('lists the receptive fields, maps, params and MACs at 256² (docs/reference.md#discriminator)', () => {
    // The one-scale kinds come first: the receptive fields --rf chooses from.
    const rows = rfTable({ size: 256 }).filter((r) => r.scales.length === 1);
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
  it('marks a multi-scale discriminator too deep when its coarsest scale has no logits, though the first has', () => {
    // At 64², four stride-2 layers leave a 2×2 map at full size and none at half size.
    const [row] = rfTable({ size: 64, shapes: [{ kind: 'multiscale', nLayers: 4 }] });
    expect(row.scales.map((s) => s.outputSide)).toEqual([2, 0]);
    expect(row.outputSide).toBe(0);
    expect(row.macs).toBe(0);
  });
  it('shows each scale of a multi-scale discriminator, separated by slashes', () => {
    const row: RfRow = {
      kind: 'patch',
      nLayers: 3,
      paperName: '',
      receptiveField: 141,
      outputSide: 30,
      scales: [
        { receptiveField: 70, outputSide: 30 },
        { receptiveField: 141, outputSide: 14 },
      ],
      params: 5_537_410,
      macs: 3_964_207_104,
    };
    expect(formatRfTable([row], 256).split('\n')[2]).toBe('| 3 | PatchGAN, 2 scales | 70×70 / 141×141 |  | 30×30 / 14×14 | 5,537,410 | 3,964,207,104 |');
  });
});
