/**
 * Tiled inference, pure part: an image larger than the tile is reflect-padded as for native size
 * (native-size.ts), covered by overlapping tile×tile windows, each translated on its own, and the
 * results blended back with smooth weights.
 *
 * Why the tiles sit where they do:
 * - Starts are multiples of an alignment (the largest common divisor of 2^depth, the tile and the
 *   overlap), so when the overlap is a multiple of 2^depth every tile lies on the net's stride grid
 *   and sees exactly the pixels the whole-image pass saw around each output it keeps.
 * - Tiles are spread evenly with every overlap at least the requested one.
 *
 * The blending window of a tile is, along each axis, the product of one ramp per neighbour: 0 in
 * the quarter of the overlap nearest the tile's own edge (where zero padding inside the net makes
 * its outputs wrong), a raised-cosine (Hann) rise over the middle half, 1 beyond. Neighbouring
 * ramps are complementary, and weights are normalised by their sum anyway (tiles spread unevenly
 * can overlap three deep). So a generator whose receptive field is at most half the overlap gives
 * the whole-image result; a deeper one (unet_256 sees the whole tile) changes content per tile,
 * and the ramp only hides the seams.
 */
import { type PadPlan, padPlan, unitToByte } from './native-size.ts';

export type TileBlend = 'cosine' | 'none';

