/**
 * Resumable HTTP downloads into a file, for `pix2pix pull` and `pix2pix data download`.
 *
 * Node's built-in fetch with a `Range: bytes=N-` header does the transport: resuming needs only the
 * length of the `.part` file, a check of the server's `Content-Range` and an If-Range, a few dozen lines, and the
 * download libraries on npm either do not resume (make-fetch-happen, got's retry restarts the body) or
 * bring a CLI-sized dependency tree for it. What is ours is only the bookkeeping that must be exact:
 * append only when the server answers 206 at the byte we asked for, restart on 200, never rename a
 * file shorter than the length the server announced.
 *
 * A file that changed on the server between two attempts must not be spliced from two versions: the
 * validator of the answer that started the `.part` (a strong ETag, else Last-Modified) is kept beside
 * it in `.part.validator`, and a resume sends it as If-Range, so a server whose file changed answers
 * 200 with the new file. A `.part` without a validator is never resumed.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError, errorMessage } from './errors.ts';
import { isPlaceError } from './fs.ts';
import { describeFsError } from './paths.ts';

export interface DownloadOptions {
  url: string;
  /** The finished file; bytes arrive in `${dest}.part` first and are renamed when complete. */
  dest: string;
  /** Bytes so far and the total when the server announced one. */
  onProgress?: (done: number, total: number | undefined) => void;
  /** Hash the bytes as they arrive, saving a second read of the file (see DownloadResult.sha256). */
  sha256?: boolean;
}

export interface DownloadResult {
  bytes: number;
  /** Bytes that were already in the .part file and kept (0 for a fresh download). */
  resumedFrom: number;
  /**
   * The file's sha256 when asked for and every byte came through this download (resumedFrom 0).
   * Absent after a resume: the bytes kept from the .part were never seen here, so only a read of
   * the file can hash them.
   */
  sha256?: string;
}

/** Raised when the server or the network could not be reached at all (the caller adds advice). */
export class UnreachableError extends UserError {}

/** The start and total of a `Content-Range: bytes START-END/TOTAL` header (TOTAL may be `*`). */
export function parseContentRange(header: string | null): { start: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

/** The total of `Content-Range: bytes * /TOTAL`, the answer to a range past the end (416). */
function unsatisfiedTotal(header: string | null): number | undefined {
  const m = /^bytes \*\/(\d+)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}

async function sizeOf(file: string): Promise<number> {
  return fsp.stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

function why(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(e);
}

/**
 * What identifies this version of the file, for If-Range: a strong ETag, else Last-Modified. A weak
 * ETag (W/"…") may not be used in If-Range, so it counts as none.
 */
export function validatorOf(headers: Headers): string | undefined {
  const etag = headers.get('etag')?.trim();
  if (etag && !etag.startsWith('W/')) return etag;
  return headers.get('last-modified')?.trim() || undefined;
}

async function readValidator(file: string): Promise<string | undefined> {
  return fsp.readFile(file, 'utf8').then(
    (t) => t.trim() || undefined,
    () => undefined,
  );
}

/** GET `url`; from byte `from` on when `ifRange` still names the file the bytes before it came from. */
async function request(url: string, from: number, ifRange?: string): Promise<Response> {
  const headers: Record<string, string> = from > 0 && ifRange ? { Range: `bytes=${from}-`, 'If-Range': ifRange } : {};
  try {
    return await fetch(url, { headers, redirect: 'follow' });
  } catch (e) {
    throw new UnreachableError(`cannot reach ${new URL(url).host} for ${url} (${why(e)})`);
  }
}

/** Bytes of `dest` that the next download keeps: its `.part`, when a saved validator vouches for it (else 0). */
export async function resumableBytes(dest: string): Promise<number> {
  return (await readValidator(`${dest}.part.validator`)) === undefined ? 0 : sizeOf(`${dest}.part`);
}

/** Download `url` into `dest`, continuing a `.part` file a previous attempt left. */
export async function downloadResumable(o: DownloadOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  const validatorFile = `${part}.validator`;
  const saved = await readValidator(validatorFile);
  let have = saved === undefined ? 0 : await sizeOf(part);
  let res = await request(o.url, have, saved);
  const restart = async (): Promise<void> => {
    await res.body?.cancel();
    await fsp.rm(part, { force: true });
    have = 0;
    res = await request(o.url, 0);
  };
  if (res.status === 416 && have > 0) {
    // A .part as long as the file: the last attempt got every byte but stopped before the rename.
    if (unsatisfiedTotal(res.headers.get('content-range')) === have) {
      await res.body?.cancel();
      await fsp.rename(part, o.dest);
      await fsp.rm(validatorFile, { force: true });
      return { bytes: have, resumedFrom: have };
    }
    await restart();
  }
  // A server that ignored If-Range gives itself away by a validator other than the one saved.
  const now = validatorOf(res.headers);
  if (res.status === 206 && now !== undefined && now !== saved) await restart();
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new UserError(`${o.url} answered ${res.status} ${res.statusText}`);
  }
  const range = res.status === 206 ? parseContentRange(res.headers.get('content-range')) : undefined;
  if (res.status === 206 && range?.start !== have) {
    await res.body?.cancel();
    throw new UserError(`${o.url} answered a range from byte ${range?.start ?? '?'} where ${have} was asked: delete ${part} and run again`);
  }
  // A 200 answer is the whole file: whatever the .part held is replaced.
  const resumedFrom = res.status === 206 ? have : 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = range?.total ?? (Number.isFinite(length) ? resumedFrom + length : undefined);
  if (!res.body) throw new UserError(`${o.url} answered without a body`);
  let done = resumedFrom;
  o.onProgress?.(done, total);
  // Each chunk is on disk before the next is read (no stream buffer that a failure would discard), so
  // the .part file holds exactly the bytes received when the connection drops.
  // The folder is made only once the server answers, so an unreachable server leaves nothing behind.
  await fsp.mkdir(path.dirname(part), { recursive: true });
  const fh = await fsp.open(part, resumedFrom > 0 ? 'a' : 'w');
  const hash = o.sha256 && resumedFrom === 0 ? createHash('sha256') : undefined;
  try {
    // Saved only once the old bytes are gone, so that it never vouches for bytes of another version.
    if (resumedFrom === 0) await saveValidator(validatorFile, validatorOf(res.headers));
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      await fh.write(chunk);
      hash?.update(chunk);
      done += chunk.length;
      o.onProgress?.(done, total);
    }
  } catch (e) {
    // The disk failing is not the connection failing: resuming would fail the same way.
    if (isPlaceError(e)) throw new UserError(`cannot write ${part}: ${describeFsError(e)}`);
    throw new UserError(`the download of ${o.url} stopped after ${done} of ${total ?? '?'} bytes (${why(e)}): run the same command again to resume`);
  } finally {
    await fh.close();
  }
  if (total !== undefined && done !== total) {
    throw new UserError(`the download of ${o.url} stopped after ${done} of ${total} bytes: run the same command again to resume`);
  }
  await fsp.rename(part, o.dest);
  await fsp.rm(validatorFile, { force: true });
  return { bytes: done, resumedFrom, ...(hash ? { sha256: hash.digest('hex') } : {}) };
}

async function saveValidator(file: string, validator: string | undefined): Promise<void> {
  if (validator === undefined) await fsp.rm(file, { force: true });
  else await fsp.writeFile(file, `${validator}\n`);
}
