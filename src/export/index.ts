/** `pix2pix-ts/export`: write a trained checkpoint as one ONNX file, verified against TensorFlow.js. */
export { exportCheckpoint, type ExportCheckpointOptions, type ExportCheckpointResult } from './run-export.ts';
