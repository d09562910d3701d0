/**
 * ONNX graph building for the conv-net descriptors of src/nets/arch.ts. Each ConvLayer becomes
 * the nodes that reproduce forward.ts's `convLayer` exactly (pre-activation → Conv/ConvTranspose with
 * the bias fused → norm → dropout → post-activation), so any network described as ConvLayers (the
 * generators, the discriminators, a segmenter) is exported by the same code.
 *
 * Layout: NCHW throughout, the ONNX convention, so the graph has no Transpose nodes at all.
 */
import { BN_EPSILON, type ConvLayer, LEAKY_SLOPE } from '../nets/arch.ts';
import { ATTR, type OnnxAttribute, type OnnxNode, type OnnxTensor, ONNX_FLOAT } from './proto.ts';

/**
 * How norm layers get their statistics in the exported graph:
 * - 'instance': per image (InstanceNormalization with the learned γ/β): the paper's test-time
 *   semantics at batch 1, and batching never changes a result;
 * - 'running': the training-set running mean/variance (PyTorch `--eval`), folded into the conv weights.
 */
export type OnnxNormMode = 'instance' | 'running';

export interface ConvGraphOptions {
  norm: OnnxNormMode;
  /** Keep Dropout(0.5) in training mode (the paper's test-time noise: outputs vary per run). */
  dropout: boolean;
  /**
   * Seed of the test-time dropout masks (with `dropout`): each dropout node gets its own seed derived
   * from it, so one session draws the same masks for the same sequence of inputs. Unset = unseeded.
   */
  dropoutSeed?: number;
  /** Write each k4 s2 p1 ConvTranspose as four 2×2 Convs + DepthToSpace (same result; experimental). */
  subpixel?: boolean;
}

export type ParamSource = ReadonlyMap<string, Float32Array>;

function f32Bytes(a: Float32Array): Uint8Array {
  // ONNX raw_data is little-endian, as is every platform onnxruntime ships for.
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Collects nodes and initializers with unique names. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  constant(base: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`initializer ${base}: ${data.length} values for dims [${dims}]`);
    const name = this.unique(base);
    this.initializers.push({ name, dims, dataType: ONNX_FLOAT, rawData: f32Bytes(data) });
    return name;
  }

  /** Add a node with one output; returns the output's name. */
  node(opType: string, inputs: string[], attrs: OnnxAttribute[] = [], base?: string): string {
    const out = this.unique(base ?? opType.toLowerCase());
    this.nodes.push({ opType, input: inputs, output: [out], name: `${out}_node`, attribute: attrs });
    return out;
  }
}

export const attrInts = (name: string, ints: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints });
export const attrInt = (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i });
export const attrFloat = (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f });

/**
 * tfjs weight → ONNX weight. conv2d [k,k,in,out] → Conv W [out,in,k,k]; conv2dTranspose [k,k,out,in]
 * → ConvTranspose W [in,out,k,k]. Both are the permutation (3,2,0,1) with no spatial flip: tfjs's
 * transposed conv and ONNX's are both the input-gradient of the same correlation.
 */
export function tfjsToOnnxWeight(w: Float32Array, shape: readonly [number, number, number, number]): Float32Array {
  const [kh, kw, a, b] = shape;
  if (w.length !== kh * kw * a * b) throw new Error(`weight of shape [${shape}] has ${w.length} values`);
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const src = (y * kw + x) * a * b;
      for (let i = 0; i < a; i++) {
        for (let o = 0; o < b; o++) out[((o * a + i) * kh + y) * kw + x] = w[src + i * b + o];
      }
    }
  }
  return out;
}

function need(params: ParamSource, name: string): Float32Array {
  const t = params.get(name);
  if (!t) throw new Error(`export: missing parameter ${name}`);
  return t;
}

function activation(g: OnnxGraphBuilder, x: string, a: ConvLayer['pre'], base: string): string {
  switch (a) {
    case 'none':
      return x;
    case 'leaky':
      return g.node('LeakyRelu', [x], [attrFloat('alpha', LEAKY_SLOPE)], `${base}_leaky`);
    case 'relu':
      return g.node('Relu', [x], [], `${base}_relu`);
    case 'tanh':
      return g.node('Tanh', [x], [], `${base}_tanh`);
  }
}

/**
 * Append one layer; returns the name of its output. In 'running' mode a batch norm is folded into
 * the conv (W·γ/√(σ²+ε), (b−μ)·γ/√(σ²+ε)+β): one node instead of two, and onnxruntime cannot fuse a
 * BatchNormalization into a ConvTranspose by itself.
 */
