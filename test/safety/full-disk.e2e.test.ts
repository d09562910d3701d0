/**
 * A full disk, for real: outputs go to a small tmpfs. Every failed write is one line naming the file
 * and what to do, the run exits non-zero, finished outputs stay whole and no temporary file is left.
 * Needs root (to mount); skipped with the reason otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';

const BIN = path.resolve('bin/pix2pix.mjs');
const NO_SPACE = 'no space left on the device: free some space or choose a folder on another disk';

/** Why a tmpfs cannot be mounted here, or undefined. */
function cannotMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: mounting a tmpfs needs root';
  return undefined;
}
const reason = cannotMount();

let root: string;
const mounts: string[] = [];

async function tmpfs(name: string, size: string): Promise<string> {
  const dir = path.join(root, name);
  await fsp.mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });

describe.skipIf(reason !== undefined)(`writes on a full disk${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-full-')));
  });
  afterAll(async () => {
    for (const m of mounts) execFileSync('umount', [m]);
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('infer: each output that does not fit is one line naming it; those written are whole; exit 1', async () => {
    const arch = generatorArch({ depth: 3, ngf: 2 });
    const model = path.join(root, 'g.onnx');
    await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { size_multiple: '8' })));
    const input = path.join(root, 'in');
    await fsp.mkdir(input);
    for (let i = 0; i < 8; i++) {
      const px = new Uint8Array(128 * 128 * 3).map((_, k) => (k * 7919 + i * 104729) % 251);
      await sharp(px, { raw: { width: 128, height: 128, channels: 3 } })
        .png()
        .toFile(path.join(input, `${i}.png`));
    }
    const out = path.join(await tmpfs('infer', '160k'), 'out');
    const r = cli(['infer', '--model', model, '--input', input, '--output', out, '--provider', 'cpu', '--quiet']);
    expect(r.status).toBe(1);
    const failures = r.stderr.trim().split('\n');
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) expect(line).toMatch(new RegExp(`^infer: failed (\\d)\\.png: cannot write ${out}/\\1\\.png: ${NO_SPACE}$`));
    const written = await fsp.readdir(out);
    expect(written.filter((n) => n.startsWith('.'))).toEqual([]);
    expect(written.length + failures.length).toBe(8);
    for (const f of written) expect((await sharp(path.join(out, f)).raw().toBuffer()).length).toBe(128 * 128 * 3);
  });

  it('train: the checkpoint that does not fit is one line naming it, exit 2, no temporary left', async () => {
    const data = path.join(root, 'synth');
    expect(cli(['data', 'synth', '--out', data, '--count', '4', '--size', '32']).status).toBe(0);
    const run = path.join(await tmpfs('train', '48k'), 'run');
    const r = cli(['train', '--data', data, '--out', run, '--size', '32', '--ngf', '4', '--ndf', '4', '--epochs', '2', '--engine', 'cpu']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`pix2pix: cannot write ${run}/checkpoint.bin: ${NO_SPACE}`);
    expect((await fsp.readdir(run)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
