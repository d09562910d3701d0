/**
 * Pure descriptions of the pix2pix networks (docs/reference.md#generator). Nothing here touches tfjs: the same
 * descriptors drive the tfjs forward pass (train), the ONNX graph (export), the parameter/MAC
 * counts and the receptive-field report (cli, eval).
 */
import { UserError } from '../util/errors.ts';

export type Norm = 'batch' | 'instance' | 'none';
export type Activation = 'none' | 'leaky' | 'relu' | 'tanh';

export interface ConvLayer {
  /** e1…eN / d1…dN for generators, c1…cN for discriminators. */
  readonly name: string;
  readonly transposed: boolean;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly pad: number;
  readonly bias: boolean;
  /** Applied to the layer's input (the reference code's pre-activation ordering, docs/reference.md#generator). */
  readonly pre: Activation;
  readonly norm: Norm;
  /** Dropout(0.5) after the norm. */
  readonly dropout: boolean;
  /** Applied to the layer's output (Tanh on the last generator layer, LeakyReLU in discriminators). */
  readonly post: Activation;
}

/** Slope of every LeakyReLU in pix2pix (docs/reference.md#generator). */
export const LEAKY_SLOPE = 0.2;
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

export type GeneratorKind = 'unet' | 'encoder_decoder';
/** Where dropout goes: the paper/Lua code (d1–d3) or the PyTorch repo (d2…d(depth−4)), docs/reference.md#dropout. */
export type DropoutPlacement = 'paper' | 'pytorch' | 'none';
/** Skip concatenation order (matters only for weight layout): Lua/TF put decoder channels first, PyTorch skip first. */
export type ConcatOrder = 'decoder-first' | 'skip-first';
/** Bias rule: PyTorch (bias only where no affine norm follows, plus the output layers) or every conv (Lua/TF tensors). */
export type BiasRule = 'pytorch' | 'all';

export interface GeneratorOptions {
  kind: GeneratorKind;
  /** Number of stride-2 levels; input sides must be multiples of 2^depth (unet_256 → 8, unet_128 → 7). */
  depth: number;
  ngf: number;
  inChannels: number;
  outChannels: number;
  norm: Exclude<Norm, 'none'>;
  dropout: DropoutPlacement;
  concatOrder: ConcatOrder;
  bias: BiasRule;
  /** Tanh for image generators; none for logits (the segmenter reuses the U-Net with 19 outputs). */
  outputActivation?: 'tanh' | 'none';
}

export interface GeneratorArch {
  readonly type: 'generator';
  readonly options: GeneratorOptions;
  readonly encoder: readonly ConvLayer[];
  readonly decoder: readonly ConvLayer[];
}

/**
 * The discriminator kinds; DISCRIMINATOR_KINDS below says how each one builds its layers. Checkpoints
 * written before kinds existed store only `nLayers` (0 was the PixelGAN): `discriminatorArch` reads them.
 */
export type DiscriminatorKind = 'patch' | 'pixel' | 'multiscale';

export interface DiscriminatorOptions {
  kind: DiscriminatorKind;
  /** PatchGAN: stride-2 convs (3 = the 70×70 default); 0 for the PixelGAN, which has none. */
  nLayers: number;
  ndf: number;
  /** Conditional D sees concat(A, B); unconditional sees B only (the "GAN" rows of Table 1). */
  conditional: boolean;
  inChannels: number;
  outChannels: number;
  norm: Exclude<Norm, 'none'>;
  bias: BiasRule;
  /** Multi-scale PatchGAN: how many scales (pix2pixHD's num_D, 2 when not given); other kinds have none. */
  numD?: number;
}

/**
 * A discriminator is one conv stack per scale: scale k runs on the input downsampled k times by
 * SCALE_DOWNSAMPLE and gives its own logit map. The PatchGAN and the PixelGAN have one scale;
 * pix2pixHD's multi-scale discriminator runs the same kind of stack at several.
 */
