/** Resumable downloads: what is appended, restarted or refused depends only on what the server answers. */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadResumable, parseContentRange, validatorOf } from '../../src/util/download.ts';

const BODY = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
/** The ETag the server sends for BODY. */
const ETAG = '"v1"';
let dir: string;
let server: http.Server;
let url: string;
/**
 * How the server treats Range: honour it (and If-Range), ignore it (200 with the whole file), answer
 * from the wrong byte, or honour Range but ignore If-Range (a server that does not implement it).
 */
let mode: 'honour' | 'ignore' | 'wrong-start' | 'ignore-if-range' = 'honour';
/** What the server says identifies its file now (undefined: it sends no validator). */
let etag: string | undefined = ETAG;
let lastModified: string | undefined;
const ranges: (string | undefined)[] = [];
const ifRanges: (string | undefined)[] = [];

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-dl-'));
  server = http.createServer((req, res) => {
    ranges.push(req.headers.range);
    ifRanges.push(req.headers['if-range'] as string | undefined);
    if (req.url !== '/f.bin') return void res.writeHead(404).end('no such file');
    if (etag !== undefined) res.setHeader('ETag', etag);
    if (lastModified !== undefined) res.setHeader('Last-Modified', lastModified);
    const ifRange = req.headers['if-range'];
    const current = ifRange === undefined || ifRange === (etag ?? lastModified) || mode === 'ignore-if-range';
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (!m || !current || mode === 'ignore') return void res.writeHead(200, { 'Content-Length': String(BODY.length) }).end(BODY);
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

/** A `.part` a previous attempt left, with the validator it saved (none: an attempt from before validators were kept). */
async function withPart(name: string, bytes: Buffer, validator: string | null = ETAG): Promise<string> {
  const dest = path.join(dir, name);
  await fsp.writeFile(`${dest}.part`, bytes);
  if (validator !== null) await fsp.writeFile(`${dest}.part.validator`, `${validator}\n`);
  ranges.length = 0;
  ifRanges.length = 0;
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

describe('validatorOf (what If-Range sends back)', () => {
  it('is the ETag when it is strong, else Last-Modified, else nothing', () => {
    const lm = 'Mon, 07 Dec 2026 10:00:00 GMT';
    expect(validatorOf(new Headers({ ETag: '"abc"', 'Last-Modified': lm }))).toBe('"abc"');
    // A weak ETag may not be used in If-Range.
    expect(validatorOf(new Headers({ ETag: 'W/"abc"', 'Last-Modified': lm }))).toBe(lm);
    expect(validatorOf(new Headers({ ETag: 'W/"abc"' }))).toBeUndefined();
    expect(validatorOf(new Headers())).toBeUndefined();
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
    expect(ifRanges).toEqual([ETAG]);
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
    expect(seen[0]).toBe(1234);
    expect(seen.at(-1)).toBe(BODY.length);
    await expect(fsp.stat(`${dest}.part`)).rejects.toThrow(/ENOENT/);
  });

  it('hashes a download that starts from byte 0 as it streams, and leaves a resumed one to be hashed from the file', async () => {
    mode = 'honour';
    const sha = createHash('sha256').update(BODY).digest('hex');
    const fresh = path.join(dir, 'hashed.bin');
    expect(await downloadResumable({ url, dest: fresh, sha256: true })).toEqual({ bytes: BODY.length, resumedFrom: 0, sha256: sha });
    // The first 1234 bytes came from the .part, never through this download: no hash is claimed.
    const resumed = await withPart('hashed-resumed.bin', BODY.subarray(0, 1234));
    expect(await downloadResumable({ url, dest: resumed, sha256: true })).toEqual({ bytes: BODY.length, resumedFrom: 1234 });
    // A .part the server no longer vouches for is replaced whole: every byte is seen, so it is hashed.
    mode = 'ignore';
    const restarted = await withPart('hashed-restarted.bin', Buffer.from('stale bytes'));
    expect((await downloadResumable({ url, dest: restarted, sha256: true })).sha256).toBe(sha);
    mode = 'honour';
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

  it('keeps the validator beside the .part while it is incomplete and removes both with the finished file', async () => {
    mode = 'honour';
    const dest = path.join(dir, 'v.bin');
    const r = await downloadResumable({ url, dest });
    expect(r).toEqual({ bytes: BODY.length, resumedFrom: 0 });
    expect(ifRanges.at(-1)).toBeUndefined();
    await expect(fsp.stat(`${dest}.part.validator`)).rejects.toThrow(/ENOENT/);
    // Stopped part-way (here the disk refuses the bytes): the validator of the answer stays beside the .part.
    const cut = path.join(dir, 'v-cut.bin');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const realOpen = fsp.open.bind(fsp);
    const open = vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      fh.write = () => Promise.reject(full);
      return fh;
    });
    try {
      await expect(downloadResumable({ url, dest: cut })).rejects.toThrow(/no space left/);
    } finally {
      open.mockRestore();
    }
    expect(await fsp.readFile(`${cut}.part.validator`, 'utf8')).toBe(`${ETAG}\n`);
  });

  it('downloads a .part that has no validator saved again from byte 0: nothing vouches for its bytes', async () => {
    mode = 'honour';
    const dest = await withPart('nv.bin', Buffer.from('bytes of an unknown version'), null);
    const r = await downloadResumable({ url, dest });
    expect(r.resumedFrom).toBe(0);
    expect(ranges).toEqual([undefined]);
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
  });

  it('replaces a .part whose file changed on the server (If-Range no longer matches) with the whole new file', async () => {
    mode = 'honour';
    const dest = await withPart('changed.bin', Buffer.from('the first 30 bytes of version 0'), '"v0"');
    const r = await downloadResumable({ url, dest });
    expect(r).toEqual({ bytes: BODY.length, resumedFrom: 0 });
    expect(ranges).toEqual(['bytes=31-']);
    expect(ifRanges).toEqual(['"v0"']);
    expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
  });

  it('starts over when a server that ignores If-Range answers 206 for another version of the file', async () => {
    mode = 'ignore-if-range';
    const dest = await withPart('ignored.bin', Buffer.from('the first 30 bytes of version 0'), '"v0"');
    try {
      const r = await downloadResumable({ url, dest });
      expect(r.resumedFrom).toBe(0);
      expect(ranges).toEqual(['bytes=31-', undefined]);
      expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
    } finally {
      mode = 'honour';
    }
  });

  it('resumes on a Last-Modified validator when the server sends no ETag', async () => {
    mode = 'honour';
    etag = undefined;
    lastModified = 'Mon, 07 Dec 2026 10:00:00 GMT';
    try {
      const dest = await withPart('lm.bin', BODY.subarray(0, 100), lastModified);
      expect(await downloadResumable({ url, dest })).toEqual({ bytes: BODY.length, resumedFrom: 100 });
      expect(ifRanges).toEqual([lastModified]);
      expect((await fsp.readFile(dest)).equals(BODY)).toBe(true);
    } finally {
      etag = ETAG;
      lastModified = undefined;
    }
  });
});
