/**
 * `pix2pix data download NAME`: one of the pix2pix authors' paired datasets (facades, maps, edges2shoes,
 * edges2handbags, night2day), downloaded resumably into the cache, extracted with node-tar as it
 * streams, and checked like a training run opens it (splits, A/B pairing, readable sizes).
 *
 * node-tar already strips absolute paths and skips `..` entries, with a warning; here every entry is
 * checked before it is written and any absolute path, `..` segment, link leading outside the dataset,
 * device, FIFO or entry outside NAME/ refuses the whole archive, so nothing half-trusted is kept. The
 * archive is extracted into a hidden sibling folder and renamed to OUT/NAME only when it is complete.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { type CachedFile, defaultCacheDir, fetchCached, type RemoteFetchOptions } from '../pull/cache.ts';
import { CITYSCAPES_NOTE, DATASETS, baseUrl, datasetUrl, findDataset } from '../pull/catalog.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { formatBytes } from '../util/bytes.ts';
import { resumableBytes } from '../util/download.ts';
import { existingFolderAbove, freeBytesAt } from '../util/fs.ts';
import { openPairedDataset } from './dataset.ts';
import { formatColumns } from '../util/text-table.ts';

export interface DownloadDatasetOptions extends RemoteFetchOptions {
  name: string;
  /** The folder OUT/NAME is extracted into. */
  out: string;
  /** Free bytes on the filesystem holding `dir` (default: freeBytesAt). */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface DownloadDatasetResult {
  dir: string;
  cached: CachedFile;
  /** Pairs per split found after extraction, and files the check could not read. */
  splits: Record<string, number>;
  skipped: string[];
}

const ENTRY_TYPES_ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/**
 * Why an archive entry may not be extracted into a dataset folder NAME/, or undefined when it may.
 * Pure: `type` is node-tar's entry type name, `linkpath` a link's target as stored.
 */
export function entryProblem(name: string, entry: { path: string; type: string; linkpath?: string }): string | undefined {
  const p = entry.path;
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.includes('\\')) return `${p}: an absolute path`;
  const segments = p.split('/');
  if (segments.includes('..')) return `${p}: a '..' path`;
  if (!ENTRY_TYPES_ALLOWED.has(entry.type)) return `${p}: a ${entry.type} entry (only files, folders and links inside the dataset are extracted)`;
  const rel = segments.filter((s) => s !== '' && s !== '.');
  if (rel[0] !== name) return `${p}: outside ${name}/`;
  if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
    const target = entry.linkpath ?? '';
    if (target.startsWith('/') || target.includes('\\')) return `${p}: a link to the absolute path ${target}`;
    // Symlinks resolve from their own folder, hard links from the archive root.
    const from = entry.type === 'SymbolicLink' ? rel.slice(0, -1) : [];
    const resolved = path.posix.normalize([...from, target].join('/'));
    if (resolved === '..' || resolved.startsWith('../') || resolved.split('/')[0] !== name) return `${p}: a link to ${target}, outside ${name}/`;
  }
  return undefined;
}

/** Refuse before downloading when the cache or OUT cannot hold the archive and its contents. */
async function checkSpace(archiveBytes: number, cacheFile: string, out: string, freeBytes: (dir: string) => Promise<number>): Promise<void> {
  const have = await fsp.stat(cacheFile).then(
    (s) => s.size,
    () => resumableBytes(cacheFile),
  );
  const cacheDir = await existingFolderAbove(path.dirname(cacheFile));
  const outDir = await existingFolderAbove(out);
  const [cacheDev, outDev] = await Promise.all([fsp.stat(cacheDir), fsp.stat(outDir)]).then(([a, b]) => [a.dev, b.dev]);
  // The images are JPEGs: the extracted folder is about as large as the archive.
  const needs =
    cacheDev === outDev
      ? [{ dir: outDir, bytes: archiveBytes - have + archiveBytes }]
      : [
          { dir: cacheDir, bytes: archiveBytes - have },
          { dir: outDir, bytes: archiveBytes },
        ];
  for (const n of needs) {
    const free = await freeBytes(n.dir);
    if (free < n.bytes)
      throw new UserError(
        `not enough free space: about ${formatBytes(n.bytes)} needed on the filesystem of ${n.dir}, ${formatBytes(free)} free (--out and --cache-dir choose other places)`,
      );
  }
}

/** Thrown into the extraction by the first entry that may not be extracted. */
class RefusedEntry extends Error {}

