#!/usr/bin/env node
/**
 * Build the playground page into web/dist (git-ignored): bundle web/src/main.ts with esbuild and
 * copy the page, its stylesheet and the onnxruntime-web wasm runtime beside it, so the folder is
 * self-contained and served offline. `npm run build:web` (and `npm pack`, through `prepack`); a checkout's
 * `pix2pix serve` runs it when dist is missing; the npm package ships web/dist built.
 */
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT = path.join(here, 'dist');

/** The runtime files the WebGPU build of onnxruntime-web loads (its JSPI-free asyncify variant). */
export const ORT_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/**
 * Build the page into `outdir`. Source maps only with `dev` (`node web/build.mjs --dev`): the shipped
 * page carries none. The build goes into a sibling temp folder (`dist.tmp-PID`, never inside `dist/`,
 * whatever separator `outdir` ends with) and is renamed into place whole.
 */
export async function buildWeb({ outdir = DEFAULT_OUT, dev = false, log = () => {} } = {}) {
  const esbuild = await import('esbuild');
  outdir = path.resolve(outdir);
  const tmp = `${outdir}.tmp-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(path.join(tmp, 'ort'), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(here, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: dev ? 'linked' : false,
    // The non-bundled ort build loads its wasm glue from env.wasm.wasmPaths (./ort/), which we copy.
    conditions: ['onnxruntime-web-use-extern-wasm'],
    outfile: path.join(tmp, 'app.js'),
    logLevel: 'warning',
  });
  await fsp.copyFile(path.join(here, 'index.html'), path.join(tmp, 'index.html'));
  await fsp.copyFile(path.join(here, 'style.css'), path.join(tmp, 'style.css'));
  const ortDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm'));
  for (const f of ORT_FILES) await fsp.copyFile(path.join(ortDist, f), path.join(tmp, 'ort', f));
  // Swap in whole so a server never sees a half-built folder.
  await fsp.rm(outdir, { recursive: true, force: true });
  try {
    await fsp.rename(tmp, outdir);
  } catch (e) {
    // A concurrent build (another test or server) finished first: its folder is as good as ours.
    await fsp.rm(tmp, { recursive: true, force: true });
    if (!['ENOTEMPTY', 'EEXIST'].includes(e.code)) throw e;
  }
  log(`built the page into ${outdir}`);
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  await buildWeb({ dev: process.argv.includes('--dev'), log: (l) => console.log(`${l} (${Date.now() - t0} ms)`) });
}
