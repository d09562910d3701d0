/**
 * TensorFlow.js as pix2pix-ts uses it: the core (ops, gradients, variables) and the plain JS `cpu`
 * backend, which is always there: it is the reference every engine is tested against and the engine
 * of last resort. The faster backends (wasm, webgpu, tfjs-node) are loaded by engines/registry.ts.
 * Nothing else of the @tensorflow/tfjs umbrella (layers, converter, data, webgl) is needed.
 */
import '@tensorflow/tfjs-backend-cpu';
// Gradients of every op (tf.grad, variableGrads) and tensor methods (`t.add(…)`), as the umbrella package registers them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

export * from '@tensorflow/tfjs-core';
