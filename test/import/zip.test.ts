import { once } from 'node:events';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDeflateRaw } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInflatedTotal, listZip, readZipEntry } from '../../src/import/zip.ts';
import { runCliMeasured } from '../helpers/peak-rss.ts';

/**
 * A one-entry stored zip written by hand. With `zip64`, the central directory says 0xFFFFFFFF for
 * sizes and offset and puts the real values in a ZIP64 extra field, and the end record points to a
 * ZIP64 end record (what writers do for archives over 4 GiB).
 */
function oneEntryZip(name: string, data: Uint8Array, zip64: boolean, localExtra = 0, deflated?: { size: number }): Uint8Array {
  const method = deflated ? 8 : 0;
  const size = deflated ? deflated.size : data.length;
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
    dv.setUint16(8, method, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, size, true);
    dv.setUint16(26, nameBytes.length, true);
    dv.setUint16(28, localExtra, true); // padding, as torch aligns tensor data
  });
  parts.push(nameBytes, new Uint8Array(localExtra), data);
  const cdStart = pos();
  const extraLen = zip64 ? 4 + 24 : 0;
  block(46, (dv) => {
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(10, method, true);
    dv.setUint32(20, zip64 ? 0xffffffff : data.length, true);
    dv.setUint32(24, zip64 ? 0xffffffff : size, true);
    dv.setUint16(28, nameBytes.length, true);
    dv.setUint16(30, extraLen, true);
    dv.setUint32(42, zip64 ? 0xffffffff : 0, true);
  });
  parts.push(nameBytes);
  if (zip64) {
    block(extraLen, (dv) => {
      dv.setUint16(0, 1, true);
      dv.setUint16(2, 24, true);
      dv.setBigUint64(4, BigInt(size), true); // size
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
      expect(new TextDecoder().decode(readZipEntry(zip, e))).toBe('tensor bytes');
    });
  }

  it('refuses a truncated archive and an unknown compression method in one line', () => {
    const zip = oneEntryZip('a', data, false);
    expect(() => listZip(zip.subarray(0, zip.length - 5))).toThrow(/no end-of-central-directory record/);
    const [e] = listZip(zip);
    expect(() => readZipEntry(zip, { ...e, method: 12 })).toThrow(/compression method 12/);
    expect(() => readZipEntry(zip, { ...e, compressedSize: 1000 })).toThrow(/runs past the end/);
  });
});

/** Raw deflate of `bytes` zero bytes, compressed as a stream (the test never holds the inflated size). */
async function deflatedZeros(bytes: number): Promise<Uint8Array> {
  const d = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  d.on('data', (c: Buffer) => chunks.push(c));
  const zero = Buffer.alloc(2 ** 20);
  for (let i = 0; i < bytes / zero.length; i++) if (!d.write(zero)) await once(d, 'drain');
  d.end();
  await once(d, 'end');
  return Buffer.concat(chunks);
}

describe('zip reader: inflated sizes are bounded by what the archive declares', () => {
  const MiB = 2 ** 20;
  let dir: string;
  let bomb: Uint8Array;

  beforeAll(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-zip-'));
    // 512 MiB of zeros in about half a megabyte, declared as a 1000-byte data.pkl.
    bomb = oneEntryZip('archive/data.pkl', await deflatedZeros(512 * MiB), false, 0, { size: 1000 });
  });
  afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

  it('an entry that inflates past its declared size fails at that size, not after inflating everything', () => {
    const [e] = listZip(bomb);
    expect(e).toMatchObject({ method: 8, size: 1000 });
    const t0 = performance.now();
    expect(() => readZipEntry(bomb, e)).toThrow(/^zip: entry archive\/data\.pkl inflates to more than the 1000 bytes it declares/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('an honest deflated entry still reads', async () => {
    const zip = oneEntryZip('a', await deflatedZeros(MiB), false, 0, { size: MiB });
    const [e] = listZip(zip);
    const out = readZipEntry(zip, e);
    expect(out.length).toBe(MiB);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('refuses archives whose deflated entries declare more than the global cap in all, before inflating', () => {
    const entry = { name: 'x', method: 8, compressedSize: 10, size: 600 * MiB, localHeaderOffset: 0 };
    expect(() => checkInflatedTotal([entry, { ...entry, name: 'y' }], 1024 * MiB)).toThrow(
      /^zip: compressed entries declare 1\.2 GiB in all, over the 1\.0 GiB this reader inflates$/,
    );
    // Stored entries are views into the file: they cost nothing more.
    expect(() =>
      checkInflatedTotal(
        [
          { ...entry, method: 0 },
          { ...entry, method: 0 },
        ],
        1024 * MiB,
      ),
    ).not.toThrow();
  });

  it('`import --pth` of the bomb exits 2 in one line with a small peak RSS, and writes nothing', () => {
    const pth = path.join(dir, 'bomb.pth');
    const out = path.join(dir, 'g.onnx');
    return fsp.writeFile(pth, bomb).then(() => {
      const r = runCliMeasured(['import', '--pth', pth, '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^pix2pix: .*bomb\.pth: zip: entry archive\/data\.pkl inflates to more than the 1000 bytes it declares/),
      ]);
      // Before the cap the inflate alone took 512 MiB; the CLI's own baseline is about 150 MiB.
      console.log(`import --pth of a 512 MiB zip bomb: peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
      expect(r.peakRssMiB).toBeLessThan(300);
      expect(existsSync(out)).toBe(false);
    });
  });
});
