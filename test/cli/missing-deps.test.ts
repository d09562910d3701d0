/** A training command on an install without TensorFlow.js: one line naming what to add, not an internal error. */
import { describe, expect, it } from 'vitest';
import { missingTrainingPackage } from '../../src/cli/missing-deps.ts';

const notFound = (message: string): Error & { code: string } => Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });
const VERSIONS = { '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-cpu': '4.22.0', webgpu: '0.6.2', sharp: '0.35.5' };

describe('missingTrainingPackage', () => {
  it("names the missing package and every training package at this release's versions", () => {
    const e = notFound("Cannot find package '@tensorflow/tfjs-core' imported from /app/node_modules/pix2pix-ts/dist/train/tfjs.js");
    expect(missingTrainingPackage(e, VERSIONS)).toBe(
      'this command trains with TensorFlow.js, and @tensorflow/tfjs-core is not installed: add the training packages with `npm install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0 webgpu@0.6.2`',
    );
    expect(missingTrainingPackage(notFound("Cannot find package 'webgpu' imported from /x.js"), VERSIONS)).toMatch(/webgpu is not installed/);
  });

  it('leaves other errors alone: other packages, our own missing files, other codes', () => {
    expect(missingTrainingPackage(notFound("Cannot find package 'sharp' imported from /x.js"), VERSIONS)).toBeUndefined();
    expect(missingTrainingPackage(notFound("Cannot find module '/app/dist/x.js' imported from /y.js"), VERSIONS)).toBeUndefined();
    expect(missingTrainingPackage(new Error("Cannot find package '@tensorflow/tfjs-core'"), VERSIONS)).toBeUndefined();
    expect(missingTrainingPackage(undefined, VERSIONS)).toBeUndefined();
  });

  it("reads the versions from this package's package.json by default", () => {
    expect(missingTrainingPackage(notFound("Cannot find package '@tensorflow/tfjs-core' imported from /x.js"))).toMatch(/@tensorflow\/tfjs-core@\d+\.\d+\.\d+/);
  });
});
