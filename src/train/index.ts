/** `pix2pix-ts/train`: train a pix2pix model (loads TensorFlow.js and the chosen engine). */
export { train, type TrainHooks, type TrainResult } from './trainer.ts';
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig, type TrainConfigInput, type LossMode, type Direction } from './config.ts';
export { synthesizeDataset, type SynthOptions, type SynthSummary } from '../data/synth.ts';
