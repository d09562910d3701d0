/**
 * Where we may write: every path we create is derived from the folder the user named and checked,
 * after resolving symlinks, to be inside it; input and output trees may not overlap; an output
 * folder that already holds someone else's files is refused unless --force; and temporary files left
 * by a killed run of ours (the `.NAME.tmp-PID-…` names of fs.ts) are removed at start.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError, errorMessage } from './errors.ts';

/** True when `child` is `parent` or below it (both absolute and normalised). Pure. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * The real path of `p` even when its tail does not exist yet: the longest existing prefix is
 * resolved with realpath (following every symlink), the missing rest is appended as written.
 */
export async function realpathLoose(p: string): Promise<string> {
  const abs = path.resolve(p);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(await fsp.realpath(cur), ...missing.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot resolve ${p}: ${describeFsError(e)}`);
      const parent = path.dirname(cur);
      if (parent === cur) return abs;
      missing.push(path.basename(cur));
      cur = parent;
    }
  }
}

/**
 * `root/rel` (or `rel` when absolute), refused unless it lies inside `root` both as written and
 * after resolving symlinks: the one check every derived write path goes through.
 */
export async function resolveInside(root: string, rel: string, what = 'output'): Promise<string> {
  const absRoot = path.resolve(root);
  const target = path.resolve(absRoot, rel);
  if (!isInside(absRoot, target)) throw new UserError(`refusing to write ${target}: the ${what} path ${rel} leads outside ${absRoot}`);
  const [realRoot, realTarget] = await Promise.all([realpathLoose(absRoot), realpathLoose(target)]);
  if (!isInside(realRoot, realTarget))
    throw new UserError(`refusing to write ${target}: it resolves (through a symlink) to ${realTarget}, outside ${realRoot}`);
  return target;
}

/**
 * Input and output trees may not overlap: the same folder (also through a symlink), an output
 * inside the input when the input is searched recursively, or the input inside the output.
 */
export async function checkDisjointTrees(input: string, output: string, opts: { recursive: boolean; inputFlag?: string; outputFlag?: string }): Promise<void> {
  const inF = opts.inputFlag ?? '--input';
  const outF = opts.outputFlag ?? '--output';
  const [rin, rout] = await Promise.all([realpathLoose(input), realpathLoose(output)]);
  if (rin === rout)
    throw new UserError(
      `${outF} ${output} must differ from ${inF} ${input}${rin !== path.resolve(output) || rin !== path.resolve(input) ? ` (both are ${rin})` : ''}: outputs would overwrite the sources`,
    );
  if (isInside(rout, rin))
    throw new UserError(
      `${inF} ${input} lies inside ${outF} ${output} (${rin} in ${rout}): outputs could overwrite the sources; choose an output folder outside the input`,
    );
  if (opts.recursive && isInside(rin, rout))
    throw new UserError(
      `${outF} ${output} lies inside ${inF} ${input} (${rout} in ${rin}) and --recursive would read the outputs back as inputs; choose an output folder outside the input`,
    );
}

/** One short reason for a filesystem error, in words a user understands. Pure. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'symlink loop';
    case 'ENOENT':
      return 'no such file';
    case 'ENOTDIR':
      return 'not a folder';
    case 'EISDIR':
      return 'is a folder';
    case 'EIO':
      return 'input/output error (unreadable)';
    case 'ENOSPC':
      return 'no space left on the device: free some space or choose a folder on another disk';
    case 'EDQUOT':
      return 'disk quota exceeded: free some space or choose a folder on another disk';
    case 'EROFS':
      return 'read-only file system: choose a writable folder';
    default:
      return errorMessage(e).split('\n')[0];
  }
}

// ------------------------------------------------------------------------------------------------
// Stale temporary files

/** fs.ts's temporary names: `.BASE.tmp-PID-MILLIS-COUNTER`. */
const TEMP_RE = /^\..+\.tmp-(\d+)-(\d+)-(\d+)$/;

/** Temporaries older than this are stale even if their PID is alive again (reused, or another host). */
const STALE_AFTER_MS = 24 * 3600 * 1000;

/** The writer's PID if `name` is one of our temporary files, else undefined. Pure. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove our own temporary files left by killed runs in `dir` (and, with `recursive`, its real
 * subfolders; symlinks are never followed). A temporary whose writer is still running (two infer
 * processes sharing a folder) is kept unless it is over a day old. Returns the removed paths.
 */
export async function removeStaleTemps(dir: string, opts: { recursive?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return; // missing or unreadable: nothing of ours to clean there
    }
    for (const ent of entries) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) {
        if (opts.recursive) await walk(p);
        continue;
      }
      const pid = tempFileOwner(ent.name);
      if (pid === undefined || !ent.isFile()) continue;
      const st = await fsp.lstat(p).catch(() => undefined);
      if (!st) continue;
      if (processAlive(pid) && Date.now() - st.mtimeMs < STALE_AFTER_MS) continue;
      await fsp.rm(p, { force: true });
      removed.push(p);
    }
  };
  await walk(dir);
  return removed;
}

// ------------------------------------------------------------------------------------------------
// Output folders

export interface ClaimOptions {
  /** The flag the folder came from, for messages (e.g. --out). */
  flag: string;
  /** The command, for messages. */
  command: string;
  force?: boolean;
  /**
   * Recognises top-level entries that this command writes (its outputs, or an earlier run's, which
   * --resume / --skip-existing continue); `siblings` is every name in the folder.
   */
  isOwn: (name: string, siblings: ReadonlySet<string>) => boolean;
  /** Also remove stale temporaries in subfolders. */
  recursive?: boolean;
  log?: (line: string) => void;
}

const FORCE_HINT = 'choose a new or empty folder, or pass --force';

/** Refuse the filesystem root and the home folder as an output folder, unless `force`. */
export async function checkNotRootOrHome(dir: string, flag: string, force = false): Promise<void> {
  if (force) return;
  const [real, home] = await Promise.all([realpathLoose(dir), realpathLoose(os.homedir())]);
  if (real === path.parse(real).root) throw new UserError(`${flag} ${dir} is the filesystem root; ${FORCE_HINT}`);
  if (real === home) throw new UserError(`${flag} ${dir} is your home folder; ${FORCE_HINT}`);
}

/**
 * Make `dir` our output folder: refuse `/`, the home folder, and an existing folder holding
 * entries `isOwn` does not recognise (someone else's files), unless `force`. Then create it and
 * remove stale temporaries of ours. Returns the absolute path.
 */
export async function claimOutputFolder(dir: string, o: ClaimOptions): Promise<string> {
  await checkNotRootOrHome(dir, o.flag, o.force);
  const hint = FORCE_HINT;
  let entries: string[] | undefined;
  try {
    entries = await fsp.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UserError(`${o.flag} ${dir} is a file, not a folder`);
    if (code !== 'ENOENT') throw new UserError(`${o.flag} ${dir}: ${describeFsError(e)}`);
  }
  if (entries && !o.force) {
    const names = new Set(entries);
    // Hidden entries (.DS_Store, .gitkeep, our temporaries) are never overwritten: our outputs never start with a dot.
    const foreign = entries.filter((n) => !n.startsWith('.') && !o.isOwn(n, names)).sort();
    if (foreign.length > 0) {
      throw new UserError(`${o.flag} ${dir} already holds ${foreign.length} file(s) ${o.command} did not write (e.g. ${foreign[0]}); ${hint}`);
    }
  }
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create ${o.flag} ${dir}: ${describeFsError(e)}`);
  }
  const removed = await removeStaleTemps(dir, { recursive: o.recursive });
  if (removed.length) o.log?.(`${o.command}: removed ${removed.length} temporary file(s) left by an interrupted run`);
  return path.resolve(dir);
}
