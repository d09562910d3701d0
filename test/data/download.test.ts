/**
 * `pix2pix data download` against a stand-in for the authors' server on 127.0.0.1, serving .tar.gz
 * archives generated here: a small aligned AB dataset, and archives that must be refused whole.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { datasetTable, downloadDataset, entryProblem } from '../../src/data/download.ts';
import { captureStdout, runCli } from '../helpers/capture.ts';
import { type Mirror, etagOf, startMirror } from '../helpers/mirror.ts';
import { type RawEntry, rawTarGz } from '../helpers/tarball.ts';

const url = (name: string): string => `/pix2pix/datasets/${name}.tar.gz`;
let mirror: Mirror;
let dir: string;
let n = 0;
let facades: Buffer;
let maps: Buffer;

function folders(): { cache: string; out: string } {
  n++;
  return { cache: path.join(dir, `cache${n}`), out: path.join(dir, `datasets${n}`) };
}

/** An aligned A|B JPEG: left half red-ish, right half a gradient. */
async function abJpeg(seed: number): Promise<Buffer> {
  const w = 64;
  const h = 32;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(x < 32 ? [200, seed * 20, 40] : [x * 4, y * 8, 100], (y * w + x) * 3);
  return sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toBuffer();
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-data-dl-'));
  const entries: RawEntry[] = [{ path: 'facades/', type: '5' }];
  for (const [split, count] of [
    ['train', 3],
    ['val', 1],
    ['test', 2],
  ] as const) {
    entries.push({ path: `facades/${split}/`, type: '5' });
    for (let i = 1; i <= count; i++) entries.push({ path: `facades/${split}/${i}.jpg`, body: await abJpeg(i) });
  }
  facades = rawTarGz(entries);
  const ok = { path: 'maps/train/1.jpg', body: await abJpeg(1) };
  maps = rawTarGz([ok, { path: 'maps/../../escaped.txt', body: Buffer.from('ESCAPED') }]);
  mirror = await startMirror({
    [url('facades')]: facades,
    [url('maps')]: maps,
    [url('edges2shoes')]: rawTarGz([{ path: '/tmp/p2p-absolute.txt', body: Buffer.from('ABS') }]),
    [url('night2day')]: rawTarGz([
      { path: 'night2day/train/', type: '5' },
      { path: 'night2day/train/x.jpg', type: '2', linkpath: '../../../etc/passwd' },
    ]),
    [url('edges2handbags')]: rawTarGz([{ path: 'edges2handbags/null', type: '3' }]),
  });
});

afterAll(async () => {
  await mirror.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  mirror.requests.length = 0;
});