export interface TilePlan {
  pad: PadPlan;
  tileWidth: number;
  tileHeight: number;
  /** Tile starts in padded coordinates, per axis; tile k is (xs[k % xs.length], ys[⌊k / xs.length⌋]). */
  xs: number[];
  ys: number[];
  /** Per-tile weights along each axis (tileWidth / tileHeight long). */
  wx: Float32Array[];
  wy: Float32Array[];
  /** Sum of all tiles' weights at each padded column / row (the 2-D sum is their product). */
  sumX: Float64Array;
  sumY: Float64Array;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Grid the tile starts snap to: gcd(multiple, tile, overlap). */
export function tileAlignment(multiple: number, tile: number, overlap: number): number {
  return gcd(gcd(multiple, tile), overlap);
}

/**
 * Starts of tiles of side `tile` covering [0, length) with overlaps ≥ `overlap`, evenly spread,
 * multiples of `align` (which must divide length, tile and overlap). One tile when length ≤ tile.
 */
export function tileStarts(length: number, tile: number, overlap: number, align: number): number[] {
  if (length <= tile) return [0];
  const span = (length - tile) / align;
  const maxStride = (tile - overlap) / align;
  if (!Number.isInteger(span) || !Number.isInteger(maxStride) || maxStride < 1)
    throw new Error(`tileStarts: ${align} does not divide ${length}, ${tile} and ${overlap}, or the overlap is not below the tile`);
  const steps = Math.ceil(span / maxStride);
  return Array.from({ length: steps + 1 }, (_, i) => align * Math.round((i * span) / steps));
}

/** The rising half of a neighbour boundary: weight of the later tile at `q` pixels into an overlap of `o`. */
function rise(q: number, o: number, blend: TileBlend): number {
  const u = (q + 0.5 - o / 4) / (o / 2);
  if (blend === 'none') return u >= 0.5 ? 1 : 0;
  if (u <= 0) return 0;
  if (u >= 1) return 1;
  return 0.5 - 0.5 * Math.cos(Math.PI * u);
}

/** Weights along one axis for each tile of `starts` (each `extent` long). */
export function axisWeights(starts: readonly number[], extent: number, blend: TileBlend): Float32Array[] {
  return starts.map((s, i) => {
    const w = new Float32Array(extent);
    for (let t = 0; t < extent; t++) {
      const x = s + t;
      let v = 1;
      if (i > 0) v *= rise(x - s, starts[i - 1] + extent - s, blend);
      if (i + 1 < starts.length) v *= 1 - rise(x - starts[i + 1], s + extent - starts[i + 1], blend);
      w[t] = v;
    }
    return w;
  });
}

/** Sum over tiles of their weights at each position of [0, length). */
export function axisSums(starts: readonly number[], weights: readonly Float32Array[], length: number): Float64Array {
  const sum = new Float64Array(length);
  starts.forEach((s, i) => weights[i].forEach((v, t) => (sum[s + t] += v)));
  for (let x = 0; x < length; x++) if (!(sum[x] > 0)) throw new Error(`tile weights vanish at ${x} (starts ${starts.join(',')})`);
  return sum;
}

/**
 * Plan the tiles of a `width`×`height` image for a net whose sides must be multiples of `multiple`.
 * `tile` must be such a multiple; 0 ≤ overlap < tile.
 */
export function planTiles(width: number, height: number, multiple: number, tile: number, overlap: number, blend: TileBlend = 'cosine'): TilePlan {
  if (!Number.isInteger(tile) || tile < 1 || tile % multiple !== 0) throw new Error(`planTiles: tile ${tile} is not a multiple of ${multiple}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= tile) throw new Error(`planTiles: overlap ${overlap} must be in [0, ${tile})`);
  const pad = padPlan(width, height, multiple);
  const align = tileAlignment(multiple, tile, overlap);
  const tileWidth = Math.min(tile, pad.paddedWidth);
  const tileHeight = Math.min(tile, pad.paddedHeight);
  const xs = tileStarts(pad.paddedWidth, tile, overlap, align);
  const ys = tileStarts(pad.paddedHeight, tile, overlap, align);
  const wx = axisWeights(xs, tileWidth, blend);
  const wy = axisWeights(ys, tileHeight, blend);
  return { pad, tileWidth, tileHeight, xs, ys, wx, wy, sumX: axisSums(xs, wx, pad.paddedWidth), sumY: axisSums(ys, wy, pad.paddedHeight) };
}

export function tileCount(plan: TilePlan): number {
  return plan.xs.length * plan.ys.length;
}

/** Tile k's rectangle in padded coordinates. */
export function tileRect(plan: TilePlan, k: number): { x: number; y: number; width: number; height: number } {
  return { x: plan.xs[k % plan.xs.length], y: plan.ys[Math.floor(k / plan.xs.length)], width: plan.tileWidth, height: plan.tileHeight };
}

/**
 * Accumulates translated tiles (planar float outputs) into the image's own pixels, one band of tile
 * rows at a time: tiles arrive in order (row-major), and once a row of tiles is complete the image
 * rows no later tile reaches are final and go to 8-bit RGB. So the float accumulator holds one tile
 * height of rows (channels × width × tileHeight), not the whole image (12 bytes a pixel).
 *
 * Final rows go to `sink` (image row of the first, interleaved RGB rows), in order; without one
 * they are kept as the whole image (toRgb). The band-by-band path (banded.ts) passes a sink that
 * encodes them, so both paths blend with this one code.
 */
export type RowSink = (firstRow: number, rgb: Uint8Array) => void;

export class TileBlender {
  private readonly band: Float32Array;
  private readonly out: Uint8Array | undefined;
  private readonly sink: RowSink;
  /** Padded row of the band's first row. */
  private bandTop: number;
  private added = 0;

  constructor(
    readonly plan: TilePlan,
    readonly channels: number,
    sink?: RowSink,
  ) {
    this.band = new Float32Array(channels * plan.pad.width * plan.tileHeight);
    const rowBytes = plan.pad.width * 3;
    const out = sink ? undefined : new Uint8Array(rowBytes * plan.pad.height);
    this.out = out;
    this.sink = sink ?? ((first, rgb) => out!.set(rgb, first * rowBytes));
    this.bandTop = plan.ys[0];
  }

  /** Add tile k's output, `channels` planes of tileWidth×tileHeight at `offset` in `data`; k must be the next tile. */
  add(k: number, data: Float32Array, offset: number): void {
    if (k !== this.added) throw new Error(`TileBlender: tile ${k} arrived, tile ${this.added} was next (tiles are blended in order)`);
    const { pad, tileWidth: tw, tileHeight: th } = this.plan;
    const i = k % this.plan.xs.length;
    const x0 = this.plan.xs[i];
    const y0 = this.plan.ys[Math.floor(k / this.plan.xs.length)];
    const wx = this.plan.wx[i];
    const wy = this.plan.wy[Math.floor(k / this.plan.xs.length)];
    const W = pad.width;
    const bandPlane = W * th;
    // Only the tile's columns inside the image (padding is cropped away).
    const txFrom = Math.max(0, pad.left - x0);
    const txTo = Math.min(tw, pad.left + W - x0);
    for (let ty = 0; ty < th; ty++) {
      const wyv = wy[ty];
      const iy = y0 + ty - pad.top;
      if (iy < 0 || iy >= pad.height || wyv === 0) continue;
      const by = y0 + ty - this.bandTop;
      for (let c = 0; c < this.channels; c++) {
        const src = offset + c * tw * th + ty * tw;
        const dst = c * bandPlane + by * W + x0 - pad.left;
        for (let tx = txFrom; tx < txTo; tx++) this.band[dst + tx] += wyv * wx[tx] * data[src + tx];
      }
    }
    this.added++;
    if (this.added % this.plan.xs.length === 0) this.finishBand(Math.floor(k / this.plan.xs.length));
  }

  /** Tile row j is complete: its rows above the next tile row are final; the rest move to the band's top. */
  private finishBand(j: number): void {
    const { pad, tileHeight: th, sumX, sumY } = this.plan;
    const next = this.plan.ys[j + 1];
    const finalUntil = next ?? this.bandTop + th;
    const W = pad.width;
    const bandPlane = W * th;
    const first = Math.max(this.bandTop, pad.top);
    const until = Math.min(finalUntil, pad.top + pad.height);
    const rows = new Uint8Array(Math.max(0, until - first) * W * 3);
    for (let y = first; y < until; y++) {
      const sy = sumY[y];
      const by = y - this.bandTop;
      for (let x = 0; x < W; x++) {
        const inv = 1 / (sy * sumX[x + pad.left]);
        const o = ((y - first) * W + x) * 3;
        for (let c = 0; c < 3; c++) rows[o + c] = unitToByte(this.band[(this.channels === 1 ? 0 : c) * bandPlane + by * W + x] * inv);
      }
    }
    if (rows.length > 0) this.sink(first - pad.top, rows);
    if (next === undefined) return;
    const shift = next - this.bandTop;
    for (let c = 0; c < this.channels; c++) {
      const plane = this.band.subarray(c * bandPlane, (c + 1) * bandPlane);
      plane.copyWithin(0, shift * W);
      plane.fill(0, (th - shift) * W);
    }
    this.bandTop = next;
  }

  get complete(): boolean {
    return this.added === tileCount(this.plan);
  }

  /** The blended image as 8-bit RGB (a single channel replicated to gray); call when complete, on a blender without a sink. */
  toRgb(): Uint8Array {
    if (!this.complete) throw new Error(`TileBlender: ${this.added} of ${tileCount(this.plan)} tiles blended`);
    if (!this.out) throw new Error('TileBlender: the rows went to the sink');
    return this.out;
  }
}
