/**
 * The geometry of one NHWC 2-D convolution (dilation 1), as the fast backprop kernels need it.
 *
 * Forward convention (the one tfjs, TensorFlow and PyTorch share):
 *   y[n,i,j,o] = Σ_{a,b,c} x[n, i·strideH + a − padTop, j·strideW + b − padLeft, c] · w[a,b,c,o]
 * with x taken as 0 outside the image. Both backprop kernels are derived from this one formula.
 */
export interface ConvGeometry {
  readonly batch: number;
  readonly inH: number;
  readonly inW: number;
  readonly inC: number;
  readonly outH: number;
  readonly outW: number;
  readonly outC: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
}

/** The subset of tfjs' `Conv2DInfo` this module reads (so tests can build geometries by hand). */
export interface Conv2DInfoLike {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number; bottom: number; right: number };
}

export function geometryFromConvInfo(info: Conv2DInfoLike): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kH: info.filterHeight,
    kW: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}

/** Rows of the im2col matrix: one per filter tap and input channel, ordered like the filter [kh,kw,in]. */
export function tapRows(g: ConvGeometry): number {
  return g.kH * g.kW * g.inC;
}

/** Output positions N·OH·OW: the long dimension of every im2col matrix. */
export function outputPositions(g: ConvGeometry): number {
  return g.batch * g.outH * g.outW;
}

/**
 * Paddings of dy for computing dx as a stride-1 convolution of dy with the flipped filter:
 * dx[y] = Σ_a dyPadded[y + a] · w[kH−1−a]. Null when the forward padding makes that impossible
 * (a pad larger than the kernel), in which case the col2im path handles the shape.
 */
export function flipConvPadding(g: ConvGeometry): [[number, number], [number, number]] | null {
  if (g.strideH !== 1 || g.strideW !== 1) return null;
  const top = g.kH - 1 - g.padTop;
  const left = g.kW - 1 - g.padLeft;
  const bottom = g.inH + g.kH - 1 - g.outH - top;
  const right = g.inW + g.kW - 1 - g.outW - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  return [
    [top, bottom],
    [left, right],
  ];
}

/**
 * True for the pix2pix down/up-sampling convolution: k4 s2 with one pixel of padding on every
 * side and an even input, so output = input / 2 exactly. Space-to-depth turns it into a k2 s1
 * convolution over 4·C channels.
 */
export function isK4S2P1Even(g: ConvGeometry): boolean {
  return (
    g.kH === 4 &&
    g.kW === 4 &&
    g.strideH === 2 &&
    g.strideW === 2 &&
    g.padTop === 1 &&
    g.padLeft === 1 &&
    g.inH % 2 === 0 &&
    g.inW % 2 === 0 &&
    g.outH === g.inH / 2 &&
    g.outW === g.inW / 2
  );
}

/** How Conv2DBackpropInput (dx, also the forward of conv2dTranspose) is computed. */
export type BackpropInputStrategy =
  /** stride 1: conv2d of padded dy with the flipped, in/out-swapped filter. */
  | 'flip-conv'
  /** k4 s2 p1: conv2d (k2, 4·C outputs) of padded dy, then depth-to-space and a 1-pixel crop. */
  | 's2d-conv'
  /** any geometry: colsᵀ = W[k·k·C, O] × dyᵀ[O, M], then a scatter-add (col2im) into dx. */
  | 'matmul-col2im';

/**
 * Measured per-float costs (ns, tfjs-backend-wasm 4.22 single-threaded, AVX2 host) of the work that
 * differs between strategies; the multiply-adds are the same for all of them.
 * - The conv paths build a new rearranged filter on every call, which the forward Conv2D kernel
 *   must pack (XNNPACK conv: 15–100 ns per weight; our 'matmul-weights' forward: ~8 ns, see
 *   FORWARD_COST_NS); 25 is a middle value. The matmul path passes the filter as the un-packed left
 *   operand and packs nothing.
 * - col2im's scatter-add over the k²·C × M column matrix: about 5 ns per value.
 * - Plain rearrangement copies (dy transpose, depth-to-space): about 2 ns per value.
 */
const COST_NS = { packedWeight: 25, col2imValue: 5, copiedValue: 2 } as const;

/** Estimated non-multiply-add time (ns) of each strategy; +Infinity where it does not apply. */
function backpropInputCosts(g: ConvGeometry): Record<BackpropInputStrategy, number> {
  const weights = g.kH * g.kW * g.inC * g.outC;
  const m = outputPositions(g);
  const dxFloats = g.batch * g.inH * g.inW * g.inC;
  const costs: Record<BackpropInputStrategy, number> = {
    'flip-conv': Number.POSITIVE_INFINITY,
    's2d-conv': Number.POSITIVE_INFINITY,
    'matmul-col2im': (m * g.outC + dxFloats) * COST_NS.copiedValue + tapRows(g) * m * COST_NS.col2imValue,
  };
  if (flipConvPadding(g) !== null) costs['flip-conv'] = weights * COST_NS.packedWeight;
  if (isK4S2P1Even(g)) {
    const s2dOut = g.batch * (g.outH + 1) * (g.outW + 1) * 4 * g.inC;
    costs['s2d-conv'] = weights * COST_NS.packedWeight + (s2dOut + dxFloats) * COST_NS.copiedValue;
  }
  return costs;
}

export function chooseBackpropInputStrategy(g: ConvGeometry, rowMajorProducts = false): BackpropInputStrategy {
  return cheapestBackpropInput(rowMajorProducts ? backpropInputCostsRowMajor(g) : backpropInputCosts(g));
}