/**
 * Extract `archive` (.tar.gz) into `into`, stopping at the first entry that is not safe: the file is
 * no longer read and node-tar's parser is aborted (which also stops its decompressor), so nothing
 * after that entry is decompressed or written. Entries before it may still be landing on disk when
 * this rejects; they can only land inside `into`, which the caller removes.
 */
async function extractDataset({ file: archive, record }: CachedFile, name: string, into: string): Promise<void> {
  await fsp.mkdir(into, { recursive: true });
  const input = createReadStream(archive);
  const unpack = new tar.Unpack({
    cwd: into,
    strict: true,
    preserveOwner: false,
    filter: (_p, entry) => {
      const refused = entryProblem(name, entry as { path: string; type: string; linkpath?: string });
      if (refused === undefined) return true;
      input.unpipe(unpack);
      input.destroy();
      unpack.abort(new RefusedEntry(refused));
      return false;
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      input.on('error', reject);
      unpack.on('error', reject);
      unpack.on('close', resolve);
      input.pipe(unpack);
    });
  } catch (e) {
    if (e instanceof RefusedEntry) throw new UserError(`refused ${archive}: it holds ${e.message}`);
    throw new UserError(`cannot extract ${archive} (${errorMessage(e).split('\n')[0]}): delete it and ${record} to download it again`);
  }
}

async function checkTarget(target: string): Promise<void> {
  const st = await fsp.stat(target).catch(() => null);
  if (!st) return;
  if (!st.isDirectory() || (await fsp.readdir(target)).length > 0) throw new UserError(`${target} already exists: remove it, or choose another --out`);
}

/** Pairs per split, opened the way `train` and `infer` open them (unreadable files listed, not fatal). */
async function checkDataset(dir: string, log: (line: string) => void): Promise<{ splits: Record<string, number>; skipped: string[] }> {
  const splits: Record<string, number> = {};
  const skipped: string[] = [];
  for (const split of ['train', 'val', 'test']) {
    if (
      !(await fsp.stat(path.join(dir, split)).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      continue;
    const ds = await openPairedDataset(dir, split, { skipBad: true, warn: log });
    splits[split] = ds.size;
    skipped.push(...ds.skipped);
  }
  if (Object.keys(splits).length === 0) throw new UserError(`${dir} holds no train/, val/ or test/ split after extraction: is this a pix2pix dataset archive?`);
  return { splits, skipped };
}

export async function downloadDataset(o: DownloadDatasetOptions): Promise<DownloadDatasetResult> {
  const log = o.log ?? (() => {});
  if (o.name === 'cityscapes') throw new UserError(`cityscapes cannot be downloaded here: ${CITYSCAPES_NOTE}`);
  const d = findDataset(o.name);
  if (!d) throw new UserError(`no dataset '${o.name}': choose one of ${DATASETS.map((x) => x.name).join(', ')}, or cityscapes (pix2pix data download --list)`);
  const outSt = await fsp.stat(o.out).catch(() => null);
  if (outSt && !outSt.isDirectory()) throw new UserError(`--out ${o.out} is a file: name a folder (NAME/ is extracted inside it)`);
  const target = path.join(o.out, d.name);
  await checkTarget(target);
  const url = datasetUrl(baseUrl(o.mirror, o.env), d.name);
  const cacheFile = path.join(o.cacheDir ?? defaultCacheDir(o.env), 'datasets', `${d.name}.tar.gz`);
  await checkSpace(d.approxBytes, cacheFile, o.out, o.freeBytes ?? freeBytesAt);
  const cached = await fetchCached({
    url,
    file: cacheFile,
    onProgress: o.onProgress,
    offlineAdvice: `pass --mirror URL (or set PIX2PIX_MIRROR) to use another server with the same layout, or download ${d.name}.tar.gz yourself and extract it into ${o.out}`,
  });
  log(`${cached.downloaded ? 'downloaded' : 'cached'} ${cached.file} (${formatBytes(cached.bytes)}, sha256 ${cached.sha256})`);
  const staging = path.join(o.out, `.${d.name}.extracting`);
  await fsp.rm(staging, { recursive: true, force: true });
  try {
    await extractDataset(cached, d.name, staging);
    await fsp.rm(target, { recursive: true, force: true });
    await fsp.rename(path.join(staging, d.name), target);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
  const checked = await checkDataset(target, log);
  return { dir: target, cached, ...checked };
}

/** `data download --list`. */
export function datasetTable(): string {
  const rows = [
    ...DATASETS.map((d) => [d.name, d.sides, `~${formatBytes(d.approxBytes)}`]),
    ['cityscapes', 'A photo | B colour labels', 'not redistributable: data cityscapes'],
  ];
  const head = ['name', 'pairs', 'archive'];
  return formatColumns(head, rows);
}
