/**
 * A fresh checkout of this working tree, as a new user's `git clone` would have it: every file git
 * tracks or would track (committed or not, so the test sees the code under test), none of the ignored
 * build outputs (dist/, web/dist/). node_modules is linked from this checkout: installing it again
 * would need the network and adds nothing to what these tests check.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export async function cleanCheckout(prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  for (const rel of listed.split('\0').filter((f) => f.length > 0)) {
    const from = path.join(REPO_ROOT, rel);
    // A tracked file deleted in the working tree is gone from the fresh copy too.
    const st = await fsp.lstat(from).catch(() => null);
    if (!st || st.isDirectory()) continue;
    await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    if (st.isSymbolicLink()) await fsp.symlink(await fsp.readlink(from), path.join(dir, rel));
    else await fsp.copyFile(from, path.join(dir, rel));
  }
  await fsp.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}
