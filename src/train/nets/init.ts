import type { Rng } from '../../util/rng.ts';
import { type NetworkArch, paramSpecs } from '../../nets/arch.ts';

export type ParamArrays = Map<string, Float32Array>;

/**
 * The reference initialisation (docs/reference.md#losses): conv weights N(0, 0.02), biases 0, BN γ ~ N(1, 0.02),
 * β = 0; running mean 0 and variance 1. Drawn from our own Rng so a seed fixes the network on every engine.
 */
export function initParams(arch: NetworkArch, rng: Rng, gain = 0.02): ParamArrays {
  const out: ParamArrays = new Map();
  for (const p of paramSpecs(arch)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (p.role === 'weight') for (let i = 0; i < n; i++) a[i] = rng.normal() * gain;
    else if (p.role === 'gamma') for (let i = 0; i < n; i++) a[i] = 1 + rng.normal() * gain;
    else if (p.role === 'running_var') a.fill(1);
    out.set(p.name, a);
  }
  return out;
}
