import { promises as fsp, type Stats } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImages } from '../../src/data/image.ts';
import { type ListingFs, listInputImages } from '../../src/data/listing.ts';

let root: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-listing-')));
  await fsp.mkdir(path.join(root, 'in', 'sub', 'deeper'), { recursive: true });
  for (const f of ['a.png', 'notes.txt', '.hidden.png', 'sub/b.jpg', 'sub/deeper/c.png']) await fsp.writeFile(path.join(root, 'in', f), 'x');
  await fsp.symlink('..', path.join(root, 'in', 'sub', 'deeper', 'up'));
  await fsp.symlink('.', path.join(root, 'in', 'self'));
  await fsp.symlink('missing.txt', path.join(root, 'in', 'gone.txt'));
  await fsp.symlink('missing', path.join(root, 'in', 'gone.png'));
  await fsp.symlink('ring-b', path.join(root, 'in', 'ring-a'));
  await fsp.symlink('ring-a', path.join(root, 'in', 'ring-b'));
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('listInputImages', () => {
  it('lists each real folder once, reports every loop once, ignores hidden and non-image files', async () => {
    const r = await listInputImages(path.join(root, 'in'), { recursive: true });
    expect(r.files).toEqual(['a.png', 'sub/b.jpg', 'sub/deeper/c.png']);
    // A dangling link named gone.txt is ignored like any .txt; gone.png is reported.
    expect(r.skipped.map((s) => s.file)).toEqual(['gone.png', 'ring-a', 'ring-b', 'self/', 'sub/deeper/up/']);
    expect(r.skipped[0].reason).toMatch(/^dangling link \(its target missing does not exist\)$/);
    expect(r.skipped[1].reason).toMatch(/^symlink loop/);
    expect(r.skipped[3].reason).toMatch(/folder loop: it is the input folder itself/);
    expect(r.skipped[4].reason).toMatch(/folder loop: it is sub\/, already listed/);
  });

  it('without --recursive, only image-named entries are reported (not folders or link loops)', async () => {
    const r = await listInputImages(path.join(root, 'in'));
    expect(r.files).toEqual(['a.png']);
    expect(r.skipped.map((s) => s.file)).toEqual(['gone.png']);
  });

  it('reports a subfolder it may not list as "permission denied" and goes on (simulated: the tests may run as root)', async () => {
    const denied: ListingFs = {
      readdir: async (d) => {
        if (d.endsWith(`${path.sep}sub`)) throw Object.assign(new Error('EACCES: permission denied, scandir'), { code: 'EACCES' });
        return await fsp.readdir(d, { withFileTypes: true });
      },
      stat: (p): Promise<Stats> => fsp.stat(p),
      lstat: (p): Promise<Stats> => fsp.lstat(p),
      readlink: (p) => fsp.readlink(p),
    };
    const r = await listInputImages(path.join(root, 'in'), { recursive: true, fs: denied });
    expect(r.files).toEqual(['a.png']);
    expect(r.skipped).toContainEqual({ file: 'sub/', reason: 'cannot list this folder: permission denied' });
  });

  it('a missing or unlistable input folder is a one-line error', async () => {
    await expect(listInputImages(path.join(root, 'nope'))).rejects.toThrow(/^Image folder .* does not exist\.$/);
    await expect(listInputImages(path.join(root, 'in', 'a.png'))).rejects.toThrow(/is not a folder/);
  });
});

describe('listImages (datasets, scorers)', () => {
  it('follows a symlink loop at most once', async () => {
    expect(await listImages(path.join(root, 'in'), { recursive: true })).toEqual(['a.png', 'sub/b.jpg', 'sub/deeper/c.png']);
  });
});
