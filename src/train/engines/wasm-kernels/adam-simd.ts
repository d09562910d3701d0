/**
 * The Adam update as a 128-bit WebAssembly SIMD loop that works directly on tfjs-backend-wasm's heap
 * (it imports the backend's memory), four float32 lanes at a time. The scalar JS loop in ./adam.ts is
 * bound by one float64 square root and one division per value (~11 ns/value measured); f32x4.sqrt and
 * f32x4.div do four at once. The module is ~200 bytes assembled below (./wasm-asm.ts), so nothing is downloaded or built.
 *
 * Same rule as ./adam.ts, in float32 (the composed tfjs update is float32 too):
 *   m' = β1·m + (1−β1)·g;  v' = β2·v + (1−β2)·g²;  p' = p − stepSize · m' / (√v'·(1/√bc2) + ε)
 */
import type { AdamStepScalars } from './adam.ts';
import { F32, I32, V128, forLoop, exportsOnMemory, op, seq, type WasmFunction } from './wasm-asm.ts';

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

const { get, set } = op;
const at = (base: number): number[] => seq(get(base), get(15), op.add);
const load = (base: number): number[] => seq(at(base), op.v128Load);
const store = (base: number, value: readonly number[]): number[] => seq(at(base), value, op.v128Store);

function body(): number[] {
  // Params 0–6: p, g, m, v, pOut, mOut, vOut (byte offsets); 7: byte length; 8–14: β1, 1−β1, β2, 1−β2, 1/√bc2, ε, stepSize.
  // Locals: 15 i (i32); 16–22 the seven scalars splatted; 23 g; 24 m'; 25 v' (v128).
  const splats = seq(...Array.from({ length: 7 }, (_, k) => seq(get(8 + k), op.f32x4Splat, set(16 + k))));
  const mNew = seq(load(2), get(16), op.f32x4Mul, get(23), get(17), op.f32x4Mul, op.f32x4Add, set(24));
  const vNew = seq(load(3), get(18), op.f32x4Mul, get(23), get(23), op.f32x4Mul, get(19), op.f32x4Mul, op.f32x4Add, set(25));
  const pNew = seq(load(0), get(24), get(25), op.f32x4Sqrt, get(20), op.f32x4Mul, get(21), op.f32x4Add, op.f32x4Div, get(22), op.f32x4Mul, op.f32x4Sub);
  const perFour = seq(load(1), set(23), mNew, vNew, store(5, get(24)), store(6, get(25)), store(4, pNew));
  return seq(splats, forLoop(15, op.i32(0), get(7), 16, perFour));
}

const adamFunction: WasmFunction = {
  name: 'adam',
  params: [...Array<number>(8).fill(I32), ...Array<number>(7).fill(F32)],
  locals: [I32, ...Array<number>(10).fill(V128)],
  body: body(),
};

const ADAM_MODULE = [adamFunction];

/** The SIMD update bound to `memory`, or null where WebAssembly SIMD is unavailable. */
export function adamSimdFor(memory: WebAssembly.Memory): AdamSimd | null {
  return (exportsOnMemory(ADAM_MODULE, memory)?.adam as AdamSimd | undefined) ?? null;
}

/** Run the update over `count` values (a multiple of 4) at the given byte offsets of `memory`. */
export function adamSimdUpdate(f: AdamSimd, offsets: [number, number, number, number, number, number, number], count: number, s: AdamStepScalars): void {
  if (count % 4 !== 0) throw new Error(`adamSimdUpdate: ${count} values is not a multiple of 4`);
  f(...offsets, count * 4, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, 1 / s.sqrtBc2, s.epsilon, s.stepSize);
}
