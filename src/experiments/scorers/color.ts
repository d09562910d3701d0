/** The colour experiment of pix2pix Figure 7: Lab histogram intersection of the generated against the real photos. */
import type { Scorer } from './scorer.ts';

export const colorScorer: Scorer = {
  name: 'color',
  summary: 'Lab colour-histogram intersection (L, a, b) of all generated photos against all real ones',
  defaultFor: ['color'],
  tasks: ['color'],
  metrics: [
    { key: 'L', name: 'L', short: 'L' },
    { key: 'a', name: 'a', short: 'a' },
    { key: 'b', name: 'b', short: 'b' },
  ],
  needsLabels: false,
  needsSegmenter: false,
  key: (c) => ({ metric: 'color', bins: c.bins }),
  async score(input) {
    const { runColorScore } = await import('../../eval/color-score.ts');
    const r = await runColorScore({ generatedDir: input.imagesDir, realDir: await input.targetsDir(), bins: input.config.bins });
    return { metrics: { L: r.intersections.L, a: r.intersections.a, b: r.intersections.b }, frames: r.generated.images };
  },
  describe: () => 'none (Lab histogram intersection needs no segmenter)',
};