/**
 * Per-float costs (ns) of the rearrangements when the matrix products run on onnxruntime (the
 * ort-cpu engine, row-major column matrices): the products are then multi-threaded and cheap, and
 * what decides is the single-threaded copying around them. Row-major col2im adds contiguous rows of
 * C values; im2col copies contiguous rows; rearranging a filter scatters single values.
 */
const ROW_MAJOR_COST_NS = { col2imValue: 1.5, im2colValue: 1, filterValue: 2, copiedValue: 1, zeroedValue: 0.3 } as const;

/**
 * Estimated single-threaded time (ns) of each dx strategy with row-major products; +Infinity where it
 * does not apply. The three do about the same multiply-adds, but not the same rearranging: for the
 * PatchGAN's last layer (512 → 1 channel, stride 1) col2im scatters 16·512 values per output position
 * while flip-conv's im2col copies 16 values of dy and a filter of 8,192 values.
 */
export function backpropInputCostsRowMajor(g: ConvGeometry): Record<BackpropInputStrategy, number> {
  const c = ROW_MAJOR_COST_NS;
  const weights = g.kH * g.kW * g.inC * g.outC;
  const dxFloats = g.batch * g.inH * g.inW * g.inC;
  const costs: Record<BackpropInputStrategy, number> = {
    'flip-conv': Number.POSITIVE_INFINITY,
    's2d-conv': Number.POSITIVE_INFINITY,
    'matmul-col2im': dxFloats * c.zeroedValue + tapRows(g) * outputPositions(g) * c.col2imValue,
  };
  // flip-conv: a stride-1 conv over dy with one output position per dx value.
  if (flipConvPadding(g) !== null) costs['flip-conv'] = weights * c.filterValue + g.batch * g.inH * g.inW * g.kH * g.kW * g.outC * c.im2colValue;
  if (isK4S2P1Even(g)) {
    const positions = g.batch * (g.outH + 1) * (g.outW + 1);
    costs['s2d-conv'] = weights * c.filterValue + positions * 4 * g.outC * c.im2colValue + (positions * 4 * g.inC + dxFloats) * c.copiedValue;
  }
  return costs;
}

/** The cheapest dx strategy under a cost table (ties keep matmul-col2im, which applies everywhere). */
function cheapestBackpropInput(costs: Record<BackpropInputStrategy, number>): BackpropInputStrategy {
  let best: BackpropInputStrategy = 'matmul-col2im';
  for (const k of ['flip-conv', 's2d-conv'] as const) {
    if (costs[k] < costs[best]) best = k;
  }
  return best;
}

/**
 * Output rows (n, i) per chunk so that a column matrix of tapRows × (rows·OW) floats stays under
 * `maxFloats`; at least one row. Bounds the scratch memory for batch 16 at 256².
 */
export function rowsPerChunk(g: ConvGeometry, maxFloats: number): number {
  const perRow = tapRows(g) * g.outW;
  return Math.max(1, Math.min(g.batch * g.outH, Math.floor(maxFloats / perRow)));
}

/** How the forward Conv2D (also dx of conv2dTranspose) is computed. */
export type ConvForwardStrategy =
  /** the backend's XNNPACK convolution: implicit im2col, but packing a new filter is very slow. */
  | 'builtin'
  /** y[M, O] = im2col[M, K] × W[K, O]: XNNPACK packs W as fully-connected weights (cheaper), cached per filter tensor. */
  | 'matmul-weights';

export const CONV_FORWARD_STRATEGIES: readonly ConvForwardStrategy[] = ['builtin', 'matmul-weights'];

/**
 * Measured per-float costs (ns, single thread, AVX2 host, see bench/kernels.ts --all-paths) of the
 * forward strategies beyond their multiply-adds. XNNPACK packs whatever it treats as weights into a
 * new operator the first time it sees a tensor: a conv filter costs `convPackedWeight` per value,
 * fully-connected weights (matMul's right operand) `fcPackedWeight`; the matmul path also pays a JS
 * im2col. (Computing yᵀ = Wᵀ × im2colᵀ so that only the columns get packed was also measured: the
 * JS transpose of W alone costs ~6 ns per weight, more than packing it, so it never won.)
 */
const FORWARD_COST_NS = { convPackedWeight: 80, fcPackedWeight: 8, im2colValue: 2 } as const;

/**
 * Estimated non-multiply-add time (ns) of each forward strategy. `packedBy` names the strategy that
 * already holds this filter tensor packed (inference, or D run three times in one training step).
 */
function convForwardCosts(g: ConvGeometry, packedBy: ConvForwardStrategy | null): Record<ConvForwardStrategy, number> {
  const weights = g.kH * g.kW * g.inC * g.outC;
  const columns = tapRows(g) * outputPositions(g);
  const C = FORWARD_COST_NS;
  return {
    builtin: packedBy === 'builtin' ? 0 : weights * C.convPackedWeight,
    'matmul-weights': columns * C.im2colValue + (packedBy === 'matmul-weights' ? 0 : weights * C.fcPackedWeight),
  };
}

export function chooseConvForwardStrategy(g: ConvGeometry, packedBy: ConvForwardStrategy | null): ConvForwardStrategy {
  const costs = convForwardCosts(g, packedBy);
  let best: ConvForwardStrategy = 'builtin';
  for (const s of CONV_FORWARD_STRATEGIES) if (costs[s] < costs[best]) best = s;
  return best;
}
