/**
 * TensorFlow.js, imported in one place. The umbrella package is used rather than tfjs-core plus the
 * cpu backend: in plain Node, tfjs-core's CommonJS build registers no gradients and no tensor methods,
 * and the files that do (dist/register_all_gradients.js, …) are ES modules with directory imports
 * that Node cannot load; the umbrella's Node build bundles them. The faster backends (wasm, webgpu,
 * tfjs-node) are loaded by engines/registry.ts.
 */
export * from '@tensorflow/tfjs';
