/**
 * The drawing canvas's model: one Cityscapes label id per pixel, painted with discs and strokes,
 * flood-filled, rendered through the palette, with an undo stack of snapshots. Pure: no DOM.
 */
import { CITYSCAPES_LABELS, TRAIN_ID_COLORS, TRAIN_ID_NAMES, type CityscapesLabel } from '../../src/data/cityscapes.ts';

export type Rgb = readonly [number, number, number];

export interface PaletteEntry {
  /** The id written into the map: a Cityscapes label id, or the index in a model card's palette. */
  id: number;
  name: string;
  color: Rgb;
}

/**
 * The classes offered in the picker: the 19 evaluated classes in trainId order, then `unlabeled`
 * (black, what "clear" paints). Several void labels share black; one entry stands for them.
 */
export const CITYSCAPES_PALETTE: readonly PaletteEntry[] = Object.freeze([
  ...TRAIN_ID_NAMES.map((name, trainId): PaletteEntry => {
    const label = CITYSCAPES_LABELS.find((l: CityscapesLabel) => l.trainId === trainId)!;
    return { id: label.id, name, color: TRAIN_ID_COLORS[trainId] };
  }),
  { id: 0, name: 'unlabeled', color: [0, 0, 0] },
]);

export const UNLABELED_ID = 0;

/** The edge canvas of edges2* models: black edges (the pen) on white paper (the eraser, what "clear" paints). */
export const EDGE_PALETTE: readonly PaletteEntry[] = Object.freeze([
  { id: 1, name: 'pen', color: [0, 0, 0] },
  { id: 0, name: 'eraser', color: [255, 255, 255] },
]);

export interface LabelMap {
  readonly width: number;
  readonly height: number;
  /** Row-major label ids. */
  readonly data: Uint8Array;
}

export function createLabelMap(width: number, height: number, fill = UNLABELED_ID): LabelMap {
  return { width, height, data: new Uint8Array(width * height).fill(fill) };
}

/** Paint a filled disc of `radius` pixels (radius 0.5 = one pixel) centred on (cx, cy). */
export function paintDisc(map: LabelMap, cx: number, cy: number, radius: number, id: number): void {
  const r2 = radius * radius;
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(map.width - 1, Math.ceil(cx + radius));
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(map.height - 1, Math.ceil(cy + radius));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      // Pixel centres at +0.5, so a disc centred on a pixel's centre is symmetric.
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (dx * dx + dy * dy <= r2) map.data[y * map.width + x] = id;
    }
  }
}

/** A brush stroke from (x0, y0) to (x1, y1): discs at most half a radius apart, so no gaps. */
export function paintStroke(map: LabelMap, x0: number, y0: number, x1: number, y1: number, radius: number, id: number): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  const steps = Math.max(1, Math.ceil(len / Math.max(0.5, radius / 2)));
  for (let i = 0; i <= steps; i++) paintDisc(map, x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, radius, id);
}

/** Replace the 4-connected region of (x, y)'s label with `id`. Returns the number of pixels changed. */
export function floodFill(map: LabelMap, x: number, y: number, id: number): number {
  const { width, height, data } = map;
  x = Math.floor(x);
  y = Math.floor(y);
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  const target = data[y * width + x];
  if (target === id) return 0;
  let changed = 0;
  const stack: number[] = [y * width + x];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (data[i] !== target) continue;
    // Scanline: fill the whole run on this row, then queue the rows above and below it.
    const row = i - (i % width);
    let l = i;
    while (l > row && data[l - 1] === target) l--;
    let r = i;
    while (r < row + width - 1 && data[r + 1] === target) r++;
    for (let j = l; j <= r; j++) {
      data[j] = id;
      changed++;
      if (j >= width && data[j - width] === target) stack.push(j - width);
      if (j < (height - 1) * width && data[j + width] === target) stack.push(j + width);
    }
  }
  return changed;
}

/** Palette colour of every label id 0..255 (unknown ids black), as a 768-byte table. */
export function paletteTable(labels: readonly { id: number; color: Rgb }[] = CITYSCAPES_LABELS): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  // labels.py order: the first label of an id wins, as in the data code.
  const seen = new Set<number>();
  for (const l of labels) {
    if (l.id < 0 || l.id > 255 || seen.has(l.id)) continue;
    seen.add(l.id);
    lut.set(l.color, l.id * 3);
  }
  return lut;
}

/** The label map as opaque RGBA palette colours (what the model is fed). */
export function renderLabelMap(map: LabelMap, lut: Uint8Array = paletteTable()): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(map.data.length * 4);
  for (let p = 0; p < map.data.length; p++) {
    const k = map.data[p] * 3;
    out[p * 4] = lut[k]!;
    out[p * 4 + 1] = lut[k + 1]!;
    out[p * 4 + 2] = lut[k + 2]!;
    out[p * 4 + 3] = 255;
  }
  return out;
}

/**
 * A colour image → the nearest palette entry per pixel (squared RGB distance), so a dropped
 * `*_gtFine_color.png` (or a resampled one) becomes an editable label map.
 */
export function labelMapFromRgba(rgba: ArrayLike<number>, width: number, height: number, palette: readonly PaletteEntry[] = CITYSCAPES_PALETTE): LabelMap {
  const map = createLabelMap(width, height);
  const cache = new Map<number, number>();
  for (let p = 0; p < width * height; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    const key = (r << 16) | (g << 8) | b;
    let id = cache.get(key);
    if (id === undefined) {
      let best = Infinity;
      id = UNLABELED_ID;
      for (const e of palette) {
        const d = (r - e.color[0]) ** 2 + (g - e.color[1]) ** 2 + (b - e.color[2]) ** 2;
        if (d < best) {
          best = d;
          id = e.id;
        }
      }
      cache.set(key, id);
    }
    map.data[p] = id;
  }
  return map;
}

/**
 * Undo history of label-map snapshots, bounded so a long session stays small (a 256² map is 64 KiB
 * per step). `push` is called before each edit with the state the edit starts from.
 */
export class UndoStack {
  private readonly states: Uint8Array[] = [];
  constructor(readonly limit = 50) {}

  get size(): number {
    return this.states.length;
  }

  push(map: LabelMap): void {
    this.states.push(map.data.slice());
    if (this.states.length > this.limit) this.states.shift();
  }

  /** Restore the last pushed state into `map`; false when there is nothing to undo. */
  undo(map: LabelMap): boolean {
    const prev = this.states.pop();
    if (!prev) return false;
    map.data.set(prev);
    return true;
  }

  clear(): void {
    this.states.length = 0;
  }
}