export interface DiscriminatorArch {
  readonly type: 'discriminator';
  readonly options: DiscriminatorOptions;
  readonly scales: readonly (readonly ConvLayer[])[];
}

/**
 * The downsampling between scales, pix2pixHD's `AvgPool2d(3, stride=2, padding=[1, 1],
 * count_include_pad=False)`: each output is the mean of the input pixels under its 3×3 window,
 * padding not counted.
 */
export const SCALE_DOWNSAMPLE = { kernel: 3, stride: 2, pad: 1 } as const;

export type NetworkArch = GeneratorArch | DiscriminatorArch;

export const GENERATOR_DEFAULTS: Omit<GeneratorOptions, 'depth'> = {
  kind: 'unet',
  ngf: 64,
  inChannels: 3,
  outChannels: 3,
  norm: 'batch',
  dropout: 'paper',
  concatOrder: 'decoder-first',
  bias: 'pytorch',
};

/** Channel multiplier min(2^i, 8) used by both networks. */
function mult(i: number): number {
  return Math.min(2 ** i, 8);
}

function conv(l: Partial<ConvLayer> & Pick<ConvLayer, 'name' | 'inChannels' | 'outChannels'>): ConvLayer {
  return { transposed: false, kernel: 4, stride: 2, pad: 1, bias: false, pre: 'none', norm: 'none', dropout: false, post: 'none', ...l };
}

function droppedDecoderLayers(placement: DropoutPlacement, depth: number): Set<number> {
  if (placement === 'none') return new Set();
  if (placement === 'paper') return new Set([1, 2, 3].filter((i) => i <= depth - 1));
  // PyTorch: the (depth − 5) intermediate ngf·8 blocks, i.e. d2 … d(depth−4).
  const s = new Set<number>();
  for (let i = 2; i <= depth - 4; i++) s.add(i);
  return s;
}

/** U-Net or encoder–decoder generator (docs/reference.md#generator). */
export function generatorArch(opts: Partial<GeneratorOptions> & { depth: number }): GeneratorArch {
  const o: GeneratorOptions = { ...GENERATOR_DEFAULTS, ...opts };
  if (!Number.isInteger(o.depth) || o.depth < 2 || o.depth > 10) {
    throw new UserError(`generator depth must be an integer in 2..10 (got ${o.depth})`);
  }
  if (!Number.isInteger(o.ngf) || o.ngf < 1) throw new UserError(`ngf must be a positive integer (got ${o.ngf})`);
  const affine = o.norm === 'batch';
  const innerBias = o.bias === 'all' || !affine;
  const ch = (i: number): number => o.ngf * mult(i); // channels of encoder level i (0-based)
  const encoder: ConvLayer[] = [];
  for (let i = 0; i < o.depth; i++) {
    const first = i === 0;
    const innermost = i === o.depth - 1;
    const bias = o.bias === 'all' || !affine; // PyTorch: every downconv has bias=use_bias, even e1 and e8
    encoder.push(
      conv({
        name: `e${i + 1}`,
        inChannels: first ? o.inChannels : ch(i - 1),
        outChannels: ch(i),
        pre: first ? 'none' : 'leaky',
        norm: first || innermost ? 'none' : o.norm,
        bias,
      }),
    );
  }
  const dropped = droppedDecoderLayers(o.dropout, o.depth);
  const decoder: ConvLayer[] = [];
  const skips = o.kind === 'unet';
  for (let j = 1; j <= o.depth; j++) {
    // d_j mirrors encoder level (depth − j): it outputs that level's input channel count.
    const mirror = o.depth - j; // 0-based encoder index
    const outermost = j === o.depth;
    // The layer below (e_depth for d1, d_{j-1} otherwise) and the skip tensor e_{depth−j+1} both carry ch(mirror) channels.
    const below = ch(mirror);
    const inChannels = j === 1 || !skips ? below : below * 2;
    const outChannels = outermost ? o.outChannels : ch(mirror - 1);
    decoder.push(
      conv({
        name: `d${j}`,
        transposed: true,
        inChannels,
        outChannels,
        pre: 'relu',
        norm: outermost ? 'none' : o.norm,
        dropout: !outermost && dropped.has(j),
        bias: outermost || innerBias,
        post: outermost ? (o.outputActivation ?? 'tanh') : 'none',
      }),
    );
  }
  return { type: 'generator', options: o, encoder, decoder };
}

