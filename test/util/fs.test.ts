import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existingFolderAbove, freeBytesAt, writeFileAtomic, writeFileAtomicWith } from '../../src/util/fs.ts';

let dir: string;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-fs-'));
});
afterAll(() => fsp.rm(dir, { recursive: true, force: true }));

/** An error as Node's fs raises it when the disk fills up mid-write. */
function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, write`), { code, syscall: 'write', errno: -28 });
}

describe('writeFileAtomicWith on a full disk or a refused write', () => {
  for (const [code, said] of [
    ['ENOSPC', 'no space left on the device: free some space or choose a folder on another disk'],
    ['EDQUOT', 'disk quota exceeded: free some space or choose a folder on another disk'],
    ['EACCES', 'permission denied'],
  ] as const) {
    it(`${code}: one line naming the file; the previous file intact and no temporary left`, async () => {
      const target = path.join(dir, `checkpoint-${code}.bin`);
      await writeFileAtomic(target, 'last good checkpoint');
      const failing = writeFileAtomicWith(target, async (fh) => {
        await fh.write('half of the new one');
        throw fsError(code, 'injected');
      });
      await expect(failing).rejects.toThrow(`cannot write ${target}: ${said}`);
      await expect(failing).rejects.toMatchObject({ name: 'UserError' });
      expect(await fsp.readFile(target, 'utf8')).toBe('last good checkpoint');
      expect((await fsp.readdir(dir)).filter((n) => n.includes(`checkpoint-${code}`))).toEqual([`checkpoint-${code}.bin`]);
    });
  }

  it('errors of the program itself pass through unchanged', async () => {
    const bug = new TypeError('x is undefined');
    await expect(writeFileAtomicWith(path.join(dir, 'b.bin'), () => Promise.reject(bug))).rejects.toBe(bug);
  });
});

describe('existingFolderAbove and freeBytesAt (the free space where a folder will be made)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('finds the nearest folder that exists, skipping names not yet made and a file in the way', async () => {
    await fsp.mkdir(path.join(dir, 'made'), { recursive: true });
    await fsp.writeFile(path.join(dir, 'made', 'a-file'), 'x');
    expect(await existingFolderAbove(path.join(dir, 'made'))).toBe(path.join(dir, 'made'));
    expect(await existingFolderAbove(path.join(dir, 'made', 'not', 'yet'))).toBe(path.join(dir, 'made'));
    expect(await existingFolderAbove(path.join(dir, 'made', 'a-file', 'inside'))).toBe(path.join(dir, 'made'));
    expect(await existingFolderAbove('relative-name-never-made')).toBe(process.cwd());
  });

  it('asks statfs about that folder and counts the blocks an unprivileged user may take', async () => {
    const asked: string[] = [];
    const real = fsp.statfs.bind(fsp);
    vi.spyOn(fsp, 'statfs').mockImplementation((async (p: string) => {
      asked.push(p);
      return { ...(await real(p)), bavail: 1000, bfree: 5000, bsize: 4096 };
    }) as typeof fsp.statfs);
    expect(await freeBytesAt(path.join(dir, 'made', 'runs', 'table3'))).toBe(1000 * 4096);
    expect(asked).toEqual([path.join(dir, 'made')]);
  });
});
