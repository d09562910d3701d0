/**
 * A semantic segmenter used as the FCN-score's judge: an ONNX network plus a sidecar
 * (`seg.onnx.json` / `seg.onnx.yaml` / `.yml`) that says how to feed it and read it:
 *
 *   {
 *     "inputSize": [2048, 1024],        // [width, height] the image is resized to; omit = the label's size
 *     "resize": "pil-bilinear",         // 'pil-bilinear' | 'bilinear' | 'nearest'
 *     "channelOrder": "BGR",            // 'RGB' | 'BGR'
 *     "mean": [72.78044, 83.21195, 73.45286],  // 0–255 scale, in the MODEL's channel order
 *     "std": [1, 1, 1],                 // optional, 0–255 scale, model order; x' = (x − mean) / std
 *     "outputLayout": "NCHW",           // logits [1, C, H, W]
 *     "numClasses": 20,
 *     "classToTrainId": [0, 1, …, 18, 255],   // per output class: its trainId, 255 = not evaluated
 *     "inputName": "data", "outputName": "score"  // optional; default: the model's first input/output
 *   }
 *
 * A sidecar may also say `"preset": "fcn8s-cityscapes"` and override single fields
 * (`"inputSize": null` clears the preset's size, so inputs are resized to each label's size).
 * Pre- and post-processing are pure functions; the network itself is any `SegmenterModel`, so tests
 * and other runtimes can stand in for onnxruntime.
 */
import { promises as fsp } from 'node:fs';
import YAML from 'yaml';
import { UserError, errorMessage } from '../util/errors.ts';
import { exists } from '../util/fs.ts';
import { IGNORE_LABEL, NUM_EVAL_CLASSES } from './confusion.ts';
import { resizeWith, type PixelBuffer, type ResizeFilter } from '../data/resize.ts';

export type ChannelOrder = 'RGB' | 'BGR';
const RESIZE_FILTERS: readonly ResizeFilter[] = ['pil-bilinear', 'bilinear', 'nearest'];

export interface SegmenterSpec {
  /** [width, height] to resize inputs to; undefined = the ground-truth label's size. */
  inputSize?: readonly [number, number];
  resize: ResizeFilter;
  channelOrder: ChannelOrder;
  /** Per channel of the model's input order, 0–255 scale. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  outputLayout: 'NCHW';
  numClasses: number;
  /** Length numClasses; trainId 0..18 or 255. */
  classToTrainId: readonly number[];
  inputName?: string;
  outputName?: string;
}

/** The network: NCHW float input → NCHW logits. */
export type SegmenterModel = (input: Float32Array, dims: number[]) => Promise<{ data: Float32Array; dims: number[] }>;

/**
 * The reference contract of pix2pix/scripts/eval_cityscapes (docs/reference.md#fcn-pipeline): PIL-bilinear resize to
 * 2048×1024, RGB→BGR, subtract (B, G, R) = (72.78044, 83.21195, 73.45286), no scaling, 20 output
 * classes, argmax; classes 0..18 are the trainIds, class 19 (undocumented, presumably void) → 255.
 */
export const FCN8S_CITYSCAPES: SegmenterSpec = Object.freeze({
  inputSize: [2048, 1024] as const,
  resize: 'pil-bilinear' as const,
  channelOrder: 'BGR' as const,
  mean: [72.78044, 83.21195, 73.45286] as const,
  std: [1, 1, 1] as const,
  outputLayout: 'NCHW' as const,
  numClasses: 20,
  classToTrainId: Object.freeze([...Array.from({ length: NUM_EVAL_CLASSES }, (_, i) => i), IGNORE_LABEL]),
});

export const SEGMENTER_PRESETS: Readonly<Record<string, SegmenterSpec>> = Object.freeze({ 'fcn8s-cityscapes': FCN8S_CITYSCAPES });

const KNOWN_KEYS = new Set([
  'info',
  'preset',
  'inputSize',
  'resize',
  'channelOrder',
  'mean',
  'std',
  'outputLayout',
  'numClasses',
  'classToTrainId',
  'inputName',
  'outputName',
]);

function presetNamed(name: unknown, source: string): SegmenterSpec {
  const p = typeof name === 'string' ? SEGMENTER_PRESETS[name] : undefined;
  if (!p) throw new UserError(`${source}: unknown segmenter preset ${JSON.stringify(name)}; known presets: ${Object.keys(SEGMENTER_PRESETS).join(', ')}.`);
  return p;
}

function numberTriple(v: unknown, key: string, source: string, positive: boolean): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
    throw new UserError(`${source}: "${key}" must be a list of 3 ${positive ? 'positive ' : ''}numbers (0–255 scale, in the model's channel order).`);
  }
  return [v[0], v[1], v[2]];
}

