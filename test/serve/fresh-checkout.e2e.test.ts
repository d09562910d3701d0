/**
 * The README's browser command on a fresh checkout (no web/dist yet): `pix2pix serve --model m.onnx`
 * builds the page on first use and serves it. It once failed for every new user: the build's temp
 * folder was made inside web/dist/ and deleted before the rename (ENOENT).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec, modelMetadata } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';
import { cleanCheckout } from '../helpers/clean-checkout.ts';
import { type ServeProcess, startServeProcess } from '../helpers/serve-cli.ts';

const e2e = process.env.PIX2PIX_TEST_TIER === 'e2e';
let checkout = '';
let served: ServeProcess | undefined;

beforeAll(async () => {
  if (!e2e) return;
  checkout = await cleanCheckout('p2p-fresh-');
  const arch = generatorArch({ depth: 5, ngf: 4 });
  const meta = modelMetadata(
    { kind: 'pix2pix', generator: arch.options, discriminator: null, config: { data: 'data/synth', direction: 'BtoA', size: 32 }, epoch: 1, version: '0' },
    'G',
  );
  await fsp.mkdir(path.join(checkout, 'runs/labels2photo'), { recursive: true });
  await fsp.writeFile(path.join(checkout, 'runs/labels2photo/model.onnx'), exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), meta)));
}, 120_000);

afterAll(async () => {
  await served?.stop();
  if (checkout) await fsp.rm(checkout, { recursive: true, force: true });
});

describe.skipIf(!e2e)('pix2pix serve on a fresh checkout', () => {
  it("builds the page on first use and serves it (the README's command)", async () => {
    await expect(fsp.stat(path.join(checkout, 'web/dist'))).rejects.toThrow(/ENOENT/);
    served = await startServeProcess('npx', ['--offline', 'pix2pix', 'serve', '--model', 'runs/labels2photo/model.onnx', '--port', '0'], checkout);
    const page = await fetch(served.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<script[^>]+app\.js/);
    const app = await fetch(`${served.url}app.js`);
    expect(app.status).toBe(200);
    expect((await app.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(`${served.url}model.onnx`)).status).toBe(200);
    // The shipped page has no source maps, and the build left no temp folder behind.
    expect((await fetch(`${served.url}app.js.map`)).status).toBe(404);
    expect((await fsp.readdir(path.join(checkout, 'web/dist'))).filter((f) => f.endsWith('.map'))).toEqual([]);
    expect((await fsp.readdir(path.join(checkout, 'web'))).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 180_000);
});
