/**
 * Output names for a batch translation, unique by construction. The whole sorted input list is
 * mapped at once (so every shard names files the same way), and names are compared
 * case-insensitively, as macOS and Windows filesystems do, so `A.png` and `a.png` never share a file.
 */
import * as path from 'node:path';

/** How two names compare on a case-insensitive filesystem. */
function foldKey(rel: string): string {
  return rel.normalize('NFC').toLowerCase();
}

function stemOf(rel: string): string {
  return rel.slice(0, rel.length - path.posix.extname(rel).length);
}

/**
 * Output path (relative, '/'-separated) for each input: the same name with the new extension.
 * Inputs whose natural names clash (a.png and a.jpg → a.png) each keep their old extension in the
 * name (a_png.png, a_jpg.png); if that is taken too (by an input really named a_png.png, or by A.png
 * vs a.png), a counter is added (a_png_2.png). Names nobody competes for are reserved first, so an
 * input never loses its natural name to a renamed one. Injective on case-folded names. Pure.
 */
export function outputNames(inputs: readonly string[], format: string): Map<string, string> {
  const natural = (rel: string): string => `${stemOf(rel)}.${format}`;
  const demand = new Map<string, number>();
  for (const rel of inputs) demand.set(foldKey(natural(rel)), (demand.get(foldKey(natural(rel))) ?? 0) + 1);

  const out = new Map<string, string>();
  const taken = new Set<string>();
  const clashing: string[] = [];
  for (const rel of inputs) {
    if (out.has(rel)) continue; // a repeated input maps once
    const name = natural(rel);
    if (demand.get(foldKey(name)) === 1) {
      out.set(rel, name);
      taken.add(foldKey(name));
    } else clashing.push(rel);
  }
  for (const rel of clashing) {
    if (out.has(rel)) continue;
    const ext = path.posix.extname(rel).slice(1).toLowerCase() || 'noext';
    const base = `${stemOf(rel)}_${ext}`;
    let name = `${base}.${format}`;
    for (let k = 2; taken.has(foldKey(name)); k++) name = `${base}_${k}.${format}`;
    out.set(rel, name);
    taken.add(foldKey(name));
  }
  // In input order, whichever pass named each.
  return new Map(inputs.map((rel) => [rel, out.get(rel)!]));
}
