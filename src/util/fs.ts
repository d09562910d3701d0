import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

let tmpCounter = 0;

/** A temporary name beside `target` (same folder, so rename is atomic on one filesystem). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.tmp-${process.pid}-${Date.now()}-${tmpCounter++}`);
}

/**
 * Write `data` to `target` atomically: a crash (even SIGKILL) leaves either the old file or the
 * new one, never a truncated one. The data is fsynced before the rename.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
