/**
 * Large element-wise kernels of the `ort-cpu` engine on onnxruntime, which runs them on every
 * thread (tfjs-backend-wasm runs them on one). With the matrix products multi-threaded, LeakyRelu
 * and its gradient (Greater + Select + Multiply) were among the largest single-threaded kernels of a
 * 256² step after the convolutions' rearrangements; the two that wasm runs as plain scalar loops
 * move here.
 *
 * Each op is one ONNX node whose semantics match the tfjs kernel value for value (numpy
 * broadcasting, LeakyRelu's x < 0 ? αx : x), so results are the same bits as on the wasm engine.
 * Small tensors stay on the wasm kernel: an onnxruntime call costs tens of microseconds.
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attrFloat } from '../../../onnx/graph.ts';
import type { OnnxAttribute } from '../../../onnx/proto.ts';
import { cachedSession, type KernelDtype, type KernelTensor, type SyncSession } from './session.ts';

/** Outputs smaller than this many values stay on the wasm kernel. */
const MIN_ELEMENTWISE = 1 << 16;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** One tfjs kernel as one ONNX node: its inputs in order, their dtypes, the output dtype. */
interface ElementwiseOp {
  onnx: string;
  inputs: readonly string[];
  inputDtypes: readonly KernelDtype[];
  output: KernelDtype;
  attributes?: (attrs: tf.NamedAttrMap | undefined) => OnnxAttribute[];
}

/**
 * The kernels moved, by tfjs kernel name: only those where onnxruntime measured faster (1M floats,
 * same run, 2-core machine: LeakyRelu 7.4 ms on wasm, 5.4 ms on onnxruntime with 1 thread, 2.1 ms
 * with 2; Greater 8.9 / 0.8 / 0.5 ms). Mul, Add, Sub and Relu stay on wasm: XNNPACK's SIMD loops took
 * 0.5–0.9 ms where onnxruntime took 5–6 ms on one thread and 1.7–2.6 ms on two; Where was about even
 * (6.8 / 6.0 / 5.5 ms).
 */
export const ELEMENTWISE_OPS: Readonly<Record<string, ElementwiseOp>> = {
  LeakyRelu: {
    onnx: 'LeakyRelu',
    inputs: ['x'],
    inputDtypes: ['float32'],
    output: 'float32',
    attributes: (a) => [attrFloat('alpha', (a as unknown as { alpha: number }).alpha)],
  },
  Greater: { onnx: 'Greater', inputs: ['a', 'b'], inputDtypes: ['float32', 'float32'], output: 'bool' },
};

export interface ElementwiseContext {
  threads(): number;
  /** The wasm backend's own kernel, for the cases left to it. */
  fallback(kernel: string, args: KernelArgs): tf.TensorInfo;
  count(key: string): void;
}

function sessionFor(kernel: string, op: ElementwiseOp, ranks: number[], attributes: OnnxAttribute[], outRank: number, threads: number): SyncSession {
  return cachedSession(`${kernel}:${ranks.join(',')}:${JSON.stringify(attributes)}`, threads, () => ({
    nodes: [{ opType: op.onnx, input: [...op.inputs], output: ['y'], name: kernel, attribute: attributes }],
    inputs: op.inputs.map((name, i) => ({ name, shape: Array.from({ length: ranks[i] }, (_, d) => `${name}${d}`), dtype: op.inputDtypes[i] })),
    outputs: [{ name: 'y', shape: Array.from({ length: outRank }, (_, d) => `y${d}`), dtype: op.output }],
  }));
}

function view(backend: BackendWasm, t: tf.TensorInfo): Float32Array | Uint8Array {
  return backend.typedArrayFromHeap(t) as Float32Array | Uint8Array;
}

/** The tfjs kernel function for one op: onnxruntime for large outputs of the expected dtypes, the wasm kernel otherwise. */
export function elementwiseKernel(kernel: string, ctx: ElementwiseContext): (args: KernelArgs) => tf.TensorInfo {
  const op = ELEMENTWISE_OPS[kernel];
  if (op === undefined) throw new Error(`no onnxruntime element-wise op for ${kernel}`);
  return (args) => {
    const backend = args.backend as BackendWasm;
    const ins = op.inputs.map((name) => (args.inputs as Record<string, tf.TensorInfo>)[name]);
    const outShape = ins.map((t) => t.shape).reduce((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t));
    const size = tf.util.sizeFromShape(outShape);
    if (size < MIN_ELEMENTWISE || ins.some((t, i) => t.dtype !== op.inputDtypes[i])) {
      ctx.count(`${kernel}:builtin`);
      return ctx.fallback(kernel, args);
    }
    ctx.count(`${kernel}:ort`);
    const out = backend.makeOutput(outShape, op.output);
    const session = sessionFor(
      kernel,
      op,
      ins.map((t) => t.shape.length),
      op.attributes?.(args.attrs) ?? [],
      outShape.length,
      ctx.threads(),
    );
    // Heap views after the last allocation (growing the heap detaches earlier views).
    const feeds: Record<string, KernelTensor> = Object.fromEntries(
      op.inputs.map((name, i) => [name, { data: view(backend, ins[i]), shape: [...ins[i].shape] }]),
    );
    session.run(feeds, { y: { data: view(backend, out), shape: outShape } });
    return out;
  };
}
