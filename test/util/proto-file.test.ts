import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedVarints, ProtoFile, readVarint } from '../../src/util/proto-file.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-proto-'));
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

function varint(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    if (n < 0x80) return [...out, n];
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
}

const corrupt = (what: string, pos: number): Error => new Error(`${what} @${pos}`);

async function protoFile(bytes: number[] | Uint8Array): Promise<ProtoFile> {
  const file = path.join(dir, `m${Math.random()}.pb`);
  await fsp.writeFile(file, Uint8Array.from(bytes));
  return ProtoFile.open(file, corrupt);
}

describe('varints', () => {
  it('decode 1, 300 and a 64-bit value; packed lists are signed', () => {
    expect(readVarint(Uint8Array.from([1]), 0)).toEqual({ value: 1n, next: 1 });
    expect(readVarint(Uint8Array.from([0xac, 0x02]), 0)).toEqual({ value: 300n, next: 2 });
    const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expect(packedVarints(Uint8Array.from([3, ...minusOne, 0xac, 0x02]))).toEqual([3n, -1n, 300n]);
    expect(() => readVarint(Uint8Array.from([0x80, 0x80]), 0)).toThrow(/bad varint/);
  });
});

describe('ProtoFile', () => {
  it('walks fields in place: varint, fixed64, fixed32, nested length-delimited, past a 64 KiB payload', async () => {
    const big = new Uint8Array(70_000).fill(7);
    const nested = [(1 << 3) | 0, 42];
    const bytes = [
      (1 << 3) | 0,
      ...varint(300), // field 1 varint
      (2 << 3) | 1,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8, // field 2 fixed64
      (3 << 3) | 5,
      9,
      9,
      9,
      9, // field 3 fixed32
      (4 << 3) | 2,
      ...varint(big.length),
      ...big, // field 4: a payload larger than the read window
      (5 << 3) | 2,
      nested.length,
      ...nested, // field 5: a message
    ];
    const pf = await protoFile(bytes);
    const fields = [...pf.fields(0, pf.size)];
    expect(fields.map((f) => [f.field, f.wire, f.end - f.start])).toEqual([
      [1, 0, 2],
      [2, 1, 8],
      [3, 5, 4],
      [4, 2, 70_000],
      [5, 2, 2],
    ]);
    expect(fields[0].varint).toBe(300n);
    expect([...pf.bytes(fields[1].start, fields[1].end)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const inner = [...pf.fields(fields[4].start, fields[4].end)];
    expect(inner).toEqual([{ field: 1, wire: 0, start: fields[4].start + 1, end: fields[4].end, varint: 42n }]);
    pf.close();
  });

  it("a field running past its message, or a wire type it cannot read, is the caller's corrupt error with the byte", async () => {
    const short = await protoFile([(1 << 3) | 2, 10, 1, 2]);
    expect(() => [...short.fields(0, short.size)]).toThrow('a field runs past its message @0');
    short.close();
    const group = await protoFile([(1 << 3) | 0, 1, (2 << 3) | 3]);
    expect(() => [...group.fields(0, group.size)]).toThrow('unreadable field @2');
    group.close();
  });
});
