/**
 * Caffe net (net.ts) + its weights (caffemodel.ts) → an ONNX graph with dynamic height and width.
 * Each supported layer maps to ONNX operators with Caffe's semantics:
 *
 * - Convolution → Conv (pad, stride, dilation, group, bias on/off). Caffe's weight blob is
 *   [out, in/group, kh, kw], ONNX's layout too, so weights are copied byte for byte.
 * - Deconvolution → ConvTranspose; Caffe's blob [in, out/group, kh, kw] is ONNX's layout as well,
 *   and both give out = stride·(in − 1) + dilation·(k − 1) + 1 − 2·pad.
 * - Pooling MAX/AVE → MaxPool/AveragePool with ceil_mode (Caffe rounds up unless round_mode: FLOOR)
 *   and count_include_pad for AVE (Caffe divides by the window clipped to the padded input);
 *   global_pooling → GlobalMaxPool/GlobalAveragePool.
 * - Crop → Slice whose ends come from the reference blob's runtime shape (so H/W stay dynamic).
 * - ReLU (negative_slope → LeakyRelu), Eltwise SUM (with coeff)/PROD/MAX, Softmax (axis), Concat
 *   (axis / concat_dim), Split (aliases), Dropout (identity at test time: Caffe scales while training).
 *
 * Anything else fails with one line naming the layer and its type.
 */
import { UserError } from '../../util/errors.ts';
import { attrFloat, attrInt, attrInts, OnnxGraphBuilder } from '../../onnx/graph.ts';
import { ONNX_FLOAT, ONNX_INT64, type OnnxModel, type OnnxValueInfo } from '../../onnx/proto.ts';
import type { StreamedTensor } from '../../onnx/stream.ts';
import type { CaffeBlob, CaffeModel } from './caffemodel.ts';
import type { CaffeLayerDef, CaffeNetDef } from './net.ts';
import { bool, child, num, numbers, str, type TextMessage } from './prototxt.ts';

const IMPORT_OPSET = 17;

const SUPPORTED_LAYER_TYPES: readonly string[] = [
  'Input',
  'Convolution',
  'Deconvolution',
  'ReLU',
  'Pooling',
  'Crop',
  'Eltwise',
  'Dropout',
  'Softmax',
  'Concat',
  'Split',
];

export interface ConvertedNet {
  model: OnnxModel;
  tensors: StreamedTensor[];
  inputName: string;
  outputName: string;
  /** Channels of the output blob (e.g. 20 classes for the Cityscapes FCN-8s), when known. */
  outputChannels: number | undefined;
  layersConverted: number;
  weightBytes: number;
}

interface Blob {
  onnx: string;
  channels: number | undefined;
}

/** Geometry of a conv/deconv/pool: [h, w] pairs from the repeated or the _h/_w fields. */
function pair(p: TextMessage | undefined, key: string, dflt: number, where: string): [number, number] {
  const h = num(p, `${key}_h`, NaN, where);
  const w = num(p, `${key}_w`, NaN, where);
  if (!Number.isNaN(h) || !Number.isNaN(w)) return [Number.isNaN(h) ? dflt : h, Number.isNaN(w) ? dflt : w];
  const vs = numbers(p, key, where);
  if (vs.length === 0) return [dflt, dflt];
  return [vs[0], vs[1] ?? vs[0]];
}

class Converter {
  readonly g = new OnnxGraphBuilder();
  readonly tensors: StreamedTensor[] = [];
  readonly blobs = new Map<string, Blob>();
  /** Blobs read by a later layer (to find the net's outputs: produced, never consumed). */
  private readonly consumed = new Map<string, boolean>();
  private readonly order: string[] = [];
  weightBytes = 0;

  constructor(
    private readonly weights: CaffeModel,
    private readonly prototxt: string,
  ) {}

  where(l: CaffeLayerDef): string {
    return `${this.prototxt}: layer "${l.name}" (${l.type})`;
  }

  input(l: CaffeLayerDef, i = 0): Blob {
    const name = l.bottoms[i];
    const b = name === undefined ? undefined : this.blobs.get(name);
    if (!b) throw new UserError(`${this.where(l)}: bottom ${JSON.stringify(name)} is not produced by any earlier layer`);
    this.consumed.set(name, true);
    return b;
  }

  output(l: CaffeLayerDef, b: Blob, i = 0): void {
    const top = l.tops[i];
    if (top === undefined) throw new UserError(`${this.where(l)}: has no top`);
    this.blobs.set(top, b);
    this.consumed.set(top, false);
    this.order.push(top);
  }

