/**
 * A minimal WebAssembly assembler for the few hand-written loops that run on tfjs-backend-wasm's heap
 * (Adam, im2col/col2im). They import the backend's memory, so they read and write tensors in place.
 * Written here rather than compiled by a toolchain because the modules are a few hundred bytes, must
 * bind to a memory that exists only at run time, and should not add a build step or a binary file to
 * the repository. Only the instructions those loops use are spelled out.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Unsigned LEB128 (sizes, indices). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const immediates). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const simd = (code: number): number[] => [0xfd, ...uleb(code)];
/** memarg: alignment (log2 bytes, a hint) and offset 0. */
const mem = (alignLog2: number): number[] => [alignLog2, 0x00];

/** Instructions, each a byte sequence. */
export const op = {
  get: (local: number): number[] => [0x20, ...uleb(local)],
  set: (local: number): number[] => [0x21, ...uleb(local)],
  i32: (value: number): number[] => [0x41, ...sleb(value)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  divU: [0x6e],
  eqz: [0x45],
  and: [0x71],
  or: [0x72],
  ltS: [0x48],
  gtS: [0x4a],
  leS: [0x4c],
  geS: [0x4e],
  geU: [0x4f],
  /** select(a, b, cond): a when cond ≠ 0. */
  select: [0x1b],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  /** memory.copy(dest, src, bytes) and memory.fill(dest, byte, bytes): the bulk-memory instructions. */
  memoryCopy: [0xfc, ...uleb(10), 0x00, 0x00],
  memoryFill: [0xfc, ...uleb(11), 0x00],
  f32Load: [0x2a, ...mem(2)],
  f32Store: [0x38, ...mem(2)],
  f32Add: [0x92],
  v128Load: [...simd(0x00), ...mem(2)],
  /** Two float32 into the low half, zeros above. */
  v128Load64Zero: [...simd(0x5d), ...mem(2)],
  /** Store the low 64 bits (two float32). */
  v128Store64Lane0: [...simd(0x5b), ...mem(2), 0x00],
  f64x2PromoteLow: simd(0x5f),
  f32x4DemoteZero: simd(0x5e),
  f64x2Add: simd(0xf0),
  f64x2Mul: simd(0xf2),
  v128Store: [...simd(0x0b), ...mem(2)],
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  f32x4Lt: simd(0x43),
  f32x4Gt: simd(0x44),
  /** bitselect(a, b, mask): bits of a where mask is 1, of b where it is 0. */
  v128Bitselect: simd(0x52),
  f32x4Sqrt: simd(0xe3),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
} as const;

/** Concatenate instruction sequences. */
export function seq(...parts: (readonly number[])[]): number[] {
  return parts.flat();
}

/**
 * `for (counter = from; counter < limit; counter += step) body` with i32 locals (signed compare); `step`
 * is a constant or an instruction sequence that pushes it.
 * `body` may nest blocks of its own but must not branch out of this loop.
 */
export function forLoop(
  counter: number,
  from: readonly number[],
  limit: readonly number[],
  step: number | readonly number[],
  body: readonly number[],
): number[] {
  return seq(
    from,
    op.set(counter),
    op.block,
    op.loop,
    op.get(counter),
    limit,
    op.geS,
    op.brIf(1),
    body,
    op.get(counter),
    typeof step === 'number' ? op.i32(step) : step,
    op.add,
    op.set(counter),
    op.br(0),
    op.end,
    op.end,
  );
}

/** `if (cond) then else otherwise` as a statement. */
export function ifThen(cond: readonly number[], then: readonly number[], otherwise: readonly number[] = []): number[] {
  return otherwise.length === 0 ? seq(cond, op.if, then, op.end) : seq(cond, op.if, then, op.else, otherwise, op.end);
}

export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  /** Local variables after the parameters, by type, in order. */
  readonly locals: readonly number[];
  readonly body: readonly number[];
}

const section = (id: number, content: readonly number[]): number[] => [id, ...uleb(content.length), ...content];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'ascii')];
const vector = (items: readonly (readonly number[])[]): number[] => [...uleb(items.length), ...items.flat()];

function localDeclarations(locals: readonly number[]): number[] {
  const runs: number[][] = [];
  for (const type of locals) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === type) last[0] += 1;
    else runs.push([1, type]);
  }
  return vector(runs.map(([n, type]) => [...uleb(n), type]));
}

/** A module that imports `env.memory` and exports each function (no results) under its name. */
export function memoryModuleBytes(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = vector(functions.map((f) => [0x60, ...uleb(f.params.length), ...f.params, 0x00]));
  const imports = vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]);
  const funcs = vector(functions.map((_, i) => uleb(i)));
  const exports = vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
  const codes = vector(
    functions.map((f) => {
      const b = [...localDeclarations(f.locals), ...f.body, ...op.end];
      return [...uleb(b.length), ...b];
    }),
  );
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, codes),
  ]);
}

const instances = new WeakMap<readonly WasmFunction[], WeakMap<WebAssembly.Memory, WebAssembly.Exports | null>>();

/**
 * The module of `functions` instantiated on `memory`, assembled and instantiated once per (module,
 * memory): pass the same array each time, it is the cache key. Null where the engine lacks SIMD or
 * bulk memory.
 */
export function exportsOnMemory(functions: readonly WasmFunction[], memory: WebAssembly.Memory): WebAssembly.Exports | null {
  let byMemory = instances.get(functions);
  if (byMemory === undefined) {
    byMemory = new WeakMap();
    instances.set(functions, byMemory);
  }
  if (!byMemory.has(memory)) {
    const bytes = memoryModuleBytes(functions);
    byMemory.set(memory, WebAssembly.validate(bytes) ? new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports : null);
  }
  return byMemory.get(memory) ?? null;
}

/** tfjs-backend-wasm's heap: its Emscripten module exports it as `asm.memory`. Null if that ever moves. */
export function backendHeapMemory(backend: { wasm: unknown }): WebAssembly.Memory | null {
  const memory = (backend.wasm as { asm?: { memory?: unknown } }).asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}
