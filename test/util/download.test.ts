/** Resumable downloads: what is appended, restarted or refused depends only on what the server answers. */
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadResumable, parseContentRange } from '../../src/util/download.ts';

const BODY = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
let dir: string;
let server: http.Server;
let url: string;
/** How the server treats Range: honour it, ignore it (200 with the whole file), or answer from the wrong byte. */
let mode: 'honour' | 'ignore' | 'wrong-start' = 'honour';
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-dl-'));
  server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    if (req.url !== '/f.bin') return void res.writeHead(404).end('no such file');
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (!m || mode === 'ignore') return void res.writeHead(200, { 'Content-Length': String(BODY.length) }).end(BODY);
    const start = Number(m[1]);
    if (start >= BODY.length) return void res.writeHead(416, { 'Content-Range': `bytes */${BODY.length}` }).end();
    const from = mode === 'wrong-start' ? 0 : start;
    res
      .writeHead(206, { 'Content-Range': `bytes ${from}-${BODY.length - 1}/${BODY.length}`, 'Content-Length': String(BODY.length - from) })
      .end(BODY.subarray(from));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.bin`;
});

afterAll(async () => {
  server.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

async function withPart(name: string, bytes: Buffer): Promise<string> {
  const dest = path.join(dir, name);
  await fsp.writeFile(`${dest}.part`, bytes);
  ranges.length = 0;
  return dest;
}

describe('parseContentRange', () => {
  it('reads the start and total, with * for an unknown total', () => {
    expect(parseContentRange('bytes 100-199/5000')).toEqual({ start: 100, total: 5000 });
    expect(parseContentRange('bytes 0-9/*')).toEqual({ start: 0, total: undefined });
    expect(parseContentRange('bytes */5000')).toBeUndefined();
    expect(parseContentRange(null)).toBeUndefined();
  });
});

describe('downloadResumable', () => {
  it('appends the rest to a .part file when the server answers 206 from the byte asked for', async () => {
    mode = 'honour';
    const dest = await withPart('a.bin', BODY.subarray(0, 1234));
    const seen: number[] = [];
    const r = await downloadResumable({ url, dest, onProgress: (d) => seen.push(d) });
    expect(r).toEqual({ bytes: BODY.length, resumedFrom: 1234 });
    expect(ranges).toEqual(['bytes=1234-']);
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
    expect(seen[0]).toBe(1234);
    expect(seen.at(-1)).toBe(BODY.length);
    await expect(fsp.stat(`${dest}.part`)).rejects.toThrow(/ENOENT/);
  });

  it('says a full disk is a full disk, not a dropped connection to resume', async () => {
    mode = 'honour';
    const dest = await withPart('full.bin', BODY.subarray(0, 10));
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const realOpen = fsp.open.bind(fsp);
    const open = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      fh.write = () => Promise.reject(full);
      return fh;
    });
    try {
      await expect(downloadResumable({ url, dest })).rejects.toThrow(/^cannot write .*full\.bin\.part: no space left/);
    } finally {
      open.mockRestore();
    }
  });

  it('starts over when the server ignores the range and sends the whole file (200)', async () => {
    mode = 'ignore';
    const dest = await withPart('b.bin', Buffer.from('stale bytes from another file'));
    const r = await downloadResumable({ url, dest });
    expect(r.resumedFrom).toBe(0);
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
  });

  it('finishes a .part that already holds every byte (416 with the same total)', async () => {
    mode = 'honour';
    const dest = await withPart('c.bin', BODY);
    expect(await downloadResumable({ url, dest })).toEqual({ bytes: BODY.length, resumedFrom: BODY.length });
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
  });

  it('refuses a 206 that starts elsewhere than asked, keeping the .part untouched', async () => {
    mode = 'wrong-start';
    const dest = await withPart('d.bin', BODY.subarray(0, 100));
    await expect(downloadResumable({ url, dest })).rejects.toThrow(/answered a range from byte 0 where 100 was asked/);
    expect((await fsp.stat(`${dest}.part`)).size).toBe(100);
    mode = 'honour';
  });

  it('reports a server error status in one line and writes nothing', async () => {
    const dest = path.join(dir, 'e.bin');
    await expect(downloadResumable({ url: url.replace('f.bin', 'missing'), dest })).rejects.toThrow(/\/missing answered 404 Not Found$/);
    await expect(fsp.stat(`${dest}.part`)).rejects.toThrow(/ENOENT/);
  });
});
