import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnreadableImage } from '../../src/image/decode.ts';
import { prepareImage } from '../../src/runtime/images.ts';
import { ascii, bmp } from '../image/fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-rt-images-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('prepareImage reads the formats the data loaders read', () => {
  it('BMP and PPM inputs (decoded in JS), natively and as an AB half', async () => {
    const fb = path.join(dir, 'x.bmp');
    // One row (bottom-up BGR): red, green.
    await fsp.writeFile(fb, bmp(2, 1, 24, [[0, 0, 255, 0, 255, 0]]));
    expect(await prepareImage(fb, 'native')).toEqual({ rgb: new Uint8Array([255, 0, 0, 0, 255, 0]), width: 2, height: 1, sourceWidth: 2, sourceHeight: 1 });
    const fp = path.join(dir, 'x.ppm');
    await fsp.writeFile(fp, new Uint8Array([...ascii('P6 2 1 255 '), 1, 2, 3, 4, 5, 6]));
    expect(await prepareImage(fp, 'native', 'B')).toEqual({ rgb: new Uint8Array([4, 5, 6]), width: 1, height: 1, sourceWidth: 1, sourceHeight: 1 });
  });

  it('rejects a broken one with an UnreadableImage saying why', async () => {
    const f = path.join(dir, 'cut.ppm');
    await fsp.writeFile(f, new Uint8Array([...ascii('P6 2 2 255 '), 1, 2]));
    await expect(prepareImage(f, 8)).rejects.toThrow(UnreadableImage);
    await expect(prepareImage(f, 8)).rejects.toThrow('PNM pixel data is truncated');
  });
});
