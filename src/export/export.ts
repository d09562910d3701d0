/**
 * ONNX export of pix2pix networks (and of any conv net described by ConvLayers).
 *
 * Contract of an exported generator: input `input` float32 NCHW [N, C, H, W] in [−1, 1] (RGB),
 * output `output` [N, C', H, W] in [−1, 1]; N, H and W are symbolic (the net is fully
 * convolutional; H and W must be multiples of 2^depth). Everything a reader needs to feed it is
 * in metadata_props (see `generatorMetadata`). A discriminator of several scales has one output per
 * scale: `output` for the first, `output_1`, `output_2`, … for the input downsampled once, twice, ….
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import { type DiscriminatorArch, discriminatorInputChannels, DISCRIMINATOR_KINDS, type GeneratorArch, SCALE_DOWNSAMPLE } from '../nets/arch.ts';
import type { CheckpointModel, LoadedGenerator } from '../train/checkpoint.ts';
import {
  appendSequential,
  appendUNet,
  attrInt,
  attrInts,
  type ConvGraphOptions,
  OnnxGraphBuilder,
  type OnnxNormMode,
  type ParamSource,
} from '../onnx/graph.ts';
import { encodeOnnxModel, type OnnxDim, ONNX_FLOAT } from '../onnx/proto.ts';
import { type Fp16Mode, toFloat16 } from '../onnx/fp16.ts';

export const DEFAULT_OPSET = 17;
const MIN_OPSET = 12;
const MAX_OPSET = 21;

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';

/** Output k of an export: `output`, then `output_1`, `output_2`, … */
function outputName(k: number): string {
  return k === 0 ? OUTPUT_NAME : `${OUTPUT_NAME}_${k}`;
}

/** Metadata keys every pix2pix-ts export carries (the runtime reads them). */
export const META = {
  producer: 'producer',
  version: 'pix2pix_ts_version',
  net: 'net',
  netG: 'netG',
  direction: 'direction',
  norm: 'norm',
  normalization: 'normalization',
  dropout: 'dropout',
  imageSize: 'image_size',
  sizeMultiple: 'size_multiple',
  epoch: 'epoch',
  inputRange: 'input_range',
  layout: 'layout',
  channelOrder: 'channel_order',
  inputChannels: 'input_channels',
  outputChannels: 'output_channels',
  architecture: 'architecture',
  config: 'training_config',
  /** float32 | float16: how the weights are stored in the file. */
  weights: 'weights',
  /** float32 | float16: the precision the graph computes in (see docs/import.md). */
  compute: 'compute',
} as const;

export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The IR version matching an opset (onnx's release table): older runtimes reject a newer IR. */
export function irVersionForOpset(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UserError(`--opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET} (got ${opset}); 17 is the default and is read by onnxruntime ≥ 1.12`);
  }
}

export interface ConvNetSpec {
  /** Adds the network's nodes reading `input`; returns the name of its output, or of each output in order. */
  build(g: OnnxGraphBuilder, input: string, opts: ConvGraphOptions): string | readonly string[];
  inputChannels: number;
  outputChannels: number;
  /** 'same': output H, W equal the input's (generators); 'map': their own symbolic sides (D logits, downsampling nets). */
  outputSpatial: 'same' | 'map';
  metadata: Record<string, string>;
  graphName: string;
  docString?: string;
}

export interface ExportOptions {
  opset?: number;
  /** 'instance' (default): per-image statistics; 'running': running mean/var (PyTorch --eval). */
  norm?: OnnxNormMode;
  /** Keep test-time dropout (the paper's noise; outputs vary per run). Default off. */
  dropout?: boolean;
  /** Seed the test-time dropout masks (with `dropout`), so a run can be repeated. */
  dropoutSeed?: number;
  /** Experimental: ConvTranspose as 2×2 Convs + DepthToSpace. */
  subpixel?: boolean;
  /**
   * float16 file: 'weights' = half-precision weights cast back to float32 at load (every provider
   * computes in float32); 'compute' = a float16 graph between float32 input and output casts.
   */
  fp16?: Fp16Mode;
}

