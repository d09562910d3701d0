import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeImage } from '../../src/data/image.ts';
import { runColorScore } from '../../src/eval/color-score.ts';

describe('runColorScore', () => {
  it('pools every image of each folder and intersects the L, a, b histograms', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'color-score-'));
    const white = Uint8Array.from([255, 255, 255]);
    const black = Uint8Array.from([0, 0, 0]);
    await writeImage(path.join(root, 'gen', 'a.png'), { width: 1, height: 1, data: white });
    await writeImage(path.join(root, 'real', 'a.png'), { width: 1, height: 1, data: white });
    await writeImage(path.join(root, 'real', 'sub', 'b.png'), { width: 1, height: 1, data: black });
    const r = await runColorScore({ generatedDir: path.join(root, 'gen'), realDir: path.join(root, 'real'), bins: 2 });
    // L: generated all in the upper bin, real half/half → 0.5; a and b are 0 for greys → same bin → 1
    expect(r.intersections).toEqual({ L: 0.5, a: 1, b: 1 });
    expect([r.generated.images, r.real.images]).toEqual([1, 2]);
  });

  it('rejects a missing or empty folder naming the flag', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'color-score-'));
    await writeImage(path.join(root, 'real', 'a.png'), { width: 1, height: 1, data: Uint8Array.from([1, 2, 3]) });
    mkdirSync(path.join(root, 'empty'));
    await expect(runColorScore({ generatedDir: path.join(root, 'missing'), realDir: path.join(root, 'real') })).rejects.toThrow(
      /^--generated .*missing: folder not found\.$/,
    );
    await expect(runColorScore({ generatedDir: path.join(root, 'empty'), realDir: path.join(root, 'real') })).rejects.toThrow(
      /^No image files in .*empty \(--generated\)\.$/,
    );
  });
});
