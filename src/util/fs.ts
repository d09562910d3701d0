import { promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from './errors.ts';
import { describeFsError } from './paths.ts';

/**
 * Errors of the place being written (a full disk, a quota, permissions, a read-only mount), not of
 * the program: they become one line naming the file and what to do.
 */
const PLACE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'ENOTDIR', 'EISDIR']);

export function isPlaceError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return e instanceof Error && code !== undefined && PLACE_ERRORS.has(code);
}

/** `e` as a one-line UserError naming `target` when the place is to blame; other errors unchanged. */
function writeFailure(target: string, e: unknown): unknown {
  return isPlaceError(e) ? new UserError(`cannot write ${target}: ${describeFsError(e)}`) : e;
}

let tmpCounter = 0;

/** A temporary name beside `target` (same folder, so rename is atomic on one filesystem). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`);
}

/**
 * Write `target` atomically through `write`, which receives an open handle on a temporary file beside
 * it (and its path, for a caller that must remove it on a stop): a crash (even SIGKILL) leaves either
 * the old file or the new one, never a truncated one. The
 * data is fsynced before the rename. Streams large files without building them in memory. A full
 * disk or a refused write leaves the old file as it was, removes the temporary file and is a
 * one-line UserError naming `target` (writeFailure).
 */
export async function writeFileAtomicWith(target: string, write: (fh: FileHandle, tmp: string) => Promise<void>): Promise<void> {
  try {
    await writeThroughTemp(target, write);
  } catch (e) {
    throw writeFailure(target, e);
  }
}

async function writeThroughTemp(target: string, write: (fh: FileHandle, tmp: string) => Promise<void>): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'w');
  try {
    await write(fh, tmp);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Write `data` to `target` atomically (see writeFileAtomicWith). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomicWith(target, async (fh) => {
    await fh.writeFile(data);
  });
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

/** What a file that is not a regular file is, for one-line refusals (`a folder`, `a FIFO`, `a device`, …). */
export function nonRegularKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The nearest existing folder at or above `p`: where a folder still to be made will live. */
export async function existingFolderAbove(p: string): Promise<string> {
  let cur = path.resolve(p);
  for (;;) {
    const isFolder = await fsp.stat(cur).then(
      (s) => s.isDirectory(),
      () => false,
    );
    const up = path.dirname(cur);
    if (isFolder || up === cur) return cur;
    cur = up;
  }
}

/**
 * Free bytes (for an unprivileged user) on the filesystem that holds `p`, or will hold it once it is
 * made: statfs needs a path that exists, so it is asked about the nearest existing folder above.
 */
export async function freeBytesAt(p: string): Promise<number> {
  const s = await fsp.statfs(await existingFolderAbove(p));
  return Number(s.bavail) * Number(s.bsize);
}
