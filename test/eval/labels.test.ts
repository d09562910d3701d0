import { describe, expect, it } from 'vitest';
import { TRAIN_ID_COLORS } from '../../src/data/cityscapes.ts';
import { ColorToTrainId, colorLabelsToTrainIds, labelIdsToTrainIds, labelPalette, nearestPaletteIndex } from '../../src/eval/labels.ts';
import { Rng } from '../../src/util/rng.ts';

const px = (...colors: (readonly number[])[]) => Uint8Array.from(colors.flat());

describe('labelPalette', () => {
  it("'none' holds exactly the 19 evaluated colours in trainId order", () => {
    const p = labelPalette('none');
    expect(p.map((e) => e.trainId)).toEqual(Array.from({ length: 19 }, (_, i) => i));
    expect(p.map((e) => e.color)).toEqual(TRAIN_ID_COLORS);
  });

  it("'black' puts unlabeled (0,0,0) → 255 first, as labels.py defines it first", () => {
    const p = labelPalette('black');
    expect(p).toHaveLength(20);
    expect(p[0]).toMatchObject({ color: [0, 0, 0], trainId: 255 });
  });

  it("'all' keeps the first label of each duplicated colour: pole over polegroup, car over license plate", () => {
    const p = labelPalette('all');
    expect(p.filter((e) => e.color.join() === '153,153,153')).toEqual([expect.objectContaining({ name: 'pole', trainId: 5 })]);
    expect(p.filter((e) => e.color.join() === '0,0,142')).toEqual([expect.objectContaining({ name: 'car', trainId: 13 })]);
  });
});

describe('nearestPaletteIndex', () => {
  it('takes the first entry among equally near ones', () => {
    const palette = [
      { color: [0, 0, 0] as const, trainId: 1, name: 'a' },
      { color: [10, 0, 0] as const, trainId: 2, name: 'b' },
    ];
    expect(nearestPaletteIndex(5, 0, 0, palette)).toBe(0);
    expect(nearestPaletteIndex(6, 0, 0, palette)).toBe(1);
  });
});

describe('colour label maps → trainIds', () => {
  it('maps every exact trainId colour to its trainId', () => {
    const ids = colorLabelsToTrainIds(px(...TRAIN_ID_COLORS));
    expect(Array.from(ids)).toEqual(Array.from({ length: 19 }, (_, i) => i));
  });

  it('maps a slightly off colour to the nearest label (generated maps are continuous)', () => {
    // road (128,64,128) ± a few levels
    expect(Array.from(colorLabelsToTrainIds(px([131, 60, 125])))).toEqual([0]);
  });

  it('maps black to the nearest class without void colours (truck (0,0,70): distance² 4900), to 255 with them', () => {
    expect(colorLabelsToTrainIds(px([0, 0, 0]), 'none')[0]).toBe(14);
    expect(colorLabelsToTrainIds(px([0, 0, 0]), 'black')[0]).toBe(255);
    expect(colorLabelsToTrainIds(px([111, 74, 0]), 'all')[0]).toBe(255); // 'dynamic'
  });

  it('resolves a real tie by labels.py order: (0,0,80) is 100 from truck (0,0,70) and caravan (0,0,90) → truck', () => {
    expect(colorLabelsToTrainIds(px([0, 0, 80]), 'all')[0]).toBe(14);
    expect(colorLabelsToTrainIds(px([0, 0, 81]), 'all')[0]).toBe(255);
    expect(colorLabelsToTrainIds(px([153, 153, 153]), 'all')[0]).toBe(5);
    expect(colorLabelsToTrainIds(px([0, 0, 142]), 'all')[0]).toBe(13);
  });

  it('gives the same answer through its cached table as a brute-force search, for random colours', () => {
    const rng = new Rng(5);
    const m = new ColorToTrainId('black');
    const rgb = new Uint8Array(3 * 2000);
    for (let i = 0; i < rgb.length; i++) rgb[i] = rng.int(256);
    const first = m.map(rgb);
    const second = m.map(rgb); // now every colour comes from the table
    for (let i = 0; i < 2000; i++) {
      const want = m.palette[nearestPaletteIndex(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], m.palette)].trainId;
      expect(first[i]).toBe(want);
      expect(second[i]).toBe(want);
    }
  });
});

describe('labelIdsToTrainIds', () => {
  it('maps raw Cityscapes ids with the labels.py table; void and unknown ids → 255', () => {
    // 7 road → 0, 26 car → 13, 33 bicycle → 18, 0 unlabeled → 255, 18 polegroup → 255, 200 unknown → 255
    expect(Array.from(labelIdsToTrainIds(Uint8Array.from([7, 26, 33, 0, 18, 200])))).toEqual([0, 13, 18, 255, 255, 255]);
  });
});
