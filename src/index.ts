/**
 * The package's root entry: running and scoring models. It never loads TensorFlow.js, so an
 * application that only translates or scores images pays for onnxruntime alone. Training, export
 * and the experiment harness have their own entries (`pix2pix-ts/train`, `pix2pix-ts/export`,
 * `pix2pix-ts/experiments`), each loading what it needs.
 */
export { openSession, describeModelIO, type ModelSession, type ModelIO, type OpenSessionOptions } from './runtime/session.ts';
export { translateFolder, type TranslateOptions, type TranslateResult } from './runtime/translate.ts';
export type { ProviderName, ProviderRequest } from './runtime/providers.ts';
export { runFcnScore, type FcnScoreOptions, type ScoreResult } from './eval/fcn-score.ts';
export { runColorScore, type ColorScoreOptions, type ColorScoreResult } from './eval/color-score.ts';
export { runLabelScore, type LabelScoreOptions } from './eval/label-score.ts';
export { fcnScores, type FcnScores } from './eval/scores.ts';
export { loadSegmenterSpec, runSegmenterOnnx, type SegmenterSpec, type SegmenterModel } from './eval/segmenter.ts';
export { UserError, isUserError } from './util/errors.ts';
