import { describe, expect, it } from 'vitest';
import { formatColumns } from '../../src/util/text-table.ts';

describe('formatColumns', () => {
  it('pads each column to its widest cell, two spaces apart, with no trailing spaces', () => {
    expect(
      formatColumns(
        ['name', 'size'],
        [
          ['facades', '~0.03 GB'],
          ['maps', '~0.25 GB'],
        ],
      ),
    ).toBe('name     size\nfacades  ~0.03 GB\nmaps     ~0.25 GB');
  });

  it('keeps a header wider than its cells', () => {
    expect(formatColumns(['translates', 'x'], [['a', '']])).toBe('translates  x\na');
  });
});