export const DISCRIMINATOR_DEFAULTS: DiscriminatorOptions = {
  kind: 'patch',
  nLayers: 3,
  ndf: 64,
  conditional: true,
  inChannels: 3,
  outChannels: 3,
  norm: 'batch',
  bias: 'pytorch',
};

/**
 * What a discriminator kind is: its name in logs and tables, and the conv stacks it builds, one per
 * scale. The forward pass (train/nets/forward.ts), the losses, the ONNX export (export/export.ts), the
 * parameter and MAC counts and the receptive-field table all read those stacks, so a kind needs
 * nothing more than an entry here (docs/extending.md, "Add a discriminator").
 */
export interface DiscriminatorKindSpec {
  /** The paper's name (PatchGAN, PixelGAN). */
  readonly title: string;
  /** The `--net-d` choices that select this kind. */
  readonly netD: readonly string[];
  /** Depths this kind accepts as `nLayers`. */
  readonly depths: { readonly min: number; readonly max: number };
  /** The conv stack of each scale for options `o` (one for most kinds); first layers take `input` channels. */
  scales(o: DiscriminatorOptions, input: number): ConvLayer[][];
}

/** A kind of one scale, from the builder of its conv stack. */
function oneScale(layers: (o: DiscriminatorOptions, input: number) => ConvLayer[]): DiscriminatorKindSpec['scales'] {
  return (o, input) => [layers(o, input)];
}

/** PatchGAN: n stride-2 4×4 convs, one stride-1 conv, then a 1-channel stride-1 conv. */
function patchGanLayers(o: DiscriminatorOptions, input: number): ConvLayer[] {
  const midBias = o.bias === 'all' || o.norm !== 'batch';
  const layers: ConvLayer[] = [conv({ name: 'c1', inChannels: input, outChannels: o.ndf, bias: true, post: 'leaky' })];
  for (let n = 1; n < o.nLayers; n++) {
    layers.push(conv({ name: `c${n + 1}`, inChannels: o.ndf * mult(n - 1), outChannels: o.ndf * mult(n), norm: o.norm, bias: midBias, post: 'leaky' }));
  }
  const n = o.nLayers;
  layers.push(
    conv({ name: `c${n + 1}`, stride: 1, inChannels: o.ndf * mult(n - 1), outChannels: o.ndf * mult(n), norm: o.norm, bias: midBias, post: 'leaky' }),
  );
  layers.push(conv({ name: `c${n + 2}`, stride: 1, inChannels: o.ndf * mult(n), outChannels: 1, bias: true }));
  return layers;
}

/** PixelGAN (the PyTorch repo's PixelDiscriminator): three 1×1 convs, one logit per pixel. */
function pixelGanLayers(o: DiscriminatorOptions, input: number): ConvLayer[] {
  const midBias = o.bias === 'all' || o.norm !== 'batch';
  const k1 = { kernel: 1, stride: 1, pad: 0 };
  return [
    conv({ name: 'c1', ...k1, inChannels: input, outChannels: o.ndf, bias: true, post: 'leaky' }),
    conv({ name: 'c2', ...k1, inChannels: o.ndf, outChannels: o.ndf * 2, norm: o.norm, bias: midBias, post: 'leaky' }),
    conv({ name: 'c3', ...k1, inChannels: o.ndf * 2, outChannels: 1, bias: midBias }),
  ];
}