function appendConvLayer(g: OnnxGraphBuilder, l: ConvLayer, params: ParamSource, input: string, opts: ConvGraphOptions): string {
  const h = activation(g, input, l.pre, l.name);
  const k = l.kernel;
  const tfShape: [number, number, number, number] = l.transposed ? [k, k, l.outChannels, l.inChannels] : [k, k, l.inChannels, l.outChannels];
  const weight = tfjsToOnnxWeight(need(params, `${l.name}.weight`), tfShape);
  const wDims = l.transposed ? [l.inChannels, l.outChannels, k, k] : [l.outChannels, l.inChannels, k, k];
  let bias: Float32Array | undefined = l.bias ? need(params, `${l.name}.bias`).slice() : undefined;

  const foldBatchNorm = l.norm === 'batch' && opts.norm === 'running';
  if (foldBatchNorm) {
    const gamma = need(params, `${l.name}.gamma`);
    const beta = need(params, `${l.name}.beta`);
    const mean = need(params, `${l.name}.running_mean`);
    const variance = need(params, `${l.name}.running_var`);
    const folded = new Float32Array(l.outChannels);
    for (let c = 0; c < l.outChannels; c++) {
      const s = gamma[c] / Math.sqrt(variance[c] + BN_EPSILON);
      folded[c] = ((bias ? bias[c] : 0) - mean[c]) * s + beta[c];
      scaleOutputChannel(weight, wDims, l.transposed, c, s);
    }
    bias = folded;
  }

  let y: string;
  if (l.transposed && opts.subpixel && k === 4 && l.stride === 2 && l.pad === 1) {
    y = appendSubpixelConvTranspose(g, l, h, weight, bias);
  } else {
    const convInputs = [h, g.constant(`${l.name}.W`, wDims, weight)];
    if (bias) convInputs.push(g.constant(`${l.name}.B`, [l.outChannels], bias));
    const convAttrs = [attrInts('kernel_shape', [k, k]), attrInts('strides', [l.stride, l.stride]), attrInts('pads', [l.pad, l.pad, l.pad, l.pad])];
    y = g.node(l.transposed ? 'ConvTranspose' : 'Conv', convInputs, convAttrs, `${l.name}_conv`);
  }

  if (l.norm !== 'none' && !foldBatchNorm) {
    // Instance statistics; γ/β for batch norms, the identity affine for (affine-free) instance norms.
    const scale = l.norm === 'batch' ? need(params, `${l.name}.gamma`) : new Float32Array(l.outChannels).fill(1);
    const shift = l.norm === 'batch' ? need(params, `${l.name}.beta`) : new Float32Array(l.outChannels);
    y = g.node(
      'InstanceNormalization',
      [y, g.constant(`${l.name}.scale`, [l.outChannels], scale), g.constant(`${l.name}.shift`, [l.outChannels], shift)],
      [attrFloat('epsilon', BN_EPSILON)],
      `${l.name}_norm`,
    );
  }
  if (l.dropout && opts.dropout)
    y = appendTestTimeDropout(g, y, l.name, opts.dropoutSeed === undefined ? undefined : dropoutNodeSeed(opts.dropoutSeed, g.nodes.length));
  return activation(g, y, l.post, l.name);
}

/**
 * Inverted Dropout(0.5) that stays on at inference: y = x · floor(u + 0.5) · 2 with u ~ U[0, 1).
 * Built from RandomUniformLike rather than the Dropout op because onnxruntime's graph optimiser
 * removes Dropout nodes even with training_mode = true (measured: outputs were then identical).
 */
function appendTestTimeDropout(g: OnnxGraphBuilder, x: string, base: string, seed?: number): string {
  const attrs = [attrInt('dtype', ONNX_FLOAT), ...(seed === undefined ? [] : [attrFloat('seed', seed)])];
  const u = g.node('RandomUniformLike', [x], attrs, `${base}_dropout_u`);
  const keep = g.node(
    'Floor',
    [g.node('Add', [u, g.constant(`${base}.dropout_half`, [], Float32Array.of(0.5))], [], `${base}_dropout_shift`)],
    [],
    `${base}_dropout_keep`,
  );
  const masked = g.node('Mul', [x, keep], [], `${base}_dropout_masked`);
  return g.node('Mul', [masked, g.constant(`${base}.dropout_scale`, [], Float32Array.of(2))], [], `${base}_dropout`);
}