/** The `weights`/`compute` metadata values of an export. */
function precisionMetadata(fp16: Fp16Mode | undefined): Record<string, string> {
  return {
    [META.weights]: fp16 ? 'float16' : 'float32',
    [META.compute]: fp16 === 'compute' ? 'float16' : 'float32',
  };
}

/**
 * The generic building block: any network made of ConvLayers → ONNX bytes with the `input`/`output`
 * contract. A segmenter (a list of ConvLayers plus an output layer) is exported with
 * `exportConvNetOnnx({ build: (g, x, o) => appendSequential(g, [...layers, head], params, x, o), ... })`,
 * or with `appendUNet` if it is a U-Net with a different head.
 */
export function exportConvNetOnnx(spec: ConvNetSpec, options: ExportOptions = {}): Uint8Array {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const opts: ConvGraphOptions = {
    norm: options.norm ?? 'instance',
    dropout: options.dropout ?? false,
    subpixel: options.subpixel ?? false,
    ...(options.dropout && options.dropoutSeed !== undefined ? { dropoutSeed: options.dropoutSeed } : {}),
  };
  const g = new OnnxGraphBuilder();
  g.unique(INPUT_NAME);
  const built = spec.build(g, INPUT_NAME, opts);
  const lasts = typeof built === 'string' ? [built] : built;
  const outputs = lasts.map((_, k) => outputName(k));
  // Name the final tensors `output`, `output_1`, … with Identities so the contract holds whatever the last ops are.
  lasts.forEach((last, k) => g.nodes.push({ opType: 'Identity', input: [last], output: [outputs[k]], name: `${outputs[k]}_identity`, attribute: [] }));
  const outShape = (k: number): OnnxDim[] =>
    spec.outputSpatial === 'same' ? ['N', spec.outputChannels, 'H', 'W'] : ['N', spec.outputChannels, `H_out${k ? `_${k}` : ''}`, `W_out${k ? `_${k}` : ''}`];
  const graph = options.fp16 ? toFloat16(g.nodes, g.initializers, options.fp16, INPUT_NAME, outputs) : g;
  return encodeOnnxModel({
    irVersion: irVersionForOpset(opset),
    opsetVersion: opset,
    producerName: 'pix2pix-ts',
    producerVersion: packageVersion(),
    docString: spec.docString,
    graphName: spec.graphName,
    nodes: graph.nodes,
    initializers: graph.initializers,
    inputs: [{ name: INPUT_NAME, elemType: ONNX_FLOAT, shape: ['N', spec.inputChannels, 'H', 'W'] }],
    outputs: outputs.map((name, k) => ({ name, elemType: ONNX_FLOAT, shape: outShape(k) })),
    metadata: {
      ...spec.metadata,
      [META.normalization]: opts.norm,
      [META.dropout]: opts.dropout
        ? `on (test-time Dropout 0.5 as in the paper${opts.dropoutSeed !== undefined ? `, seed ${opts.dropoutSeed}: a session repeats its masks for the same input order` : ': outputs vary per run'})`
        : 'off',
      ...precisionMetadata(options.fp16),
    },
  });
}

function configString(config: Record<string, unknown>, key: string): string | undefined {
  const v = config[key];
  return v === undefined || v === null ? undefined : String(v);
}

