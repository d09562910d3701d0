/**
 * A run that cannot work fails before it creates anything, in one line that says why and what to
 * do; a run that would process nothing fails too. Each case through the CLI, as a user meets it.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { ONNX_FLOAT } from '../../src/onnx/proto.ts';
import { randomParams } from '../export/fixtures.ts';
import { runCli } from '../helpers/capture.ts';
import { xyModel } from '../helpers/onnx-model.ts';

let root: string;
let model: string;
let photos: string;

/** An Identity model from input x of `shape` to y. */
function identityModel(shape: number[]): Uint8Array {
  return xyModel(0, {
    nodes: [{ name: 'id', opType: 'Identity', input: ['x'], output: ['y'], attribute: [] }],
    inputs: [{ name: 'x', elemType: ONNX_FLOAT, shape }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT, shape }],
  });
}

async function png(file: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 16, height: 16, channels: 3, background: '#408060' } })
    .png()
    .toFile(file);
}

const infer = (input: string, output: string, m = model, ...more: string[]) =>
  runCli(['infer', '--model', m, '--input', input, '--output', output, '--provider', 'cpu', '--quiet', ...more]);

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-nothing-')));
  const arch = generatorArch({ depth: 3, ngf: 2 });
  model = path.join(root, 'g.onnx');
  await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { size_multiple: '8' })));
  photos = path.join(root, 'photos');
  await png(path.join(photos, 'a.png'));
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('infer creates no output folder when the model cannot be used', () => {
  it('a missing --model', async () => {
    const out = path.join(root, 'out-missing');
    const r = await infer(photos, out, path.join(root, 'none.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: model not found: \S+none\.onnx/);
    expect(existsSync(out)).toBe(false);
  });

  it('a model refused by --max-model-memory', async () => {
    const out = path.join(root, 'out-refused');
    const r = await infer(photos, out, model, '--max-model-memory', '100');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: model \S+ refused: the file is/);
    expect(existsSync(out)).toBe(false);
  });

  it("a model whose input has rank 2 is named in the model's terms: input name, its shape, what infer feeds", async () => {
    const file = path.join(root, 'rank2.onnx');
    await fsp.writeFile(file, identityModel([4, 3]));
    const out = path.join(root, 'out-rank2');
    const r = await infer(photos, out, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pix2pix: model ${file}'s input 'x' has shape [4, 3] (rank 2); it is fed an image batch as float32 [batch, channels, height, width] (rank 4)\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a model taking one channel names its input and what infer feeds', async () => {
    const file = path.join(root, 'gray.onnx');
    await fsp.writeFile(file, identityModel([1, 1, 16, 16]));
    const out = path.join(root, 'out-gray');
    const r = await infer(photos, out, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("pix2pix: the model's input 'x' takes 1 channel(s); infer feeds RGB images (3 channels) as [batch, 3, height, width]\n");
    expect(existsSync(out)).toBe(false);
  });
});

describe('a folder with nothing to translate fails with the reason and the likely fix', () => {
  it('only an animated .gif: exit 2, the format named, no output folder', async () => {
    const input = path.join(root, 'gif-only');
    await fsp.mkdir(input);
    const frames = Buffer.alloc(16 * 16 * 4 * 2, 200);
    await sharp(frames, { raw: { width: 16, height: 32, channels: 4 }, animated: true })
      .gif({ loop: 0 })
      .toFile(path.join(input, 'anim.gif'));
    const out = path.join(root, 'out-gif');
    const r = await infer(input, out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^pix2pix: no images to translate in \S+gif-only: 1 file\(s\) in formats it does not read \(\.gif\); it reads \.jpg .* \.webp: convert them \(e\.g\. to \.png\)\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('images only in split folders, without --recursive: suggests --recursive or the test split', async () => {
    const input = path.join(root, 'synth');
    for (const split of ['train', 'test', 'val']) await png(path.join(input, split, '1.png'));
    const out = path.join(root, 'out-splits');
    const r = await infer(input, out);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `pix2pix: no images to translate in ${input}: it has 3 subfolder(s) (test, train, val): pass --recursive, or name one, e.g. --input ${path.join(input, 'test')}\n`,
    );
    expect(existsSync(out)).toBe(false);
    const ok = await infer(input, out, model, '--recursive');
    expect(ok.code ?? 0).toBe(0);
    expect((await fsp.readdir(out)).sort()).toEqual(['test', 'train', 'val']);
  });

  it('an empty folder', async () => {
    const input = path.join(root, 'empty');
    await fsp.mkdir(input);
    const r = await infer(input, path.join(root, 'out-empty'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/: the folder is empty\n$/);
  });

  it('a run where every image fails exits non-zero', async () => {
    const input = path.join(root, 'broken');
    await fsp.mkdir(input);
    await fsp.writeFile(path.join(input, 'x.png'), 'not a png');
    const r = await infer(input, path.join(root, 'out-broken'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/infer: failed x\.png: /);
  });
});

describe('raw system errors become one line', () => {
  it('--output naming a file', async () => {
    const file = path.join(root, 'file.txt');
    await fsp.writeFile(file, 'x');
    const r = await infer(photos, file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pix2pix: --output ${file} is a file, not a folder\n`);
  });

  it('eval color with a missing folder creates no --csv folder', async () => {
    const csv = path.join(root, 'scores', 'color.csv');
    const r = await runCli(['eval', 'color', '--generated', path.join(root, 'nope'), '--real', photos, '--csv', csv, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.dirname(csv))).toBe(false);
  });
});
