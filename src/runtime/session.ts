/**
 * Opening an ONNX image-to-image model with onnxruntime-node: provider choice (providers.ts),
 * threads, graph optimisation, a warm-up run, and what the model expects as input. Works for any
 * pix2pix generator, including PyTorch exports without our metadata.
 */
import * as os from 'node:os';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError, errorMessage } from '../util/errors.ts';
import { readOnnxFileHeader } from './model-file.ts';
import { checkModelPolicy, defaultMaxModelMemory } from './model-policy.ts';
import { sizeMultipleFromGraph } from './model-graph.ts';
import { chooseProvider, type ProviderName, type ProviderProbes, type ProviderRequest, systemProbes } from './providers.ts';

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface OpenSessionOptions {
  provider?: ProviderRequest;
  /** Intra-op threads (default: every core; ONNX conv kernels scale well and inference is the bottleneck). */
  threads?: number;
  /**
   * Let idle intra-op threads spin-wait for the next parallel section (onnxruntime's default). Off
   * (the default here), they sleep, leaving their core to image decoding and encoding between and
   * during runs.
   */
  spinning?: boolean;
  /** Default 'all': constant folding, Conv fusions and the NCHWc layout transform for CPU convs. */
  graphOptimization?: GraphOptimization;
  /**
   * One run on zeros of this batch and side before returning, so the first real batch does not pay
   * for kernel selection and memory-arena growth. Omit to skip.
   */
  warmup?: { batch: number; size: number };
  /** Machine probes (tests inject their own). */
  probes?: ProviderProbes;
  /** Refuse models whose tensors or constant-shaped nodes need more bytes than this (default: defaultMaxModelMemory()). */
  maxModelMemory?: number;
}

/** What the model expects, from its input shape, its metadata, or the pix2pix defaults. */
export interface ModelIO {
  inputChannels: number;
  outputChannels: number;
  /** Square side to feed (static input side, else metadata image_size, else 256). */
  size: number;
  sizeSource: 'input shape' | 'metadata' | 'default';
  /** True when the input's H and W are fixed by the model. */
  staticSize: boolean;
  /** Inputs must be multiples of this (2^depth: from metadata, else from the graph's strides, else 1). */
  sizeMultiple: number;
  sizeMultipleSource: 'metadata' | 'graph' | 'default';
  /** Fixed batch size, if the model has one. */
  fixedBatch?: number;
}

export interface ModelSession {
  session: InferenceSession;
  provider: ProviderName;
  /** Providers `auto` passed over, with why. */
  skippedProviders: string[];
  /** What the provider runs on, when known (webgpu: the adapter's vendor and architecture). */
  device?: string;
  inputName: string;
  outputName: string;
  metadata: Record<string, string>;
  io: ModelIO;
  threads: number;
  /** Run one NCHW float32 batch; returns the output data and dims. */
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
  close(): Promise<void>;
}

const DEFAULT_SIZE = 256;

