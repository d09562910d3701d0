/**
 * Native-size inference, pure part: a fully convolutional generator takes any H×W that are multiples
 * of 2^depth, so an image is reflect-padded up to the next multiple, translated, and cropped back to
 * exactly its own size. Reflection (not zeros) keeps the border statistics natural, so the
 * generator does not draw a frame where the padding starts.
 *
 * The conversions between 8-bit HWC RGB and the model's planar float layout happen here too, fused
 * with the padding and the crop so each image is touched once in each direction.
 */

/** Where an image sits inside its padded canvas. */
export interface PadPlan {
  width: number;
  height: number;
  paddedWidth: number;
  paddedHeight: number;
  /** Columns of reflection on the left (the rest, paddedWidth − width − left, on the right). */
  left: number;
  /** Rows of reflection on top. */
  top: number;
}

/** A rectangle in some image's pixel coordinates. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** 8-bit interleaved RGB of `width`×`height` pixels. */
export interface RgbView {
  rgb: Uint8Array;
  width: number;
  height: number;
}

function roundUpTo(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

/**
 * Pad `width`×`height` up to multiples of `multiple`, split evenly between the two sides (the extra
 * pixel of an odd split goes right/bottom), so the image stays centred on the net's stride grid.
 */
export function padPlan(width: number, height: number, multiple: number): PadPlan {
  if (!Number.isInteger(multiple) || multiple < 1) throw new Error(`padPlan: multiple must be a positive integer (got ${multiple})`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`padPlan: bad image size ${width}×${height}`);
  const paddedWidth = roundUpTo(width, multiple);
  const paddedHeight = roundUpTo(height, multiple);
  return { width, height, paddedWidth, paddedHeight, left: Math.floor((paddedWidth - width) / 2), top: Math.floor((paddedHeight - height) / 2) };
}

/**
 * Index of the source pixel that position `i` (any integer) reflects to in a line of `n` pixels:
 * mirror about the edge pixels without repeating them (…2 1 | 0 1 2 … n−1 | n−2 …), as numpy's
 * and PyTorch's 'reflect'. Pads wider than the image keep folding back and forth.
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** x/127.5 − 1 for every byte, as float32 (what the training pipeline feeds). */
const UNIT = new Float32Array(256).map((_, v) => v / 127.5 - 1);

/**
 * Write the `region` (in padded coordinates) of the reflect-padded image into `out` at `offset` as
 * planar float CHW in [−1, 1]: channel planes of region.width×region.height.
 */
export function fillPlanar(src: RgbView, plan: Pick<PadPlan, 'left' | 'top'>, region: Rect, out: Float32Array, offset: number): void {
  const { rgb, width, height } = src;
  const pixels = region.width * region.height;
  const xs = new Int32Array(region.width);
  for (let rx = 0; rx < region.width; rx++) xs[rx] = reflectIndex(region.x + rx - plan.left, width) * 3;
  for (let ry = 0; ry < region.height; ry++) {
    const row = reflectIndex(region.y + ry - plan.top, height) * width * 3;
    let o = offset + ry * region.width;
    for (let rx = 0; rx < region.width; rx++, o++) {
      const s = row + xs[rx];
      out[o] = UNIT[rgb[s]];
      out[o + pixels] = UNIT[rgb[s + 1]];
      out[o + 2 * pixels] = UNIT[rgb[s + 2]];
    }
  }
}

/**
 * One float in [−1, 1] → byte via round((x + 1)·127.5), clamped (NaN → 0): the same values as
 * Math.round, written as floor(t + 0.5) because this runs once per output value.
 */
export function unitToByte(x: number): number {
  const t = (x + 1) * 127.5 + 0.5;
  return t >= 255 ? 255 : t > 0 ? t | 0 : 0;
}

/**
 * Cut `crop` out of a planar float output of `planeWidth`×`planeHeight` (at `offset`, `channels`
 * planes) into 8-bit interleaved RGB; a single output channel is replicated to gray.
 */
export function cropPlanarToRgb(data: Float32Array, offset: number, channels: number, planeWidth: number, planeHeight: number, crop: Rect): Uint8Array {
  const plane = planeWidth * planeHeight;
  const out = new Uint8Array(crop.width * crop.height * 3);
  const g = channels === 1 ? 0 : plane;
  const b = channels === 1 ? 0 : 2 * plane;
  let o = 0;
  for (let y = 0; y < crop.height; y++) {
    let s = offset + (crop.y + y) * planeWidth + crop.x;
    for (let x = 0; x < crop.width; x++, s++) {
      out[o++] = unitToByte(data[s]);
      out[o++] = unitToByte(data[s + g]);
      out[o++] = unitToByte(data[s + b]);
    }
  }
  return out;
}

/** The image's own pixels inside its padded canvas. */
export function cropRect(plan: PadPlan): Rect {
  return { x: plan.left, y: plan.top, width: plan.width, height: plan.height };
}
