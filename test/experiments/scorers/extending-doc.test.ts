/**
 * docs/extending.md, "Add a score", stays true: the registry lists every scorer file, the doc's
 * table names every registered scorer with its file and tasks, the registry line it quotes is the
 * code's, and every file it says the SSIM/PSNR addition touched exists.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCORERS } from '../../../src/experiments/scorers/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DIR = path.join(ROOT, 'src/experiments/scorers');
/** The folder's modules that are not scorers: the interface, the registry, and a helper two scorers share. */
const NOT_SCORERS = ['scorer.ts', 'index.ts', 'confusion-metrics.ts'];

async function section(): Promise<string> {
  const doc = await fsp.readFile(path.join(ROOT, 'docs/extending.md'), 'utf8');
  const start = doc.indexOf('\n## Add a score\n');
  expect(start, 'docs/extending.md has a "## Add a score" section').toBeGreaterThan(0);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/extending.md: Add a score', () => {
  it('every scorer file in src/experiments/scorers is registered, under its file name, and every registered scorer has its file', async () => {
    const files = (await fsp.readdir(DIR)).filter((f) => f.endsWith('.ts') && !NOT_SCORERS.includes(f)).sort();
    expect(files).toEqual(SCORERS.map((s) => `${s.name}.ts`).sort());
    for (const f of files) expect(await fsp.readFile(path.join(DIR, f), 'utf8')).toMatch(/export const \w+: Scorer = \{/);
  });

  it('names every registered scorer with its file, the task it owns and the tasks it scores', async () => {
    const text = await section();
    for (const s of SCORERS) {
      const own = s.defaultFor.length ? s.defaultFor.map((t) => `\`${t}\``).join(', ') : '—';
      const row = `| \`${s.name}\` | \`src/experiments/scorers/${s.name}.ts\` | ${own} | ${s.tasks.map((t) => `\`${t}\``).join(', ')} |`;
      expect(text).toContain(row);
    }
  });

  it('quotes the registry line as the code has it', async () => {
    const text = await section();
    const quoted = /```typescript\n(export const SCORERS[^\n]*)\n```/.exec(text)?.[1];
    expect(quoted).toBeDefined();
    expect(await fsp.readFile(path.join(DIR, 'index.ts'), 'utf8')).toContain(quoted!);
  });

  it('lists the files the SSIM/PSNR addition touched: as many as it says, each one there', async () => {
    const text = await section();
    const table = text.slice(text.indexOf('| file | change |'));
    const files = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    const stated = Number(/lists \*\*(\d+) files\*\*/.exec(text)?.[1]);
    expect(files).toHaveLength(stated);
    for (const f of files) expect(existsSync(path.join(ROOT, f)), f).toBe(true);
    expect(files).toContain('src/experiments/scorers/similarity.ts');
  });
});
