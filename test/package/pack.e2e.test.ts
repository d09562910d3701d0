/**
 * The published package: built JS + types, the built playground page, a small API, the CLI — and
 * nothing else. Packs a fresh checkout (no dist/, no web/dist/: `prepack` must build both), installs
 * the tarball into an empty folder from npm's local cache (no network), then imports the API, runs the
 * CLI and serves the page from there (loaded in headless Chromium when it is installed), as a user of
 * the package would.
 */
import { execFileSync, type ExecFileSyncOptions, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchChromium } from '../../scripts/chromium.ts';
import { exportConvNetOnnx, generatorSpec, modelMetadata } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';
import { cleanCheckout } from '../helpers/clean-checkout.ts';
import { startServeProcess } from '../helpers/serve-cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'pix2pix-pack-'));
const app = path.join(work, 'app');
/** The same tarball installed with `--omit=peer`: no TensorFlow.js, no Dawn (inference only). */
const lean = path.join(work, 'lean');
// A consumer's install must not try onnxruntime-node's CUDA download (the README says so too).
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };

function run(cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string;
}

/**
 * A consumer project depending on the tarball, with a lockfile derived from this checkout's: the
 * same versions (and integrity hashes) of every production dependency, so the install needs no
 * registry metadata and can run offline.
 */
function writeConsumer(dir: string, tarballName: string): void {
  const ours = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const self = ours.packages[''];
  const spec = `file:../${tarballName}`;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', version: '1.0.0', dependencies: { 'pix2pix-ts': spec } },
    'node_modules/pix2pix-ts': {
      version: self.version,
      resolved: spec,
      dependencies: self.dependencies,
      peerDependencies: self.peerDependencies,
      bin: self.bin,
      engines: self.engines,
      license: self.license,
    },
  };
  for (const [key, entry] of Object.entries(ours.packages)) {
    if (key !== '' && !entry.dev && !entry.link) packages[key] = { resolved: registryTarball(key, entry.version as string), ...entry };
  }
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true, dependencies: { 'pix2pix-ts': spec } }),
  );
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
}

/**
 * The registry URL of a locked package's tarball. This repo's lockfile omits them
 * (omit-lockfile-registry-resolved); given the URL, npm takes the tarball from its cache by integrity
 * without asking the registry for the package's metadata, which the cache may not hold.
 */
function registryTarball(key: string, version: string): string {
  const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
  return `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`;
}

let packedFiles: string[] = [];
let checkout = '';

beforeAll(async () => {
  checkout = await cleanCheckout('pix2pix-pack-src-');
  // This repo's .npmrc sets ignore-scripts (offline-safe installs), which also skips `prepack`: a
  // release packs with scripts on, as docs/package.md says. `prepack` writes its build logs to stdout
  // before the JSON: the JSON is the last thing printed.
  const printed = run('npm', ['pack', '--ignore-scripts=false', '--json', '--pack-destination', work], { cwd: checkout });
  const packed = JSON.parse(printed.slice(printed.lastIndexOf('\n[\n') + 1)) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed[0].files.map((f) => f.path);
  execFileSync('mkdir', ['-p', app, lean]);
  writeConsumer(app, packed[0].filename);
  writeConsumer(lean, packed[0].filename);
  // `npm ci --offline`: every package comes from npm's cache (filled by this checkout's `npm ci`).
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app });
  run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--omit=peer'], { cwd: lean });
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (checkout) rmSync(checkout, { recursive: true, force: true });
});

