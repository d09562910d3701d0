/**
 * The download cache of `pix2pix pull` and `pix2pix data download`: `$XDG_CACHE_HOME/pix2pix-ts`
 * (else ~/.cache/pix2pix-ts) or `--cache-dir`. Each file is fetched once, resumably, and its sha256 is
 * recorded beside it at the first download (`NAME.sha256.json`); every later use checks the file
 * against that record, so a cache entry that changed (a bad disk, an edit, a different server copy)
 * is reported instead of converted.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type DownloadResult, UnreachableError, downloadResumable } from '../util/download.ts';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'pix2pix-ts');
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

interface Record {
  url: string;
  sha256: string;
  bytes: number;
}

export interface CachedFile {
  file: string;
  /** The sha256 recorded on first download, beside `file`: delete it with `file` to fetch a new copy. */
  record: string;
  sha256: string;
  bytes: number;
  /** False when the cache already held it. */
  downloaded: boolean;
  download?: DownloadResult;
}

/** What `pull` and `data download` share: where the cache is, which server, and how to report. */
export interface RemoteFetchOptions {
  cacheDir?: string;
  /** Replaces the authors' server; same path layout. */
  mirror?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (done: number, total: number | undefined) => void;
  log?: (line: string) => void;
}

export interface FetchCachedOptions {
  url: string;
  /** The cached file's path (its folder is created). */
  file: string;
  onProgress?: (done: number, total: number | undefined) => void;
  /** Advice appended when the server cannot be reached at all. */
  offlineAdvice: string;
}

async function readRecord(file: string): Promise<Record | undefined> {
  try {
    const r = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<Record>;
    return typeof r.sha256 === 'string' ? { url: String(r.url), sha256: r.sha256, bytes: Number(r.bytes) } : undefined;
  } catch {
    return undefined;
  }
}

/** The cached copy of `url` at `file`: downloaded (or resumed) when missing, checked against its recorded sha256. */
export async function fetchCached(o: FetchCachedOptions): Promise<CachedFile> {
  const recordFile = o.file.replace(/(\.tar\.gz|\.[^./]+)$/, '') + '.sha256.json';
  const have = await fsp.stat(o.file).then(
    (s) => s.isFile(),
    () => false,
  );
  let download: DownloadResult | undefined;
  if (!have) {
    try {
      download = await downloadResumable({ url: o.url, dest: o.file, onProgress: o.onProgress, sha256: true });
    } catch (e) {
      if (e instanceof UnreachableError) throw new UserError(`${e.message}: ${o.offlineAdvice}`);
      throw e;
    }
  }
  // A fresh download hashed its bytes as they streamed to disk; a resumed one did not see the bytes
  // its .part already held, and a cached file is checked against its record, so those read the file.
  const sha256 = download?.sha256 ?? (await sha256File(o.file));
  const bytes = (await fsp.stat(o.file)).size;
  const recorded = await readRecord(recordFile);
  if (recorded && recorded.sha256 !== sha256) {
    throw new UserError(
      `${o.file} has sha256 ${sha256.slice(0, 16)}…, not the ${recorded.sha256.slice(0, 16)}… recorded when it was first downloaded from ${recorded.url}: delete ${o.file} and ${recordFile} to fetch it again`,
    );
  }
  if (!recorded) await writeFileAtomic(recordFile, `${JSON.stringify({ url: o.url, sha256, bytes }, null, 2)}\n`);
  return { file: o.file, record: recordFile, sha256, bytes, downloaded: !have, ...(download ? { download } : {}) };
}
