import { describe, expect, it } from 'vitest';
import {
  CITYSCAPES_LABELS,
  LABEL_BY_ID,
  LABEL_ID_TO_TRAIN_ID,
  TRAIN_ID_COLORS,
  TRAIN_ID_NAMES,
  colorizeLabelIds,
  labelIdToTrainId,
} from '../../src/data/cityscapes.ts';

describe('Cityscapes label table (docs/reference.md#cityscapes-labels)', () => {
  it('has ids 0..33 in order, then the license plate (−1)', () => {
    expect(CITYSCAPES_LABELS.map((l) => l.id)).toEqual([...Array.from({ length: 34 }, (_, i) => i), -1]);
    expect(CITYSCAPES_LABELS.at(-1)).toMatchObject({ name: 'license plate', trainId: -1, category: 'vehicle', color: [0, 0, 142] });
  });

  it.each([
    [0, 'unlabeled', 255, 'void', [0, 0, 0]],
    [5, 'dynamic', 255, 'void', [111, 74, 0]],
    [6, 'ground', 255, 'void', [81, 0, 81]],
    [7, 'road', 0, 'flat', [128, 64, 128]],
    [8, 'sidewalk', 1, 'flat', [244, 35, 232]],
    [9, 'parking', 255, 'flat', [250, 170, 160]],
    [11, 'building', 2, 'construction', [70, 70, 70]],
    [12, 'wall', 3, 'construction', [102, 102, 156]],
    [17, 'pole', 5, 'object', [153, 153, 153]],
    [18, 'polegroup', 255, 'object', [153, 153, 153]],
    [19, 'traffic light', 6, 'object', [250, 170, 30]],
    [20, 'traffic sign', 7, 'object', [220, 220, 0]],
    [21, 'vegetation', 8, 'nature', [107, 142, 35]],
    [22, 'terrain', 9, 'nature', [152, 251, 152]],
    [23, 'sky', 10, 'sky', [70, 130, 180]],
    [24, 'person', 11, 'human', [220, 20, 60]],
    [26, 'car', 13, 'vehicle', [0, 0, 142]],
    [29, 'caravan', 255, 'vehicle', [0, 0, 90]],
    [30, 'trailer', 255, 'vehicle', [0, 0, 110]],
    [31, 'train', 16, 'vehicle', [0, 80, 100]],
    [33, 'bicycle', 18, 'vehicle', [119, 11, 32]],
  ] as const)('id %i is %s, trainId %i, %s, colour %j', (id, name, trainId, category, color) => {
    expect(LABEL_BY_ID.get(id)).toEqual({ id, name, trainId, category, color });
  });

  it('maps label ids to trainIds, with 255 for void, unknown and out-of-range ids', () => {
    expect(labelIdToTrainId(7)).toBe(0);
    expect(labelIdToTrainId(33)).toBe(18);
    expect(labelIdToTrainId(4)).toBe(255);
    expect(labelIdToTrainId(34)).toBe(255);
    expect(labelIdToTrainId(-1)).toBe(255);
    expect(labelIdToTrainId(1.5)).toBe(255);
    expect(LABEL_ID_TO_TRAIN_ID).toHaveLength(256);
    for (let id = 0; id < 256; id++) expect(LABEL_ID_TO_TRAIN_ID[id]).toBe(labelIdToTrainId(id));
    // Exactly 19 ids are evaluated, each trainId 0..18 once.
    const evaluated = Array.from(LABEL_ID_TO_TRAIN_ID).filter((t) => t !== 255);
    expect(evaluated.sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    // Every trainId is smaller than its id (what makes the reference's in-place mapping safe).
    for (let id = 0; id < 34; id++) if (LABEL_ID_TO_TRAIN_ID[id] !== 255) expect(LABEL_ID_TO_TRAIN_ID[id]).toBeLessThan(id);
  });

  it('lists the 19 evaluated classes in trainId order with their colours', () => {
    expect(TRAIN_ID_NAMES).toEqual([
      'road',
      'sidewalk',
      'building',
      'wall',
      'fence',
      'pole',
      'traffic light',
      'traffic sign',
      'vegetation',
      'terrain',
      'sky',
      'person',
      'rider',
      'car',
      'truck',
      'bus',
      'train',
      'motorcycle',
      'bicycle',
    ]);
    expect(TRAIN_ID_COLORS).toHaveLength(19);
    expect(TRAIN_ID_COLORS[0]).toEqual([128, 64, 128]);
    expect(TRAIN_ID_COLORS[4]).toEqual([190, 153, 153]);
    expect(TRAIN_ID_COLORS[12]).toEqual([255, 0, 0]);
    expect(TRAIN_ID_COLORS[14]).toEqual([0, 0, 70]);
    expect(TRAIN_ID_COLORS[15]).toEqual([0, 60, 100]);
    expect(TRAIN_ID_COLORS[17]).toEqual([0, 0, 230]);
  });

  it('colourises a labelIds map with the palette', () => {
    expect(Array.from(colorizeLabelIds(new Uint8Array([7, 23, 0, 200])))).toEqual([128, 64, 128, 70, 130, 180, 0, 0, 0, 0, 0, 0]);
  });
});
