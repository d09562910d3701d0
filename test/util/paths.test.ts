import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempPathFor, writeFileAtomic } from '../../src/util/fs.ts';
import {
  checkDisjointTrees,
  claimOutputFolder,
  describeFsError,
  isInside,
  realpathLoose,
  removeStaleTemps,
  resolveInside,
  tempFileOwner,
} from '../../src/util/paths.ts';

let root: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-paths-')));
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: raw message`), { code });

describe('isInside', () => {
  it('is true for the folder itself and anything below, false for siblings sharing a prefix and for parents', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c/d')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c')).toBe(false);
    expect(isInside('/', '/x')).toBe(true);
    expect(isInside('/a/b', '/a/b/..x')).toBe(true);
  });
});

describe('realpathLoose and resolveInside', () => {
  it('resolves symlinks in the existing prefix and keeps the missing tail', async () => {
    await fsp.mkdir(path.join(root, 'real'));
    await fsp.symlink(path.join(root, 'real'), path.join(root, 'link'));
    expect(await realpathLoose(path.join(root, 'link', 'not', 'yet.png'))).toBe(path.join(root, 'real', 'not', 'yet.png'));
  });

  it('accepts paths inside, refuses .. escapes and symlinks that lead out', async () => {
    const out = path.join(root, 'out');
    await fsp.mkdir(out);
    expect(await resolveInside(out, 'a/b.png')).toBe(path.join(out, 'a', 'b.png'));
    await expect(resolveInside(out, '../../etc/x')).rejects.toThrow(/leads outside/);
    await fsp.symlink(root, path.join(out, 'escape'));
    await expect(resolveInside(out, 'escape/x.png')).rejects.toThrow(/resolves \(through a symlink\) to .*x\.png, outside/);
  });
});

describe('checkDisjointTrees', () => {
  it('allows separate folders and an output inside the input when not recursive', async () => {
    await fsp.mkdir(path.join(root, 'in'), { recursive: true });
    await checkDisjointTrees(path.join(root, 'in'), path.join(root, 'elsewhere'), { recursive: true });
    await checkDisjointTrees(path.join(root, 'in'), path.join(root, 'in', 'out'), { recursive: false });
  });
});

describe('describeFsError', () => {
  it('names the common failures in words', () => {
    expect(describeFsError(errno('EACCES'))).toBe('permission denied');
    expect(describeFsError(errno('EPERM'))).toBe('permission denied');
    expect(describeFsError(errno('ELOOP'))).toBe('symlink loop');
    expect(describeFsError(errno('EIO'))).toMatch(/unreadable/);
    expect(describeFsError(new Error('odd\nsecond line'))).toBe('odd');
  });
});

describe('stale temporary files', () => {
  it("recognises exactly fs.ts's temporary names", () => {
    expect(tempFileOwner(path.basename(tempPathFor('/x/checkpoint.bin')))).toBe(process.pid);
    expect(tempFileOwner('.a.png.tmp-123-456-7')).toBe(123);
    expect(tempFileOwner('a.png.tmp-123-456-7')).toBeUndefined();
    expect(tempFileOwner('.a.png.tmp-123')).toBeUndefined();
    expect(tempFileOwner('.bashrc')).toBeUndefined();
  });

  it("removes dead writers' temporaries (recursively when asked), never follows symlinks, keeps live ones", async () => {
    const dir = path.join(root, 'temps');
    const other = path.join(root, 'temps-other');
    await fsp.mkdir(path.join(dir, 'sub'), { recursive: true });
    await fsp.mkdir(other);
    const dead = 4_194_304 + 99;
    await fsp.writeFile(path.join(dir, `.a.tmp-${dead}-1-0`), 'x');
    await fsp.writeFile(path.join(dir, 'sub', `.b.tmp-${dead}-1-0`), 'x');
    await fsp.writeFile(path.join(dir, `.c.tmp-${process.pid}-1-0`), 'x');
    await fsp.writeFile(path.join(other, `.d.tmp-${dead}-1-0`), 'x');
    await fsp.symlink(other, path.join(dir, 'linked'));
    expect((await removeStaleTemps(dir)).map((p) => path.relative(dir, p))).toEqual([`.a.tmp-${dead}-1-0`]);
    expect((await removeStaleTemps(dir, { recursive: true })).map((p) => path.relative(dir, p))).toEqual([`sub/.b.tmp-${dead}-1-0`]);
    expect(await fsp.readdir(other)).toEqual([`.d.tmp-${dead}-1-0`]);
    expect((await fsp.readdir(dir)).sort()).toEqual([`.c.tmp-${process.pid}-1-0`, 'linked', 'sub']);
  });
});

describe('claimOutputFolder', () => {
  const isOwn = (n: string): boolean => n.endsWith('.png');

  it('creates a missing folder, adopts one holding only its own outputs and hidden files, refuses foreign files unless forced', async () => {
    const fresh = path.join(root, 'claim', 'new');
    expect(await claimOutputFolder(fresh, { flag: '--out', command: 'infer', isOwn })).toBe(fresh);
    expect((await fsp.stat(fresh)).isDirectory()).toBe(true);
    await writeFileAtomic(path.join(fresh, 'x.png'), 'mine');
    await fsp.writeFile(path.join(fresh, '.DS_Store'), '');
    await claimOutputFolder(fresh, { flag: '--out', command: 'infer', isOwn });
    await fsp.writeFile(path.join(fresh, 'notes.txt'), 'theirs');
    await expect(claimOutputFolder(fresh, { flag: '--out', command: 'infer', isOwn })).rejects.toThrow(
      /^--out \S+ already holds 1 file\(s\) infer did not write \(e\.g\. notes\.txt\); choose a new or empty folder, or pass --force$/,
    );
    await claimOutputFolder(fresh, { flag: '--out', command: 'infer', isOwn, force: true });
  });

  it('refuses a file given as the folder', async () => {
    await fsp.writeFile(path.join(root, 'plain'), 'x');
    await expect(claimOutputFolder(path.join(root, 'plain'), { flag: '--out', command: 'train', isOwn })).rejects.toThrow(/is a file, not a folder/);
  });
});