/**
 * pix2pixHD's multi-scale discriminator: the PatchGAN's stack at 2 or 3 scales, each with weights of
 * its own; the layers of scale k ≥ 1 are named `scale<k>.c1`, `scale<k>.c2`, ….
 */
function multiScaleLayers(o: DiscriminatorOptions, input: number): ConvLayer[][] {
  const count = o.numD ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > 3) throw new UserError(`a multi-scale PatchGAN has 2 or 3 scales (got ${count})`);
  return Array.from({ length: count }, (_, k) => patchGanLayers(o, input).map((l) => (k === 0 ? l : { ...l, name: `scale${k}.${l.name}` })));
}

/** Every discriminator kind. Adding one: an entry here, its name in DiscriminatorKind and NET_D_CHOICES. */
export const DISCRIMINATOR_KINDS: Readonly<Record<DiscriminatorKind, DiscriminatorKindSpec>> = {
  patch: { title: 'PatchGAN', netD: ['basic', 'n_layers'], depths: { min: 1, max: 8 }, scales: oneScale(patchGanLayers) },
  pixel: { title: 'PixelGAN', netD: ['pixel'], depths: { min: 0, max: 0 }, scales: oneScale(pixelGanLayers) },
  multiscale: { title: 'multi-scale PatchGAN', netD: ['multiscale'], depths: { min: 1, max: 8 }, scales: multiScaleLayers },
};

/** The kind of stored options that may predate kinds (nLayers 0 was the PixelGAN). */
function kindOf(opts: Partial<DiscriminatorOptions>): DiscriminatorKind {
  return opts.kind ?? (opts.nLayers === 0 ? 'pixel' : 'patch');
}

/** A discriminator of any kind. Output: one logit per patch (no sigmoid). */
export function discriminatorArch(opts: Partial<DiscriminatorOptions> = {}): DiscriminatorArch {
  const kind = kindOf(opts);
  const spec = DISCRIMINATOR_KINDS[kind];
  if (!spec) throw new UserError(`unknown discriminator kind '${kind}': use ${Object.keys(DISCRIMINATOR_KINDS).join(' or ')}`);
  const { min, max } = spec.depths;
  const o: DiscriminatorOptions = { ...DISCRIMINATOR_DEFAULTS, nLayers: min === max ? min : DISCRIMINATOR_DEFAULTS.nLayers, ...opts, kind };
  if (!Number.isInteger(o.nLayers) || o.nLayers < min || o.nLayers > max) {
    throw new UserError(
      min === max ? `a ${spec.title} has n_layers_D ${min} (got ${o.nLayers})` : `a ${spec.title} needs n_layers_D in ${min}..${max} (got ${o.nLayers})`,
    );
  }
  const input = o.conditional ? o.inChannels + o.outChannels : o.outChannels;
  const scales = spec.scales(o, input);
  const names = scales.flat().map((l) => l.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  // Layer names are parameter names (checkpoints, ONNX initializers): a kind must keep them unique.
  if (repeated !== undefined) throw new Error(`discriminator kind '${kind}' names two layers ${repeated}`);
  return { type: 'discriminator', options: o, scales };
}

/** Every layer of a discriminator, scale after scale (what owns its parameters). */
export function discriminatorLayers(arch: DiscriminatorArch): ConvLayer[] {
  return arch.scales.flat();
}

/** Channels of the discriminator's input (every scale sees the same image, downsampled). */
export function discriminatorInputChannels(arch: DiscriminatorArch): number {
  return arch.scales[0][0].inChannels;
}

/** `PatchGAN n_layers 3` / `PixelGAN`, then `, 2 scales` for several: how logs and tables name a discriminator. */
export function discriminatorLabel(arch: Pick<DiscriminatorArch, 'options' | 'scales'>): string {
  const o = arch.options;
  const spec = DISCRIMINATOR_KINDS[o.kind];
  const name = spec.depths.min === spec.depths.max ? spec.title : `${spec.title} n_layers ${o.nLayers}`;
  return arch.scales.length > 1 ? `${name}, ${arch.scales.length} scales` : name;
}

/** Every kind and depth, shallowest first: what the receptive-field table lists and `--rf` chooses from. */
export function discriminatorShapes(): Pick<DiscriminatorOptions, 'kind' | 'nLayers'>[] {
  return (Object.entries(DISCRIMINATOR_KINDS) as [DiscriminatorKind, DiscriminatorKindSpec][])
    .flatMap(([kind, s]) => Array.from({ length: s.depths.max - s.depths.min + 1 }, (_, i) => ({ kind, nLayers: s.depths.min + i })))
    .sort((a, b) => a.nLayers - b.nLayers);
}

/**
 * Receptive field of a stack of convolutions, computed backwards from one output unit:
 * r ← (r − 1)·stride + kernel, starting at r = 1 (docs/reference.md#discriminator; padding does not change it).
 */
export function receptiveField(layers: readonly Pick<ConvLayer, 'kernel' | 'stride'>[]): number {
  let r = 1;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    r = (r - 1) * l.stride + l.kernel;
  }
  return r;
}

