/**
 * The per-element loops of the fused batch norm (./batch-norm.ts) as WebAssembly on tfjs-backend-wasm's
 * heap, two channels at a time in float64 (f64x2), so that every value goes through the same float64
 * operations in the same order as the JS loops: float32 → float64 is exact, the products and sums are
 * the same IEEE operations, and the result is rounded to float32 once. Bit-identical, ~3× faster than
 * JS on the 16–128-channel layers of the small networks. Needs an even channel count.
 */
import { I32, forLoop, exportsOnMemory, op, seq, type WasmFunction } from './wasm-asm.ts';

const { get, set } = op;
const I32S = (n: number): number[] => Array<number>(n).fill(I32);

/** Over rows (i += cBytes, i < nBytes) and channel pairs (j += 8): IJ = i + j, J2 = 2j (the float64 offset). */
function overPairs(nBytes: number, cBytes: number, locals: { i: number; j: number; ij: number; j2: number }, body: readonly number[]): number[] {
  const { i, j, ij, j2 } = locals;
  return forLoop(
    i,
    op.i32(0),
    get(nBytes),
    get(cBytes),
    forLoop(j, op.i32(0), get(cBytes), 8, seq(get(i), get(j), op.add, set(ij), get(j), get(j), op.add, set(j2), body)),
  );
}

const f64At = (base: number, j2: number): number[] => seq(get(base), get(j2), op.add);
const loadF64 = (base: number, j2: number): number[] => seq(f64At(base, j2), op.v128Load);
const loadPair = (base: number, ij: number): number[] => seq(get(base), get(ij), op.add, op.v128Load64Zero, op.f64x2PromoteLow);

// sums(p, q, sumP, sumPQ, nBytes, cBytes): sumP[c] += p; sumPQ[c] += p·q. Locals 6 i, 7 j, 8 ij, 9 j2.
const sums: WasmFunction = {
  name: 'sums',
  params: I32S(6),
  locals: I32S(4),
  body: overPairs(4, 5, { i: 6, j: 7, ij: 8, j2: 9 }, [
    ...seq(f64At(2, 9), loadF64(2, 9), loadPair(0, 8), op.f64x2Add, op.v128Store),
    ...seq(f64At(3, 9), loadF64(3, 9), loadPair(0, 8), loadPair(1, 8), op.f64x2Mul, op.f64x2Add, op.v128Store),
  ]),
};

// affine(p, a, k, out, nBytes, cBytes): out = p·a[c] + k[c]. Locals 6 i, 7 j, 8 ij, 9 j2.
const affine: WasmFunction = {
  name: 'affine',
  params: I32S(6),
  locals: I32S(4),
  body: overPairs(4, 5, { i: 6, j: 7, ij: 8, j2: 9 }, [
    ...seq(get(3), get(8), op.add),
    ...seq(loadPair(0, 8), loadF64(1, 9), op.f64x2Mul, loadF64(2, 9), op.f64x2Add, op.f32x4DemoteZero, op.v128Store64Lane0),
  ]),
};

// affine2(p, a, q, b, k, out, nBytes, cBytes): out = a[c]·p + b[c]·q + k[c]. Locals 8 i, 9 j, 10 ij, 11 j2.
const affine2: WasmFunction = {
  name: 'affine2',
  params: I32S(8),
  locals: I32S(4),
  body: overPairs(6, 7, { i: 8, j: 9, ij: 10, j2: 11 }, [
    ...seq(get(5), get(10), op.add),
    ...seq(loadF64(1, 11), loadPair(0, 10), op.f64x2Mul, loadF64(3, 11), loadPair(2, 10), op.f64x2Mul, op.f64x2Add),
    ...seq(loadF64(4, 11), op.f64x2Add, op.f32x4DemoteZero, op.v128Store64Lane0),
  ]),
};

export interface BatchNormSimd {
  sums(p: number, q: number, sumP: number, sumPQ: number, nBytes: number, cBytes: number): void;
  affine(p: number, a: number, k: number, out: number, nBytes: number, cBytes: number): void;
  affine2(p: number, a: number, q: number, b: number, k: number, out: number, nBytes: number, cBytes: number): void;
}

const BATCH_NORM_MODULE = [sums, affine, affine2];

/** The loops bound to `memory`, or null where the engine lacks SIMD. */
export function batchNormSimdFor(memory: WebAssembly.Memory): BatchNormSimd | null {
  return exportsOnMemory(BATCH_NORM_MODULE, memory) as BatchNormSimd | null;
}
