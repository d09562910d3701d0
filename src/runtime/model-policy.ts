/**
 * Memory policy for model files we did not make. Before onnxruntime sees a model, its graph is
 * walked with positioned reads (weights are skipped, never loaded) and the model is refused, in
 * one line, when:
 *   - the file, or the sum of its declared tensors (in the file, in Constant nodes and in
 *     external-data files), exceeds the bound (--max-model-memory);
 *   - a tensor declares more bytes than it holds (dims × type size ≠ raw data length), or an
 *     external-data entry points outside the model's folder or past the end of its file;
 *   - a node whose output size is fixed by constants (ConstantOfShape, Expand, Tile, Resize,
 *     Upsample, Range, RandomNormal/Uniform, EyeLike) would produce a tensor over the bound;
 *     onnxruntime folds such constants while creating the session, so the allocation would happen
 *     before the first run.
 * Not covered: sizes computed at run time from the input's shape, and nodes inside subgraphs
 * (If/Loop bodies); see docs/safety.md.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnxElementBytes } from '../onnx/element-size.ts';
import { formatBytes, parseByteSize } from '../util/bytes.ts';
import { packedVarints, ProtoFile, readVarint } from '../util/proto-file.ts';
import { UserError } from '../util/errors.ts';
import { isInside, realpathLoose } from '../util/paths.ts';

const GiB = 2 ** 30;

/** Default bound: 4 GiB, or half the machine's memory when that is less. */
export function defaultMaxModelMemory(totalMemory = os.totalmem()): number {
  return Math.min(4 * GiB, Math.floor(totalMemory / 2));
}

/** The --max-model-memory flag: undefined → the default; anything unparsable is a one-line error. */
export function parseMaxModelMemory(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined;
  const v = parseByteSize(flag);
  if (v === undefined) throw new UserError(`--max-model-memory '${flag}' should be a size such as 4GiB, 512MiB or a number of bytes`);
  return v;
}

// ------------------------------------------------------------------------------------------------
// Tensors

interface TensorInfo {
  name: string;
  dims: bigint[];
  dataType: number;
  /** Bytes the tensor's data fields hold in the file. */
  storedBytes: number;
  /** Length of raw_data, when the data is stored there (it must then match dims × type size exactly). */
  rawBytes?: number;
  external: Record<string, string> | null;
  /** Values, for small integer tensors (shape inputs). */
  values?: bigint[];
}

const SMALL_TENSOR = 64;

/** StringStringEntryProto {key = 1; value = 2} from its bytes. */
function stringEntry(buf: Buffer): [string, string] {
  const kv = ['', ''];
  for (let p = 0; p < buf.length;) {
    const tag = readVarint(buf, p);
    const len = readVarint(buf, tag.next);
    const end = len.next + Number(len.value);
    const field = Number(tag.value >> 3n);
    if (field === 1 || field === 2) kv[field - 1] = buf.subarray(len.next, end).toString('utf8');
    p = end;
  }
  return [kv[0], kv[1]];
}

function readTensor(pf: ProtoFile, start: number, end: number): TensorInfo {
  const t: TensorInfo = { name: '', dims: [], dataType: 0, storedBytes: 0, external: null };
  let raw: [number, number] | undefined;
  let int64: Buffer | undefined;
  let location = 0;
  const ext: Record<string, string> = {};
  for (const f of pf.fields(start, end)) {
    if (f.field === 1) {
      if (f.wire === 0) t.dims.push(BigInt.asIntN(64, f.varint!));
      else if (f.wire === 2) t.dims.push(...packedVarints(pf.bytes(f.start, f.end)));
    } else if (f.field === 2 && f.wire === 0) t.dataType = Number(f.varint!);
    else if (f.field === 8 && f.wire === 2) t.name = pf.bytes(f.start, Math.min(f.end, f.start + 4096)).toString('utf8');
    else if (f.field === 9 && f.wire === 2) {
      raw = [f.start, f.end];
      t.storedBytes += f.end - f.start;
      t.rawBytes = f.end - f.start;
    } else if (f.field === 7 && f.wire === 2 && f.end - f.start <= SMALL_TENSOR * 10) {
      int64 = pf.bytes(f.start, f.end);
      t.storedBytes += f.end - f.start;
    } else if (f.field === 13 && f.wire === 2) {
      const [key, value] = stringEntry(pf.bytes(f.start, Math.min(f.end, f.start + 65536)));
      ext[key] = value;
    } else if (f.field === 14 && f.wire === 0) location = Number(f.varint!);
    else if ([4, 5, 6, 7, 10, 11].includes(f.field)) t.storedBytes += f.end - f.start;
  }
  if (location === 1) t.external = ext;
  const n = elements(t.dims);
  if (t.dataType === 7 && n !== undefined && n <= SMALL_TENSOR) {
    if (raw && raw[1] - raw[0] === n * 8) {
      const b = pf.bytes(raw[0], raw[1]);
      t.values = Array.from({ length: n }, (_, i) => b.readBigInt64LE(i * 8));
    } else if (int64) t.values = packedVarints(int64);
  }
  return t;
}