/**
 * Receptive field of each scale in input pixels: the downsamplings before a scale count as 3×3
 * stride-2 layers, so they are the input pixels that can change one of its logits (padding aside).
 */
export function scaleReceptiveFields(arch: Pick<DiscriminatorArch, 'scales'>): number[] {
  return arch.scales.map((layers, k) => receptiveField([...Array.from({ length: k }, () => SCALE_DOWNSAMPLE), ...layers]));
}

/** The discriminator's receptive field: its largest over the scales (the only one for one-scale kinds). */
export function discriminatorReceptiveField(arch: Pick<DiscriminatorArch, 'scales'>): number {
  return Math.max(...scaleReceptiveFields(arch));
}

/**
 * The one-scale discriminator whose receptive field is `receptiveField` (1 = PixelGAN; PatchGANs 16,
 * 34, 70, 142, 286, 574, …). Kinds of several scales have several receptive fields and are chosen by name.
 */
export function patchDiscriminator(opts: Partial<DiscriminatorOptions> & { receptiveField: number }): DiscriminatorArch {
  const { receptiveField: rf, ...rest } = opts;
  const known: number[] = [];
  for (const shape of discriminatorShapes()) {
    const arch = discriminatorArch({ ...rest, ...shape });
    if (arch.scales.length > 1) continue;
    const r = discriminatorReceptiveField(arch);
    known.push(r);
    if (r === rf) return arch;
  }
  throw new UserError(`no PatchGAN has a ${rf}×${rf} receptive field; choose one of ${known.join(', ')}`);
}

/** Output side of one conv layer for input side `h` (docs/reference.md#counts). */
export function convOutputSide(l: Pick<ConvLayer, 'kernel' | 'stride' | 'pad' | 'transposed'>, h: number): number {
  return l.transposed ? (h - 1) * l.stride - 2 * l.pad + l.kernel : Math.floor((h + 2 * l.pad - l.kernel) / l.stride) + 1;
}

/** Side of the input each scale sees for a square input of side `size` (downsampled k times at scale k). */
export function scaleInputSides(arch: Pick<DiscriminatorArch, 'scales'>, size: number): number[] {
  const sides: number[] = [];
  for (let k = 0, h = size; k < arch.scales.length; k++, h = convOutputSide({ ...SCALE_DOWNSAMPLE, transposed: false }, h)) sides.push(h);
  return sides;
}

/**
 * Side of each scale's logit map for a square input of side `size`, 0 where a scale's layers leave
 * nothing (a net too deep for the image).
 */
