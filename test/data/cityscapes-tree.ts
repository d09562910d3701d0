/**
 * A small Cityscapes-shaped tree for tests: leftImg8bit/{train,val}/CITY/<id>_leftImg8bit.png and
 * gtFine/{train,val}/CITY/<id>_gtFine_{color,labelIds}.png, rendered by the synthetic scene generator
 * (Cityscapes label ids and palette) at width×(width/2), the release's 2:1 aspect.
 */
import * as path from 'node:path';
import { writeImage, writeLabelImage } from '../../src/data/image.ts';
import { renderSynthScene } from '../../src/data/synth.ts';

export interface TreeOptions {
  train: number;
  val: number;
  width: number;
  seed?: number;
}

const CITIES = { train: ['aachen', 'bochum'], val: ['frankfurt', 'lindau'] } as const;

/** Middle rows of a square image: height = width / 2. */
function middle(data: Uint8Array, width: number, channels: number): Uint8Array {
  const h = width / 2;
  const top = width / 4;
  return data.slice(top * width * channels, (top + h) * width * channels);
}

export async function writeCityscapesTree(root: string, o: TreeOptions): Promise<Record<'train' | 'val', string[]>> {
  const ids: Record<'train' | 'val', string[]> = { train: [], val: [] };
  let index = 0;
  for (const split of ['train', 'val'] as const) {
    for (let i = 0; i < o[split]; i++) {
      const city = CITIES[split][i % 2];
      const id = `${city}_000000_${String(19 * i + 3).padStart(6, '0')}`;
      const s = renderSynthScene(o.seed ?? 5, index++, o.width);
      const w = o.width;
      const h = w / 2;
      await writeImage(path.join(root, 'leftImg8bit', split, city, `${id}_leftImg8bit.png`), { width: w, height: h, data: middle(s.photo.data, w, 3) }, 'png');
      await writeImage(
        path.join(root, 'gtFine', split, city, `${id}_gtFine_color.png`),
        { width: w, height: h, data: middle(s.labelColors.data, w, 3) },
        'png',
      );
      await writeLabelImage(path.join(root, 'gtFine', split, city, `${id}_gtFine_labelIds.png`), { width: w, height: h, data: middle(s.labelIds.data, w, 1) });
      ids[split].push(id);
    }
  }
  ids.train.sort();
  ids.val.sort();
  return ids;
}
