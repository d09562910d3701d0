/**
 * Synchronous onnxruntime (CPU execution provider) sessions for use inside tfjs kernels.
 *
 * tfjs kernels are synchronous, and onnxruntime-node's public `InferenceSession.run` is async only
 * because it wraps the native call in `setImmediate`; the native binding underneath
 * (`onnxruntime-node/dist/binding.js`, typed by its `binding.d.ts`) runs synchronously. We call it
 * directly. Inputs are passed as typed-array views (the binding reads them in place) and outputs
 * are pre-allocated views that the binding writes in place, so a tensor on the wasm heap goes in
 * and comes out without a copy.
 */
import { createRequire } from 'node:module';
import type { Tensor as OrtTensor, TensorConstructor } from 'onnxruntime-common';
import { encodeOnnxModel, ONNX_BOOL, ONNX_FLOAT, type OnnxDim, type OnnxNode, type OnnxTensor } from '../../../onnx/proto.ts';

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: Record<string, unknown>): Record<string, OrtTensor>;
  dispose(): void;
}

interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

let native: { binding: NativeBinding; Tensor: TensorConstructor } | undefined;

/** Load onnxruntime-node's native binding (throws with the reason when it is not installed or not loadable). */
function loadNativeOrt(): { binding: NativeBinding; Tensor: TensorConstructor } {
  if (native) return native;
  const require = createRequire(import.meta.url);
  const binding = require('onnxruntime-node/dist/binding.js') as NativeBinding;
  const { Tensor } = require('onnxruntime-common') as { Tensor: TensorConstructor };
  binding.initOrt();
  native = { binding, Tensor };
  return native;
}

/** Element types a kernel session exchanges: float32 tensors, and bool masks (one byte per value, as on the wasm heap). */
export type KernelDtype = 'float32' | 'bool';

export interface GraphSpec {
  nodes: OnnxNode[];
  initializers?: OnnxTensor[];
  inputs: { name: string; shape: OnnxDim[]; dtype?: KernelDtype }[];
  outputs: { name: string; shape: OnnxDim[]; dtype?: KernelDtype }[];
}

/** A typed-array view passed to or filled by a kernel session. */
export interface KernelTensor {
  data: Float32Array | Uint8Array;
  shape: number[];
}

const ELEM_TYPE: Record<KernelDtype, number> = { float32: ONNX_FLOAT, bool: ONNX_BOOL };

/** One compiled graph; `run` is synchronous and writes into the given output arrays. */
export class SyncSession {
  private readonly session: NativeSession;

  constructor(spec: GraphSpec, threads: number) {
    const { binding } = loadNativeOrt();
    const bytes = encodeOnnxModel({
      irVersion: 8,
      opsetVersion: 17,
      producerName: 'pix2pix-ts',
      producerVersion: '0',
      graphName: 'kernel',
      nodes: spec.nodes,
      initializers: spec.initializers ?? [],
      inputs: spec.inputs.map((v) => ({ name: v.name, shape: v.shape, elemType: ELEM_TYPE[v.dtype ?? 'float32'] })),
      outputs: spec.outputs.map((v) => ({ name: v.name, shape: v.shape, elemType: ELEM_TYPE[v.dtype ?? 'float32'] })),
      metadata: {},
    });
    this.session = new binding.binding.InferenceSession();
    this.session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Without spinning the pool's threads sleep between calls instead of competing with the
      // single-threaded tfjs kernels that run in between.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  }

  run(inputs: Record<string, KernelTensor>, outputs: Record<string, KernelTensor>): void {
    const { Tensor } = loadNativeOrt();
    const wrap = (m: Record<string, KernelTensor>): Record<string, OrtTensor> =>
      Object.fromEntries(
        Object.entries(m).map(([k, v]) => [k, v.data instanceof Float32Array ? new Tensor('float32', v.data, v.shape) : new Tensor('bool', v.data, v.shape)]),
      );
    this.session.run(wrap(inputs), wrap(outputs), {});
  }

  dispose(): void {
    this.session.dispose();
  }
}

const cache = new Map<string, { threads: number; session: SyncSession }>();

/**
 * The session for `key` with `threads` intra-op threads, built once from `spec` (every kernel graph
 * has dynamic dimensions, so one session serves all shapes). A different thread count rebuilds it.
 */
export function cachedSession(key: string, threads: number, spec: () => GraphSpec): SyncSession {
  const hit = cache.get(key);
  if (hit && hit.threads === threads) return hit.session;
  hit?.session.dispose();
  const session = new SyncSession(spec(), threads);
  cache.set(key, { threads, session });
  return session;
}
