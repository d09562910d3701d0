import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REFERENCE = readFileSync(path.join(ROOT, 'docs/reference.md'), 'utf8');
const ANCHORS = new Set([...REFERENCE.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|mjs)$/.test(name) ? [full] : [];
  });
}

describe('code comments point into docs/reference.md', () => {
  const files = ['src', 'test', 'bench', 'scripts', 'web/src'].flatMap((d) => sourceFiles(path.join(ROOT, d)));

  it('only at anchors that docs/reference.md declares', () => {
    const missing: string[] = [];
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/docs\/reference\.md#([a-z0-9-]+)/g)) {
        if (!ANCHORS.has(m[1])) missing.push(`${path.relative(ROOT, f)}: #${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('never at a document the repository does not have', () => {
    // (bench/ may default to the team's peer folder beside the checkout: a path to run, not a reference.)
    const stale = files
      .map((f) => path.relative(ROOT, f))
      .filter((f) => f !== 'test/docs/reference-anchors.test.ts')
      .filter(
        (f) =>
          /spec §/.test(readFileSync(path.join(ROOT, f), 'utf8')) || (f.startsWith('src/') && readFileSync(path.join(ROOT, f), 'utf8').includes('../shared')),
      );
    expect(stale).toEqual([]);
  });
});
