/**
 * A command module takes from its sibling command modules only what composes the command tree (a
 * sub-command, a group builder) and `entry` from index.ts; a helper that two commands share lives
 * below src/cli/commands (src/util, src/options…), not in one of them. A command may keep its own
 * helpers in a module named after it (experiments.ts → experiments-report.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const COMMANDS = path.resolve(import.meta.dirname, '../../src/cli/commands');

/** `import { a, b as c } from './x.ts'`, `const { a } = await import('./x.ts')`, `(await import('./x.ts')).a`. */
const SIBLING_IMPORTS = [
  /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'\.\/([^']+)'/g,
  /const\s*\{([^}]*)\}\s*=\s*await\s+import\('\.\/([^']+)'\)/g,
  /\(await import\('\.\/([^']+)'\)\)\.(\w+)/g,
];

function siblingImports(file: string): { from: string; name: string }[] {
  const text = readFileSync(path.join(COMMANDS, file), 'utf8');
  const found: { from: string; name: string }[] = [];
  for (const [i, re] of SIBLING_IMPORTS.entries()) {
    for (const m of text.matchAll(re)) {
      const [names, from] = i === 2 ? [m[2], m[1]] : [m[1], m[2]];
      for (const n of names.split(',')) {
        const name = n.trim().split(/\s+as\s+/)[0];
        if (name) found.push({ from, name });
      }
    }
  }
  return found;
}

function allowed(importer: string, from: string, name: string): boolean {
  if (from === 'index.ts') return importer === 'index.ts' || name === 'entry';
  if (from.startsWith(`${importer.replace(/\.ts$/, '')}-`)) return true;
  return /Command$/.test(name);
}

describe('src/cli/commands', () => {
  it('no command imports a helper from another command module', () => {
    const files = readdirSync(COMMANDS).filter((f) => f.endsWith('.ts'));
    const seen = files.flatMap((f) => siblingImports(f).map((i) => ({ importer: f, ...i })));
    // The walk sees the imports that compose the tree, so it is looking at the right text.
    expect(seen).toContainEqual({ importer: 'eval-group.ts', from: 'rf.ts', name: 'evalRfCommand' });
    expect(seen).toContainEqual({ importer: 'index.ts', from: 'pull.ts', name: 'pullCommand' });
    const offending = seen.filter((i) => !allowed(i.importer, i.from, i.name)).map((i) => `${i.importer} takes ${i.name} from ${i.from}`);
    expect(offending).toEqual([]);
  });
});
