/**
 * What one image asks of the model: one or more model inputs ("pieces") of one shape, and how their
 * outputs become the image. A whole image (square-resized or native-size) is one padded piece; a
 * tiled image is one piece per tile. Pieces are described, not materialised: each is converted
 * to float only when its batch is assembled, so waiting pieces cost nothing but the decoded image.
 */
import { cropPlanarToRgb, cropRect, fillPlanar, padPlan, type RgbView } from './native-size.ts';
import { planTiles, type TileBlend, TileBlender, tileCount, tileRect } from './tiles.ts';

export interface ImageWork {
  /** Model input side lengths, the same for every piece of this image. */
  readonly height: number;
  readonly width: number;
  readonly pieces: number;
  /** Write piece k's input (planar float, [−1, 1]) into `out` at `offset`. */
  fill(k: number, out: Float32Array, offset: number): void;
  /** Take piece k's output (`channels` planes of height×width at `offset`). */
  accept(k: number, data: Float32Array, offset: number, channels: number): void;
  readonly complete: boolean;
  /** The translated image at the source's size (call when complete). */
  result(): RgbView;
}

/** The whole image as one input, reflect-padded to multiples of `multiple` and cropped back. */
export function wholeImageWork(src: RgbView, multiple: number): ImageWork {
  const plan = padPlan(src.width, src.height, multiple);
  let out: Uint8Array | undefined;
  return {
    height: plan.paddedHeight,
    width: plan.paddedWidth,
    pieces: 1,
    fill: (_k, buf, offset) => fillPlanar(src, plan, { x: 0, y: 0, width: plan.paddedWidth, height: plan.paddedHeight }, buf, offset),
    accept: (_k, data, offset, channels) => {
      out = cropPlanarToRgb(data, offset, channels, plan.paddedWidth, plan.paddedHeight, cropRect(plan));
    },
    get complete() {
      return out !== undefined;
    },
    result: () => ({ rgb: out!, width: src.width, height: src.height }),
  };
}

/** The image in overlapping tile×tile pieces blended back together (tiles.ts). */
export function tiledImageWork(src: RgbView, multiple: number, tile: number, overlap: number, channels: number, blend: TileBlend = 'cosine'): ImageWork {
  const plan = planTiles(src.width, src.height, multiple, tile, overlap, blend);
  const blender = new TileBlender(plan, channels);
  return {
    height: plan.tileHeight,
    width: plan.tileWidth,
    pieces: tileCount(plan),
    fill: (k, buf, offset) => fillPlanar(src, plan.pad, tileRect(plan, k), buf, offset),
    accept: (k, data, offset) => blender.add(k, data, offset),
    get complete() {
      return blender.complete;
    },
    result: () => ({ rgb: blender.toRgb(), width: src.width, height: src.height }),
  };
}

export interface Piece<T> {
  work: ImageWork;
  k: number;
  /** The caller's handle for the image (its job). */
  owner: T;
}

/**
 * Groups pieces by input shape, so each session run gets one tensor of equal-sized images. Full
 * groups go first; `takeOldest` drains the group whose first piece has waited longest (to bound
 * memory when sizes rarely repeat, and at the end).
 */
export class ShapeBatcher<T> {
  private readonly groups = new Map<string, { seq: number; piece: Piece<T> }[]>();
  private seq = 0;
  private count = 0;

  add(piece: Piece<T>): void {
    const key = `${piece.work.height}x${piece.work.width}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = []));
    g.push({ seq: this.seq++, piece });
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Up to `n` pieces of one shape: a group holding at least `n` if any, else (when `force`) the oldest group. */
  take(n: number, force: boolean): Piece<T>[] | undefined {
    let key: string | undefined;
    let oldest = Infinity;
    for (const [k, g] of this.groups) {
      if (g.length >= n) {
        key = k;
        break;
      }
      if (force && g[0].seq < oldest) {
        oldest = g[0].seq;
        key = k;
      }
    }
    if (key === undefined) return undefined;
    const g = this.groups.get(key)!;
    const batch = g.splice(0, n).map((e) => e.piece);
    this.count -= batch.length;
    if (g.length === 0) this.groups.delete(key);
    return batch;
  }
}
