/**
 * The Adam update as a 128-bit WebAssembly SIMD loop that works directly on tfjs-backend-wasm's heap
 * (it imports the backend's memory), four float32 lanes at a time. The scalar JS loop in ./adam.ts is
 * bound by one float64 square root and one division per value (~11 ns/value measured); f32x4.sqrt and
 * f32x4.div do four at once. The module is 200 bytes assembled below, so nothing is downloaded or built.
 *
 * Same rule as ./adam.ts, in float32 (the composed tfjs update is float32 too):
 *   m' = β1·m + (1−β1)·g;  v' = β2·v + (1−β2)·g²;  p' = p − stepSize · m' / (√v'·(1/√bc2) + ε)
 */
import type { AdamStepScalars } from './adam.ts';

/** Byte offsets on the heap of the seven arrays, then the count of values (a multiple of 4). */
type AdamSimd = (
  p: number,
  g: number,
  m: number,
  v: number,
  pOut: number,
  mOut: number,
  vOut: number,
  bytes: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  inv: number,
  eps: number,
  step: number,
) => void;

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const simd = (op: number): number[] => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
const load = (base: number): number[] => [...get(base), ...get(15), 0x6a, ...simd(0x00), 0x04, 0x00];
const store = (base: number, value: number[]): number[] => [...get(base), ...get(15), 0x6a, ...value, ...simd(0x0b), 0x04, 0x00];
const [SPLAT, SQRT, ADD, SUB, MUL, DIV] = [0x13, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7];

function body(): number[] {
  // Params 0–6: p, g, m, v, pOut, mOut, vOut (byte offsets); 7: byte length; 8–14: β1, 1−β1, β2, 1−β2, 1/√bc2, ε, stepSize.
  // Locals: 15 i (i32); 16–22 the seven scalars splatted; 23 g; 24 m'; 25 v' (v128).
  const code: number[] = [];
  for (let k = 0; k < 7; k++) code.push(...get(8 + k), ...simd(SPLAT), ...set(16 + k));
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(...get(15), ...get(7), 0x4f, 0x0d, 0x01); // br_if out when i ≥ bytes
  code.push(...load(1), ...set(23));
  code.push(...load(2), ...get(16), ...simd(MUL), ...get(23), ...get(17), ...simd(MUL), ...simd(ADD), ...set(24));
  code.push(...load(3), ...get(18), ...simd(MUL), ...get(23), ...get(23), ...simd(MUL), ...get(19), ...simd(MUL), ...simd(ADD), ...set(25));
  code.push(...store(5, get(24)), ...store(6, get(25)));
  const update = [
    ...load(0),
    ...get(24),
    ...get(25),
    ...simd(SQRT),
    ...get(20),
    ...simd(MUL),
    ...get(21),
    ...simd(ADD),
    ...simd(DIV),
    ...get(22),
    ...simd(MUL),
    ...simd(SUB),
  ];
  code.push(...store(4, update));
  code.push(...get(15), 0x41, 0x10, 0x6a, ...set(15)); // i += 16
  code.push(0x0c, 0x00, 0x0b, 0x0b, 0x0b); // br loop; end loop; end block; end func
  const locals = [0x02, 0x01, I32, 0x0a, V128];
  return [...locals, ...code];
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'ascii')];

/** The module's bytes: imports env.memory, exports `adam`. */
function adamSimdModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x01, 0x60, 15, ...Array(8).fill(I32), ...Array(7).fill(F32), 0x00];
  const imports = [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00];
  const funcs = [0x01, 0x00];
  const exports = [0x01, ...name('adam'), 0x00, 0x00];
  const b = body();
  const code = [0x01, ...leb(b.length), ...b];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

const instances = new WeakMap<WebAssembly.Memory, AdamSimd>();

/** The SIMD update bound to `memory`, or null where WebAssembly SIMD is unavailable. */
export function adamSimdFor(memory: WebAssembly.Memory): AdamSimd | null {
  const cached = instances.get(memory);
  if (cached) return cached;
  const bytes = adamSimdModuleBytes();
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const f = instance.exports.adam as AdamSimd;
  instances.set(memory, f);
  return f;
}

/** Run the update over `count` values (a multiple of 4) at the given byte offsets of `memory`. */
export function adamSimdUpdate(f: AdamSimd, offsets: [number, number, number, number, number, number, number], count: number, s: AdamStepScalars): void {
  if (count % 4 !== 0) throw new Error(`adamSimdUpdate: ${count} values is not a multiple of 4`);
  f(...offsets, count * 4, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, 1 / s.sqrtBc2, s.epsilon, s.stepSize);
}
