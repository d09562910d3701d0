/**
 * `im2colRows` and `col2imRowsAdd` (./layout.ts) as WebAssembly on tfjs-backend-wasm's heap. The JS
 * versions copy or add one run of kW·C values per (output position, kernel row); with the few channels
 * of the small networks (C = 3–32) that is a JS loop over 12–128 values at ~1 ns a value. Here a run is
 * one `memory.copy` (im2col) or a four-lane SIMD add (col2im). Both do the same float operations in
 * the same order as the JS versions (one float32 add per value), so results are bit-identical.
 */
import type { ConvGeometry } from './geometry.ts';
import { col2imRowsAdd, im2colRows } from './layout.ts';
import { I32, forLoop, ifThen, exportsOnMemory, op, seq, type WasmFunction } from './wasm-asm.ts';

// Parameters of both functions: the image and column-matrix byte offsets, then the geometry
// (channels as bytes per pixel), then the output rows to cover.
const [IMAGE, COLS, IN_H, IN_W, C_BYTES, OUT_H, OUT_W, K_H, K_W, STRIDE_H, STRIDE_W, PAD_T, PAD_L, ROW0, ROWS] = Array.from({ length: 15 }, (_, i) => i);
const PARAMS = Array<number>(15).fill(I32);
// Locals: loop counters, the valid tap range, byte offsets.
const [R, N, I, J, X0, B_LO, B_HI, A, Y, POS, TAP_RUN, K_BYTES, D, S, LEN, Q] = Array.from({ length: 16 }, (_, i) => 15 + i);
const LOCALS = Array<number>(16).fill(I32);

const { get, set, i32 } = op;
const times = (a: number, b: number): number[] => seq(get(a), get(b), op.mul);

/** Set B_LO = max(0, −x0) and B_HI = min(kW, inW − x0): the taps b that fall inside the image. */
const validTaps = seq(
  seq(i32(0), get(X0), op.sub, i32(0), get(X0), i32(0), op.ltS, op.select, set(B_LO)),
  seq(get(K_W), get(IN_W), get(X0), op.sub, get(K_W), get(IN_W), get(X0), op.sub, op.ltS, op.select, set(B_HI)),
);

/**
 * For every output row r (n, i) and column j, with X0 = j·sW − pL, the valid taps and POS = the byte
 * offset of position (r, j)'s row of the column matrix, run `perPosition`.
 */
function overPositions(perPosition: readonly number[]): number[] {
  const row = seq(get(ROW0), get(R), op.add);
  return seq(
    seq(times(K_W, C_BYTES), set(TAP_RUN), times(K_H, TAP_RUN), set(K_BYTES), get(COLS), set(POS)),
    forLoop(
      R,
      i32(0),
      get(ROWS),
      1,
      seq(
        seq(row, get(OUT_H), op.divU, set(N)),
        seq(row, times(N, OUT_H), op.sub, set(I)),
        forLoop(
          J,
          i32(0),
          get(OUT_W),
          1,
          seq(times(J, STRIDE_W), get(PAD_L), op.sub, set(X0), validTaps, perPosition, get(POS), get(K_BYTES), op.add, set(POS)),
        ),
      ),
    ),
  );
}

/** Y = i·sH + a − pT; then whether kernel row a of this position reads nothing of the image. */
const rowOfTapOutside = seq(
  seq(times(I, STRIDE_H), get(A), op.add, get(PAD_T), op.sub, set(Y)),
  seq(get(Y), i32(0), op.ltS, get(Y), get(IN_H), op.geS, op.or, get(B_LO), get(B_HI), op.geS, op.or),
);
/** Byte offset of pixel (n, y, x0 + bLo) in the image. */
const imageRun = seq(
  get(N),
  get(IN_H),
  op.mul,
  get(Y),
  op.add,
  get(IN_W),
  op.mul,
  get(X0),
  op.add,
  get(B_LO),
  op.add,
  get(C_BYTES),
  op.mul,
  get(IMAGE),
  op.add,
);
/** Bytes of taps [from, to). */
const tapBytes = (from: number, to: number): number[] => seq(get(to), get(from), op.sub, get(C_BYTES), op.mul);

const im2col: WasmFunction = {
  name: 'im2colRows',
  params: PARAMS,
  locals: LOCALS,
  body: overPositions(
    forLoop(
      A,
      i32(0),
      get(K_H),
      1,
      seq(
        seq(get(POS), times(A, TAP_RUN), op.add, set(D)),
        ifThen(
          rowOfTapOutside,
          seq(get(D), i32(0), get(TAP_RUN), op.memoryFill),
          seq(
            // zeros left of the image, the run inside it, zeros right of it
            seq(get(D), i32(0), get(B_LO), get(C_BYTES), op.mul, op.memoryFill),
            seq(get(D), get(B_LO), get(C_BYTES), op.mul, op.add, imageRun, tapBytes(B_LO, B_HI), op.memoryCopy),
            seq(get(D), get(B_HI), get(C_BYTES), op.mul, op.add, i32(0), tapBytes(B_HI, K_W), op.memoryFill),
          ),
        ),
      ),
    ),
  ),
};