  outputs(): string[] {
    const seen = new Set<string>();
    return this.order.filter((t) => this.consumed.get(t) === false && !seen.has(t) && seen.add(t));
  }

  weight(l: CaffeLayerDef, blob: CaffeBlob, dims: number[], suffix: string): string {
    const n = dims.reduce((a, d) => a * d, 1);
    if (n !== blob.count)
      throw new UserError(`${this.where(l)}: its ${suffix} blob has shape [${blob.shape.join(', ')}] but the prototxt needs ${n} values [${dims.join(', ')}]`);
    const name = this.g.unique(`${l.name}.${suffix}`);
    const source: StreamedTensor['source'] =
      blob.data.kind === 'file'
        ? { kind: 'file', file: this.weights.file, offset: blob.data.offset, bytes: blob.data.bytes }
        : { kind: 'bytes', data: new Uint8Array(blob.data.data.buffer, blob.data.data.byteOffset, blob.data.data.byteLength) };
    this.tensors.push({ name, dims, dataType: ONNX_FLOAT, source });
    this.weightBytes += n * 4;
    return name;
  }

  int64(base: string, values: number[]): string {
    const name = this.g.unique(base);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.g.initializers.push({ name, dims: [values.length], dataType: ONNX_INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  blobsOf(l: CaffeLayerDef, need: number): CaffeBlob[] {
    const m = this.weights.layers.get(l.name);
    if (!m) throw new UserError(`${this.where(l)}: the caffemodel has no weights for this layer; is it the caffemodel of this prototxt?`);
    if (m.blobs.length < need) throw new UserError(`${this.where(l)}: the caffemodel holds ${m.blobs.length} blob(s) for it, ${need} needed`);
    return m.blobs;
  }

  conv(l: CaffeLayerDef, transposed: boolean): void {
    const where = this.where(l);
    const p = child(l.msg, 'convolution_param');
    const numOutput = num(p, 'num_output', NaN, where);
    if (!Number.isInteger(numOutput) || numOutput < 1) throw new UserError(`${where}: convolution_param.num_output is missing`);
    const [kh, kw] = pair(p, 'kernel', NaN, where);
    const k = numbers(p, 'kernel_size', where);
    const kernel: [number, number] = Number.isNaN(kh) ? [k[0], k[1] ?? k[0]] : [kh, kw];
    if (!kernel.every((x) => Number.isInteger(x) && x > 0)) throw new UserError(`${where}: kernel_size (or kernel_h/kernel_w) is missing`);
    const pad = pair(p, 'pad', 0, where);
    const stride = pair(p, 'stride', 1, where);
    const dil = numbers(p, 'dilation', where);
    const dilation: [number, number] = dil.length ? [dil[0], dil[1] ?? dil[0]] : [1, 1];
    const group = num(p, 'group', 1, where);
    const bias = bool(p, 'bias_term', true);
    const x = this.input(l);
    const blobs = this.blobsOf(l, bias ? 2 : 1);
    const w = blobs[0];
    // Input channels per group from the blob (the prototxt does not say them).
    const perGroup = w.shape.length === 4 ? w.shape[1] : w.count / ((transposed ? 1 : numOutput) * kernel[0] * kernel[1]);
    const dims = transposed
      ? [w.count / (perGroup * kernel[0] * kernel[1]), numOutput / group, kernel[0], kernel[1]]
      : [numOutput, perGroup, kernel[0], kernel[1]];
    if (transposed && perGroup * group !== numOutput)
      throw new UserError(`${where}: weight blob [${w.shape.join(', ')}] does not give num_output ${numOutput} with group ${group}`);
    const inputs = [x.onnx, this.weight(l, w, dims, 'weight')];
    if (bias) inputs.push(this.weight(l, blobs[1], [numOutput], 'bias'));
    const attrs = [
      attrInts('kernel_shape', kernel),
      attrInts('strides', stride),
      attrInts('pads', [pad[0], pad[1], pad[0], pad[1]]),
      attrInts('dilations', dilation),
      attrInt('group', group),
    ];
    this.output(l, { onnx: this.g.node(transposed ? 'ConvTranspose' : 'Conv', inputs, attrs, l.name), channels: numOutput });
  }

  pool(l: CaffeLayerDef): void {
    const where = this.where(l);
    const p = child(l.msg, 'pooling_param');
    const method = str(p, 'pool') ?? 'MAX';
    if (method !== 'MAX' && method !== 'AVE') throw new UserError(`${where}: pooling method ${method} is not supported (MAX and AVE are)`);
    const x = this.input(l);
    if (bool(p, 'global_pooling', false)) {
      this.output(l, { onnx: this.g.node(method === 'MAX' ? 'GlobalMaxPool' : 'GlobalAveragePool', [x.onnx], [], l.name), channels: x.channels });
      return;
    }
    const kernel = pair(p, 'kernel', NaN, where);
    const ks = num(p, 'kernel_size', NaN, where);
    const k: [number, number] = Number.isNaN(kernel[0]) ? [ks, ks] : kernel;
    if (!k.every((v) => Number.isInteger(v) && v > 0)) throw new UserError(`${where}: kernel_size (or kernel_h/kernel_w) is missing`);
    const pad = pair(p, 'pad', 0, where);
    const stride = pair(p, 'stride', 1, where);
    const ceil = (str(p, 'round_mode') ?? 'CEIL') === 'CEIL' ? 1 : 0;
    const attrs = [attrInts('kernel_shape', k), attrInts('strides', stride), attrInts('pads', [pad[0], pad[1], pad[0], pad[1]]), attrInt('ceil_mode', ceil)];
    if (method === 'AVE') attrs.push(attrInt('count_include_pad', 1));
    this.output(l, { onnx: this.g.node(method === 'MAX' ? 'MaxPool' : 'AveragePool', [x.onnx], attrs, l.name), channels: x.channels });
  }

  crop(l: CaffeLayerDef): void {
    const where = this.where(l);
    const p = child(l.msg, 'crop_param');
    const x = this.input(l, 0);
    const ref = this.input(l, 1);
    const rank = 4;
    let axis = num(p, 'axis', 2, where);
    if (axis < 0) axis += rank;
    const offs = numbers(p, 'offset', where);
    const n = rank - axis;
    if (offs.length > 1 && offs.length !== n)
      throw new UserError(`${where}: crop_param has ${offs.length} offsets for ${n} cropped axes; give one, or one per axis`);
    const offsets = Array.from({ length: n }, (_, i) => (offs.length === 0 ? 0 : offs.length === 1 ? offs[0] : offs[i]));
    const refShape = this.g.node('Shape', [ref.onnx], [attrInt('start', axis)], `${l.name}_ref_shape`);
    const starts = this.int64(`${l.name}.starts`, offsets);
    const ends = this.g.node('Add', [refShape, starts], [], `${l.name}_ends`);
    const axes = this.int64(
      `${l.name}.axes`,
      Array.from({ length: n }, (_, i) => axis + i),
    );
    const channels = axis <= 1 ? ref.channels : x.channels;
    this.output(l, { onnx: this.g.node('Slice', [x.onnx, starts, ends, axes], [], l.name), channels });
  }

  eltwise(l: CaffeLayerDef): void {
    const where = this.where(l);
    const p = child(l.msg, 'eltwise_param');
    const op = str(p, 'operation') ?? 'SUM';
    const xs = l.bottoms.map((_, i) => this.input(l, i));
    const coeff = numbers(p, 'coeff', where);
    if (coeff.length && (op !== 'SUM' || coeff.length !== xs.length)) throw new UserError(`${where}: coeff needs operation SUM and one value per bottom`);
    let names = xs.map((b) => b.onnx);
    if (coeff.length && coeff.some((c) => c !== 1)) {
      names = names.map((nm, i) => this.g.node('Mul', [nm, this.g.constant(`${l.name}.coeff${i}`, [], Float32Array.of(coeff[i]))], [], `${l.name}_scaled${i}`));
    }
    const onnxOp = op === 'SUM' ? 'Sum' : op === 'PROD' ? 'Mul' : op === 'MAX' ? 'Max' : undefined;
    if (!onnxOp) throw new UserError(`${where}: Eltwise operation ${op} is not supported (SUM, PROD, MAX are)`);
    let y: string;
    if (onnxOp === 'Mul') {
      y = names[0];
      for (let i = 1; i < names.length; i++) y = this.g.node('Mul', [y, names[i]], [], i === names.length - 1 ? l.name : `${l.name}_part${i}`);
    } else y = this.g.node(onnxOp, names, [], l.name);
    this.output(l, { onnx: y, channels: xs[0].channels });
  }

  layer(l: CaffeLayerDef): void {
    const where = this.where(l);
    switch (l.type) {
      case 'Convolution':
        return this.conv(l, false);
      case 'Deconvolution':
        return this.conv(l, true);
      case 'Pooling':
        return this.pool(l);
      case 'Crop':
        return this.crop(l);
      case 'Eltwise':
        return this.eltwise(l);
      case 'ReLU': {
        const x = this.input(l);
        const slope = num(child(l.msg, 'relu_param'), 'negative_slope', 0, where);
        const y = slope === 0 ? this.g.node('Relu', [x.onnx], [], l.name) : this.g.node('LeakyRelu', [x.onnx], [attrFloat('alpha', slope)], l.name);
        return this.output(l, { onnx: y, channels: x.channels });
      }
      case 'Dropout':
        return this.output(l, this.input(l));
      case 'Split': {
        const x = this.input(l);
        l.tops.forEach((_, i) => this.output(l, x, i));
        return;
      }
      case 'Softmax': {
        const x = this.input(l);
        const axis = num(child(l.msg, 'softmax_param'), 'axis', 1, where);
        return this.output(l, { onnx: this.g.node('Softmax', [x.onnx], [attrInt('axis', axis)], l.name), channels: x.channels });
      }
      case 'Concat': {
        const p = child(l.msg, 'concat_param');
        const axis = num(p, 'axis', num(p, 'concat_dim', 1, where), where);
        const xs = l.bottoms.map((_, i) => this.input(l, i));
        const channels = axis === 1 && xs.every((b) => b.channels !== undefined) ? xs.reduce((s, b) => s + b.channels!, 0) : undefined;
        return this.output(l, {
          onnx: this.g.node(
            'Concat',
            xs.map((b) => b.onnx),
            [attrInt('axis', axis)],
            l.name,
          ),
          channels,
        });
      }
      default:
        throw new UserError(`${where}: not supported by import-caffe (supported layer types: ${SUPPORTED_LAYER_TYPES.join(', ')})`);
    }
  }
}

/** Convert; `prototxt` names the net file in errors. */
export function convertCaffeNet(net: CaffeNetDef, weights: CaffeModel, prototxt: string, producerVersion: string): ConvertedNet {
  const c = new Converter(weights, prototxt);
  if (net.inputs.length !== 1) throw new UserError(`${prototxt}: the net has ${net.inputs.length} inputs; import-caffe converts single-input nets`);
  const input = net.inputs[0];
  if (input.shape.length !== 4)
    throw new UserError(`${prototxt}: input "${input.name}" has shape [${input.shape.join(', ')}]; an image net's input is 4-D (N, C, H, W)`);
  const inputName = input.name;
  c.g.unique(inputName);
  c.blobs.set(inputName, { onnx: inputName, channels: input.shape[1] });
  for (const l of net.layers) c.layer(l);
  const outs = c.outputs();
  if (outs.length === 0) throw new UserError(`${prototxt}: the net has no output blob`);
  const outputName = outs[outs.length - 1];
  const out = c.blobs.get(outputName)!;
  // Graph output names are the Caffe blob names (`score` for FCN-8s): alias the last node's output.
  const nodes = c.g.nodes;
  const producer = nodes.find((n) => n.output[0] === out.onnx);
  if (out.onnx !== outputName) {
    if (producer && !c.g.nodes.some((n) => n.input.includes(out.onnx)) && !nodes.some((n) => n.output[0] === outputName)) producer.output[0] = outputName;
    else c.g.nodes.push({ opType: 'Identity', input: [out.onnx], output: [outputName], name: `${outputName}_output`, attribute: [] });
  }
  const inputs: OnnxValueInfo[] = [{ name: inputName, elemType: ONNX_FLOAT, shape: ['batch', input.shape[1], 'height', 'width'] }];
  const outputs: OnnxValueInfo[] = [{ name: outputName, elemType: ONNX_FLOAT, shape: ['batch', out.channels ?? 'channels', 'out_height', 'out_width'] }];
  const model: OnnxModel = {
    irVersion: 8,
    opsetVersion: IMPORT_OPSET,
    producerName: 'pix2pix-ts import-caffe',
    producerVersion,
    docString: `Converted from the Caffe net "${net.name}" (${net.format} format prototxt, ${weights.format} caffemodel).`,
    graphName: net.name,
    nodes: c.g.nodes,
    initializers: [],
    inputs,
    outputs,
    metadata: { source: 'caffe', caffe_net: net.name },
  };
  // Small constants (int64 crop offsets, coefficients) made by the builder travel as in-memory tensors.
  const small: StreamedTensor[] = c.g.initializers.map((t) => ({
    name: t.name,
    dims: t.dims,
    dataType: t.dataType,
    source: { kind: 'bytes', data: t.rawData },
  }));
  return {
    model,
    tensors: [...small, ...c.tensors],
    inputName,
    outputName,
    outputChannels: out.channels,
    layersConverted: net.layers.length,
    weightBytes: c.weightBytes,
  };
}
