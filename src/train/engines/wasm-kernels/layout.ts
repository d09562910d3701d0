/**
 * Pure data rearrangements for the fast convolution backprop kernels. They work on Float32Arrays
 * (in practice views of the wasm heap) so that no tfjs kernel with poor strided-memory performance
 * (Slice copies its whole input, Reverse and rank-6 Transpose run at ~20 Mfloat/s) is involved.
 *
 * Layouts are NHWC activations and [kh, kw, in, out] filters. All index formulas follow
 * `ConvGeometry`'s forward convention.
 */
import type { ConvGeometry } from './geometry.ts';

const TILE = 32;

/**
 * dst[dstOffset + col·dstRowStride + row] = src[srcOffset + row·cols + col] for a rows×cols block:
 * a cache-tiled 2-D transpose whose destination rows may be wider than `rows` (used to interleave
 * several transposed blocks into one filter).
 */
export function transposeBlock(
  src: Float32Array,
  srcOffset: number,
  rows: number,
  cols: number,
  dst: Float32Array,
  dstOffset: number,
  dstRowStride: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) {
        const s = srcOffset + r * cols;
        let d = dstOffset + c0 * dstRowStride + r;
        for (let c = c0; c < c1; c++) {
          dst[d] = src[s + c];
          d += dstRowStride;
        }
      }
    }
  }
}

/**
 * Filter for dx of a stride-1 convolution: F[a', b', o, c] = w[kH−1−a', kW−1−b', c, o]
 * (spatially flipped, input and output channels swapped). `w` is [kH, kW, C, O]; returns into
 * `out` laid out as [kH, kW, O, C].
 */
export function flipSwapFilter(w: Float32Array, kH: number, kW: number, c: number, o: number, out: Float32Array): void {
  const block = c * o;
  for (let a = 0; a < kH; a++) {
    for (let b = 0; b < kW; b++) {
      const srcTap = (kH - 1 - a) * kW + (kW - 1 - b);
      transposeBlock(w, srcTap * block, c, o, out, (a * kW + b) * block, c);
    }
  }
}

/**
 * Filter for dx of a k4 s2 p1 convolution by space-to-depth. With a = 2p + s and b = 2q + t,
 * the forward conv is a k2 s1 conv over S[u, v, (s,t,c)] = xPadded[2u+s, 2v+t, c]; its input
 * gradient is a stride-1 conv of dy (padded by 1) with
 *   F[p', q', o, (s,t,c)] = w[2(1−p')+s, 2(1−q')+t, c, o].
 * `w` is [4, 4, C, O]; `out` receives [2, 2, O, 4C].
 */
export function spaceToDepthBackpropFilter(w: Float32Array, c: number, o: number, out: Float32Array): void {
  const block = c * o;
  const rowStride = 4 * c;
  for (let pp = 0; pp < 2; pp++) {
    for (let qq = 0; qq < 2; qq++) {
      const dstTap = (pp * 2 + qq) * o * rowStride;
      for (let s = 0; s < 2; s++) {
        for (let t = 0; t < 2; t++) {
          const a = 2 * (1 - pp) + s;
          const b = 2 * (1 - qq) + t;
          transposeBlock(w, (a * 4 + b) * block, c, o, out, dstTap + (s * 2 + t) * c, rowStride);
        }
      }
    }
  }
}

/**
 * dx[n, 2u+s−1, 2v+t−1, c] = dS[n, u, v, (s,t,c)]: depth-to-space of the k2-conv result
 * [N, OH+1, OW+1, 4C] followed by cropping the one-pixel border, giving [N, 2·OH, 2·OW, C].
 */
