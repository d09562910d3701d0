/**
 * The numbers the judge's blur check (blur-check.ts) and the results tables' "Ground truth,
 * blurred" row share: the Gaussian that stands in for an L1-only generator, the bound asked of the
 * judge, and the paper's ratio it is read against. No image I/O here, so the report code (which
 * regenerates tables from CSVs alone) can import it.
 */

/**
 * σ in pixels of a 128² photo: the Gaussian whose blur of the real photos leaves the mean squared
 * luminance gradient of an L1-only U-Net's outputs on the quick profiles' synthetic data
 * (docs/statistics.md, "The judge's blur sensitivity").
 */
export const L1_BLUR_SIGMA = 2.5;
/** The image side L1_BLUR_SIGMA was fit at. */
export const L1_BLUR_SIDE = 128;

/** The blur's σ at image side `size`: an edge spread over 2.5 px at 128² spreads over 5 px at 256². */
export function l1BlurSigma(size: number): number {
  return (L1_BLUR_SIGMA * size) / L1_BLUR_SIDE;
}

/** Blurred per-class accuracy must be at most this share of the ground truth's. */
export const BLUR_CHECK_TARGET = 0.75;

/** pix2pix Table 1, mean per-class accuracy of L1 alone and of the ground truth (the `paper:` values of experiments/losses.yaml). */
export const PAPER_TABLE1_CLASS_ACC = { l1: 0.15, groundTruth: 0.26 } as const;

/** The paper's L1-only row as a share of its ground truth in per-class accuracy (0.15 / 0.26 ≈ 0.58). */
export const PAPER_L1_CLASS_ACC_RATIO = PAPER_TABLE1_CLASS_ACC.l1 / PAPER_TABLE1_CLASS_ACC.groundTruth;
