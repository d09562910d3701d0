/**
 * Bump when the meaning of a stage's output changes for the same settings: it keys every work folder
 * (old work is not reused) and is written into results CSVs, whose test fails when a committed file
 * is older than the code.
 *
 * 2: the trained judge's cross-entropy weighs classes by median frequency.
 */
export const PIPELINE_VERSION = 2;
