/**
 * `pix2pix data combine --a DIR --b DIR --out DIR`: the reference combine_A_and_B.py. For each split
 * folder of A (train/, val/, test/, …), the image of the same file name in A and in B are placed side by
 * side (A left, B right) into OUT/<split>/<name>, the aligned layout `train` reads. Names found on one
 * side only, and pairs whose heights differ, are listed and left out.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { mapBounded } from '../util/concurrency.ts';
import { UserError } from '../util/errors.ts';
import { checkDisjointTrees, claimOutputFolder } from '../util/paths.ts';
import { type RgbImage, readImage, writeImage } from './image.ts';
import { listInputImages } from './listing.ts';

export interface CombineOptions {
  a: string;
  b: string;
  out: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  log?: (line: string) => void;
}

export interface CombineResult {
  /** Pairs written per split. */
  written: Record<string, number>;
  onlyA: string[];
  onlyB: string[];
  /** "split/name: reason" for pairs that could not be combined. */
  refused: string[];
}

/** A and B side by side: same height required; A's columns first. Pure. */
export function sideBySide(a: RgbImage, b: RgbImage): RgbImage {
  if (a.height !== b.height) throw new UserError(`A is ${a.width}×${a.height} but B is ${b.width}×${b.height}: the heights differ`);
  const width = a.width + b.width;
  const data = new Uint8Array(width * a.height * 3);
  for (let y = 0; y < a.height; y++) {
    data.set(a.data.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * width * 3);
    data.set(b.data.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * width + a.width) * 3);
  }
  return { width, height: a.height, data };
}

/** Names on both sides, and on one side only. Pure. */
export function matchNames(a: readonly string[], b: readonly string[]): { both: string[]; onlyA: string[]; onlyB: string[] } {
  const inB = new Set(b);
  const inA = new Set(a);
  return { both: a.filter((n) => inB.has(n)), onlyA: a.filter((n) => !inB.has(n)), onlyB: b.filter((n) => !inA.has(n)) };
}

async function splitsOf(dir: string, flag: string): Promise<string[]> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    throw new UserError(`${flag} ${dir} is not a folder`);
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

export async function combineAB(o: CombineOptions): Promise<CombineResult> {
  const splits = await splitsOf(o.a, '--a');
  const splitsB = new Set(await splitsOf(o.b, '--b'));
  if (splits.length === 0) throw new UserError(`--a ${o.a} has no split folders: put the A images in ${o.a}/train, ${o.a}/val, ${o.a}/test`);
  await checkDisjointTrees(o.a, o.out, { recursive: true, inputFlag: '--a', outputFlag: '--out' });
  await checkDisjointTrees(o.b, o.out, { recursive: true, inputFlag: '--b', outputFlag: '--out' });
  const plan: { split: string; name: string }[] = [];
  const result: CombineResult = { written: {}, onlyA: [], onlyB: [], refused: [] };
  for (const split of splits) {
    const a = (await listInputImages(path.join(o.a, split))).files;
    const b = splitsB.has(split) ? (await listInputImages(path.join(o.b, split))).files : [];
    const m = matchNames(a, b);
    result.onlyA.push(...m.onlyA.map((n) => `${split}/${n}`));
    result.onlyB.push(...m.onlyB.map((n) => `${split}/${n}`));
    plan.push(...m.both.map((name) => ({ split, name })));
    result.written[split] = 0;
  }
  if (plan.length === 0) throw new UserError(`no file name is in both --a ${o.a} and --b ${o.b} (same split folder, same name)`);
  await claimOutputFolder(o.out, { flag: '--out', command: 'data combine', isOwn: (n) => splits.includes(n), recursive: true, log: o.log });
  let done = 0;
  await mapBounded(plan, o.concurrency ?? 4, async ({ split, name }) => {
    try {
      const ab = sideBySide(await readImage(path.join(o.a, split, name)), await readImage(path.join(o.b, split, name)));
      const file = path.join(o.out, split, name);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      await writeImage(file, ab);
      result.written[split]++;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      result.refused.push(`${split}/${name}: ${e.message}`);
    }
    o.onProgress?.(++done, plan.length);
  });
  result.refused.sort();
  return result;
}
