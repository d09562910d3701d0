/**
 * Listing an input folder for batch work, accounting for everything it sees: the image files to
 * process, and every image-named entry or folder it cannot use, with the reason (symlink loop,
 * dangling link, not a regular file, permission denied, unreadable). With `recursive`, folders are
 * identified by device and inode after following symlinks, so a link back up the tree (`loop -> .`)
 * is listed once and reported once instead of multiplying the images or never finishing.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { nonRegularKind } from '../util/fs.ts';
import { describeFsError } from '../util/paths.ts';
import { compareCodePoints, IMAGE_EXTENSIONS, isImageFile } from './image.ts';

export interface ListedInputs {
  /** Image files, relative '/'-separated paths, sorted by code point. */
  files: string[];
  /** Entries seen and not used, with why, sorted by path. */
  skipped: { file: string; reason: string }[];
}

/** Injectable filesystem calls (tests simulate errors a root user never gets). */
export interface ListingFs {
  readdir(dir: string): Promise<import('node:fs').Dirent[]>;
  stat(p: string): Promise<Stats>;
  lstat(p: string): Promise<Stats>;
  readlink(p: string): Promise<string>;
}

const nodeFs: ListingFs = {
  readdir: (dir) => fsp.readdir(dir, { withFileTypes: true }),
  stat: (p) => fsp.stat(p),
  lstat: (p) => fsp.lstat(p),
  readlink: (p) => fsp.readlink(p),
};

/** Why a symlink cannot be followed, from the error stat gave. */
async function linkFailure(fs: ListingFs, p: string, e: unknown): Promise<string> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symlink loop (the link points back to itself through other links)';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const target = await fs.readlink(p).catch(() => '?');
    return `dangling link (its target ${target} does not exist)`;
  }
  return describeFsError(e);
}

/**
 * List `dir`. Hidden entries (a leading dot: our temporary files, editor files) and files without
 * an image extension are ignored silently; everything else that cannot be used is in `skipped`.
 */
export async function listInputImages(dir: string, opts: { recursive?: boolean; fs?: ListingFs } = {}): Promise<ListedInputs> {
  const fs = opts.fs ?? nodeFs;
  const files: string[] = [];
  const skipped: ListedInputs['skipped'] = [];
  // device:inode of every folder listed → its relative path, for loop reports.
  const visited = new Map<string, string>();
  const idOf = (st: Stats): string => `${st.dev}:${st.ino}`;

  let rootStat: Stats;
  try {
    rootStat = await fs.stat(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`Image folder ${dir} does not exist.`);
    throw new UserError(`Cannot list ${dir}: ${describeFsError(e)}`);
  }
  if (!rootStat.isDirectory()) throw new UserError(`${dir} is not a folder.`);

  const walk = async (rel: string, st: Stats): Promise<void> => {
    visited.set(idOf(st), rel || '.');
    const abs = rel ? path.join(dir, rel) : dir;
    let entries;
    try {
      entries = await fs.readdir(abs);
    } catch (e) {
      if (!rel) throw new UserError(`Cannot list ${dir}: ${describeFsError(e)}`);
      skipped.push({ file: `${rel}/`, reason: `cannot list this folder: ${describeFsError(e)}` });
      return;
    }
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const childRel = rel ? `${rel}/${ent.name}` : ent.name;
      const childAbs = path.join(abs, ent.name);
      const image = isImageFile(ent.name);
      let target: Stats;
      try {
        // stat follows links; lstat only when stat is impossible (so the entry's own kind is known).
        target = ent.isSymbolicLink() ? await fs.stat(childAbs) : ent.isDirectory() || ent.isFile() ? await fs.stat(childAbs) : await fs.lstat(childAbs);
      } catch (e) {
        // An image name is always reported; with --recursive, so is a folder or a link loop (either may have held images).
        // A dangling link named notes.txt is as irrelevant as notes.txt itself.
        const loop = (e as NodeJS.ErrnoException).code === 'ELOOP';
        if (image || (opts.recursive && (ent.isDirectory() || loop))) {
          skipped.push({ file: childRel, reason: ent.isSymbolicLink() ? await linkFailure(fs, childAbs, e) : describeFsError(e) });
        }
        continue;
      }
      if (target.isDirectory()) {
        if (opts.recursive) {
          const seen = visited.get(idOf(target));
          if (seen !== undefined)
            skipped.push({
              file: `${childRel}/`,
              reason: `folder loop: it is ${seen === '.' ? 'the input folder itself' : `${seen}/, already listed`} (not followed)`,
            });
          else await walk(childRel, target);
        } else if (image) skipped.push({ file: childRel, reason: 'not a regular file (a folder)' });
      } else if (image) {
        if (target.isFile()) files.push(childRel);
        else skipped.push({ file: childRel, reason: `not a regular file (${nonRegularKind(target)})` });
      }
    }
  };
  await walk('', rootStat);
  files.sort(compareCodePoints);
  skipped.sort((a, b) => compareCodePoints(a.file, b.file));
  return { files, skipped };
}

/**
 * Why a listing of `dir` found no image to process, and the likely fix, as one clause: the entries
 * it could not use, subfolders it did not enter (without `recursive`), files in formats it does not
 * read (an animated .gif), or an empty folder.
 */
export async function explainNoImages(dir: string, listed: ListedInputs, recursive: boolean): Promise<string> {
  const parts: string[] = [];
  if (listed.skipped.length > 0) {
    const first = listed.skipped[0];
    parts.push(`${listed.skipped.length} entr${listed.skipped.length === 1 ? 'y' : 'ies'} could not be used (${first.file}: ${first.reason})`);
  }
  const entries = (await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => !e.name.startsWith('.'));
  const folders = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const others = entries.filter((e) => !e.isDirectory() && !isImageFile(e.name)).map((e) => e.name);
  if (!recursive && folders.length > 0) {
    const pick = ['test', 'val', 'train'].find((s) => folders.includes(s)) ?? folders.sort(compareCodePoints)[0];
    parts.push(
      `it has ${folders.length} subfolder(s) (${folders.slice(0, 3).join(', ')}${folders.length > 3 ? ', …' : ''}): pass --recursive, or name one, e.g. --input ${path.join(dir, pick)}`,
    );
  }
  if (others.length > 0) {
    const exts = [...new Set(others.map((n) => path.extname(n).toLowerCase() || n))].slice(0, 4).join(', ');
    parts.push(`${others.length} file(s) in formats it does not read (${exts}); it reads ${IMAGE_EXTENSIONS.join(' ')}: convert them (e.g. to .png)`);
  }
  if (parts.length === 0) parts.push('the folder is empty');
  return parts.join('; ');
}
