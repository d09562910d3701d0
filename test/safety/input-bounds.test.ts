/**
 * Bounded memory on every input (issue "Bounded memory on every input, no silent garbage"): each
 * probe of the report, run through the CLI as a user meets it, is refused in one line before the
 * input can take the machine.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/capture.ts';

let root: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bounds-')));
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
    expect(r.stderr).toBe(`pix2pix: ${fifo}: a pipe (FIFO), not an experiment file; pass a YAML file such as experiments/patch-size.yaml\n`);
  });

  it('a folder is named as one', async () => {
    const r = await runCli(['eval', 'run', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: \S+: a folder, not an experiment file/);
  });
});
