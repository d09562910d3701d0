/**
 * Check an exported ONNX network against the tfjs forward pass (the training semantics) on the same
 * inputs: onnxruntime-node runs the file, forward.ts runs the checkpoint's weights.
 */
import type * as tfTypes from '../train/tfjs.ts';
import type { InferenceSession } from 'onnxruntime-node';
import { type DiscriminatorArch, type GeneratorArch, paramSpecs } from '../nets/arch.ts';
import type { NormStats } from '../train/nets/forward.ts';
import { Rng } from '../util/rng.ts';
import type { OnnxNormMode, ParamSource } from '../onnx/graph.ts';

/** The agreement an export must reach (float32 round-off over ~16 layers stays far below it). */
const VERIFY_TOLERANCE = 1e-4;

/** One batch of NCHW float32 images with a label saying where they came from. */
export interface VerifyInput {
  label: string;
  data: Float32Array;
  dims: [number, number, number, number];
}

export interface VerifyCase {
  label: string;
  maxAbsError: number;
}

export interface VerifyResult {
  cases: VerifyCase[];
  maxAbsError: number;
  tolerance: number;
  ok: boolean;
  /** The tfjs backend the reference ran on. */
  backend: string;
}

export type VerifiableNet = { arch: GeneratorArch; params: ParamSource } | { arch: DiscriminatorArch; params: ParamSource };

/** `count` images of uniform noise in [−1, 1], NCHW. */
export function randomInputs(count: number, channels: number, size: number, seed: number, label = 'random'): VerifyInput {
  const data = new Rng(seed).uniformSigned(count * channels * size * size);
  return { label: `${label} ${count}×${channels}×${size}×${size}`, data, dims: [count, channels, size, size] };
}

export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

/** tfjs forward of `net` on NCHW input: each output (a discriminator's: one per scale) as NCHW. */
export async function tfjsReference(net: VerifiableNet, input: VerifyInput, norm: OnnxNormMode): Promise<Float32Array[]> {
  const tf: typeof tfTypes = await import('../train/tfjs.ts');
  const { generatorForward, discriminatorForward } = await import('../train/nets/forward.ts');
  const normStats: NormStats = norm === 'running' ? 'running' : 'instance';
  const tensors = new Map<string, tfTypes.Tensor>();
  try {
    for (const p of paramSpecs(net.arch)) {
      const v = net.params.get(p.name);
      if (!v) throw new Error(`missing parameter ${p.name}`);
      tensors.set(p.name, tf.tensor(v, p.shape as number[]));
    }
    const outs = tf.tidy(() => {
      const x = tf.transpose<tfTypes.Tensor4D>(tf.tensor4d(input.data, input.dims), [0, 2, 3, 1]);
      const ys =
        net.arch.type === 'generator'
          ? [generatorForward(net.arch, tensors, x, { normStats, dropout: false })]
          : discriminatorForward(net.arch, tensors, x, { normStats, dropout: false });
      return ys.map((y) => tf.transpose(y, [0, 3, 1, 2]));
    });
    try {
      return await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
    } finally {
      tf.dispose(outs);
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Every output of the session, in the file's order. */
async function onnxOutputs(session: InferenceSession, input: VerifyInput): Promise<Float32Array[]> {
  const ort = await import('onnxruntime-node');
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
  const out = await session.run(feeds);
  return session.outputNames.map((name) => out[name].data as Float32Array);
}

/** Largest |a − b| over lists of outputs; infinite when the lists differ in length (an output missing). */
function maxAbsDifferenceOfAll(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  return a.reduce((m, x, i) => Math.max(m, maxAbsDifference(x, b[i])), 0);
}

/**
 * Run `onnx` (the file's bytes, exported without dropout) and the tfjs forward on every input and
 * report the largest absolute difference per input, over every output.
 */
export async function verifyOnnxAgainstTfjs(
  onnx: Uint8Array,
  net: VerifiableNet,
  inputs: VerifyInput[],
  norm: OnnxNormMode,
  tolerance = VERIFY_TOLERANCE,
): Promise<VerifyResult> {
  const ort = await import('onnxruntime-node');
  const tf: typeof tfTypes = await import('../train/tfjs.ts');
  const session = await ort.InferenceSession.create(onnx, { graphOptimizationLevel: 'all' });
  const cases: VerifyCase[] = [];
  try {
    for (const input of inputs) {
      const got = await onnxOutputs(session, input);
      const want = await tfjsReference(net, input, norm);
      cases.push({ label: input.label, maxAbsError: maxAbsDifferenceOfAll(got, want) });
    }
  } finally {
    await session.release();
  }
  const maxAbsError = cases.reduce((m, c) => Math.max(m, c.maxAbsError), 0);
  return { cases, maxAbsError, tolerance, ok: maxAbsError <= tolerance, backend: tf.getBackend() };
}

/**
 * How far a float16 export may drift from its float32 twin: 2 of 255 grey levels once [−1, 1] is
 * mapped to [0, 255], i.e. 2/127.5 in output units.
 */
export const FP16_TOLERANCE = 2 / 127.5;

/** Largest |a − b| between two ONNX files' outputs over `inputs` (onnxruntime-node, CPU). */
export async function maxOnnxDifference(a: Uint8Array, b: Uint8Array, inputs: VerifyInput[]): Promise<number> {
  const ort = await import('onnxruntime-node');
  const sa = await ort.InferenceSession.create(a, { graphOptimizationLevel: 'all' });
  const sb = await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all' });
  let m = 0;
  try {
    for (const input of inputs) m = Math.max(m, maxAbsDifferenceOfAll(await onnxOutputs(sa, input), await onnxOutputs(sb, input)));
  } finally {
    await sa.release();
    await sb.release();
  }
  return m;
}