describe('npm package', () => {
  it('npm publish builds dist/ and web/dist in a clean checkout first, although .npmrc turns scripts off', async () => {
    const fresh = await cleanCheckout('pix2pix-publish-src-');
    try {
      // --dry-run packs exactly what would be uploaded and uploads nothing (the registry is unreachable).
      const printed = run('npm', ['publish', '--dry-run', '--json', '--registry', 'http://127.0.0.1:9/'], { cwd: fresh });
      const report = JSON.parse(printed.slice(printed.indexOf('\n{\n') + 1)) as Record<string, { files: { path: string }[] }>;
      const files = report['pix2pix-ts'].files.map((f) => f.path);
      expect(files).toContain('dist/index.js');
      expect(files).toContain('web/dist/app.js');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 600_000);

  it('ships built JS with type declarations, the bin, docs and experiment files; no sources, tests, benches or results', () => {
    expect(packedFiles).toContain('dist/index.js');
    expect(packedFiles).toContain('dist/index.d.ts');
    expect(packedFiles).toContain('bin/pix2pix.mjs');
    expect(packedFiles).toContain('experiments/patch-size.yaml');
    for (const f of ['web/dist/index.html', 'web/dist/app.js', 'web/dist/style.css', 'web/dist/ort/ort-wasm-simd-threaded.asyncify.wasm'])
      expect(packedFiles).toContain(f);
    const stray = packedFiles.filter(
      (f) => /^(src|test|bench|results|scripts)\//.test(f) || (f.startsWith('web/') && !f.startsWith('web/dist/')) || f.endsWith('.map'),
    );
    expect(stray).toEqual([]);
  });

  it('exposes the documented API from the installed tarball', () => {
    const probe = `
      const root = await import('pix2pix-ts');
      const trainApi = await import('pix2pix-ts/train');
      const exportApi = await import('pix2pix-ts/export');
      const experiments = await import('pix2pix-ts/experiments');
      console.log(JSON.stringify({
        root: ['openSession', 'translateFolder', 'runFcnScore', 'runColorScore', 'fcnScores'].map((k) => typeof root[k]),
        train: typeof trainApi.train, export: typeof exportApi.exportCheckpoint, run: typeof experiments.runExperiment,
      }));`;
    const out = JSON.parse(run('node', ['--input-type=module', '-e', probe], { cwd: app })) as Record<string, unknown>;
    expect(out).toEqual({ root: Array(5).fill('function'), train: 'function', export: 'function', run: 'function' });
  });

  it('installs lean with --omit=peer: no TensorFlow.js or Dawn, inference runs, training says what to add', () => {
    const installed = readdirSync(path.join(lean, 'node_modules'));
    expect(installed).not.toContain('@tensorflow');
    expect(installed).not.toContain('webgpu');
    expect(installed).toContain('sharp');
    const sizes = [app, lean].map((d) => Number(run('du', ['-sb', path.join(d, 'node_modules')]).split('\t')[0]));
    console.log(`node_modules of the installed tarball: full ${(sizes[0] / 1e6).toFixed(0)} MB, --omit=peer ${(sizes[1] / 1e6).toFixed(0)} MB`);
    expect(sizes[1]).toBeLessThan(sizes[0] - 150e6);
    const out = run('node', ['--input-type=module', '-e', `const m = await import('pix2pix-ts'); console.log(typeof m.translateFolder);`], { cwd: lean });
    expect(out.trim()).toBe('function');
    // The check can fail: the training entry does need TensorFlow.js.
    expect(() => run('node', ['--input-type=module', '-e', `await import('pix2pix-ts/train');`], { cwd: lean })).toThrow(/@tensorflow/);
    // The CLI says in one line what to add (not an internal error), and the inference commands still run.
    const train = spawnSync('npx', ['--offline', 'pix2pix', 'train', '--data', 'nowhere', '--out', 'run'], { cwd: lean, env, encoding: 'utf8' });
    expect(train.status).toBe(2);
    expect(train.stderr).toMatch(
      /^pix2pix: this command trains with TensorFlow\.js, and @tensorflow\/tfjs-core is not installed: add the training packages with `npm install @tensorflow\/tfjs-backend-cpu@4\.22\.0 .*webgpu@0\.6\.2`\n$/,
    );
    expect(run('npx', ['--offline', 'pix2pix', 'pull', '--list'], { cwd: lean })).toMatch(/^facades_label2photo/m);
  });

  it('runs the CLI from the installed package with plain Node (built JS, no tsx)', () => {
    const help = run('npx', ['--offline', 'pix2pix', '--help'], { cwd: app });
    expect(help).toMatch(/pix2pix <command>/);
    expect(help).toMatch(/infer/);
    expect(readdirSync(path.join(app, 'node_modules', 'pix2pix-ts'))).not.toContain('src');
  });

  it('serves the playground page from the installed package', async () => {
    const arch = generatorArch({ depth: 5, ngf: 4 });
    const meta = modelMetadata(
      { kind: 'pix2pix', generator: arch.options, discriminator: null, config: { data: 'data/synth', direction: 'BtoA', size: 32 }, epoch: 1, version: '0' },
      'G',
    );
    // From the lean install: serving needs no training package.
    await writeFile(path.join(lean, 'model.onnx'), exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), meta)));
    const served = await startServeProcess('npx', ['--offline', 'pix2pix', 'serve', '--model', 'model.onnx', '--port', '0'], lean, 60_000, env);
    try {
      expect(served.stderr()).not.toMatch(/building/);
      const page = await fetch(served.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/app\.js/);
      if (!haveChromium()) return;
      const browser = await launchChromium();
      try {
        const tab = await browser.newPage();
        await tab.goto(`${served.url}?ep=wasm`);
        await tab.waitForFunction(() => ['ready', 'error'].includes(document.getElementById('status')!.dataset.state ?? ''), null, { timeout: 90_000 });
        expect(await tab.getAttribute('#status', 'data-state'), (await tab.textContent('#status')) ?? '').toBe('ready');
      } finally {
        await browser.close();
      }
    } finally {
      await served.stop();
    }
  }, 180_000);
});
