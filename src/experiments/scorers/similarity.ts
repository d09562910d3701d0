/**
 * SSIM and PSNR of each generated photo against its real target photo, averaged over the test
 * images (src/eval/similarity.ts has the definitions). A full-reference score: it rewards outputs
 * close to the one real photo, which the paper argues is not the goal of a cGAN; users compare
 * against it all the same.
 */
import * as path from 'node:path';
import { SSIM_WINDOW } from '../../eval/similarity.ts';
import { UserError } from '../../util/errors.ts';
import type { Scorer } from './scorer.ts';

export const similarityScorer: Scorer = {
  name: 'similarity',
  summary: 'SSIM (11×11 Gaussian window, σ 1.5, per RGB channel) and PSNR of each generated photo against its real target, averaged over the test images',
  defaultFor: [],
  tasks: ['labels2photo', 'color'],
  metrics: [
    { key: 'ssim', name: 'SSIM', short: 'SSIM' },
    { key: 'psnr', name: 'PSNR (dB)', short: 'PSNR' },
  ],
  needsLabels: false,
  needsSegmenter: false,
  key: () => ({ metric: 'similarity', ssim: 'gaussian 11x11 sigma 1.5, per RGB channel', psnr: 'RGB, peak 255' }),
  async score(input) {
    const { listImages, readImage } = await import('../../data/image.ts');
    const { prefetch } = await import('../../util/concurrency.ts');
    const { psnr, ssim } = await import('../../eval/similarity.ts');
    const targets = await input.targetsDir();
    const names = await listImages(input.imagesDir);
    if (names.length === 0) throw new UserError(`${input.experiment}: no generated images in ${input.imagesDir} to compare with the targets`);
    const known = new Set(await listImages(targets));
    const missing = names.find((n) => !known.has(n));
    if (missing)
      throw new UserError(
        `${input.experiment}: generated ${missing} has no target ${path.join(targets, missing)}; the test split changed: rerun its translate stage`,
      );
    let ssimSum = 0;
    let psnrSum = 0;
    const load = async (n: string) => ({ n, a: await readImage(path.join(input.imagesDir, n)), b: await readImage(path.join(targets, n)) });
    for await (const { n, a, b } of prefetch(names, load)) {
      if (a.width !== b.width || a.height !== b.height)
        throw new UserError(
          `${input.experiment}: generated ${n} is ${a.width}×${a.height} but its target is ${b.width}×${b.height}; rerun the translate stage`,
        );
      ssimSum += ssim(a, b);
      psnrSum += psnr(a, b);
    }
    return { metrics: { ssim: ssimSum / names.length, psnr: psnrSum / names.length }, frames: names.length };
  },
  checkRun: ({ size }) =>
    size < SSIM_WINDOW
      ? `SSIM needs images of at least ${SSIM_WINDOW}×${SSIM_WINDOW} (its window) but the run is ${size}²; raise train.size or drop similarity from scorer.add`
      : undefined,
  describe: () => 'SSIM and PSNR against the real target photos',
};
