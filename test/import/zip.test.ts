import { describe, expect, it } from 'vitest';
import { listZip, readZipEntry } from '../../src/import/zip.ts';

/**
 * A one-entry stored zip written by hand. With `zip64`, the central directory says 0xFFFFFFFF for
 * sizes and offset and puts the real values in a ZIP64 extra field, and the end record points to a
 * ZIP64 end record (what writers do for archives over 4 GiB).
 */
function oneEntryZip(name: string, data: Uint8Array, zip64: boolean, localExtra = 0): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const parts: Uint8Array[] = [];
  const block = (n: number, fill: (dv: DataView) => void): void => {
    const b = new Uint8Array(n);
    fill(new DataView(b.buffer));
    parts.push(b);
  };
  const pos = (): number => parts.reduce((s, p) => s + p.length, 0);
  block(30, (dv) => {
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, nameBytes.length, true);
    dv.setUint16(28, localExtra, true); // padding, as torch aligns tensor data
  });
  parts.push(nameBytes, new Uint8Array(localExtra), data);
  const cdStart = pos();
  const extraLen = zip64 ? 4 + 24 : 0;
  block(46, (dv) => {
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint32(20, zip64 ? 0xffffffff : data.length, true);
    dv.setUint32(24, zip64 ? 0xffffffff : data.length, true);
    dv.setUint16(28, nameBytes.length, true);
    dv.setUint16(30, extraLen, true);
    dv.setUint32(42, zip64 ? 0xffffffff : 0, true);
  });
  parts.push(nameBytes);
  if (zip64) {
    block(extraLen, (dv) => {
      dv.setUint16(0, 1, true);
      dv.setUint16(2, 24, true);
      dv.setBigUint64(4, BigInt(data.length), true); // size
      dv.setBigUint64(12, BigInt(data.length), true); // compressed size
      dv.setBigUint64(20, 0n, true); // local header offset
    });
  }
  const cdSize = pos() - cdStart;
  if (zip64) {
    const z64 = pos();
    block(56, (dv) => {
      dv.setUint32(0, 0x06064b50, true);
      dv.setBigUint64(4, 44n, true);
      dv.setBigUint64(24, 1n, true);
      dv.setBigUint64(32, 1n, true);
      dv.setBigUint64(40, BigInt(cdSize), true);
      dv.setBigUint64(48, BigInt(cdStart), true);
    });
    block(20, (dv) => {
      dv.setUint32(0, 0x07064b50, true);
      dv.setBigUint64(8, BigInt(z64), true);
      dv.setUint32(16, 1, true);
    });
  }
  block(22, (dv) => {
    dv.setUint32(0, 0x06054b50, true);
    dv.setUint16(8, zip64 ? 0xffff : 1, true);
    dv.setUint16(10, zip64 ? 0xffff : 1, true);
    dv.setUint32(12, zip64 ? 0xffffffff : cdSize, true);
    dv.setUint32(16, zip64 ? 0xffffffff : cdStart, true);
  });
  const out = new Uint8Array(pos());
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('zip reader', () => {
  const data = new TextEncoder().encode('tensor bytes');
  for (const zip64 of [false, true]) {
    it(`finds a stored entry through the central directory${zip64 ? ' with ZIP64 sizes and offsets' : ''}, past local padding`, () => {
      const zip = oneEntryZip('archive/data/0', data, zip64, 13);
      const [e, ...rest] = listZip(zip);
      expect(rest).toEqual([]);
      expect(e).toMatchObject({ name: 'archive/data/0', method: 0, size: data.length, compressedSize: data.length, localHeaderOffset: 0 });
      expect(new TextDecoder().decode(readZipEntry(zip, e!))).toBe('tensor bytes');
    });
  }

  it('refuses a truncated archive and an unknown compression method in one line', () => {
    const zip = oneEntryZip('a', data, false);
    expect(() => listZip(zip.subarray(0, zip.length - 5))).toThrow(/no end-of-central-directory record/);
    const [e] = listZip(zip);
    expect(() => readZipEntry(zip, { ...e!, method: 12 })).toThrow(/compression method 12/);
    expect(() => readZipEntry(zip, { ...e!, compressedSize: 1000 })).toThrow(/runs past the end/);
  });
});
