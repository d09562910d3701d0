/** The download cache: the sha256 it records is the downloaded file's, however the bytes arrived. */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCached } from '../../src/pull/cache.ts';
import { type Mirror, startMirror } from '../helpers/mirror.ts';

const BODY = randomBytes(300_000);
const SHA = createHash('sha256').update(BODY).digest('hex');
let mirror: Mirror;
let dir: string;

const sha256Of = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await fsp.readFile(file))
    .digest('hex');
const recorded = async (file: string): Promise<unknown> => JSON.parse(await fsp.readFile(file, 'utf8'));

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-cache-'));
  mirror = await startMirror({ '/f.bin': BODY });
});

afterAll(async () => {
  await mirror.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('fetchCached', () => {
  it('records the sha256 of a fresh download (hashed while it streamed to disk)', async () => {
    const file = path.join(dir, 'fresh', 'f.bin');
    const c = await fetchCached({ url: `${mirror.url}/f.bin`, file, offlineAdvice: '' });
    expect(c.download?.sha256).toBe(SHA);
    expect(c).toMatchObject({ sha256: SHA, bytes: BODY.length, downloaded: true });
    expect(await sha256Of(file)).toBe(SHA);
    expect(await recorded(c.record)).toEqual({ url: `${mirror.url}/f.bin`, sha256: SHA, bytes: BODY.length });
  });

  it('records the sha256 of the whole file after a resumed download, bytes kept from the .part included', async () => {
    const file = path.join(dir, 'resumed', 'f.bin');
    mirror.cutNext('/f.bin', 100_000);
    await expect(fetchCached({ url: `${mirror.url}/f.bin`, file, offlineAdvice: '' })).rejects.toThrow(/stopped after \d+ of 300000 bytes/);
    const c = await fetchCached({ url: `${mirror.url}/f.bin`, file, offlineAdvice: '' });
    expect(c.download?.resumedFrom).toBeGreaterThan(0);
    expect(c.sha256).toBe(SHA);
    expect(await sha256Of(file)).toBe(SHA);
    expect(await recorded(c.record)).toMatchObject({ sha256: SHA });
  });
});
