/**
 * LeakyReLU and its gradient as one kernel each, for the wasm backend, as four-lane WebAssembly loops
 * on its heap. tfjs differentiates `leakyRelu` as Greater + Multiply + Select (three kernels and a
 * boolean mask per layer), and the backend's own LeakyRelu is a scalar loop; a unet_128 ngf-16 step
 * has 18 such layers. Same values bit for bit: y = x < 0 ? αx : x and dx = x > 0 ? dy : α·dy, exactly
 * the expressions of tfjs's kernel and gradient.
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { F32, I32, V128, backendHeapMemory, forLoop, exportsOnMemory, op, seq, type WasmFunction } from './wasm-asm.ts';

const FUSED_LEAKY_RELU = 'Pix2PixLeakyRelu';
const FUSED_LEAKY_RELU_GRAD = 'Pix2PixLeakyReluGrad';

const { get, set } = op;
const at = (base: number, i: number): number[] => seq(get(base), get(i), op.add);

/** Four float32 +0 (all bits clear) into `local`. */
const zeros = (local: number): number[] => seq(op.i32(0), op.i32x4Splat, set(local));

// leakyRelu(x, y, bytes, α): locals 4 i, 5 α splatted, 6 v, 7 zeros.
const forward: WasmFunction = {
  name: 'leakyRelu',
  params: [I32, I32, I32, F32],
  locals: [I32, V128, V128, V128],
  body: seq(
    seq(get(3), op.f32x4Splat, set(5), zeros(7)),
    forLoop(
      4,
      op.i32(0),
      get(2),
      16,
      seq(at(1, 4), at(0, 4), op.v128Load, set(6), get(6), get(5), op.f32x4Mul, get(6), get(6), get(7), op.f32x4Lt, op.v128Bitselect, op.v128Store),
    ),
  ),
};

// leakyReluGrad(dy, x, dx, bytes, α): locals 5 i, 6 α splatted, 7 dy, 8 zeros.
const backward: WasmFunction = {
  name: 'leakyReluGrad',
  params: [I32, I32, I32, I32, F32],
  locals: [I32, V128, V128, V128],
  body: seq(
    seq(get(4), op.f32x4Splat, set(6), zeros(8)),
    forLoop(
      5,
      op.i32(0),
      get(3),
      16,
      seq(
        at(2, 5),
        at(0, 5),
        op.v128Load,
        set(7),
        get(7),
        get(7),
        get(6),
        op.f32x4Mul,
        at(1, 5),
        op.v128Load,
        get(8),
        op.f32x4Gt,
        op.v128Bitselect,
        op.v128Store,
      ),
    ),
  ),
};

interface LeakySimd {
  leakyRelu(x: number, y: number, bytes: number, alpha: number): void;
  leakyReluGrad(dy: number, x: number, dx: number, bytes: number, alpha: number): void;
}

const LEAKY_MODULE = [forward, backward];

function simdFor(backend: BackendWasm): LeakySimd | null {
  const memory = backendHeapMemory(backend);
  return memory === null ? null : (exportsOnMemory(LEAKY_MODULE, memory) as LeakySimd | null);
}

/** The scalar loops: the values SIMD does not cover (all of them without SIMD). */
function leakyReluFrom(x: Float32Array, alpha: number, y: Float32Array, from: number): void {
  for (let i = from; i < x.length; i++) y[i] = x[i] < 0 ? Math.fround(alpha * x[i]) : x[i];
}
function leakyReluGradFrom(dy: Float32Array, x: Float32Array, alpha: number, dx: Float32Array, from: number): void {
  for (let i = from; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : Math.fround(alpha * dy[i]);
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function float32(kernel: string, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${kernel}: float32 only, got ${t.dtype}`);
}

function leakyReluWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const alpha = Math.fround((args.attrs as unknown as { alpha: number }).alpha);
  float32(FUSED_LEAKY_RELU, x);
  const y = backend.makeOutput([...x.shape], 'float32');
  const [xs, ys] = [x, y].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const simd = simdFor(backend);
  const n4 = simd === null ? 0 : xs.length - (xs.length % 4);
  if (simd !== null && n4 > 0) simd.leakyRelu(xs.byteOffset, ys.byteOffset, n4 * 4, alpha);
  leakyReluFrom(xs, alpha, ys, n4);
  return y;
}

function leakyReluGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, x } = args.inputs as Record<'dy' | 'x', tf.TensorInfo>;
  const alpha = Math.fround((args.attrs as unknown as { alpha: number }).alpha);
  float32(FUSED_LEAKY_RELU_GRAD, dy, x);
  if (tf.util.sizeFromShape(dy.shape) !== tf.util.sizeFromShape(x.shape))
    throw new Error(`${FUSED_LEAKY_RELU_GRAD}: dy [${dy.shape}] and x [${x.shape}] differ`);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const [dys, xs, dxs] = [dy, x, dx].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
  const simd = simdFor(backend);
  const n4 = simd === null ? 0 : xs.length - (xs.length % 4);
  if (simd !== null && n4 > 0) simd.leakyReluGrad(dys.byteOffset, xs.byteOffset, dxs.byteOffset, n4 * 4, alpha);
  leakyReluGradFrom(dys, xs, alpha, dxs, n4);
  return dx;
}

export const fusedLeakyReluKernelConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_LEAKY_RELU, backendName: 'wasm', kernelFunc: leakyReluWasm },
  { kernelName: FUSED_LEAKY_RELU_GRAD, backendName: 'wasm', kernelFunc: leakyReluGradWasm },
];

const gradConfig: tf.GradConfig = {
  kernelName: FUSED_LEAKY_RELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.engine().runKernel<tf.Tensor>(FUSED_LEAKY_RELU_GRAD, { dy: dy as tf.Tensor, x }, attrs) };
  },
};

/** Register the gradient once (gradients are global; the kernels are the wasm backend's). */
export function registerFusedLeakyReluGradient(): void {
  if (tf.getGradient(FUSED_LEAKY_RELU) === undefined) tf.registerGradient(gradConfig);
}

/** Whether the active backend runs the fused kernels (the wasm engines); elsewhere forward.ts uses tf.leakyRelu. */
export function fusedLeakyReluAvailable(): boolean {
  return tf.getKernel(FUSED_LEAKY_RELU, tf.getBackend()) !== undefined && tf.getGradient(FUSED_LEAKY_RELU) !== undefined;
}

export function fusedLeakyRelu<T extends tf.Tensor>(x: T, alpha: number): T {
  return tf.engine().runKernel<T>(FUSED_LEAKY_RELU, { x }, { alpha });
}