/** Validate a parsed sidecar object; `source` names the file in errors. */
export function parseSegmenterSpec(raw: unknown, source: string): SegmenterSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${source}: the segmenter sidecar must be an object of settings.`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KNOWN_KEYS.has(k)) throw new UserError(`${source}: unknown setting "${k}"; known: ${[...KNOWN_KEYS].join(', ')}.`);
  }
  const base: Partial<SegmenterSpec> = o.preset !== undefined ? presetNamed(o.preset, source) : {};
  const pick = <K extends keyof SegmenterSpec>(k: K): unknown => (o[k] !== undefined ? o[k] : base[k]);

  let inputSize: [number, number] | undefined;
  const size = pick('inputSize');
  if (size !== undefined && size !== null) {
    if (!Array.isArray(size) || size.length !== 2 || !size.every((x) => Number.isInteger(x) && x > 0)) {
      throw new UserError(`${source}: "inputSize" must be [width, height] in pixels (positive integers), or omitted to use each label's size.`);
    }
    inputSize = [size[0], size[1]];
  }
  const resize = pick('resize') ?? 'pil-bilinear';
  if (!RESIZE_FILTERS.includes(resize as ResizeFilter)) {
    throw new UserError(`${source}: "resize" must be one of ${RESIZE_FILTERS.join(', ')}, got ${JSON.stringify(resize)}.`);
  }
  const channelOrder = pick('channelOrder') ?? 'RGB';
  if (channelOrder !== 'RGB' && channelOrder !== 'BGR')
    throw new UserError(`${source}: "channelOrder" must be "RGB" or "BGR", got ${JSON.stringify(channelOrder)}.`);
  const mean = numberTriple(pick('mean') ?? [0, 0, 0], 'mean', source, false);
  const std = numberTriple(pick('std') ?? [1, 1, 1], 'std', source, true);
  const outputLayout = pick('outputLayout') ?? 'NCHW';
  if (outputLayout !== 'NCHW')
    throw new UserError(`${source}: "outputLayout" must be "NCHW" (logits [1, classes, height, width]); other layouts are not supported.`);
  const numClasses = pick('numClasses');
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1)
    throw new UserError(`${source}: "numClasses" must be a positive integer (the number of output channels).`);
  const n = numClasses as number;
  const map = pick('classToTrainId');
  if (!Array.isArray(map) || map.length !== n) {
    throw new UserError(`${source}: "classToTrainId" must list one trainId per output class (${n} entries), 255 for classes that are not evaluated.`);
  }
  for (const [i, t] of map.entries()) {
    if (!Number.isInteger(t) || (((t as number) < 0 || (t as number) >= NUM_EVAL_CLASSES) && t !== IGNORE_LABEL)) {
      throw new UserError(`${source}: classToTrainId[${i}] = ${JSON.stringify(t)} is not a trainId (0-${NUM_EVAL_CLASSES - 1}) or ${IGNORE_LABEL}.`);
    }
  }
  const names: Pick<SegmenterSpec, 'inputName' | 'outputName'> = {};
  for (const k of ['inputName', 'outputName'] as const) {
    const v = pick(k);
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new UserError(`${source}: "${k}" must be a tensor name (a non-empty string).`);
    names[k] = v;
  }
  return {
    ...(inputSize ? { inputSize } : {}),
    resize: resize as ResizeFilter,
    channelOrder,
    mean,
    std,
    outputLayout,
    numClasses: n,
    classToTrainId: map as number[],
    ...names,
  };
}

/** Sidecar candidates of a model file, in the order they are looked for. */
function sidecarPaths(modelPath: string): string[] {
  return [`${modelPath}.json`, `${modelPath}.yaml`, `${modelPath}.yml`];
}

/**
 * The spec of `modelPath`: the named preset if given, else the sidecar next to the model.
 * With both, the sidecar is ignored (the preset is the whole contract).
 */
export async function loadSegmenterSpec(modelPath: string, preset?: string): Promise<SegmenterSpec> {
  if (preset !== undefined) return presetNamed(preset, '--preset');
  for (const p of sidecarPaths(modelPath)) {
    if (!(await exists(p))) continue;
    let text: string;
    try {
      text = await fsp.readFile(p, 'utf8');
    } catch (e) {
      throw new UserError(`Cannot read segmenter sidecar ${p}: ${errorMessage(e)}`);
    }
    let raw: unknown;
    try {
      raw = p.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    } catch (e) {
      throw new UserError(`${p}: not valid ${p.endsWith('.json') ? 'JSON' : 'YAML'} (${errorMessage(e).split('\n')[0]}).`);
    }
    return parseSegmenterSpec(raw, p);
  }
  throw new UserError(
    `No segmenter sidecar for ${modelPath}: write ${modelPath}.json (input size, resize, channel order, mean/std, classes) or pass --preset ${Object.keys(SEGMENTER_PRESETS).join('|')}.`,
  );
}

/**
 * Image → the network's input blob [1, 3, H, W]: resize to the spec's (or the given) size with its
 * filter on uint8 (as PIL does before the reference casts to float), reorder channels, then
 * (x − mean) / std in float32 as the reference's numpy float32 arithmetic.
 */
