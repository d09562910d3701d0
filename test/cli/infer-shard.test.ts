/**
 * `pix2pix infer` in a job array: without --shard, the slice comes from SLURM_ARRAY_TASK_ID (ids
 * starting at SLURM_ARRAY_TASK_MIN) or JOB_COMPLETION_INDEX with --task-count; the slices of all
 * tasks are disjoint and cover the folder.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import yargs from 'yargs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inferCommand } from '../../src/cli/commands/infer.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';

const SIZE = 32;
const FILES = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png'];
let root: string;
let model: string;

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-infer-shard-'));
  const arch = generatorArch({ depth: 5, ngf: 4 });
  model = path.join(root, 'g.onnx');
  await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { image_size: String(SIZE), size_multiple: '32' })));
  await fsp.mkdir(path.join(root, 'in'));
  for (const [i, f] of FILES.entries()) {
    const px = new Uint8Array(SIZE * SIZE * 3).map((_, k) => (k * 7 + i * 31) % 256);
    await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
      .png()
      .toFile(path.join(root, 'in', f));
  }
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function infer(out: string, env: Record<string, string>, extra: string[] = []): Promise<{ files: string[]; stderr: string }> {
  for (const k of [
    'SLURM_ARRAY_TASK_ID',
    'SLURM_ARRAY_TASK_MIN',
    'SLURM_ARRAY_TASK_MAX',
    'SLURM_ARRAY_TASK_COUNT',
    'SLURM_ARRAY_TASK_STEP',
    'JOB_COMPLETION_INDEX',
  ])
    vi.stubEnv(k, env[k] ?? '');
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await yargs(['infer', '--model', model, '--input', path.join(root, 'in'), '--output', out, '--provider', 'cpu', '--threads', '1', ...extra])
      .command(inferCommand)
      .strict()
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync();
  } finally {
    spy.mockRestore();
  }
  const files = await fsp.readdir(out).catch(() => [] as string[]);
  return { files: files.filter((f) => !f.startsWith('.')).sort(), stderr };
}

describe('infer --shard from the job-array environment', () => {
  it('a SLURM array with ids 1-2: two disjoint slices that cover the folder', async () => {
    const slurm = (id: number): Record<string, string> => ({
      SLURM_ARRAY_TASK_ID: String(id),
      SLURM_ARRAY_TASK_MIN: '1',
      SLURM_ARRAY_TASK_MAX: '2',
      SLURM_ARRAY_TASK_COUNT: '2',
    });
    const first = await infer(path.join(root, 'out-slurm'), slurm(1));
    expect(first.stderr).toContain('infer: shard 0/2 from SLURM_ARRAY_TASK_ID=1 of 1-2');
    expect(first.files).toEqual(['a.png', 'b.png']);
    const second = await infer(path.join(root, 'out-slurm'), slurm(2));
    expect(second.files).toEqual(FILES);
  });

  it('a Kubernetes Indexed Job pod with --task-count; an explicit --shard wins', async () => {
    const k8s = await infer(path.join(root, 'out-k8s'), { JOB_COMPLETION_INDEX: '2' }, ['--task-count', '3']);
    expect(k8s.stderr).toContain('infer: shard 2/3 from JOB_COMPLETION_INDEX=2 of --task-count 3');
    expect(k8s.files).toEqual(['d.png', 'e.png']);
    const explicit = await infer(path.join(root, 'out-explicit'), { JOB_COMPLETION_INDEX: '2' }, ['--shard', '0/1']);
    expect(explicit.files).toEqual(FILES);
    await expect(infer(path.join(root, 'out-bad'), { JOB_COMPLETION_INDEX: '0' })).rejects.toThrow(/pass --task-count N/);
  });
});
