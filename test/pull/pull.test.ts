/**
 * `pix2pix pull` against a stand-in for the authors' server on 127.0.0.1 (`--mirror`), serving a
 * junyanz-format generator the import tests generate (test/import/fixtures, scripts/make-pth-fixture.py).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FACADES_PALETTE, PRETRAINED_MODELS, baseUrl, modelTable, modelUrl } from '../../src/pull/catalog.ts';
import { defaultCacheDir } from '../../src/pull/cache.ts';
import { type ModelCard, pullModel } from '../../src/pull/pull.ts';
import { readOnnxFileHeader } from '../../src/runtime/model-file.ts';
import { captureStdout, runCli } from '../helpers/capture.ts';
import { type Mirror, deadUrl, etagOf, startMirror } from '../helpers/mirror.ts';
import { fixture } from '../import/fixtures.ts';

const PTH = fixture('unet32-batch.pth');
const SHA = createHash('sha256').update(PTH).digest('hex');
const FACADES = '/pix2pix/models-pytorch/facades_label2photo.pth';
const EDGES = '/pix2pix/models-pytorch/edges2shoes.pth';
const SAT = '/pix2pix/models-pytorch/sat2map.pth';

let mirror: Mirror;
let dir: string;
let n = 0;
/** A fresh cache and output folder per test. */
function folders(): { cache: string; out: string } {
  n++;
  return { cache: path.join(dir, `cache${n}`), out: path.join(dir, `models${n}`) };
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-pull-'));
  mirror = await startMirror({ [FACADES]: PTH, [EDGES]: PTH, [SAT]: new TextEncoder().encode('<html>not a checkpoint</html>') });
});

afterAll(async () => {
  await mirror.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  mirror.requests.length = 0;
});

async function card(file: string): Promise<{ card: ModelCard; meta: Record<string, string> }> {
  const meta = (await readOnnxFileHeader(file)).metadata;
  return { card: JSON.parse(meta.model_card) as ModelCard, meta };
}

describe('the catalog', () => {
  it("uses the authors' download script layout under the base URL, which --mirror or PIX2PIX_MIRROR replaces", () => {
    expect(modelUrl(baseUrl(undefined, {}), 'sat2map')).toBe('http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/sat2map.pth');
    expect(baseUrl(undefined, { PIX2PIX_MIRROR: 'http://m.example/' })).toBe('http://m.example');
    expect(baseUrl('http://flag.example', { PIX2PIX_MIRROR: 'http://m.example' })).toBe('http://flag.example');
    expect(PRETRAINED_MODELS.map((m) => m.name)).toEqual(['facades_label2photo', 'sat2map', 'map2sat', 'edges2shoes', 'day2night']);
  });

  it('keeps downloads under $XDG_CACHE_HOME/pix2pix-ts, else ~/.cache/pix2pix-ts', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/pix2pix-ts');
    expect(defaultCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'pix2pix-ts'));
  });

  it('pull --list prints one row per model', async () => {
    const out = await captureStdout(() => runCli(['pull', '--list']));
    expect(out).toBe(`${modelTable()}\n`);
    expect(out.trim().split('\n')).toHaveLength(1 + PRETRAINED_MODELS.length);
    expect(out).toMatch(/^edges2shoes\s+edge drawing → shoe photo\s+edges\s+edges2shoes$/m);
  });
});

