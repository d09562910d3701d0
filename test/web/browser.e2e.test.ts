/**
 * The playground in a real headless Chromium: `pix2pix serve` (the CLI, as a user runs it) serves a
 * tiny exported generator; the page translates a programmatic drawing and a fixture image on the
 * wasm EP and on the WebGPU EP (Chromium's SwiftShader adapter), and every output pixel must equal
 * onnxruntime-node's output for the same input pixels within 2/255.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCheckpoint } from '../../src/export/run-export.ts';
import { planarUnitToRgb, rgbToPlanarUnit } from '../../src/runtime/images.ts';
import { writeSmallCheckpoint } from '../export/fixtures.ts';
import { buildWeb } from '../../web/build.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH, haveChromium, launchChromium } from '../../scripts/chromium.ts';

const SIZE = 32;
const OUT_DIR = path.resolve('tmp/browser-test');
const REPO = path.resolve('.');
const TOLERANCE = 2;

if (!haveChromium()) {
  if (process.env.CI) throw new Error(`${CHROMIUM_PATH} is missing: CI installs it with apt-get install -y chromium`);
  console.warn(`skipping the browser tests: ${CHROMIUM_PATH} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

let dir: string;
let modelFile: string;
let fixture: string;
let serveProc: ChildProcess | undefined;
let url: string;
let browser: Browser | undefined;
let reference: ort.InferenceSession;

/** Start the CLI on a free port and read the URL it prints. */
async function serve(model: string): Promise<string> {
  serveProc = spawn(process.execPath, [path.join(REPO, 'bin/pix2pix.mjs'), 'serve', '--model', model, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  serveProc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pix2pix serve printed no URL in 30 s: ${stderr}`)), 30_000);
    let out = '';
    serveProc!.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    serveProc!.on('exit', (code) => reject(new Error(`pix2pix serve exited (${code}): ${stderr}`)));
  });
}

beforeAll(async () => {
  if (!haveChromium()) return;
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-browser-'));
  await fsp.mkdir(OUT_DIR, { recursive: true });
  // A labels→photo generator trained on the synthetic Cityscapes-like streets (BtoA), random weights.
  const run = path.join(dir, 'run');
  await fsp.mkdir(run);
  await writeSmallCheckpoint(run, {
    generator: { depth: 5, ngf: 8 },
    discriminator: null,
    config: { data: 'data/synth', direction: 'BtoA', size: SIZE, netG: 'unet_32' },
    seed: 3,
  });
  modelFile = (await exportCheckpoint({ checkpoint: run, verify: false })).out;
  // A non-square fixture with edges and gradients, so the page's resize and both EPs are exercised.
  fixture = path.join(dir, 'fixture.png');
  const w = 96;
  const h = 80;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([(x * 255) / w, (y * 255) / h, (x ^ y) & 16 ? 220 : 30], (y * w + x) * 3);
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(fixture);
  await buildWeb();
  url = await serve(modelFile);
  reference = await ort.InferenceSession.create(modelFile);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  serveProc?.kill('SIGTERM');
  await reference?.release();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

async function canvasRgba(page: Page, id: string): Promise<Uint8Array> {
  const data = await page.evaluate((cid) => {
    const c = document.getElementById(cid) as HTMLCanvasElement;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, id);
  return Uint8Array.from(data);
}

async function translations(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.translations ?? 0));
}

/** Wait until at least one translation after `before` has been shown and none is pending. */
async function settled(page: Page, before: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.translations ?? 0) > n && document.body.dataset.busy === 'false', before, { timeout: 60_000 });
}

/** onnxruntime-node on the page's input pixels vs the page's output pixels: the max byte difference. */
async function compareWithNode(page: Page): Promise<{ maxDiff: number; input: Uint8Array }> {
  const input = await canvasRgba(page, 'input');
  const output = await canvasRgba(page, 'output');
  const px = SIZE * SIZE;
  const rgb = new Uint8Array(px * 3);
  for (let p = 0; p < px; p++) rgb.set(input.subarray(p * 4, p * 4 + 3), p * 3);
  const x = new Float32Array(3 * px);
  rgbToPlanarUnit(rgb, px, x, 0);
  const y = (await reference.run({ input: new ort.Tensor('float32', x, [1, 3, SIZE, SIZE]) })).output;
  const expected = planarUnitToRgb(y.data as Float32Array, 0, 3, px);
  let maxDiff = 0;
  let spread = 0;
  for (let p = 0; p < px; p++) {
    for (let c = 0; c < 3; c++) {
      maxDiff = Math.max(maxDiff, Math.abs(output[p * 4 + c] - expected[p * 3 + c]));
      spread = Math.max(spread, Math.abs(expected[p * 3 + c] - expected[c]));
    }
  }
  // A constant output would make the comparison weak: the random net must produce a varied image.
  expect(spread).toBeGreaterThan(20);
  return { maxDiff, input };
}

function countColor(rgba: Uint8Array, color: readonly number[]): number {
  let n = 0;
  for (let p = 0; p < rgba.length; p += 4) if (rgba[p] === color[0] && rgba[p + 1] === color[1] && rgba[p + 2] === color[2]) n++;
  return n;
}

async function exercisePage(ep: 'wasm' | 'webgpu'): Promise<void> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  try {
    await page.goto(`${url}?ep=${ep}`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''), null, { timeout: 90_000 });
    const status = await page.textContent('#status');
    expect(await page.getAttribute('#status', 'data-state'), `${status}\n${logs.join('\n')}`).toBe('ready');
    expect(await page.evaluate(() => document.body.dataset.ep)).toBe(ep);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.textContent('#model-line')).toMatch(/labels → image/);
    expect(await page.inputValue('#mode')).toBe('labels');
    await settled(page, 0);

    // A programmatic drawing: a car stroke, then a sky fill of the (unlabeled) background.
    const box = (await page.locator('#input').boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    let before = await translations(page);
    await page.click('#classes button[data-id="26"]');
    await page.mouse.move(...at(0.2, 0.6));
    await page.mouse.down();
    for (let i = 1; i <= 6; i++) await page.mouse.move(...at(0.2 + 0.1 * i, 0.6 + 0.02 * i));
    await page.mouse.up();
    await settled(page, before);
    before = await translations(page);
    await page.click('#classes button[data-id="23"]');
    await page.selectOption('#tool', 'fill');
    await page.mouse.click(...at(0.05, 0.05));
    await settled(page, before);
    const drawn = await compareWithNode(page);
    const car = countColor(drawn.input, [0, 0, 142]);
    const sky = countColor(drawn.input, [70, 130, 180]);
    expect(car).toBeGreaterThan(100);
    expect(car + sky).toBe(SIZE * SIZE);
    expect(drawn.maxDiff).toBeLessThanOrEqual(TOLERANCE);

    // Undo takes the fill back: the background is unlabeled (black) again.
    before = await translations(page);
    await page.click('#undo');
    await settled(page, before);
    expect(countColor(await canvasRgba(page, 'input'), [70, 130, 180])).toBe(0);
    await page.screenshot({ path: path.join(OUT_DIR, `playground-${ep}-drawing.png`) });

    // The fixture image, opened through the file picker in image mode.
    before = await translations(page);
    await page.selectOption('#mode', 'image');
    await settled(page, before);
    before = await translations(page);
    await page.setInputFiles('#image-file', fixture);
    await settled(page, before);
    const image = await compareWithNode(page);
    expect(image.maxDiff).toBeLessThanOrEqual(TOLERANCE);
    // The canvas holds the fixture resized to the model's side (the browser's resampler, so not bit-exact).
    const ref = await sharp(fixture).resize(SIZE, SIZE, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    let err = 0;
    for (let p = 0; p < SIZE * SIZE; p++) for (let c = 0; c < 3; c++) err += Math.abs(image.input[p * 4 + c] - ref[p * 3 + c]);
    expect(err / (SIZE * SIZE * 3)).toBeLessThan(12);
    expect(await page.textContent('#timing')).toMatch(new RegExp(`^${ep}: [\\d.]+ ms`));
    await page.screenshot({ path: path.join(OUT_DIR, `playground-${ep}-image.png`) });
    console.log(`browser ${ep}: drawing max diff ${drawn.maxDiff}/255, image max diff ${image.maxDiff}/255; ${await page.textContent('#timing')}`);
  } finally {
    await page.close();
  }
}

describe.skipIf(!haveChromium())(`playground in headless Chromium (${CHROMIUM_PATH})`, () => {
  it('translates a drawing and an image on the wasm EP like onnxruntime-node', async () => {
    await exercisePage('wasm');
  }, 120_000);

  it('translates a drawing and an image on the WebGPU EP (SwiftShader) like onnxruntime-node', async (ctx) => {
    const adapter = await (async () => {
      const page = await browser!.newPage();
      try {
        await page.goto(url.replace(/\/$/, '/nope'));
        return await page.evaluate(async () => {
          const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
          if (!gpu) return 'navigator.gpu is undefined';
          return (await gpu.requestAdapter()) ? null : 'requestAdapter() returned null';
        });
      } finally {
        await page.close();
      }
    })();
    if (adapter) {
      console.log(`SKIP WebGPU case: ${adapter} with ${CHROMIUM_ARGS.join(' ')}`);
      ctx.skip();
    }
    await exercisePage('webgpu');
    // SwiftShader runs WebGPU on the CPU: seconds per translation, more under a busy CI machine.
  }, 240_000);
});
