/**
 * Peak memory and time of `infer --tile` on large images: `node --import tsx bench/tile-memory.ts
 * [--sides 6000,20000] [--tile 256] [--max-pixels N]`. Each image is generated band by band (a
 * textured PNG), translated by an Identity model (so the numbers are the image I/O and tiling, not a
 * network) in a fresh process under /usr/bin/time, and one JSON line printed per side: peak RSS,
 * wall-clock seconds, the output's size. Needs disk for the input and output PNGs (about 3 bytes a
 * pixel each, as written at zlib level 1 and 6).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { identityModel, writeBigPng } from '../test/helpers/big-image.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const sides = flag('sides', '6000,20000').split(',').map(Number);
const tile = flag('tile', '256');
const maxPixels = process.argv.includes('--max-pixels') ? ['--max-pixels', flag('max-pixels', '')] : [];
const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-tile-bench-'));
try {
  const model = path.join(root, 'id.onnx');
  await fsp.writeFile(model, identityModel());
  for (const side of sides) {
    const input = path.join(root, `in-${side}`);
    const output = path.join(root, `out-${side}`);
    await fsp.mkdir(input);
    const t0 = performance.now();
    await writeBigPng(path.join(input, 'big.png'), side, side);
    const generateSeconds = (performance.now() - t0) / 1000;
    const cli = path.resolve('bin/pix2pix.mjs');
    const args = ['-v', process.execPath, cli, 'infer', '--model', model, '--input', input, '--out', output, '--provider', 'cpu'];
    const r = spawnSync('/usr/bin/time', [...args, '--tile', tile, '--quiet', ...maxPixels], { encoding: 'utf8' });
    const peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(r.stderr)?.[1] ?? '?';
    const seconds = wall.split(':').reduce((s, part) => s * 60 + Number(part), 0);
    const out = await fsp.stat(path.join(output, 'big.png')).catch(() => undefined);
    const failed = r.status === 0 ? undefined : r.stderr.split('\n').find((l) => l.startsWith('infer: failed') || l.startsWith('pix2pix:'));
    console.log(
      JSON.stringify({
        side,
        tile: Number(tile),
        exit: r.status,
        peakRssMiB: Math.round(peakKiB / 1024),
        seconds,
        generateSeconds: Math.round(generateSeconds),
        outputMiB: out ? Number((out.size / 2 ** 20).toFixed(1)) : null,
        failed,
      }),
    );
    execFileSync('rm', ['-rf', input, output]);
  }
} finally {
  await fsp.rm(root, { recursive: true, force: true });
}