/** Everything in a checkpoint a reader needs to feed the exported network. */
export function modelMetadata(model: CheckpointModel, net: 'G' | 'D'): Record<string, string> {
  const config = model.config ?? {};
  const g = model.generator;
  const meta: Record<string, string> = {
    [META.producer]: 'pix2pix-ts',
    [META.version]: model.version ?? packageVersion(),
    [META.net]: net,
    [META.epoch]: String(model.epoch),
    [META.inputRange]: '[-1,1]',
    [META.layout]: 'NCHW',
    [META.channelOrder]: 'RGB',
    [META.norm]: g.norm,
    [META.netG]: configString(config, 'netG') ?? `${g.kind}_${2 ** g.depth}`,
    [META.sizeMultiple]: String(2 ** g.depth),
    [META.config]: JSON.stringify(config),
  };
  const direction = configString(config, 'direction');
  if (direction) meta[META.direction] = direction;
  const size = configString(config, 'size');
  if (size) meta[META.imageSize] = size;
  return meta;
}

export function generatorSpec(arch: GeneratorArch, params: ParamSource, metadata: Record<string, string>): ConvNetSpec {
  const o = arch.options;
  return {
    build: (g, x, opts) =>
      appendUNet(g, { encoder: arch.encoder, decoder: arch.decoder, skips: o.kind === 'unet', concatOrder: o.concatOrder }, params, x, opts),
    inputChannels: o.inChannels,
    outputChannels: o.outChannels,
    outputSpatial: 'same',
    metadata: {
      ...metadata,
      [META.inputChannels]: String(o.inChannels),
      [META.outputChannels]: String(o.outChannels),
      [META.architecture]: JSON.stringify(o),
    },
    graphName: `pix2pix_G_${o.kind}_${2 ** o.depth}`,
    docString: 'pix2pix generator: input/output float32 NCHW in [-1,1], RGB; H and W multiples of size_multiple.',
  };
}

/** The downsampling between discriminator scales (SCALE_DOWNSAMPLE) as one ONNX AveragePool. */
function appendDownsample(g: OnnxGraphBuilder, x: string, scale: number): string {
  const { kernel, stride, pad } = SCALE_DOWNSAMPLE;
  const attrs = [
    attrInts('kernel_shape', [kernel, kernel]),
    attrInts('strides', [stride, stride]),
    attrInts('pads', [pad, pad, pad, pad]),
    attrInt('count_include_pad', 0),
  ];
  return g.node('AveragePool', [x], attrs, `scale${scale}_input`);
}

/** The nodes of every scale, the downsampling between them; returns each scale's logits. */
function appendScales(g: OnnxGraphBuilder, arch: DiscriminatorArch, params: ParamSource, x: string, opts: ConvGraphOptions): string[] {
  let input = x;
  return arch.scales.map((layers, k) => {
    if (k > 0) input = appendDownsample(g, input, k);
    return appendSequential(g, layers, params, input, opts);
  });
}

export function discriminatorSpec(arch: DiscriminatorArch, params: ParamSource, metadata: Record<string, string>): ConvNetSpec {
  const o = arch.options;
  const inputChannels = discriminatorInputChannels(arch);
  const scales = arch.scales.length;
  return {
    build: (g, x, opts) => appendScales(g, arch, params, x, opts),
    inputChannels,
    outputChannels: 1,
    outputSpatial: 'map',
    metadata: {
      ...metadata,
      [META.inputChannels]: String(inputChannels),
      [META.outputChannels]: '1',
      [META.architecture]: JSON.stringify(o),
      conditional: String(o.conditional),
      output_kind: 'logits',
    },
    graphName: `pix2pix_D_${o.kind}_${o.nLayers}`,
    docString: `pix2pix ${DISCRIMINATOR_KINDS[o.kind].title} discriminator: input ${o.conditional ? 'concat(A, B)' : 'B'} float32 NCHW in [-1,1]; output one logit per patch (no sigmoid)${scales > 1 ? `, one map per scale (output_k: the input average-pooled k times)` : ''}.`,
  };
}

/** Export a checkpoint's generator. */
export function exportGeneratorOnnx(loaded: LoadedGenerator, opts: ExportOptions = {}): Uint8Array {
  return exportConvNetOnnx(generatorSpec(loaded.arch, loaded.params, modelMetadata(loaded.model, 'G')), opts);
}
