/**
 * Reads a `torch.save`d state_dict without Python: the zip format (torch ≥ 1.6: `<name>/data.pkl` plus
 * one `<name>/data/<key>` entry per storage) and the legacy format (`_use_new_zipfile_serialization=
 * False`: magic, version and system pickles, the object pickle, the storage-key pickle, then each
 * storage as an int64 element count and its raw bytes). The pickles are read by the restricted reader
 * of pickle.ts with exactly the globals a state_dict uses.
 */
import { UserError } from '../util/errors.ts';
import { PyDict, PyExternal, PyRef, PyTuple, type PyValue, unpickle } from './pickle.ts';
import { checkInflatedTotal, isZip, listZip, readZipEntry } from './zip.ts';

export type TorchDType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';

const STORAGE_TYPES: Record<string, { dtype: TorchDType; bytes: number }> = {
  'torch.FloatStorage': { dtype: 'float32', bytes: 4 },
  'torch.HalfStorage': { dtype: 'float16', bytes: 2 },
  'torch.BFloat16Storage': { dtype: 'bfloat16', bytes: 2 },
  'torch.DoubleStorage': { dtype: 'float64', bytes: 8 },
  'torch.LongStorage': { dtype: 'int64', bytes: 8 },
  'torch.IntStorage': { dtype: 'int32', bytes: 4 },
  'torch.ByteStorage': { dtype: 'uint8', bytes: 1 },
  'torch.BoolStorage': { dtype: 'bool', bytes: 1 },
};

export class TorchStorage extends PyExternal {
  /** Filled after the pickle is read (zip entry or legacy trailer). */
  bytes: Uint8Array | undefined;
  constructor(
    readonly key: string,
    readonly dtype: TorchDType,
    readonly elementBytes: number,
    readonly numel: number,
  ) {
    super();
  }
}

export class TorchTensor extends PyExternal {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {
    super();
  }
  get dtype(): TorchDType {
    return this.storage.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export type StateDict = ReadonlyMap<string, TorchTensor>;

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function intList(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) throw new UserError(`torch: ${what} is not a tuple`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new UserError(`torch: ${what} holds ${String(x)}, not a size`);
    return x;
  });
}

function rebuildTensor(args: readonly PyValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) throw new UserError('torch: a tensor without a storage');
  if (typeof offset !== 'number') throw new UserError('torch: a tensor storage offset is not an integer');
  const t = new TorchTensor(storage, offset, intList(size ?? null, 'tensor size'), intList(stride ?? null, 'tensor stride'));
  if (t.shape.length !== t.stride.length) throw new UserError('torch: tensor size and stride differ in length');
  return t;
}

/** Globals a state_dict pickle may name; nothing else is accepted. */
function torchGlobals(): Map<string, ((args: readonly PyValue[]) => PyValue) | null> {
  const g = new Map<string, ((args: readonly PyValue[]) => PyValue) | null>([
    ['collections.OrderedDict', () => new PyDict('collections.OrderedDict')],
    ['torch._utils._rebuild_tensor_v2', rebuildTensor],
    ['torch._utils._rebuild_tensor', rebuildTensor],
    [
      'torch._utils._rebuild_parameter',
      (args) => {
        if (!(args[0] instanceof TorchTensor)) throw new UserError('torch: a parameter without tensor data');
        return args[0];
      },
    ],
  ]);
  for (const name of Object.keys(STORAGE_TYPES)) g.set(name, null);
  return g;
}

/** Persistent ids ('storage', type, key, location, numel[, view]) → one shared TorchStorage per key. */
function storageLoader(storages: Map<string, TorchStorage>): (pid: PyValue) => PyValue {
  return (pid) => {
    if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') throw new UserError('torch: unexpected persistent id (not a storage reference)');
    const [, type, key, , numel, view] = pid.items;
    if (!(type instanceof PyRef) || typeof key !== 'string' || typeof numel !== 'number') throw new UserError('torch: malformed storage reference');
    if (view !== undefined && view !== null) throw new UserError('torch: storage views (pre-1.0 files) are not supported');
    const spec = STORAGE_TYPES[type.name];
    if (!spec) throw new UserError(`torch: storage type ${type.name} is not supported`);
    let s = storages.get(key);
    if (!s) {
      s = new TorchStorage(key, spec.dtype, spec.bytes, numel);
      storages.set(key, s);
    }
    return s;
  };
}

function asStateDict(v: PyValue): StateDict {
  if (!(v instanceof PyDict))
    throw new UserError('torch: the file does not hold a state_dict (a dict of tensors); save `net.state_dict()`, not the network object');
  const out = new Map<string, TorchTensor>();
  for (const [k, t] of v.entries) {
    if (typeof k !== 'string') throw new UserError('torch: a state_dict key is not a string');
    if (!(t instanceof TorchTensor))
      throw new UserError(
        `torch: state_dict entry '${k}' is not a tensor (is this a training checkpoint holding several objects? save the generator's state_dict alone)`,
      );
    out.set(k, t);
  }
  return out;
}

function checkStorageBytes(s: TorchStorage, bytes: Uint8Array): void {
  if (bytes.length < s.numel * s.elementBytes)
    throw new UserError(`torch: storage ${s.key} holds ${bytes.length} bytes, expected ${s.numel * s.elementBytes} (truncated file?)`);
  s.bytes = bytes;
}

