/**
 * The WebAssembly assembler behind the heap loops: LEB128 encodings against hand-computed bytes (the
 * spec's own examples), and a module built from it that validates, instantiates on a given memory and
 * computes what its instructions say.
 */
import { describe, expect, it } from 'vitest';
import {
  I32,
  exportsOnMemory,
  forLoop,
  ifThen,
  memoryModuleBytes,
  op,
  seq,
  sleb,
  uleb,
  type WasmFunction,
} from '../../src/train/engines/wasm-kernels/wasm-asm.ts';

describe('LEB128', () => {
  it('unsigned: 0, 127, 128, 624485', () => {
    expect(uleb(0)).toEqual([0x00]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
  });

  it('signed: 0, 63, 64, −1, −64, −65, −123456', () => {
    expect(sleb(0)).toEqual([0x00]);
    expect(sleb(63)).toEqual([0x3f]);
    // 64 needs a second byte: 0x40 alone would read as −64.
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});

describe('a module on an imported memory', () => {
  it('fills every other i32 of a range with its index, skipping multiples of 3 (loops, branches, stores)', () => {
    // mark(base, n): for (i = 0; i < n; i += 2) if (i % 3 != 0) mem[base + 4i] = i
    const [BASE, N, I] = [0, 1, 2];
    const i32Store = [0x36, 0x02, 0x00];
    const i32RemU = [0x70];
    const body = forLoop(
      I,
      op.i32(0),
      op.get(N),
      2,
      ifThen(seq(op.get(I), op.i32(3), i32RemU), seq(op.get(BASE), op.get(I), op.i32(4), op.mul, op.add, op.get(I), i32Store)),
    );
    const module: WasmFunction[] = [{ name: 'mark', params: [I32, I32], locals: [I32], body }];
    expect(WebAssembly.validate(memoryModuleBytes(module))).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const exports = exportsOnMemory(module, memory);
    // Built once per (module, memory).
    expect(exportsOnMemory(module, memory)).toBe(exports);
    expect(exportsOnMemory(module, new WebAssembly.Memory({ initial: 1 }))).not.toBe(exports);
    (exports!.mark as (base: number, n: number) => void)(64, 12);
    expect([...new Int32Array(memory.buffer, 64, 12)]).toEqual([0, 0, 2, 0, 4, 0, 0, 0, 8, 0, 10, 0]);
  });
});
