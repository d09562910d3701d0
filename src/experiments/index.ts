/** `pix2pix-ts/experiments`: run an experiment file end to end (train, export, translate, score, report). */
export { runExperiment, type RunExperimentOptions } from './run.ts';
export { collectResults, type ExperimentOutputs, type CollectOptions } from './collect.ts';
export { regenerateTables } from './tables.ts';
