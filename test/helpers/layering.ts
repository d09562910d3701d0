import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../../src');
const STATIC = /^(?:import|export)(?!\s+type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm;
const WITH_DYNAMIC = /(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * Walk the imports of every .ts file under src/<folder> (and what they import) and list each place
 * that reaches tfjs or src/train: the layering rule of the runtime and the importers. `dynamic`
 * also follows `import('…')` (type-only imports are skipped when it is off).
 */
export async function importsReachingTraining(folder: string, opts: { dynamic: boolean }): Promise<{ offending: string[]; visited: number }> {
  const seen = new Set<string>();
  const offending: string[] = [];
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await fsp.readFile(file, 'utf8');
    for (const m of text.matchAll(opts.dynamic ? WITH_DYNAMIC : STATIC)) {
      const spec = m[1] ?? m[2];
      const where = `${path.relative(SRC, file)} → ${spec}`;
      if (spec.startsWith('@tensorflow')) offending.push(where);
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (path.relative(SRC, target).startsWith('train')) offending.push(where);
      else await visit(target);
    }
  };
  const files = (await fsp.readdir(path.join(SRC, folder), { recursive: true })).filter((f) => f.endsWith('.ts'));
  for (const f of files) await visit(path.join(SRC, folder, f));
  return { offending, visited: seen.size };
}