export function depthToSpaceCrop(dS: Float32Array, batch: number, outH: number, outW: number, c: number, dx: Float32Array): void {
  const h = 2 * outH;
  const w = 2 * outW;
  const sRow = (outW + 1) * 4 * c;
  const sImage = (outH + 1) * sRow;
  let d = 0;
  for (let n = 0; n < batch; n++) {
    for (let y = 0; y < h; y++) {
      const u = (y + 1) >> 1;
      const s = (y + 1) & 1;
      const rowBase = n * sImage + u * sRow + s * 2 * c;
      for (let x = 0; x < w; x++) {
        const v = (x + 1) >> 1;
        const t = (x + 1) & 1;
        const src = rowBase + v * 4 * c + t * c;
        if (c >= 64) {
          dx.set(dS.subarray(src, src + c), d);
          d += c;
        } else {
          for (let k = 0; k < c; k++) dx[d++] = dS[src + k];
        }
      }
    }
  }
}

/** First output column j in [0, outW) whose input column j·stride + b − pad is ≥ 0, and one past the last in range. */
function validRange(tap: number, stride: number, pad: number, outSize: number, inSize: number): [number, number] {
  // j·stride + tap − pad ≥ 0  ⇔  j ≥ (pad − tap) / stride
  const lo = Math.max(0, Math.ceil((pad - tap) / stride));
  // j·stride + tap − pad ≤ inSize − 1  ⇔  j ≤ (inSize − 1 + pad − tap) / stride
  const hi = Math.min(outSize, Math.floor((inSize - 1 + pad - tap) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * Transposed im2col of output rows [row0, row0 + rowCount) (a row is one (n, i) pair):
 *   cols[(a·kW + b)·C + c, (r − row0)·OW + j] = x[n, i·sH + a − pT, j·sW + b − pL, c]   (0 outside)
 * `cols` is [kH·kW·C, rowCount·OW]. With it, dW = cols × dy is a plain matmul.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, row0: number, rowCount: number, cols: Float32Array): void {
  const { inH, inW, inC: c, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const mc = rowCount * outW;
  for (let a = 0; a < kH; a++) {
    for (let b = 0; b < kW; b++) {
      const [jLo, jHi] = validRange(b, strideW, padLeft, outW, inW);
      const tapBase = (a * kW + b) * c * mc;
      for (let r = 0; r < rowCount; r++) {
        const row = row0 + r;
        const n = Math.floor(row / outH);
        const i = row - n * outH;
        const y = i * strideH + a - padTop;
        const colBase = tapBase + r * outW;
        if (y < 0 || y >= inH) {
          for (let ch = 0; ch < c; ch++) cols.fill(0, colBase + ch * mc, colBase + ch * mc + outW);
          continue;
        }
        const xRow = ((n * inH + y) * inW + (b - padLeft)) * c;
        const xStep = strideW * c;
        for (let ch = 0; ch < c; ch++) {
          const d = colBase + ch * mc;
          if (jLo > 0) cols.fill(0, d, d + jLo);
          if (jHi < outW) cols.fill(0, d + jHi, d + outW);
          let s = xRow + jLo * xStep + ch;
          for (let j = jLo; j < jHi; j++) {
            cols[d + j] = x[s];
            s += xStep;
          }
        }
      }
    }
  }
}

/**
 * The adjoint of `im2colTransposed`: dx[n, i·sH + a − pT, j·sW + b − pL, c] += cols[(a,b,c), m]
 * for output rows [row0, row0 + rowCount). `dx` must be zeroed before the first chunk.
 */
export function col2imTransposedAdd(cols: Float32Array, g: ConvGeometry, row0: number, rowCount: number, dx: Float32Array): void {
  const { inH, inW, inC: c, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const mc = rowCount * outW;
  for (let a = 0; a < kH; a++) {
    for (let b = 0; b < kW; b++) {
      const [jLo, jHi] = validRange(b, strideW, padLeft, outW, inW);
      if (jLo >= jHi) continue;
      const tapBase = (a * kW + b) * c * mc;
      for (let r = 0; r < rowCount; r++) {
        const row = row0 + r;
        const n = Math.floor(row / outH);
        const i = row - n * outH;
        const y = i * strideH + a - padTop;
        if (y < 0 || y >= inH) continue;
        const colBase = tapBase + r * outW;
        const xRow = ((n * inH + y) * inW + (b - padLeft)) * c;
        const xStep = strideW * c;
        for (let ch = 0; ch < c; ch++) {
          const s0 = colBase + ch * mc;
          let d = xRow + jLo * xStep + ch;
          for (let j = jLo; j < jHi; j++) {
            dx[d] = dx[d] + cols[s0 + j];
            d += xStep;
          }
        }
      }
    }
  }
}

/** dst[d…d+len) = src[s…s+len): typed-array `set` has a fixed cost per call that loses on short runs. */
function copyRun(src: Float32Array, s: number, dst: Float32Array, d: number, len: number): void {
  if (len >= 64) {
    dst.set(src.subarray(s, s + len), d);
  } else {
    for (let k = 0; k < len; k++) dst[d + k] = src[s + k];
  }
}

/**
 * Row-major im2col of output rows [row0, row0 + rowCount) (a row is one (n, i) pair):
 *   cols[(r − row0)·OW + j, (a·kW + b)·C + c] = x[n, i·sH + a − pT, j·sW + b − pL, c]   (0 outside)
 * `cols` is [rowCount·OW, kH·kW·C], so y = cols × W[kH·kW·C, O] is the convolution. For one (j, a)
 * the kW taps read adjacent input columns, i.e. one contiguous run of NHWC memory.
 */
export function im2colRows(x: Float32Array, g: ConvGeometry, row0: number, rowCount: number, cols: Float32Array): void {
  const { inH, inW, inC: c, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const k = kH * kW * c;
  const tapRun = kW * c;
  for (let r = 0; r < rowCount; r++) {
    const row = row0 + r;
    const n = Math.floor(row / outH);
    const i = row - n * outH;
    for (let j = 0; j < outW; j++) {
      const d0 = (r * outW + j) * k;
      const x0 = j * strideW - padLeft;
      // Taps b in [bLo, bHi) fall inside the image.
      const bLo = Math.max(0, -x0);
      const bHi = Math.min(kW, inW - x0);
      for (let a = 0; a < kH; a++) {
        const d = d0 + a * tapRun;
        const y = i * strideH + a - padTop;
        if (y < 0 || y >= inH || bLo >= bHi) {
          cols.fill(0, d, d + tapRun);
          continue;
        }
        if (bLo > 0) cols.fill(0, d, d + bLo * c);
        copyRun(x, ((n * inH + y) * inW + x0 + bLo) * c, cols, d + bLo * c, (bHi - bLo) * c);
        if (bHi < kW) cols.fill(0, d + bHi * c, d + tapRun);
      }
    }
  }
}

/**
 * The adjoint of im2colRows, accumulated: for output rows [row0, row0 + rowCount),
 *   dx[n, i·sH + a − pT, j·sW + b − pL, c] += cols[(r − row0)·OW + j, (a·kW + b)·C + c]   (inside the image)
 * so with cols = dy × Wᵀ this is the input gradient of the convolution. Every inner loop adds one
 * contiguous run (the kW taps of one (j, a)). `dx` must be zeroed before the first chunk.
 */
export function col2imRowsAdd(cols: Float32Array, g: ConvGeometry, row0: number, rowCount: number, dx: Float32Array): void {
  const { inH, inW, inC: c, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = g;
  const k = kH * kW * c;
  const tapRun = kW * c;
  for (let r = 0; r < rowCount; r++) {
    const row = row0 + r;
    const n = Math.floor(row / outH);
    const i = row - n * outH;
    for (let j = 0; j < outW; j++) {
      const s0 = (r * outW + j) * k;
      const x0 = j * strideW - padLeft;
      const bLo = Math.max(0, -x0);
      const bHi = Math.min(kW, inW - x0);
      if (bLo >= bHi) continue;
      for (let a = 0; a < kH; a++) {
        const y = i * strideH + a - padTop;
        if (y < 0 || y >= inH) continue;
        const s = s0 + a * tapRun + bLo * c;
        const d = ((n * inH + y) * inW + x0 + bLo) * c;
        const len = (bHi - bLo) * c;
        for (let q = 0; q < len; q++) dx[d + q] = dx[d + q] + cols[s + q];
      }
    }
  }
}