export function scaleOutputSides(arch: Pick<DiscriminatorArch, 'scales'>, size: number): number[] {
  const inputs = scaleInputSides(arch, size);
  return arch.scales.map((layers, k) => layers.reduce((h, l) => (h >= 1 ? Math.max(0, convOutputSide(l, h)) : 0), inputs[k]));
}

/** Side of the discriminator's (first scale's) logit map for a square input of side `size`; throws if any scale is too deep. */
export function discriminatorOutputSide(arch: DiscriminatorArch, size: number): number {
  const inputs = scaleInputSides(arch, size);
  arch.scales.forEach((layers, k) => {
    let h = inputs[k];
    for (const l of layers) {
      h = convOutputSide(l, h);
      if (h < 1) {
        const rf = scaleReceptiveFields(arch)[k];
        const where = arch.scales.length > 1 ? `its scale ${k} (${inputs[k]}×${inputs[k]})` : 'its';
        throw new UserError(
          `a ${rf}×${rf} discriminator (n_layers_D ${arch.options.nLayers}) is too deep for ${size}×${size} images: ${where} layer ${l.name} would have no output; use larger images or a smaller receptive field`,
        );
      }
    }
  });
  return scaleOutputSides(arch, size)[0];
}

/** Check that a generator accepts a square input of side `size`. */
export function assertGeneratorInput(arch: GeneratorArch, size: number): void {
  const m = 2 ** arch.options.depth;
  if (!Number.isInteger(size) || size < m || size % m !== 0) {
    throw new UserError(`a depth-${arch.options.depth} generator needs image sides that are multiples of ${m}; got ${size}`);
  }
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: 'weight' | 'bias' | 'gamma' | 'beta' | 'running_mean' | 'running_var';
  readonly trainable: boolean;
}

function layersOf(arch: NetworkArch): readonly ConvLayer[] {
  return arch.type === 'generator' ? [...arch.encoder, ...arch.decoder] : discriminatorLayers(arch);
}

/**
 * Every tensor a network owns, in a fixed order. Weight layouts are tfjs's: conv [k,k,in,out],
 * transposed conv [k,k,out,in] (what tf.conv2dTranspose takes).
 */
export function paramSpecs(arch: NetworkArch): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const l of layersOf(arch)) {
    const k = l.kernel;
    out.push({
      name: `${l.name}.weight`,
      shape: l.transposed ? [k, k, l.outChannels, l.inChannels] : [k, k, l.inChannels, l.outChannels],
      role: 'weight',
      trainable: true,
    });
    if (l.bias) out.push({ name: `${l.name}.bias`, shape: [l.outChannels], role: 'bias', trainable: true });
    if (l.norm === 'batch') {
      out.push({ name: `${l.name}.gamma`, shape: [l.outChannels], role: 'gamma', trainable: true });
      out.push({ name: `${l.name}.beta`, shape: [l.outChannels], role: 'beta', trainable: true });
      out.push({ name: `${l.name}.running_mean`, shape: [l.outChannels], role: 'running_mean', trainable: false });
      out.push({ name: `${l.name}.running_var`, shape: [l.outChannels], role: 'running_var', trainable: false });
    }
  }
  return out;
}

