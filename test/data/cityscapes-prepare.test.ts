import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCityscapes } from '../../src/data/cityscapes-prepare.ts';
import { readImage, writeImage } from '../../src/data/image.ts';
import { pairFrames } from '../../src/eval/pairing.ts';
import { writeCityscapesTree } from './cityscapes-tree.ts';

let root: string;
let tree: string;
let ids: Record<'train' | 'val', string[]>;
beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'cs-prep-'));
  tree = path.join(root, 'cityscapes');
  ids = await writeCityscapesTree(tree, { train: 4, val: 3, width: 48 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function meanAbs(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('data cityscapes (official layout)', () => {
  it('writes photo | colour labels per frame, named by frame id, and the val outputs pair with gtFine', async () => {
    const out = path.join(root, 'ab');
    let last = 0;
    const s = await prepareCityscapes({ cityscapes: tree, out, size: 16, concurrency: 2, onProgress: (d) => (last = d) });
    expect(s.counts).toEqual({ train: 4, val: 3 });
    expect(last).toBe(10);
    expect(readdirSync(path.join(out, 'train')).sort()).toEqual(ids.train.map((id) => `${id}.jpg`));
    expect(readdirSync(path.join(out, 'val')).sort()).toEqual(ids.val.map((id) => `${id}.jpg`));
    const ab = await readImage(path.join(out, 'val', `${ids.val[0]}.jpg`));
    expect([ab.width, ab.height]).toEqual([32, 16]);
    // Left half is the photo, right half the colour map (both squeezed to 16²; JPEG q100 keeps them close).
    const city = ids.val[0].split('_')[0];
    const photo = await readImage(path.join(tree, 'leftImg8bit', 'val', city, `${ids.val[0]}_leftImg8bit.png`), { resize: { width: 16, height: 16 } });
    const color = await readImage(path.join(tree, 'gtFine', 'val', city, `${ids.val[0]}_gtFine_color.png`), { resize: { width: 16, height: 16 } });
    const half = (x0: number): Uint8Array => {
      const o = new Uint8Array(16 * 16 * 3);
      for (let y = 0; y < 16; y++) o.set(ab.data.subarray((y * 32 + x0) * 3, (y * 32 + x0 + 16) * 3), y * 48);
      return o;
    };
    expect(meanAbs(half(0), photo.data)).toBeLessThan(3);
    expect(meanAbs(half(16), color.data)).toBeLessThan(3);
    expect(meanAbs(half(0), color.data)).toBeGreaterThan(10);
    // Scoring pairs generated images (named like the test inputs) with the official labels.
    const pairs = await pairFrames(path.join(out, 'val'), path.join(tree, 'gtFine', 'val'));
    expect(pairs.map((p) => p.id)).toEqual(ids.val);
    // …and with the copy of the val labels the dataset folder carries.
    expect((await pairFrames(path.join(out, 'val'), path.join(out, 'gtFine', 'val'))).map((p) => p.id)).toEqual(ids.val);
    // A second run resumes: nothing to redo, same files.
    const before = readFileSync(path.join(out, 'val', `${ids.val[1]}.jpg`));
    await prepareCityscapes({ cityscapes: tree, out, size: 16 });
    expect(readFileSync(path.join(out, 'val', `${ids.val[1]}.jpg`)).equals(before)).toBe(true);
  });

  it('a photo without its colour map fails with one line naming it', async () => {
    const broken = path.join(root, 'broken');
    await writeCityscapesTree(broken, { train: 1, val: 2, width: 16 });
    const city = readdirSync(path.join(broken, 'gtFine', 'val'))[0];
    const victim = readdirSync(path.join(broken, 'gtFine', 'val', city)).find((f) => f.endsWith('_gtFine_color.png'))!;
    rmSync(path.join(broken, 'gtFine', 'val', city, victim));
    const err = await prepareCityscapes({ cityscapes: broken, out: path.join(root, 'broken-out'), size: 8 }).catch((e: Error) => e);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/val split does not pair: 1 photos without gtFine colour map \(.*_000000_/);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('data cityscapes --pix2pix-download (numbered)', () => {
  let official: string;
  let download: string;
  // The numbered download in a shuffled order: the map must come from content, not from the order.
  const order = [2, 0, 1];
  beforeAll(async () => {
    official = path.join(root, 'ab-official');
    await prepareCityscapes({ cityscapes: tree, out: official, size: 16 });
    download = path.join(root, 'download');
    mkdirSync(path.join(download, 'val'), { recursive: true });
    mkdirSync(path.join(download, 'train'), { recursive: true });
    order.forEach((k, n) => copyFileSync(path.join(official, 'val', `${ids.val[k]}.jpg`), path.join(download, 'val', `${n + 1}.jpg`)));
    ids.train.forEach((id, n) => copyFileSync(path.join(official, 'train', `${id}.jpg`), path.join(download, 'train', `${n + 1}.jpg`)));
  });

  it('rebuilds the frame ids of the numbered val images by matching their label halves with gtFine', async () => {
    const out = path.join(root, 'ab-numbered');
    const s = await prepareCityscapes({ cityscapes: tree, numbered: download, out, size: 16 });
    expect(s.counts).toEqual({ train: 4, val: 3 });
    expect(s.idMapInSortedOrder).toBe(0);
    for (const id of ids.val) expect(readFileSync(path.join(out, 'val', `${id}.jpg`)).equals(readFileSync(path.join(official, 'val', `${id}.jpg`)))).toBe(true);
    const csv = readFileSync(path.join(out, 'id-map.csv'), 'utf8').trim().split('\n').slice(1);
    expect(csv.map((l) => l.split(',').slice(0, 2).join(','))).toEqual(order.map((k, n) => `val/${n + 1}.jpg,${ids.val[k]}`));
    expect(readdirSync(path.join(out, 'train')).sort()).toEqual(['1.jpg', '2.jpg', '3.jpg', '4.jpg']);
  });

  it('fails with one line when a numbered image matches no gtFine colour map', async () => {
    const noise = { width: 32, height: 16, data: Uint8Array.from({ length: 32 * 16 * 3 }, (_, i) => (i * 97) % 256) };
    const bad = path.join(root, 'download-bad');
    mkdirSync(path.join(bad, 'val'), { recursive: true });
    copyFileSync(path.join(download, 'val', '1.jpg'), path.join(bad, 'val', '1.jpg'));
    await writeImage(path.join(bad, 'val', '2.jpg'), noise, 'jpg');
    const err = await prepareCityscapes({ cityscapes: tree, numbered: bad, out: path.join(root, 'bad-out'), size: 16 }).catch((e: Error) => e);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/cannot rebuild the frame-id map: 1 of 2 numbered val images match no gtFine\/val colour map clearly \(val\/2\.jpg/);
  });
});
