/**
 * The checkpoint file: one self-describing binary file, written atomically (temp + fsync + rename),
 * so a run killed at any moment leaves the previous checkpoint intact.
 *
 * Layout: the 8-byte magic `P2PTS\x01\n\0`, a little-endian uint32 header length, a UTF-8 JSON header,
 * zero padding to a multiple of 4, then float32 tensors back to back (little-endian) in header order.
 * Tensor names are namespaced: `G/e1.weight`, `D/c1.weight`, `optG/m/e1.weight`, ...
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { writeFileAtomicWith } from '../util/fs.ts';
import { type DiscriminatorOptions, discriminatorArch, type GeneratorArch, type GeneratorOptions, generatorArch, paramSpecs } from '../nets/arch.ts';
import type { ParamArrays } from './nets/init.ts';

const MAGIC = Uint8Array.from([0x50, 0x32, 0x50, 0x54, 0x53, 0x01, 0x0a, 0x00]);
export const CHECKPOINT_FILE = 'checkpoint.bin';
const CHECKPOINT_FORMAT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
}

export interface CheckpointHeader {
  format: number;
  /** What trained it; free-form JSON that must at least say how to rebuild the networks. */
  model: CheckpointModel;
  /** Training progress and any state needed to resume (optimizer step, RNG, data order). */
  state: Record<string, unknown>;
  tensors: TensorEntry[];
}

export interface CheckpointModel {
  /** 'pix2pix' (G and D) or 'segmenter'. */
  kind: 'pix2pix' | 'segmenter';
  generator: GeneratorOptions;
  discriminator: DiscriminatorOptions | null;
  /** Training config (direction, size, losses, ...) recorded for export metadata and reports. */
  config: Record<string, unknown>;
  epoch: number;
  version: string;
}

export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, Float32Array>;
}

/**
 * One tensor to write; `read` is called once, when its bytes are due, so a writer holds one tensor at a time.
 * It may be async (a GPU backend reads its buffers back asynchronously); the in-memory encoder needs a sync one.
 */
export interface CheckpointTensorSource {
  name: string;
  shape: number[];
  read(): Float32Array | Promise<Float32Array>;
}

function sourcesFrom(tensors: Map<string, Float32Array>, shapes: Map<string, number[]>): CheckpointTensorSource[] {
  return [...tensors].map(([name, data]) => ({ name, shape: shapes.get(name) ?? [data.length], read: () => data }));
}

/** Magic, header length, JSON header and padding: everything before the tensor data. */
function encodePrefix(header: Omit<CheckpointHeader, 'tensors' | 'format'>, sources: CheckpointTensorSource[]): Uint8Array {
  const entries: TensorEntry[] = sources.map((t) => ({ name: t.name, shape: t.shape }));
  const json = new TextEncoder().encode(JSON.stringify({ ...header, format: CHECKPOINT_FORMAT_VERSION, tensors: entries }));
  const headerEnd = MAGIC.length + 4 + json.length;
  const prefix = new Uint8Array(Math.ceil(headerEnd / 4) * 4);
  prefix.set(MAGIC, 0);
  new DataView(prefix.buffer).setUint32(MAGIC.length, json.length, true);
  prefix.set(json, MAGIC.length + 4);
  return prefix;
}

function checkedData(t: CheckpointTensorSource, data: Float32Array): Float32Array {
  if (t.shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`checkpoint: tensor ${t.name} has ${data.length} values but shape ${t.shape}`);
  return data;
}

/** The whole file in memory (tests, small models); writeCheckpoint streams the same bytes. */
export function encodeCheckpoint(
  header: Omit<CheckpointHeader, 'tensors' | 'format'>,
  tensors: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
): Uint8Array {
  const sources = sourcesFrom(tensors, shapes);
  const prefix = encodePrefix(header, sources);
  const total = sources.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const buf = new Uint8Array(prefix.length + total * 4);
  buf.set(prefix, 0);
  let off = prefix.length;
  for (const t of sources) {
    const data = checkedData(t, tensors.get(t.name)!);
    buf.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), off);
    off += data.byteLength;
  }
  return buf;
}

