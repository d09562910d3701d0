/**
 * float16 variants of a finished float32 graph (`export --fp16`, `import --fp16`). Two layouts:
 * - 'weights': every float initializer is stored as float16 and a Cast back to float32 follows it.
 *   onnxruntime folds those Casts into float32 constants when the session loads, so every provider
 *   computes in float32: the file is half the size, results differ from float32 only by the weight
 *   rounding.
 * - 'compute': the whole graph is float16 (weights, activations); `input` is cast to float16 on entry
 *   and the result back to float32, so callers still feed and read float32. Providers with float16
 *   kernels (CUDA, WebGPU with shader-f16) compute in half precision.
 */
import { ATTR, type OnnxNode, type OnnxTensor, ONNX_FLOAT } from './proto.ts';
import { UserError } from '../util/errors.ts';

const ONNX_FLOAT16 = 10;

export type Fp16Mode = 'weights' | 'compute';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE 754 half bits, round to nearest even (what numpy's astype(float16) does). */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in, round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
  return sign | (rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half);
}

/** A float32 initializer's raw bytes → float16 raw bytes; refuses values beyond float16's range. */
function float32ToFloat16Bytes(t: OnnxTensor): Uint8Array {
  const src = new Float32Array(t.rawData.slice().buffer);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (Math.abs(v) > 65504) throw new UserError(`--fp16: weight ${t.name} holds ${v}, beyond float16's range (±65504); export in float32`);
    out[i] = floatToHalfBits(v);
  }
  return new Uint8Array(out.buffer);
}

const castTo = (to: number) => [{ name: 'to', type: ATTR.INT, i: to }];

export interface Fp16Graph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
}

/**
 * Rewrite a float32 graph. `input` and the `outputs` keep their names and float32 types; for
 * 'compute' each node producing an output must be an Identity (exportConvNetOnnx's) and becomes a Cast.
 */
export function toFloat16(
  nodes: readonly OnnxNode[],
  initializers: readonly OnnxTensor[],
  mode: Fp16Mode,
  input: string,
  outputs: readonly string[],
): Fp16Graph {
  const halfInits = initializers.map((t) => (t.dataType === ONNX_FLOAT ? { ...t, dataType: ONNX_FLOAT16, rawData: float32ToFloat16Bytes(t) } : t));
  if (mode === 'weights') {
    const casts: OnnxNode[] = [];
    const renamed = halfInits.map((t, i) => {
      if (initializers[i].dataType !== ONNX_FLOAT) return t;
      const stored = `${t.name}_fp16`;
      casts.push({ opType: 'Cast', input: [stored], output: [t.name], name: `${t.name}_cast`, attribute: castTo(ONNX_FLOAT) });
      return { ...t, name: stored };
    });
    return { nodes: [...casts, ...nodes], initializers: renamed };
  }
  const inputHalf = `${input}_fp16`;
  const out: OnnxNode[] = [{ opType: 'Cast', input: [input], output: [inputHalf], name: 'input_cast_fp16', attribute: castTo(ONNX_FLOAT16) }];
  for (const n of nodes) {
    const inputs = n.input.map((x) => (x === input ? inputHalf : x));
    const output = n.output.find((o) => outputs.includes(o));
    if (output !== undefined) {
      if (n.opType !== 'Identity') throw new Error(`fp16: the node producing ${output} must be an Identity, not ${n.opType}`);
      out.push({ ...n, opType: 'Cast', input: inputs, attribute: castTo(ONNX_FLOAT) });
      continue;
    }
    // Ops that create tensors carry their element type as an attribute (test-time dropout's noise).
    const attribute = n.opType === 'RandomUniformLike' ? n.attribute.map((a) => (a.name === 'dtype' ? { ...a, i: ONNX_FLOAT16 } : a)) : n.attribute;
    out.push({ ...n, input: inputs, attribute });
  }
  return { nodes: out, initializers: halfInits };
}
