/**
 * TensorFlow.js, imported in one place: tfjs-core plus the cpu backend (the faster backends are
 * loaded by engines/registry.ts). tfjs-core's CommonJS build (its `main`) registers no gradients
 * and no chained tensor methods; the ES modules that do use extensionless and directory imports
 * that Node's ESM resolver refuses, so a resolve hook adds the `.js` / `/index.js` for files
 * inside tfjs-core's dist/ before they are loaded. That graph is ~600 small files, so a process
 * starts about 1–2 s slower than with the @tensorflow/tfjs umbrella's single bundle; in exchange the
 * install no longer carries layers, converter, webgl and data (~220 MB) that nothing here uses.
 */
import { register } from 'node:module';

const HOOK = `
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const isFile = (u) => { try { return statSync(fileURLToPath(u)).isFile(); } catch { return false; } };
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('.') && !specifier.endsWith('.js') && context.parentURL?.includes('/@tensorflow/tfjs-core/dist/')) {
    const base = new URL(specifier, context.parentURL).href;
    for (const candidate of [base + '.js', base + '/index.js']) if (isFile(candidate)) return next(candidate, context);
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(HOOK)}`);

export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js');