export function decodeCheckpoint(buf: Uint8Array, source = 'checkpoint'): Checkpoint {
  if (buf.length < MAGIC.length + 4 || !MAGIC.every((b, i) => buf[i] === b)) {
    throw new UserError(`${source} is not a pix2pix-ts checkpoint (bad magic bytes)`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = dv.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + len > buf.length) throw new UserError(`${source} is truncated (header runs past the end of the file)`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + len))) as CheckpointHeader;
  } catch {
    throw new UserError(`${source} has a corrupt header`);
  }
  if (header.format !== CHECKPOINT_FORMAT_VERSION)
    throw new UserError(`${source} has format ${header.format}; this pix2pix-ts reads format ${CHECKPOINT_FORMAT_VERSION}`);
  const dataStart = Math.ceil((MAGIC.length + 4 + len) / 4) * 4;
  const total = header.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  if (dataStart + total * 4 > buf.length) throw new UserError(`${source} is truncated (${buf.length} bytes, expected ${dataStart + total * 4})`);
  // Copy into an aligned buffer: a Buffer from readFile may sit at an unaligned offset in a shared pool.
  const all = new Float32Array(total);
  new Uint8Array(all.buffer).set(buf.subarray(dataStart, dataStart + total * 4));
  const tensors = new Map<string, Float32Array>();
  let off = 0;
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(t.name, all.subarray(off, off + n));
    off += n;
  }
  return { header, tensors };
}

/**
 * Write a checkpoint atomically, streaming one tensor at a time: a 256² run's 690 MB of weights and
 * optimizer state never sit in JS memory at once (building the file in memory first raised peak RSS by 1.07 GB).
 */
export async function writeCheckpointStreaming(
  file: string,
  header: Omit<CheckpointHeader, 'tensors' | 'format'>,
  sources: CheckpointTensorSource[],
): Promise<void> {
  await writeFileAtomicWith(file, async (fh) => {
    await fh.write(encodePrefix(header, sources));
    for (const t of sources) {
      const data = checkedData(t, await t.read());
      await fh.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}

export async function writeCheckpoint(
  file: string,
  header: Omit<CheckpointHeader, 'tensors' | 'format'>,
  tensors: Map<string, Float32Array>,
  shapes: Map<string, number[]>,
): Promise<void> {
  await writeCheckpointStreaming(file, header, sourcesFrom(tensors, shapes));
}

/** Accepts the checkpoint file itself or a run folder containing `checkpoint.bin`. */
export async function resolveCheckpointPath(p: string): Promise<string> {
  let st;
  try {
    st = await fsp.stat(p);
  } catch {
    throw new UserError(`checkpoint not found: ${p} (pass a run folder such as runs/NAME or its ${CHECKPOINT_FILE})`);
  }
  if (st.isDirectory()) {
    const f = path.join(p, CHECKPOINT_FILE);
    try {
      await fsp.access(f);
    } catch {
      throw new UserError(`${p} has no ${CHECKPOINT_FILE}: has its training finished an epoch yet?`);
    }
    return f;
  }
  return p;
}

export async function readCheckpoint(p: string): Promise<Checkpoint> {
  const file = await resolveCheckpointPath(p);
  return decodeCheckpoint(new Uint8Array(await fsp.readFile(file)), file);
}

/** Pick one network's tensors (`G/…` or `D/…`) with the prefix removed, checked against its architecture. */
export function networkParams(ckpt: Checkpoint, prefix: 'G' | 'D', arch: ReturnType<typeof generatorArch> | ReturnType<typeof discriminatorArch>): ParamArrays {
  const out: ParamArrays = new Map();
  for (const p of paramSpecs(arch)) {
    const t = ckpt.tensors.get(`${prefix}/${p.name}`);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (!t || t.length !== n) throw new UserError(`checkpoint is missing ${prefix}/${p.name} or has the wrong size for its recorded architecture`);
    out.set(p.name, t);
  }
  return out;
}

export interface LoadedGenerator {
  arch: GeneratorArch;
  params: ParamArrays;
  model: CheckpointModel;
}

/** The generator of a checkpoint (what export and inference need), without loading tfjs. */
export async function loadGenerator(p: string): Promise<LoadedGenerator> {
  const ckpt = await readCheckpoint(p);
  const arch = generatorArch(ckpt.header.model.generator);
  return { arch, params: networkParams(ckpt, 'G', arch), model: ckpt.header.model };
}
