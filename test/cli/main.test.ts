import { promises as fsp } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/capture.ts';

const cli = runCli;

describe('pix2pix usage errors', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a command group without its sub-command says which group and where the list is', async () => {
    for (const group of ['eval', 'data', 'segmenter', 'results']) {
      const r = await cli([group]);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`pix2pix: ${group} needs a sub-command: 'pix2pix ${group} --help' lists them`);
    }
  });

  it('a missing positional of a sub-command is not mistaken for a missing sub-command', async () => {
    const r = await cli(['eval', 'run']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("pix2pix: eval run is missing its argument: see 'pix2pix eval run --help'");
  });

  it('a full disk that no writer wrapped is one line and a failing exit status', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'p2p-full-'));
    const sharp = (await import('sharp')).default;
    for (const side of ['a', 'b']) {
      await fsp.mkdir(path.join(dir, side, 'train'), { recursive: true });
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
        .png()
        .toFile(path.join(dir, side, 'train', '1.png'));
    }
    const out = path.join(dir, 'out');
    const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC', syscall: 'mkdir', path: path.join(out, 'train') });
    const realMkdir = fsp.mkdir.bind(fsp);
    vi.spyOn(fsp, 'mkdir').mockImplementation((p, o) => (String(p) === path.join(out, 'train') ? Promise.reject(full) : realMkdir(p, o)));
    const r = await cli(['data', 'combine', '--a', path.join(dir, 'a'), '--b', path.join(dir, 'b'), '--out', out, '--quiet']);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^pix2pix: .*no space left/);
    expect(r.code).toBe(2);
  });

  it('an invalid flag value is one line naming the choices', async () => {
    const r = await cli(['train', '--data', 'd', '--out', 'o', '--norm', 'weird']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('pix2pix: --norm must be one of batch, instance (got weird)');
  });

  it('results table regenerates every CSV it is given, not only the last', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'p2p-cli-table-'));
    const root = path.resolve(import.meta.dirname, '../..');
    for (const n of ['losses', 'patch-size']) await copyFile(path.join(root, 'results', `${n}.csv`), path.join(dir, `${n}.csv`));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const r = await cli(['results', 'table', path.join(dir, 'losses.csv'), path.join(dir, 'patch-size.csv')]);
    expect(r.code ?? 0, r.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['losses.csv', 'losses.md', 'patch-size.csv', 'patch-size.md']);
  });

  it('an unknown flag is named once, as typed, with the nearest flags of the command', async () => {
    const r = await cli(['train', '--data', 'd', '--out', 'o', '--bogus-flag', '1', '--batch_sise', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('pix2pix: Unknown arguments: --bogus-flag, --batch_sise (did you mean --batch-size?)');
  });

  it('--version prints the version of package.json', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const { version } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const r = await cli(['--version']);
    expect(exit).toHaveBeenCalledWith(0);
    expect(r.code ?? 0, r.stderr).toBe(0);
    expect(log).toHaveBeenCalledWith(version);
  });

  it('an unknown command is rejected with exit code 2', async () => {
    const r = await cli(['bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
  });
});
