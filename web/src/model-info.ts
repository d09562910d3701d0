/**
 * What the page needs to know about a generator, from the metadata_props `pix2pix export` writes
 * (src/export/export.ts, META): sides, channels, direction, and whether its input or output is a
 * Cityscapes label map. Pure: no DOM, no onnxruntime.
 */
import { readOnnxModelHeader } from '../../src/onnx/proto.ts';

/** 'labels': paint with a palette; 'edges': draw black edges on white (edges2* models); 'image': open an image. */
export type Side = 'labels' | 'edges' | 'image';

/** A class of the model card's palette: the label map stores its index. */
export interface CardClass {
  id: number;
  name: string;
  color: readonly [number, number, number];
}

/** What the page uses of the `model_card` metadata entry that `pix2pix pull` writes. */
export interface ModelCardInfo {
  task?: string;
  licence?: string;
  sourceUrl?: string;
  /** The classes to paint with, in the card's order (absent: the Cityscapes palette for label models). */
  palette?: CardClass[];
}

export interface ModelInfo {
  /** The side the page feeds and shows (power-of-two multiple of sizeMultiple). */
  size: number;
  sizeMultiple: number;
  inputChannels: number;
  outputChannels: number;
  direction?: 'AtoB' | 'BtoA';
  /** 'labels': a Cityscapes colour label map (the page offers the drawing canvas). */
  input: Side;
  output: Side;
  /** Training data folder recorded in the checkpoint, when there is one. */
  data?: string;
  netG?: string;
  epoch?: number;
  /** True when the file says it came from pix2pix-ts. */
  fromPix2pixTs: boolean;
  /** Why input/output were classified so (shown on the page). */
  reason: string;
  card?: ModelCardInfo;
}

/** Models above this many bytes get a warning: slow to download and near a tab's memory limits. */
export const LARGE_MODEL_BYTES = 100 * 1e6;

/** Data folders whose B side is a Cityscapes colour label map: the Cityscapes pairs and our synthetic street scenes. */
const CITYSCAPES_LIKE = /cityscapes|synth/i;

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

function trainingConfig(meta: Record<string, string>): Record<string, unknown> {
  try {
    const c = JSON.parse(meta.training_config ?? '{}') as unknown;
    return c && typeof c === 'object' ? (c as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Classify a generator from its metadata. The export records the training data folder and the
 * direction; in the Cityscapes layout (and the synthetic set) A is the photo and B the colour label
 * map, so BtoA reads labels and AtoB writes them. An explicit `input_kind` / `output_kind`
 * ('labels' or 'image') overrides the guess, and a `model_card` (from `pix2pix pull`) overrides
 * both for the input. Anything else is image → image.
 */
export function describeModel(meta: Record<string, string>): ModelInfo {
  const config = trainingConfig(meta);
  const sizeMultiple = positiveInt(meta.size_multiple) ?? 1;
  const configured = positiveInt(meta.image_size) ?? positiveInt(String(config.size ?? ''));
  // A side the net accepts: the training size, else 256 rounded up to the multiple.
  const size = configured && configured % sizeMultiple === 0 ? configured : Math.ceil(256 / sizeMultiple) * sizeMultiple;
  const direction = meta.direction === 'AtoB' || meta.direction === 'BtoA' ? meta.direction : undefined;
  const data = typeof config.data === 'string' ? config.data : undefined;
  let input: Side = 'image';
  let output: Side = 'image';
  let reason = 'no label-map data recorded: image → image';
  if (data && direction && CITYSCAPES_LIKE.test(data)) {
    if (direction === 'BtoA') input = 'labels';
    else output = 'labels';
    reason = `trained on ${data} ${direction} (B = Cityscapes colour labels)`;
  }
  const explicit = (v: string | undefined): Side | undefined => (v === 'labels' || v === 'image' ? v : undefined);
  if (explicit(meta.input_kind) || explicit(meta.output_kind)) {
    input = explicit(meta.input_kind) ?? input;
    output = explicit(meta.output_kind) ?? output;
    reason = 'input_kind/output_kind in the model metadata';
  }
  const fromCard = readModelCard(meta);
  if (fromCard?.input) {
    input = fromCard.input;
    reason = `model card: ${fromCard.card.task ?? input}`;
  }
  const epoch = positiveInt(meta.epoch);
  return {
    size,
    sizeMultiple,
    inputChannels: positiveInt(meta.input_channels) ?? 3,
    outputChannels: positiveInt(meta.output_channels) ?? 3,
    direction,
    input,
    output,
    data,
    netG: meta.netG,
    epoch,
    fromPix2pixTs: meta.producer === 'pix2pix-ts',
    reason,
    ...(fromCard ? { card: fromCard.card } : {}),
  };
}

function isRgb(c: unknown): c is [number, number, number] {
  return Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
}

/**
 * The `model_card` entry: its input kind (labels / edges / photo) and palette. A card that does not
 * parse, or a palette with a bad colour, is ignored as a whole (the page then falls back to guessing).
 */
export function readModelCard(meta: Record<string, string>): { input?: Side; card: ModelCardInfo } | undefined {
  let raw: Record<string, unknown>;
  try {
    const parsed = JSON.parse(meta.model_card ?? '') as unknown;
    if (!parsed || typeof parsed !== 'object') return undefined;
    raw = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const input: Side | undefined = raw.input === 'labels' ? 'labels' : raw.input === 'edges' ? 'edges' : raw.input === 'photo' ? 'image' : undefined;
  const card: ModelCardInfo = {};
  if (typeof raw.task === 'string') card.task = raw.task;
  if (typeof raw.licence === 'string') card.licence = raw.licence;
  if (typeof raw.source_url === 'string') card.sourceUrl = raw.source_url;
  const palette = raw.palette;
  if (Array.isArray(palette) && palette.length > 0 && palette.length <= 256) {
    const entries = palette.map((e: unknown, id) => {
      const o = (e ?? {}) as { name?: unknown; color?: unknown };
      return typeof o.name === 'string' && isRgb(o.color) ? { id, name: o.name, color: o.color } : undefined;
    });
    if (entries.every((e) => e !== undefined)) card.palette = entries;
  }
  return { ...(input ? { input } : {}), card };
}

/** Metadata of a whole ONNX file held in memory (the graph is skipped, not decoded). */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  return readOnnxModelHeader(bytes).metadata;
}

/** A model-size line, with the warning past LARGE_MODEL_BYTES. */
export function sizeNote(bytes: number): { text: string; warn: boolean } {
  const mb = bytes / 1e6;
  const text = `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
  if (bytes <= LARGE_MODEL_BYTES) return { text, warn: false };
  return { text: `${text}: above 100 MB, slow to download and heavy for a tab; train with --ngf 32 (a quarter of the weights) for the web`, warn: true };
}