describe('entryProblem', () => {
  it('lets files, folders and links inside NAME/ through', () => {
    expect(entryProblem('facades', { path: 'facades/train/1.jpg', type: 'File' })).toBeUndefined();
    expect(entryProblem('facades', { path: './facades/train/', type: 'Directory' })).toBeUndefined();
    expect(entryProblem('facades', { path: 'facades/train/a.jpg', type: 'SymbolicLink', linkpath: '../val/1.jpg' })).toBeUndefined();
    expect(entryProblem('facades', { path: 'facades/train/a.jpg', type: 'Link', linkpath: 'facades/val/1.jpg' })).toBeUndefined();
  });

  it('refuses absolute paths, .., links leading out, devices and entries outside NAME/', () => {
    expect(entryProblem('facades', { path: '/etc/x', type: 'File' })).toMatch(/absolute path/);
    expect(entryProblem('facades', { path: 'C:/x', type: 'File' })).toMatch(/absolute path/);
    expect(entryProblem('facades', { path: 'facades/../x', type: 'File' })).toMatch(/'\.\.' path/);
    expect(entryProblem('facades', { path: 'other/x', type: 'File' })).toMatch(/outside facades\//);
    expect(entryProblem('facades', { path: 'facades/a', type: 'SymbolicLink', linkpath: '../../x' })).toMatch(/link to \.\.\/\.\.\/x, outside/);
    expect(entryProblem('facades', { path: 'facades/a', type: 'SymbolicLink', linkpath: '/etc/passwd' })).toMatch(/absolute path/);
    expect(entryProblem('facades', { path: 'facades/a', type: 'Link', linkpath: 'maps/x' })).toMatch(/outside facades\//);
    for (const type of ['CharacterDevice', 'BlockDevice', 'FIFO'])
      expect(entryProblem('facades', { path: 'facades/d', type }), type).toMatch(new RegExp(`a ${type} entry`));
  });
});

describe('pix2pix data download', () => {
  it('downloads, extracts and checks every split', async () => {
    const { cache, out } = folders();
    const stdout = await captureStdout(async () => {
      const r = await runCli(['data', 'download', 'facades', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
      expect(r.stderr).toBe('');
    });
    expect(stdout).toBe(`${path.join(out, 'facades')}: train 3, val 1, test 2 pairs\n`);
    expect((await fsp.readdir(path.join(out, 'facades', 'train'))).sort()).toEqual(['1.jpg', '2.jpg', '3.jpg']);
    // Only the dataset is left in --out: no staging folder.
    expect(await fsp.readdir(out)).toEqual(['facades']);
  });

  it('shows the download in whole MiB and ends the bar full, however small the archive', async () => {
    const { cache, out } = folders();
    let stderr = '';
    await captureStdout(async () => {
      stderr = (await runCli(['data', 'download', 'facades', '--out', out, '--cache-dir', cache, '--mirror', mirror.url])).stderr;
    });
    expect(facades.length).toBeLessThan(2 ** 20);
    const bars = stderr.split(/[\r\n]/).filter((l) => l.startsWith('facades ['));
    expect(bars.at(-1)).toMatch(/^facades \[#{20}\] 1\/1 100% [\d.]+ MiB\/s/);
  });

  it('resumes an archive download that was cut short', async () => {
    const { cache, out } = folders();
    mirror.cutNext(url('facades'), Math.floor(facades.length / 2));
    const first = await runCli(['data', 'download', 'facades', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(first.code).toBe(2);
    const got = Number(/stopped after (\d+) of \d+ bytes/.exec(first.stderr)?.[1]);
    expect(got).toBeGreaterThan(0);
    await expect(fsp.stat(path.join(out, 'facades'))).rejects.toThrow(/ENOENT/);
    const r = await downloadDataset({ name: 'facades', out, cacheDir: cache, mirror: mirror.url });
    expect(r.splits).toEqual({ train: 3, val: 1, test: 2 });
    expect(mirror.requests.map((q) => q.range)).toEqual([undefined, `bytes=${got}-`]);
    expect(mirror.requests[1].ifRange).toBe(etagOf(facades));
    expect(r.cached.bytes).toBe(facades.length);
  });

  it('downloads an archive that changed on the server since the cut whole again, never a splice of two versions', async () => {
    const { cache, out } = folders();
    const entries: RawEntry[] = [
      { path: 'facades/', type: '5' },
      { path: 'facades/train/', type: '5' },
    ];
    for (let i = 1; i <= 4; i++) entries.push({ path: `facades/train/${i}.jpg`, body: await abJpeg(i + 4) });
    const newer = rawTarGz(entries);
    mirror.cutNext(url('facades'), Math.floor(facades.length / 2));
    const first = await runCli(['data', 'download', 'facades', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(first.code).toBe(2);
    mirror.replace(url('facades'), newer);
    try {
      const r = await downloadDataset({ name: 'facades', out, cacheDir: cache, mirror: mirror.url });
      expect(mirror.requests[1]).toEqual({ path: url('facades'), range: expect.stringMatching(/^bytes=\d+-$/), ifRange: etagOf(facades) });
      expect((await fsp.readFile(r.cached.file)).equals(newer)).toBe(true);
      expect(r.splits).toEqual({ train: 4 });
    } finally {
      mirror.replace(url('facades'), facades);
    }
  });

  it("refuses an archive with '../' entries whole, writing nothing outside or inside --out", async () => {
    const { cache, out } = folders();
    const r = await runCli(['data', 'download', 'maps', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: refused \S+maps\.tar\.gz: it holds maps\/\.\.\/\.\.\/escaped\.txt: a '\.\.' path\n$/);
    await expect(fsp.stat(path.join(dir, 'escaped.txt'))).rejects.toThrow(/ENOENT/);
    await expect(fsp.stat(path.join(out, '..', 'escaped.txt'))).rejects.toThrow(/ENOENT/);
    expect(await fsp.readdir(out)).toEqual([]);
  });

  it('stops at the first refused entry: the rest of the archive is never read, and that entry is named', async () => {
    const { cache, out } = folders();
    // After the refused entry: a large entry inside maps/, then an archive cut off mid-stream. Reading
    // on would write or at least decompress the large entry and then fail on the cut end.
    const whole = rawTarGz([
      { path: 'maps/train/1.jpg', body: await abJpeg(1) },
      { path: 'maps/../escaped.txt', body: Buffer.from('ESCAPED') },
      { path: 'maps/train/large.bin', body: randomBytes(4 * 2 ** 20) },
    ]);
    mirror.replace(url('maps'), whole.subarray(0, whole.length - 2 ** 20));
    try {
      const r = await runCli(['data', 'download', 'maps', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^pix2pix: refused \S+maps\.tar\.gz: it holds maps\/\.\.\/escaped\.txt: a '\.\.' path\n$/);
      expect(await fsp.readdir(out)).toEqual([]);
      await expect(fsp.stat(path.join(out, 'escaped.txt'))).rejects.toThrow(/ENOENT/);
    } finally {
      mirror.replace(url('maps'), maps);
    }
  });

  it('refuses absolute paths, links leading out and devices', async () => {
    for (const [name, why] of [
      ['edges2shoes', /\/tmp\/p2p-absolute\.txt: an absolute path/],
      ['night2day', /night2day\/train\/x\.jpg: a link to the absolute path|a link to \.\.\/\.\.\/\.\.\/etc\/passwd, outside night2day\//],
      ['edges2handbags', /edges2handbags\/null: a CharacterDevice entry/],
    ] as const) {
      const { cache, out } = folders();
      await expect(downloadDataset({ name, out, cacheDir: cache, mirror: mirror.url, freeBytes: async () => 1e15 }), name).rejects.toThrow(why);
      expect(await fsp.readdir(out), name).toEqual([]);
    }
    await expect(fsp.stat('/tmp/p2p-absolute.txt')).rejects.toThrow(/ENOENT/);
  });

  it('checks free space before downloading', async () => {
    const { cache, out } = folders();
    await expect(downloadDataset({ name: 'facades', out, cacheDir: cache, mirror: mirror.url, freeBytes: async () => 1e6 })).rejects.toThrow(
      /^not enough free space: about \d+\.\d MiB needed on the filesystem of .*, 1000000 bytes free/,
    );
    expect(mirror.requests).toEqual([]);
  });

  it('counts a .part towards the space needed only when it will be resumed (a validator was saved with it)', async () => {
    // facades is listed at about 30 MB: the archive, then as much again extracted, on one filesystem here.
    const part = async (cache: string): Promise<string> => {
      const file = path.join(cache, 'datasets', 'facades.tar.gz.part');
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await fsp.writeFile(file, '');
      await fsp.truncate(file, 20e6);
      return file;
    };
    const freeBytes = async (): Promise<number> => 50e6;
    const unvouched = folders();
    await part(unvouched.cache);
    await expect(downloadDataset({ name: 'facades', out: unvouched.out, cacheDir: unvouched.cache, mirror: mirror.url, freeBytes })).rejects.toThrow(
      /^not enough free space: about 57\.2 MiB needed/,
    );
    expect(mirror.requests).toEqual([]);
    const vouched = folders();
    await fsp.writeFile(`${await part(vouched.cache)}.validator`, '"an older version"\n');
    // 40 MB needed: the check passes; the server's file has another ETag, so it comes whole.
    const r = await downloadDataset({ name: 'facades', out: vouched.out, cacheDir: vouched.cache, mirror: mirror.url, freeBytes });
    expect(r.cached.bytes).toBe(facades.length);
  });

  it('answers cityscapes with the licence note and the data cityscapes command; refuses unknown names and a used folder', async () => {
    const city = await runCli(['data', 'download', 'cityscapes', '--mirror', mirror.url]);
    expect(city.code).toBe(2);
    expect(city.stderr).toMatch(/licence does not allow redistribution.*pix2pix data cityscapes --cityscapes DIR --out datasets\/cityscapes/);
    const unknown = await runCli(['data', 'download', 'horses', '--mirror', mirror.url]);
    expect(unknown.stderr).toMatch(/no dataset 'horses': choose one of facades, maps, edges2shoes, edges2handbags, night2day, or cityscapes/);
    const { cache, out } = folders();
    await fsp.mkdir(path.join(out, 'facades'), { recursive: true });
    await fsp.writeFile(path.join(out, 'facades', 'mine.txt'), 'keep');
    await expect(downloadDataset({ name: 'facades', out, cacheDir: cache, mirror: mirror.url })).rejects.toThrow(
      /facades already exists: remove it, or choose another --out/,
    );
    expect(mirror.requests).toEqual([]);
    expect(await captureStdout(() => runCli(['data', 'download', '--list']))).toBe(`${datasetTable()}\n`);
  });
});
