/**
 * The README's screenshot of the playground: serve a labels→photo model, open a label map from its
 * test split in the drawing canvas, paint a car stroke on it, and save the page.
 *
 *   node --import tsx scripts/playground-screenshot.ts --model runs/NAME/model.onnx --labels IMG.png [--out docs/img/playground.png]
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../src/serve/server.ts';
import { launchChromium } from './chromium.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string', default: 'docs/img/playground.png' } },
});
if (!values.model || !values.labels) {
  process.stderr.write('usage: scripts/playground-screenshot.ts --model M.onnx --labels LABEL_IMAGE.png [--out docs/img/playground.png]\n');
  process.exit(2);
}

const server = await startServer({ model: values.model, port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(`${server.url}?ep=wasm`);
  await page.waitForFunction(() => document.body.dataset.busy === 'false', null, { timeout: 60_000 });
  const waitTranslated = async (before: number): Promise<void> => {
    await page.waitForFunction((n) => Number(document.body.dataset.translations) > n && document.body.dataset.busy === 'false', before, { timeout: 60_000 });
  };
  const count = (): Promise<number> => page.evaluate(() => Number(document.body.dataset.translations));
  let before = await count();
  await page.setInputFiles('#image-file', values.labels);
  await waitTranslated(before);
  const box = (await page.locator('#input').boundingBox())!;
  before = await count();
  await page.click('#classes button[data-id="26"]');
  await page.mouse.move(box.x + 0.15 * box.width, box.y + 0.85 * box.height);
  await page.mouse.down();
  await page.mouse.move(box.x + 0.35 * box.width, box.y + 0.85 * box.height, { steps: 8 });
  await page.mouse.up();
  await waitTranslated(before);
  await page.screenshot({ path: values.out });
  process.stdout.write(`wrote ${path.resolve(values.out)}\n`);
} finally {
  await browser.close();
  await server.close();
}