const at = (base: number): number[] => seq(get(base), get(Q), op.add);
/** image[D + q] += cols[S + q] for q < LEN bytes: four lanes at a time, then one float at a time. */
const addRun = seq(
  i32(0),
  set(Q),
  op.block,
  op.loop,
  seq(get(Q), i32(16), op.add, get(LEN), op.gtS, op.brIf(1)),
  seq(at(D), at(D), op.v128Load, at(S), op.v128Load, op.f32x4Add, op.v128Store),
  seq(get(Q), i32(16), op.add, set(Q), op.br(0)),
  op.end,
  op.end,
  forLoop(Q, get(Q), get(LEN), 4, seq(at(D), at(D), op.f32Load, at(S), op.f32Load, op.f32Add, op.f32Store)),
);

const col2im: WasmFunction = {
  name: 'col2imRowsAdd',
  params: PARAMS,
  locals: LOCALS,
  body: overPositions(
    forLoop(
      A,
      i32(0),
      get(K_H),
      1,
      ifThen(
        seq(rowOfTapOutside, op.eqz),
        seq(
          seq(get(POS), times(A, TAP_RUN), op.add, get(B_LO), get(C_BYTES), op.mul, op.add, set(S)),
          seq(imageRun, set(D), tapBytes(B_LO, B_HI), set(LEN)),
          addRun,
        ),
      ),
    ),
  ),
};

type LayoutFn = (image: number, cols: number, ...geometryAndRows: number[]) => void;
interface LayoutSimd {
  readonly memory: WebAssembly.Memory;
  readonly im2colRows: LayoutFn;
  readonly col2imRowsAdd: LayoutFn;
}

const LAYOUT_MODULE = [im2col, col2im];

/** The WebAssembly versions bound to `memory`, or null where the engine lacks SIMD or bulk memory. */
export function layoutSimdFor(memory: WebAssembly.Memory): LayoutSimd | null {
  const exports = exportsOnMemory(LAYOUT_MODULE, memory);
  return exports === null ? null : { memory, im2colRows: exports.im2colRows as LayoutFn, col2imRowsAdd: exports.col2imRowsAdd as LayoutFn };
}

function geometryArgs(g: ConvGeometry): number[] {
  return [g.inH, g.inW, g.inC * 4, g.outH, g.outW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft];
}

const onMemory = (simd: LayoutSimd | null, ...views: Float32Array[]): simd is LayoutSimd =>
  simd !== null && views.every((v) => v.buffer === simd.memory.buffer);

/** The WebAssembly loops index the heap directly, so a view too short for the geometry would be overrun: refuse it. */
function checkSizes(g: ConvGeometry, row0: number, rowCount: number, image: Float32Array, cols: Float32Array): void {
  const imageFloats = g.batch * g.inH * g.inW * g.inC;
  const colFloats = rowCount * g.outW * g.kH * g.kW * g.inC;
  if (row0 < 0 || row0 + rowCount > g.batch * g.outH || image.length < imageFloats || cols.length < colFloats) {
    throw new Error(
      `im2col/col2im: rows [${row0}, ${row0 + rowCount}) need an image of ${imageFloats} and columns of ${colFloats} floats, got ${image.length} and ${cols.length}`,
    );
  }
}

/** Calls per path since start (tests use it to prove the WebAssembly loops ran inside the kernels). */
export const layoutPathCounts = { simd: 0, js: 0 };

/**
 * Run one rearrangement between an NHWC image and its row-major column matrix: the WebAssembly loop
 * when both views lie on `simd`'s memory (byte offsets are all it needs), else the JS version.
 */
function rearrange(
  simd: LayoutSimd | null,
  loop: 'im2colRows' | 'col2imRowsAdd',
  js: () => void,
  image: Float32Array,
  cols: Float32Array,
  g: ConvGeometry,
  row0: number,
  rowCount: number,
): void {
  if (!onMemory(simd, image, cols)) {
    layoutPathCounts.js += 1;
    return js();
  }
  checkSizes(g, row0, rowCount, image, cols);
  layoutPathCounts.simd += 1;
  simd[loop](image.byteOffset, cols.byteOffset, ...geometryArgs(g), row0, rowCount);
}

/** `im2colRows` (x → cols), through WebAssembly where it can. */
export function im2colRowsOn(simd: LayoutSimd | null, x: Float32Array, g: ConvGeometry, row0: number, rowCount: number, cols: Float32Array): void {
  rearrange(simd, 'im2colRows', () => im2colRows(x, g, row0, rowCount, cols), x, cols, g, row0, rowCount);
}

/** `col2imRowsAdd` (dx += col2im(cols)), through WebAssembly where it can. */
export function col2imRowsAddOn(simd: LayoutSimd | null, cols: Float32Array, g: ConvGeometry, row0: number, rowCount: number, dx: Float32Array): void {
  rearrange(simd, 'col2imRowsAdd', () => col2imRowsAdd(cols, g, row0, rowCount, dx), dx, cols, g, row0, rowCount);
}