/** Element count of `dims`; undefined when a dim is negative (invalid). */
function elements(dims: readonly bigint[]): number | undefined {
  let n = 1n;
  for (const d of dims) {
    if (d < 0n) return undefined;
    n *= d;
  }
  return Number(n);
}

// ------------------------------------------------------------------------------------------------
// The policy

export interface ModelFootprint {
  fileBytes: number;
  /** Declared bytes of the tensors stored in the file (initializers and Constant nodes). */
  tensorBytes: number;
  /** Bytes read from external-data files. */
  externalBytes: number;
  /** Bytes of the outputs of the nodes whose size constants fix (ConstantOfShape, Expand, …), all together. */
  constantNodeBytes: number;
  nodes: number;
}

export interface ModelPolicyOptions {
  /** The bound, in bytes. */
  maxBytes: number;
  /** The flag that sets it, for messages. */
  flag?: string;
}

interface NodeInfo {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, { i?: bigint; ints?: bigint[]; t?: TensorInfo }>;
}

function readNode(pf: ProtoFile, start: number, end: number): NodeInfo {
  const n: NodeInfo = { name: '', opType: '', inputs: [], outputs: [], attrs: new Map() };
  for (const f of pf.fields(start, end)) {
    if (f.wire !== 2 && !(f.field === 5)) continue;
    if (f.field === 1) n.inputs.push(pf.bytes(f.start, f.end).toString('utf8'));
    else if (f.field === 2) n.outputs.push(pf.bytes(f.start, f.end).toString('utf8'));
    else if (f.field === 3) n.name = pf.bytes(f.start, f.end).toString('utf8');
    else if (f.field === 4) n.opType = pf.bytes(f.start, f.end).toString('utf8');
    else if (f.field === 5 && f.wire === 2) {
      let name = '';
      const a: { i?: bigint; ints?: bigint[]; t?: TensorInfo } = {};
      for (const g of pf.fields(f.start, f.end)) {
        if (g.field === 1 && g.wire === 2) name = pf.bytes(g.start, g.end).toString('utf8');
        else if (g.field === 3 && g.wire === 0) a.i = BigInt.asIntN(64, g.varint!);
        else if (g.field === 8) {
          if (g.wire === 0) (a.ints ??= []).push(BigInt.asIntN(64, g.varint!));
          else if (g.wire === 2) (a.ints ??= []).push(...packedVarints(pf.bytes(g.start, g.end)));
        } else if (g.field === 5 && g.wire === 2) a.t = readTensor(pf, g.start, g.end);
      }
      n.attrs.set(name, a);
    }
  }
  return n;
}

/** Elements a node's output would have, when constants fix it; undefined when unknown. Pure. */
export function constantOutputElements(node: Pick<NodeInfo, 'opType' | 'inputs' | 'attrs'>, constants: ReadonlyMap<string, bigint[]>): bigint | undefined {
  const c = (i: number): bigint[] | undefined => (node.inputs[i] ? constants.get(node.inputs[i]) : undefined);
  const prod = (v: readonly bigint[] | undefined): bigint | undefined => (v ? v.reduce((a, b) => a * (b < 0n ? 0n : b), 1n) : undefined);
  switch (node.opType) {
    case 'ConstantOfShape':
      return prod(c(0));
    case 'Expand':
    case 'Tile':
      return prod(c(1));
    case 'Resize':
      return prod(c(3));
    case 'RandomNormal':
    case 'RandomUniform':
      return prod(node.attrs.get('shape')?.ints);
    case 'Range': {
      const [s, l, d] = [c(0), c(1), c(2)];
      if (!s || !l || !d || s.length !== 1 || l.length !== 1 || d.length !== 1 || d[0] === 0n) return undefined;
      const n = (l[0] - s[0] + d[0] - (d[0] > 0n ? 1n : -1n)) / d[0];
      return n > 0n ? n : 0n;
    }
    default:
      return undefined;
  }
}

/**
 * Check `modelFile` against the bound before onnxruntime loads it; throws a one-line UserError
 * naming the problem. Returns what it measured.
 */
