/**
 * `infer --tile` on an image five times the pixel budget (generated here band by band, never
 * committed): it is read, translated and written a band of tile rows at a time, so the peak memory
 * stays under a bound that the decoded input and output alone would exceed; the output is the
 * input (an Identity model), progress is reported in rows, and SIGTERM or SIGINT mid-image leaves nothing.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngLayout, readPngRows } from '../../src/image/png-stream.ts';
import { identityModel, writeBigPng } from '../helpers/big-image.ts';
import { runCliMeasured } from '../helpers/peak-rss.ts';

const SIDE = 10_000;
const MAX_PIXELS = 20_000_000;
/** Peak RSS allowed, in MiB: the process's baseline plus one band's buffers, with room to spare. */
const BOUND_MIB = 400;

let root: string;
let model: string;
let input: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-tile-bands-')));
  model = path.join(root, 'id.onnx');
  await fsp.writeFile(model, identityModel());
  input = path.join(root, 'in');
  await fsp.mkdir(input);
  await writeBigPng(path.join(input, 'big.png'), SIDE, SIDE);
}, 180_000);
afterAll(() => fsp.rm(root, { recursive: true, force: true }));

const inferArgs = (out: string): string[] => [
  'infer',
  '--model',
  model,
  '--input',
  input,
  '--out',
  out,
  '--provider',
  'cpu',
  '--tile',
  '256',
  '--max-pixels',
  String(MAX_PIXELS),
];

/** Whether two PNGs hold the same pixels, compared a row at a time (neither is decoded whole). */
async function samePixels(a: string, b: string): Promise<boolean> {
  const [la, lb] = [(await readPngLayout(a))!, (await readPngLayout(b))!];
  if (la.width !== lb.width || la.height !== lb.height) return false;
  const rowsB = readPngRows(b, lb);
  for await (const row of readPngRows(a, la)) {
    const other = await rowsB.next();
    if (other.done || Buffer.compare(row, other.value) !== 0) return false;
  }
  return true;
}

describe(`infer --tile 256 on a ${SIDE}×${SIDE} PNG with --max-pixels ${MAX_PIXELS}`, () => {
  it(`stays under ${BOUND_MIB} MiB of peak RSS, reports rows, and writes the image`, { timeout: 300_000 }, async () => {
    // What the whole-image path holds for the pixels alone: the decoded input and the 8-bit output.
    expect((SIDE * SIDE * 6) / 2 ** 20).toBeGreaterThan(BOUND_MIB);
    const out = path.join(root, 'out');
    const r = runCliMeasured(inferArgs(out), { timeoutMs: 280_000 });
    expect(r.code, r.stderr).toBe(0);
    console.log(`infer --tile 256, ${SIDE}×${SIDE}, band by band: peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
    expect(r.peakRssMiB).toBeLessThan(BOUND_MIB);
    expect(r.stderr).toMatch(new RegExp(`infer big\\.png \\[#+\\] ${SIDE}/${SIDE} 100% [\\d.]+ row/s`));
    expect(await fsp.readdir(out)).toEqual(['big.png']);
    expect(await samePixels(path.join(out, 'big.png'), path.join(input, 'big.png'))).toBe(true);
  });

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-image exits ${code} and leaves no file, under the final name or a temporary one`, { timeout: 120_000 }, async () => {
      const out = path.join(root, `out-${signal}`);
      const child = spawn(process.execPath, [path.resolve('bin/pix2pix.mjs'), ...inferArgs(out)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      // Wait until the band path is writing its temporary file.
      for (let i = 0; i < 600; i++) {
        const names = await fsp.readdir(out).catch(() => [] as string[]);
        if (names.some((n) => n.startsWith('.big.png.tmp-'))) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(await fsp.readdir(out)).toHaveLength(1);
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toContain(`pix2pix: stopped by ${signal}; rerun with --skip-existing`);
      expect(await fsp.readdir(out)).toEqual([]);
    });
  }
});