describe('pix2pix pull', () => {
  it('downloads, converts and writes OUT/NAME.onnx with its model card', async () => {
    const { cache, out } = folders();
    const r = await pullModel({ name: 'facades_label2photo', out, cacheDir: cache, mirror: mirror.url });
    expect(r.out).toBe(path.join(out, 'facades_label2photo.onnx'));
    const { card: c, meta } = await card(r.out);
    expect(meta.netG).toBe('unet_32');
    expect(meta.direction).toBe('BtoA');
    expect(c).toMatchObject({ name: 'facades_label2photo', input: 'labels', dataset: 'facades', direction: 'BtoA', sha256: SHA });
    expect(c.source_url).toBe(`${mirror.url}${FACADES}`);
    expect(c.palette).toHaveLength(12);
    expect(c.palette![2]).toEqual({ name: 'window', color: [...FACADES_PALETTE[2].color] });
    expect(c.licence).toMatch(/CMP Facade/);
    expect(JSON.parse(await fsp.readFile(path.join(cache, 'models', 'facades_label2photo.sha256.json'), 'utf8'))).toMatchObject({
      sha256: SHA,
      bytes: PTH.length,
    });
    expect(mirror.requests).toEqual([{ path: FACADES }]);
  });

  it('reuses the cached download (no request) and refuses one whose sha256 changed since', async () => {
    const { cache, out } = folders();
    await pullModel({ name: 'edges2shoes', out, cacheDir: cache, mirror: mirror.url });
    const again = await pullModel({ name: 'edges2shoes', out, cacheDir: cache, mirror: mirror.url });
    expect(again.cached.downloaded).toBe(false);
    expect(mirror.requests).toHaveLength(1);
    expect((await card(again.out)).card.input).toBe('edges');
    const cached = path.join(cache, 'models', 'edges2shoes.pth');
    const bytes = await fsp.readFile(cached);
    bytes[bytes.length - 100] ^= 1;
    await fsp.writeFile(cached, bytes);
    await expect(pullModel({ name: 'edges2shoes', out, cacheDir: cache, mirror: mirror.url })).rejects.toThrow(
      new RegExp(`has sha256 \\w+…, not the ${SHA.slice(0, 16)}… recorded when it was first downloaded`),
    );
  });

  it('resumes a download that was cut short, asking for the missing bytes only', async () => {
    const { cache, out } = folders();
    const cut = 30_000;
    mirror.cutNext(FACADES, cut);
    const first = await runCli(['pull', 'facades_label2photo', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(first.code).toBe(2);
    const got = Number(new RegExp(`stopped after (\\d+) of ${PTH.length} bytes .*run the same command again to resume\\n$`).exec(first.stderr)?.[1]);
    // What arrived is kept: exactly the bytes the message names, and the resume asks for the rest.
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThanOrEqual(cut);
    expect((await fsp.stat(path.join(cache, 'models', 'facades_label2photo.pth.part'))).size).toBe(got);
    await expect(fsp.stat(out)).rejects.toThrow(/ENOENT/);
    const second = await runCli(['pull', 'facades_label2photo', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(second.stderr).toBe('');
    expect(second.code).toBeUndefined();
    // The resume names the version its first bytes came from, so that a changed file is not spliced.
    expect(mirror.requests).toEqual([{ path: FACADES }, { path: FACADES, range: `bytes=${got}-`, ifRange: etagOf(PTH) }]);
    expect((await card(path.join(out, 'facades_label2photo.onnx'))).card.sha256).toBe(SHA);
  });

  it('downloads a model that changed on the server since the cut whole again, never a splice of two versions', async () => {
    const { cache, out } = folders();
    const newer = fixture('unet64-instance-half.pth');
    mirror.cutNext(FACADES, 30_000);
    const first = await runCli(['pull', 'facades_label2photo', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
    expect(first.code).toBe(2);
    mirror.replace(FACADES, newer);
    try {
      const second = await runCli(['pull', 'facades_label2photo', '--out', out, '--cache-dir', cache, '--mirror', mirror.url, '--quiet']);
      expect(second.stderr).toBe('');
      // Asked for the rest of the old version; the server answered with the whole new one.
      expect(mirror.requests[1]).toEqual({ path: FACADES, range: expect.stringMatching(/^bytes=\d+-$/), ifRange: etagOf(PTH) });
      expect((await fsp.readFile(path.join(cache, 'models', 'facades_label2photo.pth'))).equals(newer)).toBe(true);
      expect((await card(path.join(out, 'facades_label2photo.onnx'))).card.sha256).toBe(createHash('sha256').update(newer).digest('hex'));
    } finally {
      mirror.replace(FACADES, PTH);
    }
  });

  it('says in one line what failed and how to use --mirror or import --pth when the server cannot be reached', async () => {
    const { cache, out } = folders();
    const dead = await deadUrl();
    const r = await runCli(['pull', 'sat2map', '--out', out, '--cache-dir', cache, '--mirror', dead, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(
      new RegExp(`^pix2pix: cannot reach ${dead.slice(7)} .*--mirror URL \\(or set PIX2PIX_MIRROR\\).*pix2pix import --pth sat2map\\.pth`),
    );
    await expect(fsp.stat(out)).rejects.toThrow(/ENOENT/);
    await expect(fsp.stat(cache)).rejects.toThrow(/ENOENT/); // nor an empty cache folder
  });

  it('takes the server from PIX2PIX_MIRROR and refuses a download that is not a generator, writing nothing', async () => {
    const { cache, out } = folders();
    process.env.PIX2PIX_MIRROR = mirror.url;
    try {
      const r = await runCli(['pull', 'sat2map', '--out', out, '--cache-dir', cache, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^pix2pix: ${mirror.url}${SAT} is not a pix2pix generator pix2pix-ts can import`));
      // The advice names both cached files: deleting the download alone would leave its recorded sha256,
      // and a fresh copy that differs from a damaged one would then be refused.
      const [, download, record] = /delete (\S+) and (\S+) if the download is damaged/.exec(r.stderr) ?? [];
      expect(path.basename(record ?? '')).toBe('sat2map.sha256.json');
      for (const f of [download, record]) expect((await fsp.stat(f)).isFile()).toBe(true);
    } finally {
      delete process.env.PIX2PIX_MIRROR;
    }
    expect(mirror.requests).toEqual([{ path: SAT }]);
    await expect(fsp.stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('names the published models when given another name, and refuses a file as --out', async () => {
    const unknown = await runCli(['pull', 'horse2zebra', '--mirror', mirror.url]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "pix2pix: no published model 'horse2zebra': choose one of facades_label2photo, sat2map, map2sat, edges2shoes, day2night (pix2pix pull --list)\n",
    );
    const file = path.join(dir, 'a-file');
    await fsp.writeFile(file, 'x');
    const asOut = await runCli(['pull', 'edges2shoes', '--out', file, '--mirror', mirror.url]);
    expect(asOut.stderr).toMatch(/--out .*a-file is a file: name a folder/);
    expect(mirror.requests).toEqual([]);
  });
});