/** A distinct, exactly representable (float32) seed per dropout node: run seed and node position. */
function dropoutNodeSeed(seed: number, position: number): number {
  return ((Math.abs(Math.trunc(seed)) * 7919 + position) % 16777213) + 1;
}

/**
 * ConvTranspose k4 s2 p1 = four 2×2 convolutions, one per output phase (a, b), interleaved by
 * DepthToSpace: out[2i+a] = x[i−1]·w[3] + x[i]·w[1] (a = 0) and x[i]·w[2] + x[i+1]·w[0] (a = 1).
 */
function appendSubpixelConvTranspose(g: OnnxGraphBuilder, l: ConvLayer, x: string, w: Float32Array, bias: Float32Array | undefined): string {
  const cin = l.inChannels;
  const cout = l.outChannels;
  const taps = [
    [3, 1],
    [2, 0],
  ];
  const phases: string[] = [];
  for (const a of [0, 1]) {
    for (const b of [0, 1]) {
      const kern = new Float32Array(cout * cin * 4);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) {
          for (let jy = 0; jy < 2; jy++) {
            for (let jx = 0; jx < 2; jx++) kern[((o * cin + i) * 2 + jy) * 2 + jx] = w[((i * cout + o) * 4 + taps[a][jy]) * 4 + taps[b][jx]];
          }
        }
      }
      const inputs = [x, g.constant(`${l.name}.W${a}${b}`, [cout, cin, 2, 2], kern)];
      if (bias) inputs.push(g.constant(`${l.name}.B${a}${b}`, [cout], bias));
      const pads = [a === 0 ? 1 : 0, b === 0 ? 1 : 0, a === 0 ? 0 : 1, b === 0 ? 0 : 1];
      phases.push(g.node('Conv', inputs, [attrInts('kernel_shape', [2, 2]), attrInts('strides', [1, 1]), attrInts('pads', pads)], `${l.name}_phase${a}${b}`));
    }
  }
  const stacked = g.node('Concat', phases, [attrInt('axis', 1)], `${l.name}_phases`);
  return g.node(
    'DepthToSpace',
    [stacked],
    [attrInt('blocksize', 2), { name: 'mode', type: ATTR.STRING, s: new TextEncoder().encode('DCR') }],
    `${l.name}_conv`,
  );
}

function scaleOutputChannel(w: Float32Array, dims: number[], transposed: boolean, c: number, s: number): void {
  const [d0, d1, kh, kw] = dims as [number, number, number, number];
  const taps = kh * kw;
  if (transposed) {
    // [in, out, k, k]: output channel is axis 1.
    for (let i = 0; i < d0; i++) {
      const base = (i * d1 + c) * taps;
      for (let t = 0; t < taps; t++) w[base + t] *= s;
    }
  } else {
    const base = c * d1 * taps;
    for (let t = 0; t < d1 * taps; t++) w[base + t] *= s;
  }
}

/** A plain chain of layers (discriminators, segmenter heads). */
export function appendSequential(g: OnnxGraphBuilder, layers: readonly ConvLayer[], params: ParamSource, input: string, opts: ConvGraphOptions): string {
  let h = input;
  for (const l of layers) h = appendConvLayer(g, l, params, h, opts);
  return h;
}

export interface UNetLayout {
  encoder: readonly ConvLayer[];
  decoder: readonly ConvLayer[];
  /** false = encoder–decoder without skips. */
  skips: boolean;
  concatOrder: 'decoder-first' | 'skip-first';
}

/** Encoder then decoder; decoder layer j > 1 reads concat(previous decoder output, mirror encoder output). */
export function appendUNet(g: OnnxGraphBuilder, net: UNetLayout, params: ParamSource, input: string, opts: ConvGraphOptions): string {
  const skips: string[] = [];
  let h = input;
  for (const l of net.encoder) {
    h = appendConvLayer(g, l, params, h, opts);
    skips.push(h);
  }
  net.decoder.forEach((l, j) => {
    if (j > 0 && net.skips) {
      const skip = skips[net.encoder.length - 1 - j];
      h = g.node('Concat', net.concatOrder === 'decoder-first' ? [h, skip] : [skip, h], [attrInt('axis', 1)], `${l.name}_concat`);
    }
    h = appendConvLayer(g, l, params, h, opts);
  });
  return h;
}