export async function checkModelPolicy(modelFile: string, o: ModelPolicyOptions): Promise<ModelFootprint> {
  const flag = o.flag ?? '--max-model-memory';
  const bound = `${flag} ${formatBytes(o.maxBytes)}`;
  const refuse = (what: string): never => {
    throw new UserError(`model ${modelFile} refused: ${what} (over ${bound}; raise it if you trust this model)`);
  };
  let pf: ProtoFile;
  try {
    pf = ProtoFile.open(modelFile, (what, pos) =>
      what === 'unreadable field'
        ? new UserError(`${modelFile} is not a valid ONNX model (unreadable protobuf at byte ${pos})`)
        : new UserError(`${modelFile} is truncated or not an ONNX model (${what} at byte ${pos})`),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `model not found: ${modelFile}` : `cannot read model ${modelFile}: ${code === 'EACCES' ? 'permission denied' : String(e)}`,
    );
  }
  try {
    const fileBytes = pf.size;
    if (fileBytes > o.maxBytes) refuse(`the file is ${formatBytes(fileBytes)}`);
    const modelDir = await realpathLoose(path.dirname(path.resolve(modelFile)));
    const constants = new Map<string, bigint[]>();
    const footprint: ModelFootprint = { fileBytes, tensorBytes: 0, externalBytes: 0, constantNodeBytes: 0, nodes: 0 };

    const account = async (t: TensorInfo, where: string): Promise<void> => {
      const n = elements(t.dims);
      if (n === undefined) throw new UserError(`model ${modelFile} is invalid: ${where} has a negative dimension`);
      const bytes = n * onnxElementBytes(t.dataType);
      if (bytes > o.maxBytes) refuse(`${where} declares ${formatBytes(bytes)} (${t.dims.join('×')})`);
      if (t.external) {
        const loc = t.external.location ?? '';
        const target = path.resolve(modelDir, loc);
        const real = await realpathLoose(target);
        if (!loc || path.isAbsolute(loc) || !isInside(modelDir, real))
          throw new UserError(`model ${modelFile} is invalid: ${where} keeps its data in '${loc}', outside the model's folder`);
        const size = await fsp.stat(real).then(
          (s) => s.size,
          () => -1,
        );
        if (size < 0) throw new UserError(`model ${modelFile} is incomplete: ${where} keeps its data in '${loc}', which does not exist`);
        const offset = Number(t.external.offset ?? 0);
        const length = t.external.length !== undefined ? Number(t.external.length) : size - offset;
        if (!(offset >= 0 && length >= 0 && offset + length <= size))
          throw new UserError(`model ${modelFile} is invalid: ${where} reads bytes ${offset}..${offset + length} of '${loc}', which has ${size}`);
        if (bytes !== 0 && length !== bytes)
          throw new UserError(`model ${modelFile} is invalid: ${where} declares ${bytes} bytes but its external data has ${length}`);
        footprint.externalBytes += length;
      } else if (t.rawBytes !== undefined && t.dataType !== 8 ? t.rawBytes !== bytes : t.storedBytes > 0 && bytes > t.storedBytes * 8) {
        // Packed varint fields can be shorter than the data they decode to (at most 8×, for int64 zeros).
        throw new UserError(`model ${modelFile} is invalid: ${where} declares ${formatBytes(bytes)} but holds ${formatBytes(t.storedBytes)}`);
      } else footprint.tensorBytes += bytes;
      if (footprint.tensorBytes + footprint.externalBytes > o.maxBytes)
        refuse(`its tensors total ${formatBytes(footprint.tensorBytes)} (external data ${formatBytes(footprint.externalBytes)})`);
      if (t.values) constants.set(t.name, t.values);
    };

    for (const top of pf.fields(0, fileBytes)) {
      if (top.field !== 7 || top.wire !== 2) continue;
      const nodes: NodeInfo[] = [];
      for (const g of pf.fields(top.start, top.end)) {
        if (g.wire !== 2) continue;
        if (g.field === 5) {
          const t = readTensor(pf, g.start, g.end);
          await account(t, `initializer '${t.name}'`);
        } else if (g.field === 1) nodes.push(readNode(pf, g.start, g.end));
      }
      footprint.nodes = nodes.length;
      // Nodes are topologically sorted in a valid model, so constants are known before their users.
      for (const node of nodes) {
        const label = `node '${node.name || node.outputs[0] || '?'}' (${node.opType})`;
        const value = node.attrs.get('value')?.t;
        if (node.opType === 'Constant' && value) {
          value.name = node.outputs[0] ?? '';
          await account(value, label);
          continue;
        }
        const ints = node.attrs.get('value_ints')?.ints ?? (node.attrs.get('value_int')?.i !== undefined ? [node.attrs.get('value_int')!.i!] : undefined);
        if (node.opType === 'Constant' && ints) {
          constants.set(node.outputs[0] ?? '', ints);
          continue;
        }
        const n = constantOutputElements(node, constants);
        if (n === undefined) continue;
        const elemBytes = node.opType === 'ConstantOfShape' ? onnxElementBytes(node.attrs.get('value')?.t?.dataType ?? 1) || 4 : 4;
        if (n * BigInt(elemBytes) > BigInt(o.maxBytes)) refuse(`${label} would allocate ${formatBytes(Number(n) * elemBytes)} (${n} elements)`);
        // onnxruntime folds every such node while creating the session, and their outputs coexist with
        // the initializers: the bound is on the sum, not on each node alone.
        footprint.constantNodeBytes += Number(n) * elemBytes;
        const total = footprint.tensorBytes + footprint.externalBytes + footprint.constantNodeBytes;
        if (total > o.maxBytes)
          refuse(
            `its constant-shaped nodes (up to ${label}) would allocate ${formatBytes(footprint.constantNodeBytes)} beside ${formatBytes(footprint.tensorBytes + footprint.externalBytes)} of tensors, ${formatBytes(total)} in all`,
          );
      }
    }
    return footprint;
  } finally {
    pf.close();
  }
}