export function preprocessForSegmenter(
  img: PixelBuffer,
  spec: SegmenterSpec,
  targetSize: readonly [number, number] | undefined = spec.inputSize,
): { data: Float32Array; dims: [number, number, number, number] } {
  const [w, h] = targetSize ?? [img.width, img.height];
  const resized = w === img.width && h === img.height ? img : resizeWith(spec.resize, img, w, h, 3);
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  const src = resized.data;
  // Model channel k reads image channel order[k].
  const order = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let k = 0; k < 3; k++) {
    const from = order[k];
    const mean = Math.fround(spec.mean[k]);
    const std = Math.fround(spec.std[k]);
    const o = k * plane;
    if (std === 1) {
      for (let i = 0; i < plane; i++) out[o + i] = src[i * 3 + from] - mean;
    } else {
      for (let i = 0; i < plane; i++) out[o + i] = Math.fround(src[i * 3 + from] - mean) / std;
    }
  }
  return { data: out, dims: [1, 3, h, w] };
}

/**
 * Logits [1, C, H, W] → one trainId per pixel: argmax over C (first maximum wins, as numpy's
 * argmax), then classToTrainId. `source` names the model in errors.
 */
export function logitsToTrainIds(
  logits: Float32Array,
  dims: readonly number[],
  spec: Pick<SegmenterSpec, 'numClasses' | 'classToTrainId'>,
  source = 'segmenter',
): { width: number; height: number; data: Uint8Array } {
  if (dims.length !== 4 || dims[0] !== 1) {
    throw new UserError(`${source}: output has shape [${dims.join(', ')}]; expected NCHW logits [1, ${spec.numClasses}, height, width].`);
  }
  const [, c, h, w] = dims as [number, number, number, number];
  if (c !== spec.numClasses) {
    throw new UserError(`${source}: output has ${c} classes but the segmenter spec says numClasses = ${spec.numClasses}; fix the sidecar or the preset.`);
  }
  const plane = h * w;
  if (logits.length !== c * plane) throw new Error(`logitsToTrainIds: ${logits.length} values do not fill [${dims.join(', ')}]`);
  const best = logits.slice(0, plane);
  const arg = new Uint8Array(plane);
  for (let k = 1; k < c; k++) {
    const o = k * plane;
    for (let i = 0; i < plane; i++) {
      const v = logits[o + i];
      if (v > best[i]) {
        best[i] = v;
        arg[i] = k;
      }
    }
  }
  const lut = Uint8Array.from(spec.classToTrainId);
  for (let i = 0; i < plane; i++) arg[i] = lut[arg[i]];
  return { width: w, height: h, data: arg };
}

/** Run one image through preprocessing, the model and postprocessing. */
export async function segmentImage(
  img: PixelBuffer,
  model: SegmenterModel,
  spec: SegmenterSpec,
  targetSize?: readonly [number, number],
  source = 'segmenter',
): Promise<{ width: number; height: number; data: Uint8Array }> {
  const input = preprocessForSegmenter(img, spec, targetSize ?? spec.inputSize);
  const out = await model(input.data, input.dims);
  return logitsToTrainIds(out.data, out.dims, spec, source);
}

/**
 * A segmenter ONNX opened through the runtime module (so it follows the same execution-provider
 * policy as `infer`) as a SegmenterModel.
 */
export async function runSegmenterOnnx(
  modelPath: string,
  spec: Pick<SegmenterSpec, 'inputName' | 'outputName'>,
  opts: { provider?: import('../runtime/providers.ts').ProviderRequest } = {},
): Promise<{ model: SegmenterModel; release: () => Promise<void> }> {
  if (!(await exists(modelPath))) throw new UserError(`Segmenter model ${modelPath} not found; pass --segmenter PATH.onnx.`);
  const { openSession } = await import('../runtime/session.ts');
  let opened: Awaited<ReturnType<typeof openSession>>;
  try {
    opened = await openSession(modelPath, { provider: opts.provider ?? 'auto' });
  } catch (e) {
    throw new UserError(`Cannot load segmenter ${modelPath}: ${errorMessage(e).split('\n')[0]}`);
  }
  const session = opened.session;
  const inputName = spec.inputName ?? session.inputNames[0];
  const outputName = spec.outputName ?? session.outputNames[0];
  if (!inputName || !session.inputNames.includes(inputName)) {
    throw new UserError(`${modelPath}: no input named ${JSON.stringify(inputName)}; the model's inputs are ${session.inputNames.join(', ')}.`);
  }
  if (!outputName || !session.outputNames.includes(outputName)) {
    throw new UserError(`${modelPath}: no output named ${JSON.stringify(outputName)}; the model's outputs are ${session.outputNames.join(', ')}.`);
  }
  const ort = await import('onnxruntime-node');
  const model: SegmenterModel = async (input, dims) => {
    let result;
    try {
      result = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) }, [outputName]);
    } catch (e) {
      throw new UserError(`${modelPath}: inference failed for input [${dims.join(', ')}]: ${errorMessage(e).split('\n')[0]}`);
    }
    const t = result[outputName];
    if (t.type !== 'float32') throw new UserError(`${modelPath}: output ${outputName} is ${t.type}; expected float32 logits.`);
    return { data: t.data as Float32Array, dims: t.dims.map(Number) };
  };
  return { model, release: () => opened.close() };
}
