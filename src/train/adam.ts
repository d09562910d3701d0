import * as tf from '@tensorflow/tfjs';

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
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  apply(grads: Map<string, tf.Tensor>, lr: number): void {
    this.step += 1;
    const { beta1, beta2, epsilon } = this.config;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const p = this.vars.get(name)!;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(m1);
        v.assign(v1);
        // p ← p − lr/bc1 · m / (sqrt(v)/sqrt(bc2) + ε), exactly torch.optim.Adam.
        p.assign(tf.sub(p, tf.mul(tf.div(m1, tf.add(tf.div(tf.sqrt(v1), sqrtBc2), epsilon)), stepSize)));
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
