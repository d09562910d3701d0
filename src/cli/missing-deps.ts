/**
 * Training runs on TensorFlow.js (and Dawn for WebGPU): peer dependencies, which npm installs by
 * default and `npm install pix2pix-ts --omit=peer` leaves out for an inference-only install. When a command reaches for one that is absent, the user gets one line naming the packages to
 * add, at the versions this release was built with, instead of an internal error.
 */
import { readFileSync } from 'node:fs';

const TRAINING_PACKAGES = /^(@tensorflow\/[\w.-]+|webgpu)$/;

function ourDependencyVersions(): Record<string, string> {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return { ...pkg.dependencies, ...pkg.peerDependencies };
  } catch {
    return {};
  }
}

/** The one-line message for a missing training package, or undefined when `e` is something else. */
export function missingTrainingPackage(e: unknown, versions: Record<string, string> = ourDependencyVersions()): string | undefined {
  const err = e as { code?: unknown; message?: unknown };
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || typeof err.message !== 'string') return undefined;
  const name = /Cannot find (?:package|module) '((?:@[^/']+\/)?[^/']+)/.exec(err.message)?.[1];
  if (!name || !TRAINING_PACKAGES.test(name)) return undefined;
  const wanted = Object.keys(versions).filter((k) => TRAINING_PACKAGES.test(k));
  const list = (wanted.length > 0 ? wanted : [name]).map((k) => (versions[k] ? `${k}@${versions[k]}` : k)).join(' ');
  return `this command trains with TensorFlow.js, and ${name} is not installed: add the training packages with \`npm install ${list}\``;
}
