/**
 * Cityscapes label definitions (cityscapesScripts `labels.py`, docs/reference.md#cityscapes-labels): label ids as stored in
 * `*_gtFine_labelIds.png`, the 19 evaluation trainIds (255 = ignore), and the palette colours of
 * `*_gtFine_color.png`.
 */

export type CityscapesCategory = 'void' | 'flat' | 'construction' | 'object' | 'nature' | 'sky' | 'human' | 'vehicle';

export interface CityscapesLabel {
  readonly id: number;
  readonly name: string;
  /** 0–18 for evaluated classes, 255 for ignored ones, −1 for the license plate. */
  readonly trainId: number;
  readonly category: CityscapesCategory;
  readonly color: readonly [number, number, number];
}

/** The value trainIds use for "not evaluated". */
export const IGNORE_TRAIN_ID = 255;

export const NUM_TRAIN_IDS = 19;

const L = (id: number, name: string, trainId: number, category: CityscapesCategory, color: [number, number, number]): CityscapesLabel =>
  Object.freeze({ id, name, trainId, category, color: Object.freeze<readonly [number, number, number]>(color) });

/** In the order of labels.py: inverse look-ups (colour → label) resolve to the first match, as there. */
export const CITYSCAPES_LABELS: readonly CityscapesLabel[] = Object.freeze([
  L(0, 'unlabeled', 255, 'void', [0, 0, 0]),
  L(1, 'ego vehicle', 255, 'void', [0, 0, 0]),
  L(2, 'rectification border', 255, 'void', [0, 0, 0]),
  L(3, 'out of roi', 255, 'void', [0, 0, 0]),
  L(4, 'static', 255, 'void', [0, 0, 0]),
  L(5, 'dynamic', 255, 'void', [111, 74, 0]),
  L(6, 'ground', 255, 'void', [81, 0, 81]),
  L(7, 'road', 0, 'flat', [128, 64, 128]),
  L(8, 'sidewalk', 1, 'flat', [244, 35, 232]),
  L(9, 'parking', 255, 'flat', [250, 170, 160]),
  L(10, 'rail track', 255, 'flat', [230, 150, 140]),
  L(11, 'building', 2, 'construction', [70, 70, 70]),
  L(12, 'wall', 3, 'construction', [102, 102, 156]),
  L(13, 'fence', 4, 'construction', [190, 153, 153]),
  L(14, 'guard rail', 255, 'construction', [180, 165, 180]),
  L(15, 'bridge', 255, 'construction', [150, 100, 100]),
  L(16, 'tunnel', 255, 'construction', [150, 120, 90]),
  L(17, 'pole', 5, 'object', [153, 153, 153]),
  L(18, 'polegroup', 255, 'object', [153, 153, 153]),
  L(19, 'traffic light', 6, 'object', [250, 170, 30]),
  L(20, 'traffic sign', 7, 'object', [220, 220, 0]),
  L(21, 'vegetation', 8, 'nature', [107, 142, 35]),
  L(22, 'terrain', 9, 'nature', [152, 251, 152]),
  L(23, 'sky', 10, 'sky', [70, 130, 180]),
  L(24, 'person', 11, 'human', [220, 20, 60]),
  L(25, 'rider', 12, 'human', [255, 0, 0]),
  L(26, 'car', 13, 'vehicle', [0, 0, 142]),
  L(27, 'truck', 14, 'vehicle', [0, 0, 70]),
  L(28, 'bus', 15, 'vehicle', [0, 60, 100]),
  L(29, 'caravan', 255, 'vehicle', [0, 0, 90]),
  L(30, 'trailer', 255, 'vehicle', [0, 0, 110]),
  L(31, 'train', 16, 'vehicle', [0, 80, 100]),
  L(32, 'motorcycle', 17, 'vehicle', [0, 0, 230]),
  L(33, 'bicycle', 18, 'vehicle', [119, 11, 32]),
  L(-1, 'license plate', -1, 'vehicle', [0, 0, 142]),
]);

/** Label ids 0..33 (the license plate, id −1, never appears in label images). */
export const LABEL_BY_ID: ReadonlyMap<number, CityscapesLabel> = new Map(CITYSCAPES_LABELS.map((l) => [l.id, l]));

/** 256-entry table: label id (a byte of a labelIds PNG) → trainId; unknown ids → 255. */
export const LABEL_ID_TO_TRAIN_ID: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(IGNORE_TRAIN_ID);
  for (const l of CITYSCAPES_LABELS) if (l.id >= 0 && l.trainId >= 0) lut[l.id] = l.trainId;
  return lut;
})();

/** trainId of a label id (255 for void/ignored and for ids outside 0..33). */
export function labelIdToTrainId(id: number): number {
  return Number.isInteger(id) && id >= 0 && id < 256 ? LABEL_ID_TO_TRAIN_ID[id] : IGNORE_TRAIN_ID;
}

const evaluated = (): CityscapesLabel[] => {
  const byTrainId: CityscapesLabel[] = [];
  for (const l of CITYSCAPES_LABELS) if (l.trainId >= 0 && l.trainId < NUM_TRAIN_IDS && !byTrainId[l.trainId]) byTrainId[l.trainId] = l;
  return byTrainId;
};

/** The 19 evaluated class names in trainId order (the `classes` list of cityscapes.py). */
export const TRAIN_ID_NAMES: readonly string[] = Object.freeze(evaluated().map((l) => l.name));

/** The palette colour of each trainId 0..18. */
export const TRAIN_ID_COLORS: readonly (readonly [number, number, number])[] = Object.freeze(evaluated().map((l) => l.color));

/** Render a labelIds map (one byte per pixel) as the Cityscapes colour image (`*_gtFine_color.png` look). */
export function colorizeLabelIds(labelIds: Uint8Array): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (const l of CITYSCAPES_LABELS) if (l.id >= 0) lut.set(l.color, l.id * 3);
  const out = new Uint8Array(labelIds.length * 3);
  for (let i = 0; i < labelIds.length; i++) {
    const k = labelIds[i] * 3;
    out[i * 3] = lut[k];
    out[i * 3 + 1] = lut[k + 1];
    out[i * 3 + 2] = lut[k + 2];
  }
  return out;
}
