/**
 * "Did you mean --batch-size?": unknown flags named once each, as typed, with the nearest flags of the
 * command. Pure functions; the CLI gives them the command line and the command's spellings.
 */

/** Edit distance with adjacent transpositions (optimal string alignment): `bacth` is one edit from `batch`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** Case, `_` and `-` do not count: `--Batch_Size` is `--batch-size`. */
function normal(flag: string): string {
  return flag.toLowerCase().replace(/_/g, '-');
}

/**
 * The canonical flags nearest to `typed` (without dashes), best first: within a third of its length
 * in edits (at least 2), or starting with it (`--batch` → `--batch-size`). `spellings` maps every
 * spelling of the command to its canonical flag.
 */
export function suggestFlags(typed: string, spellings: ReadonlyMap<string, string>): string[] {
  const t = normal(typed);
  const limit = t.length <= 2 ? 0 : t.length < 4 ? 1 : Math.max(2, Math.floor(t.length / 3));
  const best = new Map<string, number>();
  for (const [spelling, canonical] of spellings) {
    const s = normal(spelling);
    const d = t.length >= 3 && s.startsWith(t) ? 1 : editDistance(t, s);
    if (d <= limit && d < (best.get(canonical) ?? Infinity)) best.set(canonical, d);
  }
  return [...best].sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0])).map(([c]) => c);
}

/** The flags of `args` (`--name`, `--name=value`, `-x`) that are no spelling of the command, in order, once each. */
export function unknownFlags(args: readonly string[], spellings: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a === '--') break;
    const m = /^--?([^=]+)/.exec(a);
    if (!m || /^-\d/.test(a)) continue; // a word, or a negative number (`--gpu_ids -1`)
    const name = m[1];
    const known = spellings.has(name) || (name.startsWith('no-') && spellings.has(name.slice(3)));
    if (!known && !out.includes(a.split('=')[0])) out.push(a.split('=')[0]);
  }
  return out;
}

/** `--bogus-flag, --batch_sise (did you mean --batch-size?)`: each unknown flag once, as typed. */
export function describeUnknownFlags(flags: readonly string[], spellings: ReadonlyMap<string, string>): string {
  return flags
    .map((f) => {
      const near = suggestFlags(f.replace(/^-+/, ''), spellings).slice(0, 2);
      return near.length ? `${f} (did you mean ${near.map((n) => `--${n}`).join(' or ')}?)` : f;
    })
    .join(', ');
}
