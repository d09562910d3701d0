import * as tf from '../tfjs.ts';
import { type NetworkArch, paramSpecs } from '../../nets/arch.ts';
import type { ParamTensors } from './forward.ts';
import type { ParamArrays } from './init.ts';

/** A network's parameters as tfjs variables: all of them, the trainable subset, and the map the forward pass reads. */
export interface Net {
  arch: NetworkArch;
  vars: Map<string, tf.Variable>;
  trainable: Map<string, tf.Variable>;
  params: ParamTensors;
}

export function makeNet(arch: NetworkArch, arrays: ParamArrays): Net {
  const vars = new Map<string, tf.Variable>();
  const trainable = new Map<string, tf.Variable>();
  for (const p of paramSpecs(arch)) {
    const t = tf.tensor(arrays.get(p.name)!, [...p.shape]);
    const v = tf.variable(t, p.trainable);
    // tf.variable copies; the source would otherwise stay alive and pin its buffer on the wasm heap.
    t.dispose();
    vars.set(p.name, v);
    if (p.trainable) trainable.set(p.name, v);
  }
  return { arch, vars, trainable, params: vars };
}

export function disposeNet(n: Net | null): void {
  if (n) for (const v of n.vars.values()) v.dispose();
}

/** tf.variableGrads keys gradients by tfjs variable name; map them back to parameter names. */
export function gradsByParamName(net: Net, grads: tf.NamedTensorMap): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of net.trainable) {
    const g = grads[v.name];
    if (g) out.set(name, g);
  }
  return out;
}
