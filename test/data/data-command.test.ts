import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataCommand } from '../../src/cli/commands/data.ts';
import { UserError } from '../../src/util/errors.ts';

let dir: string;
beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-datacmd-'));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** Parse like src/cli/main.ts does: errors from handlers propagate instead of printing help. */
async function run(args: string[]): Promise<void> {
  await yargs(args)
    .strict()
    .command(dataCommand as CommandModule)
    .demandCommand(1)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
}

describe('pix2pix data synth', () => {
  it('writes the dataset described by its flags and reports the split sizes', async () => {
    const out = path.join(dir, 'ds');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let printed: string;
    try {
      await run(['data', 'synth', '--out', out, '--count', '5', '--size', '16', '--seed', '3', '--splits', '3,1,1', '--quiet']);
    } finally {
      printed = write.mock.calls.map((c) => String(c[0])).join('');
      write.mockRestore();
    }
    expect(printed).toContain('Wrote 5 scenes of 16×16');
    const json = JSON.parse(await fsp.readFile(path.join(out, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ kind: 'synthetic', count: 5, size: 16, seed: 3, splits: { train: 3, val: 1, test: 1 } });
    expect((await fsp.readdir(path.join(out, 'train'))).sort()).toEqual(['synth_000000_000000.png', 'synth_000000_000001.png', 'synth_000000_000002.png']);
  });

  it('rejects a malformed --splits with a UserError naming the flag', async () => {
    const err = await run(['data', 'synth', '--out', path.join(dir, 'x'), '--splits', '0.8,0.2', '--quiet']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^--splits must be/);
  });

  it('requires --out', async () => {
    await expect(run(['data', 'synth'])).rejects.toThrow(/out/);
  });
});
