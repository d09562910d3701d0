/**
 * A fused Adam update for the tfjs webgpu backend, under the same kernel name as the wasm one
 * (./wasm-kernels/adam.ts), so the optimizer uses it on either engine. The composed update is ~13
 * element-wise dispatches per parameter (each with a parameter-sized temporary); this is three
 * (p', m', v'; a WebGPU program writes one output), each reading only what it needs. On SwiftShader a
 * tiny net's step got ~7% faster (3.68 → 3.44 s, noisy); on a GPU it saves ~10 dispatches and ~10
 * parameter-sized temporaries per parameter.
 *
 * Only import this after tfjs-backend-webgpu has registered its backend (see ./webgpu.ts).
 */
import * as tf from '../tfjs.ts';
import { webgpu_util } from '@tensorflow/tfjs-backend-webgpu';
import { FUSED_ADAM, type AdamStepScalars } from './wasm-kernels/adam.ts';

const BACKEND = 'webgpu';

type Part = 'p' | 'm' | 'v';
type Input = 'p' | 'g' | 'm' | 'v';
const PART_INPUTS: Record<Part, Input[]> = { p: ['p', 'g', 'm', 'v'], m: ['g', 'm'], v: ['g', 'v'] };

/** The subset of tfjs-backend-webgpu's WebGPUProgram that a flat element-wise program fills in. */
interface FlatProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  getUserCode(): string;
}

interface WebgpuBackendLike {
  runWebGPUProgram(program: FlatProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: 'float32'; data: number[] }[]): tf.TensorInfo;
}

/** The update (PyTorch's rule, as src/train/adam.ts): one of p', m', v' per program. */
function adamProgram(n: number, part: Part): FlatProgram {
  const outputShape = [n];
  const workgroupSize: [number, number, number] = [64, 1, 1];
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape);
  // Each part binds only the inputs it reads (a binding the shader never uses is dropped from its layout).
  const m1 = 'adamM[index] * uniforms.beta1 + g * (1.0 - uniforms.beta1)';
  const v1 = 'adamV[index] * uniforms.beta2 + g * g * (1.0 - uniforms.beta2)';
  const body = {
    m: `setOutputAtIndex(index, ${m1});`,
    v: `setOutputAtIndex(index, ${v1});`,
    p: `let m1 = ${m1};
          let v1 = ${v1};
          setOutputAtIndex(index, adamP[index] - (m1 / (sqrt(v1) / uniforms.sqrtBc2 + uniforms.epsilon)) * uniforms.stepSize);`,
  }[part];
  return {
    outputShape,
    shaderKey: `pix2pix_adam_${part}`,
    dispatchLayout,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, workgroupSize),
    variableNames: PART_INPUTS[part].map((k) => `adam${k.toUpperCase()}`),
    workgroupSize,
    size: true,
    uniforms: 'beta1 : f32, beta2 : f32, epsilon : f32, stepSize : f32, sqrtBc2 : f32,',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let g = adamG[index];
          ${body}
        }
      }`,
  };
}

function fusedAdamWebgpu(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = args.backend as WebgpuBackendLike;
  const { p, g, m, v } = args.inputs as Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const s = args.attrs as unknown as AdamStepScalars;
  const n = tf.util.sizeFromShape(p.shape);
  for (const [name, t] of Object.entries({ p, g, m, v })) {
    if (t.dtype !== 'float32') throw new Error(`${FUSED_ADAM}: ${name} must be float32, got ${t.dtype}`);
    if (tf.util.sizeFromShape(t.shape) !== n) throw new Error(`${FUSED_ADAM}: ${name} has shape [${t.shape}], expected [${p.shape}]`);
  }
  // Flat [n] views (same buffers): the shader key, and so the compiled pipeline, is then one per part
  // whatever the parameter's rank, instead of one per rank.
  const flat = (t: tf.TensorInfo): tf.TensorInfo => ({ dataId: t.dataId, shape: [n], dtype: t.dtype });
  const all: Record<Input, tf.TensorInfo> = { p, g, m, v };
  // One entry per scalar: the backend aligns each entry by its length, like the struct fields it declares.
  const uniforms = [s.beta1, s.beta2, s.epsilon, s.stepSize, s.sqrtBc2].map((x) => ({ type: 'float32' as const, data: [x] }));
  return (['p', 'm', 'v'] as const).map((part) => {
    const out = backend.runWebGPUProgram(
      adamProgram(n, part),
      PART_INPUTS[part].map((k) => flat(all[k])),
      'float32',
      uniforms,
    );
    return { dataId: out.dataId, shape: [...p.shape], dtype: 'float32' };
  });
}

/** Register the fused Adam kernel for 'webgpu' (idempotent). */
export function registerWebgpuKernels(): void {
  if (tf.getKernel(FUSED_ADAM, BACKEND)) return;
  tf.registerKernel({ kernelName: FUSED_ADAM, backendName: BACKEND, kernelFunc: fusedAdamWebgpu });
}