function dim(shape: readonly (number | string)[] | undefined, i: number): number | undefined {
  const d = shape?.[i];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

export function describeModelIO(
  input: { shape?: readonly (number | string)[] } | undefined,
  output: { shape?: readonly (number | string)[] } | undefined,
  metadata: Record<string, string>,
): ModelIO {
  const h = dim(input?.shape, 2);
  const w = dim(input?.shape, 3);
  const metaSize = Number(metadata.image_size);
  const multiple = Number(metadata.size_multiple);
  let size = DEFAULT_SIZE;
  let sizeSource: ModelIO['sizeSource'] = 'default';
  if (h !== undefined && w !== undefined) {
    size = h;
    sizeSource = 'input shape';
  } else if (Number.isInteger(metaSize) && metaSize > 0) {
    size = metaSize;
    sizeSource = 'metadata';
  }
  return {
    inputChannels: dim(input?.shape, 1) ?? (Number(metadata.input_channels) || 3),
    outputChannels: dim(output?.shape, 1) ?? (Number(metadata.output_channels) || 3),
    size,
    sizeSource,
    staticSize: h !== undefined && w !== undefined,
    sizeMultiple: Number.isInteger(multiple) && multiple > 0 ? multiple : 1,
    sizeMultipleSource: Number.isInteger(multiple) && multiple > 0 ? 'metadata' : 'default',
    fixedBatch: dim(input?.shape, 0),
  };
}

function tensorShape(m: InferenceSession.ValueMetadata | undefined): readonly (number | string)[] | undefined {
  return m && m.isTensor ? m.shape : undefined;
}

function shapeText(shape: readonly (number | string)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' && d < 0 ? '?' : String(d))).join(', ')}]`;
}

/**
 * The model must take one float32 image batch [batch, channels, height, width] and give one back:
 * anything else is refused in the model's own terms (its input's name, its shape, what is fed),
 * before a run would fail with onnxruntime's "Invalid rank for input".
 */
function checkImageModelSignature(
  modelPath: string,
  inputs: readonly InferenceSession.ValueMetadata[],
  outputs: readonly InferenceSession.ValueMetadata[],
): void {
  const fed = 'an image batch as float32 [batch, channels, height, width]';
  if (inputs.length !== 1)
    throw new UserError(
      `model ${modelPath} has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}); image-to-image models take one: ${fed}`,
    );
  const input = inputs[0];
  if (!input.isTensor) throw new UserError(`model ${modelPath}'s input '${input.name}' is not a tensor; it is fed ${fed}`);
  if (input.type !== 'float32') throw new UserError(`model ${modelPath}'s input '${input.name}' is ${input.type}; it is fed ${fed}`);
  if (input.shape.length !== 4)
    throw new UserError(
      `model ${modelPath}'s input '${input.name}' has shape ${shapeText(input.shape)} (rank ${input.shape.length}); it is fed ${fed} (rank 4)`,
    );
  const output = outputs[0];
  if (output?.isTensor && output.shape.length !== 4)
    throw new UserError(
      `model ${modelPath}'s output '${output.name}' has shape ${shapeText(output.shape)} (rank ${output.shape.length}); an image batch (rank 4) is expected`,
    );
}

export async function openSession(modelPath: string, opts: OpenSessionOptions = {}): Promise<ModelSession> {
  const header = await readOnnxFileHeader(modelPath);
  await checkModelPolicy(modelPath, { maxBytes: opts.maxModelMemory ?? defaultMaxModelMemory() });
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    throw new UserError(`cannot load onnxruntime-node (${errorMessage(e).split('\n')[0]}): is it installed? run \`npm ci\``);
  }
  const threads = opts.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new UserError(`--threads must be a positive integer (got ${opts.threads})`);
  const base: InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    // One graph branch at a time: the nets are a chain, and a second pool would only contend for cores.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opts.graphOptimization ?? 'all',
    extra: { session: { intra_op: { allow_spinning: opts.spinning === true ? '1' : '0' } } },
  };
  const choice = await chooseProvider(opts.provider ?? 'auto', opts.probes ?? systemProbes, async (provider) => {
    try {
      return await ort.InferenceSession.create(modelPath, { ...base, executionProviders: [provider] });
    } catch (e) {
      // A model the runtime cannot parse fails on every provider: say so instead of blaming the provider.
      // The CPU provider always exists once the module loaded, so its refusal is the model's problem.
      const msg = errorMessage(e);
      if (provider === 'cpu' || /protobuf|parsing|Load model|INVALID_GRAPH|INVALID_PROTOBUF/i.test(msg))
        throw new UserError(`onnxruntime cannot load model ${modelPath}: ${msg.split('\n')[0].slice(0, 300)}`);
      throw e;
    }
  });
  const session = choice.value;
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!inputName || !outputName) throw new UserError(`model ${modelPath} has no inputs or outputs`);
  try {
    checkImageModelSignature(modelPath, session.inputMetadata, session.outputMetadata);
  } catch (e) {
    await session.release();
    throw e;
  }
  const io = describeModelIO({ shape: tensorShape(session.inputMetadata[0]) }, { shape: tensorShape(session.outputMetadata[0]) }, header.metadata);
  if (io.sizeMultipleSource === 'default' && !io.staticSize) {
    // A foreign export (e.g. PyTorch's) without our metadata: the graph's strides say what it takes.
    const fromGraph = await sizeMultipleFromGraph(modelPath);
    if (fromGraph !== undefined) Object.assign(io, { sizeMultiple: fromGraph, sizeMultipleSource: 'graph' });
  }

  const run = async (data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> => {
    const feeds: Record<string, Tensor> = { [inputName]: new ort.Tensor('float32', data, dims) };
    const out = await session.run(feeds);
    const t = out[outputName];
    return { data: t.data as Float32Array, dims: t.dims };
  };
  const ms: ModelSession = {
    session,
    provider: choice.provider,
    skippedProviders: choice.skipped,
    ...(choice.device ? { device: choice.device } : {}),
    inputName,
    outputName,
    metadata: header.metadata,
    io,
    threads,
    run,
    close: () => session.release(),
  };
  if (opts.warmup) {
    const batch = io.fixedBatch ?? opts.warmup.batch;
    const side = io.staticSize ? io.size : opts.warmup.size;
    await run(new Float32Array(batch * io.inputChannels * side * side), [batch, io.inputChannels, side, side]);
  }
  return ms;
}
