#!/usr/bin/env node
// `npm run setup:gpu`: install the GPU pieces that cannot ship in package.json —
//   1. onnxruntime-node's CUDA 12 execution provider (downloaded by its own install script, as
//      `--onnxruntime-node-install=cuda12` would), used by `pix2pix infer --provider cuda|auto`;
//   2. @tensorflow/tfjs-node-gpu 4.22.0 (not saved to package.json), used by `pix2pix train --engine auto`.
// Needs network access and, to be useful, an NVIDIA GPU with CUDA 12 (ONNX Runtime) / CUDA 11.2 + cuDNN 8 (tfjs-node-gpu).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const NETWORK_ERROR =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|socket hang up|getaddrinfo|network|fetch failed|timed out/i;

function fail(message) {
  process.stderr.write(`setup:gpu: ${message}\n`);
  process.exit(1);
}

function run(label, cmd, args, opts) {
  process.stderr.write(`setup:gpu: ${label}\n`);
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stderr.write(output);
  if (r.error) fail(`${label} could not start: ${r.error.message}`);
  if (r.status !== 0) {
    if (NETWORK_ERROR.test(output))
      fail(`${label} failed: no network access (the download could not connect). Run this on a machine with internet access (or set HTTPS_PROXY).`);
    fail(`${label} failed with exit status ${r.status} (see the output above).`);
  }
}

let ortDir;
try {
  ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
} catch {
  fail('onnxruntime-node is not installed: run `npm ci` first.');
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Ask npm which registry it is configured for (a mirror or proxy counts), rather than naming one.
const registry = spawnSync(npm, ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout?.trim() || 'the npm registry';
if (spawnSync(npm, ['ping'], { encoding: 'utf8', timeout: 30_000 }).status !== 0) {
  fail(`offline: npm cannot reach its registry (${registry}). Connect this machine to the internet (or set HTTPS_PROXY) and run \`npm run setup:gpu\` again.`);
}

run(
  'installing the onnxruntime-node CUDA 12 execution provider',
  process.execPath,
  [path.join(ortDir, 'script', 'install.js'), '--onnxruntime-node-install=cuda12'],
  {
    cwd: ortDir,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' },
  },
);
const cudaLib = path.join(ortDir, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
if (!existsSync(cudaLib)) fail(`the install script finished but ${cudaLib} is missing; the CUDA execution provider is only published for linux/x64.`);

run(
  'installing @tensorflow/tfjs-node-gpu@4.22.0 (not saved to package.json)',
  npm,
  ['install', '--no-save', '--ignore-scripts=false', '@tensorflow/tfjs-node-gpu@4.22.0'],
  {},
);

const gpu = existsSync('/dev/nvidia0') || spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).status === 0;
process.stderr.write(
  `setup:gpu: done. ${gpu ? 'An NVIDIA GPU is visible: `pix2pix infer` now picks CUDA automatically.' : 'No NVIDIA GPU is visible on this machine: the CUDA provider will only be used where one is.'}\n`,
);
