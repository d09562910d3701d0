import * as tf from './tfjs.ts';
import { fusedAdamAvailable, fusedAdamUpdate } from './engines/wasm-kernels/adam.ts';

export interface AdamConfig {
  beta1: number;
  beta2: number;
  epsilon: number;
}

export const PIX2PIX_ADAM: AdamConfig = { beta1: 0.5, beta2: 0.999, epsilon: 1e-8 };

/**
 * Adam (PyTorch's update rule) with state we own, so it can be checkpointed and resumed exactly.
 * The learning rate is passed per step (it follows the epoch schedule).
 */
export class Adam {
  step = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();

  constructor(
    readonly vars: Map<string, tf.Variable>,
    readonly config: AdamConfig = PIX2PIX_ADAM,
  ) {
    for (const [name, p] of vars) {
      this.m.set(name, zerosVariable(p));
      this.v.set(name, zerosVariable(p));
    }
  }

  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, epsilon } = this.config;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    const fused = fusedAdamAvailable();
    for (const [name, g] of grads) {
      const p = this.vars.get(name)!;
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      if (fused) {
        // One kernel per parameter instead of ~8 elementwise ops, each a parameter-sized temporary.
        const [p1, m1, v1] = fusedAdamUpdate(p, g, m, v, { beta1, beta2, epsilon, stepSize, sqrtBc2 });
        m.assign(m1);
        v.assign(v1);
        p.assign(p1);
        tf.dispose([p1, m1, v1]);
        continue;
      }
      // One scope per parameter keeps the temporaries of a single tensor alive at a time (54M parameters at 256²).
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        // p ← p − lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε), exactly torch.optim.Adam.
        p.assign(tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.div(tf.sqrt(v1), sqrtBc2), epsilon)), stepSize)));
      });
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/** A zero variable shaped like `p`; the source tensor is released (assign() would otherwise keep it alive). */
function zerosVariable(p: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(p);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}
