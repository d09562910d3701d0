/**
 * Bounded memory on every input (issue "Bounded memory on every input, no silent garbage"): each
 * probe of the report, run through the CLI as a user meets it, is refused in one line before the
 * input can take the machine.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { decodeImageFile, defaultMaxPixels } from '../../src/image/decode.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';
import { runCli } from '../helpers/capture.ts';
import { runCliMeasured } from '../helpers/peak-rss.ts';
import { pngDeclaring } from '../helpers/png-header.ts';

let root: string;
let modelFile: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bounds-')));
  const arch = generatorArch({ depth: 3, ngf: 2 });
  modelFile = path.join(root, 'g.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { size_multiple: '8' })));
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('experiment files are checked before they are read', () => {
  it('`eval run /dev/zero` is refused in one line, without reading the device', async () => {
    const r = await runCli(['eval', 'run', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pix2pix: /dev/zero: a device, not an experiment file; pass a YAML file such as experiments/patch-size.yaml\n');
  });

  it('a FIFO is refused without opening it (an open would wait for a writer forever)', async () => {
    const fifo = path.join(root, 'exp.yaml');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['eval', 'run', fifo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pix2pix: ${fifo}: a FIFO, not an experiment file; pass a YAML file such as experiments/patch-size.yaml\n`);
  });

  it('a folder is named as one', async () => {
    const r = await runCli(['eval', 'run', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: \S+: a folder, not an experiment file/);
  });
});

describe('one pixel budget for every decode', () => {
  it('the default budget is the memory over 256 bytes a pixel', () => {
    expect(defaultMaxPixels(24 * 2 ** 30)).toBe(100_663_296);
    expect(defaultMaxPixels(8 * 2 ** 30)).toBe(33_554_432);
  });

  it('an image declaring 30000×30000 is refused from its header, before any decode, whatever the path', async () => {
    const file = path.join(root, 'huge.png');
    await fsp.writeFile(file, pngDeclaring(30000, 30000));
    const reason = /^image is 30000×30000 \(900\.0 Mpx\), over the 100\.0 Mpx decode budget: raise --max-pixels/;
    for (const opts of [{}, { size: 256 }, { half: 'B' as const }])
      await expect(decodeImageFile(file, { ...opts, maxPixels: 100_000_000 })).rejects.toThrow(reason);
  });

  it('`infer` at native size skips an image over --max-pixels with the reason, in bounded memory, and exits non-zero', async () => {
    const input = path.join(root, 'infer-in');
    await fsp.mkdir(input);
    await fsp.writeFile(path.join(input, 'huge.png'), pngDeclaring(30000, 30000));
    await sharp({ create: { width: 40, height: 24, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(input, 'small.png'));
    const output = path.join(root, 'infer-out');
    const r = runCliMeasured(['infer', '--model', modelFile, '--input', input, '--output', output, '--provider', 'cpu', '--quiet', '--max-pixels', '50000000']);
    expect(r.stderr).toContain('infer: failed huge.png: image is 30000×30000 (900.0 Mpx), over the 50.0 Mpx decode budget: raise --max-pixels');
    expect(r.code).toBe(1);
    expect(await fsp.readdir(output)).toEqual(['small.png']);
    // A decode of the whole image would need 2.5 GiB for its pixels alone.
    expect(r.peakRssMiB).toBeLessThan(400);
  });

  it('`infer --size 64` holds the whole image to the budget; `--tile` holds one band of tile rows to it', async () => {
    const input = path.join(root, 'size-in');
    await fsp.mkdir(input);
    await fsp.writeFile(path.join(input, 'wide.png'), pngDeclaring(4000, 3000));
    const infer = (name: string, ...flags: string[]) =>
      runCli(['infer', '--model', modelFile, '--input', input, '--output', path.join(root, `size-out-${name}`), '--provider', 'cpu', '--quiet', ...flags]);
    const size = await infer('size', '--size', '64', '--max-pixels', '1000000');
    expect(size.stderr).toContain('infer: failed wide.png: image is 4000×3000 (12.0 Mpx), over the 1.0 Mpx decode budget');
    expect(size.code).toBe(1);
    // A band of 64 rows of 4000 pixels is 0.26 Mpx: over a 0.1 Mpx budget, refused from the header.
    const band = await infer('band', '--tile', '64', '--max-pixels', '100000');
    expect(band.stderr).toContain(
      'infer: failed wide.png: image is 4000×3000 (12.0 Mpx), over the 0.1 Mpx decode budget, and even one band of --tile 64 rows is 0.3 Mpx',
    );
    expect(band.code).toBe(1);
    // Under a 1 Mpx budget the bands fit: the file is read band by band, and its missing rows found.
    const tile = await infer('tile', '--tile', '64', '--max-pixels', '1000000');
    expect(tile.stderr).toBe('infer: failed wide.png: truncated or corrupt image data (truncated PNG: 1 of 3000 rows)\n');
    expect(tile.code).toBe(1);
    expect(await fsp.readdir(path.join(root, 'size-out-tile'))).toEqual([]);
  });

  it('`eval color` and `eval labels` refuse an image over --max-pixels in one line naming it', async () => {
    const dir = path.join(root, 'color');
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, 'a.png'), pngDeclaring(3000, 3000));
    const color = await runCli(['eval', 'color', '--generated', dir, '--real', dir, '--quiet', '--max-pixels', '1000000']);
    expect(color.code).toBe(2);
    expect(color.stderr).toMatch(
      /^pix2pix: Cannot read image \S+a\.png: image is 3000×3000 \(9\.0 Mpx\), over the 1\.0 Mpx decode budget: raise --max-pixels[^\n]*\n$/,
    );
    const labels = path.join(root, 'gt');
    await fsp.mkdir(labels);
    await fsp.writeFile(path.join(labels, 'a_gtFine_labelIds.png'), pngDeclaring(3000, 3000));
    const pred = path.join(root, 'pred');
    await fsp.mkdir(pred);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000000' } })
      .png()
      .toFile(path.join(pred, 'a.png'));
    const r = await runCli(['eval', 'labels', '--pred', pred, '--labels', labels, '--quiet', '--max-pixels', '1000000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/over the 1\.0 Mpx decode budget/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