function readZipFormat(bytes: Uint8Array): StateDict {
  const entries = listZip(bytes);
  checkInflatedTotal(entries);
  const pkl = entries.find((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (!pkl) throw new UserError('torch: the zip archive has no data.pkl (not a torch.save file)');
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const order = byName.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(readZipEntry(bytes, order)).trim() !== 'little') throw new UserError('torch: big-endian checkpoints are not supported');
  const storages = new Map<string, TorchStorage>();
  const { value } = unpickle(readZipEntry(bytes, pkl), { globals: torchGlobals(), persistentLoad: storageLoader(storages) });
  for (const s of storages.values()) {
    const e = byName.get(`${prefix}data/${s.key}`);
    if (!e) throw new UserError(`torch: storage ${s.key} is missing from the archive`);
    checkStorageBytes(s, readZipEntry(bytes, e));
  }
  return asStateDict(value);
}

function readLegacyFormat(bytes: Uint8Array): StateDict {
  const plain = { globals: new Map() };
  const magic = unpickle(bytes, plain);
  if (magic.value !== LEGACY_MAGIC) throw new UserError("torch: not a PyTorch checkpoint (neither a zip archive nor the legacy format's magic number)");
  const version = unpickle(bytes, plain, magic.end);
  if (version.value !== LEGACY_PROTOCOL)
    throw new UserError(`torch: legacy format version ${String(version.value)} is not supported (expected ${LEGACY_PROTOCOL})`);
  const sysInfo = unpickle(bytes, plain, version.end);
  if (sysInfo.value instanceof PyDict && sysInfo.value.entries.get('little_endian') === false)
    throw new UserError('torch: big-endian checkpoints are not supported');
  const storages = new Map<string, TorchStorage>();
  const obj = unpickle(bytes, { globals: torchGlobals(), persistentLoad: storageLoader(storages) }, sysInfo.end);
  const keys = unpickle(bytes, plain, obj.end);
  if (!Array.isArray(keys.value)) throw new UserError('torch: the legacy storage key list is missing');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value) {
    const s = typeof key === 'string' ? storages.get(key) : undefined;
    if (!s) throw new UserError(`torch: legacy storage ${String(key)} is not referenced by the state_dict`);
    if (pos + 8 > bytes.length) throw new UserError('torch: the file ends before its storages (truncated download?)');
    const numel = Number(dv.getBigInt64(pos, true));
    pos += 8;
    if (numel !== s.numel) throw new UserError(`torch: storage ${key} has ${numel} elements, its reference says ${s.numel}`);
    checkStorageBytes(s, bytes.subarray(pos, pos + numel * s.elementBytes));
    pos += numel * s.elementBytes;
  }
  return asStateDict(obj.value);
}

/** Parse the bytes of a `.pth` / `.pt` state_dict file (zip or legacy format). */
export function readTorchStateDict(bytes: Uint8Array): StateDict {
  if (isZip(bytes)) return readZipFormat(bytes);
  if (bytes[0] === 0x80) return readLegacyFormat(bytes);
  throw new UserError('torch: not a PyTorch checkpoint (expected a zip archive or a pickle)');
}

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function elementReader(s: TorchStorage): (i: number) => number {
  const b = s.bytes;
  if (!b) throw new UserError(`torch: storage ${s.key} has no data`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (s.dtype) {
    case 'float32':
      return (i) => dv.getFloat32(i * 4, true);
    case 'float16':
      return (i) => halfToFloat(dv.getUint16(i * 2, true));
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const word = new DataView(new ArrayBuffer(4));
      return (i) => {
        word.setUint32(0, (dv.getUint16(i * 2, true) << 16) >>> 0, true);
        return word.getFloat32(0, true);
      };
    }
    case 'float64':
      return (i) => dv.getFloat64(i * 8, true);
    case 'int64':
      return (i) => Number(dv.getBigInt64(i * 8, true));
    case 'int32':
      return (i) => dv.getInt32(i * 4, true);
    case 'uint8':
    case 'bool':
      return (i) => dv.getUint8(i);
  }
}

/** A tensor's values as float32 in row-major order of its shape (strides and offset applied). */
export function tensorToFloat32(t: TorchTensor): Float32Array {
  const n = t.numel;
  const out = new Float32Array(n);
  const s = t.storage;
  const contiguous = t.stride.every((st, i) => t.shape[i] === 1 || st === t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  if (n > 0 && t.offset + (contiguous ? n : 1) > s.numel) throw new UserError(`torch: a tensor reads past the end of storage ${s.key}`);
  if (contiguous && s.dtype === 'float32' && s.bytes && (s.bytes.byteOffset + t.offset * 4) % 4 === 0) {
    out.set(new Float32Array(s.bytes.buffer, s.bytes.byteOffset + t.offset * 4, n));
    return out;
  }
  const get = elementReader(s);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let at = t.offset;
    for (let d = 0; d < idx.length; d++) at += idx[d] * t.stride[d];
    if (at >= s.numel) throw new UserError(`torch: a tensor reads past the end of storage ${s.key}`);
    out[k] = get(at);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