export function countParams(arch: NetworkArch): number {
  return paramSpecs(arch)
    .filter((p) => p.trainable)
    .reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Multiply–accumulates of a plain stack of convolutions on a square input of side `size`. */
function stackMacs(layers: readonly ConvLayer[], size: number): number {
  let macs = 0;
  let h = size;
  for (const l of layers) {
    const o = convOutputSide(l, h);
    macs += l.outChannels * o * o * l.inChannels * l.kernel * l.kernel;
    h = o;
  }
  return macs;
}

/**
 * Dense multiply–accumulates for a square input of side `size` (docs/reference.md#counts); a
 * discriminator's are summed over its scales (the downsampling between them has no multiplies).
 */
export function countMacs(arch: NetworkArch, size: number): number {
  if (arch.type === 'discriminator') {
    const sides = scaleInputSides(arch, size);
    return arch.scales.reduce((sum, layers, k) => sum + stackMacs(layers, sides[k]), 0);
  }
  let macs = 0;
  let h = size;
  for (const l of arch.encoder) {
    const o = convOutputSide(l, h);
    macs += l.outChannels * o * o * l.inChannels * l.kernel * l.kernel;
    h = o;
  }
  for (const l of arch.decoder) {
    macs += l.inChannels * h * h * l.outChannels * l.kernel * l.kernel; // transposed: counted by input size
    h = convOutputSide(l, h);
  }
  return macs;
}

/** Parse a PyTorch-style `--netG` name: `unet_256` → U-Net of depth 8; `encoder_decoder_256` likewise. */
export function parseNetG(name: string): { kind: GeneratorKind; depth: number } {
  const m = /^(unet|encoder_decoder)_(\d+)$/.exec(name);
  const side = m ? Number(m[2]) : Number.NaN;
  const depth = Math.log2(side);
  if (!m || !Number.isInteger(depth) || depth < 2 || depth > 10) {
    throw new UserError(`unknown --netG '${name}': use unet_N or encoder_decoder_N with N a power of two from 4 to 1024 (e.g. unet_256, unet_128, unet_64)`);
  }
  return { kind: m[1] as GeneratorKind, depth };
}

/**
 * The number of scales, kept only for the multi-scale PatchGAN (2, pix2pixHD's default, when not
 * given); `numD` alone selects it, as `nLayersD` alone selects n_layers. `train` and `eval rf` share
 * the rule; `name` spells an option as the user gave it (a flag, a YAML key).
 */
export function multiScaleSetting(input: { netD?: string; rf?: number; numD?: number }, name: (key: string) => string): { numD?: number } {
  const multi = input.netD === 'multiscale' || (input.netD === undefined && input.rf === undefined && input.numD !== undefined);
  if (!multi) {
    if (input.numD === undefined) return {};
    const other = input.rf !== undefined ? `${name('rf')} (one scale)` : `${name('netD')} ${input.netD}`;
    throw new UserError(`${name('numD')} is the number of scales of ${name('netD')} multiscale, not of ${other}: drop one of them`);
  }
  if (input.rf !== undefined) throw new UserError(`${name('rf')} chooses a one-scale discriminator; ${name('netD')} multiscale takes ${name('nLayersD')}`);
  return { numD: input.numD ?? 2 };
}

/** Parse `--netD basic|pixel|n_layers` (+ `--n_layers_D`) or `--rf N` into a discriminator kind and depth. */
export function resolveDiscriminator(opts: { netD?: string; nLayersD?: number; rf?: number }): Pick<DiscriminatorOptions, 'kind' | 'nLayers'> {
  if (opts.rf !== undefined) {
    const { kind, nLayers } = patchDiscriminator({ receptiveField: opts.rf }).options;
    return { kind, nLayers };
  }
  const netD = opts.netD ?? 'basic';
  if (netD === 'basic') return { kind: 'patch', nLayers: 3 };
  if (netD === 'n_layers') {
    // n_layers_D 0 has always meant the PixelGAN (the receptive-field sweeps rely on it).
    const nLayers = opts.nLayersD ?? 3;
    return { kind: nLayers === 0 ? 'pixel' : 'patch', nLayers };
  }
  for (const [kind, spec] of Object.entries(DISCRIMINATOR_KINDS) as [DiscriminatorKind, DiscriminatorKindSpec][]) {
    // A kind with a range of depths takes --n-layers-d (3, the 70×70 stack, when not given).
    if (spec.netD.includes(netD)) return { kind, nLayers: spec.depths.min === spec.depths.max ? spec.depths.min : (opts.nLayersD ?? 3) };
  }
  throw new UserError(`unknown --netD '${opts.netD}': use basic (70×70), pixel (1×1) or n_layers with --n_layers_D, or give --rf`);
}
