/** `pix2pix-ts/experiments`: run an experiment file end to end (train, export, translate, score, report). */
export { runExperiment, type RunExperimentOptions } from './run.ts';
export { collectResults, type ExperimentOutputs, type CollectOptions } from './collect.ts';
export { regenerateTables } from './tables.ts';
// runExperiment throws it when pairs of its share are not done though nothing failed (held elsewhere, stale claim).
export { IncompleteError, isIncompleteError } from '../util/errors.ts';
