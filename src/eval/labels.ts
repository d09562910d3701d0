/**
 * Generated colour label maps (photo→labels, pix2pix Table 6) → trainIds, by nearest palette colour.
 *
 * The authors do not say how they turned generated colour images back into classes (docs/reference.md#photo2labels), and
 * generated maps are continuous-valued, so each pixel takes the label whose Cityscapes colour is
 * nearest in squared RGB distance. Palette choices (`voidColors`):
 * - 'none' (default): the 19 evaluated trainId colours only; every pixel gets a class.
 * - 'black': also (0,0,0) → 255, so pixels drawn as unlabelled count as "predicted ignore".
 * - 'all': every colour of cityscapesScripts' labels.py, void ones → 255.
 * Ties (equal distance, including identical colours such as pole/polegroup (153,153,153) and
 * car/license plate (0,0,142)) go to the label defined first in labels.py, as cityscapesScripts'
 * own colour→label look-up does: pole and car win. With 'black'/'all', (0,0,0) 'unlabeled' is
 * defined first, so it wins its ties.
 */
import { CITYSCAPES_LABELS, IGNORE_TRAIN_ID, LABEL_ID_TO_TRAIN_ID, NUM_TRAIN_IDS } from '../data/cityscapes.ts';

export type VoidColors = 'none' | 'black' | 'all';

export interface PaletteEntry {
  readonly color: readonly [number, number, number];
  /** 0..18, or 255 for colours of labels that are not evaluated. */
  readonly trainId: number;
  readonly name: string;
}

/** The palette in labels.py order, duplicates of an earlier colour removed (the earlier wins). */
export function labelPalette(voidColors: VoidColors = 'none'): PaletteEntry[] {
  const out: PaletteEntry[] = [];
  const seen = new Set<number>();
  for (const l of CITYSCAPES_LABELS) {
    const evaluated = l.trainId >= 0 && l.trainId < NUM_TRAIN_IDS;
    const include = evaluated || voidColors === 'all' || (voidColors === 'black' && l.color.every((v) => v === 0));
    if (!include) continue;
    const key = (l.color[0] << 16) | (l.color[1] << 8) | l.color[2];
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ color: l.color, trainId: evaluated ? l.trainId : IGNORE_TRAIN_ID, name: l.name });
  }
  return out;
}

/** Index of the palette entry nearest to (r, g, b); the first one among equals. */
export function nearestPaletteIndex(r: number, g: number, b: number, palette: readonly PaletteEntry[]): number {
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < palette.length; i++) {
    const c = palette[i].color;
    const dr = r - c[0],
      dg = g - c[1],
      db = b - c[2];
    const d = dr * dr + dg * dg + db * db;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Marks a 24-bit colour whose trainId is not computed yet (254 is never a result: 0..18 or 255). */
const UNKNOWN = 254;

/**
 * Maps colours to trainIds through a lazily filled 2^24-entry table (16 MiB): generated images
 * reuse few distinct colours relative to their pixel count, so most pixels are one table read.
 */
export class ColorToTrainId {
  readonly palette: readonly PaletteEntry[];
  private readonly lut = new Uint8Array(1 << 24).fill(UNKNOWN);

  constructor(readonly voidColors: VoidColors = 'none') {
    this.palette = labelPalette(voidColors);
  }

  trainIdOf(r: number, g: number, b: number): number {
    const key = (r << 16) | (g << 8) | b;
    let t = this.lut[key];
    if (t === UNKNOWN) {
      t = this.palette[nearestPaletteIndex(r, g, b, this.palette)].trainId;
      this.lut[key] = t;
    }
    return t;
  }

  /** Interleaved 8-bit RGB → one trainId (0..18 or 255) per pixel. */
  map(rgb: Uint8Array): Uint8Array {
    if (rgb.length % 3 !== 0) throw new Error(`ColorToTrainId.map: ${rgb.length} bytes is not a whole number of RGB pixels`);
    const n = rgb.length / 3;
    const out = new Uint8Array(n);
    const lut = this.lut;
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      const r = rgb[j],
        g = rgb[j + 1],
        b = rgb[j + 2];
      const t = lut[(r << 16) | (g << 8) | b];
      out[i] = t !== UNKNOWN ? t : this.trainIdOf(r, g, b);
    }
    return out;
  }
}

const mappers = new Map<VoidColors, ColorToTrainId>();

/** Convenience wrapper sharing one table per palette choice across calls. */
export function colorLabelsToTrainIds(rgb: Uint8Array, voidColors: VoidColors = 'none'): Uint8Array {
  let m = mappers.get(voidColors);
  if (!m) {
    m = new ColorToTrainId(voidColors);
    mappers.set(voidColors, m);
  }
  return m.map(rgb);
}

/**
 * Raw label ids (bytes of *_gtFine_labelIds.png) → trainIds with the labels.py table, as the
 * reference's assign_trainIds does; ids outside 0..33 become 255 (ignored).
 */
export function labelIdsToTrainIds(labelIds: Uint8Array): Uint8Array {
  const out = new Uint8Array(labelIds.length);
  for (let i = 0; i < labelIds.length; i++) out[i] = LABEL_ID_TO_TRAIN_ID[labelIds[i]];
  return out;
}
