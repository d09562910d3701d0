/**
 * The playground reads the model card `pix2pix pull` writes: a facades label model gets the CMP facade
 * palette as its classes (the legend) and an eyedropper that takes classes from an opened label image;
 * an edges2shoes model gets a pen-and-eraser edge canvas; a photo model opens on the image input.
 * Models are pulled from a 127.0.0.1 mirror serving the import tests' junyanz-format fixture.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, haveChromium, launchChromium } from '../../scripts/chromium.ts';
import { FACADES_PALETTE } from '../../src/pull/catalog.ts';
import { pullModel } from '../../src/pull/pull.ts';
import { type RunningServer, startServer } from '../../src/serve/server.ts';
import { buildWeb } from '../../web/build.mjs';
import { fixture } from '../import/fixtures.ts';
import { type Mirror, startMirror } from '../helpers/mirror.ts';

const OUT_DIR = path.resolve('tmp/browser-test');
const e2e = process.env.PIX2PIX_TEST_TIER === 'e2e';
let dir: string;
let mirror: Mirror;
let browser: Browser | undefined;
const servers: RunningServer[] = [];
const models: Record<string, string> = {};

beforeAll(async () => {
  if (!e2e || !haveChromium()) return;
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-card-'));
  await fsp.mkdir(OUT_DIR, { recursive: true });
  const pth = fixture('unet32-batch.pth');
  mirror = await startMirror(Object.fromEntries(['facades_label2photo', 'edges2shoes', 'sat2map'].map((n) => [`/pix2pix/models-pytorch/${n}.pth`, pth])));
  for (const name of ['facades_label2photo', 'edges2shoes', 'sat2map']) {
    models[name] = (await pullModel({ name, out: path.join(dir, 'models'), cacheDir: path.join(dir, 'cache'), mirror: mirror.url })).out;
  }
  await buildWeb();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  for (const s of servers) await s.close();
  await mirror?.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

async function open(name: string): Promise<Page> {
  const server = await startServer({ model: models[name], port: 0 });
  servers.push(server);
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${server.url}?ep=wasm`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''), null, { timeout: 90_000 });
  expect(await page.getAttribute('#status', 'data-state'), (await page.textContent('#status')) ?? '').toBe('ready');
  await page.waitForFunction(() => document.body.dataset.busy === 'false', null, { timeout: 60_000 });
  return page;
}

async function inputPixel(page: Page, fx: number, fy: number): Promise<number[]> {
  return page.evaluate(
    ([x, y]) => {
      const c = document.getElementById('input') as HTMLCanvasElement;
      return Array.from(
        c
          .getContext('2d')!
          .getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1)
          .data.slice(0, 3),
      );
    },
    [fx, fy],
  );
}

describe.skipIf(!e2e || !haveChromium())(`playground model kinds in headless Chromium (${CHROMIUM_PATH})`, () => {
  it('facades: the CMP palette as legend, and the eyedropper takes a class from an opened label image', async () => {
    const page = await open('facades_label2photo');
    expect(await page.evaluate(() => document.body.dataset.input)).toBe('labels');
    expect(await page.locator('#classes button').allTextContents()).toEqual(FACADES_PALETTE.map((p) => p.name));
    expect(await page.textContent('#card-line')).toMatch(/facade labels → photo · .*CMP Facade/);
    // A label image: left half window blue, right half balcony green.
    const label = path.join(dir, 'labels.png');
    const w = 64;
    const rgb = Buffer.alloc(w * w * 3);
    for (let p = 0; p < w * w; p++) rgb.set(p % w < w / 2 ? FACADES_PALETTE[2].color : FACADES_PALETTE[6].color, p * 3);
    await sharp(rgb, { raw: { width: w, height: w, channels: 3 } })
      .png()
      .toFile(label);
    // A slow decode (a big file, a busy machine) must still read as busy until the image is shown.
    await page.evaluate(() => {
      const decode = window.createImageBitmap.bind(window) as (b: Blob) => Promise<ImageBitmap>;
      (window as unknown as { createImageBitmap: (b: Blob) => Promise<ImageBitmap> }).createImageBitmap = (b) =>
        new Promise((r) => setTimeout(r, 500)).then(() => decode(b));
    });
    await page.setInputFiles('#image-file', label);
    await page.waitForFunction(() => document.body.dataset.busy === 'false');
    expect(await inputPixel(page, 0.75, 0.5)).toEqual([...FACADES_PALETTE[6].color]);
    await page.selectOption('#tool', 'pick');
    const box = (await page.locator('#input').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height * 0.5);
    expect(await page.getAttribute('#classes button[aria-checked="true"]', 'data-id')).toBe('2');
    // Painting with the picked class over the balcony half puts window colour there.
    await page.selectOption('#tool', 'brush');
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.5);
    expect(await inputPixel(page, 0.75, 0.5)).toEqual([...FACADES_PALETTE[2].color]);
    await page.screenshot({ path: path.join(OUT_DIR, 'playground-facades.png') });
    await page.close();
  }, 180_000);

  it('edges2shoes: a white edge canvas with a pen and an eraser', async () => {
    const page = await open('edges2shoes');
    expect(await page.evaluate(() => document.body.dataset.input)).toBe('edges');
    expect(await page.locator('#mode option[value="labels"]').textContent()).toBe('draw edges');
    expect(await page.locator('#classes button').allTextContents()).toEqual(['pen', 'eraser']);
    expect(await inputPixel(page, 0.5, 0.5)).toEqual([255, 255, 255]);
    const box = (await page.locator('#input').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 8 });
    await page.mouse.up();
    expect(await inputPixel(page, 0.5, 0.5)).toEqual([0, 0, 0]);
    await page.click('#classes button[data-id="0"]');
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
    expect(await inputPixel(page, 0.5, 0.5)).toEqual([255, 255, 255]);
    await page.screenshot({ path: path.join(OUT_DIR, 'playground-edges.png') });
    await page.close();
  }, 180_000);

  it('sat2map: a photo model opens on the image input', async () => {
    const page = await open('sat2map');
    expect(await page.evaluate(() => document.body.dataset.input)).toBe('image');
    expect(await page.inputValue('#mode')).toBe('image');
    await page.close();
  }, 180_000);
});
